"""Counts in words, for every report's text: ``1 run``, ``2 runs``, ``the last 7 days`` -- never ``run(s)``."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def last_days(n: int) -> str:
    """``the last day``, ``the last 7 days``: a window in words, never ``7 day(s)``."""
    return "the last day" if n == 1 else f"the last {n:,} days"
