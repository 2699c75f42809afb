"""Strict pydantic models for the plugin's own data: configuration, decisions, records, roll-ups.

The hooks write plain dicts (pydantic costs ~250 ms to import, more than a hook's whole budget);
these models are the schema those dicts must satisfy -- tests validate everything the hot path
writes against them, and commands validate what they read.  Money is ``Decimal``, serialised as a
string.  Claude Code's own payloads are read leniently in ``payload.py``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from model_strategy.runtime.base.kinds import EFFORTS, LEVELS, POLICIES, TIERS, WEEKDAYS
from model_strategy.runtime.settings.config_rules import THRESHOLD_MAX, check_amount, thresholds_order_problem

# The vocabularies are kinds' tuples (one definition each), made Literals at run time so pydantic checks them
# and reports the options as it does for any Literal; mypy cannot build a Literal from a tuple, so it sees str.
if TYPE_CHECKING:
    Tier = str
    Choice = str
    Policy = str
    Level = str
    Effort = str
    Weekday = str
else:
    Tier = Literal[TIERS]
    Choice = Literal[(*TIERS, "auto")]
    Policy = Literal[POLICIES]
    Level = Literal[("ok", *LEVELS)]
    Effort = Literal[EFFORTS]
    Weekday = Literal[WEEKDAYS]
Profile = Literal["FAST", "BALANCED", "QUALITY"]


#: an amount the user configures: at most a billion, at most 6 decimal places (``config_rules.amount_problem``)
Amount = Annotated[Decimal, AfterValidator(check_amount)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# ---------------------------------------------------------------- configuration


# Configuration fields are strict about JSON types (no "50" for 50, no 1 for true), like the standard-library
# validator the hooks use (runtime/settings/config_rules.py); tests hold the two equal.


class Complexity(Strict):
    simple_below: float = Field(0.35, ge=0, le=1, strict=True)
    complex_from: float = Field(0.7, ge=0, le=1, strict=True)


class EffortBands(Strict):
    """The effort a routed spawn runs at, per complexity band (``null``: the agent's usual effort)."""

    simple: Effort | None = "low"
    moderate: Effort | None = None
    complex: Effort | None = "high"


class Thresholds(Strict):
    """Percent of a budget; ordered info ≤ warning ≤ critical ≤ exceeded, at most 1000 %."""

    info: int = Field(50, ge=1, le=THRESHOLD_MAX, strict=True)
    warning: int = Field(75, ge=1, le=THRESHOLD_MAX, strict=True)
    critical: int = Field(90, ge=1, le=THRESHOLD_MAX, strict=True)
    exceeded: int = Field(100, ge=1, le=THRESHOLD_MAX, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        problem = thresholds_order_problem(self.model_dump())
        if problem:
            raise ValueError(problem)
        return self


class Policies(Strict):
    info: Policy = "warn"
    warning: Policy = "downgrade"
    critical: Policy = "downgrade"
    exceeded: Policy = "haiku_only"


class WindowLevels(Strict):
    """Percent used of a subscription window from which each policy applies (``null``: never)."""

    warn: int | None = Field(None, ge=1, le=100, strict=True)
    downgrade: int | None = Field(None, ge=1, le=100, strict=True)
    haiku_only: int | None = Field(None, ge=1, le=100, strict=True)
    deny: int | None = Field(None, ge=1, le=100, strict=True)


class Windows(Strict):
    """Levels for Claude Code's ``rate_limits`` (subscription 5-hour / 7-day windows, gateway spend limit)."""

    five_hour: WindowLevels = WindowLevels(downgrade=70, haiku_only=90)
    seven_day: WindowLevels = WindowLevels(downgrade=80)
    spend_limit: WindowLevels = WindowLevels(downgrade=80, haiku_only=95)


class Budgets(Strict):
    daily_usd: Amount | None = Field(Decimal("10"), ge=0)
    weekly_usd: Amount | None = Field(Decimal("50"), ge=0)
    monthly_usd: Amount | None = Field(Decimal("200"), ge=0)
    thresholds: Thresholds = Thresholds()
    policy: Policies = Policies()
    windows: Windows = Windows()
    week_start: Weekday = "monday"
    timezone: str = "local"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value in ("local", "UTC"):
            return value
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value


class Roi(Strict):
    """Assumptions of ``model-strategy roi``: what an hour of the work is worth, and the minutes one
    completed subagent run saves per agent type (``*`` patterns allowed; ``"*"`` for the rest)."""

    hourly_rate: Amount = Field(Decimal("75"), gt=0)
    minutes_saved: dict[str, Annotated[Amount, Field(ge=0)]] = {"*": Decimal(10)}


class Learning(Strict):
    """Routing that learns from its outcomes: off restores the static rule exactly."""

    enabled: bool = Field(True, strict=True)
    explore: float = Field(0.05, ge=0, le=0.5, strict=True)  # share of spawns run one tier from the pick
    max_success_loss: float = Field(0.02, ge=0, le=0.5, strict=True)  # success a cheaper pick may give up


class Config(Strict):
    schema_: int = Field(1, alias="schema", strict=True)
    profile: Profile = "BALANCED"
    override_explicit_model: bool = Field(False, strict=True)
    override_explicit_effort: bool = Field(False, strict=True)
    max_tier: Tier = "opus"
    min_tier: Tier = "haiku"
    agents: dict[str, Choice] = {}
    agent_patterns: dict[str, Choice] = {}
    complexity: Complexity = Complexity()
    effort: EffortBands = EffortBands()
    budgets: Budgets = Budgets()
    roi: Roi = Roi()
    #: daily detail older than this moves into archive/YYYY-MM.jsonl.gz (whole months; roll-ups stay)
    retention_days: int = Field(90, ge=7, le=36500, strict=True)
    learning: Learning = Learning()

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------- decisions and records


class Decision(Strict):
    tool_use_id: str
    ts: datetime
    agent_type: str
    requested: str | None
    chosen: str
    source: Literal["explicit", "agent", "complexity", "budget", "default", "fork"]
    profile: Profile
    confidence: float = Field(ge=0, le=1)
    complexity: float = Field(ge=0, le=1)
    reasons: list[str]
    budget_level: Level = "ok"
    denied: bool = False
    prompt_hash: str
    background: bool = False
    agent_id: str | None = None  # session state: the agent this decision was joined to
    effort: Effort | None = None  # the effort the spawn runs at (None: the agent's usual effort)
    requested_effort: Effort | None = None
    workflow: str | None = None  # a workflow agent(): the Workflow call's tool_use_id
    shared: bool = False  # a workflow's rule for agent() calls with a computed prompt (joins many agents)
    # routing that learns (runtime/routing/learning.py): agent type × complexity band × profile, the static rule's
    # tier, the probability the policy gave the tier it picked, why learning moved it, exploration
    bucket: list[str] | None = Field(None, min_length=3, max_length=3)
    static: str | None = None
    p: float = Field(1.0, gt=0, le=1)
    learned: str | None = None
    explored: bool = False
    escalated: bool = False  # the caller re-spawned the task on a higher tier: this run failed


class Tokens(Strict):
    input: int = Field(0, ge=0)
    output: int = Field(0, ge=0)
    cache_read: int = Field(0, ge=0)
    cache_write_5m: int = Field(0, ge=0)
    cache_write_1h: int = Field(0, ge=0)
    web_search: int = Field(0, ge=0)


class ModelUsage(Tokens):
    requests: int = Field(ge=0)
    cost_usd: Decimal | None = Field(ge=0)  # None: no price known for this model
    priced: bool = True


class _RecordFields(Strict):
    """What records of every schema have in common."""

    id: str
    kind: Literal["subagent", "main"]
    ts: datetime
    session_id: str
    project: str | None = None
    agent_id: str
    agent_type: str
    tool_use_id: str | None = None
    background: bool | None = None
    model_requested: str | None = None
    model_actual: str | None = None
    model_mismatch: bool = False
    tokens: Tokens
    requests: int = Field(ge=0)
    cost_usd: Decimal = Field(ge=0)
    models: dict[str, ModelUsage]
    duration_ms: int | None = Field(None, ge=0)
    decision: Decision | None = None
    price_source: str

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AgentRecord(_RecordFields):
    """A ledger record (schema 2; ``runtime/books/records.py`` builds it, ``records.upgrade`` migrates 1)."""

    schema_: Literal[2] = Field(alias="schema")
    recorded_at: datetime
    unpriced_requests: int = Field(0, ge=0)
    source: Literal["SubagentStop", "PostToolUse", "Stop", "PreToolUse", "SessionStart", "doctor", "import", "scan"]
    outcome: Literal["completed", "error", "interrupted", "truncated", "denied"] | None = None
    request_keys: list[str] = []
    flags: list[Literal["unpriced", "clamped_tokens"]] = []
    continuation: bool = False  # a later slice of an agent recorded before (not another run)
    partial: dict[str, list[int]] = {}  # request key -> counts of requests read while they streamed
    corrects: dict[str, list[int]] = {}  # a correction slice: request key -> its counts now


class AgentRecordV1(_RecordFields):
    """The first release's record (read and upgraded, never written again)."""

    schema_: Literal[1] = Field(alias="schema")
    started: datetime | None = None
    source: Literal["SubagentStop", "PostToolUse", "Stop", "scan"]


class Bucket(Strict):
    cost_usd: Decimal = Decimal(0)
    records: int = 0
    requests: int = 0
    unpriced_requests: int = 0
    tokens: Tokens = Tokens()


class MonthlyData(Strict):
    month: str
    total: Bucket
    by_model: dict[str, Bucket]
    by_agent_type: dict[str, Bucket]
    by_day: dict[str, Bucket]
    by_project: dict[str, Bucket]
    by_kind: dict[str, Bucket]


class MonthlyRollup(Strict):
    """``monthly/YYYY-MM.json``: a cache folded from the ledger (``Ledger.rollup``)."""

    schema_: Literal[2] = Field(alias="schema")
    key: str
    since: str
    covered: dict[str, int]
    data: MonthlyData
    crc: int | None = None  # checksum over the rest of the file's bytes (``store.atomic_write_sealed``)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
