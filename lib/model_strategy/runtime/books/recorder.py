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

from model_strategy.runtime.base import clock, store
from model_strategy.runtime.base.clock import day_of, iso, parse_ts, utc_iso
from model_strategy.runtime.base.faults import crash_point
from model_strategy.runtime.base.payload import Payload, prompt_hash, unframe

from . import records
from .usage import TranscriptUsage, read_transcript

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from model_strategy.runtime.money.pricing import PriceTable

    from .journal import Journal
    from .records import Record, Request


def _prices(ledger: Journal) -> PriceTable:
    """The price table (``pricing.table``), loaded when a request is priced: a hook with nothing new to
    record imports neither it nor ``decimal`` (~3 ms)."""
    from model_strategy.runtime.money import pricing

    return pricing.table(ledger.warnings)


def link_async(p: Payload, ledger: Journal) -> None:
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
                   agent_type: str, in_workflow: bool = False) -> dict[str, Any] | None:
    """The decision an agent ran under: by tool_use_id, else by its prompt's digest, else (one
    decision of its type left) by type.  A workflow's agent (no tool_use_id of its own) joins its
    ``agent()`` call by the digest, else its workflow's rule for computed prompts (``shared``)."""
    decisions: dict[str, Any] = state["decisions"]
    tuid = tool_use_id or state["links"].get(agent_id)
    if tuid and tuid in decisions:
        return dict(decisions[tuid])
    free = [d for d in decisions.values() if not d.get("agent_id") and not d.get("shared")
            and bool(d.get("workflow")) == in_workflow]
    if digest:
        match = [d for d in free if d.get("prompt_hash") == digest]
        if match:
            return dict(match[-1])
    if in_workflow:
        rules: list[dict[str, Any]] = [d for d in decisions.values() if d.get("shared")]
        rule = [d for d in rules if d.get("agent_type") == agent_type] or [
            d for d in rules if str(d.get("tool_use_id", "")).endswith("#*")]
        latest: dict[str, Any] | None = max(rule, key=lambda d: str(d.get("ts"))) if rule else None
        return dict(latest) if latest is not None else None
    same_type = [d for d in free if d.get("agent_type") == agent_type]
    return dict(same_type[-1]) if len(same_type) == 1 else None


def pending_agent(p: Payload, *, agent_id: str, agent_type: str, source: str, transcript_path: str | None,
                  duration_ms: int | None = None, tool_use_id: str | None = None,
                  warnings: list[str] | None = None, keys: bool = False,
                  transcript: TranscriptUsage | None = None) -> dict[str, Any]:
    """Read an agent's transcript (outside the lock): everything a record needs but the join with
    its decision and the choice of requests not yet in the ledger (``commit_agent``, under the
    lock).  Raises FileNotFoundError when there is no transcript yet.  ``keys`` adds the
    transcript's unreadable line count (history import); ``transcript``: its usage, read already."""
    if not transcript_path:
        raise FileNotFoundError(f"no transcript path for agent {agent_id}")
    if transcript is None:
        transcript, _ = read_transcript(transcript_path)
    requests = transcript.request_list()
    for req in requests:
        req["ts"] = utc_iso(req["ts"])
    extra = {"bad_lines": transcript.bad_lines} if keys else {}
    started = transcript.first_ts
    if duration_ms is None and started and transcript.last_ts:
        try:
            duration_ms = max(0, int((parse_ts(transcript.last_ts) - parse_ts(started)).total_seconds() * 1000))
        except ValueError:
            duration_ms = None
    return {
        "session_id": p.session_id, "project": p.project, "agent_id": agent_id, "agent_type": agent_type,
        "source": source, "tool_use_id": tool_use_id or _meta_tool_use_id(transcript_path),
        "ts": utc_iso(started) or iso(clock.now()), "duration_ms": duration_ms, "requests": requests,
        "request_keys": [r["key"] for r in requests],
        "first_prompt_hash": prompt_hash(unframe(transcript.first_prompt))
        if transcript.first_prompt is not None else None,
        "in_workflow": _in_workflow(transcript_path),
        "outcome": transcript.outcome(), **extra,
    }


