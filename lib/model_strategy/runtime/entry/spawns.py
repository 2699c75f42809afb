"""PreToolUse: route each spawn -- an ``Agent`` (``Task``) call, a ``Workflow`` script's ``agent()``
calls -- and apply the budget and window policies to it, to a fork and to a ``SendMessage``.

The decision (``selector.decide``, then learning, then the policies) is kept in the session state
under the spawn's ``tool_use_id``, as it is, for the agent's record (``recording``).
"""

from __future__ import annotations

import time

from model_strategy.runtime.base import clock
from model_strategy.runtime.base.clock import iso
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.settings import config as config_mod

from .hooks import deny, message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from typing import Any

    from model_strategy.runtime.base.decision import Decision, Verdict
    from model_strategy.runtime.base.payload import AgentInput, Payload
    from model_strategy.runtime.limits.budget import Brief
    from model_strategy.runtime.routing.workflow import Call, Rule, Table
    from model_strategy.runtime.settings.values import Config

    from .hooks import Output

SHOWN = 6  # a Workflow's line names at most this many agent() calls


def pre_tool_use(p: Payload) -> Output | None:
    if p.tool_name == "Workflow":
        return _pre_workflow(p)
    if p.tool_name == "SendMessage":
        return _pre_send_message(p)
    if not p.is_subagent_tool:
        return None
    tool_input = p.agent_input()
    if tool_input is None:
        return message(None, ["PreToolUse input has no tool_input object; spawn left unchanged"])
    from model_strategy.runtime.routing import selector
    from model_strategy.runtime.routing.outcomes import match_info

    cfg, warnings = config_mod.load(p.cwd)
    tuid = p.tool_use_id or f"anon-{time.time_ns()}"
    if tool_input.get("subagent_type") == "fork":
        return _pre_fork(p, cfg, warnings, tool_input, tuid)
    decision = selector.decide(tool_input, cfg)
    ledger = Ledger()
    # the task as a later spawn is matched against it (escalations; kept in the session, not the record)
    (verdict,) = _apply_budgets(p, cfg, ledger, [(tuid, decision)], match=match_info(_loose(tool_input)))

    agent = decision["agent_type"]
    if verdict.get("deny"):
        return deny(verdict["reason"], [f"{agent} spawn denied: {verdict['reason']}", *warnings, *ledger.warnings,
                                        *ledger.notices])
    out: Output = {}
    updated = tool_input.copy()  # updatedInput replaces the whole input: keep every field
    if decision["chosen"] != decision["requested"]:
        updated["model"] = decision["chosen"]
    if decision["effort"] and decision["effort"] != decision["requested_effort"]:
        updated["effort"] = decision["effort"]
    if updated != tool_input:
        # no permissionDecision: "allow" would also grant the spawn (FACTS.md 11); without one the user's
        # mode and rules still decide, and the subagent runs on the routed model once permitted
        out["hookSpecificOutput"] = {"hookEventName": "PreToolUse", "updatedInput": updated}
    return message(out, [_summary(agent, decision, verdict), *warnings, *ledger.warnings, *ledger.notices])


def _summary(agent: str, decision: Decision, verdict: Verdict) -> str:
    """``Explore → haiku, low effort (simple search, 0.90)``; a budget downgrade names both models."""
    why = f"{decision.get('summary', '')}, {decision['confidence']:.2f}"
    if decision.get("explored"):
        why = f"exploring one tier from the learned pick, p {decision.get('p', 1.0):g}"
    elif decision.get("learned"):
        why = str(decision.get("learned"))
    effort = f", {decision['effort']} effort" if decision["effort"] else ""
    if verdict.get("picked"):  # the budget took the selector's pick down: name both
        return f"{agent} → {verdict['picked']} → {decision['chosen']}{effort} ({verdict['note']}; picked for {why})"
    summary = f"{agent} → {decision['chosen']}{effort} ({why})"
    return f"{summary}; {verdict['note']}" if verdict.get("note") else summary


