"""The hook handlers: each takes the parsed stdin and returns the JSON to print (or None).

``run`` is the fail-open wrapper every shim in ``hooks/`` calls: bad stdin or any internal error
gives exit 0, no change to the spawn, and one ``systemMessage`` line -- never a traceback in the
user's session (the traceback goes to ``<data dir>/errors.log``).
"""

from __future__ import annotations

import os
import sys
import time

from model_strategy.runtime.base import clock
from model_strategy.runtime.base.clock import iso
from model_strategy.runtime.base.fastjson import dumps, loads
from model_strategy.runtime.base.payload import BadPayload, Payload, prompt_hash
from model_strategy.runtime.base.store import LinkRefused
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.settings import config as config_mod

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from model_strategy.runtime.books.records import Record
    from model_strategy.runtime.limits.budget import BudgetStatus
    from model_strategy.runtime.limits.windows import Verdict
    from model_strategy.runtime.settings.values import Config

    Handler = Callable[[Payload], "dict[str, Any] | None"]

PREFIX = "model-strategy:"
SHOWN = 6  # a Workflow's line names at most this many agent() calls
START_RECONCILE_SESSIONS = 4  # SessionStart reconciles this project's newest sessions (the plugin saw)


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
    if p.tool_name == "Workflow":
        return _pre_workflow(p)
    if p.tool_name == "SendMessage":
        return _pre_send_message(p)
    if not p.is_subagent_tool:
        return None
    tool_input = p.raw.get("tool_input")
    if not isinstance(tool_input, dict):
        return _message(None, ["PreToolUse input has no tool_input object; spawn left unchanged"])
    from model_strategy.runtime.routing import selector

    cfg, warnings = config_mod.load(p.cwd)
    tuid = p.tool_use_id or f"anon-{time.time_ns()}"
    if tool_input.get("subagent_type") == "fork":
        return _pre_fork(p, cfg, warnings, tool_input, tuid)
    decision = selector.decide(tool_input, cfg)
    decision.update(prompt_hash=prompt_hash(tool_input.get("prompt")),
                    background=tool_input.get("run_in_background") is not False)
    from model_strategy.runtime.routing.learning import match_info

    decision["_match"] = match_info(tool_input)  # for escalation matching (kept in the session, not the record)
    ledger = Ledger()
    (verdict,) = _apply_budgets(p, cfg, ledger, [(tuid, decision)])

    agent = decision["agent_type"]
    if verdict.get("deny"):
        out: dict[str, Any] = {"hookSpecificOutput": {
            "hookEventName": "PreToolUse", "permissionDecision": "deny",
            "permissionDecisionReason": f"{PREFIX} {verdict['reason']}"}}
        return _message(out, [f"{agent} spawn denied: {verdict['reason']}", *warnings, *ledger.warnings,
                              *ledger.notices])
    out = {}
    updated = dict(tool_input)  # updatedInput replaces the whole input: keep every field
    if decision["chosen"] != decision["requested"]:
        updated["model"] = decision["chosen"]
    if decision["effort"] and decision["effort"] != decision["requested_effort"]:
        updated["effort"] = decision["effort"]
    if updated != tool_input:
        # no permissionDecision: "allow" would also grant the spawn (FACTS.md 11); without one the user's
        # mode and rules still decide, and the subagent runs on the routed model once permitted
        out["hookSpecificOutput"] = {"hookEventName": "PreToolUse", "updatedInput": updated}
    return _message(out, [_summary(agent, decision, verdict), *warnings, *ledger.warnings, *ledger.notices])


def _summary(agent: str, decision: dict[str, Any], verdict: Verdict) -> str:
    """``Explore → haiku, low effort (simple search, 0.90)``; a budget downgrade names both models."""
    why = f"{decision['summary']}, {decision['confidence']:.2f}"
    if decision.get("explored"):
        why = f"exploring one tier from the learned pick, p {decision['p']:g}"
    elif decision.get("learned"):
        why = str(decision["learned"])
    effort = f", {decision['effort']} effort" if decision.get("effort") else ""
    if verdict.get("picked"):  # the budget took the selector's pick down: name both
        return f"{agent} → {verdict['picked']} → {decision['chosen']}{effort} ({verdict['note']}; picked for {why})"
    summary = f"{agent} → {decision['chosen']}{effort} ({why})"
    return f"{summary}; {verdict['note']}" if verdict.get("note") else summary


