"""Wording seen in the session: every figure says what it is, arithmetic shown adds up, claims follow the
data, and an empty table is one line, not a header over nothing."""

from __future__ import annotations

import random
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import synthrecords
from model_strategy.commands.base import words
from model_strategy.commands.cli import cli
from model_strategy.commands.knowledge import catalog
from model_strategy.commands.render import render, render_insights
from model_strategy.runtime.books.ledger import Ledger

TODAY = "2026-11-26"


@pytest.fixture
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODEL_STRATEGY_NOW", TODAY)
    monkeypatch.chdir(tmp_path)
    return data_dir


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main([*argv, "--width", "100"]) == 0
    return capsys.readouterr().out


def flat(text: str) -> str:
    return " ".join(text.split())


def subagents(*runs: dict[str, Any]) -> None:
    """Completed subagent records with the given overrides (agent, tokens, cost)."""
    cat = catalog.load()
    rng = random.Random(5)
    ledger = Ledger()
    with ledger.transaction():
        for n, over in enumerate(runs):
            rec: dict[str, Any] = synthrecords.record(cat, rng, datetime(2026, 11, 25, 9, n, tzinfo=timezone.utc),
                                                      "s1", n, agent=over.get("agent", "Explore"))
            for key in ("tokens", "cost_usd"):
                if key in over:
                    rec[key] = over[key]
            if "tokens" in over or "cost_usd" in over:
                (model, row) = next(iter(rec["models"].items()))
                rec["models"] = {model: {**row, **rec["tokens"], "cost_usd": rec["cost_usd"]}}
            ledger.commit(rec)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- saving ranges, unit prices


@pytest.mark.parametrize("low, high, shown", [("0.1", "0.4", "under $1"), ("0", "0", "under $1"),
                                              ("2", "3.2", "$2–$3"), ("2.2", "2.4", "$2"), ("0.3", "1.6", "$0–$2")])
def test_saving_range_never_reads_zero_to_zero(low: str, high: str, shown: str) -> None:
    assert render.saving_range(Decimal(low), Decimal(high)) == shown


def test_unit_price_times_count_gives_the_total_shown() -> None:
    assert render.per_unit(Decimal("0.001278"), 1800, Decimal("2.3004")) == "$0.00128"


@given(st.decimals(min_value=1, max_value=100_000, places=1), st.decimals(min_value=Decimal("0.01"),
                                                                          max_value=100_000, places=4))
def test_unit_price_arithmetic_always_adds_up(count: Decimal, total: Decimal) -> None:
    shown = render.per_unit(total / count, count, total)
    n = Decimal(render.num(count).replace(",", ""))
    assert render.usd(n * Decimal(shown.lstrip("$").replace(",", ""))) == render.usd(total)


# ---------------------------------------------------------------------- days, runs, hours


def test_no_day_s_anywhere(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["dashboard"], ["dashboard", "--days", "1"], ["efficiency"], ["roi"], ["recommendations"]):
        out = run(argv, capsys)
        assert "day(s)" not in out and "x 30 /" not in out, argv
    assert words.last_days(1) == "the last day" and words.last_days(14) == "the last 14 days"
    assert words.plural(1, "run") == "1 run" and words.plural(2, "run") == "2 runs"


def test_recommendation_month_wording(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subagents({})
    assert "the window is a 30-day month" in flat(run(["recommendations"], capsys))
    assert "per month: the window's saving scaled from 14 days to 30" in flat(run(["recommendations", "--days", "14"],
                                                                                 capsys))


@pytest.mark.parametrize("hours, shown", [("0", "under a minute"), ("0.01", "under a minute"), ("0.43", "26 min"),
                                          ("1", "1.0 h"), ("12.34", "12.3 h")])
def test_break_even_time_never_reads_zero_hours(hours: str, shown: str) -> None:
    assert render_insights._duration(Decimal(hours)) == shown


def test_break_even_of_a_tiny_cost(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subagents({"cost_usd": "0.0001"})
    out = run(["roi"], capsys)
    line = next(x for x in out.splitlines() if x.startswith("Break-even"))
    assert line.startswith("Break-even: under a minute of saved time, less than one completed run (5 min)"), line
    assert "0.0 h" not in out and "1 completed runs" not in out


# ---------------------------------------------------------------------- claims follow the data


def test_no_opportunity_claim_names_what_was_checked(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    poor_cache = {"input": 90_000, "output": 2_000, "cache_read": 10_000, "cache_write_5m": 0, "cache_write_1h": 0,
                  "web_search": 0}
    subagents({"agent": "Plan", "tokens": poor_cache, "cost_usd": "0.05"})
    out = " ".join(run(["efficiency"], capsys).split())
    assert "10%" in out  # Plan's cache hit rate, in the table
    assert "caches well" not in out
    assert "None found: no type with 3 runs or more" in out and "(Plan read less, at under $0.50 in all)" in out


def test_basis_names_the_assumed_volumes(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synthrecords.generate(Ledger(), catalog.load(), date.fromisoformat(TODAY), days=10, per_day=(6, 8), seed=3)
    out = " ".join(run(["report", "support chat"], capsys).split())
    assert "Basis: your records:" in out and "volume (assumption)" in out
    assert "assumed volumes for Customer support chat (API) (not in your records)" in out
    out = " ".join(run(["cost", "support chat"], capsys).split())
    assert "assumed volumes for Customer support chat (API) (not in your records)" in out


# ---------------------------------------------------------------------- empty tables


def test_an_empty_table_is_one_line() -> None:
    t = render.table("Per agent type", empty="no subagent runs in the window.")
    t.add_column("Agent type")
    assert render.to_text([t], 80) == "Per agent type: no subagent runs in the window.\n"
    bare = render.table(None)
    bare.add_column("x")
    assert render.to_text([bare], 80) == "No data.\n"


def test_main_thread_only_reports_have_no_header_only_table(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synthrecords.spend(Ledger(), "0.40", datetime(2026, 11, 25, 10, tzinfo=timezone.utc))
    roi = run(["roi"], capsys)
    assert "Per agent type: no subagent runs in the window" in roi and "Agent type" not in roi
    dash = run(["dashboard"], capsys)
    assert "Most expensive agents: no subagent runs in the window." in dash and "When (UTC)" not in dash
    assert "over 1 record and 1 request" in dash
