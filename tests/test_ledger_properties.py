"""Properties of the ledger's caches: whatever order records arrive in and however time moves on,
the budget totals and the monthly roll-ups equal what a full scan of the records gives."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthrecords
from model_strategy.runtime.base.clock import parse_ts
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.limits import budget, periods

T0 = datetime(2026, 10, 20, tzinfo=timezone.utc)
ZONES = ["UTC", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"]


def _cfg(zone: str, week_start: str) -> dict[str, Any]:
    return {"budgets": {"daily_usd": "10", "weekly_usd": "50", "monthly_usd": "200", "timezone": zone,
                        "week_start": week_start}}


def brute(ledger: Ledger, cfg: dict[str, Any], now: datetime, period: str) -> tuple[Decimal, int]:
    b = cfg["budgets"]
    start, end = periods.bounds(period, now, periods.zone(b["timezone"]), b["week_start"])
    rows = [r for r in ledger.iter_records() if start <= parse_ts(r["ts"]) < end]
    return sum((Decimal(r["cost_usd"]) for r in rows), Decimal(0)), len(rows)


events = st.lists(st.tuples(st.integers(0, 60 * 24 * 50),  # record time: minutes after T0
                            st.integers(1, 5000),  # cost in 1/10000 $
                            st.integers(0, 60 * 24 * 3)),  # then the clock moves on by this much
                  min_size=1, max_size=25)


@settings(max_examples=30)
@given(events=events, zone=st.sampled_from(ZONES), week_start=st.sampled_from(["monday", "sunday"]))
def test_totals_equal_a_full_scan(events: list[tuple[int, int, int]], zone: str, week_start: str) -> None:
    home = tempfile.mkdtemp(prefix="ms-prop-")
    try:
        ledger = Ledger(home)
        cfg = _cfg(zone, week_start)
        now = T0
        for n, (at, cents, step) in enumerate(events):
            when = min(T0 + timedelta(minutes=at), now)  # records of the past (late hooks, imports)
            synthrecords.spend(ledger, str(Decimal(cents) / 10000), when, n=n)
            now += timedelta(minutes=step)
            for st_ in budget.status(Ledger(home), cfg, now):
                cost, count = brute(ledger, cfg, now, st_["period"])
                assert (st_["spent_usd"], st_["records"]) == (cost, count), (st_["period"], now)
    finally:
        shutil.rmtree(home)


@settings(max_examples=20)
@given(events=events)
def test_monthly_rollups_equal_the_sum_of_their_records(events: list[tuple[int, int, int]]) -> None:
    home = tempfile.mkdtemp(prefix="ms-prop-")
    try:
        ledger = Ledger(home)
        for n, (at, cents, _) in enumerate(events):
            synthrecords.spend(ledger, str(Decimal(cents) / 10000), T0 + timedelta(minutes=at), n=n)
            for month in {d[:7] for d in ledger.days()}:
                rows = [r for r in ledger.iter_records() if r["ts"][:7] == month]
                got = Ledger(home).rollup(month)["total"]
                assert Decimal(got["cost_usd"]) == sum((Decimal(r["cost_usd"]) for r in rows), Decimal(0))
                assert got["records"] == len(rows)
    finally:
        shutil.rmtree(home)


@pytest.mark.parametrize("zone", ZONES)
def test_totals_survive_a_month_of_idle_time(zone: str, data_dir: Path) -> None:
    cfg = _cfg(zone, "monday")
    ledger = Ledger()
    synthrecords.spend(ledger, "3.00", T0, n=1)
    budget.status(ledger, cfg, T0 + timedelta(hours=1))
    later = T0 + timedelta(days=35)  # the cache is far behind: rebuilt, never wrong
    synthrecords.spend(ledger, "2.00", later - timedelta(hours=1), n=2)
    day, _, month = budget.status(Ledger(), cfg, later)
    assert month["spent_usd"] == brute(ledger, cfg, later, "month")[0]
    assert day["spent_usd"] == brute(ledger, cfg, later, "day")[0]
