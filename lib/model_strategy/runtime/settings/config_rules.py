"""The configuration's rules as a small table, and a standard-library validator over it.

The hooks validate a changed config file with this (pydantic costs ~250 ms to import and may not be
installed: hooks run on a bare system python until the plugin's venv is ready).  ``models.Config`` is
the same schema for pydantic; tests hold the two equal: the table's options, bounds and defaults are
compared with the model's fields, and both validators must accept, normalise and reject a set of good
and bad configs alike.  ``validate`` returns what ``Config.model_validate(data).model_dump(mode="json",
by_alias=True)`` returns (defaults filled in, amounts as strings) or raises :class:`ConfigError`, which
has pydantic's ``errors()`` shape so one formatter serves both.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from model_strategy.runtime.base.kinds import EFFORTS, LEVELS, POLICIES, TIERS, WEEKDAYS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from model_strategy.runtime.settings.values import Config

CHOICES = (*TIERS, "auto")
PROFILES = ("FAST", "BALANCED", "QUALITY")
THRESHOLD_MAX = 1000  # percent

# field -> (kind, argument, default).  Kinds: int/float (arg = (min, max) or None), bool, str,
# lit (arg = options), opt_lit (one of the options or null), map (str -> one of arg), money (Decimal >= 0
# or null), obj (arg = a nested table).
Table = dict[str, tuple[str, object, object]]
THRESHOLDS: Table = {
    "info": ("int", (1, THRESHOLD_MAX), 50),
    "warning": ("int", (1, THRESHOLD_MAX), 75),
    "critical": ("int", (1, THRESHOLD_MAX), 90),
    "exceeded": ("int", (1, THRESHOLD_MAX), 100),
}
POLICY: Table = {
    "info": ("lit", POLICIES, "warn"),
    "warning": ("lit", POLICIES, "downgrade"),
    "critical": ("lit", POLICIES, "downgrade"),
    "exceeded": ("lit", POLICIES, "haiku_only"),
}
def _window(**levels: int) -> Table:
    return {name: ("opt_int", (1, 100), levels.get(name)) for name in ("warn", "downgrade", "haiku_only", "deny")}


WINDOWS: Table = {
    "five_hour": ("obj", _window(downgrade=70, haiku_only=90), None),
    "seven_day": ("obj", _window(downgrade=80), None),
    "spend_limit": ("obj", _window(downgrade=80, haiku_only=95), None),
}
BUDGETS: Table = {
    "daily_usd": ("money", None, "10"),
    "weekly_usd": ("money", None, "50"),
    "monthly_usd": ("money", None, "200"),
    "thresholds": ("obj", THRESHOLDS, None),
    "policy": ("obj", POLICY, None),
    "week_start": ("lit", WEEKDAYS, "monday"),
    "timezone": ("tz", None, "local"),
    "windows": ("obj", WINDOWS, None),
}
COMPLEXITY: Table = {
    "simple_below": ("float", (0, 1), 0.35),
    "complex_from": ("float", (0, 1), 0.7),
}
EFFORT: Table = {  # the effort a routed spawn runs at, per complexity band (null: the agent's usual effort)
    "simple": ("opt_lit", EFFORTS, "low"),
    "moderate": ("opt_lit", EFFORTS, None),
    "complex": ("opt_lit", EFFORTS, "high"),
}
ROI: Table = {
    "hourly_rate": ("rate", None, "75"),
    "minutes_saved": ("minutes", None, {"*": "10"}),
}
LEARNING: Table = {  # routing that learns from its outcomes (runtime/routing/learning.py)
    "enabled": ("bool", None, True),
    "explore": ("float", (0, 0.5), 0.05),
    "max_success_loss": ("float", (0, 0.5), 0.02),
}
CONFIG: Table = {
    "schema": ("int", None, 1),
    "profile": ("lit", PROFILES, "BALANCED"),
    "override_explicit_model": ("bool", None, False),
    "override_explicit_effort": ("bool", None, False),
    "max_tier": ("lit", TIERS, "opus"),
    "min_tier": ("lit", TIERS, "haiku"),
    "agents": ("map", CHOICES, {}),
    "agent_patterns": ("map", CHOICES, {}),
    "complexity": ("obj", COMPLEXITY, None),
    "effort": ("obj", EFFORT, None),
    "budgets": ("obj", BUDGETS, None),
    "roi": ("obj", ROI, None),
    "retention_days": ("int", (7, 36500), 90),
    "learning": ("obj", LEARNING, None),
}


class ConfigError(ValueError):
    """One invalid field; ``errors()`` mirrors pydantic's ``ValidationError.errors()``."""

    def __init__(self, loc: tuple[str, ...], msg: str, value: Any = None) -> None:
        super().__init__(f"{'.'.join(loc) or '(top level)'}: {msg}")
        self.loc, self.msg, self.value = loc, msg, value

    def errors(self) -> list[dict[str, Any]]:
        return [{"loc": self.loc, "msg": self.msg, "input": self.value}]


