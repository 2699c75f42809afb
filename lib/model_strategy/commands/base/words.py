"""Counts in words, for every report's text: ``1 run``, ``2 runs``, ``the last 7 days`` -- never ``run(s)``."""

from __future__ import annotations

from collections.abc import Mapping


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def last_days(n: int) -> str:
    """``the last day``, ``the last 7 days``: a window in words, never ``7 day(s)``."""
    return "the last day" if n == 1 else f"the last {n:,} days"


def records_phrase(s: Mapping[str, int]) -> str:
    """``8 agents and 3 main-thread records``: subagents and the main thread's records counted apart."""
    parts = [plural(s["agents"], "agent")]
    if s["main_records"]:
        parts.append(plural(s["main_records"], "main-thread record"))
    other = s["records"] - s["agents"] - s["main_records"]
    if other > 0:
        parts.append(plural(other, "other record"))
    return " and ".join(parts) if len(parts) == 2 else ", ".join(parts)
