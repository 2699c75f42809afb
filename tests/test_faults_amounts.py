"""Extreme amounts (issue 14): money has a sane range and precision everywhere it enters -- the CLI
(``budget set``, ``--hourly-rate``, ``cost BUDGET``), the config files (both validators), the price
overrides -- and hooks facing a bad value saved by an older version fail open and ignore it."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model_strategy import models
from model_strategy.runtime.money import pricing
from model_strategy.runtime.settings import config, config_rules
from sessionlab import Session
from test_budget_cli import bin_run
from test_hook_processes import run_hook

EXTREME = ["1e999999999", "1e-400", "NaN", "Infinity", "-inf", "-1", "1000000000.01", "0.0000001", "1e309",
           "snan"]


@pytest.mark.parametrize("raw", EXTREME)
def test_budget_set_refuses_extreme_amounts_in_one_line(data_dir: Path, raw: str) -> None:
    out = bin_run("budget", "set", "daily", raw, data=data_dir)
    assert out.returncode == 2, out
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith("model-strategy: daily budget")
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert not (data_dir / "config.json").exists()


@pytest.mark.parametrize("raw, saved", [("15", "15"), ("$1,000.50", "1000.50"), ("0.000001", "0.000001"),
                                        ("1000000000", "1000000000")])
def test_budget_set_keeps_sane_amounts(data_dir: Path, raw: str, saved: str) -> None:
    out = bin_run("budget", "set", "daily", raw, data=data_dir)
    assert out.returncode == 0, out.stderr
    assert json.loads((data_dir / "config.json").read_text())["budgets"]["daily_usd"] == saved


@pytest.mark.parametrize("raw", ["1e309", "NaN", "0", "1e-9"])
def test_hourly_rate_option_is_refused_in_one_line(data_dir: Path, raw: str) -> None:
    out = bin_run("roi", "--hourly-rate", raw, data=data_dir)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1, out.stderr
    assert out.stderr.startswith("model-strategy: --hourly-rate")


def test_cost_budget_word_is_refused_in_one_line(data_dir: Path) -> None:
    out = bin_run("cost", "1e999999999", data=data_dir)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1, out.stderr
    assert "'1e999999999'" in out.stderr


@pytest.mark.parametrize("field, value", [("budgets.daily_usd", "1e999999999"), ("budgets.weekly_usd", "1e-400"),
                                          ("budgets.monthly_usd", 1e300), ("roi.hourly_rate", "1e309"),
                                          ("roi.minutes_saved.*", "1e999999999")])
def test_both_validators_refuse_extreme_config_amounts(field: str, value: object) -> None:
    from pydantic import ValidationError

    top, key, *rest = field.split(".")
    data: dict[str, object] = {top: {key: {rest[0]: value}} if rest else {key: value}}
    with pytest.raises(config_rules.ConfigError) as exc:
        config_rules.validate(data)
    assert exc.value.loc == tuple(field.split("."))
    with pytest.raises(ValidationError):
        models.Config.model_validate(data)


@given(st.text(max_size=30) | st.decimals(allow_nan=True, allow_infinity=True).map(str)
       | st.floats().map(repr) | st.integers().map(str))
def test_parse_amount_is_in_range_or_one_line(text: str) -> None:
    try:
        amount = config_rules.parse_amount(text)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert amount.is_finite() and Decimal(0) < amount <= config_rules.AMOUNT_MAX
    assert amount == amount.quantize(Decimal("0.000001"))
    str(amount * 100 / Decimal("0.000001"))  # a percentage of the smallest budget stays in range


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_validators_agree_on_any_amount(value: Decimal) -> None:
    from pydantic import ValidationError

    data = {"budgets": {"daily_usd": str(value)}}
    try:
        mine = config_rules.validate(data)["budgets"]["daily_usd"]
    except config_rules.ConfigError:
        mine = None
    try:
        theirs = models.Config.model_validate(data).model_dump(mode="json")["budgets"]["daily_usd"]
    except (ValidationError, InvalidOperation):
        theirs = None
    assert mine == theirs


def test_price_override_out_of_range_is_ignored(data_dir: Path) -> None:
    (data_dir / "prices.override.json").write_text(json.dumps({"models": {
        "claude-sonnet-4-5": {"input_mtok": "1e999999999"}, "my-proxy-*": {"input_mtok": "3", "output_mtok": "15"}}}))
    warnings: list[str] = []
    clean = pricing.load_overrides(warnings)
    assert list(clean) == ["my-proxy-*"]
    assert len(warnings) == 1 and "claude-sonnet-4-5.input_mtok" in warnings[0]


@pytest.mark.parametrize("value", ["1e999999999", "1e-400", "NaN"])
def test_hooks_ignore_a_bad_amount_saved_before(samples: Path, tmp_path: Path, data_dir: Path, value: str) -> None:
    """A config saved by an older version (no range then) or by hand: every hook fails open with one
    line naming the field and routes on the rest; a last-good version holding the value is dropped too."""
    (data_dir / "config.json").write_text(json.dumps({"budgets": {"daily_usd": value}}))
    stale = {"schema": 2, "sig": [], "config": {}, "crc": 0,
             "last_good": {str(data_dir / "config.json"): {"budgets": {"daily_usd": value}}}}
    lab = Session(samples, tmp_path)
    cache = Path(config._cache_path(config._sources(str(lab.project))))
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(json.dumps(stale))
    said = []
    for event, payload in [("session_start", lab.payload("SessionStart")), ("pre_tool_use", lab.pre("A")),
                           ("stop", lab.payload("Stop"))]:
        code, out, err = run_hook(event, payload)
        assert code == 0 and err == "", (event, err)
        text = (out or {}).get("systemMessage", "")
        assert "internal error" not in text and "Overflow" not in text, (event, text)
        said += [line for line in text.splitlines() if "budgets.daily_usd" in line]
        if event == "pre_tool_use":
            assert "general-purpose → haiku" in text
    assert len(said) == 1 and "using defaults for it" in said[0], said  # said once, while the file is unchanged


def test_roi_with_a_huge_hourly_rate_in_config_runs(data_dir: Path) -> None:
    (data_dir / "config.json").write_text(json.dumps({"roi": {"hourly_rate": "1e309"}}))
    out = bin_run("roi", "--json", data=data_dir)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    data = json.loads(out.stdout)
    assert data["assumptions"]["hourly_rate"] == "75"
    assert any("roi.hourly_rate" in w for w in data["warnings"])
