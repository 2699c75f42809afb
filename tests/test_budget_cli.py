"""`model-strategy budget`, `budget set`, the statusline and its installer."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

import synthrecords
from model_strategy.commands.cli import budget_cli, statusline_install
from model_strategy.commands.render import render_budget
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import statusline
from sessionlab import ROOT, venv_python


def bin_run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(data.parent), "MODEL_STRATEGY_PYTHON": venv_python(),
           "MODEL_STRATEGY_DATA_DIR": str(data), "MODEL_STRATEGY_NOW": os.environ["MODEL_STRATEGY_NOW"]}
    return subprocess.run([str(ROOT / "bin" / "model-strategy"), *args], capture_output=True, text=True, env=env,
                          timeout=60)


def spend(amount: str) -> None:
    synthrecords.spend(Ledger(), amount)


def test_set_then_status_json(data_dir: Path) -> None:
    assert bin_run("budget", "set", "daily", "20", data=data_dir).returncode == 0
    assert bin_run("budget", "set", "policy", "exceeded", "deny", data=data_dir).returncode == 0
    spend("5")
    out = bin_run("budget", "--json", data=data_dir)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    day = data["periods"][0]
    assert day["budget_usd"] == "20" and day["percent"] == 25.0 and day["level"] == "ok"
    assert data["policy"]["exceeded"] == "deny"


@pytest.mark.parametrize("args", [["set", "daily", "lots"], ["set", "daily", "-3"], ["set", "policy", "x", "deny"],
                                  ["set", "timezone", "Mars/Base"], ["set", "nonsense", "1"],
                                  ["set", "threshold", "warning", "500"], ["set", "threshold", "info", "95"],
                                  ["set", "threshold", "exceeded", "1001"], ["set", "threshold", "info", "lots"],
                                  ["bogus"], ["status", "--json"]])
def test_bad_settings_are_one_line_and_change_nothing(data_dir: Path, args: list[str]) -> None:
    out = bin_run("budget", *args, data=data_dir)
    assert out.returncode == 2 and out.stderr.startswith("model-strategy: ")
    assert not (data_dir / "config.json").exists()


def test_thresholds_stay_ordered(data_dir: Path) -> None:
    out = bin_run("budget", "set", "threshold", "warning", "500", data=data_dir)
    assert out.stderr.splitlines()[0] == ("model-strategy: budgets.thresholds: Value error, thresholds must be ordered "
                                          "info ≤ warning ≤ critical ≤ exceeded (got info 50, warning 500, critical "
                                          "90, exceeded 100)")
    assert bin_run("budget", "set", "threshold", "exceeded", "300", data=data_dir).returncode == 0
    assert bin_run("budget", "set", "threshold", "critical", "250", data=data_dir).returncode == 0
    assert json.loads((data_dir / "config.json").read_text())["budgets"]["thresholds"] == {
        "exceeded": 300, "critical": 250}


def test_slash_mode_reports_errors_on_stdout(data_dir: Path) -> None:
    out = bin_run("--plugin-data", str(data_dir), "budget", "set daily lots", data=data_dir)
    assert out.returncode == 0 and out.stdout.startswith("model-strategy: daily budget must be an amount in USD")


def test_status_table_renders_levels(data_dir: Path) -> None:
    spend("8")
    text = render_budget.text(budget_cli.report_data(), 100)
    assert "\nday 20" in text and "\nweek 20" in text and "…" not in text  # rows start at the left edge
    assert "$8.00" in text and "warning" in text and "downgrade" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_statusline_line(data_dir: Path) -> None:
    spend("9.5")
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        statusline.main(io.StringIO("{}"))
    assert out.getvalue() == "model-strategy $9.50 today · 95% of $10 · day critical\n"  # the day's % once


def test_install_statusline_keeps_other_settings(tmp_path: Path, data_dir: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"model": "opus", "statusLine": {"type": "command", "command": "old"}}))
    msg = statusline_install.install(str(settings))
    data = json.loads(settings.read_text())
    assert data["model"] == "opus" and "hooks/run" in data["statusLine"]["command"]
    assert "your previous status line (old) runs first" in msg and "next session" not in msg
    settings.write_text("{broken")
    with pytest.raises(ValueError, match="nothing was changed"):
        statusline_install.install(str(settings))
    assert settings.read_text() == "{broken"
