"""The ledger record: its type, its id, and the one builder every writer uses.

A record is one agent run (``kind: "subagent"``) or one slice of a session's main thread
(``kind: "main"``).  Its ``id`` is stable -- ``<session>:<agent id>`` for an agent,
``<session>:main:<first request key>`` for a main-thread slice -- so writing it twice is a no-op
(``ledger.Ledger.commit``).  Records list the keys of the API requests they hold (``request_keys``:
a digest of message id + request id), and the ledger holds each key once (a ledger-wide index), so
a request is never counted twice even when the slices are cut differently (a transcript re-read
from its start, a history import, a fork's copy of its parent's response, two UTC days).  An agent
that makes requests after it was recorded (continued with ``SendMessage``, still running when
recorded) gets continuation slices ``<session>:<agent id>:<first new key>`` marked
``continuation: true``: their spend counts, they are not another run.

Money is a ``Decimal`` serialised as a string.  Requests on a model no price is known for are
recorded with their tokens and counted in ``unpriced_requests`` (their models row says
``"priced": false``); a request with an absurd token count is clamped and flagged, and never
priced.  Standard library only (hot path).
"""

from __future__ import annotations

from model_strategy import SCHEMA_VERSION
from model_strategy.runtime.base.kinds import MAX_TOKENS_PER_REQUEST, RECORD_KINDS
from model_strategy.runtime.money.amount import amount

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from decimal import Decimal
    from typing import Any, Literal, NotRequired, TypedDict

    class Tokens(TypedDict):
        input: int
        output: int
        cache_read: int
        cache_write_5m: int
        cache_write_1h: int
        web_search: int

    class Request(TypedDict):
        """One API request found in a transcript."""
        key: str  # request_key(message id, request id)
        model: str
        ts: str | None
        tokens: Tokens
        final: NotRequired[bool]  # an entry with a stop_reason was seen (its counts are complete)
        bad_timestamp: NotRequired[bool]  # its own stamp was unusable: the time is a neighbour's

    class ModelRow(Tokens):
        requests: int
        cost_usd: str | None  # None: not priced
        priced: bool

    class Record(TypedDict):
        schema: int
        id: str
        kind: Literal["subagent", "main"]
        ts: str  # when the usage happened (first request / the agent's first entry), UTC ISO
        recorded_at: str
        session_id: str
        project: str | None
        agent_id: str
        agent_type: str
        tool_use_id: str | None
        background: bool | None
        model_requested: str | None
        model_actual: str | None
        model_mismatch: bool
        tokens: Tokens
        requests: int
        cost_usd: str  # the priced part
        unpriced_requests: int
        models: dict[str, ModelRow]
        duration_ms: int | None
        decision: dict[str, Any] | None
        source: str  # SubagentStop | PostToolUse | Stop | PreToolUse | SessionStart | doctor | import
        outcome: str | None  # completed | error | interrupted | denied | None (unknown)
        request_keys: list[str]
        flags: list[str]
        price_source: str
        continuation: NotRequired[bool]  # a later slice of an agent recorded before (not a new run)
        partial: NotRequired[dict[str, list[int]]]  # key -> counts (RECORD_KINDS order) of requests not final
        corrects: NotRequired[dict[str, list[int]]]  # a correction: key -> the request's counts now

    class Usage(TypedDict):
        """The usage part of a record (``priced_usage``, ``delta_usage``)."""
        model_actual: str | None
        tokens: Tokens
        requests: int
        cost_usd: str
        unpriced_requests: int
        models: dict[str, ModelRow]
        flags: list[str]
        price_source: str

SCHEMA = SCHEMA_VERSION
SCHEMA_V1 = 1

try:  # hashlib loads OpenSSL (~5 ms); the builtin module is enough for short digests
    from _sha256 import sha256  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import sha256


def request_key(message_id: str, request_id: str) -> str:
    """A short stable digest of one API response (message id + request id)."""
    digest: str = sha256(f"{message_id}\x1f{request_id}".encode("utf-8", "replace")).hexdigest()
    return digest[:20]


def subagent_id(session_id: str, agent_id: str) -> str:
    return f"{session_id}:{agent_id}"


