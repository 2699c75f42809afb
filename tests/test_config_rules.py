"""The standard-library config validator (hooks) and ``models.Config`` (pydantic) are one schema."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from model_strategy import models
from model_strategy.runtime.settings import config_rules
from model_strategy.runtime.settings.config_rules import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = json.loads((ROOT / "lib" / "model_strategy" / "data" / "defaults.json").read_text())


def pydantic_result(data: Any) -> tuple[str, Any]:
    try:
        return "ok", models.Config.model_validate(data).model_dump(mode="json", by_alias=True)
    except ValidationError as exc:
        return "bad", tuple(str(p) for p in exc.errors()[0]["loc"])


def stdlib_result(data: Any) -> tuple[str, Any]:
    try:
        return "ok", config_rules.validate(data)
    except ConfigError as exc:
        return "bad", exc.loc


GOOD: list[dict[str, Any]] = [
    {},
    DEFAULTS,
    {"profile": "FAST", "max_tier": "sonnet", "min_tier": "haiku", "override_explicit_model": True},
    {"agents": {"x": "auto", "y": "fable"}, "agent_patterns": {"*a*": "opus"}},
    {"complexity": {"simple_below": 0, "complex_from": 1}},
    {"complexity": {"simple_below": 0.2}},
    {"effort": {"simple": None, "complex": "max"}, "override_explicit_effort": True},
    {"budgets": {"daily_usd": None, "weekly_usd": 12, "monthly_usd": 0.5}},
    {"budgets": {"daily_usd": " 1_000 ", "weekly_usd": "1e3", "monthly_usd": "-0"}},
    {"budgets": {"thresholds": {"info": 10, "warning": 10, "critical": 10, "exceeded": 10}}},
    {"budgets": {"thresholds": {"info": 1, "warning": 500, "critical": 999, "exceeded": 1000}}},
    {"budgets": {"policy": {"exceeded": "deny", "info": "haiku_only"}, "week_start": "sunday"}},
    {"budgets": {"timezone": "Europe/Berlin"}},
    {"budgets": {"timezone": "UTC"}},
    {"schema": 1},
]

BAD: list[tuple[Any, tuple[str, ...]]] = [
    ({"profle": "FAST"}, ("profle",)),
    ({"profile": "fast"}, ("profile",)),
    ({"profile": None}, ("profile",)),
    ({"max_tier": "gpt"}, ("max_tier",)),
    ({"override_explicit_model": "true"}, ("override_explicit_model",)),
    ({"override_explicit_model": 1}, ("override_explicit_model",)),
    ({"agents": ["Explore"]}, ("agents",)),
    ({"agents": {"Explore": "gpt"}}, ("agents", "Explore")),
    ({"complexity": None}, ("complexity",)),
    ({"effort": {"simple": "lowest"}}, ("effort", "simple")),
    ({"effort": {"huge": "max"}}, ("effort", "huge")),
    ({"override_explicit_effort": "yes"}, ("override_explicit_effort",)),
    ({"complexity": {"simple_below": 1.5}}, ("complexity", "simple_below")),
    ({"complexity": {"simple_below": "0.3"}}, ("complexity", "simple_below")),
    ({"complexity": {"simple_below": True}}, ("complexity", "simple_below")),
    ({"complexity": {"extra": 1}}, ("complexity", "extra")),
    ({"budgets": {"daily_usd": "-1"}}, ("budgets", "daily_usd")),
    ({"budgets": {"daily_usd": "lots"}}, ("budgets", "daily_usd")),
    ({"budgets": {"daily_usd": True}}, ("budgets", "daily_usd")),
    ({"budgets": {"daily_usd": "nan"}}, ("budgets", "daily_usd")),
    ({"budgets": {"daily_usd": [1]}}, ("budgets", "daily_usd")),
    ({"budgets": {"thresholds": {"warning": 500}}}, ("budgets", "thresholds")),
    ({"budgets": {"thresholds": {"info": 80, "warning": 75}}}, ("budgets", "thresholds")),
    ({"budgets": {"thresholds": {"exceeded": 1001}}}, ("budgets", "thresholds", "exceeded")),
    ({"budgets": {"thresholds": {"info": 0}}}, ("budgets", "thresholds", "info")),
    ({"budgets": {"thresholds": {"info": "50"}}}, ("budgets", "thresholds", "info")),
    ({"budgets": {"thresholds": {"info": 50.0}}}, ("budgets", "thresholds", "info")),
    ({"budgets": {"thresholds": {"info": 50.5}}}, ("budgets", "thresholds", "info")),
    ({"budgets": {"policy": {"info": "block"}}}, ("budgets", "policy", "info")),
    ({"budgets": {"week_start": "Monday"}}, ("budgets", "week_start")),
    ({"budgets": {"timezone": "Mars/Olympus"}}, ("budgets", "timezone")),
    ({"budgets": {"timezone": 1}}, ("budgets", "timezone")),
    ({"budgets": "none"}, ("budgets",)),
    ({"schema": "1"}, ("schema",)),
]


@pytest.mark.parametrize("data", GOOD)
def test_good_configs_normalise_alike(data: dict[str, Any]) -> None:
    assert stdlib_result(data) == pydantic_result(data)


@pytest.mark.parametrize("data, loc", BAD)
def test_bad_configs_are_refused_alike(data: Any, loc: tuple[str, ...]) -> None:
    assert stdlib_result(data) == ("bad", loc)
    assert pydantic_result(data)[0] == "bad"
    if loc[-1] != "thresholds":  # pydantic reports the cross-field rule at the model's own location too
        assert pydantic_result(data) == ("bad", loc)


def test_messages_read_like_pydantic() -> None:
    with pytest.raises(ConfigError) as exc:
        config_rules.validate({"profle": 1})
    assert exc.value.errors()[0]["msg"] == "Extra inputs are not permitted"
    with pytest.raises(ConfigError) as exc:
        config_rules.validate({"budgets": {"thresholds": {"warning": 500}}})
    assert "ordered info ≤ warning ≤ critical ≤ exceeded (got info 50, warning 500" in str(exc.value)


def _table_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's fields as (options or bounds, default), to compare with config_rules' table."""
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        ann = field.annotation
        sub = next((a for a in (ann, *typing.get_args(ann)) if isinstance(a, type) and issubclass(a, BaseModel)),
                   None)
        if sub is not None:
            out[key] = _table_of(sub)
            if isinstance(field.default, BaseModel):  # a nested default of its own (windows' levels)
                for name, value in field.default.model_dump(mode="json").items():
                    if not isinstance(value, dict) and name in out[key]:
                        out[key][name] = (*out[key][name][:2], value)
            continue
        args = typing.get_args(ann)
        if typing.get_origin(ann) is dict:
            args = typing.get_args(args[1])
        args = tuple(x for a in args for x in (typing.get_args(a) or (a,)))  # Literal[...] | None
        bounds = [getattr(m, "ge", None) for m in field.metadata] + [getattr(m, "le", None) for m in field.metadata]
        default = field.default
        out[key] = (tuple(a for a in args if isinstance(a, str)),
                    tuple(b for b in bounds if b is not None),
                    json.loads(json.dumps(default, default=str)))
    return out