def agent_slice(ledger: Journal, pending: dict[str, Any]) -> tuple[str, str, list[Any], bool] | None:
    """What of an agent's transcript the ledger lacks (inside a transaction): ``(record id, ts,
    requests, continuation)``, or None when it holds all of it.  The first slice of an agent is
    ``<session>:<agent id>`` (filed by the agent's first entry); requests that come later -- a
    ``SendMessage`` continuation, an agent still running when first recorded -- make continuation
    slices ``<session>:<agent id>:<first new request key>``.  A request the ledger holds already
    (a fork's copy of its parent's response, a resumed agent's earlier turns) is never counted
    again.  A schema-2 agent record without ``request_keys`` counted its transcript's first
    ``requests`` requests."""
    requests: list[Any] = pending["requests"]
    base_id = records.subagent_id(pending["session_id"], pending["agent_id"])
    base_day = day_of(pending["ts"])
    stored = ledger.stored_keys(r["key"] for r in requests)
    fresh = [r for r in requests if r["key"] not in stored]
    base = ledger.has_id(base_day, base_id)
    if base and fresh:
        prior = ledger.find_record(base_day, base_id)
        if prior is not None and not prior.get("request_keys"):
            counted = {r["key"] for r in requests[:int(prior.get("requests") or 0)]}
            fresh = [r for r in fresh if r["key"] not in counted]
    if not fresh:
        return None
    if not base:
        return base_id, pending["ts"], fresh, False
    ts = min((r["ts"] for r in fresh if r["ts"]), default=None) or iso(clock.now())
    return records.subagent_id(pending["session_id"], f"{pending['agent_id']}:{fresh[0]['key']}"), ts, fresh, True


def commit_agent(ledger: Journal, pending: dict[str, Any], state: dict[str, Any] | None = None) -> Record | None:
    """Join, build and commit what of a pending agent the ledger lacks (inside a transaction): its
    first record, or a continuation slice.  None when the ledger holds all of it.  With ``state``
    (the session's, held by the caller) the caller saves it."""
    own = state is None
    if state is None:
        state = ledger.session(pending["session_id"], pending.get("project"))
    agent_id = pending["agent_id"]
    tuid = pending.get("tool_use_id")
    if tuid and agent_id not in state["links"]:
        state["links"][agent_id] = tuid
    if "requests" not in pending:  # parked by an older version: its usage was priced then
        record_id, ts, usage, continuation = (records.subagent_id(pending["session_id"], agent_id), pending["ts"],
                                              pending["usage"], False)
        keys: list[str] = []
        if ledger.has_id(day_of(ts), record_id):
            state["recorded"].setdefault(agent_id, record_id)
            if own:
                ledger.save_session(state)
            return None
    else:
        commit_corrections(ledger, pending["requests"], session_id=pending["session_id"],
                           project=pending.get("project"), agent_id=agent_id,
                           agent_type=pending["agent_type"] or "unknown", source=pending["source"])
        part = agent_slice(ledger, pending)  # the ledger decides (the session's list is a cache)
        if part is None:
            state["recorded"].setdefault(agent_id, records.subagent_id(pending["session_id"], agent_id))
            if own:
                ledger.save_session(state)
            return None
        record_id, ts, fresh, continuation = part
        usage = records.priced_usage(fresh, _prices(ledger))
        keys = [r["key"] for r in fresh]
    decision = _join_decision(state, agent_id, tuid, pending.get("first_prompt_hash"), pending["agent_type"],
                              bool(pending.get("in_workflow")))
    tuid = tuid or state["links"].get(agent_id) or (decision or {}).get("workflow") \
        or (decision or {}).get("tool_use_id")
    rec = records.build(
        kind="subagent", record_id=record_id, ts=ts, recorded_at=iso(clock.now()),
        session_id=pending["session_id"], project=pending.get("project"), usage=usage,
        agent_id=agent_id, agent_type=pending["agent_type"] or (decision or {}).get("agent_type") or "unknown",
        tool_use_id=tuid, background=(decision or {}).get("background"),
        model_requested=None if (decision or {}).get("source") == "fork" else (decision or {}).get("chosen"),
        duration_ms=None if continuation else pending.get("duration_ms"),
        decision=decision, source=pending["source"], outcome=pending.get("outcome"), request_keys=keys,
        continuation=continuation, partial=records.partial_counts(fresh) if "requests" in pending else None)
    written = ledger.commit(rec)
    crash_point("before-session-save")
    state["recorded"].setdefault(agent_id, records.subagent_id(pending["session_id"], agent_id))
    if decision and not decision.get("shared") and decision.get("tool_use_id") in state["decisions"]:
        state["decisions"][decision["tool_use_id"]]["agent_id"] = agent_id
    if own:
        ledger.save_session(state)
    return rec if written else None


