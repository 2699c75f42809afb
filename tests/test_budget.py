"""Budget periods, thresholds, policies and forecasts."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthrecords
from model_strategy.runtime.base import paths
from model_strategy.runtime.base.kinds import WEEKDAYS
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.limits import budget, periods

DEFAULTS: dict[str, Any] = json.loads(Path(paths.defaults_file()).read_text())
UTC = timezone.utc


def cfg(**budgets: Any) -> dict[str, Any]:
    c = copy.deepcopy(DEFAULTS)
    c["budgets"].update({"timezone": "UTC", **budgets})
    return c


# ------------------------------------------------------------------ periods


def test_week_and_month_bounds() -> None:
    tz = periods.zone("UTC")
    thu = datetime(2026, 11, 26, 15, tzinfo=UTC)
    assert periods.bounds("week", thu, tz)[0] == datetime(2026, 11, 23, tzinfo=UTC)
    assert periods.bounds("week", thu, tz, "sunday")[0] == datetime(2026, 11, 22, tzinfo=UTC)
    assert periods.bounds("month", thu, tz) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert periods.bounds("month", datetime(2026, 12, 31, 23, tzinfo=UTC), tz)[1] == datetime(2027, 1, 1, tzinfo=UTC)
    assert periods.key("week", thu, tz) == "week-of-2026-11-23"


def test_dst_day_is_23_hours_in_new_york() -> None:
    tz = periods.zone("America/New_York")
    start, end = periods.bounds("day", datetime(2026, 3, 8, 12, tzinfo=UTC), tz)
    assert (end - start) == timedelta(hours=23)
    start, end = periods.bounds("day", datetime(2026, 11, 1, 12, tzinfo=UTC), tz)
    assert (end - start) == timedelta(hours=25)


def test_local_zone_follows_tz_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        local = periods.LocalTime()
        start, end = periods.bounds("day", datetime(2026, 3, 29, 12, tzinfo=UTC), local)
        assert end - start == timedelta(hours=23)
        assert start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@settings(max_examples=300, deadline=None)
@given(when=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
       zone=st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]),
       period=st.sampled_from(periods.PERIODS), week_start=st.sampled_from(WEEKDAYS))
def test_period_contains_instant_and_tiles_time(when: datetime, zone: str, period: str, week_start: str) -> None:
    tz = periods.zone(zone)
    start, end = periods.bounds(period, when, tz, week_start)
    assert start <= when < end
    assert periods.bounds(period, end, tz, week_start)[0] == end  # the next period starts where this ends
    assert start.astimezone(tz).hour == 0 and start.astimezone(tz).minute == 0
    if period == "week":
        assert start.astimezone(tz).date().weekday() == WEEKDAYS.index(week_start)


def test_local_zone_matches_zoneinfo_for_same_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        local, named = periods.LocalTime(), ZoneInfo("America/New_York")
        for day in range(0, 365, 3):
            when = datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=day)
            for p in periods.PERIODS:
                assert periods.bounds(p, when, local) == periods.bounds(p, when, named)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# ------------------------------------------------------------------ thresholds and policy


@pytest.mark.parametrize(("pct", "level"), [(0, "ok"), (49.99, "ok"), (50, "info"), (75, "warning"),
                                            (89, "warning"), (90, "critical"), (100, "exceeded"), (250, "exceeded")])
def test_levels(pct: float, level: str) -> None:
    assert budget.level_for(Decimal(str(pct)), DEFAULTS["budgets"]["thresholds"]) == level


_N = iter(range(10**9))


def spend(amount: str, when: datetime, c: dict[str, Any]) -> list[str]:
    """Record ``amount`` dollars at ``when``; the budget notices a recording hook would print."""
    ledger = Ledger()
    synthrecords.spend(ledger, amount, when, n=next(_N))
    with ledger.transaction():
        return budget.notices(ledger, c, when)


def test_threshold_warning_once_per_period() -> None:
    c = cfg(daily_usd="10")
    t = datetime(2026, 11, 26, 9, tzinfo=UTC)
    assert spend("4.00", t, c) == []
    (line,) = spend("3.80", t + timedelta(hours=1), c)
    assert line.startswith("daily budget 78% ($7.80 of $10.00) — forecast $")
    assert line.endswith("by midnight; new agents drop one tier (opus→sonnet→haiku)")
    assert spend("0.10", t + timedelta(hours=2), c) == []  # still warning: not again
    (line,) = spend("1.50", t + timedelta(hours=3), c)
    assert line.startswith("daily budget 94%")
    assert spend("0.01", t + timedelta(days=1), c) == []  # new day: totals reset


def test_policy_downgrade_haiku_only_and_deny() -> None:
    c = cfg(daily_usd="10")
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    spend("8.00", now, c)
    d = {"chosen": "opus", "reasons": [], "source": "agent"}
    v = budget.apply_policy(d, c, Ledger(), now)
    assert d["chosen"] == "sonnet" and d["source"] == "budget" and v["picked"] == "opus"
    assert v["note"] == "daily budget 80% ($8.00 of $10.00), policy downgrade"
    spend("2.50", now, c)
    d = {"chosen": "sonnet", "reasons": []}
    budget.apply_policy(d, c, Ledger(), now)
    assert d["chosen"] == "haiku"
    c["budgets"]["policy"]["exceeded"] = "deny"
    v = budget.apply_policy({"chosen": "haiku", "reasons": []}, c, Ledger(), now)
    assert v["deny"] and "daily budget 105% ($10.50 of $10.00)" in v["reason"]


def _levels_from_status(c: dict[str, Any], now: datetime) -> list[tuple[str, str, str, float, str]]:
    return [(st["period"], st["level"], st["policy"], float(st["percent"] or 0),
             budget.where(st) if st["budget_usd"] is not None else "") for st in budget.status(Ledger(), c, now)]


def _levels(briefs: list[Any]) -> list[tuple[str, str, str, float, str]]:
    return [(b["period"], b["level"], b["policy"], b["percent"], b["label"]) for b in briefs]


def test_levels_are_remembered_under_their_inputs(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``briefs`` is ``status`` without the forecast; kept in levels.json under the spend rows and the
    budget settings, it is read back while they stay the same and worked out again when one changes."""
    c = cfg(daily_usd="10", weekly_usd="12.5", monthly_usd="1E+2")
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    spend("8.005", now, c)
    ledger = Ledger()
    with ledger.transaction():
        first = budget.briefs(ledger, c, now)
    assert _levels(first) == _levels_from_status(c, now)
    assert first[0]["label"] == "daily budget 80% ($8.00 of $10.00)" and first[0]["level"] == "warning"
    assert (data_dir / budget.LEVELS_CACHE).exists()
    real = budget._judge
    monkeypatch.setattr(budget, "_judge", lambda *a: pytest.fail("worked out again"))
    assert budget.briefs(Ledger(), c, now) == first  # nothing changed: read back
    for changed in (cfg(daily_usd="20", weekly_usd="12.5", monthly_usd="1E+2"),
                    {**c, "budgets": {**c["budgets"], "thresholds": {**c["budgets"]["thresholds"], "warning": 85}}},
                    {**c, "budgets": {**c["budgets"], "policy": {**c["budgets"]["policy"], "warning": "deny"}}}):
        monkeypatch.setattr(budget, "_judge", real)
        expected = _levels_from_status(changed, now)
        calls: list[str] = []
        monkeypatch.setattr(budget, "_judge", lambda row, cf, p, calls=calls: calls.append(p) or real(row, cf, p))
        assert _levels(budget.briefs(Ledger(), changed, now)) == expected
        assert calls == list(periods.PERIODS)
    monkeypatch.setattr(budget, "_judge", real)
    spend("0.50", now, c)  # new spend: new rows, worked out again
    assert _levels(budget.briefs(Ledger(), c, now)) == _levels_from_status(c, now)


