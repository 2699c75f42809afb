"""Report data for the strategy commands (``report``, ``cost``, ``fallback``): plain dicts, no rich.

Every report says what it is based on: the user's records (last 30 days, scaled to a 30-day month)
or the use-case assumptions, the genai-prices version and the catalog date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from model_strategy.commands.base.words import plural, records_phrase
from model_strategy.commands.knowledge import usecases
from model_strategy.commands.knowledge.catalog import Catalog, Volume
from model_strategy.commands.knowledge.usecases import Profile
from model_strategy.commands.usage import analytics
from model_strategy.commands.usage.analytics import Summary
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.settings.values import Config

from . import optimise, projection, resilience, roadmap, strategy
from .optimise import CostRow, CostRowBase
from .strategy import Recommendation

if TYPE_CHECKING:
    from model_strategy.commands.knowledge.specs import Complexity, Need, Sensitivity, Workload

Report = dict[str, Any]


class UseCaseRow(TypedDict):
    """A use case in the strategy and resilience reports: its profile, the pick and its monthly cost."""

    id: str
    name: str
    query: str
    matched_by: str
    match_confidence: float
    workload: Workload
    latency: Need
    cost_sensitivity: Sensitivity
    complexity: Complexity
    claude_code: bool
    overrides: dict[str, str]
    volume: Volume
    volume_source: str
    primary: str
    alias: str | None
    fallback: str | None
    routing: str
    routing_why: str
    confidence: float
    reasons: list[str]
    cost_per_request: Decimal
    monthly_requests: Decimal
    monthly_cost: Decimal
    recorded_monthly_cost: Decimal | None
    current_model: str | None


class Context:
    """What every report needs: the day, the catalog, the configuration and (lazily) the records."""

    def __init__(self, catalog: Catalog, cfg: Config, archive: Ledger, today: date,
                 warnings: list[str] | None = None) -> None:
        self.catalog, self.cfg, self.archive, self.today = catalog, cfg, archive, today
        self.day = today.isoformat()
        self.warnings = list(warnings or [])
        self._summary: Summary | None = None

    @property
    def summary(self) -> Summary:
        if self._summary is None:
            cx = float(self.cfg.get("complexity", {}).get("complex_from", 0.7))
            self._summary = analytics.summarise(self.archive, self.catalog, self.today, complex_from=cx)
            self.warnings += self._summary["errors"][:3]
        return self._summary

    @property
    def has_records(self) -> bool:
        return bool(self.summary["records"])

    def header(self, title: str) -> Report:
        s = self.summary
        counts = {"records": s["records"], "agents": s["agents"], "main_records": s["main_records"]}
        basis = (f"your records: {records_phrase(counts)}, {plural(s['requests'], 'request')} on "
                 f"{plural(s['days_with_records'], 'day')} with records in the last {s['days']} days "
                 f"({s['start']} to {s['end']}), scaled to a 30-day month" if s["records"]
                 else "assumptions: typical volumes per use case (no usage records yet)")
        return {"title": title, "as_of": self.day, "prices": self.catalog.price_source,
                "catalog_as_of": self.catalog.as_of, "basis": basis, "from_records": bool(s["records"]),
                "notes": []}


def monthly_budget(cfg: Config) -> Decimal | None:
    raw = cfg.get("budgets", {}).get("monthly_usd")
    return Decimal(str(raw)) if raw not in (None, "") and Decimal(str(raw)) > 0 else None


def profiles(ctx: Context, text: str) -> list[Profile]:
    """Profiles for the text, else the use cases in the records, else the default portfolio;
    volumes come from the records wherever they cover the use case."""
    ucs = ctx.catalog.usecases
    per_uc = analytics.by_usecase(ctx.summary) if ctx.has_records else {}
    if text.strip():
        found = usecases.parse(text, ucs)
    elif per_uc:
        found = usecases.portfolio(sorted(per_uc, key=lambda u: -per_uc[u]["cost"]), ucs, "records")
    else:
        found = usecases.portfolio(usecases.DEFAULT_PORTFOLIO, ucs, "portfolio")
    out = []
    for prof in found:
        row = per_uc.get(prof["id"])
        if row and "volume" not in prof["overrides"]:
            prof = projection.profile_from_records(prof, row, ctx.summary["days_covered"])
        else:
            prof["volume_source"] = "your text" if "volume" in prof["overrides"] else "assumption"
        out.append(prof)
    return out


def _current_model(ctx: Context, uc: str, fallback: str) -> str:
    row = analytics.by_usecase(ctx.summary).get(uc) if ctx.has_records else None
    if not row or not row["models"]:
        return fallback
    return ctx.catalog.match(row["dominant"]) or fallback


def _usecase_rows(ctx: Context, profs: list[Profile], recs: list[Recommendation]) -> list[UseCaseRow]:
    per_uc = analytics.by_usecase(ctx.summary) if ctx.has_records else {}
    scale = analytics.scale_to_month(ctx.summary) if ctx.has_records else Decimal(0)
    rows: list[UseCaseRow] = []
    for prof, rec in zip(profs, recs, strict=True):
        row = per_uc.get(prof["id"])
        rows.append({
            "id": prof["id"], "name": prof["name"], "query": prof["query"], "matched_by": prof["matched_by"],
            "match_confidence": prof["match_confidence"], "workload": prof["workload"], "latency": prof["latency"],
            "cost_sensitivity": prof["cost_sensitivity"], "complexity": prof["complexity"],
            "claude_code": prof["claude_code"], "overrides": prof["overrides"],
            "volume": prof["volume"], "volume_source": prof["volume_source"],
            "primary": rec.primary, "alias": rec.alias, "fallback": rec.fallback,
            "routing": rec.routing, "routing_why": rec.routing_why, "confidence": rec.confidence,
            "reasons": list(rec.reasons), "cost_per_request": rec.cost_per_request,
            "monthly_requests": projection.monthly_requests(prof),
            "monthly_cost": projection.monthly_cost(ctx.catalog, rec.primary, prof, ctx.day),
            "recorded_monthly_cost": (row["cost"] * scale) if row else None,
            "current_model": _current_model(ctx, prof["id"], rec.primary) if row else None,
        })
    return rows


def _spend_by_model(ctx: Context, rows: list[UseCaseRow]) -> tuple[dict[str, Decimal], str]:
    if ctx.has_records:
        return {m: b["cost"] for m, b in ctx.summary["by_model"].items()}, "recorded spend, last 30 days"
    spend: dict[str, Decimal] = {}
    for r in rows:
        spend[r["primary"]] = spend.get(r["primary"], Decimal(0)) + r["monthly_cost"]
    return spend, "projected spend of the recommended primaries"


def volume_basis(out: Report, rows: list[UseCaseRow] | list[CostRow]) -> None:
    """A basis of "your records" says which use cases' volumes are not from them (assumed, or from the
    user's text), so the header never contradicts a row's "(assumption)"."""
    if not out["from_records"]:
        return
    assumed = [r["name"] for r in rows if r.get("volume_source") == "assumption"]
    texted = [r["name"] for r in rows if r.get("volume_source") == "your text"]
    extra = ([f"assumed volumes for {', '.join(assumed)} (not in your records)"] if assumed else []) + \
        ([f"volumes from your text for {', '.join(texted)}"] if texted else [])
    if extra:
        out["basis"] += "; " + "; ".join(extra)


def strategy_report(ctx: Context, text: str) -> Report:
    """``/model-strategy [use case]``: analysis, recommendation, cost, resilience and roadmap."""
    profs = profiles(ctx, text)
    recs = [strategy.recommend(ctx.catalog, p, ctx.day) for p in profs]
    rows = _usecase_rows(ctx, profs, recs)
    out = ctx.header("Model strategy")
    volume_basis(out, rows)
    out["query"] = text.strip() or None
    out["usecases"] = rows
    out["total_monthly"] = sum((r["monthly_cost"] for r in rows), Decimal(0))
    out["budget"] = monthly_budget(ctx.cfg)
    spend, basis = _spend_by_model(ctx, rows)
    out["vendor_risk"] = resilience.vendor_risk(ctx.catalog, spend, basis)
    out["roadmap"] = roadmap.build(ctx.catalog, recs, profs, ctx.summary if ctx.has_records else None,
                                   ctx.cfg, ctx.day)
    if any(not r["claude_code"] for r in rows):
        out["notes"].append("API use cases are matched against every vendor; Claude Code workloads only "
                            "against the Claude models Claude Code runs.")
    out["notes"].append("Monthly cost = requests/day x 30 x price of one request at today's list prices.")
    return out


def _cost_rows(ctx: Context, profs: list[Profile], recs: list[Recommendation]) -> list[CostRow]:
    """Per use case: the model it runs on and its monthly tokens and cost -- recorded sums scaled to a
    month where the records cover it, else the profile's volume on the recommended primary."""
    per_uc = analytics.by_usecase(ctx.summary) if ctx.has_records else {}
    scale = analytics.scale_to_month(ctx.summary) if ctx.has_records else Decimal(0)
    rows: list[CostRow] = []
    for prof, rec in zip(profs, recs, strict=True):
        row = per_uc.get(prof["id"]) if prof["volume_source"] == "records" else None
        lower = next((s.model for s in rec.chain if s.kind.startswith("same vendor")), None)
        base: CostRowBase = {"usecase": prof["id"], "name": prof["name"], "workload": prof["workload"],
                             "claude_code": prof["claude_code"], "complexity": prof["complexity"], "lower": lower,
                             "requests_per_day": float(prof["volume"]["requests_per_day"]),
                             "volume_source": prof["volume_source"]}
        if row:
            model = _current_model(ctx, prof["id"], rec.primary)
            counts = analytics.tokens_of(row)
            tokens = {k: Decimal(n) * scale for k, n in counts.items()}
            cacheable = sum(n for k, n in counts.items() if k != "output")
            rows.append({**base, "model": model, "requests": Decimal(row["requests"]) * scale, "tokens": tokens,
                         "per_request_input": cacheable // max(row["requests"], 1), "cost": row["cost"] * scale})
            continue
        n = projection.monthly_requests(prof)
        rows.append({**base, "model": rec.primary, "requests": n,
                     "tokens": {k: v * n for k, v in projection.request_tokens(prof).items()},
                     "per_request_input": int(prof["volume"]["input_tokens"]),
                     "cost": projection.monthly_cost(ctx.catalog, rec.primary, prof, ctx.day)})
    return rows


def cost_report(ctx: Context, budget: Decimal | None, text: str = "") -> Report:
    """``/model-strategy:cost [budget]``: monthly cost per use case vs the budget, and optimisations."""
    profs = profiles(ctx, text)
    recs = [strategy.recommend(ctx.catalog, p, ctx.day) for p in profs]
    rows = _cost_rows(ctx, profs, recs)
    out = ctx.header("Cost projection")
    volume_basis(out, rows)
    out["rows"] = rows
    out["total"] = sum((r["cost"] for r in rows), Decimal(0))
    out["budget"] = budget if budget is not None else monthly_budget(ctx.cfg)
    out["budget_source"] = "argument" if budget is not None else "config budgets.monthly_usd"
    if ctx.has_records:
        scale = analytics.scale_to_month(ctx.summary)
        out["recorded_monthly"] = ctx.summary["cost"] * scale
        hit = ctx.summary["cache_hit_rate"]
        out["cache_hit_rate"] = hit
        out["notes"].append(f"From your records: agent mix, token counts and cache hit rate "
                            f"({hit:.0%} of input read from cache)." if hit is not None else "From your records.")
    rm = roadmap.build(ctx.catalog, recs, profs, ctx.summary if ctx.has_records else None, ctx.cfg, ctx.day)
    evidence = [i for i in rm["items"] if i["saving_usd"] > 0] if ctx.has_records else []
    out["optimisations"], out["not_applicable"] = optimise.all_for(ctx.catalog, rows, ctx.day, evidence)
    out["notes"].append("Savings ranges overlap and are not additive.")
    return out


def fallback_report(ctx: Context, text: str) -> Report:
    """``/model-strategy:fallback [use case]``: chains, retry/circuit-breaker settings, vendor risk."""
    profs = profiles(ctx, text)
    recs = [strategy.recommend(ctx.catalog, p, ctx.day) for p in profs]
    rows = _usecase_rows(ctx, profs, recs)
    out = ctx.header("Resilience")
    out["chains"] = resilience.chains(ctx.catalog, recs, profs)
    spend, basis = _spend_by_model(ctx, rows)
    out["vendor_risk"] = resilience.vendor_risk(ctx.catalog, spend, basis)
    out["notes"].append("Claude Code runs Claude models only: other-vendor steps apply to API workloads "
                        "or a gateway; for Claude Code use --fallback-model and a second platform.")
    return out