def _remember(key: str, decision: dict[str, Any], verdict: Verdict, now: Any) -> dict[str, Any]:
    """The decision as the session state keeps it (``models.Decision``) for the agent's record."""
    kept = {"tool_use_id": key, "ts": iso(now), "agent_type": decision["agent_type"],
            "requested": decision["requested"], "chosen": decision["chosen"], "source": decision["source"],
            "profile": decision["profile"], "confidence": decision["confidence"],
            "complexity": decision["complexity"], "reasons": decision["reasons"],
            "budget_level": decision.get("budget_level", "ok"), "denied": bool(verdict.get("deny")),
            "prompt_hash": decision["prompt_hash"], "background": decision["background"],
            "effort": decision.get("effort"), "requested_effort": decision.get("requested_effort")}
    for extra in ("workflow", "shared", "learned", "explored", "escalated"):
        if decision.get(extra):
            kept[extra] = decision[extra]
    for extra in ("bucket", "static", "p"):  # learning.route: the bucket, the static rule's tier, the probability
        if extra in decision:
            kept[extra] = decision[extra]
    return kept


def _apply_budgets(p: Payload, cfg: Config, ledger: Ledger,
                   decisions: list[tuple[str, dict[str, Any]]], keep: bool = True) -> list[Verdict]:
    """Apply the budget and window policy to each decision (in place) and keep them in the session
    state under their keys (unless not ``keep``), for the agents' records; the verdicts, in order."""
    from model_strategy.runtime.base import store
    from model_strategy.runtime.books import recorder
    from model_strategy.runtime.limits import budget

    now = clock.now()
    session = p.session_id or ""
    try:
        with ledger.transaction(wait=1.0):
            state = ledger.session(p.session_id, p.project)
            # bring the main thread's spend up to date so the budget reflects it
            recorder.ingest_main(ledger, state, p.text("transcript_path"), "PreToolUse")
            statuses = budget.status(ledger, cfg, now)
            ledger.notices += budget.notices(ledger, cfg, now, statuses)
            _learn(p, cfg, ledger, decisions, now, state, statuses)
            verdicts = [_policy(d, lambda x: budget.apply_policy(x, cfg, ledger, now, statuses, session=session))
                        for _, d in decisions]
            for (key, d), v in zip(decisions, verdicts, strict=True):
                if keep:
                    state["decisions"][key] = _remember(key, d, v, now)
            ledger.save_session(state)
    except (store.LockTimeout, store.LinkRefused) as exc:  # busy (or a link in the way): decide on the spend
        if isinstance(exc, store.LinkRefused):                # as it stands, park the decisions
            ledger.warnings.append(str(exc))
        _learn(p, cfg, ledger, decisions, now, None, None)
        verdicts = [_policy(d, lambda x: budget.apply_policy(x, cfg, ledger, now, session=session))
                    for _, d in decisions]
        try:
            for (key, d), v in zip(decisions, verdicts if keep else [], strict=False):
                ledger.spool("decision", {"session_id": p.session_id, "project": p.project,
                                          "decision": _remember(key, d, v, now)})
        except store.LinkRefused as refused:
            ledger.warnings.append(str(refused))
    ledger.notices = list(dict.fromkeys(ledger.notices))
    return verdicts