def _remember(key: str, decision: Decision, verdict: Verdict, now: datetime) -> Decision:
    """The decision as the session state keeps it for the agent's record (``models.Decision``): as
    it is, with its key, time and whether it was denied (the routing line's ``summary`` dropped)."""
    kept = decision.copy()
    kept.pop("summary", None)
    kept["tool_use_id"] = key
    kept["ts"] = iso(now)
    kept["denied"] = bool(verdict.get("deny"))
    return kept


def _loose(value: Decision | AgentInput) -> dict[str, Any]:
    """A decision or a spawn's input for the functions still typed with plain dicts (learning's
    ``route``/``escalations``/``match_info``, the budget and window policies)."""
    untyped: Any = value  # the same dict, changed in place by them
    loose: dict[str, Any] = untyped
    return loose


def _apply_policy(decision: Decision, cfg: Config, ledger: Ledger, now: datetime,
                  statuses: list[Brief] | None, session: str) -> Verdict:
    """``budget.apply_policy`` on a decision (in place), its verdict typed."""
    from model_strategy.runtime.limits import budget

    verdict: Any = budget.apply_policy(_loose(decision), cfg, ledger, now, statuses, session=session)
    typed: Verdict = verdict
    return typed


def _apply_budgets(p: Payload, cfg: Config, ledger: Ledger, decisions: list[tuple[str, Decision]],
                   keep: bool = True, match: dict[str, Any] | None = None) -> list[Verdict]:
    """Apply the budget and window policy to each decision (in place) and keep them in the session
    state under their keys (unless not ``keep``), for the agents' records; the verdicts, in order.
    ``match``: the first decision's task, for escalation matching (``outcomes.match_info``)."""
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
            statuses = budget.briefs(ledger, cfg, now)
            ledger.notices += budget.notices(ledger, cfg, now, statuses)
            _learn(p, cfg, ledger, decisions, now, state, statuses, match)
            verdicts = [_policy(d, lambda x: _apply_policy(x, cfg, ledger, now, statuses, session))
                        for _, d in decisions]
            for (key, d), v in zip(decisions, verdicts, strict=True):
                if keep:
                    state["decisions"][key] = _remember(key, d, v, now)
            ledger.save_session(state)
    except (store.LockTimeout, store.LinkRefused) as exc:  # busy (or a link in the way): decide on the spend
        if isinstance(exc, store.LinkRefused):                # as it stands, park the decisions
            ledger.warnings.append(str(exc))
        _learn(p, cfg, ledger, decisions, now, None, None, None)
        verdicts = [_policy(d, lambda x: _apply_policy(x, cfg, ledger, now, None, session)) for _, d in decisions]
        try:
            for (key, d), v in zip(decisions, verdicts if keep else [], strict=False):
                ledger.spool("decision", {"session_id": p.session_id, "project": p.project,
                                          "decision": _remember(key, d, v, now)})
        except store.LinkRefused as refused:
            ledger.warnings.append(str(refused))
    ledger.notices = list(dict.fromkeys(ledger.notices))
    return verdicts


def _learn(p: Payload, cfg: Config, ledger: Ledger, decisions: list[tuple[str, Decision]], now: datetime,
           state: dict[str, Any] | None, statuses: list[Brief] | None,
           match: dict[str, Any] | None) -> None:
    """The learned pick and exploration for each decision (``learning.route``), before the budget
    policy; escalations of earlier spawns found in the session (``state``; None: the ledger is busy,
    neither escalations nor exploration then).  Learning never stops a spawn: a failure is one line."""
    from model_strategy.runtime.limits import budget, windows
    from model_strategy.runtime.routing import learning, outcomes

    try:
        on = learning.settings(cfg)["enabled"]
        learned = learning.load(ledger, now, cfg.get("retention_days")) if on else None
        acting = state is None or bool(budget.constraints(ledger, cfg, now, statuses)) or bool(
            windows.active(cfg, now.timestamp(), ledger.root, p.session_id or ""))
        for n, (key, d) in enumerate(decisions):
            learning.route(_loose(d), cfg, learned, acting)
            if state is not None and match is not None and n == 0:
                ledger.notices += outcomes.escalations(ledger, state, key, _loose(d), match, now)
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
        ledger.warnings.append(f"learning skipped ({type(exc).__name__}: {str(exc)[:80]}); static routing")


