"""What a run's outcome was, for the learning (``learning.py``): the bucket a decision is counted in,
escalations (a later spawn of the same agent type on a similar task with an explicit model above
the earlier run's tier, within 30 minutes, marks that run failed) and the outcome events
(``outcomes.jsonl``: escalations and the user's ``feedback``) that relabel a run after its record
was written.  Standard library only (hot path).
"""

from __future__ import annotations

from model_strategy.runtime.base import clock, store
from model_strategy.runtime.base.clock import day_of, iso, parse_ts
from model_strategy.runtime.base.fastjson import jsonl
from model_strategy.runtime.base.kinds import TIERS, tier_index
from model_strategy.runtime.books import records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from model_strategy.runtime.books.ledger import Ledger
    from model_strategy.runtime.books.records import Record

EVENTS = "outcomes.jsonl"
ESCALATION_S = 1800
RECENT = 40  # spawns a session remembers for escalation matching
SEP = "\x1f"


def bucket_key(bucket: Any) -> str | None:
    if isinstance(bucket, list) and len(bucket) == 3 and all(isinstance(b, str) for b in bucket):
        return SEP.join(bucket)
    return None


def bucket_name(key: str) -> str:
    return "/".join(key.split(SEP))


# ------------------------------------------------------------------ escalation


def _norm(text: str) -> str:
    return " ".join("".join(c.lower() if c.isalnum() else " " for c in text).split())


def match_info(tool_input: dict[str, Any]) -> dict[str, Any]:
    """What a later spawn is matched against: the normalised first 60 characters of the description
    and of the prompt, and the prompt's word digests (at most 64)."""
    from zlib import crc32

    desc = _norm(str(tool_input.get("description") or ""))
    prompt = _norm(str(tool_input.get("prompt") or ""))
    words = sorted({f"{crc32(w.encode('utf-8', 'replace')) & 0xFFFFFF:06x}" for w in prompt.split()
                    if len(w) > 2})[:64]
    return {"d": desc[:60], "h": prompt[:60], "w": words}


