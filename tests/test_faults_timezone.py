"""``budgets.timezone: "local"`` (issue 14): the spend cache (``totals.json``) is keyed by the zone
actually in force, so sums built under one local zone are never reused under another (Europe/Berlin
then UTC showed $2.00 for $1.00)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import synthrecords
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.limits import budget, periods
from sessionlab import ROOT

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
CFG = {"budgets": {"timezone": "local", "week_start": "monday", "daily_usd": "10"}}
SCRIPT = f"""
import json
from datetime import datetime, timezone
from model_strategy.runtime.limits import budget
from model_strategy.runtime.books.ledger import Ledger
now = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
led = Ledger()
day, week, month = budget.status(led, {CFG!r}, now)
print(json.dumps([str(day["spent_usd"]), str(week["spent_usd"]), led.warnings]))
"""


def _spent_in(tz: str, data_dir: Path) -> tuple[str, str, list[str]]:
    import json

    env = {**os.environ, "TZ": tz, "PYTHONPATH": str(ROOT / "lib"), "MODEL_STRATEGY_DATA_DIR": str(data_dir)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    day, week, warnings = json.loads(out.stdout)
    return day, week, warnings


@pytest.fixture
def ledger_with_two_dollars(data_dir: Path) -> Path:
    led = Ledger()
    # 23:30 UTC on the 6th is already the 7th in Berlin and Kiritimati (UTC+14), still the 6th in UTC;
    # 10:00 UTC on the 7th is the 7th in Berlin, UTC and Kiritimati, the 6th in Pago Pago (UTC-11)
    synthrecords.spend(led, "1", datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc), n=1)
    synthrecords.spend(led, "1", datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc), n=2)
    return data_dir


@pytest.mark.parametrize("zones", [
    [("Europe/Berlin", "2"), ("UTC", "1"), ("Europe/Berlin", "2")],
    # at 12:00 UTC it is 02:00 on the 8th in Kiritimati (its day began 10:00 UTC) and 01:00 on the 7th in
    # Pago Pago (its day began 11:00 UTC)
    [("Pacific/Kiritimati", "1"), ("Pacific/Pago_Pago", "0"), ("UTC", "1"), ("Pacific/Kiritimati", "1")],
])
def test_local_zone_switch_rebuilds_the_sums(ledger_with_two_dollars: Path, zones: list[tuple[str, str]]) -> None:
    data = ledger_with_two_dollars
    for tz, want in zones:
        day, _, warnings = _spent_in(tz, data)
        assert day == want, (tz, day)
        assert not warnings, warnings  # a cache of another zone is rebuilt quietly
        os.unlink(data / "totals.json")  # the same answer from scratch
        assert _spent_in(tz, data)[0] == day


def test_zone_key_names_the_zone_in_force(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = {}
    try:
        for tz in ("Europe/Berlin", "UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
            monkeypatch.setenv("TZ", tz)
            time.tzset()
            keys[tz] = periods.zone_key("local")
            assert tz in keys[tz]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert len(set(keys.values())) == 4
    assert periods.zone_key("Europe/Berlin") == "Europe/Berlin"


def test_in_process_switch_with_tzset(ledger_with_two_dollars: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        monkeypatch.setenv("TZ", "Europe/Berlin")
        time.tzset()
        assert budget.status(Ledger(), CFG, NOW)[0]["spent_usd"] == 2
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
        assert budget.status(Ledger(), CFG, NOW)[0]["spent_usd"] == 1
    finally:
        monkeypatch.undo()
        time.tzset()


def test_notices_are_armed_per_zone(ledger_with_two_dollars: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same day key ("2026-12-07") in another zone is another day: its levels are its own."""
    cfg = {"budgets": {**CFG["budgets"], "daily_usd": "1.5"}}
    led = Ledger()
    try:
        # Berlin: $2 of $1.50 (exceeded); UTC: $1 (info, 67 %) -- each said once in its zone
        for tz, want in (("Europe/Berlin", 1), ("Europe/Berlin", 0), ("UTC", 1), ("UTC", 0), ("Europe/Berlin", 1)):
            monkeypatch.setenv("TZ", tz)
            time.tzset()
            with led.transaction():
                lines = budget.notices(led, cfg, NOW)
            assert len(lines) == want, (tz, lines)
    finally:
        monkeypatch.undo()
        time.tzset()
