"""Ledger analytics: windows, sums, use-case mix, re-pricing, overkill detection, roll-ups."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import synthrecords
from model_strategy.commands.knowledge import catalog
from model_strategy.commands.usage import analytics
from model_strategy.models import AgentRecord
from model_strategy.runtime.base import store
from model_strategy.runtime.books.ledger import Ledger

CAT = catalog.Catalog(catalog.build())  # built in memory: nothing written at collection time
TODAY = date(2026, 11, 26)


@pytest.fixture
def archive(data_dir: Path) -> Ledger:
    a = Ledger()
    synthrecords.generate(a, CAT, TODAY, days=40, per_day=(6, 12), seed=3)
    return a


def test_synthetic_records_are_schema_valid(archive: Ledger) -> None:
    for rec in archive.iter_records():
        AgentRecord.model_validate(rec)


def test_window_sums_match_the_records(archive: Ledger) -> None:
    s = analytics.summarise(archive, CAT, TODAY)
    start = TODAY - timedelta(days=29)
    recs = list(archive.iter_records(start, TODAY))
    assert s["records"] == len(recs) > 0
    assert s["cost"] == synthrecords.total_cost(recs)
    assert s["requests"] == sum(r["requests"] for r in recs)
    assert s["days_covered"] == 30 and s["start"] == start.isoformat()
    assert sum(b["cost"] for b in s["buckets"].values()) == s["cost"]
    assert sum(s["by_day"].values()) == s["cost"]
    assert sum(b["cost"] for b in s["by_model"].values()) == s["cost"]
    per_uc = analytics.by_usecase(s)
    assert sum(r["cost"] for r in per_uc.values()) == s["cost"]
    assert {"interactive-coding", "codebase-search", "code-review"} <= set(per_uc)
    hit = s["cache_hit_rate"]
    assert hit is not None and Decimal("0.7") < hit < Decimal("0.95")


def test_repricing_on_the_recorded_model_gives_the_recorded_cost(archive: Ledger) -> None:
    s = analytics.summarise(archive, CAT, TODAY)
    for model in ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"):
        keys = [k for k in s["buckets"] if k[2] == model]
        recorded = sum(s["buckets"][k]["cost"] for k in keys)
        assert analytics.reprice(s, CAT, model, TODAY.isoformat(), keys) == recorded


def test_repricing_is_monotonic_in_list_price(archive: Ledger) -> None:
    s = analytics.summarise(archive, CAT, TODAY)
    day = TODAY.isoformat()
    costs = [analytics.reprice(s, CAT, CAT.aliases[t], day) for t in ("haiku", "sonnet", "opus", "fable")]
    assert costs == sorted(costs)


def test_short_history_is_scaled_to_a_month(data_dir: Path) -> None:
    a = Ledger()
    synthrecords.generate(a, CAT, TODAY, days=6, per_day=(5, 5), seed=1)
    s = analytics.summarise(a, CAT, TODAY)
    assert s["days_covered"] == 6
    assert analytics.scale_to_month(s) == 5


def test_empty_archive(data_dir: Path) -> None:
    s = analytics.summarise(Ledger(), CAT, TODAY)
    assert s["records"] == 0 and s["cost"] == 0 and s["cache_hit_rate"] is None
    assert analytics.scale_to_month(s) == 0


def test_overkill_finds_routine_opus_on_simple_work(archive: Ledger) -> None:
    s = analytics.summarise(archive, CAT, TODAY)
    over = s["overkill"]["code-reviewer"]  # explicit opus spawns with complexity < 0.7
    assert over["records"] == over["agent_records"] > 0
    assert "Plan" not in s["overkill"] or s["overkill"]["Plan"]["records"] < s["overkill"]["Plan"]["agent_records"]


def test_roadmap_moves_previous_generation_and_overkill(archive: Ledger) -> None:
    from model_strategy.commands.knowledge import usecases
    from model_strategy.commands.strategy import roadmap, strategy

    s = analytics.summarise(archive, CAT, TODAY)
    per_uc = analytics.by_usecase(s)
    profs = usecases.portfolio(sorted(per_uc), CAT.usecases, "records")
    recs = [strategy.recommend(CAT, p, TODAY.isoformat()) for p in profs]
    rm = roadmap.build(CAT, recs, profs, s, {"max_tier": "opus"}, TODAY.isoformat())
    old = next(i for i in rm["items"] if i["from"] == "claude-haiku-4-5")
    assert old["to"] == "claude-haiku-5-5" and old["saving_usd"] > 0 and old["urgency"] == "now"
    assert any(g["area"] == "claude-haiku-4-5" for g in rm["gaps"])
    over = next(i for i in rm["items"] if i["what"] == "agent type code-reviewer")
    assert over["to"] == "claude-sonnet-5-5" and over["saving_usd"] > 0
    assert not any(i["what"] == "agent type Plan" for i in rm["items"])  # planning needs opus


def test_bad_records_are_skipped_with_a_message(archive: Ledger) -> None:
    with archive.transaction():
        store.append_jsonl(archive.day_file(TODAY.isoformat()), {"schema": 1, "id": "broken", "kind": "subagent"})
    s = analytics.summarise(archive, CAT, TODAY)
    assert any("broken" in e for e in s["errors"])


def test_monthly_history_reads_rollups(archive: Ledger) -> None:
    hist = analytics.monthly_history(archive, TODAY, months=3)
    assert [m for m, _, _ in hist] == ["2026-09", "2026-10", "2026-11"]
    nov = list(archive.iter_records(date(2026, 11, 1), TODAY))
    assert hist[-1][1] == synthrecords.total_cost(nov) and hist[-1][2] == len(nov)


@given(st.lists(st.integers(1, 400_000), max_size=5, unique=True), st.integers(0, 600_000))
def test_bands_select_the_same_tier(thresholds: list[int], per_request: int) -> None:
    thresholds = sorted(thresholds)
    band = analytics.band_of(per_request, thresholds)
    rep = analytics.band_input(band, thresholds)
    assert analytics.band_of(rep, thresholds) == band
    for t in thresholds:  # the representative crosses exactly the thresholds the real value crosses
        assert (rep > t) == (per_request > t)
