"""What the user's agents actually did: the archives summed over a window of days.

Records are folded into buckets keyed by (use case, agent type, model, prompt-size band) with
token sums, request counts and recorded cost, so re-pricing a month of work on another model
is one calculation per bucket, not per record.  The band is where a record's average input per
request falls between the long-context tier thresholds of the catalog, so a re-priced bucket
lands on the tier its requests would have been billed at.
"""

from __future__ import annotations

from collections import deque
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from model_strategy.commands.knowledge import usecases
from model_strategy.commands.knowledge.catalog import Catalog
from model_strategy.runtime.base import kinds
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.money import rates

if TYPE_CHECKING:
    from model_strategy.runtime.books.records import ModelRow, Record

WINDOW_DAYS = 30
RECENT = 8
TOP_TIERS = kinds.TIERS[2:]  # opus, fable: more than routine work needs


class TokenSums(TypedDict):
    input: int
    output: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int


class Bucket(TokenSums):
    """Sums over records: requests, runs (``records``), recorded cost and tokens by kind."""

    requests: int
    records: int
    cost: Decimal


class AgentBucket(Bucket):
    usecase: str
    kind: str


#: a bucket's key: (use case, agent type, model, prompt-size band)
BucketKey = tuple[str, str, str, int]


class Overkill(TypedDict):
    """An agent type's runs on opus/fable below the "complex" threshold: the model rows to re-price."""

    records: int
    rows: list[tuple[str, int, ModelRow, Decimal]]  # (model, band, the record's model row, its cost)
    agent_records: int  # all runs of the agent type


class UseCaseUsage(Bucket):
    models: dict[str, int]  # requests per model
    agents: set[str]
    dominant: str  # the model that served most requests


class Summary(TypedDict):
    """The window's records summed (``summarise``)."""

    start: str
    end: str
    days: int
    days_covered: int
    records: int
    requests: int
    agents: int
    main_records: int
    days_with_records: int
    cost: Decimal
    tokens: dict[str, int]
    cache_hit_rate: Decimal | None
    buckets: dict[BucketKey, Bucket]
    by_day: dict[str, Decimal]
    by_model: dict[str, Bucket]
    by_agent: dict[str, AgentBucket]
    decision_sources: dict[str, int]
    mismatches: int
    overkill: dict[str, Overkill]
    thresholds: list[int]
    errors: list[str]
    recent: list[Record]


def band_of(per_request_input: float, thresholds: list[int]) -> int:
    return sum(1 for t in thresholds if per_request_input > t)


def band_input(band: int, thresholds: list[int]) -> int:
    """A per-request input that falls in ``band`` (selects the same tiers as any value in it)."""
    if not thresholds:
        return 0
    return thresholds[band] if band < len(thresholds) else thresholds[-1] + 1


def tier_of(model_id: str | None) -> str | None:
    idx = kinds.tier_index(model_id)
    return kinds.TIERS[idx] if idx is not None else None


def _new_bucket() -> Bucket:
    return {"requests": 0, "records": 0, "cost": Decimal(0),
            "input": 0, "output": 0, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0}


def _add(bucket: Bucket, tokens: TokenSums, requests: int, cost: Decimal, records: int = 1) -> None:
    bucket["requests"] += requests
    bucket["records"] += records
    bucket["cost"] += cost
    bucket["input"] += tokens.get("input", 0)
    bucket["output"] += tokens.get("output", 0)
    bucket["cache_read"] += tokens.get("cache_read", 0)
    bucket["cache_write_5m"] += tokens.get("cache_write_5m", 0)
    bucket["cache_write_1h"] += tokens.get("cache_write_1h", 0)


def tokens_of(sums: TokenSums) -> dict[str, int]:
    """Token sums by kind (``TOKEN_KINDS`` order)."""
    return {"input": sums["input"], "output": sums["output"], "cache_read": sums["cache_read"],
            "cache_write_5m": sums["cache_write_5m"], "cache_write_1h": sums["cache_write_1h"]}