def similar(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same normalised first 60 characters of the description or the prompt, or ≥ 60 % of the
    prompt's words in common."""
    if (a.get("d") and a.get("d") == b.get("d")) or (a.get("h") and a.get("h") == b.get("h")):
        return True
    wa, wb = set(a.get("w") or ()), set(b.get("w") or ())
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= 0.6


def escalations(ledger: Ledger, session: dict[str, Any], key: str, decision: dict[str, Any],
                match: dict[str, Any], now: datetime) -> list[str]:
    """Remember this spawn among the session's recent ones and, when it escalates an earlier run
    (same agent type, similar task, explicit model above the earlier tier, within 30 minutes), mark
    that run failed.  Inside the ledger transaction; the caller saves ``session``.  The lines to
    show."""
    mem = session.setdefault("learning", {})
    recent = mem.get("recent") if isinstance(mem.get("recent"), list) else []
    tier = tier_index(decision.get("chosen"))
    out: list[str] = []
    if decision.get("source") == "explicit" and tier is not None:
        for old in reversed(recent):
            try:
                age = (now - parse_ts(old["ts"])).total_seconds()
            except (ValueError, KeyError, TypeError):
                continue
            if age > ESCALATION_S or age < 0 or old.get("type") != decision.get("agent_type") or old.get("esc"):
                continue
            old_tier = tier_index(old.get("tier"))
            if old_tier is None or old_tier >= tier or not similar(old, match):
                continue
            old["esc"] = True
            out.append(f"escalation: {decision['agent_type']} again on {decision['chosen']} after "
                       f"{old.get('tier')}; the earlier run counts as failed on {old.get('tier')}")
            _mark_escalated(ledger, session, str(old.get("key")))
            break
    recent.append({"key": key, "ts": iso(now), "type": decision.get("agent_type"), "tier": decision.get("chosen"),
                   **match})
    mem["recent"] = recent[-RECENT:]
    return out


def _mark_escalated(ledger: Ledger, session: dict[str, Any], key: str) -> None:
    decision = session["decisions"].get(key)
    if not isinstance(decision, dict):
        return
    decision["escalated"] = True  # the record written later carries it
    agent_id = decision.get("agent_id")
    if not agent_id:
        return
    run = records.subagent_id(session["session_id"], str(agent_id))
    rec = find_record(ledger, run, str(decision.get("ts") or ""))
    if rec is not None:
        append_event(ledger, rec, "escalated", False)


def find_record(ledger: Ledger, run: str, ts: str) -> Record | None:
    """The first record of a run (id ``run``) near ``ts`` (its day, the day before and after)."""
    from datetime import date, timedelta

    try:
        day = date.fromisoformat(day_of(ts))
    except ValueError:
        return None
    for d in (day, day + timedelta(days=1), day - timedelta(days=1)):
        for _, rec in ledger.scan(d.isoformat()):
            if rec.get("id") == run:
                return rec
    return None


# ------------------------------------------------------------------ outcome events


def events_path(ledger: Ledger) -> str:
    return ledger.path(EVENTS)


def read_events(ledger: Ledger, start: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Events from byte ``start`` of ``outcomes.jsonl`` and the offset after the last whole line."""
    try:
        with open(events_path(ledger), "rb") as fh:
            fh.seek(start)
            data = fh.read()
    except FileNotFoundError:
        return [], start
    end = data.rfind(b"\n") + 1  # a last line without its newline is still being written: read it next time
    out = [obj for _, _, obj in jsonl(data[:end]) if isinstance(obj, dict) and isinstance(obj.get("run"), str)]
    return out, start + end


def counted(rec: Record | dict[str, Any]) -> tuple[str, str, str, bool] | None:
    """``(bucket key, tier, day, success)`` of a run as the learning counts it from its record, or
    None when it is not evidence (a main-thread slice, a continuation slice, a fork, no bucket, an
    outcome that says nothing of the model: denied or unknown)."""
    if rec.get("kind") != "subagent" or rec.get("continuation"):
        return None
    if rec.get("id") != f"{rec.get('session_id')}:{rec.get('agent_id')}":
        return None
    d = rec.get("decision")
    if not isinstance(d, dict):
        return None
    key = bucket_key(d.get("bucket"))
    tier = d.get("chosen")
    outcome = rec.get("outcome")
    if key is None or tier not in TIERS or outcome not in ("completed", "error", "interrupted", "truncated"):
        return None
    return key, str(tier), day_of(rec.get("ts")), outcome == "completed" and not d.get("escalated")


def greedy(d: dict[str, Any]) -> bool:
    """Whether a decision's tier is the learning policy's pick (not explored, not the caller's model,
    not moved by a budget or window policy)."""
    return d.get("source") in ("agent", "complexity") and not d.get("explored") and "p" in d


def label(ledger: Ledger, rec: Record | dict[str, Any]) -> bool | None:
    """A run's current label: its counted outcome, changed by its events (escalation, feedback)."""
    c = counted(rec)
    if c is None:
        return None
    ok: bool = c[3]
    for e in read_events(ledger)[0]:
        if e.get("run") == rec.get("id") and isinstance(e.get("to"), bool):
            ok = e["to"]
    return ok


def append_event(ledger: Ledger, rec: Record | dict[str, Any], kind: str, to: bool) -> dict[str, Any] | None:
    """Append an outcome event for a run (``escalated``/``good``/``bad``); None when the run is not
    evidence the learning counts."""
    c = counted(rec)
    if c is None:
        return None
    event = {"ts": iso(clock.now()), "kind": kind, "run": rec["id"], "bucket": c[0], "tier": c[1], "day": c[2],
             "from": label(ledger, rec), "to": to}
    store.append_jsonl(events_path(ledger), event)
    return event
