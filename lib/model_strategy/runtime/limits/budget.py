"""Budgets that act inside the hooks.

Spend per period comes from ``totals.json``, a cache folded from the ledger (``Ledger.fold``): the
priced cost of every record in 15-minute UTC buckets, for the day files that can hold a record of
the current day, week and month (or of the last 8 days, for the forecast).  It catches up with what
was appended since it was saved, and is rebuilt from the ledger when it is missing, cut or wrong;
it is never reset to zero.  A period's spend is the sum of the buckets inside it (every time zone's
midnight falls on a quarter hour).

Notices: the first time a level is reached in a period it is announced once (``notices.json``); a
changed budget or threshold re-arms the levels of that period.

Forecast method: the burn rate is the spend per *active* hour (hours with any spend) over the last
7 days, scaled by the share of hours that were active in that window (idle nights and weekends are
thereby discounted, not ignored).  The projection for a period is ``spent + rate × active share ×
hours left``; the budget runs out after ``(budget − spent) / (rate × active share)`` hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from model_strategy.runtime.base import clock, fastjson, store
from model_strategy.runtime.base.clock import iso, parse_ts
from model_strategy.runtime.base.faults import crash_point
from model_strategy.runtime.base.kinds import LEVELS, TIERS, tier_index
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.money.amount import amount

from . import periods, windows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal
    from typing import Any, TypedDict

    from model_strategy.runtime.base.decision import Verdict
    from model_strategy.runtime.books.records import Record
    from model_strategy.runtime.settings.values import Config

    class Totals(TypedDict):
        """``totals.json``'s data: running sums ``[key, cost, records, unpriced requests]`` of the
        current periods (``p``) and 15-minute buckets ``[cost, records, unpriced requests]`` of the
        last 8 days (``q``); costs are Decimal strings."""
        q: dict[str, list[Any]]
        p: dict[str, list[Any]]

    class BudgetStatus(TypedDict):
        """One budget period now (``period_status``)."""
        period: str  # day | week | month
        key: str  # which day, week or month (``periods.key``)
        start: str  # [start, end) as UTC ISO
        end: str
        spent_usd: Decimal
        budget_usd: Decimal | None  # None: no budget for this period
        percent: Decimal | None
        level: str  # ok | info | warning | critical | exceeded
        forecast_usd: Decimal
        runs_out_at: str | None
        burn_per_active_hour_usd: Decimal
        active_share: Decimal
        policy: str  # the level's policy; "none" at ok
        records: int
        unpriced_requests: int

    class Brief(TypedDict):
        """A budget period's level now, as a spawn's policy, the learning and the notices need it
        (``briefs``): ``status``'s without the forecast, with no Decimal in it."""
        period: str
        key: str
        budget: str | None  # ``str`` of the budget; None: no budget for this period
        thresholds: list[str]  # ``str`` of each level's threshold in force (the notices re-arm when they change)
        level: str
        policy: str
        percent: float  # 0.0 without a budget
        label: str  # ``where``: "daily budget 214% ($21.43 of $10.00)"; "" without a budget

    class Constraint(TypedDict):
        """An active limit on new spawns (``constraints``)."""
        rank: tuple[int, float]
        policy: str
        label: str
        level: str


FORECAST_METHOD = ("spend per active hour over the last 7 days × share of hours active × hours left "
                   "in the period, added to what is spent")
DEFAULT_THRESHOLDS = {"info": 50, "warning": 75, "critical": 90, "exceeded": 100}
WINDOW = timedelta(days=7)
TOTALS_SCHEMA = 2
NOTICES_SCHEMA = 1
LEVELS_CACHE = "levels.json"
LEVELS_SCHEMA = 1  # bump when what ``_judge`` or ``where`` give for the same inputs changes
_NAMES = {"day": "daily", "week": "weekly", "month": "monthly"}
_EFFECT = {"warn": "", "downgrade": "; new agents drop one tier (opus→sonnet→haiku)",
           "haiku_only": "; new agents use haiku", "deny": "; new agent spawns are denied"}

__all__ = ["LEVELS", "apply_policy", "status"]


def _limit(cfg: Config, period: str) -> Decimal | None:
    raw = cfg.get("budgets", {}).get(f"{_NAMES[period]}_usd")
    if raw in (None, ""):
        return None
    try:
        value = amount(str(raw))
    except ArithmeticError:
        return None
    return value if value.is_finite() and value > 0 else None


