"""Use-case analysis, recommendations, routing, fallback chains, projections and vendor risk."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.commands.knowledge import catalog, usecases
from model_strategy.commands.strategy import projection, resilience, strategy

CAT = catalog.Catalog(catalog.build())  # built in memory: nothing written at collection time
DAY = "2026-11-26"
UC = {u["id"]: u for u in CAT.usecases}


def prof(uid: str, **over: Any) -> dict[str, Any]:
    p = usecases.profile_for(UC[uid], query=uid, how="keywords", confidence=0.9)
    volume = over.pop("volume", {})
    p.update(over)
    p["volume"].update(volume)
    return p


# ---------------------------------------------------------------- use-case analysis


@pytest.mark.parametrize("text, expected", [
    ("code review", ["code-review"]),
    ("/model-strategy code review", ["code-review"]),
    ("review our pull requests", ["code-review"]),
    ("docs and tests", ["documentation", "test-writing"]),
    ("security audit of the payment service", ["security-audit"]),
    ("classify support tickets", ["classification"]),
    ("nightly codemods", ["ci-batch"]),
    ("where is the auth middleware? search the codebase", ["codebase-search"]),
    ("make me a sandwich", ["general-agent"]),
])
def test_parse_recognises_use_cases(text: str, expected: list[str]) -> None:
    assert [p["id"] for p in usecases.parse(text, CAT.usecases)] == expected


def test_parse_reads_volume_tokens_and_wording() -> None:
    [p] = usecases.parse("code review, 500 PRs a day, 200k tokens each, cheap", CAT.usecases)
    assert p["volume"]["requests_per_day"] == 500
    assert p["volume"]["input_tokens"] == 200_000
    assert p["cost_sensitivity"] == "high"
    assert set(p["overrides"]) == {"volume", "input_tokens", "cost_sensitivity"}
    [q] = usecases.parse("summaries, 3k per week, real-time", CAT.usecases)
    assert q["volume"]["requests_per_day"] == pytest.approx(3000 / 7, rel=1e-3)
    assert q["workload"] == "real-time interactive"


def test_parse_confidence_and_default() -> None:
    [strong] = usecases.parse("code review", CAT.usecases)
    [weak] = usecases.parse("please help", CAT.usecases)
    assert strong["match_confidence"] > 0.8
    assert weak["matched_by"] == "default" and weak["match_confidence"] < 0.5
    assert usecases.parse("   ", CAT.usecases) == []


@pytest.mark.parametrize("agent, kind, uc", [
    ("Explore", "subagent", "codebase-search"), ("Plan", "subagent", "planning"),
    ("code-reviewer", "subagent", "code-review"), ("general-purpose", "subagent", "general-agent"),
    ("unit-test-writer", "subagent", "test-writing"), ("whatever", "subagent", "general-agent"),
    ("main-thread", "main", "interactive-coding"),
])
def test_agent_types_map_to_use_cases(agent: str, kind: str, uc: str) -> None:
    assert usecases.for_agent(agent, kind, CAT.usecases) == uc


# ---------------------------------------------------------------- recommendations


@pytest.mark.parametrize("uid", sorted(UC))
def test_every_use_case_gets_a_consistent_recommendation(uid: str) -> None:
    p = prof(uid)
    rec = strategy.recommend(CAT, p, DAY)
    assert rec.primary in CAT.models and CAT.models[rec.primary]["status"] == "current"
    assert all(step.model in CAT.models for step in rec.chain)
    assert rec.fallback != rec.primary
    assert rec.routing in strategy.ROUTINGS
    assert 0.3 <= rec.confidence <= 0.95 and rec.reasons
    if p["claude_code"]:
        assert CAT.models[rec.primary]["claude_code"]
    m = CAT.models[rec.primary]
    assert strategy.why_not(m, p) is None  # every shipped use case has an eligible model
    assert m["quality"] >= strategy.QUALITY_FLOOR[p["complexity"]]


def test_expected_choices_for_typical_claude_code_work() -> None:
    assert strategy.recommend(CAT, prof("codebase-search"), DAY).alias == "haiku"
    assert strategy.recommend(CAT, prof("code-review"), DAY).alias == "sonnet"
    assert strategy.recommend(CAT, prof("debugging"), DAY).alias == "opus"
    assert strategy.recommend(CAT, prof("research"), DAY).routing == "quality-first"


def test_cost_sensitivity_moves_the_choice_down() -> None:
    rich = strategy.recommend(CAT, prof("planning", cost_sensitivity="low"), DAY)
    cheap = strategy.recommend(CAT, prof("planning", cost_sensitivity="high", complexity="moderate"), DAY)
    assert rich.cost_per_request > cheap.cost_per_request


def test_context_rules_out_small_windows() -> None:
    p = prof("classification", volume={"input_tokens": 300_000})
    for row in strategy.rank(CAT, p, DAY):
        if CAT.models[row.model]["context_window"] < 300_050:
            assert row.why_not and "context" in row.why_not


def test_no_eligible_model_is_said_plainly() -> None:
    p = prof("debugging", volume={"input_tokens": 2_000_000})
    rec = strategy.recommend(CAT, p, DAY)
    assert rec.reasons[0].startswith("no model meets every need")


@pytest.mark.parametrize("uid, routing", [
    ("security-audit", "quality-first"), ("data-extraction", "cost-optimised"),
    ("classification", "cascade"), ("code-generation", "complexity-based"), ("support-chat", "single model"),
])
def test_routing_rules(uid: str, routing: str) -> None:
    assert strategy.routing(prof(uid))[0] == routing


def test_fallback_chain_same_vendor_then_other_vendor() -> None:
    rec = strategy.recommend(CAT, prof("code-review"), DAY)
    kinds = [s.kind for s in rec.chain]
    assert kinds[0] == "same vendor, lower tier" and kinds[-1].startswith("other vendor")
    vendors = [CAT.models[s.model]["vendor"] for s in rec.chain]
    assert vendors[0] == "Anthropic" and vendors[-1] != "Anthropic"
    haiku = strategy.recommend(CAT, prof("codebase-search"), DAY)  # lowest tier: previous generation
    assert haiku.chain[0] == strategy.ChainStep("claude-haiku-4-5", "same vendor, previous generation")


profiles = st.builds(
    lambda uid, cx, lat, cost, rpd, tin, tout, cached: prof(
        uid, complexity=cx, latency=lat, cost_sensitivity=cost,
        volume={"requests_per_day": rpd, "input_tokens": tin, "output_tokens": tout, "cached_share": cached,
                "cache_write_share": round((1 - cached) / 4, 4)}),
    st.sampled_from(sorted(UC)), st.sampled_from(["simple", "moderate", "complex"]),
    st.sampled_from(["critical", "important", "relaxed"]), st.sampled_from(["low", "medium", "high"]),
    st.floats(0.1, 50_000), st.integers(100, 1_200_000), st.integers(10, 150_000), st.floats(0, 0.95))


@settings(max_examples=80, deadline=None)
@given(p=profiles)
def test_every_recommended_model_is_in_the_catalog(p: dict[str, Any]) -> None:
    rec = strategy.recommend(CAT, p, DAY)
    for mid in [rec.primary, rec.fallback, *(s.model for s in rec.chain)]:
        assert mid is None or mid in CAT.models
    for row in rec.ranked:
        assert row.model in CAT.models


@settings(max_examples=80, deadline=None)
@given(p=profiles, k=st.integers(1, 1000))
def test_projection_is_linear_in_volume(p: dict[str, Any], k: int) -> None:
    model = strategy.recommend(CAT, p, DAY).primary
    scaled = copy.deepcopy(p)
    scaled["volume"]["requests_per_day"] = p["volume"]["requests_per_day"] * k
    base = projection.monthly_cost(CAT, model, p, DAY)
    assert projection.monthly_cost(CAT, model, scaled, DAY) == pytest.approx(base * k, rel=Decimal("1e-12"))
    assert projection.monthly_requests(scaled) == pytest.approx(projection.monthly_requests(p) * k)


def test_projection_arithmetic_by_hand() -> None:
    p = prof("code-review", volume={"requests_per_day": 10, "input_tokens": 1_000_000, "output_tokens": 100_000,
                                    "cached_share": 0.5, "cache_write_share": 0.1})
    # sonnet 5.5: $2 in, $10 out, $0.1 cache read, $2.5 cache write per MTok
    per_request = Decimal("0.4") * 2 + Decimal("0.5") * Decimal("0.1") + Decimal("0.1") * Decimal("2.5") + Decimal(1)
    assert projection.cost_per_request(CAT, "claude-sonnet-5-5", p, DAY) == per_request
    assert projection.monthly_cost(CAT, "claude-sonnet-5-5", p, DAY) == per_request * 300


# ---------------------------------------------------------------- resilience


@pytest.mark.parametrize("share, level", [("0.95", "high"), ("0.9", "high"), ("0.7", "medium"), ("0.5", "low")])
def test_vendor_risk_levels(share: str, level: str) -> None:
    s = Decimal(share)
    spend = {"claude-sonnet-5-5": s * 100, "gpt-6.1-sol": (1 - s) * 100}
    risk = resilience.vendor_risk(CAT, spend, "test")
    assert risk["risk"] == level and risk["concentration"] == s
    assert sum((v["share"] for v in risk["vendors"]), Decimal(0)) == 1
    assert risk["mitigations"]


def test_vendor_risk_without_spend_and_unknown_models() -> None:
    assert resilience.vendor_risk(CAT, {}, "none")["risk"] == "unknown"
    risk = resilience.vendor_risk(CAT, {"claude-opus-4-8": Decimal(5)}, "records")
    assert risk["top_vendor"] == "Anthropic"


def test_policies_cover_every_workload() -> None:
    for uc in CAT.usecases:
        pol = resilience.policy(uc["workload"])
        assert int(pol["retries"]) >= 1 and pol["breaker"] and "429" in pol["retry_on"]