def _learn(p: Payload, cfg: Config, ledger: Ledger, decisions: list[tuple[str, dict[str, Any]]], now: Any,
           state: dict[str, Any] | None, statuses: list[BudgetStatus] | None) -> None:
    """The learned pick and exploration for each decision (``learning.route``), before the budget
    policy; escalations of earlier spawns found in the session (``state``; None: the ledger is busy,
    neither escalations nor exploration then).  Learning never stops a spawn: a failure is one line."""
    from model_strategy.runtime.limits import budget, windows
    from model_strategy.runtime.routing import learning

    try:
        on = learning.settings(cfg)["enabled"]
        learned = learning.load(ledger, now, cfg.get("retention_days")) if on else None
        acting = state is None or bool(budget.constraints(ledger, cfg, now, statuses)) or bool(
            windows.active(cfg, now.timestamp(), ledger.root, p.session_id or ""))
        for key, d in decisions:
            match = d.pop("_match", None)
            learning.route(d, cfg, learned, acting)
            if state is not None and match is not None:
                ledger.notices += learning.escalations(ledger, state, key, d, match, now)
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
        ledger.warnings.append(f"learning skipped ({type(exc).__name__}: {str(exc)[:80]}); static routing")
        for _, d in decisions:
            d.pop("_match", None)


def _policy(decision: dict[str, Any], apply: Callable[[dict[str, Any]], Verdict]) -> Verdict:
    """The budget verdict for one decision.  A fork's model cannot change: for it the policy may only
    deny (it is applied to a copy).  A spawn the budget took down to a cheaper model gets no routed
    effort on top (the caller's own effort stays)."""
    if decision.get("source") == "fork":
        probe = dict(decision, reasons=[])
        verdict = apply(probe)
        decision["budget_level"] = probe.get("budget_level", "ok")
        return {"deny": True, "reason": verdict["reason"]} if verdict.get("deny") else {}
    verdict = apply(decision)
    if verdict.get("picked") and decision.get("effort") != decision.get("requested_effort"):
        decision["effort"] = decision.get("requested_effort")
        decision["reasons"].append("budget limit: no added effort")
    return verdict


def _deny(reason: str, lines: list[str]) -> dict[str, Any] | None:
    out = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                  "permissionDecisionReason": f"{PREFIX} {reason}"}}
    return _message(out, lines)


def _pre_fork(p: Payload, cfg: Config, warnings: list[str], tool_input: dict[str, Any],
              tuid: str) -> dict[str, Any] | None:
    """A fork runs on its parent's model and effort whatever the input says: nothing to route.  Its
    decision is kept (source ``fork``) so its record joins it; only a budget ``deny`` acts on it."""
    from model_strategy.runtime.routing.selector import complexity

    requested = tool_input.get("model") if isinstance(tool_input.get("model"), str) else None
    score, _ = complexity(str(tool_input.get("description") or ""), str(tool_input.get("prompt") or ""))
    decision: dict[str, Any] = {
        "agent_type": "fork", "requested": requested, "chosen": "inherit", "source": "fork",
        "profile": str(cfg.get("profile", "BALANCED")).upper(), "confidence": 1.0, "complexity": round(score, 3),
        "reasons": ["a fork runs on its parent's model and effort (Claude Code ignores model and effort)"],
        "summary": "fork", "prompt_hash": prompt_hash(tool_input.get("prompt")),
        "background": tool_input.get("run_in_background") is not False, "effort": None, "requested_effort": None}
    ledger = Ledger()
    (verdict,) = _apply_budgets(p, cfg, ledger, [(tuid, decision)])
    if verdict.get("deny"):
        return _deny(verdict["reason"], [f"fork denied: {verdict['reason']}", *warnings, *ledger.warnings,
                                         *ledger.notices])
    return _message(None, [*warnings, *ledger.warnings, *ledger.notices])


def _pre_send_message(p: Payload) -> dict[str, Any] | None:
    """A message to a running or finished agent keeps that agent's model: nothing to route.  Only a
    budget policy ``deny`` acts (continuing an agent spends like a new one)."""
    from model_strategy.runtime.limits import budget

    cfg, warnings = config_mod.load(p.cwd)
    ledger = Ledger()
    probe = {"agent_type": "SendMessage", "chosen": "inherit", "reasons": []}
    verdict = budget.apply_policy(probe, cfg, ledger, session=p.session_id or "")
    if verdict.get("deny"):
        return _deny(f"{verdict['reason']} (nor continues them)", [
            f"SendMessage denied: {verdict['reason']}", *warnings, *ledger.warnings, *ledger.notices])
    return _message(None, [*warnings, *ledger.warnings, *ledger.notices])