def _policy(decision: Decision, apply: Callable[[Decision], Verdict]) -> Verdict:
    """The budget verdict for one decision.  A fork's model cannot change: for it the policy may only
    deny (it is applied to a copy).  A spawn the budget took down to a cheaper model gets no routed
    effort on top (the caller's own effort stays)."""
    if decision["source"] == "fork":
        probe = decision.copy()
        probe["reasons"] = []
        verdict = apply(probe)
        decision["budget_level"] = probe["budget_level"]
        return {"deny": True, "reason": verdict["reason"]} if verdict.get("deny") else {}
    verdict = apply(decision)
    if verdict.get("picked") and decision["effort"] != decision["requested_effort"]:
        decision["effort"] = decision["requested_effort"]
        decision["reasons"].append("budget limit: no added effort")
    return verdict


def _pre_fork(p: Payload, cfg: Config, warnings: list[str], tool_input: AgentInput, tuid: str) -> Output | None:
    """A fork runs on its parent's model and effort whatever the input says: nothing to route.  Its
    decision is kept (source ``fork``) so its record joins it; only a budget ``deny`` acts on it."""
    from model_strategy.runtime.base.payload import prompt_hash
    from model_strategy.runtime.routing.selector import complexity

    model = tool_input.get("model")
    score, _ = complexity(str(tool_input.get("description") or ""), str(tool_input.get("prompt") or ""))
    decision: Decision = {
        "agent_type": "fork", "requested": model if isinstance(model, str) else None, "chosen": "inherit",
        "source": "fork", "profile": str(cfg.get("profile", "BALANCED")).upper(), "confidence": 1.0,
        "complexity": round(score, 3), "budget_level": "ok",
        "reasons": ["a fork runs on its parent's model and effort (Claude Code ignores model and effort)"],
        "summary": "fork", "prompt_hash": prompt_hash(tool_input.get("prompt")),
        "background": tool_input.get("run_in_background") is not False, "effort": None, "requested_effort": None}
    ledger = Ledger()
    (verdict,) = _apply_budgets(p, cfg, ledger, [(tuid, decision)])
    if verdict.get("deny"):
        return deny(verdict["reason"], [f"fork denied: {verdict['reason']}", *warnings, *ledger.warnings,
                                        *ledger.notices])
    return message(None, [*warnings, *ledger.warnings, *ledger.notices])


def _pre_send_message(p: Payload) -> Output | None:
    """A message to a running or finished agent keeps that agent's model: nothing to route.  Only a
    budget policy ``deny`` acts (continuing an agent spends like a new one)."""
    from model_strategy.runtime.limits import budget

    cfg, warnings = config_mod.load(p.cwd)
    ledger = Ledger()
    probe = {"agent_type": "SendMessage", "chosen": "inherit", "reasons": []}
    verdict = budget.apply_policy(probe, cfg, ledger, session=p.session_id or "")
    if verdict.get("deny"):
        return deny(f"{verdict['reason']} (nor continues them)", [
            f"SendMessage denied: {verdict['reason']}", *warnings, *ledger.warnings, *ledger.notices])
    return message(None, [*warnings, *ledger.warnings, *ledger.notices])


