"""Capability gaps (with severity) and the upgrade roadmap: which use cases or agent types should move
to which model, how urgently, and what that is worth per month.

Evidence comes from the records when there are any: the model mix per use case, prompts that cross
a long-context tier, agents whose task complexity was low but ran on opus or fable, previous-
generation models still in use, and routing decisions Claude Code did not apply.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NotRequired, TypedDict

from model_strategy.commands.base.words import plural
from model_strategy.commands.knowledge.catalog import Catalog
from model_strategy.commands.knowledge.usecases import Profile
from model_strategy.commands.usage import analytics
from model_strategy.commands.usage.analytics import BucketKey, Summary
from model_strategy.runtime.base.kinds import TIERS
from model_strategy.runtime.money import rates
from model_strategy.runtime.settings.values import Config

from .strategy import Recommendation


class Gap(TypedDict):
    severity: str  # high | medium | low
    area: str
    gap: str


#: a move on the roadmap: what moves, from which model to which, how urgently, and what it saves a month
RoadmapItem = TypedDict("RoadmapItem", {
    "what": str, "usecase": NotRequired[str], "from": str, "to": str, "urgency": str, "saving_usd": Decimal,
    "why": str})


class Roadmap(TypedDict):
    gaps: list[Gap]
    items: list[RoadmapItem]


def urgency(saving: Decimal, monthly_spend: Decimal) -> str:
    share = saving / monthly_spend if monthly_spend else Decimal(0)
    if saving >= 20 or share >= Decimal("0.10"):
        return "now"
    if saving >= 5 or share >= Decimal("0.02"):
        return "this month"
    return "next quarter"


def severity(share: Decimal) -> str:
    return "high" if share >= Decimal("0.25") else "medium" if share >= Decimal("0.05") else "low"


def build(catalog: Catalog, recs: list[Recommendation], profiles: list[Profile],
          summary: Summary | None, cfg: Config, day: str) -> Roadmap:
    gaps: list[Gap] = []
    items: list[RoadmapItem] = []
    max_tier = str(cfg.get("max_tier", "opus"))
    for rec in recs:
        if rec.reasons and rec.reasons[0].startswith("no model meets"):
            gaps.append({"severity": "high", "area": rec.name, "gap": rec.reasons[0]})
        tier = analytics.tier_of(rec.primary) if catalog.models[rec.primary]["claude_code"] else None
        if tier and TIERS.index(tier) > TIERS.index(max_tier):
            gaps.append({"severity": "medium", "area": rec.name,
                         "gap": f"needs {tier} but the plugin's max_tier is {max_tier}; raise max_tier "
                                f"or accept {max_tier} for this work"})
    horizon = _plus_days(day, 60)
    for mid in sorted({r.primary for r in recs} | {s.model for r in recs for s in r.chain}):
        for start, new in rates.upcoming(catalog.cards[mid], day, horizon):
            old = catalog.prices(mid, day)
            ratio = rates.unit(new["input_mtok"], 0) / rates.unit(old["input_mtok"], 0) if "input_mtok" in new else 1
            gaps.append({"severity": "medium" if ratio > 1 else "low", "area": mid,
                         "gap": f"list price changes on {start} (input x{ratio:.2f}); re-run before relying on it"})
    if summary is None or not summary["records"]:
        gaps.append({"severity": "low", "area": "records",
                     "gap": "no usage records yet: projections use the use-case assumptions"})
        return {"gaps": gaps, "items": items}
    scale = analytics.scale_to_month(summary)
    spend = summary["cost"] * scale
    _previous_generation(catalog, summary, scale, spend, day, gaps, items)
    _overkill(catalog, summary, scale, spend, day, cfg, recs, items)
    _tiers(catalog, summary, day, gaps)
    if summary["mismatches"]:
        share = Decimal(summary["mismatches"]) / summary["records"]
        gaps.append({"severity": severity(share), "area": "routing",
                     "gap": f"{plural(summary['mismatches'], 'agent')} ran on another model than the one chosen "
                            "(explicit model in the spawn, or the hooks were not active)"})
    for rec in recs:
        _move(catalog, summary, rec, scale, spend, day, items)
    items.sort(key=lambda i: (("now", "this month", "next quarter").index(i["urgency"]), -i["saving_usd"]))
    return {"gaps": gaps, "items": items}


def _plus_days(day: str, n: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


def _previous_generation(catalog: Catalog, summary: Summary, scale: Decimal, spend: Decimal, day: str,
                         gaps: list[Gap], items: list[RoadmapItem]) -> None:
    olds: dict[str, list[BucketKey]] = {}
    for key in summary["buckets"]:
        mid = catalog.match(key[2])
        if mid and catalog.models[mid]["status"] == "previous":
            olds.setdefault(mid, []).append(key)
    for mid, keys in sorted(olds.items()):
        successor = catalog.models[mid]["successor"]
        if successor is None:  # nothing to move to (the catalog names a successor for previous models)
            continue
        actual = sum((summary["buckets"][k]["cost"] for k in keys), Decimal(0)) * scale
        after = analytics.reprice(summary, catalog, successor, day, keys) * scale
        share = actual / spend if spend else Decimal(0)
        gaps.append({"severity": severity(share), "area": mid,
                     "gap": f"previous-generation model carries {share:.0%} of spend"})
        items.append({"what": f"agents on {mid}", "from": mid, "to": successor,
                      "urgency": "now" if after < actual else urgency(Decimal(0), spend),
                      "saving_usd": actual - after, "why": f"{successor} is the current {catalog.models[mid]['tier']}"})


def _overkill(catalog: Catalog, summary: Summary, scale: Decimal, spend: Decimal, day: str,
              cfg: Config, recs: list[Recommendation], items: list[RoadmapItem]) -> None:
    """Agent types that routinely ran on opus/fable although their task complexity was below the
    "complex" threshold -- moved to their use case's recommended model when that is a lower tier."""
    primary = {rec.usecase: rec.primary for rec in recs}
    for agent, over in sorted(summary["overkill"].items()):
        uc = summary["by_agent"][agent]["usecase"]
        target = primary.get(uc)
        if target is None or analytics.tier_of(target) in (*analytics.TOP_TIERS, None):
            continue  # not asked about, or the use case does need the top tiers
        if over["records"] < 3 or over["records"] * 2 < over["agent_records"]:
            continue  # not routine
        actual = sum((row_cost for _, _, _, row_cost in over["rows"]), Decimal(0)) * scale
        after = analytics.reprice_rows(over["rows"], catalog, target, day, summary["thresholds"]) * scale
        if after >= actual:
            continue
        items.append({"what": f"agent type {agent}", "usecase": uc, "from": "opus/fable", "to": target,
                      "urgency": urgency(actual - after, spend), "saving_usd": actual - after,
                      "why": f"{over['records']} of {over['agent_records']} runs scored below "
                             f"complex ({cfg.get('complexity', {}).get('complex_from', 0.7)}) yet ran on opus/fable"})


