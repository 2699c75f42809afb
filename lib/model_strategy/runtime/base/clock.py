"""The one clock: every "now" in the package comes from here.

``MODEL_STRATEGY_NOW`` fixes it to an instant -- an ISO 8601 time (``2027-03-15T23:59:00Z``; without
an offset it is UTC) or a date (noon UTC of that day).  Tests set it so that none depends on the
day it runs on; a hook or command started by a test inherits it.  Unset, or not a time, it is the
wall clock.  Standard library only (hot path).
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timezone

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
