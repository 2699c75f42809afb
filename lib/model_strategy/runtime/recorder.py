"""Turn a finished subagent, and each new slice of a main thread, into ledger records.

Claude Code reports an agent through several hooks: PostToolUse(Agent) -- with usage of the last
API turn only, or ``async_launched`` and no usage for background spawns -- and SubagentStop, with
the agent's transcript.  Whichever arrives first with a readable transcript records the agent from
the transcript's sum; the ledger refuses the same id again, whatever order the hooks come in and
wherever an earlier one died.  The record is joined to the PreToolUse decision by tool_use_id (from
the hook or the agent's ``.meta.json``), else by the prompt's digest, else by agent type.

The transcript is read and priced outside the lock; the join and the append happen under it.  When
the lock stays busy the pending record goes to the spool and is committed by the next lock holder.
"""

from __future__ import annotations

from . import clock, pricing, records, store
from .ledger import Ledger, crash_point, day_of, iso, parse_ts
from .payload import Payload, prompt_hash
from .usage import TranscriptUsage, read_transcript

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .records import Record


def link_async(p: Payload, ledger: Ledger) -> None:
    """A background spawn was launched: remember which agent id belongs to which tool_use_id."""
    agent_id = p.tool_response.get("agentId")
    if not isinstance(agent_id, str) or not p.tool_use_id:
        return
    payload = {"session_id": p.session_id, "project": p.project, "agent_id": agent_id, "tool_use_id": p.tool_use_id}
    try:
        with ledger.transaction():
            apply_spooled(ledger, "link", payload)
    except store.LockTimeout:
        ledger.spool("link", payload)


def _join_decision(state: dict[str, Any], agent_id: str, tool_use_id: str | None, digest: str | None,
                   agent_type: str) -> dict[str, Any] | None:
    decisions: dict[str, Any] = state["decisions"]
    tuid = tool_use_id or state["links"].get(agent_id)
    if tuid and tuid in decisions:
        return dict(decisions[tuid])
    free = [d for d in decisions.values() if not d.get("agent_id")]
    if digest:
        match = [d for d in free if d.get("prompt_hash") == digest]
        if match:
            return dict(match[-1])
    same_type = [d for d in free if d.get("agent_type") == agent_type]
    return dict(same_type[-1]) if len(same_type) == 1 else None


def pending_agent(p: Payload, *, agent_id: str, agent_type: str, source: str, transcript_path: str | None,
                  duration_ms: int | None = None, tool_use_id: str | None = None,
                  warnings: list[str] | None = None, keys: bool = False) -> dict[str, Any]:
    """Read and price an agent's transcript (outside the lock): everything a record needs but the
    join with its decision.  Raises FileNotFoundError when there is no transcript yet.  ``keys``
    adds the request keys and the transcript's unreadable line count (history import)."""
    if not transcript_path:
        raise FileNotFoundError(f"no transcript path for agent {agent_id}")
    transcript, _ = read_transcript(transcript_path)
    requests = transcript.request_list()
    extra = {"request_keys": [r["key"] for r in requests], "bad_lines": transcript.bad_lines} if keys else {}
    usage = records.priced_usage(requests, pricing.table(warnings))
    started = transcript.first_ts
    if duration_ms is None and started and transcript.last_ts:
        try:
            duration_ms = max(0, int((parse_ts(transcript.last_ts) - parse_ts(started)).total_seconds() * 1000))
        except ValueError:
            duration_ms = None
    return {
        "session_id": p.session_id, "project": p.project, "agent_id": agent_id, "agent_type": agent_type,
        "source": source, "tool_use_id": tool_use_id or _meta_tool_use_id(transcript_path),
        "ts": _utc(started) or iso(clock.now()), "duration_ms": duration_ms, "usage": usage,
        "first_prompt_hash": prompt_hash(transcript.first_prompt) if transcript.first_prompt is not None else None,
        "outcome": transcript.outcome(), **extra,
    }


def _utc(ts: str | None) -> str | None:
    if not ts:
        return None
    try:
        return iso(parse_ts(ts))
    except ValueError:
        return None


def commit_agent(ledger: Ledger, pending: dict[str, Any]) -> Record | None:
    """Join, build and commit a pending agent record (inside a transaction).  None when the agent
    is in the ledger already."""
    state = ledger.session(pending["session_id"], pending.get("project"))
    agent_id = pending["agent_id"]
    record_id = records.subagent_id(pending["session_id"], agent_id)
    tuid = pending.get("tool_use_id")
    if tuid and agent_id not in state["links"]:
        state["links"][agent_id] = tuid
    if ledger.has_id(day_of(pending["ts"]), record_id):  # the ledger decides (the session's list is a cache)
        state["recorded"].setdefault(agent_id, record_id)
        ledger.save_session(state)
        return None
    decision = _join_decision(state, agent_id, tuid, pending.get("first_prompt_hash"), pending["agent_type"])
    tuid = tuid or state["links"].get(agent_id) or (decision or {}).get("tool_use_id")
    rec = records.build(
        kind="subagent", record_id=record_id, ts=pending["ts"], recorded_at=iso(clock.now()),
        session_id=pending["session_id"], project=pending.get("project"), usage=pending["usage"],
        agent_id=agent_id, agent_type=pending["agent_type"] or (decision or {}).get("agent_type") or "unknown",
        tool_use_id=tuid, background=(decision or {}).get("background"),
        model_requested=(decision or {}).get("chosen"), duration_ms=pending.get("duration_ms"),
        decision=decision, source=pending["source"], outcome=pending.get("outcome"))
    written = ledger.commit(rec)
    crash_point("before-session-save")
    state["recorded"][agent_id] = record_id
    if decision and decision.get("tool_use_id") in state["decisions"]:
        state["decisions"][decision["tool_use_id"]]["agent_id"] = agent_id
    ledger.save_session(state)
    return rec if written else None