def _thresholds(cfg: Config) -> dict[str, Decimal]:
    raw = cfg.get("budgets", {}).get("thresholds", {})
    out = {}
    for name in LEVELS:
        try:
            out[name] = amount(str(raw.get(name, DEFAULT_THRESHOLDS[name])))
        except ArithmeticError:
            out[name] = amount(DEFAULT_THRESHOLDS[name])
    return out


def _threshold_texts(cfg: Config) -> list[str]:
    """The thresholds in force as a ``Brief`` carries them (a change re-arms the notices)."""
    return [str(v) for v in _thresholds(cfg).values()]


def level_for(pct: Decimal, thresholds: Mapping[str, Decimal | int]) -> str:
    level = "ok"
    for name in LEVELS:
        if pct >= amount(str(thresholds.get(name, DEFAULT_THRESHOLDS[name]))):
            level = name
    return level


# ------------------------------------------------------------------ spend (a cache of the ledger)


def _quarter(dt: datetime) -> str:
    dt = dt.astimezone(timezone.utc)
    return f"{dt:%Y-%m-%dT%H}:{dt.minute - dt.minute % 15:02d}"


def _bump(row: list[Any], rec: Record) -> None:
    row[-3] = str(amount(row[-3]) + amount(rec.get("cost_usd") or "0"))
    row[-2] += 1
    row[-1] += int(rec.get("unpriced_requests") or 0)


class _Window:
    """What ``totals.json`` holds for one moment: running sums of the current day, week and month
    (``p``: ``[key, cost, records, unpriced requests]``), kept up to date record by record, and
    15-minute buckets of the last 8 days for the forecast (``q``).  When a period rolls over, its
    sum is taken again from the buckets, or the cache is rebuilt from the ledger when they do not
    reach back that far."""

    def __init__(self, cfg: Config, now: datetime) -> None:
        b = cfg.get("budgets", {})  # a config without budgets (a test's) reads as the defaults
        tz = periods.zone(b.get("timezone", "local"))
        week_start = b.get("week_start", "monday")
        self.bounds = {p: (periods.key(p, now, tz, week_start), *periods.bounds(p, now, tz, week_start))
                       for p in periods.PERIODS}
        self.q_start = _quarter(now - WINDOW - timedelta(hours=1))
        first = min([start for _, start, _ in self.bounds.values()] + [now - WINDOW - timedelta(hours=1)])
        self.since = (first.astimezone(timezone.utc) - timedelta(days=1)).date().isoformat()
        self.key = [periods.zone_key(b.get("timezone", "local")), week_start]  # the zone in force, not "local"
        self._edges = {p: (_quarter(start), _quarter(end)) for p, (_, start, end) in self.bounds.items()}

    def fresh(self) -> Totals:
        return {"q": {}, "p": {p: [k, "0", 0, 0] for p, (k, _, _) in self.bounds.items()}}

    def add(self, data: Totals, rec: Record) -> None:
        try:
            ts = parse_ts(rec["ts"])
        except (ValueError, TypeError):
            return  # no usable time: in no period (doctor reports such records)
        quarter = _quarter(ts)
        if quarter >= self.q_start:
            row = data["q"].get(quarter)
            if row is None:
                row = data["q"][quarter] = ["0", 0, 0]
            _bump(row, rec)
        for p, (_, start, end) in self.bounds.items():
            if start <= ts < end:
                _bump(data["p"][p], rec)

    def reconcile(self, data: Totals) -> bool | str:
        """Roll the cache over to now: prune old buckets, re-take a rolled-over period's sum from the
        buckets (False, i.e. rebuild, when they do not reach its start)."""
        q, sums = data["q"], data["p"]
        if not isinstance(q, dict) or not isinstance(sums, dict):
            return False
        changed = False
        for key in [k for k in q if k < self.q_start]:
            del q[key]
            changed = True
        for p, (k, _, _) in self.bounds.items():
            row = sums.get(p)
            if isinstance(row, list) and len(row) == 4 and row[0] == k:
                continue
            lo, hi = self._edges[p]
            if lo < self.q_start:
                return False
            row = sums[p] = [k, "0", 0, 0]
            for quarter, bucket in q.items():
                if lo <= quarter < hi:
                    row[1] = str(amount(row[1]) + amount(bucket[0]))
                    row[2] += bucket[1]
                    row[3] += bucket[2]
            changed = True
        return "changed" if changed else True