def _tiers(catalog: Catalog, summary: Summary, day: str, gaps: list[Gap]) -> None:
    """Records on a model with long-context tiers whose prompts crossed a threshold."""
    for (_uc, agent, model_id, band), b in summary["buckets"].items():
        mid = catalog.match(model_id)
        if not mid or band == 0:
            continue
        starts = sorted(rates.tier_starts(catalog.prices(mid, day)))
        rep = analytics.band_input(band, summary["thresholds"])
        if starts and rep > starts[0]:
            gaps.append({"severity": "medium", "area": f"{agent} on {mid}",
                         "gap": f"{plural(b['requests'], 'request')} averaged over {starts[0]:,} input tokens: billed "
                                "at the long-context rate; trim context or use a flat-priced model"})


def _move(catalog: Catalog, summary: Summary, rec: Recommendation, scale: Decimal, spend: Decimal,
          day: str, items: list[RoadmapItem]) -> None:
    keys = [k for k in summary["buckets"] if k[0] == rec.usecase]
    if not keys:
        return
    reqs: dict[str, int] = {}
    for k in keys:
        mid = catalog.match(k[2]) or k[2]
        reqs[mid] = reqs.get(mid, 0) + summary["buckets"][k]["requests"]
    dominant = max(reqs, key=lambda m: (reqs[m], m))
    if dominant == rec.primary or dominant not in catalog.models:
        return
    if catalog.models[dominant].get("successor") == rec.primary:
        return  # the previous-generation item covers it
    actual = sum((summary["buckets"][k]["cost"] for k in keys), Decimal(0)) * scale
    after = analytics.reprice(summary, catalog, rec.primary, day, keys) * scale
    up = catalog.models[rec.primary]["quality"] > catalog.models[dominant]["quality"]
    if after >= actual and not up:
        return
    if any(i.get("usecase") == rec.usecase and i["to"] == rec.primary for i in items):
        return  # the agent-type evidence already covers this use case
    items.append({"what": rec.name, "usecase": rec.usecase, "from": dominant, "to": rec.primary,
                  "urgency": urgency(actual - after, spend) if after < actual else "next quarter",
                  "saving_usd": actual - after,
                  "why": "meets the quality floor at lower cost" if after < actual
                  else f"{rec.complexity} work: evaluate {rec.primary} on a sample first (costs more)"})