def main_id(session_id: str, first_key: str) -> str:
    return f"{session_id}:main:{first_key}"


def correction_id(session_id: str, who: str, key: str, now: list[int]) -> str:
    """A correction's id: one per request and counts reached (writing it twice is a no-op)."""
    return f"{session_id}:{who}:fix:{key}:{request_key(key, ','.join(map(str, now)))[:10]}"


def zero_tokens() -> Tokens:
    return {"input": 0, "output": 0, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0, "web_search": 0}


def clamp(tokens: Tokens) -> bool:
    """Clamp absurd counts in place; True when any was clamped."""
    clamped = False
    for kind in RECORD_KINDS:
        if tokens[kind] > MAX_TOKENS_PER_REQUEST:  # type: ignore[literal-required]
            tokens[kind] = MAX_TOKENS_PER_REQUEST  # type: ignore[literal-required]
            clamped = True
    return clamped


def priced_usage(requests: Iterable[Request], table: Any) -> Usage:
    """The usage part of a record: tokens, requests, cost of the priced requests, unpriced count,
    per-model rows, the model that ran most, flags.  Each request is priced on its own (so
    long-context tiers apply per request, as the API bills them)."""
    from model_strategy.runtime.money.pricing import UnknownModel

    total = zero_tokens()
    models: dict[str, ModelRow] = {}
    costs: dict[str, Decimal] = {}
    cost = amount(0)
    n = unpriced = 0
    flags: list[str] = []
    for req in requests:
        tokens = req["tokens"]
        absurd = clamp(tokens)
        if req.get("bad_timestamp") and "bad_timestamp" not in flags:  # its time came from a neighbour
            flags.append("bad_timestamp")
        row = models.get(req["model"])
        if row is None:
            row = models[req["model"]] = {**zero_tokens(), "requests": 0, "cost_usd": None,
                                          "priced": True}
        n += 1
        row["requests"] += 1
        for kind in RECORD_KINDS:
            row[kind] += tokens[kind]  # type: ignore[literal-required]
            total[kind] += tokens[kind]  # type: ignore[literal-required]
        price: Decimal | None = None
        if absurd:
            if "clamped_tokens" not in flags:
                flags.append("clamped_tokens")
        else:
            try:
                price = table.price_request(req["model"], tokens, req["ts"])
            except UnknownModel:
                price = None
        if price is None:
            unpriced += 1
            row["priced"] = False
        else:
            cost += price
            costs[req["model"]] = costs.get(req["model"], amount(0)) + price
    for name, row in models.items():
        row["cost_usd"] = str(costs[name]) if name in costs else None
    if unpriced:
        flags.append("unpriced")
    return {
        "model_actual": max(models, key=lambda m: models[m]["requests"]) if models else None,
        "tokens": total, "requests": n, "cost_usd": str(cost), "unpriced_requests": unpriced,
        "models": models, "flags": flags, "price_source": table.version,
    }


def build(*, kind: str, record_id: str, ts: str, recorded_at: str, session_id: str, project: str | None,
          usage: Usage, agent_id: str = "main", agent_type: str = "main-thread",
          tool_use_id: str | None = None, background: bool | None = None, model_requested: str | None = None,
          duration_ms: int | None = None, decision: dict[str, Any] | None = None, source: str = "Stop",
          outcome: str | None = None, request_keys: list[str] | None = None,
          continuation: bool = False, partial: dict[str, list[int]] | None = None,
          corrects: dict[str, list[int]] | None = None) -> Record:
    """The one record builder.  ``usage`` comes from ``priced_usage``.  ``continuation`` marks a
    later slice of an agent that has a record already (its requests count, its run does not)."""
    from model_strategy.runtime.base.kinds import tier_index

    actual = usage["model_actual"]
    mismatch = bool(model_requested and actual and not (
        actual.lower().startswith(model_requested.lower()) or model_requested.lower() == actual.lower()
        or tier_index(model_requested) == tier_index(actual)))
    rec: Record = {
        "schema": SCHEMA, "id": record_id, "kind": kind, "ts": ts,  # type: ignore[typeddict-item]
        "recorded_at": recorded_at, "session_id": session_id, "project": project, "agent_id": agent_id,
        "agent_type": agent_type, "tool_use_id": tool_use_id, "background": background,
        "model_requested": model_requested, "model_actual": actual, "model_mismatch": mismatch,
        "tokens": usage["tokens"], "requests": usage["requests"], "cost_usd": usage["cost_usd"],
        "unpriced_requests": usage["unpriced_requests"], "models": usage["models"], "duration_ms": duration_ms,
        "decision": decision, "source": source, "outcome": outcome, "request_keys": list(request_keys or ()),
        "flags": list(usage["flags"]), "price_source": usage["price_source"],
    }
    if continuation:
        rec["continuation"] = True
    if partial:
        rec["partial"] = partial
    if corrects:
        rec["corrects"] = corrects
    return rec


