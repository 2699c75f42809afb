"""The configuration as a typed value: the shape ``config.load`` returns (defaults filled in, validated by
``config_rules``).  Type-checking only -- these are ``TypedDict``s, plain dicts at run time, so the hooks pay
nothing to import them.  ``config_rules.CONFIG`` is the schema they are checked against
(``tests/test_config_rules.py``)."""

from __future__ import annotations

from typing import TypedDict


class Thresholds(TypedDict):
    info: int
    warning: int
    critical: int
    exceeded: int


class Policy(TypedDict):
    info: str
    warning: str
    critical: str
    exceeded: str


class WindowLevels(TypedDict):
    warn: int | None
    downgrade: int | None
    haiku_only: int | None
    deny: int | None


class Windows(TypedDict):
    five_hour: WindowLevels
    seven_day: WindowLevels
    spend_limit: WindowLevels


class Budgets(TypedDict):
    daily_usd: str | None
    weekly_usd: str | None
    monthly_usd: str | None
    thresholds: Thresholds
    policy: Policy
    week_start: str
    timezone: str
    windows: Windows


class Complexity(TypedDict):
    simple_below: float
    complex_from: float


class Effort(TypedDict):
    simple: str | None
    moderate: str | None
    complex: str | None


class Roi(TypedDict):
    hourly_rate: str
    minutes_saved: dict[str, str]


class Learning(TypedDict):
    enabled: bool
    explore: float
    max_success_loss: float


class Config(TypedDict, total=False):
    """A loaded configuration.  ``total=False``: tests and callers may pass a partial one; the loader
    always fills every field."""

    schema: int
    profile: str
    override_explicit_model: bool
    override_explicit_effort: bool
    max_tier: str
    min_tier: str
    agents: dict[str, str]
    agent_patterns: dict[str, str]
    complexity: Complexity
    effort: Effort
    budgets: Budgets
    roi: Roi
    retention_days: int
    learning: Learning
