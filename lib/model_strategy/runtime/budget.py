"""Budgets that act inside the hooks.

Running totals per period live in ``totals.json`` and are updated under the archive lock with
every record, so a check reads one small file and never rescans the archives (O(1)).

Forecast method: spend is kept in hourly buckets for the last 8 days.  The burn rate is the spend
per *active* hour (hours with any spend) over the last 7 days, scaled by the share of hours that
were active in that window (idle nights and weekends are thereby discounted, not ignored).  The
projection for a period is ``spent + rate × active share × hours left``; the budget runs out after
``(budget − spent) / (rate × active share)`` hours at that pace.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .. import SCHEMA_VERSION
from . import periods, store
from .archive import Archive, iso, parse_ts, utcnow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORECAST_METHOD = ("spend per active hour over the last 7 days × share of hours active × hours left "
                   "in the period, added to what is spent")
LEVELS = ("info", "warning", "critical", "exceeded")
TIERS = ("haiku", "sonnet", "opus", "fable")
WINDOW = timedelta(days=7)
KEEP_HOURS = 8 * 24


def _budgets(cfg: dict[str, Any]) -> dict[str, Any]:
    return dict(cfg.get("budgets") or {})


def _limit(b: dict[str, Any], period: str) -> Decimal | None:
    raw = b.get(f"{'daily' if period == 'day' else period + 'ly'}_usd")
    if raw in (None, ""):
        return None
    value = Decimal(str(raw))
    return value if value > 0 else None


def level_for(pct: Decimal, thresholds: dict[str, Any]) -> str:
    level = "ok"
    for name in LEVELS:
        if pct >= Decimal(str(thresholds.get(name, {"info": 50, "warning": 75, "critical": 90,
                                                        "exceeded": 100}[name]))):
            level = name
    return level


# ------------------------------------------------------------------ running totals


def _totals_path(archive: Archive) -> str:
    return os.path.join(archive.root, "totals.json")


def load_totals(archive: Archive, cfg: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Current running totals, rolled over to the periods containing ``now``."""
    data = store.read_json_or_quarantine(_totals_path(archive), None, archive.warnings)
    if not data or data.get("schema") != SCHEMA_VERSION:
        data = {"schema": SCHEMA_VERSION, "periods": {}, "hours": {}}
    totals: dict[str, Any] = data
    b = _budgets(cfg)
    tz = periods.zone(b.get("timezone", "local"))
    week_start = b.get("week_start", "monday")
    for period in periods.PERIODS:
        k = periods.key(period, now, tz, week_start)
        cur = totals["periods"].get(period)
        if not cur or cur.get("key") != k:
            totals["periods"][period] = {"key": k, "cost_usd": "0", "records": 0, "warned": []}
    return totals


def add_spend(archive: Archive, cfg: dict[str, Any], when: datetime, cost: Decimal) -> list[str]:
    """Add one record's cost to the running totals (call inside the archive transaction).
    Returns a warning line for each threshold first crossed in a period."""
    data = load_totals(archive, cfg, when)
    before = {p: Decimal(data["periods"][p]["cost_usd"]) for p in periods.PERIODS}
    for p in periods.PERIODS:
        row = data["periods"][p]
        row["cost_usd"] = str(before[p] + cost)
        row["records"] += 1
    hour = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H")
    hours = data["hours"]
    hours[hour] = str(Decimal(hours.get(hour, "0")) + cost)
    if len(hours) > KEEP_HOURS:
        for old in sorted(hours)[: len(hours) - KEEP_HOURS]:
            del hours[old]
    lines = []
    b = _budgets(cfg)
    for p in periods.PERIODS:
        limit = _limit(b, p)
        if limit is None:
            continue
        row = data["periods"][p]
        level = level_for(Decimal(row["cost_usd"]) * 100 / limit, b.get("thresholds", {}))
        if level != "ok" and level not in row["warned"]:
            row["warned"].extend(name for name in LEVELS[: LEVELS.index(level) + 1] if name not in row["warned"])
            lines.append(_warning_line(p, data, cfg, when))
    store.atomic_write_json(_totals_path(archive), data)
    return lines


