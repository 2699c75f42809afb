"""The hook handlers: each takes the parsed stdin and returns the JSON to print (or None).

``run`` is the fail-open wrapper every shim in ``hooks/`` calls: bad stdin or any internal error
gives exit 0, no change to the spawn, and one ``systemMessage`` line -- never a traceback in the
user's session (the traceback goes to ``<data dir>/errors.log``).
"""

from __future__ import annotations

import os
import sys
import time

from . import clock
from . import config as config_mod
from .fastjson import dumps, loads
from .ledger import Ledger, iso
from .payload import BadPayload, Payload, prompt_hash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .records import Record

    Handler = Callable[[Payload], "dict[str, Any] | None"]

PREFIX = "model-strategy:"


def _message(out: dict[str, Any] | None, lines: list[str]) -> dict[str, Any] | None:
    lines = [line for line in lines if line]
    if not lines:
        return out
    out = dict(out or {})
    text = "\n".join(f"{PREFIX} {line}" for line in lines)
    out["systemMessage"] = f"{out['systemMessage']}\n{text}" if out.get("systemMessage") else text
    return out


# ------------------------------------------------------------------ PreToolUse


def pre_tool_use(p: Payload) -> dict[str, Any] | None:
    if not p.is_subagent_tool:
        return None
    tool_input = p.raw.get("tool_input")
    if not isinstance(tool_input, dict):
        return _message(None, ["PreToolUse input has no tool_input object; spawn left unchanged"])
    from . import budget, recorder, selector, store

    cfg, warnings = config_mod.load(p.cwd)
    decision = selector.decide(tool_input, cfg)
    ledger = Ledger()
    tuid = p.tool_use_id or f"anon-{time.time_ns()}"
    now = clock.now()

    def remember() -> dict[str, Any]:
        return {"tool_use_id": tuid, "ts": iso(now), "agent_type": decision["agent_type"],
                "requested": decision["requested"], "chosen": decision["chosen"], "source": decision["source"],
                "profile": decision["profile"], "confidence": decision["confidence"],
                "complexity": decision["complexity"], "reasons": decision["reasons"],
                "budget_level": decision.get("budget_level", "ok"), "denied": bool(verdict.get("deny")),
                "prompt_hash": prompt_hash(tool_input.get("prompt")),
                "background": tool_input.get("run_in_background") is not False}

    try:
        with ledger.transaction(wait=1.0):
            state = ledger.session(p.session_id, p.project)
            # bring the main thread's spend up to date so the budget reflects it
            recorder.ingest_main(ledger, state, p.text("transcript_path"), "PreToolUse")
            statuses = budget.status(ledger, cfg, now)
            ledger.notices += budget.notices(ledger, cfg, now, statuses)
            verdict = budget.apply_policy(decision, cfg, ledger, now, statuses)
            state["decisions"][tuid] = remember()
            ledger.save_session(state)
    except store.LockTimeout:  # busy: decide on the spend as it stands, park the decision
        verdict = budget.apply_policy(decision, cfg, ledger, now)
        ledger.spool("decision", {"session_id": p.session_id, "project": p.project, "decision": remember()})

    agent = decision["agent_type"]
    if verdict.get("deny"):
        out: dict[str, Any] = {"hookSpecificOutput": {
            "hookEventName": "PreToolUse", "permissionDecision": "deny",
            "permissionDecisionReason": f"{PREFIX} {verdict['reason']}"}}
        return _message(out, [f"{agent} spawn denied: {verdict['reason']}", *warnings, *ledger.warnings,
                              *ledger.notices])
    why = f"{decision['summary']}, {decision['confidence']:.2f}"
    if verdict.get("picked"):  # the budget took the selector's pick down: name both
        summary = f"{agent} → {verdict['picked']} → {decision['chosen']} ({verdict['note']}; picked for {why})"
    else:
        summary = f"{agent} → {decision['chosen']} ({why})"
        if verdict.get("note"):
            summary += f"; {verdict['note']}"
    out = {}
    if decision["chosen"] != decision["requested"]:
        updated = dict(tool_input)  # updatedInput replaces the whole input: keep every field
        updated["model"] = decision["chosen"]
        # no permissionDecision: "allow" would also grant the spawn (FACTS.md 11); without one the user's
        # mode and rules still decide, and the subagent runs on the routed model once permitted
        out["hookSpecificOutput"] = {"hookEventName": "PreToolUse", "updatedInput": updated}
    return _message(out, [summary, *warnings, *ledger.warnings, *ledger.notices])


# ------------------------------------------------------------------ recording


def _budget_after(cfg: dict[str, Any]) -> Any:
    from . import budget

    def after(ledger: Ledger) -> None:
        ledger.notices += budget.notices(ledger, cfg)

    return after


