"""Recommendations: for a use-case profile, a primary model, a fallback and a routing strategy,
with a confidence and the reasons.

Eligible models meet the use case's quality floor (simple 4, moderate 6, complex 8 on the
catalog's 1-10 scale), its latency need and its context.  Among them the utility

    0.6 x (needed strengths the model has) + 0.35 x (quality above the floor)
    - w x log2(cost per request / cheapest eligible cost),   w = 3 / 1.5 / 0.4 for high / medium / low
      cost sensitivity

picks the primary.  Claude Code workloads are matched to models Claude Code runs (current Claude
models); API workloads to every current model in the catalog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from model_strategy.commands.knowledge.catalog import Catalog, ModelInfo
from model_strategy.commands.knowledge.usecases import Profile

from . import projection

QUALITY_FLOOR = {"simple": 4, "moderate": 6, "complex": 8}
COST_WEIGHT = {"high": 3.0, "medium": 1.5, "low": 0.4}
LATENCY_OK = {"critical": ("fastest", "fast"), "important": ("fastest", "fast", "moderate"),
              "relaxed": ("fastest", "fast", "moderate", "slow")}
ROUTINGS = ("single model", "cascade", "complexity-based", "cost-optimised", "quality-first")


@dataclass(frozen=True)
class Ranked:
    """A model ranked for a profile: why it is not eligible (None: it is), its cost per request, the
    profile's needs among its strengths, and its utility."""

    model: str
    why_not: str | None
    cost: Decimal
    fit: tuple[str, ...]
    utility: float


@dataclass(frozen=True)
class ChainStep:
    """A fallback: the model and what kind of step it is (same vendor, lower tier; other vendor ...)."""

    model: str
    kind: str


@dataclass(frozen=True)
class Recommendation:
    """The pick for one use-case profile (``recommend``)."""

    usecase: str
    name: str
    complexity: str
    primary: str
    alias: str | None
    fallback: str | None
    chain: tuple[ChainStep, ...]
    routing: str
    routing_why: str
    confidence: float
    reasons: tuple[str, ...]
    cost_per_request: Decimal
    ranked: tuple[Ranked, ...]  # the best six


def candidates(catalog: Catalog, profile: Profile) -> list[str]:
    return [mid for mid, m in catalog.models.items()
            if m["status"] == "current" and (m["claude_code"] or not profile["claude_code"])]


def why_not(model: ModelInfo, profile: Profile, quality: bool = True) -> str | None:
    """Why a model is not eligible for the profile (None: eligible).  Without ``quality`` only the
    hard limits count (fallbacks may be weaker than the primary)."""
    v = profile["volume"]
    if v["input_tokens"] + v["output_tokens"] > model["context_window"]:
        return f"context {model['context_window']:,} < {v['input_tokens'] + v['output_tokens']:,} tokens"
    if model["max_output_tokens"] is not None and v["output_tokens"] > model["max_output_tokens"]:
        return f"output limit {model['max_output_tokens']:,}"
    if quality and model["quality"] < QUALITY_FLOOR[profile["complexity"]]:
        floor = QUALITY_FLOOR[profile["complexity"]]
        return f"quality {model['quality']} below {floor} for {profile['complexity']} work"
    if model["latency"] not in LATENCY_OK[profile["latency"]]:
        return f"{model['latency']} latency for a {profile['latency']} latency need"
    return None


def rank(catalog: Catalog, profile: Profile, day: str, pool: list[str] | None = None) -> list[Ranked]:
    """Every candidate with its cost per request, eligibility and utility, best first."""
    found: list[tuple[str, str | None, Decimal, tuple[str, ...]]] = []
    for mid in pool if pool is not None else candidates(catalog, profile):
        m = catalog.models[mid]
        found.append((mid, why_not(m, profile), projection.cost_per_request(catalog, mid, profile, day),
                      tuple(sorted(set(profile["needs"]) & set(m["strengths"])))))
    cheapest = min((cost for _, why, cost, _ in found if why is None), default=Decimal(0))
    weight = COST_WEIGHT[profile["cost_sensitivity"]]
    floor = QUALITY_FLOOR[profile["complexity"]]
    rows: list[Ranked] = []
    for mid, why, cost, fit in found:
        q = catalog.models[mid]["quality"]
        ratio = float(cost / cheapest) if cheapest > 0 and cost > 0 else 1.0
        rows.append(Ranked(mid, why, cost, fit,
                           round(0.6 * len(fit) + 0.35 * (q - floor) - weight * math.log2(max(ratio, 1e-9)), 3)))
    rows.sort(key=lambda r: (r.why_not is not None, -r.utility, -catalog.models[r.model]["quality"], r.model))
    return rows


