"""What the usage reports (dashboard, efficiency, roi, recommendations, exports) share: the window of
daily roll-ups, sums over their cube, re-pricing, and the types of the per-agent-type statistics
(``efficiency.agent_stats`` computes them).

Re-pricing takes a cube row's tokens to another model at the list prices of the row's day
(``rates.cost`` with the row's prompt-size band selecting long-context tiers); when the target is
the model the row ran on, the recorded cost is used as it is.  Rows with unpriced requests are
never re-priced (their real cost is unknown): they are counted separately.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, NotRequired, TypedDict

from model_strategy.commands.base.words import plural
from model_strategy.commands.knowledge.catalog import Catalog
from model_strategy.runtime.base import kinds
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.money import rates
from model_strategy.runtime.settings.values import Config

from . import daily
from .daily import COST, RECORDS, REQUESTS, TOKENS, UNPRICED, Window

TIER_OF_CLASS = {"low": 0, "mid": 1, "high": 2}  # the tier a complexity class needs: haiku, sonnet, opus
MAX_DAYS = 3660


def band_input(band: int, thresholds: list[int]) -> int:
    if not thresholds:
        return 0
    return thresholds[band] if band < len(thresholds) else thresholds[-1] + 1


def tier_of(model: str | None) -> int | None:
    return kinds.tier_index(model)


def tier_name(index: int) -> str:
    return kinds.TIERS[index]


def cache_hit_rate(tokens: dict[str, int]) -> Decimal | None:
    cacheable = tokens["input"] + tokens["cache_read"] + tokens["cache_write_5m"] + tokens["cache_write_1h"]
    return Decimal(tokens["cache_read"]) / cacheable if cacheable else None


class Insights:
    """The catalog, configuration and ledger of one report run, and the window of ``days`` days ending
    ``today`` (plus, loaded on demand, the ``span`` x ``days`` days before it for trends)."""

    def __init__(self, catalog: Catalog, cfg: Config, ledger: Ledger, today: date, days: int,
                 warnings: list[str] | None = None) -> None:
        self.catalog, self.cfg, self.ledger, self.today, self.days = catalog, cfg, ledger, today, days
        self.day = today.isoformat()
        self.warnings = warnings if warnings is not None else []
        cx = cfg.get("complexity") or {"simple_below": 0.35, "complex_from": 0.7}
        self.simple_below = float(cx.get("simple_below", 0.35))
        self.complex_from = float(cx.get("complex_from", 0.7))
        self.thresholds = catalog.tier_thresholds(self.day)
        self._loaded: Window | None = None
        self._prices: dict[tuple[str, str], dict[str, Any]] = {}
        self._match: dict[str, str | None] = {}
        self.memo: dict[tuple[date, date], dict[str, AgentStats]] = {}  # ``agent_stats`` per window

    def load(self, start: date) -> Window:
        if self._loaded is None or start < self._loaded.start:
            self._loaded = daily.load(self.ledger, start, self.today, self.thresholds, self.simple_below,
                                      self.complex_from, self.warnings)
            if self._loaded.skipped:
                n = self._loaded.skipped
                was = "was" if n == 1 else "were"
                self.warnings.append(f"{plural(n, 'ledger record')} could not be read and {was} skipped")
        return self._loaded

    @property
    def start(self) -> date:
        return self.today - timedelta(days=self.days - 1)

    def window(self) -> Window:
        return self.load(self.start).sub(self.start, self.today)

    def previous(self) -> Window:
        start = self.start - timedelta(days=self.days)
        return self.load(start).sub(start, self.start - timedelta(days=1))

    def everything(self) -> Window:
        firsts = [*self.ledger.days()[:1], *(f"{m}-01" for m in self.ledger.archived_months()[:1])]
        start = date.fromisoformat(min(firsts)) if firsts else self.today
        return self.load(min(start, self.today)).sub(min(start, self.today), self.today)

    def header(self, title: str, win: Window) -> dict[str, Any]:
        from model_strategy.commands.base.words import records_phrase

        n = win.records
        main = record_counts(win, "agents").get("main-thread", 0)
        with_records = sum(1 for d in win.days.values() if int(d.get("records", 0)))
        basis = (f"your records: {records_phrase({'records': n, 'agents': n - main, 'main_records': main})} on "
                 f"{plural(with_records, 'day')} with records in the last {plural(win.n_days, 'day')} "
                 f"({win.start} to {win.end}, UTC)" if n
                 else f"no usage records from {win.start} to {win.end} (UTC)")
        return {"title": title, "as_of": self.day, "prices": self.catalog.price_source,
                "catalog_as_of": self.catalog.as_of, "basis": basis, "from_records": bool(n),
                "window": {"start": win.start.isoformat(), "end": win.end.isoformat(), "days": win.n_days},
                "notes": []}

    # ------------------------------------------------------------------ pricing

    def match(self, model: str) -> str | None:
        """The catalog id of a recorded model id or an alias (None: not in the catalog)."""
        if model not in self._match:
            self._match[model] = self.catalog.resolve(model) if model else None
        return self._match[model]

    def reprice(self, row: list[Any], band: int, model: str, target: str, day: str) -> Decimal | None:
        """A cube row's cost on ``target`` (a catalog id) at ``day``'s list prices; the recorded
        cost when it ran there; None when the row has unpriced requests."""
        if row[UNPRICED]:
            return None
        if self.match(model) == target:
            return Decimal(row[COST])
        key = (target, day)
        prices = self._prices.get(key)
        if prices is None:
            prices = self._prices[key] = self.catalog.prices(target, day)
        return rates.cost(prices, daily.tokens_of(row), band_input(band, self.thresholds))

    def tier_model(self, tier: int) -> str:
        return self.catalog.aliases[tier_name(tier)]


# ---------------------------------------------------------------------- sums over a window


class Totals(TypedDict):
    records: int
    requests: int
    cost: Decimal
    unpriced_requests: int
    tokens: dict[str, int]
    cache_hit_rate: Decimal | None


def totals(win: Window) -> Totals:
    row = daily.sum_rows(r for _, _, r in win.rows())
    tokens = daily.tokens_of(row)
    return {"records": win.records, "requests": row[REQUESTS], "cost": Decimal(row[COST]),
            "unpriced_requests": row[UNPRICED], "tokens": tokens, "cache_hit_rate": cache_hit_rate(tokens)}


def group(win: Window, part: str, kind: str | None = None) -> dict[str, list[Any]]:
    """Cube rows summed by one key part (``model``, ``agent_type``, ``project``, ...)."""
    out: dict[str, list[Any]] = {}
    for _, key, row in win.rows():
        if kind and key["kind"] != kind:
            continue
        into = out.get(key[part])
        if into is None:
            into = out[key[part]] = daily.new_row()
        daily.add_row(into, row)
    return out


class DayCost(TypedDict):
    day: str
    cost: Decimal
    records: int
    flagged: NotRequired[bool]  # a spike (the dashboard's)


def by_day(win: Window) -> list[DayCost]:
    out: list[DayCost] = []
    for day in win.all_days():
        data = win.days.get(day)
        cost = sum((Decimal(r[COST]) for r in data["cube"].values()), Decimal(0)) if data else Decimal(0)
        out.append({"day": day, "cost": cost, "records": int(data["records"]) if data else 0})
    return out


def median(values: list[Decimal]) -> Decimal:
    if not values:
        return Decimal(0)
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def sessions(win: Window) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for data in win.days.values():
        for sid, s in data["sessions"].items():
            have = out.get(sid)
            if have is None:
                out[sid] = [s[0], Decimal(s[1]), *s[2:]]
            else:
                have[0] += s[0]
                have[1] += Decimal(s[1])
                have[3], have[4] = min(have[3], s[3]), max(have[4], s[4])
    return out


class TopRun(TypedDict):
    """One of the most expensive subagent runs (a roll-up's ``top`` entry)."""

    cost: Decimal
    id: str
    ts: str
    agent_type: str
    model: str | None
    session_id: str
    project: str
    tokens: int
    requests: int
    duration_ms: int | None
    outcome: str


def top_runs(win: Window, n: int = daily.TOP) -> list[TopRun]:
    rows = [t for data in win.days.values() for t in data["top"]]
    rows.sort(key=lambda t: (-Decimal(t[0]), t[2]))
    return [{"cost": Decimal(t[0]), "id": t[1], "ts": t[2], "agent_type": t[3], "model": t[4], "session_id": t[5],
             "project": t[6], "tokens": t[7], "requests": t[8], "duration_ms": t[9], "outcome": t[10]}
            for t in rows[:n]]


class MismatchPair(TypedDict):
    chosen: str
    actual: str
    records: int
    cost: Decimal
    unpriced_requests: int


class Mismatches(TypedDict):
    """Runs whose model differed from the one chosen, by (chosen, actual) pair."""

    records: int
    cost: Decimal
    unpriced_requests: int
    pairs: list[MismatchPair]


def mismatches(win: Window) -> Mismatches:
    pairs: dict[str, list[Any]] = {}
    for data in win.days.values():
        for key, mm in data["mismatch"].items():
            have = pairs.setdefault(key, [0, Decimal(0), 0])
            have[0] += mm[0]
            have[1] += Decimal(mm[1])
            have[2] += mm[2]
    rows: list[MismatchPair] = []
    for key, (n, cost, unpriced_) in sorted(pairs.items(), key=lambda kv: (-kv[1][0], kv[0])):
        chosen, actual = key.split(daily.SEP)
        rows.append({"chosen": chosen, "actual": actual, "records": n, "cost": cost, "unpriced_requests": unpriced_})
    return {"records": sum(r["records"] for r in rows), "cost": sum((r["cost"] for r in rows), Decimal(0)),
            "unpriced_requests": sum(r["unpriced_requests"] for r in rows), "pairs": rows}


def record_counts(win: Window, section: Literal["agents", "projects"]) -> dict[str, int]:
    """Records per agent type (``agents``) or per project (``projects``) -- the cube counts model rows."""
    out: dict[str, int] = {}
    for data in win.days.values():
        for name, v in data[section].items():
            out[name] = out.get(name, 0) + (v["records"] if isinstance(v, dict) else v)
    return out


def decisions(win: Window) -> dict[str, int]:
    out: dict[str, int] = {}
    for data in win.days.values():
        for src, n in data["decisions"].items():
            out[src] = out.get(src, 0) + n
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


class UnpricedModel(TypedDict):
    model: str
    requests: int
    records: int
    tokens: int


class Unpriced(TypedDict):
    """Requests on models without a known price: counted, never costed."""

    requests: int
    models: list[UnpricedModel]


def unpriced(win: Window) -> Unpriced:
    models: dict[str, UnpricedModel] = {}
    for _, key, row in win.rows():
        if not row[UNPRICED]:
            continue
        m = models.setdefault(key["model"], {"model": key["model"], "requests": 0, "records": 0, "tokens": 0})
        m["requests"] += row[UNPRICED]
        m["records"] += row[RECORDS]
        m["tokens"] += sum(row[TOKENS:])
    rows = sorted(models.values(), key=lambda m: (-m["requests"], m["model"]))
    return {"requests": sum(m["requests"] for m in rows), "models": rows}


def main_model(ins: Insights, win: Window) -> tuple[str, str]:
    """(catalog id, how it was found) of the main thread's model in the window."""
    reqs = {model: row[REQUESTS] for model, row in group(win, "model", "main").items()}
    for model in sorted(reqs, key=lambda m: (-reqs[m], m)):
        mid = ins.match(model)
        if mid:
            return mid, "the model your main threads used most"
    return ins.tier_model(2), "assumed (no main-thread records)"


class RoutingSavings(TypedDict):
    main_model: str
    main_model_how: str
    subagent_cost: Decimal
    on_requested: Decimal
    saved_vs_requested: Decimal
    on_main_model: Decimal
    saved_vs_main: Decimal
    unpriced_requests_excluded: int
    unknown_requested: list[str]
    decisions: dict[str, int]


def routing_savings(ins: Insights, win: Window) -> RoutingSavings:
    """Every subagent's tokens priced on the model its caller requested (``decision.requested``;
    ``model_requested`` when there was no decision; as it ran when nothing was requested) and on the
    main thread's model, against what they really cost."""
    main, how = main_model(ins, win)
    actual = on_requested = on_main = Decimal(0)
    excluded = 0
    unknown: set[str] = set()
    for day, key, row in win.rows():
        if key["kind"] != "subagent":
            continue
        band = int(key["band"])
        cost = Decimal(row[COST])
        if row[UNPRICED]:
            excluded += row[UNPRICED]
            continue
        actual += cost
        main_cost = ins.reprice(row, band, key["model"], main, day)
        on_main += cost if main_cost is None else main_cost
        target = ins.match(key["requested"]) if key["requested"] else None
        if key["requested"] and target is None:
            unknown.add(key["requested"])
        req_cost = ins.reprice(row, band, key["model"], target, day) if target else None
        on_requested += cost if req_cost is None else req_cost
    return {"main_model": main, "main_model_how": how, "subagent_cost": actual,
            "on_requested": on_requested, "saved_vs_requested": on_requested - actual,
            "on_main_model": on_main, "saved_vs_main": on_main - actual,
            "unpriced_requests_excluded": excluded, "unknown_requested": sorted(unknown),
            "decisions": decisions(win)}


# ---------------------------------------------------------------------- per agent type


#: a group of an agent type's runs on another tier than their complexity needs (``from`` -> ``to``), with
#: the cost of the priced ones as they ran and on the tier they need
TierMove = TypedDict("TierMove", {"from": str, "to": str, "runs": int, "cost": Decimal, "on_target": Decimal,
                                  "unpriced_runs": int, "explicit_runs": int, "complexity": str})


class AgentStats(TypedDict):
    """A subagent type's runs in a window (``agent_stats``)."""

    agent_type: str
    runs: int
    duration_ms: int
    timed: int  # runs with a duration
    outcomes: dict[str, int]
    models: dict[str, int]  # requests per model
    cx_runs: int  # runs with a recorded complexity
    overkill: list[TierMove]  # on a higher tier than needed, largest saving first
    underkill: list[TierMove]  # on a lower tier than needed, most runs first
    tokens: dict[str, int]
    requests: int
    cost: Decimal
    unpriced_requests: int
    completed: int
    not_completed: int
    completion_rate: Decimal | None
    avg_tokens: Decimal
    avg_cost: Decimal
    avg_duration_s: Decimal | None
    cost_per_completed: Decimal | None
    cache_hit_rate: Decimal | None
    model: str | None  # the model that served most requests
    right_sizing: Decimal | None
    score: int | None


def usd(x: Decimal | None, places: int = 2) -> str:
    """Money in report text (the renderers use ``render.usd``; this module stays free of rich)."""
    if x is None:
        return "n/a"
    small = abs(x) < 1 and x != 0 and places == 2
    q = Decimal(1).scaleb(-(4 if small else places))
    sign = "-" if x < 0 else ""
    return f"{sign}${abs(x).quantize(q):,}"


def pct(x: Decimal | None) -> str:
    return "n/a" if x is None else f"{(x * 100).quantize(Decimal(1))}%"
