"""Configuration layers, validation and the compiled cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.commands.cli import budget_cli
from model_strategy.runtime.settings import config


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    (p / ".claude").mkdir(parents=True)
    return p


def write(path: Path, data: object) -> None:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    # the cache keys on (mtime, size): make each write visible even within one clock tick
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_defaults_load_and_validate(project: Path) -> None:
    cfg, warnings = config.load(str(project))
    assert warnings == []
    assert cfg["profile"] == "BALANCED" and cfg["agents"]["Explore"] == "haiku"
    assert cfg["budgets"]["monthly_usd"] == "200"


def test_layers_merge_project_over_global(project: Path, data_dir: Path) -> None:
    write(data_dir / "config.json", {"profile": "FAST", "budgets": {"daily_usd": "3"}})
    write(project / ".claude" / "model-strategy.json", {"profile": "QUALITY", "agents": {"my-agent": "opus"}})
    cfg, warnings = config.load(str(project))
    assert warnings == []
    assert cfg["profile"] == "QUALITY" and cfg["budgets"]["daily_usd"] == "3"
    assert cfg["agents"]["my-agent"] == "opus" and cfg["agents"]["Explore"] == "haiku"


def test_bad_field_names_file_and_field_and_keeps_last_good(project: Path) -> None:
    f = project / ".claude" / "model-strategy.json"
    write(f, {"profile": "FAST"})
    assert config.load(str(project))[0]["profile"] == "FAST"
    write(f, {"profile": "FAST", "agents": {"Explore": "hiku"}})
    cfg, warnings = config.load(str(project))
    assert cfg["profile"] == "FAST"  # last good version of that file
    (line,) = warnings
    assert str(f) in line and "agents.Explore" in line and "last good version" in line and "\n" not in line
    assert config.load(str(project)) == (cfg, [])  # said once, not on every hook


def test_broken_json_without_history_uses_defaults(project: Path) -> None:
    f = project / ".claude" / "model-strategy.json"
    write(f, '{"profile": ')
    cfg, (line,) = config.load(str(project))
    assert cfg["profile"] == "BALANCED"
    assert "not valid JSON (line 1" in line and "defaults for it" in line


def test_unknown_key_is_rejected(project: Path) -> None:
    write(project / ".claude" / "model-strategy.json", {"profle": "FAST"})
    _, (line,) = config.load(str(project))
    assert "profle" in line and "Extra inputs are not permitted" in line


def test_bad_timezone_and_budget(data_dir: Path, project: Path) -> None:
    write(data_dir / "config.json", {"budgets": {"timezone": "Mars/Olympus", "daily_usd": "-1"}})
    cfg, (line,) = config.load(str(project))
    assert "budgets." in line and cfg["budgets"]["timezone"] == "local"


def test_write_global_validates_first(data_dir: Path) -> None:
    budget_cli.write_global({"budgets": {"daily_usd": "15"}})
    assert json.loads((data_dir / "config.json").read_text()) == {"budgets": {"daily_usd": "15"}}
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        budget_cli.write_global({"budgets": {"daily_usd": "lots"}})
    assert json.loads((data_dir / "config.json").read_text()) == {"budgets": {"daily_usd": "15"}}


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(["profile", "max_tier", "agents", "budgets", "x"]),
                       st.none() | st.integers() | st.text(max_size=5) | st.dictionaries(st.text(max_size=3),
                                                                                          st.text(max_size=3))))
def test_any_project_file_gives_a_valid_config(tmp_path_factory: pytest.TempPathFactory, data: dict) -> None:
    from model_strategy.models import Config

    project = tmp_path_factory.mktemp("p")
    (project / ".claude").mkdir()
    write(project / ".claude" / "model-strategy.json", data)
    cfg, warnings = config.load(str(project))
    Config.model_validate(cfg)
    assert all("\n" not in w for w in warnings)