@pytest.mark.parametrize("content", ["{", "[]", '{"inputs": "x", "briefs": []}', "null"])
def test_a_damaged_levels_cache_is_worked_out_again(data_dir: Path, content: str) -> None:
    c = cfg(daily_usd="10")
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    spend("9.50", now, c)
    ledger = Ledger()
    with ledger.transaction():
        budget.briefs(ledger, c, now)
    memo = json.loads((data_dir / budget.LEVELS_CACHE).read_text())
    (data_dir / budget.LEVELS_CACHE).write_text(content)
    assert _levels(budget.briefs(Ledger(), c, now)) == _levels_from_status(c, now)
    # the right inputs over briefs of the wrong shape are not trusted either
    (data_dir / budget.LEVELS_CACHE).write_text(json.dumps({**memo, "briefs": memo["briefs"][:2]}))
    assert _levels(budget.briefs(Ledger(), c, now)) == _levels_from_status(c, now)


def test_no_budget_no_policy() -> None:
    c = cfg(daily_usd=None, weekly_usd=None, monthly_usd=None)
    spend("1000", datetime(2026, 11, 26, tzinfo=UTC), c)
    assert budget.apply_policy({"chosen": "opus", "reasons": []}, c, Ledger()) == {}


def test_forecast_ignores_idle_hours() -> None:
    """$1/h for 4 busy hours in 2 days of otherwise idle time: the rate is discounted."""
    c = cfg(daily_usd="100")
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    for h in (0, 1, 24, 25):
        spend("1.00", start + timedelta(hours=h), c)
    now = start + timedelta(hours=26)  # 11:00 on the 25th
    day = budget.status(Ledger(), c, now)[0]
    assert day["burn_per_active_hour_usd"] == Decimal(1)
    assert day["active_share"] == Decimal(4) / Decimal(26)
    assert day["forecast_usd"] == Decimal(2) + Decimal(4) / Decimal(26) * 13
    assert day["runs_out_at"] is None  # not before midnight at that pace


