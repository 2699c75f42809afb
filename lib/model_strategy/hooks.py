"""The hook handlers: each takes the parsed stdin and returns the JSON to print (or None).

``run`` is the fail-open wrapper every shim in ``hooks/`` calls: bad stdin or any internal error
gives exit 0, no change to the spawn, and one ``systemMessage`` line -- never a traceback in the
user's session (the traceback goes to ``<data dir>/errors.log``).
"""

from __future__ import annotations

import os
import sys
import time

from . import config as config_mod
from .archive import Archive, iso, utcnow
from .fastjson import dumps, loads
from .payload import BadPayload, Payload, prompt_hash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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
    from . import budget, selector

    cfg, warnings = config_mod.load(p.cwd)
    decision = selector.decide(tool_input, cfg)
    archive = Archive()
    tuid = p.tool_use_id or f"anon-{time.time_ns()}"
    with archive.transaction():
        data = archive.load_sessions()
        state = archive.session(data, p.session_id, p.project)
        # bring the main thread's spend up to date so the budget reflects it
        archive.notices += budget.ingest_main(p.text("transcript_path"), p.session_id, p.project, state,
                                              archive, cfg)
        verdict = budget.apply_policy(decision, cfg, archive)
        state["decisions"][tuid] = {
            "tool_use_id": tuid, "ts": iso(utcnow()), "agent_type": decision["agent_type"],
            "requested": decision["requested"], "chosen": decision["chosen"], "source": decision["source"],
            "profile": decision["profile"], "confidence": decision["confidence"],
            "complexity": decision["complexity"], "reasons": decision["reasons"],
            "budget_level": decision.get("budget_level", "ok"), "denied": bool(verdict.get("deny")),
            "prompt_hash": prompt_hash(tool_input.get("prompt")),
            "background": tool_input.get("run_in_background") is not False,
        }
        archive.save_sessions(data)

    agent = decision["agent_type"]
    if verdict.get("deny"):
        out: dict[str, Any] = {"hookSpecificOutput": {
            "hookEventName": "PreToolUse", "permissionDecision": "deny",
            "permissionDecisionReason": f"{PREFIX} {verdict['reason']}"}}
        return _message(out, [f"{agent} spawn denied: {verdict['reason']}", *warnings, *archive.warnings,
                              *archive.notices])
    summary = f"{agent} → {decision['chosen']} ({decision['summary']}, {decision['confidence']:.2f})"
    if verdict.get("note"):
        summary += f"; {verdict['note']}"
    out = {}
    if decision["chosen"] != decision["requested"]:
        updated = dict(tool_input)  # updatedInput replaces the whole input: keep every field
        updated["model"] = decision["chosen"]
        # no permissionDecision: "allow" would also grant the spawn (FACTS.md 9); without one the user's
        # mode and rules still decide, and the subagent runs on the routed model once permitted
        out["hookSpecificOutput"] = {"hookEventName": "PreToolUse", "updatedInput": updated}
    return _message(out, [summary, *warnings, *archive.warnings, *archive.notices])


# ------------------------------------------------------------------ recording


def post_tool_use(p: Payload) -> dict[str, Any] | None:
    if not p.is_subagent_tool:
        return None
    from . import recorder

    resp = p.tool_response
    archive = Archive()
    agent_id = resp.get("agentId")
    if resp.get("status") == "async_launched" or resp.get("isAsync"):
        recorder.link_async(p, archive)
        return _message(None, archive.warnings)
    if not isinstance(agent_id, str) or not agent_id:
        return _message(None, ["PostToolUse(Agent) response has no agentId; usage not recorded"])
    duration = resp.get("totalDurationMs")
    cfg, warnings = config_mod.load(p.cwd)
    archive.warnings += warnings
    try:
        record = recorder.record_agent(
            p, agent_id=agent_id, agent_type=str(resp.get("agentType") or p.tool_input.get("subagent_type") or ""),
            source="PostToolUse", archive=archive, cfg=cfg, transcript_path=p.subagent_transcript(agent_id),
            duration_ms=duration if isinstance(duration, int) else None, tool_use_id=p.tool_use_id)
    except FileNotFoundError:
        return _message(None, archive.warnings)  # SubagentStop records it from its transcript
    return _after_record(record, archive)


def subagent_stop(p: Payload) -> dict[str, Any] | None:
    from . import recorder

    agent_id = p.text("agent_id")
    if not agent_id:
        return _message(None, ["SubagentStop input has no agent_id; usage not recorded"])
    archive = Archive()
    cfg, warnings = config_mod.load(p.cwd)
    archive.warnings += warnings
    try:
        record = recorder.record_agent(
            p, agent_id=agent_id, agent_type=p.text("agent_type"), source="SubagentStop",
            archive=archive, cfg=cfg, transcript_path=p.subagent_transcript(agent_id))
    except FileNotFoundError:
        return _message(None, [f"no transcript for agent {agent_id}; its usage was not recorded"])
    return _after_record(record, archive)


def _after_record(record: dict[str, Any] | None, archive: Archive) -> dict[str, Any] | None:
    lines = [*archive.warnings, *archive.notices]
    if record is not None and record["model_mismatch"]:
        lines.append(f"agent {record['agent_type']} asked for {record['model_requested']} "
                     f"but ran on {record['model_actual']}")
    return _message(None, lines)


def stop(p: Payload) -> dict[str, Any] | None:
    from . import budget

    archive = Archive()
    cfg, warnings = config_mod.load(p.cwd)
    lines = budget.record_main_thread(p.text("transcript_path"), p.session_id, p.project, archive, cfg)
    return _message(None, [*warnings, *archive.warnings, *lines])


def session_start(p: Payload) -> dict[str, Any] | None:
    from . import bootstrap

    return _message(None, bootstrap.check_on_session_start())


# ------------------------------------------------------------------ fail-open runner


def run(handler: Handler, stdin: Any = None, stdout: Any = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    name = getattr(handler, "__name__", "hook")
    try:
        raw = stdin.read()
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
            fh.write(f"--- {iso(utcnow())} {name}\n{traceback.format_exc()}")
        return f"; details in {log}"
    except Exception:
        return ""