def record_agent(p: Payload, *, agent_id: str, agent_type: str, source: str, ledger: Journal,
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


def apply_spooled(ledger: Journal, kind: str, payload: dict[str, Any]) -> None:
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


def ingest_main(ledger: Journal, state: dict[str, Any], transcript_path: str, source: str) -> list[Record]:
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


def _commit_main(ledger: Journal, session_id: str, project: str | None, usage: TranscriptUsage,
                 source: str, agent_id: str | None = None, agent_type: str = "sidechain") -> list[Record]:
    """Commit a transcript's requests not yet in the ledger, one record per UTC day.  With
    ``agent_id``: sidechain requests found in a main transcript (older client layouts), recorded as
    subagent slices ``<session>:<agent id>:<first key>`` that dedupe by request key the same way."""
    by_day: dict[str, list[Any]] = {}
    for req in usage.request_list():
        req["ts"] = utc_iso(req["ts"])
        by_day.setdefault(day_of(req["ts"]), []).append(req)
    out = []
    now = iso(clock.now())
    for _day, reqs in sorted(by_day.items()):
        stored = ledger.stored_keys(r["key"] for r in reqs)  # ledger-wide: any day, any archive
        fresh = [r for r in reqs if r["key"] not in stored]
        out += commit_corrections(ledger, [r for r in reqs if r["key"] in stored], session_id=session_id,
                                  project=project, agent_id=agent_id, agent_type=agent_type, source=source)
        if not fresh:
            continue
        priced = records.priced_usage(fresh, _prices(ledger))
        ts = min((r["ts"] for r in fresh if r["ts"]), default=None) or now
        keys = [r["key"] for r in fresh]
        if agent_id is None:
            rec = records.build(kind="main", record_id=records.main_id(session_id, keys[0]), ts=ts,
                                recorded_at=now, session_id=session_id, project=project, usage=priced,
                                source=source, request_keys=keys, partial=records.partial_counts(fresh))
        else:
            rec = records.build(kind="subagent", record_id=records.subagent_id(session_id, f"{agent_id}:{keys[0]}"),
                                ts=ts, recorded_at=now, session_id=session_id, project=project, usage=priced,
                                agent_id=agent_id, agent_type=agent_type, source=source, request_keys=keys,
                                partial=records.partial_counts(fresh))
        if ledger.commit(rec):
            out.append(rec)
    return out


def commit_corrections(ledger: Journal, requests: list[Any], *, session_id: str, project: str | None,
                       agent_id: str | None, agent_type: str, source: str) -> list[Record]:
    """Requests the ledger holds with counts read while they streamed, now read larger: a correction
    slice each (inside a transaction) with the difference -- of each kind only what grew (never
    lower), once per count reached (``correction_id``; the index keeps the largest counts)."""
    out: list[Record] = []
    table = None
    for req in requests:
        old = ledger.stored_counts(req["key"])
        if old is None:
            continue  # the ledger holds its complete counts (or not the request)
        mine = records.counts(req["tokens"])
        if len(old) != len(mine) or not any(n > o for n, o in zip(mine, old, strict=True)):
            continue
        now = [max(n, o) for n, o in zip(mine, old, strict=True)]
        table = table or _prices(ledger)
        grown = records.priced_usage([_with_tokens(req, now)], table)
        was = records.priced_usage([_with_tokens(req, old)], table)
        who = agent_id or "main"
        rec = records.build(
            kind="main" if agent_id is None else "subagent",
            record_id=records.correction_id(session_id, who, req["key"], now), ts=req["ts"] or iso(clock.now()),
            recorded_at=iso(clock.now()), session_id=session_id, project=project,
            usage=records.delta_usage(grown, was), agent_id=who, agent_type="main-thread" if agent_id is None
            else agent_type, source=source, continuation=True, corrects={req["key"]: now})
        if ledger.commit(rec):
            out.append(rec)
    return out


def _with_tokens(req: Request, values: list[int]) -> Request:
    from model_strategy.runtime.base.kinds import RECORD_KINDS

    tokens: Any = dict(zip(RECORD_KINDS, values, strict=True))
    return {"key": req["key"], "model": req["model"], "ts": req["ts"], "tokens": tokens}


def _in_workflow(transcript_path: str) -> bool:
    """Claude Code keeps a Workflow's agents under ``<session>/subagents/workflows/<run id>/``."""
    import os

    parent = os.path.dirname(os.path.dirname(transcript_path))
    return os.path.basename(parent) == "workflows"


def _meta_tool_use_id(transcript_path: str) -> str | None:
    """Claude Code keeps ``agent-<id>.meta.json`` beside the agent transcript, with ``toolUseId``."""
    value = _read_meta(transcript_path).get("toolUseId")
    return value if isinstance(value, str) and value else None


# ------------------------------------------------------------------ reconciliation from the transcripts

RECONCILE_BYTES = 16 << 20  # agent transcript bytes one hook call reads at most (the rest: next call)
WORKFLOW_RUNNING = "<workflow>"  # in ``running``: a workflow still runs (its agents' SubagentStop records them)


def agent_transcripts(transcript_path: str) -> list[str]:
    """A session's agent transcripts: ``<session>/subagents/**/agent-*.jsonl`` (workflow agents sit in
    ``subagents/workflows/<run>/``), sorted."""
    import os

    base = transcript_path[:-6] if transcript_path.endswith(".jsonl") else transcript_path
    top = os.path.join(base, "subagents")
    out: list[str] = []
    for folder, dirs, files in os.walk(top):
        if folder.count(os.sep) - top.count(os.sep) >= 3:
            dirs[:] = []
        out += [os.path.join(folder, f) for f in files if f.startswith("agent-") and f.endswith(".jsonl")]
    return sorted(out)


def reconcile(ledger: Journal, state: dict[str, Any], transcript_path: str, source: str,
              running: frozenset[str] = frozenset(), budget: int = RECONCILE_BYTES) -> list[Record]:
    """Record what the session's transcripts hold and the ledger lacks (inside a transaction; the
    caller saves ``state``): the main thread from its read offset, and every agent transcript that
    grew since it was last reconciled (``state["agents"]``: path -> size), up to ``budget`` bytes of
    agent transcripts per call.  Agents in ``running`` (a Stop's running background tasks) are left to
    their SubagentStop, and so are workflow agents while ``running`` holds ``WORKFLOW_RUNNING``.  A lost or
    timed-out hook thus loses nothing."""
    import os

    out = ingest_main(ledger, state, transcript_path, source) if transcript_path else []
    if not transcript_path:
        return out
    seen = state.get("agents")
    if not isinstance(seen, dict):
        seen = state["agents"] = {}
    for path in agent_transcripts(transcript_path):
        agent_id = os.path.basename(path)[6:-6]
        if agent_id in running or (WORKFLOW_RUNNING in running and f"{os.sep}workflows{os.sep}" in path):
            continue
        try:
            size = os.path.getsize(path)
        except OSError:
            continue
        if seen.get(path) == size:
            continue
        if size > budget:
            break
        budget -= size
        meta = _read_meta(path)
        p = Payload({"session_id": state["session_id"], "cwd": state.get("project")})
        try:
            pending = pending_agent(p, agent_id=agent_id, agent_type=str(meta.get("agentType") or ""),
                                    source=source, transcript_path=path, warnings=ledger.warnings)
        except (OSError, ValueError, OverflowError):
            continue
        pending["project"] = state.get("project")
        rec = commit_agent(ledger, pending, state)
        if rec is not None:
            out.append(rec)
        seen[path] = size
    return out


def describe(recs: list[Record], what: str) -> str | None:
    """One line saying what a reconciliation wrote (None: nothing)."""
    if not recs:
        return None
    from decimal import Decimal

    agents = sorted({r["agent_id"] for r in recs if r["kind"] == "subagent"})
    main = sum(r["requests"] for r in recs if r["kind"] == "main")
    parts = []
    if agents:
        parts.append(f"{sum(r['requests'] for r in recs if r['kind'] == 'subagent')} request(s) of "
                     f"{len(agents)} agent(s)")
    if main:
        parts.append(f"{main} main-thread request(s)")
    cost = sum((records.cost(r) for r in recs), Decimal(0))
    return f"{what}: recorded {' and '.join(parts)} (${cost:.4f})"


def _read_meta(transcript_path: str) -> dict[str, Any]:
    base = transcript_path[:-6] if transcript_path.endswith(".jsonl") else transcript_path
    try:
        meta = store.read_json(base + ".meta.json")
    except (store.StoreError, OSError):
        return {}
    return meta if isinstance(meta, dict) else {}