def routing(profile: Profile) -> tuple[str, str]:
    """The routing strategy for a profile and why."""
    cx, cost, wl = profile["complexity"], profile["cost_sensitivity"], profile["workload"]
    per_day = float(profile["volume"]["requests_per_day"])
    if cx == "complex" and cost == "low":
        return "quality-first", "complex work where mistakes cost more than tokens: strongest model first"
    if wl in ("batch", "async") and cost == "high":
        return "cost-optimised", "no one is waiting: batch/off-peak pricing and the smallest adequate model"
    if cx == "simple" and cost == "high" and per_day >= 200:
        return "cascade", "high volume of simple requests: small model first, escalate only when it fails a check"
    if "main-thread" in profile.get("agent_patterns", ()):
        return "complexity-based", ("you pick the main thread's model: /model opus for hard problems, "
                                    "/model sonnet for routine edits (the plugin routes subagents only)")
    if profile["claude_code"] and cx != "simple":
        return "complexity-based", ("tasks vary in difficulty: route each spawn by its complexity "
                                    "(the plugin's selector)")
    return "single model", "uniform requests: one model keeps behaviour predictable"


def fallback_chain(catalog: Catalog, profile: Profile, primary: str, day: str) -> list[ChainStep]:
    """Availability fallbacks: same vendor one tier down (or the previous generation), then the best
    eligible model of another vendor."""
    p = catalog.models[primary]
    chain: list[ChainStep] = []
    ok_latency = LATENCY_OK[profile["latency"]]
    same = [mid for mid, m in catalog.models.items()
            if m["vendor"] == p["vendor"] and m["status"] == "current" and m["quality"] < p["quality"]
            and m["latency"] in ok_latency and why_not(m, profile, quality=False) is None]
    if same:
        step = max(same, key=lambda mid: catalog.models[mid]["quality"])
        chain.append(ChainStep(step, "same vendor, lower tier"))
    else:
        prev = [mid for mid, m in catalog.models.items()
                if m.get("successor") == primary and why_not(m, profile, quality=False) is None]
        if prev:
            chain.append(ChainStep(prev[0], "same vendor, previous generation"))
    others = [mid for mid, m in catalog.models.items() if m["vendor"] != p["vendor"] and m["status"] == "current"]
    ranked = rank(catalog, profile, day, others)
    if ranked:
        best = ranked[0]
        chain.append(ChainStep(best.model, "other vendor" if best.why_not is None
                               else f"other vendor ({best.why_not})"))
    return chain


def recommend(catalog: Catalog, profile: Profile, day: str) -> Recommendation:
    ranked = rank(catalog, profile, day)
    eligible = [r for r in ranked if r.why_not is None]
    reasons: list[str] = []
    if not eligible:  # nothing meets every need: the closest model, and say what is missing
        best = ranked[0]
        reasons.append(f"no model meets every need; closest is {best.model} ({best.why_not})")
        margin = 0.0
    else:
        best = eligible[0]
        margin = (best.utility - eligible[1].utility) if len(eligible) > 1 else 1.0
        runner = eligible[1].model if len(eligible) > 1 else None
        m = catalog.models[best.model]
        fit = f"; strengths: {', '.join(best.fit)}" if best.fit else ""
        reasons.append(f"quality {m['quality']}/10 (floor {QUALITY_FLOOR[profile['complexity']]} for "
                       f"{profile['complexity']} work), latency {m['latency']} (need: {profile['latency']}){fit}")
        reasons.append(f"${best.cost:.4f} per request at list prices"
                       + (f"; next best {runner} at ${eligible[1].cost:.4f}" if runner else ""))
        skipped = [r for r in ranked if r.why_not and r.cost < best.cost]
        if skipped:
            near = max(skipped, key=lambda r: r.cost)
            reasons.append(f"cheaper {near.model} ruled out: {near.why_not}")
    chain = fallback_chain(catalog, profile, best.model, day)
    route, route_why = routing(profile)
    margin_factor = min(1.0, 0.55 + max(margin, 0.0) / 2)
    confidence = round(max(0.3, min(0.95, 0.5 * float(profile["match_confidence"]) + 0.5 * margin_factor)), 2)
    return Recommendation(
        usecase=profile["id"], name=profile["name"], complexity=profile["complexity"], primary=best.model,
        alias=catalog.alias_of(best.model), fallback=chain[0].model if chain else None, chain=tuple(chain),
        routing=route, routing_why=route_why, confidence=confidence, reasons=tuple(reasons),
        cost_per_request=best.cost, ranked=tuple(ranked[:6]))
