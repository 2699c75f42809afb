"""Turn a finished subagent into exactly one priced record.

Claude Code reports an agent through several hooks: PostToolUse(Agent) -- with usage of the last
API turn only, or ``async_launched`` and no usage for background spawns -- and SubagentStop, with
the agent's transcript.  Whichever arrives first with a readable transcript records the agent from
the transcript's sum; the others find it in the session state and stop.  The record is joined to
the PreToolUse decision by tool_use_id (from the hook or the agent's ``.meta.json``), else by the
prompt's digest, else by agent type.
"""

from __future__ import annotations

from decimal import Decimal

from .. import SCHEMA_VERSION
from . import budget, pricing, selector
from .archive import Archive, iso, parse_ts, utcnow
from .payload import Payload, prompt_hash
from .usage import TranscriptUsage, priced, read_transcript

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def link_async(p: Payload, archive: Archive) -> None:
    """A background spawn was launched: remember which agent id belongs to which tool_use_id."""
    agent_id = p.tool_response.get("agentId")
    if not isinstance(agent_id, str) or not p.tool_use_id:
        return
    with archive.transaction():
        data = archive.load_sessions()
        state = archive.session(data, p.session_id, p.project)
        state["links"][agent_id] = p.tool_use_id
        archive.save_sessions(data)


def _join_decision(state: dict[str, Any], agent_id: str, tool_use_id: str | None,
                   transcript: TranscriptUsage, agent_type: str) -> dict[str, Any] | None:
    decisions: dict[str, Any] = state["decisions"]
    tuid = tool_use_id or state["links"].get(agent_id)
    if tuid and tuid in decisions:
        return dict(decisions[tuid])
    used = {r.get("tool_use_id") for r in state["recorded"].values() if isinstance(r, dict)}
    free = [d for k, d in decisions.items() if k not in used]
    if transcript.first_prompt is not None:
        digest = prompt_hash(transcript.first_prompt)
        match = [d for d in free if d.get("prompt_hash") == digest]
        if match:
            return dict(match[-1])
    same_type = [d for d in free if d.get("agent_type") == agent_type]
    return dict(same_type[-1]) if len(same_type) == 1 else None


def record_agent(p: Payload, *, agent_id: str, agent_type: str, source: str,
                 archive: Archive, cfg: dict[str, Any], transcript_path: str | None,
                 duration_ms: int | None = None, tool_use_id: str | None = None) -> dict[str, Any] | None:
    """Record the agent once; returns the new record, or None if it was recorded before."""
    if not transcript_path:
        raise FileNotFoundError(f"no transcript path for agent {agent_id}")
    transcript, _ = read_transcript(transcript_path)  # parse outside the lock
    tool_use_id = tool_use_id or _meta_tool_use_id(transcript_path)
    fields, cost = priced(transcript, pricing.table(archive.warnings))

    with archive.transaction():
        data = archive.load_sessions()
        state = archive.session(data, p.session_id, p.project)
        if agent_id in state["recorded"]:
            if tool_use_id and agent_id not in state["links"]:
                state["links"][agent_id] = tool_use_id
                archive.save_sessions(data)
            return None
        decision = _join_decision(state, agent_id, tool_use_id, transcript, agent_type)
        tuid = tool_use_id or state["links"].get(agent_id) or (decision or {}).get("tool_use_id")
        requested = (decision or {}).get("chosen")
        actual = fields["model_actual"]
        mismatch = bool(requested and actual and not _same_model(requested, actual))
        now = utcnow()
        started = transcript.first_ts
        if duration_ms is None and started and transcript.last_ts:
            duration_ms = max(0, int((parse_ts(transcript.last_ts) - parse_ts(started)).total_seconds() * 1000))
        record = {
            "schema": SCHEMA_VERSION,
            "id": f"{p.session_id}:{agent_id}",
            "kind": "subagent",
            "ts": iso(now),
            "started": started,
            "session_id": p.session_id,
            "project": p.project,
            "agent_id": agent_id,
            "agent_type": agent_type or (decision or {}).get("agent_type") or "unknown",
            "tool_use_id": tuid,
            "background": (decision or {}).get("background"),
            "model_requested": requested,
            "model_mismatch": mismatch,
            "duration_ms": duration_ms,
            "decision": decision,
            "source": source,
            **fields,
        }
        archive.append_record(record)
        archive.notices += budget.add_spend(archive, cfg, now, cost)
        state["recorded"][agent_id] = {"id": record["id"], "tool_use_id": tuid, "cost_usd": record["cost_usd"]}
        state["cost_usd"] = str(Decimal(state.get("cost_usd", "0")) + cost)
        state["agents"] = state.get("agents", 0) + 1
        archive.save_sessions(data)
    return record


def _meta_tool_use_id(transcript_path: str) -> str | None:
    """Claude Code keeps ``agent-<id>.meta.json`` beside the agent transcript, with ``toolUseId``."""
    from . import store

    base = transcript_path[:-6] if transcript_path.endswith(".jsonl") else transcript_path
    try:
        meta = store.read_json(base + ".meta.json")
    except (store.StoreError, OSError):
        return None
    value = meta.get("toolUseId") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None


def _same_model(requested: str, actual: str) -> bool:
    if requested.lower() == actual.lower() or actual.lower().startswith(requested.lower()):
        return True
    return selector.tier_index(requested) == selector.tier_index(actual)