def record_agent(p: Payload, *, agent_id: str, agent_type: str, source: str, ledger: Ledger,
                 transcript_path: str | None, duration_ms: int | None = None,
                 tool_use_id: str | None = None, after: Any = None) -> Record | None:
    """Record the agent once; returns the new record, or None (recorded before, or spooled).
    ``after(ledger)`` runs inside the same transaction once the record is in (budget notices)."""
    pending = pending_agent(p, agent_id=agent_id, agent_type=agent_type, source=source,
                            transcript_path=transcript_path, duration_ms=duration_ms, tool_use_id=tool_use_id,
                            warnings=ledger.warnings)
    try:
        with ledger.transaction():
            rec = commit_agent(ledger, pending)
            if after is not None:
                after(ledger)
    except store.LockTimeout:
        ledger.spool("agent", pending)
        ledger.warnings.append(f"the ledger was busy; agent {agent_id} is parked in the spool and will be "
                               "recorded by the next hook")
        return None
    return rec


def apply_spooled(ledger: Ledger, kind: str, payload: dict[str, Any]) -> None:
    """Commit one parked write (inside a transaction).  Every kind is idempotent."""
    if kind == "agent":
        commit_agent(ledger, payload)
    elif kind == "link":
        state = ledger.session(payload["session_id"], payload.get("project"))
        state["links"][payload["agent_id"]] = payload["tool_use_id"]
        ledger.save_session(state)
    elif kind == "decision":
        state = ledger.session(payload["session_id"], payload.get("project"))
        decision = payload["decision"]
        state["decisions"].setdefault(decision["tool_use_id"], decision)
        ledger.save_session(state)
    else:
        raise ValueError(f"unknown spool kind {kind!r}")


# ------------------------------------------------------------------ main thread


MAIN_READ_LIMIT = 32 << 20  # bytes of the main transcript one hook reads (the next hooks read on)


def ingest_main(ledger: Ledger, state: dict[str, Any], transcript_path: str, source: str) -> list[Record]:
    """Record the main thread's requests that are not in the ledger yet, read incrementally from the
    session transcript (only bytes after the remembered offset; from the start when the state was
    lost -- request keys keep that from counting anything twice).  One call reads at most
    ``MAIN_READ_LIMIT`` bytes, so a hook on a huge, never-read transcript stays fast and small; the
    next hooks go on from the offset.  Inside a transaction; the caller saves ``state``."""
    import os

    if not transcript_path:
        return []
    try:
        size = os.path.getsize(transcript_path)
    except OSError:
        return []
    main = state["main"]
    offset = main.get("offset", 0) if main.get("path") == transcript_path else 0
    if not isinstance(offset, int) or offset > size:
        offset = 0  # the transcript was rewritten: read it again (keys dedupe)
    if offset == size:
        return []
    usage, new_offset = read_transcript(transcript_path, offset, main_thread=True, limit=MAIN_READ_LIMIT)
    out = _commit_main(ledger, state["session_id"], state.get("project"), usage, source)
    main.update(path=transcript_path, offset=new_offset)
    return out


def _commit_main(ledger: Ledger, session_id: str, project: str | None, usage: TranscriptUsage,
                 source: str, agent_id: str | None = None, agent_type: str = "sidechain") -> list[Record]:
    """Commit a transcript's requests not yet in the ledger, one record per UTC day.  With
    ``agent_id``: sidechain requests found in a main transcript (older client layouts), recorded as
    subagent slices ``<session>:<agent id>:<first key>`` that dedupe by request key the same way."""
    by_day: dict[str, list[Any]] = {}
    for req in usage.request_list():
        req["ts"] = _utc(req["ts"])
        by_day.setdefault(day_of(req["ts"]), []).append(req)
    out = []
    now = iso(clock.now())
    for day, reqs in sorted(by_day.items()):
        fresh = [r for r in reqs if not ledger.has_key(day, r["key"])
                 and not (_just_after_midnight(r["ts"]) and ledger.has_key(_day_before(day), r["key"]))]
        if not fresh:
            continue
        priced = records.priced_usage(fresh, pricing.table(ledger.warnings))
        ts = min((r["ts"] for r in fresh if r["ts"]), default=None) or now
        keys = [r["key"] for r in fresh]
        if agent_id is None:
            rec = records.build(kind="main", record_id=records.main_id(session_id, keys[0]), ts=ts,
                                recorded_at=now, session_id=session_id, project=project, usage=priced,
                                source=source, request_keys=keys)
        else:
            rec = records.build(kind="subagent", record_id=records.subagent_id(session_id, f"{agent_id}:{keys[0]}"),
                                ts=ts, recorded_at=now, session_id=session_id, project=project, usage=priced,
                                agent_id=agent_id, agent_type=agent_type, source=source, request_keys=keys)
        if ledger.commit(rec):
            out.append(rec)
    return out


def _just_after_midnight(ts: str | None) -> bool:
    """A streamed response's entries are seconds apart: one whose entry is dated just after midnight
    may have been recorded the day before from an earlier entry (read by an earlier hook)."""
    return ts is not None and len(ts) >= 16 and ts[10] == "T" and ts[11:15] == "00:0"


def _day_before(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def _meta_tool_use_id(transcript_path: str) -> str | None:
    """Claude Code keeps ``agent-<id>.meta.json`` beside the agent transcript, with ``toolUseId``."""
    base = transcript_path[:-6] if transcript_path.endswith(".jsonl") else transcript_path
    try:
        meta = store.read_json(base + ".meta.json")
    except (store.StoreError, OSError):
        return None
    value = meta.get("toolUseId") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None