def _pre_workflow(p: Payload) -> dict[str, Any] | None:
    """Route every ``agent()`` call of a Workflow script (see ``workflow.py``)."""
    from model_strategy.runtime.routing import selector, workflow

    tool_input = p.raw.get("tool_input")
    if not isinstance(tool_input, dict):
        return _message(None, ["PreToolUse(Workflow) input has no tool_input object; workflow left unchanged"])
    cfg, warnings = config_mod.load(p.cwd)
    tuid = p.tool_use_id or f"anon-{time.time_ns()}"
    script = tool_input.get("script")
    unroutable = None
    name = workflow.printable(str(tool_input.get("name") or "")
                              or workflow.meta_name(script if isinstance(script, str) else "") or "workflow")
    if tool_input.get("scriptPath") or tool_input.get("name") or not isinstance(script, str) or not script:
        # the client replaces `script` with the file's or the named workflow's own text after the hooks
        # ran (FACTS.md 12): such runs cannot be routed; the budget policy still acts on the call
        script = None
        unroutable = ("a scriptPath run takes its script from the file" if tool_input.get("scriptPath") else
                      "a named workflow's script is not visible to hooks" if tool_input.get("name") else
                      "it has no script")
    calls: list[workflow.Call] = []
    children = False
    if script is not None:
        parsed = workflow.parse(workflow.strip(script))
        calls, children = parsed.calls, parsed.children
        if parsed.own:
            script, calls, unroutable = None, [], "the script defines or assigns agent() itself"

    decisions: list[tuple[str, dict[str, Any]]] = []
    table: dict[str, Any] = {"calls": {}, "types": {}, "other": {}, "keepModel": not cfg.get(
        "override_explicit_model", False), "keepEffort": not cfg.get("override_explicit_effort", False)}
    shown: list[tuple[str, dict[str, Any]]] = []
    computed_types: list[str] = []
    routed: list[workflow.Call] = []  # decided one by one (the first MAX_CALLS literal calls)
    for n, call in enumerate(calls):
        if call.prompt is None or call.agent_type is None or workflow.UNKNOWN in (call.model, call.effort) \
                or len(routed) >= workflow.MAX_CALLS:
            computed_types.append(call.agent_type or "")
            continue
        routed.append(call)
        spawn = {"subagent_type": call.agent_type, "description": call.label or "", "prompt": call.prompt,
                 "model": call.model, "effort": call.effort}
        d = selector.decide(spawn, cfg)
        d.update(prompt_hash=prompt_hash(call.prompt), background=False, workflow=tuid)
        decisions.append((f"{tuid}#{n}", d))
        shown.append((workflow.printable(call.label or "") or f"agent {n + 1}", d))
    rule_types = list(dict.fromkeys(t for t in computed_types if t and t != workflow.DEFAULT_TYPE))
    rules: list[tuple[str, dict[str, Any]]] = []
    if script is not None:
        for t in [*rule_types, ""]:
            d = selector.decide({"subagent_type": t or workflow.DEFAULT_TYPE, "prompt": ""}, cfg)
            d.update(prompt_hash="", background=False, workflow=tuid, shared=True)
            rules.append((t, d))
            decisions.append((f"{tuid}#{t or '*'}", d))

    ledger = Ledger()
    if script is None:  # nothing to route: the budget policy still acts on the call itself
        probe = selector.decide({"subagent_type": workflow.DEFAULT_TYPE, "prompt": ""}, cfg)
        verdicts = _apply_budgets(p, cfg, ledger, [(tuid, probe)], keep=False)
    else:
        verdicts = _apply_budgets(p, cfg, ledger, decisions)
    tail = [*warnings, *ledger.warnings, *ledger.notices]
    denied = next((v for v in verdicts if v.get("deny")), None)
    if denied is not None:
        return _deny(denied["reason"], [f"Workflow {name} denied: {denied['reason']}", *tail])
    if script is None:
        return _message(None, [f"Workflow {name}: its agents were not routed ({unroutable}); they run on the "
                               "main model", *tail])

    for (_, d), call in zip(decisions, routed, strict=False):
        table["calls"].setdefault(workflow.fnv(call.prompt or ""), []).append(
            {"t": call.agent_type, "rm": call.model, "re": call.effort, "m": d["chosen"], "e": d.get("effort")})
    for t, d in rules:
        rule = {"m": d["chosen"], "e": d.get("effort")}
        if t:
            table["types"][t] = rule
        else:
            table["other"] = rule
    updated = dict(tool_input)  # updatedInput replaces the whole input: keep every field
    updated["script"] = workflow.rewrite(script, table)
    if len(updated["script"].encode("utf-16-le", "surrogatepass")) // 2 > workflow.MAX_SCRIPT:
        return _message(None, [f"Workflow {name}: its agents were not routed (the script is too long to add "
                               "routing to); they run on the main model", *tail])
    parts = [_summary(f"{label} ({d['agent_type']})", d, v) for (label, d), v in zip(shown, verdicts, strict=False)]
    if len(parts) > SHOWN:
        parts[SHOWN:] = [f"{len(parts) - SHOWN} more routed"]
    if len(routed) < len(calls) or not calls:
        parts += [f"computed {t} calls → {_rule_text(d)}" for t, d in rules if t]
        parts.append(f"{'other' if parts else 'any'} computed calls → {_rule_text(rules[-1][1])}")
    if children:
        parts.append("the agents of child workflow() runs are not routed")
    out = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "updatedInput": updated}}
    return _message(out, [f"Workflow {name}: " + "; ".join(parts), *tail])