def thresholds_order_problem(values: dict[str, int]) -> str | None:
    """The one cross-field rule: info ≤ warning ≤ critical ≤ exceeded (shared with ``models``)."""
    seq = [values[k] for k in LEVELS]
    if seq != sorted(seq):
        got = ", ".join(f"{k} {values[k]}" for k in LEVELS)
        return f"thresholds must be ordered info ≤ warning ≤ critical ≤ exceeded (got {got})"
    return None


def _options(opts: tuple[str, ...]) -> str:
    quoted = [f"'{o}'" for o in opts]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _number(loc: tuple[str, ...], value: Any, kind: str, bounds: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and isinstance(value, float)):
        raise ConfigError(loc, f"Input should be a valid {'integer' if kind == 'int' else 'number'}", value)
    if bounds is not None:
        lo, hi = bounds
        if not value >= lo:
            raise ConfigError(loc, f"Input should be greater than or equal to {lo}", value)
        if not value <= hi:
            raise ConfigError(loc, f"Input should be less than or equal to {hi}", value)
    return float(value) if kind == "float" else value


#: the sane range of every amount the user gives us (budgets, the hourly rate, minutes saved, price
#: overrides): at most a billion, at most 6 decimal places (so nothing positive below 0.000001).  Beyond
#: it ``Decimal`` arithmetic overflows (``1e999999999``) or percentages run to hundreds of digits (``1e-400``).
AMOUNT_MAX = Decimal(1_000_000_000)
AMOUNT_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-AMOUNT_PLACES)


def amount_problem(amount: Decimal, positive: bool = False) -> str | None:
    """Why ``amount`` is outside the sane range (one phrase), or None.  The one rule for amounts: the
    CLI (``budget set``, ``--hourly-rate``, ``cost BUDGET``), both config validators and the price
    overrides use it."""
    if not amount.is_finite():
        return "must be a finite number"
    if amount < 0 or (positive and amount == 0):
        return "must be greater than 0" if positive else "must not be negative"
    if amount > AMOUNT_MAX:
        return f"must be at most {AMOUNT_MAX:,}"
    if (amount and amount.adjusted() < -AMOUNT_PLACES) or amount != amount.quantize(_QUANTUM):
        return f"may have at most {AMOUNT_PLACES} decimal places (smallest 0.000001)"
    return None


def parse_amount(text: str, what: str = "amount", example: str = "15") -> Decimal:
    """A user's positive amount in USD (``15``, ``$15``, ``1,000``) as a ``Decimal`` in the sane range, or
    ``ValueError`` with one line naming ``what`` and the input."""
    raw = text.strip().replace(",", "").replace("_", "")
    raw = raw[1:] if raw.startswith("$") else raw
    got = f"(got {text[:40]!r})"
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{what} must be an amount in USD, e.g. {example} {got}") from None
    problem = amount_problem(amount, positive=True)
    if problem is None:
        return amount
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"{what} must be a positive amount in USD, e.g. {example} {got}")
    raise ValueError(f"{what} {problem} {got}")