def test_runs_out_time() -> None:
    c = cfg(daily_usd="10")
    t = datetime(2026, 11, 26, 8, tzinfo=UTC)
    for h in range(4):
        spend("2.00", t + timedelta(hours=h), c)
    st = budget.status(Ledger(), c, t + timedelta(hours=4))[0]
    assert st["runs_out_at"] == "2026-11-26T13:00:00.000Z"  # $2 left at $2/h


def test_totals_are_a_cache_that_catches_up_without_rescanning(monkeypatch: pytest.MonkeyPatch) -> None:
    c = cfg()
    t = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(0, 2000, 10):
        spend("0.01", t + timedelta(minutes=20 * i), c)
    now = t + timedelta(minutes=20 * 1999)
    assert date(2026, 11, 28) == now.date()
    with Ledger().transaction() as led:
        before = budget.status(led, c, now)
    size = len(Path(Ledger().root, "totals.json").read_text())
    assert size < 20_000  # 15-minute buckets for the current periods only
    scanned: list[tuple[str, int]] = []
    real_scan = Ledger.scan

    def counting(self: Ledger, day: str, start: int = 0, *a: Any, **k: Any) -> Any:
        scanned.append((day, start))
        return real_scan(self, day, start, *a, **k)

    monkeypatch.setattr(Ledger, "scan", counting)
    assert budget.status(Ledger(), c, now) == before
    assert scanned == []  # nothing new: no day file is read again
    spend("0.02", now, c)
    after = budget.status(Ledger(), c, now)
    assert after[2]["spent_usd"] == before[2]["spent_usd"] + Decimal("0.02")
    assert all(start > 0 for _, start in scanned)  # only the appended bytes were read


def test_raising_the_budget_re_arms_the_warnings() -> None:
    c = cfg(daily_usd="10")
    t = datetime(2026, 11, 26, 9, tzinfo=UTC)
    (line,) = spend("8.00", t, c)
    assert line.startswith("daily budget 80%")
    c["budgets"]["daily_usd"] = "20"  # raised the same day: 40 %, nothing to say
    assert spend("0.01", t + timedelta(minutes=5), c) == []
    (line,) = spend("7.00", t + timedelta(minutes=10), c)  # 75 % of the new budget: announced again
    assert line.startswith("daily budget 75% ($15.01 of $20.00)")
    c["budgets"]["thresholds"]["warning"] = 70  # a changed threshold re-arms too
    (line,) = spend("0.01", t + timedelta(minutes=15), c)
    assert line.startswith("daily budget 75%")


def test_a_session_that_starts_over_a_threshold_says_so() -> None:
    c = cfg(daily_usd="10")
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert budget.session_start_line(Ledger(), c, now) is None
    spend("10.40", now - timedelta(hours=1), c)
    line = budget.session_start_line(Ledger(), c, now)
    assert line is not None and line.startswith("session starts at exceeded: daily budget 104% ($10.40 of $10.00)")
    assert line.endswith("; new agents use haiku")