def _rule_text(d: dict[str, Any]) -> str:
    return str(d["chosen"]) + (f", {d['effort']} effort" if d.get("effort") else "")


# ------------------------------------------------------------------ recording


def _budget_after(cfg: Config) -> Any:
    from model_strategy.runtime.limits import budget

    def after(ledger: Ledger) -> None:
        ledger.notices += budget.notices(ledger, cfg)

    return after


def post_tool_use(p: Payload) -> dict[str, Any] | None:
    if not p.is_subagent_tool:
        return None
    from model_strategy.runtime.books import recorder

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
    from model_strategy.runtime.books import recorder

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
        if record["model_mismatch"] and not record.get("continuation"):  # said for its first slice
            lines.append(f"agent {record['agent_type']} asked for {record['model_requested']} "
                         f"but ran on {record['model_actual']}")
        if record["unpriced_requests"]:
            unknown = ", ".join(m for m, row in record["models"].items() if not row["priced"])
            lines.append(f"agent {record['agent_type']}: {record['unpriced_requests']} request(s) on {unknown} "
                         "recorded without a price (no price known; add one in prices.override.json)")
    return _message(None, lines)


def stop(p: Payload) -> dict[str, Any] | None:
    from model_strategy.runtime.base import store
    from model_strategy.runtime.books import recorder
    from model_strategy.runtime.limits import budget

    ledger = Ledger()
    cfg, warnings = config_mod.load(p.cwd)
    done = None
    try:
        with ledger.transaction():
            state = ledger.session(p.session_id, p.project)
            # the main thread, and any agent a lost or failed hook did not record (from the transcripts)
            recs = recorder.reconcile(ledger, state, p.text("transcript_path"), "Stop", _running_agents(p))
            ledger.save_session(state)
            done = recorder.describe([r for r in recs if r["kind"] == "subagent"], "agents missed by earlier hooks")
            ledger.notices += budget.notices(ledger, cfg)
    except store.LockTimeout:
        pass  # the next hook reads the main transcript from the same offset
    return _message(None, [*warnings, *ledger.warnings, *([done] if done else []), *ledger.notices])


