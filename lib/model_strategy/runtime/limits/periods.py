"""Budget periods (day, week, month) in the user's timezone, DST-aware.

``timezone`` is ``UTC``, an IANA name (zoneinfo) or ``local``: the C library's local time (``TZ`` or
/etc/localtime) through ``time.mktime``/``localtime``, which keeps DST right without importing
zoneinfo on the hot path.
"""

from __future__ import annotations

import time as _time
from datetime import date, datetime, time, timedelta, tzinfo
from datetime import timezone as dt_timezone

from model_strategy.runtime.base.clock import period_days

PERIODS = ("day", "week", "month")
_ZONES: dict[str, tzinfo] = {}
_EPOCH = datetime(1970, 1, 1)


class LocalTime(tzinfo):
    """The system's local time zone, as the C library knows it (DST included)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return timedelta(seconds=_time.localtime().tm_gmtoff)
        stamp = _time.mktime((dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0, 0, -1))
        return timedelta(seconds=_time.localtime(stamp).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return _time.tzname[0]

    def fromutc(self, dt: datetime) -> datetime:
        stamp = (dt.replace(tzinfo=None) - _EPOCH).total_seconds()
        return dt + timedelta(seconds=_time.localtime(stamp).tm_gmtoff)


def zone(name: str) -> tzinfo:
    """``UTC``, an IANA name, or ``local``."""
    if name not in _ZONES:
        if name == "UTC":
            _ZONES[name] = dt_timezone.utc
        elif name == "local":
            _ZONES[name] = LocalTime()
        else:
            from zoneinfo import ZoneInfo

            _ZONES[name] = ZoneInfo(name)
    return _ZONES[name]


def zone_key(name: str) -> str:
    """The zone actually in force, for keying caches: an IANA name or ``UTC`` as it is; ``local``
    resolved to what the C library uses now (``TZ``, else ``/etc/localtime``'s target, and the zone's
    names and offsets) -- so sums built under one local zone are never reused under another."""
    if name != "local":
        return name
    import os

    source = os.environ.get("TZ")
    if source is None:
        try:
            source = os.path.realpath("/etc/localtime")
        except OSError:
            source = ""
    return f"local:{source}:{'/'.join(_time.tzname)}:{_time.timezone}:{_time.altzone}:{_time.daylight}"


def _midnight(d: date, tz: tzinfo) -> datetime:
    """Local midnight of ``d`` as a UTC instant (so differences are real durations across DST)."""
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(dt_timezone.utc)


def bounds(period: str, when: datetime, tz: tzinfo, week_start: str = "monday") -> tuple[datetime, datetime]:
    """[start, end) of the period containing ``when`` (aware), as UTC instants."""
    start, end = period_days(period, when.astimezone(tz).date(), week_start)
    return _midnight(start, tz), _midnight(end, tz)


def key(period: str, when: datetime, tz: tzinfo, week_start: str = "monday") -> str:
    start = bounds(period, when, tz, week_start)[0].astimezone(tz)
    if period == "day":
        return start.date().isoformat()
    if period == "week":
        return f"week-of-{start.date().isoformat()}"
    return start.strftime("%Y-%m")


def end_label(period: str) -> str:
    return {"day": "midnight", "week": "the end of the week", "month": "the end of the month"}[period]