def spend(ledger: Ledger, cfg: Config, now: datetime, w: _Window | None = None) -> Totals:
    """``{"q": 15-minute buckets of the last 8 days, "p": {period: [key, cost, records, unpriced]}}``."""
    w = w or _Window(cfg, now)
    return ledger.fold("totals.json", w.since, None, w.fresh, w.add, schema=TOTALS_SCHEMA, key=w.key,
                       prune=lambda data, since: None, valid=w.reconcile)


def _rate(q: dict[str, list[Any]], now: datetime) -> tuple[Decimal, Decimal]:
    """(spend per active hour, share of hours active) over the last 7 days."""
    cutoff = f"{(now - WINDOW).astimezone(timezone.utc):%Y-%m-%dT%H}"
    hours: dict[str, Decimal] = {}
    for key, row in q.items():
        hour = key[:13]
        if hour >= cutoff:
            hours[hour] = hours.get(hour, amount(0)) + amount(row[0])
    active = {h: v for h, v in hours.items() if v > 0}
    if not active:
        return amount(0), amount(0)
    first = min(active)  # "YYYY-MM-DDTHH" (no strptime: it imports locale and calendar, ~5 ms)
    first_dt = datetime(int(first[:4]), int(first[5:7]), int(first[8:10]), int(first[11:13]), tzinfo=timezone.utc)
    span_hours = max(amount(1), amount((now - first_dt).total_seconds()) / 3600)
    share = min(amount(1), amount(len(active)) / span_hours)
    return sum(active.values(), amount(0)) / len(active), share


def period_status(totals: Totals, cfg: Config, period: str, now: datetime,
                  burn: tuple[Decimal, Decimal], bounds: tuple[datetime, datetime]) -> BudgetStatus:
    """One period's spend, budget, level, forecast and policy; ``bounds`` is its [start, end)."""
    start, end = bounds
    key, _, n, unpriced = totals["p"][period]
    spent, limit, pct, level, policy = _judge(totals["p"][period], cfg, period)
    rate, share = burn
    hours_left = max(amount(0), amount((end - now).total_seconds()) / 3600)
    forecast = spent + rate * share * hours_left
    runs_out = None
    if limit is not None and rate * share > 0:
        if spent >= limit:
            runs_out = now
        else:
            hours = (limit - spent) / (rate * share)
            runs_out = now + timedelta(hours=float(hours)) if hours < hours_left else None
    return {
        "period": period, "key": key, "start": iso(start), "end": iso(end),
        "spent_usd": spent, "budget_usd": limit, "percent": pct, "level": level,
        "forecast_usd": forecast, "runs_out_at": iso(runs_out) if runs_out else None,
        "burn_per_active_hour_usd": rate, "active_share": share, "policy": policy,
        "records": n, "unpriced_requests": unpriced,
    }


def status(ledger: Ledger, cfg: Config, now: datetime | None = None) -> list[BudgetStatus]:
    now = now or clock.now()
    w = _Window(cfg, now)  # the periods' bounds, worked out once
    totals = spend(ledger, cfg, now, w)
    burn = _rate(totals["q"], now)  # the same for every period
    return [period_status(totals, cfg, p, now, burn, w.bounds[p][1:]) for p in periods.PERIODS]


def _judge(row: list[Any], cfg: Config, period: str) -> tuple[Decimal, Decimal | None, Decimal | None, str, str]:
    """``(spent, budget, percent, level, policy)`` of a period from its row of ``totals["p"]``."""
    spent = amount(row[1])
    limit = _limit(cfg, period)
    pct = spent * 100 / limit if limit else None
    level = level_for(pct, _thresholds(cfg)) if pct is not None else "ok"
    policy = str(cfg.get("budgets", {}).get("policy", {}).get(level, "warn")) if level != "ok" else "none"
    return spent, limit, pct, level, policy


def briefs(ledger: Ledger, cfg: Config, now: datetime | None = None) -> list[Brief]:
    """Each period's level, policy and line: ``status`` without the forecast.  They are a pure
    function of the periods' rows in ``totals.json`` and the budget settings, so they are remembered
    in ``levels.json`` under those inputs (a cache: worked out again, with Decimal, when one of them
    changed) -- a spawn with nothing new since the last one does no arithmetic on money."""
    rows = spend(ledger, cfg, now or clock.now())["p"]
    b = cfg.get("budgets", {})
    inputs = fastjson.dumps([LEVELS_SCHEMA, [rows[p] for p in periods.PERIODS],
                             [b.get(k) for k in (*(f"{n}_usd" for n in _NAMES.values()), "thresholds", "policy")]])
    path = ledger.path(LEVELS_CACHE)
    try:
        memo = store.read_json(path)
    except store.StoreError:
        memo = None
    if isinstance(memo, dict) and memo.get("inputs") == inputs and _well_formed(memo.get("briefs")):
        kept: list[Brief] = memo["briefs"]
        return kept
    th = _threshold_texts(cfg)
    out = [_brief(p, rows[p][0], *_judge(rows[p], cfg, p), rows[p][3], th) for p in periods.PERIODS]
    if ledger.locked:
        try:
            store.atomic_write_json(path, {"inputs": inputs, "briefs": out})
        except store.LinkRefused as exc:  # said; the levels are right all the same
            ledger.warnings.append(str(exc))
    return out


