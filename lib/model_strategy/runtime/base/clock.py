"""The one clock: every "now" in the package comes from here.

``MODEL_STRATEGY_NOW`` fixes it to an instant -- an ISO 8601 time (``2027-03-15T23:59:00Z``; without
an offset it is UTC) or a date (noon UTC of that day).  Tests set it so that none depends on the
day it runs on; a hook or command started by a test inherits it.  Unset, or not a time, it is the
wall clock.  Standard library only (hot path).
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timedelta, timezone

from .kinds import WEEKDAYS

ENV = "MODEL_STRATEGY_NOW"


def _fixed() -> datetime | None:
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), timezone.utc).replace(hour=12)
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def now() -> datetime:
    """Now, in UTC (timezone-aware)."""
    fixed = _fixed()
    return fixed if fixed is not None else datetime.now(timezone.utc)


def epoch() -> float:
    """Now as seconds since the epoch (``time.time()``)."""
    fixed = _fixed()
    return fixed.timestamp() if fixed is not None else time.time()


def today_utc() -> date:
    return now().date()


# ------------------------------------------------------------------ time stamps (the clock's vocabulary)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: the instants a time stamp may name: anything outside (``0001-01-01T00:00:00+05:00``,
#: ``9999-12-31T23:59:59-05:00``, a year 9999) is a damaged stamp, not a time
TS_MIN = datetime(2000, 1, 1, tzinfo=timezone.utc)
TS_MAX = datetime(2200, 1, 1, tzinfo=timezone.utc)


def parse_ts(value: str) -> datetime:
    """The one parser of time stamps (ours and Claude Code's): an aware UTC datetime.  Anything that
    is not a usable instant -- not ISO 8601, out of range (converting it to UTC would overflow), or
    outside [``TS_MIN``, ``TS_MAX``) -- raises ``ValueError``, never anything else."""
    if not isinstance(value, str):
        raise ValueError(f"not a time stamp: {type(value).__name__}")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        dt = dt.astimezone(timezone.utc) if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    except (OverflowError, TypeError):
        raise ValueError(f"time stamp out of range: {value[:40]!r}") from None
    if not TS_MIN <= dt < TS_MAX:
        raise ValueError(f"time stamp out of range: {value[:40]!r}")
    return dt


def utc_iso(value: object) -> str | None:
    """``value`` as our UTC ISO form (``2026-11-26T10:00:00.000Z``), or None when it is not a usable
    time stamp.  Total: never raises."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 24 and value[23] == "Z":  # already in our form (Claude Code's): checked, not rebuilt
        try:
            dt = datetime.fromisoformat(value[:23])
            if (dt.isoformat(timespec="milliseconds") == value[:23]
                    and TS_MIN <= dt.replace(tzinfo=timezone.utc) < TS_MAX):
                return value
        except ValueError:
            pass
    try:
        return iso(parse_ts(value))
    except ValueError:
        return None


def day_of(ts: str | None) -> str:
    """The day file of a timestamp: its UTC date (``ts`` is UTC ISO); today when it has none."""
    if ts:
        if ts.endswith("Z") and len(ts) >= 10 and "2000" <= ts[:4] < "2200":
            return ts[:10]
        try:
            return parse_ts(ts).date().isoformat()
        except ValueError:
            pass
    return now().date().isoformat()


def period_days(period: str, day: date, week_start: str = "monday") -> tuple[date, date]:
    """The calendar period holding ``day`` -- ``day``, ``week`` (from ``week_start``) or ``month`` --
    as its first day and the first day after it.  The one place periods are cut: budgets take these
    days in the user's time zone (``limits.periods``), reports and retention as UTC days."""
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=(day.weekday() - WEEKDAYS.index(week_start)) % 7)
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1)
    raise ValueError(f"unknown period {period!r}")