def _table_of_rules(table: config_rules.Table) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (kind, arg, default) in table.items():
        if kind == "obj":
            out[key] = _table_of_rules(arg)  # type: ignore[arg-type]
        else:
            options = arg if kind in ("lit", "opt_lit", "map") else ()
            bounds = arg if kind in ("int", "float", "opt_int") and arg else ((0,) if kind == "money" else ())
            out[key] = (tuple(options), tuple(bounds), default)  # type: ignore[arg-type]
    return out


def test_the_table_is_the_models_schema() -> None:
    """Options, bounds and defaults of config_rules' table equal those of models.Config."""
    assert _table_of_rules(config_rules.CONFIG) == _table_of(models.Config)


JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-5, 2000) | st.floats(allow_nan=False, width=32)
                       | st.sampled_from(["FAST", "opus", "auto", "deny", "10", "x", "UTC", "monday", "-1"]),
                       lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner,
                                                                                    max_size=2), max_leaves=4)
KEYS = st.sampled_from(["profile", "max_tier", "agents", "budgets", "complexity", "override_explicit_model", "x"])
BUDGET_KEYS = st.sampled_from(["daily_usd", "thresholds", "policy", "week_start", "timezone"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, JSONISH | st.dictionaries(BUDGET_KEYS, JSONISH, max_size=3), max_size=3))
def test_generated_configs_agree(data: dict[str, Any]) -> None:
    mine, theirs = stdlib_result(data), pydantic_result(data)
    assert mine[0] == theirs[0], (data, mine, theirs)
    if mine[0] == "ok":
        assert mine == theirs