def check_amount(amount: Decimal) -> Decimal:
    """``amount_problem`` as a pydantic ``AfterValidator`` (``models.Config``)."""
    problem = amount_problem(amount)
    if problem:
        raise ValueError(f"amount {problem}")
    return amount


def _money(loc: tuple[str, ...], value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(loc, "Decimal input should be an integer, float, string or Decimal object", value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigError(loc, "Input should be a valid decimal", value) from None
    if not amount.is_finite():
        raise ConfigError(loc, "Input should be a finite number", value)
    if amount < 0:
        raise ConfigError(loc, "Input should be greater than or equal to 0", value)
    problem = amount_problem(amount)
    if problem:
        raise ConfigError(loc, f"Value error, amount {problem}", value)
    return str(amount)


def _amount(loc: tuple[str, ...], value: Any) -> str:
    """A Decimal >= 0 that may not be null."""
    amount = _money(loc, value)
    if amount is None:
        raise ConfigError(loc, "Decimal input should be an integer, float, string or Decimal object", value)
    return amount


def _timezone(loc: tuple[str, ...], value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(loc, "Input should be a valid string", value)
    if value in ("local", "UTC"):
        return value
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(loc, f"Value error, unknown timezone {value!r}", value) from None
    return value


def _field(loc: tuple[str, ...], kind: str, arg: Any, value: Any) -> Any:
    if kind in ("int", "float"):
        return _number(loc, value, kind, arg)
    if kind == "opt_int":
        return None if value is None else _number(loc, value, "int", arg)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(loc, "Input should be a valid boolean", value)
        return value
    if kind == "lit":
        if not isinstance(value, str) or value not in arg:
            raise ConfigError(loc, f"Input should be {_options(arg)}", value)
        return value
    if kind == "opt_lit":
        return None if value is None else _field(loc, "lit", arg, value)
    if kind == "map":
        if not isinstance(value, dict):
            raise ConfigError(loc, "Input should be a valid dictionary", value)
        return {k: _field((*loc, k), "lit", arg, v) for k, v in value.items()}
    if kind == "money":
        return _money(loc, value)
    if kind == "tz":
        return _timezone(loc, value)
    if kind == "rate":  # a Decimal > 0
        amount = _amount(loc, value)
        if not Decimal(amount) > 0:
            raise ConfigError(loc, "Input should be greater than 0", value)
        return amount
    if kind == "minutes":  # str -> Decimal >= 0
        if not isinstance(value, dict):
            raise ConfigError(loc, "Input should be a valid dictionary", value)
        return {k: _amount((*loc, k), v) for k, v in value.items()}
    if kind == "obj":
        return _object(loc, arg, value)
    raise AssertionError(kind)  # pragma: no cover - the table is fixed


def _object(loc: tuple[str, ...], table: Table, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(loc, "Input should be a valid dictionary or object to extract fields from", value)
    for key in value:
        if key not in table:
            raise ConfigError((*loc, str(key)), "Extra inputs are not permitted", value[key])
    out: dict[str, Any] = {}
    for key, (kind, arg, default) in table.items():
        if key in value:
            out[key] = _field((*loc, key), kind, arg, value[key])
        elif kind == "obj":
            out[key] = _object((*loc, key), arg, {})  # type: ignore[arg-type]
        else:
            out[key] = dict(default) if isinstance(default, dict) else default
    if table is THRESHOLDS:
        problem = thresholds_order_problem(out)
        if problem:
            raise ConfigError(loc, f"Value error, {problem}", value)
    return out


def validate(data: Any) -> Config:
    """The whole configuration, normalised (see the module docstring), or :class:`ConfigError`."""
    if not isinstance(data, dict):
        raise ConfigError((), "Input should be a valid dictionary or instance of Config", data)
    checked: Any = _object((), CONFIG, data)  # the table is the schema of ``Config``
    config: Config = checked
    return config