# ------------------------------------------------------------------ status and forecast


def _rate(data: dict[str, Any], now: datetime) -> tuple[Decimal, Decimal]:
    """(spend per active hour, share of hours active) over the last 7 days."""
    cutoff = (now - WINDOW).astimezone(timezone.utc).strftime("%Y-%m-%dT%H")
    active = {h: Decimal(v) for h, v in data.get("hours", {}).items() if h >= cutoff and Decimal(v) > 0}
    if not active:
        return Decimal(0), Decimal(0)
    first = min(active)
    first_dt = datetime.strptime(first, "%Y-%m-%dT%H").replace(tzinfo=timezone.utc)
    span_hours = max(Decimal(1), Decimal((now - first_dt).total_seconds()) / 3600)
    share = min(Decimal(1), Decimal(len(active)) / span_hours)
    return sum(active.values(), Decimal(0)) / len(active), share


def period_status(data: dict[str, Any], cfg: dict[str, Any], period: str, now: datetime,
                  burn: tuple[Decimal, Decimal] | None = None) -> dict[str, Any]:
    b = _budgets(cfg)
    tz = periods.zone(b.get("timezone", "local"))
    start, end = periods.bounds(period, now, tz, b.get("week_start", "monday"))
    spent = Decimal(data["periods"][period]["cost_usd"])
    limit = _limit(b, period)
    rate, share = burn or _rate(data, now)
    hours_left = max(Decimal(0), Decimal((end - now).total_seconds()) / 3600)
    forecast = spent + rate * share * hours_left
    pct = spent * 100 / limit if limit else None
    level = level_for(pct, b.get("thresholds", {})) if pct is not None else "ok"
    runs_out = None
    if limit is not None and rate * share > 0:
        if spent >= limit:
            runs_out = now
        else:
            eta = now + timedelta(hours=float((limit - spent) / (rate * share)))
            runs_out = eta if eta < end else None
    policy = (b.get("policy") or {}).get(level, "warn") if level != "ok" else "none"
    return {
        "period": period, "key": data["periods"][period]["key"], "start": iso(start), "end": iso(end),
        "spent_usd": spent, "budget_usd": limit, "percent": pct, "level": level,
        "forecast_usd": forecast, "runs_out_at": iso(runs_out) if runs_out else None,
        "burn_per_active_hour_usd": rate, "active_share": share, "policy": policy,
        "records": data["periods"][period]["records"],
    }


