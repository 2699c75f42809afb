"""The catalog: data files validate, every model exists in genai-prices, and every price the
commands use agrees with genai-prices' own calculation."""

from __future__ import annotations

import json
import shutil
import typing
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.commands.knowledge import catalog, specs
from model_strategy.runtime.money import rates

DAYS = ("2026-09-01", "2026-11-26", "2027-01-15")
CAT = catalog.Catalog(catalog.build())  # built in memory: nothing written at collection time


def _raw(path: str) -> dict[str, typing.Any]:
    return typing.cast("dict[str, typing.Any]", json.loads(Path(path).read_text()))


def test_data_files_validate() -> None:
    cat = specs.CatalogFile.model_validate(_raw(catalog.CATALOG_FILE))
    ucs = specs.UseCaseFile.model_validate(_raw(catalog.USECASES_FILE))
    assert cat.source and cat.as_of and len(cat.models) >= 20
    assert len(ucs.usecases) >= 10


def test_catalog_covers_claude_code_tiers_and_other_vendors() -> None:
    tiers = {(m["tier"], m["status"]) for m in CAT.models.values() if m["family"] == "claude"}
    for tier in ("haiku", "sonnet", "opus", "fable"):
        assert (tier, "current") in tiers and (tier, "previous") in tiers
    vendors = set(CAT.vendors())
    assert {"Anthropic", "OpenAI", "Google", "xAI", "Mistral", "DeepSeek", "Meta"} <= vendors
    for vendor in vendors - {"Anthropic"}:  # a flagship and a smaller model each
        cats = {CAT.models[m]["category"] for m in CAT.ids(vendor)}
        assert len(cats) >= 2 and cats & {"frontier-reasoning", "balanced"}, vendor
    assert set(typing.get_args(specs.Category)) == set(catalog.CATEGORIES)


def test_no_price_in_the_data_file() -> None:
    """Prices come from genai-prices only: no price field and no dollar amount in the catalog."""
    models = _raw(catalog.CATALOG_FILE)["models"]
    assert not any(k for m in models for k in m if "price" in k or "mtok" in k or "cost" in k)
    assert "$" not in Path(catalog.CATALOG_FILE).read_text()


def test_every_model_is_in_genai_prices_with_its_context_window() -> None:
    from genai_prices import data_snapshot

    snap = data_snapshot.get_snapshot()
    for mid, m in CAT.models.items():
        provider = next(p for p in snap.providers if p.id == m["provider"])
        gp = next((x for x in provider.models if x.id == mid), None)
        assert gp is not None, mid
        if gp.context_window:
            assert gp.context_window == m["context_window"], mid


def test_aliases_name_current_claude_code_models() -> None:
    for alias, mid in CAT.aliases.items():
        assert CAT.models[mid]["claude_code"] and CAT.models[mid]["status"] == "current"
        assert alias in mid
        assert CAT.resolve(alias) == mid


def test_resolve_ids_names_and_recorded_ids() -> None:
    assert CAT.resolve("Claude Sonnet 5.5") == "claude-sonnet-5-5"
    assert CAT.resolve("GPT-6.1-SOL") == "gpt-6.1-sol"
    assert CAT.match("claude-haiku-5-5-20261007") == "claude-haiku-5-5"
    assert CAT.resolve("no-such-model") is None


usage = st.fixed_dictionaries({
    "input": st.integers(0, 400_000), "output": st.integers(0, 100_000), "cache_read": st.integers(0, 400_000),
    "cache_write_5m": st.integers(0, 100_000), "cache_write_1h": st.integers(0, 100_000),
})