def _brief(period: str, key: str, spent: Decimal, limit: Decimal | None, pct: Decimal | None, level: str,
           policy: str, unpriced: int, thresholds: list[str]) -> Brief:
    """The one builder of a ``Brief`` (from ``_judge``'s values, or a ``status`` row's)."""
    return {"period": period, "key": key, "budget": None if limit is None else str(limit), "thresholds": thresholds,
            "level": level, "policy": policy, "percent": float(pct or 0),
            "label": "" if limit is None or pct is None else _where(period, pct, spent, unpriced, limit)}


def _well_formed(value: Any) -> bool:
    return isinstance(value, list) and [b.get("period") if isinstance(b, dict) else None for b in value] \
        == list(periods.PERIODS) and all(isinstance(b.get("level"), str) and isinstance(b.get("label"), str)
                                         and isinstance(b.get("policy"), str) and isinstance(b.get("percent"), float)
                                         and isinstance(b.get("thresholds"), list) for b in value)


def money(value: Decimal | None) -> str:
    """Dollars with cents: ``$0.20``, ``$12.50``, ``$1,234.00``."""
    return "—" if value is None else f"${value:,.2f}"


def where(st: BudgetStatus) -> str:
    """``daily budget 214% ($21.43 of $10.00)``."""
    return _where(st["period"], st["percent"], st["spent_usd"], st.get("unpriced_requests") or 0, st["budget_usd"])


def _where(period: str, pct: Decimal | None, spent: Decimal, unpriced: int, limit: Decimal | None) -> str:
    text = money(spent)
    spent_text = f"{text} + {unpriced} unpriced request{'s' if unpriced != 1 else ''}" if unpriced else text
    return f"{_NAMES[period]} budget {pct:.0f}% ({spent_text} of {money(limit)})"


def line(st: BudgetStatus) -> str:
    """The one-line announcement of a period's level."""
    return (f"{where(st)} — forecast {money(st['forecast_usd'])} by {periods.end_label(st['period'])}"
            f"{_EFFECT.get(st['policy'], '')}")


# ------------------------------------------------------------------ notices


def _notices_path(ledger: Ledger) -> str:
    return ledger.path("notices.json")


def notices(ledger: Ledger, cfg: Config, now: datetime | None = None, levels: list[Brief] | None = None,
            full: list[BudgetStatus] | None = None) -> list[str]:
    """A line for each period that reached a level not yet announced for this period, budget and
    thresholds (changing either re-arms the levels).  Saves what it announced (lock held).  The line
    names the forecast: it comes from ``full`` (``status``, worked out here when not given)."""
    now = now or clock.now()
    levels = levels if levels is not None else briefs(ledger, cfg, now)
    b = cfg.get("budgets", {})
    try:
        data = store.read_json(_notices_path(ledger))
    except store.StoreError:
        data = None
    if not isinstance(data, dict) or data.get("schema") != NOTICES_SCHEMA or not isinstance(data.get("periods"), dict):
        data = {"schema": NOTICES_SCHEMA, "periods": {}}
    changed = False
    lines = []
    zone = periods.zone_key(b.get("timezone", "local"))  # the same day key in another zone is another day
    for st in levels:
        if st["budget"] is None:
            continue
        arm = {"key": st["key"], "budget": st["budget"], "thresholds": st["thresholds"], "zone": zone}
        cur = data["periods"].get(st["period"])
        if isinstance(cur, dict) and "zone" not in cur:  # written before zones were kept: same zone
            cur["zone"] = zone
        if not isinstance(cur, dict) or any(cur.get(k) != v for k, v in arm.items()) \
                or not isinstance(cur.get("levels"), list):
            cur = data["periods"][st["period"]] = {**arm, "levels": []}
            changed = True
        if st["level"] != "ok" and st["level"] not in cur["levels"]:
            cur["levels"] = list(LEVELS[: LEVELS.index(st["level"]) + 1])
            full = full if full is not None else status(ledger, cfg, now)
            lines.append(line(next(f for f in full if f["period"] == st["period"])))
            changed = True
    if changed and ledger.locked:
        crash_point("before-notices")
        try:
            store.atomic_write_json(_notices_path(ledger), data)
        except store.LinkRefused as exc:  # said, and the routing goes on
            ledger.warnings.append(str(exc))
    return lines