def _running_agents(p: Payload) -> frozenset[str]:
    """The agents a Stop lists as still running in the background (their SubagentStop records them)."""
    from model_strategy.runtime.books.recorder import WORKFLOW_RUNNING

    tasks = p.raw.get("background_tasks")
    if not isinstance(tasks, list):
        return frozenset()
    running = [t for t in tasks if isinstance(t, dict) and t.get("status") == "running"]
    ids = {t["id"] for t in running if isinstance(t.get("id"), str)}
    if any(t.get("type") == "workflow" for t in running):
        ids.add(WORKFLOW_RUNNING)
    return frozenset(ids)


def _reconcile_at_start(p: Payload) -> list[str]:
    """SessionStart: record what this project's recent sessions' transcripts hold and the ledger lacks
    (a hook lost or failed at the end of an earlier session, e.g. on a full disk).  Sessions the plugin
    has seen (a session file) only; bounded: the newest few, each from its read offsets."""
    from model_strategy.runtime.base import store
    from model_strategy.runtime.books import recorder

    path = p.text("transcript_path")
    if not path:
        return []
    folder = os.path.dirname(path)
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".jsonl")]
    except OSError:
        names = []
    def mtime(name: str) -> float:
        try:
            return os.path.getmtime(os.path.join(folder, name))
        except OSError:
            return 0.0
    ledger = Ledger()
    recs: list[Record] = []
    try:
        with ledger.transaction(wait=1.0):
            for name in sorted(names, key=mtime, reverse=True)[:START_RECONCILE_SESSIONS]:
                sid = name[:-6]
                if sid == p.session_id and p.text("source") == "startup":
                    continue  # a session that starts has nothing in its transcript yet
                if sid != p.session_id and not os.path.exists(ledger.session_path(sid)):
                    continue
                state = ledger.session(sid, p.project)
                recs += recorder.reconcile(ledger, state, os.path.join(folder, name), "SessionStart")
                ledger.save_session(state)
    except store.LockTimeout:
        return []  # the next Stop reconciles
    done = recorder.describe(recs, "from earlier sessions' transcripts")
    return [*ledger.warnings, *([done] if done else [])]


def session_start(p: Payload) -> dict[str, Any] | None:
    from model_strategy.runtime.limits import budget

    from . import bootstrap

    lines = bootstrap.check_on_session_start(p.session_id or "")
    try:
        lines += _reconcile_at_start(p)
    except Exception as exc:  # a courtesy too: the next Stop reconciles again
        lines.append(f"reconciling from the transcripts skipped ({type(exc).__name__}); the next Stop retries it")
    try:
        cfg, warnings = config_mod.load(p.cwd)
        ledger = Ledger()
        line = budget.session_start_line(ledger, cfg)
        lines += [*warnings, *ledger.warnings, *([line] if line else [])]
    except Exception as exc:  # the budget line is a courtesy: never fail the session start over it
        lines.append(f"budget status unavailable ({type(exc).__name__})")
    try:  # retention: at most one real run a day, a directory listing otherwise
        from model_strategy.runtime.books import archive

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
    except LinkRefused as exc:  # a link in the data home: refused, said, not an internal error
        out = _message(None, [f"{name} hook: {exc}; the hook stopped there"])
    except Exception as exc:  # fail open: never break Claude Code's flow by accident
        where = _log_error(name)
        # a recording hook may have written part of its work: say what happens, not "nothing changed"
        after = "spawn left unchanged" if name == "pre_tool_use" else \
            "whatever it did not record is reconciled from the transcripts at the next Stop"
        out = _message(None, [f"internal error in {name} hook ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:160] if str(exc) else 'no detail'}); "
                              f"{after}{where}"])
    if out:
        stdout.write(dumps(out))
        stdout.write("\n")
    return 0


def _log_error(name: str) -> str:
    try:
        import traceback

        from model_strategy.runtime.base import paths, store

        log = os.path.join(paths.data_dir(), "errors.log")
        store.append_text(log, f"--- {iso(clock.now())} {name}\n{traceback.format_exc()}")  # never through a link
        return f"; details in {log}"
    except Exception:
        return ""