@settings(max_examples=60, deadline=None)
@given(tokens=usage, day=st.sampled_from(DAYS), model=st.sampled_from(sorted(CAT.models)))
def test_catalog_prices_agree_with_genai_prices(tokens: dict[str, int], day: str, model: str) -> None:
    """Fails as soon as a catalog price (standard or batch) disagrees with genai-prices."""
    from genai_prices import Usage, calc_price

    provider = CAT.models[model]["provider"]
    ts = datetime.fromisoformat(day).replace(hour=12, tzinfo=timezone.utc)  # off-peak for DeepSeek
    total_in = sum(v for k, v in tokens.items() if k != "output")
    gp_usage = Usage(input_tokens=total_in, output_tokens=tokens["output"], cache_read_tokens=tokens["cache_read"],
                     cache_write_tokens=tokens["cache_write_5m"] + tokens["cache_write_1h"],
                     cache_write_1h_tokens=tokens["cache_write_1h"])
    expected = calc_price(gp_usage, model, provider_id=provider, genai_request_timestamp=ts).total_price
    assert rates.cost(CAT.prices(model, day), tokens) == expected
    batch = CAT.batch_prices(model, day)
    if batch is not None:
        got = calc_price(gp_usage, model, provider_id=provider, genai_request_timestamp=ts,
                         price_context={"processing": "batch"}).total_price
        assert rates.cost(batch, tokens) == got


def test_tier_is_chosen_per_request() -> None:
    prices = CAT.prices("claude-haiku-5-5", "2026-11-26")
    tokens = {"input": 150_000, "output": 1000}
    one_big = rates.cost(prices, tokens)  # one request of 150k: long-context rate
    two_small = rates.cost(prices, tokens, per_request_input=75_000)  # two of 75k: base rate
    assert one_big == 5 * two_small
    assert rates.base(prices, "input") == Decimal("0.1")


def test_cache_is_reused_and_rebuilt_when_the_data_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "catalog.json"
    shutil.copy(catalog.CATALOG_FILE, copy)
    monkeypatch.setattr(catalog, "CATALOG_FILE", str(copy))
    catalog._MEMO.clear()
    first = catalog.load()
    assert Path(catalog.cache_path()).exists()
    catalog._MEMO.clear()
    calls = []
    monkeypatch.setattr(catalog, "build", lambda: calls.append(1) or first.data)
    catalog.load()
    assert calls == []  # warm: read from the cache file
    data = json.loads(copy.read_text())
    data["as_of"] = "2026-11-27"
    copy.write_text(json.dumps(data))
    catalog.load()
    assert calls == [1]  # the data file changed: rebuilt


def test_bad_catalog_is_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "catalog.json"
    data = _raw(catalog.CATALOG_FILE)
    data["models"].append(dict(data["models"][0]))
    bad.write_text(json.dumps(data))
    monkeypatch.setattr(catalog, "CATALOG_FILE", str(bad))
    catalog._MEMO.clear()
    with pytest.raises(catalog.CatalogError, match="duplicate model ids: claude-fable-5-2") as err:
        catalog.load()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["models"][1].update(successor="nope"), "successor"),
    (lambda d: d["claude_code_aliases"].update(luna="gpt-6-luna"), "alias"),
    (lambda d: d["models"][0].update(category="huge"), "category"),
    (lambda d: d["models"][0].update(price=1), "price"),
])
def test_schema_rejects(mutate: typing.Callable[[dict[str, typing.Any]], None], message: str) -> None:
    data = _raw(catalog.CATALOG_FILE)
    mutate(data)
    with pytest.raises(ValueError, match=message):
        specs.CatalogFile.model_validate(data)


def test_dated_notes_expire_with_their_date() -> None:
    assert "introductory price ends 2026-11-30" in (CAT.notes("gemini-4-argon", "2026-11-30") or "")
    later = CAT.notes("gemini-4-argon", "2026-12-07") or ""
    assert "introductory" not in later and later.startswith("65,536 output tokens")
    assert CAT.notes("gemini-3.8-flash", "2026-12-31") == "introductory price through 2026-12-31"
    assert CAT.notes("gemini-3.8-flash", "2027-01-01") is None
    for m in CAT.models.values():  # every date-bound note in the catalog is a dated one, never plain text
        assert not any(w in (m.get("notes") or "") for w in ("ends 20", "through 20", "until 20")), m["id"]


@pytest.mark.parametrize("today, shown", [("2026-11-26", True), ("2026-12-07", False)])
def test_catalog_report_drops_an_expired_note(today: str, shown: bool, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from model_strategy.commands.cli import cli

    monkeypatch.setenv("MODEL_STRATEGY_NOW", today)
    assert cli.main(["catalog", "google"]) == 0
    out = capsys.readouterr().out
    assert ("introductory price ends 2026-11-30" in out) is shown
    assert "introductory price through 2026-12-31" in out and "65,536 output tokens per request" in out
