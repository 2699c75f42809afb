"""The hot-path price snapshot must price exactly as genai-prices does."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.runtime.money import pricing

ANTHROPIC_IDS = [m["id"] for m in pricing.build_snapshot()["models"]]
CLAUDE_CODE_IDS = ["claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-2",
                   "claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"]


def genai(model: str, u: dict[str, int], when: str = "2026-11-26T00:00:00+00:00") -> Decimal:
    from datetime import datetime

    total_write = u["cache_write_5m"] + u["cache_write_1h"]
    usage = Usage(input_tokens=u["input"] + u["cache_read"] + total_write, output_tokens=u["output"],
                  cache_read_tokens=u["cache_read"], cache_write_tokens=total_write,
                  cache_write_1h_tokens=u["cache_write_1h"])
    return calc_price(usage, model, provider_id="anthropic",
                      genai_request_timestamp=datetime.fromisoformat(when)).total_price


tokens = st.integers(min_value=0, max_value=400_000)
usages = st.fixed_dictionaries({"input": tokens, "output": st.integers(0, 64_000), "cache_read": tokens,
                                "cache_write_5m": tokens, "cache_write_1h": tokens})


@settings(max_examples=300, deadline=None)
@given(model=st.sampled_from(ANTHROPIC_IDS + CLAUDE_CODE_IDS), u=usages)
def test_snapshot_prices_match_genai_prices(model: str, u: dict[str, int]) -> None:
    table = pricing.PriceTable(pricing.build_snapshot())
    assert table.price_request(model, u, "2026-11-26T00:00:00Z") == genai(model, u)


@pytest.mark.parametrize("when", ["2026-01-01T00:00:00+00:00", "2026-03-13T00:00:00+00:00",
                                  "2026-12-01T00:00:00+00:00"])
def test_dated_prices_follow_genai_prices(when: str) -> None:
    table = pricing.PriceTable(pricing.build_snapshot())
    u = {"input": 250_000, "output": 1000, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0}
    for model in ("claude-opus-4-6", "claude-sonnet-4-6"):
        assert table.price_request(model, u, when) == genai(model, u, when)


def test_sample_session_cost_matches_claude_code(samples) -> None:  # type: ignore[no-untyped-def]
    """print-mode-result.json: Claude Code charged $0.0014375 for the two haiku agents."""
    result = json.loads((samples / "print-mode-result.json").read_text())
    mu = result["modelUsage"]["claude-haiku-5-5"]
    table = pricing.table()
    got = table.price_request("claude-haiku-5-5", {
        "input": mu["inputTokens"], "output": mu["outputTokens"], "cache_read": mu["cacheReadInputTokens"],
        "cache_write_5m": mu["cacheCreationEphemeral5mInputTokens"],
        "cache_write_1h": mu["cacheCreationEphemeral1hInputTokens"]})
    assert abs(got - Decimal(str(mu["costUSD"]))) < Decimal("0.000001")


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(pricing.UnknownModel, match="no price for model 'gpt-nonexistent'"):
        pricing.table().price_request("gpt-nonexistent", {"input": 1})


def test_override_file_replaces_prices(data_dir) -> None:  # type: ignore[no-untyped-def]
    (data_dir / "prices.override.json").write_text(json.dumps(
        {"models": {"claude-haiku-5-5": {"input_mtok": "1", "output_mtok": 2}, "my-proxy-*": {"input_mtok": "3"}}}))
    pricing.reset()
    table = pricing.table()
    assert table.price_request("claude-haiku-5-5", {"input": 1_000_000, "output": 1_000_000}) == Decimal(3)
    assert table.price_request("my-proxy-model", {"input": 1_000_000}) == Decimal(3)


def test_bad_override_file_is_one_line_and_ignored(data_dir) -> None:  # type: ignore[no-untyped-def]
    (data_dir / "prices.override.json").write_text("{nope")
    warnings: list[str] = []
    assert pricing.load_overrides(warnings) == {}
    assert len(warnings) == 1 and "prices.override.json" in warnings[0] and "\n" not in warnings[0]
    (data_dir / "prices.override.json").write_text(json.dumps({"models": {"x": {"input_mtok": "cheap"}}}))
    warnings.clear()
    assert pricing.load_overrides(warnings) == {}
    assert "models.x.input_mtok" in warnings[0]


def test_broken_cache_falls_back_to_the_shipped_snapshot_and_is_rebuilt(data_dir) -> None:  # type: ignore[no-untyped-def]
    (data_dir / "cache" / "prices.json").write_text("garbage")
    pricing.reset()
    assert pricing.table().find("claude-opus-5-5") is not None  # the shipped one, no genai-prices import
    assert pricing.table().snapshot == pricing.load_shipped()
    pricing.ensure_snapshot()
    assert json.loads((data_dir / "cache" / "prices.json").read_text())["source"] == "genai-prices"


def test_missing_cache_uses_the_shipped_snapshot(data_dir) -> None:  # type: ignore[no-untyped-def]
    (data_dir / "cache" / "prices.json").unlink()
    pricing.reset()
    assert pricing.table().find("claude-haiku-5-5") is not None
    assert not (data_dir / "cache" / "prices.json").exists()


def test_shipped_snapshot_equals_the_pinned_genai_prices() -> None:
    """lib/model_strategy/data/prices.json is what build_snapshot() gives now: a genai-prices bump fails
    here until `scripts/build-prices` regenerates it."""
    fresh = json.loads(json.dumps(pricing.build_snapshot()))
    assert pricing.load_shipped() == fresh, "run scripts/build-prices"