def status(archive: Archive, cfg: dict[str, Any], now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or utcnow()
    data = load_totals(archive, cfg, now)
    burn = _rate(data, now)  # the same for every period
    return [period_status(data, cfg, p, now, burn) for p in periods.PERIODS]


_NAMES = {"day": "daily", "week": "weekly", "month": "monthly"}


def _warning_line(period: str, data: dict[str, Any], cfg: dict[str, Any], now: datetime) -> str:
    st = period_status(data, cfg, period, now)
    effect = {"warn": "", "downgrade": "; new agents drop one tier (opus→sonnet→haiku)",
              "haiku_only": "; new agents use haiku", "deny": "; new agent spawns are denied"}
    return (f"{_NAMES[period]} budget {st['percent']:.0f}% (${st['spent_usd']:.2f} of ${st['budget_usd']:.2f})"
            f" — forecast ${st['forecast_usd']:.2f} by {periods.end_label(period)}{effect.get(st['policy'], '')}")


# ------------------------------------------------------------------ policy in PreToolUse


def apply_policy(decision: dict[str, Any], cfg: dict[str, Any], archive: Archive,
                 now: datetime | None = None) -> dict[str, Any]:
    """Apply the worst of the budget levels and the subscription-window levels (``windows``) to
    ``decision`` (in place).  Returns ``{"deny": bool, "reason": str, "note": str}``."""
    from . import windows

    before = decision["chosen"]
    verdict = _apply_budget_policy(decision, cfg, archive, now)
    return windows.apply(decision, cfg, verdict, before, archive.notices,
                         now.timestamp() if now else None, archive.root)


def _apply_budget_policy(decision: dict[str, Any], cfg: dict[str, Any], archive: Archive,
                         now: datetime | None = None) -> dict[str, Any]:
    """Apply the worst active budget level's policy to ``decision`` (in place)."""
    statuses = status(archive, cfg, now)
    ranked = [s for s in statuses if s["level"] != "ok"]
    if not ranked:
        return {}
    worst = max(ranked, key=lambda s: (LEVELS.index(s["level"]), s["percent"]))
    decision["budget_level"] = worst["level"]
    policy = worst["policy"]
    where = f"{_NAMES[worst['period']]} budget {worst['percent']:.0f}% (${worst['spent_usd']:.2f} of " \
            f"${worst['budget_usd']:.2f})"
    if policy == "deny":
        return {"deny": True, "reason": f"{where}; the budget policy denies new agents"}
    chosen = decision["chosen"]
    idx = next((i for i, t in enumerate(TIERS) if t in chosen.lower()), None)
    if policy == "downgrade" and idx is not None and idx > 0:
        new = TIERS[idx - 1]
    elif policy == "haiku_only" and idx != 0:
        new = "haiku"
    else:
        return {"note": where}
    decision["reasons"].append(f"{where}: policy {policy} → {new}")
    decision["chosen"] = new
    decision["source"] = "budget"
    return {"note": f"{where} → {new}"}


def ingest_main(transcript_path: str, session_id: str, project: str | None, state: dict[str, Any],
                archive: Archive, cfg: dict[str, Any]) -> list[str]:
    """Record the main thread's new API requests from the session transcript (incremental:
    only bytes after the remembered offset are parsed).  Call inside the archive transaction."""
    from . import pricing
    from .usage import priced, read_transcript

    if not transcript_path or not os.path.exists(transcript_path):
        return []
    main = state.setdefault("main", {})
    offset = main.get("offset", 0) if main.get("path") == transcript_path else 0
    if offset and os.path.getsize(transcript_path) <= offset:
        return []
    usage, new_offset = read_transcript(transcript_path, offset, main_thread=True)
    seen = set(map(tuple, main.get("tail_keys", [])))
    for k in list(usage.requests):
        if k in seen:
            del usage.requests[k]
    main.update(path=transcript_path, offset=new_offset,
                tail_keys=[list(k) for k in (list(seen) + list(usage.requests))[-40:]])
    if not usage.requests:
        return []
    fields, cost = priced(usage, pricing.table(archive.warnings))
    now = utcnow()
    record = {
        "schema": SCHEMA_VERSION, "id": f"{session_id}:main:{offset}", "kind": "main", "ts": iso(now),
        "started": usage.first_ts, "session_id": session_id, "project": project, "agent_id": "main",
        "agent_type": "main-thread", "tool_use_id": None, "background": None, "model_requested": None,
        "model_mismatch": False, "duration_ms": None, "decision": None, "source": "Stop", **fields,
    }
    archive.append_record(record)
    state["main_cost_usd"] = str(Decimal(state.get("main_cost_usd", "0")) + cost)
    return add_spend(archive, cfg, now, cost)


def record_main_thread(transcript_path: str, session_id: str, project: str | None, archive: Archive,
                       cfg: dict[str, Any]) -> list[str]:
    with archive.transaction():
        data = archive.load_sessions()
        state = archive.session(data, session_id, project)
        lines = ingest_main(transcript_path, session_id, project, state, archive, cfg)
        archive.save_sessions(data)
    return lines


def parse_when(value: str | None) -> datetime:
    return parse_ts(value) if value else utcnow()
