"""The recording hooks: PostToolUse(Agent), SubagentStop, Stop and SessionStart write what each agent
and the main thread really spent into the ledger (``recorder``), from the transcripts, each request
once whatever order the hooks come in; Stop and SessionStart reconcile what a lost hook missed.
"""

from __future__ import annotations

import os

from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.settings import config as config_mod

from .hooks import message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from model_strategy.runtime.base.payload import Payload
    from model_strategy.runtime.books.records import Record
    from model_strategy.runtime.settings.values import Config

    from .hooks import Output

START_RECONCILE_SESSIONS = 4  # SessionStart reconciles this project's newest sessions (the plugin saw)


def _budget_after(cfg: Config) -> Callable[[Ledger], None]:
    """The budget notices to add once a record is in (``recorder.record_agent``'s ``after``)."""
    from model_strategy.runtime.limits import budget

    def after(ledger: Ledger) -> None:
        ledger.notices += budget.notices(ledger, cfg)

    return after


def post_tool_use(p: Payload) -> Output | None:
    if not p.is_subagent_tool:
        return None
    from model_strategy.runtime.books import recorder

    resp = p.tool_response
    ledger = Ledger()
    agent_id = resp.get("agentId")
    if resp.get("status") == "async_launched" or resp.get("isAsync"):
        recorder.link_async(p, ledger)
        return message(None, ledger.warnings)
    if not isinstance(agent_id, str) or not agent_id:
        return message(None, ["PostToolUse(Agent) response has no agentId; usage not recorded"])
    duration = resp.get("totalDurationMs")
    agent_type = str(resp.get("agentType") or (p.agent_input() or {}).get("subagent_type") or "")
    cfg, warnings = config_mod.load(p.cwd)
    ledger.warnings += warnings
    try:
        record = recorder.record_agent(
            p, agent_id=agent_id, agent_type=agent_type, source="PostToolUse", ledger=ledger,
            transcript_path=p.subagent_transcript(agent_id),
            duration_ms=duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
            tool_use_id=p.tool_use_id, after=_budget_after(cfg))
    except FileNotFoundError:
        return message(None, ledger.warnings)  # SubagentStop records it from its transcript
    return _after_record(record, ledger)


def subagent_stop(p: Payload) -> Output | None:
    from model_strategy.runtime.books import recorder

    agent_id = p.text("agent_id")
    if not agent_id:
        return message(None, ["SubagentStop input has no agent_id; usage not recorded"])
    ledger = Ledger()
    cfg, warnings = config_mod.load(p.cwd)
    ledger.warnings += warnings
    try:
        record = recorder.record_agent(
            p, agent_id=agent_id, agent_type=p.text("agent_type"), source="SubagentStop",
            ledger=ledger, transcript_path=p.subagent_transcript(agent_id), after=_budget_after(cfg))
    except FileNotFoundError:
        return message(None, [f"no transcript for agent {agent_id}; its usage was not recorded"])
    return _after_record(record, ledger)


def _after_record(record: Record | None, ledger: Ledger) -> Output | None:
    lines = [*ledger.warnings, *ledger.notices]
    if record is not None:
        if record["model_mismatch"] and not record.get("continuation"):  # said for its first slice
            lines.append(f"agent {record['agent_type']} asked for {record['model_requested']} "
                         f"but ran on {record['model_actual']}")
        if record["unpriced_requests"]:
            unknown = ", ".join(m for m, row in record["models"].items() if not row["priced"])
            lines.append(f"agent {record['agent_type']}: {record['unpriced_requests']} request(s) on {unknown} "
                         "recorded without a price (no price known; add one in prices.override.json)")
    return message(None, lines)


def stop(p: Payload) -> Output | None:
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
    return message(None, [*warnings, *ledger.warnings, *([done] if done else []), *ledger.notices])


def _running_agents(p: Payload) -> frozenset[str]:
    """The agents a Stop lists as still running in the background (their SubagentStop records them)."""
    from model_strategy.runtime.books.recorder import WORKFLOW_RUNNING

    running = [t for t in p.background_tasks() if t.get("status") == "running"]
    ids = {i for i in (t.get("id") for t in running) if isinstance(i, str)}
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


def session_start(p: Payload) -> Output | None:
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
    return message(None, lines)