def summarise(archive: Ledger, catalog: Catalog, today: date, days: int = WINDOW_DAYS,
              complex_from: float = 0.7) -> Summary:
    """The last ``days`` days (UTC, ending ``today``) of records."""
    start = today - timedelta(days=days - 1)
    thresholds = catalog.tier_thresholds(today.isoformat())
    errors: list[str] = []
    buckets: dict[BucketKey, Bucket] = {}
    by_day: dict[str, Decimal] = {}
    by_model: dict[str, Bucket] = {}
    by_agent: dict[str, AgentBucket] = {}
    sources: dict[str, int] = {}
    overkill: dict[str, Overkill] = {}
    total = _new_bucket()
    mismatches = 0
    kinds: dict[str, int] = {}
    first: str | None = None
    recent: deque[Record] = deque(maxlen=RECENT)
    uc_cache: dict[tuple[str, str], str] = {}
    for rec in archive.iter_records(start, today, errors):
        try:
            cost = Decimal(rec["cost_usd"] or "0")
            agent, kind, day = str(rec["agent_type"]), str(rec["kind"]), str(rec["ts"])[:10]
            models = rec["models"]
        except (KeyError, ArithmeticError, TypeError):
            errors.append(f"record {rec.get('id', '?')}: missing fields, skipped")
            continue
        key = (agent, kind)
        if key not in uc_cache:
            uc_cache[key] = usecases.for_agent(agent, kind, catalog.usecases)
        uc = uc_cache[key]
        run = 0 if rec.get("continuation") is True else 1  # a continuation slice is not another run
        kinds[kind] = kinds.get(kind, 0) + run
        first = day if first is None or day < first else first
        by_day[day] = by_day.get(day, Decimal(0)) + cost
        _add(total, rec["tokens"], rec.get("requests", 0), cost, run)
        _add(by_agent.setdefault(agent, {**_new_bucket(), "usecase": uc, "kind": kind}),
             rec["tokens"], rec.get("requests", 0), cost, run)
        decision = rec.get("decision") or None
        if decision and run:
            src = str(decision.get("source", "?"))
            sources[src] = sources.get(src, 0) + 1
        if rec.get("model_mismatch") and run:
            mismatches += 1
        for model_id, row in models.items():
            row_cost = Decimal(row.get("cost_usd") or "0")
            n = max(int(row.get("requests", 0)), 1)
            per_req = (row.get("input", 0) + row.get("cache_read", 0) + row.get("cache_write_5m", 0)
                       + row.get("cache_write_1h", 0)) / n
            b = band_of(per_req, thresholds)
            row_requests = row.get("requests", 0)
            _add(buckets.setdefault((uc, agent, model_id, b), _new_bucket()), row, row_requests, row_cost, run)
            _add(by_model.setdefault(model_id, _new_bucket()), row, row_requests, row_cost, run)
            if (decision and kind == "subagent" and tier_of(model_id) in TOP_TIERS
                    and float(decision.get("complexity", 1)) < complex_from):
                over = overkill.setdefault(agent, {"records": 0, "rows": [], "agent_records": 0})
                over["records"] += run
                over["rows"].append((model_id, b, row, row_cost))
        recent.append(rec)
    for agent, over in overkill.items():
        over["agent_records"] = by_agent[agent]["records"]
    covered = 0 if first is None else (today - date.fromisoformat(first)).days + 1
    cacheable = total["input"] + total["cache_read"] + total["cache_write_5m"] + total["cache_write_1h"]
    return {
        "start": start.isoformat(), "end": today.isoformat(), "days": days,
        "days_covered": min(covered, days), "records": total["records"], "requests": total["requests"],
        "agents": kinds.get("subagent", 0), "main_records": kinds.get("main", 0), "days_with_records": len(by_day),
        "cost": total["cost"], "tokens": tokens_of(total),
        "cache_hit_rate": (Decimal(total["cache_read"]) / cacheable) if cacheable else None,
        "buckets": buckets, "by_day": dict(sorted(by_day.items())), "by_model": by_model,
        "by_agent": by_agent, "decision_sources": sources, "mismatches": mismatches,
        "overkill": overkill, "thresholds": thresholds, "errors": errors,
        "recent": sorted(recent, key=lambda r: str(r["ts"])),
    }


def scale_to_month(summary: Summary) -> Decimal:
    """Factor that turns the window's sums into a 30-day month (short histories are scaled up)."""
    covered = summary["days_covered"]
    return Decimal(30) / Decimal(covered) if covered else Decimal(0)


def reprice(summary: Summary, catalog: Catalog, target: str, day: str,
            keys: list[BucketKey] | None = None) -> Decimal:
    """What the window's work (or the buckets ``keys``) would cost on ``target`` at ``day``'s list
    prices -- same token counts, same cache pattern."""
    prices = catalog.prices(target, day)
    out = Decimal(0)
    for key in keys if keys is not None else list(summary["buckets"]):
        bucket = summary["buckets"][key]
        out += rates.cost(prices, bucket, band_input(key[3], summary["thresholds"]))
    return out


def reprice_rows(rows: list[tuple[str, int, ModelRow, Decimal]], catalog: Catalog, target: str,
                 day: str, thresholds: list[int]) -> Decimal:
    prices = catalog.prices(target, day)
    return sum((rates.cost(prices, row, band_input(b, thresholds)) for _, b, row, _ in rows), Decimal(0))


def by_usecase(summary: Summary) -> dict[str, UseCaseUsage]:
    """Per use case: recorded cost, requests, records, token sums and the model mix (requests per
    model, and the dominant model: the one that served most requests)."""
    out: dict[str, UseCaseUsage] = {}
    for (uc, _agent, model_id, _band), b in summary["buckets"].items():
        row = out.setdefault(uc, {**_new_bucket(), "models": {}, "agents": set(), "dominant": ""})
        _add(row, b, b["requests"], b["cost"], b["records"])
        row["models"][model_id] = row["models"].get(model_id, 0) + b["requests"]
        row["agents"].add(_agent)
    for row in out.values():
        row["dominant"] = max(row["models"], key=lambda m: (row["models"][m], m))
    return out


def monthly_history(archive: Ledger, today: date, months: int = 6) -> list[tuple[str, Decimal, int]]:
    """(YYYY-MM, cost, records) from the monthly roll-ups, oldest first."""
    out = []
    y, m = today.year, today.month
    keys = []
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    for key in reversed(keys):
        data = archive.monthly(key)
        total = (data or {}).get("total") or {}
        out.append((key, Decimal(total.get("cost_usd", "0")), int(total.get("records", 0))))
    return out