def delta_usage(now: Usage, was: Usage) -> Usage:
    """The usage a correction adds: ``priced_usage`` of a request's counts now minus of those stored
    (no request: it is counted already)."""
    tokens = zero_tokens()
    for kind in RECORD_KINDS:
        tokens[kind] = now["tokens"][kind] - was["tokens"][kind]  # type: ignore[literal-required]
    models: dict[str, ModelRow] = {}
    for name, row in now["models"].items():
        old = was["models"].get(name)
        delta: ModelRow = {**zero_tokens(), "requests": 0, "priced": row["priced"],
                           "cost_usd": None if row["cost_usd"] is None else
                           str(max(amount(0), amount(row["cost_usd"]) - amount((old and old["cost_usd"]) or "0")))}
        for kind in RECORD_KINDS:
            delta[kind] = row[kind] - (int(old[kind]) if old else 0)  # type: ignore[literal-required]
        models[name] = delta
    return {"model_actual": now["model_actual"], "tokens": tokens, "requests": 0,
            "cost_usd": str(max(amount(0), amount(now["cost_usd"]) - amount(was["cost_usd"]))),  # never lower
            "unpriced_requests": 0,
            "models": models, "flags": [f for f in now["flags"] if f != "unpriced"],
            "price_source": now["price_source"]}


def counts(tokens: Tokens) -> list[int]:
    """A request's token counts as a list in ``RECORD_KINDS`` order (``partial``/``corrects``)."""
    return [int(tokens[k]) for k in RECORD_KINDS]  # type: ignore[literal-required]


def partial_counts(requests: Iterable[Request]) -> dict[str, list[int]]:
    """The counts of the requests whose response was still streaming when read (they may grow)."""
    return {r["key"]: counts(r["tokens"]) for r in requests if r.get("final", True) is False}


def is_continuation(rec: Record | dict[str, Any]) -> bool:
    """A later slice of an agent recorded before: its spend counts, it is not another run."""
    return rec.get("continuation") is True


def upgrade(rec: dict[str, Any]) -> Record | None:
    """A record of any known schema in the current form (None: not a record we understand).
    Schema 1 (the first release) lacks ``recorded_at``, ``unpriced_requests``, ``outcome``,
    ``request_keys`` and ``flags``; its ids are kept as they are."""
    schema = rec.get("schema")
    if schema == SCHEMA:
        return rec  # type: ignore[return-value]
    if schema != SCHEMA_V1 or not isinstance(rec.get("id"), str):
        return None
    out = dict(rec)
    out["schema"] = SCHEMA
    out.setdefault("recorded_at", rec.get("ts"))
    out.setdefault("unpriced_requests", 0)
    out.setdefault("outcome", None)
    out.setdefault("request_keys", [])
    out.setdefault("flags", [])
    if rec.get("kind") == "subagent" and isinstance(rec.get("started"), str):
        out["ts"] = rec["started"]  # v2: ts is when the usage happened
    out.pop("started", None)
    for row in (out.get("models") or {}).values():
        if isinstance(row, dict):
            row.setdefault("priced", True)
    return out  # type: ignore[return-value]


def cost(rec: Record | dict[str, Any]) -> Decimal:
    return amount(rec.get("cost_usd") or "0")