def post_tool_use(p: Payload) -> dict[str, Any] | None:
    if not p.is_subagent_tool:
        return None
    from . import recorder

    resp = p.tool_response
    ledger = Ledger()
    agent_id = resp.get("agentId")
    if resp.get("status") == "async_launched" or resp.get("isAsync"):
        recorder.link_async(p, ledger)
        return _message(None, ledger.warnings)
    if not isinstance(agent_id, str) or not agent_id:
        return _message(None, ["PostToolUse(Agent) response has no agentId; usage not recorded"])
    duration = resp.get("totalDurationMs")
    cfg, warnings = config_mod.load(p.cwd)
    ledger.warnings += warnings
    try:
        record = recorder.record_agent(
            p, agent_id=agent_id, agent_type=str(resp.get("agentType") or p.tool_input.get("subagent_type") or ""),
            source="PostToolUse", ledger=ledger, transcript_path=p.subagent_transcript(agent_id),
            duration_ms=duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
            tool_use_id=p.tool_use_id, after=_budget_after(cfg))
    except FileNotFoundError:
        return _message(None, ledger.warnings)  # SubagentStop records it from its transcript
    return _after_record(record, ledger)


def subagent_stop(p: Payload) -> dict[str, Any] | None:
    from . import recorder

    agent_id = p.text("agent_id")
    if not agent_id:
        return _message(None, ["SubagentStop input has no agent_id; usage not recorded"])
    ledger = Ledger()
    cfg, warnings = config_mod.load(p.cwd)
    ledger.warnings += warnings
    try:
        record = recorder.record_agent(
            p, agent_id=agent_id, agent_type=p.text("agent_type"), source="SubagentStop",
            ledger=ledger, transcript_path=p.subagent_transcript(agent_id), after=_budget_after(cfg))
    except FileNotFoundError:
        return _message(None, [f"no transcript for agent {agent_id}; its usage was not recorded"])
    return _after_record(record, ledger)


def _after_record(record: Record | None, ledger: Ledger) -> dict[str, Any] | None:
    lines = [*ledger.warnings, *ledger.notices]
    if record is not None:
        if record["model_mismatch"]:
            lines.append(f"agent {record['agent_type']} asked for {record['model_requested']} "
                         f"but ran on {record['model_actual']}")
        if record["unpriced_requests"]:
            unknown = ", ".join(m for m, row in record["models"].items() if not row["priced"])
            lines.append(f"agent {record['agent_type']}: {record['unpriced_requests']} request(s) on {unknown} "
                         "recorded without a price (no price known; add one in prices.override.json)")
    return _message(None, lines)


def stop(p: Payload) -> dict[str, Any] | None:
    from . import budget, recorder, store

    ledger = Ledger()
    cfg, warnings = config_mod.load(p.cwd)
    try:
        with ledger.transaction():
            state = ledger.session(p.session_id, p.project)
            recorder.ingest_main(ledger, state, p.text("transcript_path"), "Stop")
            ledger.save_session(state)
            ledger.notices += budget.notices(ledger, cfg)
    except store.LockTimeout:
        pass  # the next hook reads the main transcript from the same offset
    return _message(None, [*warnings, *ledger.warnings, *ledger.notices])


def session_start(p: Payload) -> dict[str, Any] | None:
    from . import bootstrap, budget

    lines = bootstrap.check_on_session_start(p.session_id or "")
    try:
        cfg, warnings = config_mod.load(p.cwd)
        ledger = Ledger()
        line = budget.session_start_line(ledger, cfg)
        lines += [*warnings, *ledger.warnings, *([line] if line else [])]
    except Exception as exc:  # the budget line is a courtesy: never fail the session start over it
        lines.append(f"budget status unavailable ({type(exc).__name__})")
    try:  # retention: at most one real run a day, a directory listing otherwise
        from . import archive

        lines += archive.maybe_run(Ledger(), config_mod.load(p.cwd)[0])
    except Exception as exc:
        lines.append(f"archival skipped ({type(exc).__name__}); `model-strategy archive --now` retries it")
    return _message(None, lines)


# ------------------------------------------------------------------ fail-open runner


def run(handler: Handler, stdin: Any = None, stdout: Any = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    name = getattr(handler, "__name__", "hook")
    try:
        buf = getattr(stdin, "buffer", None)
        raw = buf.read() if buf is not None else stdin.read()
        if isinstance(raw, bytes):  # bytes Claude Code sent that are not UTF-8 survive as escapes
            raw = raw.decode("utf-8", "surrogateescape")
        try:
            payload = Payload(loads(raw))
        except (ValueError, BadPayload) as exc:
            detail = str(exc).splitlines()[0][:120]
            out = _message(None, [f"{name} hook got unreadable input ({detail}); nothing changed"])
        else:
            out = handler(payload)
    except Exception as exc:  # fail open: never break Claude Code's flow by accident
        where = _log_error(name)
        out = _message(None, [f"internal error in {name} hook ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:160] if str(exc) else 'no detail'}); "
                              f"nothing changed{where}"])
    if out:
        stdout.write(dumps(out))
        stdout.write("\n")
    return 0


def _log_error(name: str) -> str:
    try:
        import traceback

        from . import paths

        log = os.path.join(paths.data_dir(), "errors.log")
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"--- {iso(clock.now())} {name}\n{traceback.format_exc()}")
        return f"; details in {log}"
    except Exception:
        return ""