def _pre_workflow(p: Payload) -> Output | None:
    """Route every ``agent()`` call of a Workflow script (see ``workflow.py``)."""
    from model_strategy.runtime.routing import selector, workflow

    tool_input = p.workflow_input()
    if tool_input is None:
        return message(None, ["PreToolUse(Workflow) input has no tool_input object; workflow left unchanged"])
    cfg, warnings = config_mod.load(p.cwd)
    tuid = p.tool_use_id or f"anon-{time.time_ns()}"
    given = tool_input.get("script")
    script = given if isinstance(given, str) else None
    unroutable = None
    name = workflow.printable(str(tool_input.get("name") or "") or workflow.meta_name(script or "") or "workflow")
    if tool_input.get("scriptPath") or tool_input.get("name") or not script:
        # the client replaces `script` with the file's or the named workflow's own text after the hooks
        # ran (FACTS.md 12): such runs cannot be routed; the budget policy still acts on the call
        script = None
        unroutable = ("a scriptPath run takes its script from the file" if tool_input.get("scriptPath") else
                      "a named workflow's script is not visible to hooks" if tool_input.get("name") else
                      "it has no script")
    calls: list[Call] = []
    children = False
    if script is not None:
        parsed = workflow.parse(workflow.strip(script))
        calls, children = parsed.calls, parsed.children
        if parsed.own:
            script, calls, unroutable = None, [], "the script defines or assigns agent() itself"

    decisions: list[tuple[str, Decision]] = []
    shown: list[tuple[str, Decision]] = []
    computed_types: list[str] = []
    routed: list[Call] = []  # decided one by one (the first MAX_CALLS literal calls)
    for n, call in enumerate(calls):
        if call.prompt is None or call.agent_type is None or workflow.UNKNOWN in (call.model, call.effort) \
                or len(routed) >= workflow.MAX_CALLS:
            computed_types.append(call.agent_type or "")
            continue
        routed.append(call)
        d = selector.decide({"subagent_type": call.agent_type, "description": call.label or "", "prompt": call.prompt,
                             "model": call.model, "effort": call.effort, "run_in_background": False}, cfg)
        d["workflow"] = tuid
        decisions.append((f"{tuid}#{n}", d))
        shown.append((workflow.printable(call.label or "") or f"agent {n + 1}", d))
    rule_types = list(dict.fromkeys(t for t in computed_types if t and t != workflow.DEFAULT_TYPE))
    rules: list[tuple[str, Decision]] = []
    if script is not None:
        for t in [*rule_types, ""]:
            d = selector.decide({"subagent_type": t or workflow.DEFAULT_TYPE, "prompt": "", "run_in_background": False},
                                cfg)
            d["prompt_hash"], d["workflow"], d["shared"] = "", tuid, True
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
        return deny(denied["reason"], [f"Workflow {name} denied: {denied['reason']}", *tail])
    if script is None:
        return message(None, [f"Workflow {name}: its agents were not routed ({unroutable}); they run on the "
                              "main model", *tail])

    table: Table = {"calls": {}, "types": {}, "other": _rule(rules[-1][1]),
                    "keepModel": not cfg.get("override_explicit_model", False),
                    "keepEffort": not cfg.get("override_explicit_effort", False)}
    for (_, d), call in zip(decisions, routed, strict=False):
        table["calls"].setdefault(workflow.fnv(call.prompt or ""), []).append(
            {"t": call.agent_type, "rm": call.model, "re": call.effort, "m": d["chosen"], "e": d["effort"]})
    for t, d in rules[:-1]:
        table["types"][t] = _rule(d)
    updated = tool_input.copy()  # updatedInput replaces the whole input: keep every field
    updated["script"] = rewritten = workflow.rewrite(script, table)
    if len(rewritten.encode("utf-16-le", "surrogatepass")) // 2 > workflow.MAX_SCRIPT:
        return message(None, [f"Workflow {name}: its agents were not routed (the script is too long to add "
                              "routing to); they run on the main model", *tail])
    parts = [_summary(f"{label} ({d['agent_type']})", d, v) for (label, d), v in zip(shown, verdicts, strict=False)]
    if len(parts) > SHOWN:
        parts[SHOWN:] = [f"{len(parts) - SHOWN} more routed"]
    if len(routed) < len(calls) or not calls:
        parts += [f"computed {t} calls → {_rule_text(d)}" for t, d in rules if t]
        parts.append(f"{'other' if parts else 'any'} computed calls → {_rule_text(rules[-1][1])}")
    if children:
        parts.append("the agents of child workflow() runs are not routed")
    return message({"hookSpecificOutput": {"hookEventName": "PreToolUse", "updatedInput": updated}},
                   [f"Workflow {name}: " + "; ".join(parts), *tail])


def _rule(d: Decision) -> Rule:
    return {"m": d["chosen"], "e": d["effort"]}


def _rule_text(d: Decision) -> str:
    return d["chosen"] + (f", {d['effort']} effort" if d["effort"] else "")

