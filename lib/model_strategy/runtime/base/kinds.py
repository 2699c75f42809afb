"""The vocabularies every module shares: model tiers, token kinds, weekdays (one definition each)."""

from __future__ import annotations

#: Claude Code's model aliases for subagents, cheapest first (the Agent tool's ``model`` enum).
TIERS = ("haiku", "sonnet", "opus", "fable")

#: Reasoning efforts the ``Agent`` tool and a workflow's ``agent()`` accept, lowest first.
EFFORTS = ("low", "medium", "high", "xhigh", "max")

#: Days of the week as the config names them (``budgets.week_start``), Monday first (``date.weekday()``).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Budget levels, lowest first, and the policies a level (or a subscription window) can apply.
LEVELS = ("info", "warning", "critical", "exceeded")
POLICIES = ("warn", "downgrade", "haiku_only", "deny")

#: Anthropic's token kinds as we record them (``input`` is the uncached input).
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")

#: The ``tokens`` of a record: the token kinds plus server-side web searches.
RECORD_KINDS = (*TOKEN_KINDS, "web_search")

#: A count above this for one kind of one request is not believable (contexts hold ~1-2M tokens):
#: it is clamped to this bound, flagged, and never priced into budgets.
MAX_TOKENS_PER_REQUEST = 10_000_000


def tier_index(name: str | None) -> int | None:
    """The tier of an alias or model id (``claude-haiku-5-5`` → 0), None when it names none."""
    if not name:
        return None
    low = name.lower()
    for i, tier in enumerate(TIERS):
        if tier in low:
            return i
    return None
