"""What the user's agents actually did: the archives summed over a window of days.

Records are folded into buckets keyed by (use case, agent type, model, prompt-size band) with
token sums, request counts and recorded cost, so re-pricing a month of work on another model
is one calculation per bucket, not per record.  The band is where a record's average input per
request falls between the long-context tier thresholds of the catalog, so a re-priced bucket
lands on the tier its requests would have been billed at.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from model_strategy.commands.knowledge import usecases
from model_strategy.commands.knowledge.catalog import Catalog
from model_strategy.runtime.base import kinds
from model_strategy.runtime.base.kinds import TOKEN_KINDS
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.money import rates

WINDOW_DAYS = 30
RECENT = 8
TOP_TIERS = kinds.TIERS[2:]  # opus, fable: more than routine work needs


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


def _new_bucket() -> dict[str, Any]:
    return {"requests": 0, "records": 0, "cost": Decimal(0), **dict.fromkeys(TOKEN_KINDS, 0)}


def _add(bucket: dict[str, Any], row: dict[str, Any], cost: Decimal, records: int = 1) -> None:
    bucket["requests"] += row.get("requests", 0)
    bucket["records"] += records
    bucket["cost"] += cost
    for kind in TOKEN_KINDS:
        bucket[kind] += row.get(kind, 0)


def summarise(archive: Ledger, catalog: Catalog, today: date, days: int = WINDOW_DAYS,
              complex_from: float = 0.7) -> dict[str, Any]:
    """The last ``days`` days (UTC, ending ``today``) of records."""
    start = today - timedelta(days=days - 1)
    thresholds = catalog.tier_thresholds(today.isoformat())
    errors: list[str] = []
    buckets: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    by_day: dict[str, Decimal] = {}
    by_model: dict[str, dict[str, Any]] = {}
    by_agent: dict[str, dict[str, Any]] = {}
    sources: dict[str, int] = {}
    overkill: dict[str, dict[str, Any]] = {}
    total = _new_bucket()
    mismatches = 0
    kinds: dict[str, int] = {}
    first: str | None = None
    recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
    uc_cache: dict[tuple[str, str], str] = {}
    for rec in cast("Iterator[dict[str, Any]]", archive.iter_records(start, today, errors)):
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
        _add(total, {**rec["tokens"], "requests": rec.get("requests", 0)}, cost, run)
        _add(by_agent.setdefault(agent, {**_new_bucket(), "usecase": uc, "kind": kind}),
             {**rec["tokens"], "requests": rec.get("requests", 0)}, cost, run)
        decision = rec.get("decision") or None
        if decision and run:
            src = str(decision.get("source", "?"))
            sources[src] = sources.get(src, 0) + 1
        if rec.get("model_mismatch") and run:
            mismatches += 1
        for model_id, row in models.items():
            row_cost = Decimal(row.get("cost_usd") or "0")
            n = max(int(row.get("requests", 0)), 1)
            per_req = sum(row.get(k, 0) for k in TOKEN_KINDS if k != "output") / n
            b = band_of(per_req, thresholds)
            _add(buckets.setdefault((uc, agent, model_id, b), _new_bucket()), row, row_cost, run)
            _add(by_model.setdefault(model_id, _new_bucket()), row, row_cost, run)
            if (decision and kind == "subagent" and tier_of(model_id) in TOP_TIERS
                    and float(decision.get("complexity", 1)) < complex_from):
                over = overkill.setdefault(agent, {"records": 0, "rows": []})
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
        "cost": total["cost"], "tokens": {k: total[k] for k in TOKEN_KINDS},
        "cache_hit_rate": (Decimal(total["cache_read"]) / cacheable) if cacheable else None,
        "buckets": buckets, "by_day": dict(sorted(by_day.items())), "by_model": by_model,
        "by_agent": by_agent, "decision_sources": sources, "mismatches": mismatches,
        "overkill": overkill, "thresholds": thresholds, "errors": errors,
        "recent": sorted(recent, key=lambda r: str(r["ts"])),
    }


def scale_to_month(summary: dict[str, Any]) -> Decimal:
    """Factor that turns the window's sums into a 30-day month (short histories are scaled up)."""
    covered = summary["days_covered"]
    return Decimal(30) / Decimal(covered) if covered else Decimal(0)


def reprice(summary: dict[str, Any], catalog: Catalog, target: str, day: str,
            keys: list[tuple[str, str, str, int]] | None = None) -> Decimal:
    """What the window's work (or the buckets ``keys``) would cost on ``target`` at ``day``'s list
    prices -- same token counts, same cache pattern."""
    prices = catalog.prices(target, day)
    out = Decimal(0)
    for key in keys if keys is not None else list(summary["buckets"]):
        bucket = summary["buckets"][key]
        out += rates.cost(prices, bucket, band_input(key[3], summary["thresholds"]))
    return out


def reprice_rows(rows: list[tuple[str, int, dict[str, Any], Decimal]], catalog: Catalog, target: str,
                 day: str, thresholds: list[int]) -> Decimal:
    prices = catalog.prices(target, day)
    return sum((rates.cost(prices, row, band_input(b, thresholds)) for _, b, row, _ in rows), Decimal(0))


def by_usecase(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per use case: recorded cost, requests, records, token sums and the model mix (requests per
    model, and the dominant model: the one that served most requests)."""
    out: dict[str, dict[str, Any]] = {}
    for (uc, _agent, model_id, _band), b in summary["buckets"].items():
        row = out.setdefault(uc, {**_new_bucket(), "models": {}, "agents": set()})
        _add(row, b, b["cost"], b["records"])
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