def session_start_line(ledger: Ledger, cfg: Config, now: datetime | None = None) -> str | None:
    """At SessionStart: one line when a period is at or above a threshold (whatever was announced).
    That line is the announcement of its period's level: it is remembered in ``notices.json`` like
    any other, so the first spawn or Stop does not say the same again (one announcement per level
    and period)."""
    now = now or clock.now()
    full = status(ledger, cfg, now)
    ranked = [s for s in full if s["level"] != "ok"]
    if not ranked:
        return None
    worst = max(ranked, key=lambda s: (LEVELS.index(s["level"]), s["percent"]))
    th = _threshold_texts(cfg)
    level = _brief(worst["period"], worst["key"], worst["spent_usd"], worst["budget_usd"], worst["percent"],
                   worst["level"], worst["policy"], worst["unpriced_requests"], th)
    try:
        with ledger.transaction(wait=1.0):
            notices(ledger, cfg, now, [level], full)  # marks it announced (the line it would give is this one)
    except store.LockTimeout:
        pass  # busy: at worst the next hook says it once more
    return f"session starts at {worst['level']}: {line(worst)}"


# ------------------------------------------------------------------ policy in PreToolUse


def constraints(ledger: Ledger, cfg: Config, now: datetime, levels: list[Brief] | None = None) -> list[Constraint]:
    """Every active budget limit on new spawns: ``{"rank", "policy", "label", "level"}``."""
    out: list[Constraint] = []
    for st in levels if levels is not None else briefs(ledger, cfg, now):
        if st["level"] != "ok":  # so it has a budget, and a percent
            out.append({"rank": (LEVELS.index(st["level"]), st["percent"]), "policy": st["policy"],
                        "label": st["label"], "level": st["level"]})
    return out


def apply_policy(decision: dict[str, Any], cfg: Config, ledger: Ledger,
                 now: datetime | None = None, levels: list[Brief] | None = None,
                 session: str | None = None) -> Verdict:
    """Apply the worst of the budget levels and the subscription-window levels (``windows``) to
    ``decision`` (in place).  Returns ``{"deny": bool, "reason": str, "note": str, "picked": str}``:
    ``picked`` is the selector's choice when a limit took it down.  ``session``: the session deciding
    (windows count only when its own status line reported them)."""
    now = now or clock.now()
    before = decision["chosen"]
    verdict = _apply_budget_policy(decision, cfg, ledger, now, levels)
    verdict = windows.apply(decision, cfg, verdict, before, ledger.notices, now.timestamp(), ledger.root, session)
    if decision["chosen"] != before and not verdict.get("deny"):
        verdict["picked"] = before
        note = str(verdict.get("note") or "")
        suffix = f" → {decision['chosen']}"
        verdict["note"] = note[: -len(suffix)] if note.endswith(suffix) else note
    return verdict


def _apply_budget_policy(decision: dict[str, Any], cfg: Config, ledger: Ledger, now: datetime,
                         levels: list[Brief] | None = None) -> Verdict:
    """Apply the worst active budget level's policy to ``decision`` (in place)."""
    active = constraints(ledger, cfg, now, levels)
    if not active:
        return {}
    worst = max(active, key=lambda c: c["rank"])
    decision["budget_level"] = worst["level"]
    policy, label = worst["policy"], worst["label"]
    if policy == "deny":
        return {"deny": True, "reason": f"{label}; the budget policy denies new agents"}
    picked = decision["chosen"]
    idx = tier_index(picked)
    if policy == "downgrade" and idx is not None and idx > 0:
        new = TIERS[idx - 1]
    elif policy == "haiku_only" and idx != 0:
        new = TIERS[0]
    else:
        return {"note": label}
    decision["reasons"].append(f"{label}: policy {policy} → {new}")
    decision["chosen"] = new
    decision["source"] = "budget"
    return {"note": f"{label}, policy {policy}", "picked": picked}
