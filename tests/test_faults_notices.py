"""Repeated warnings (issue 14): after ``budget set daily 0.01`` the session's first line says it starts
at exceeded, and neither the first spawn nor Stop says the same level again -- one announcement per
level and period, across real hook processes."""

from __future__ import annotations

from pathlib import Path

import synthrecords
from model_strategy.runtime.books.ledger import Ledger
from sessionlab import AGENT_A, Session
from test_budget_cli import bin_run
from test_hook_processes import run_hook


def test_one_announcement_per_level_and_period(samples: Path, tmp_path: Path, data_dir: Path) -> None:
    synthrecords.spend(Ledger(), "0.1221")  # today, before the session
    assert bin_run("budget", "set", "daily", "0.01", data=data_dir).returncode == 0
    lab = Session(samples, tmp_path)
    said: list[str] = []
    for event, payload in [("session_start", lab.payload("SessionStart")), ("pre_tool_use", lab.pre("A")),
                           ("subagent_stop", lab.subagent_stop(AGENT_A)), ("stop", lab.payload("Stop")),
                           ("pre_tool_use", lab.pre("B")), ("stop", lab.payload("Stop"))]:
        code, out, err = run_hook(event, payload)
        assert code == 0 and err == "", (event, err)
        said += [(event, line) for line in (out or {}).get("systemMessage", "").splitlines()]
    announcements = [(e, line) for e, line in said if "daily budget" in line and "forecast" in line]
    assert len(announcements) == 1, said
    assert announcements[0][0] == "session_start" and "session starts at exceeded" in announcements[0][1]
    # the spawns still say why they run on haiku, in their own routing line
    spawns = [line for e, line in said if e == "pre_tool_use"]
    assert len(spawns) == 2 and all("→ haiku" in line for line in spawns)


def test_a_higher_level_is_still_announced(samples: Path, tmp_path: Path, data_dir: Path) -> None:
    """Starting at warning, then crossing to exceeded: the second level gets its own line, once."""
    synthrecords.spend(Ledger(), "0.8", n=1)
    assert bin_run("budget", "set", "daily", "1", data=data_dir).returncode == 0
    lab = Session(samples, tmp_path)
    _, out, _ = run_hook("session_start", lab.payload("SessionStart"))
    assert out is not None and "session starts at warning" in out["systemMessage"]
    synthrecords.spend(Ledger(), "0.5", n=2)
    lines = []
    for event, payload in [("pre_tool_use", lab.pre("A")), ("stop", lab.payload("Stop")),
                           ("pre_tool_use", lab.pre("B"))]:
        _, out, _ = run_hook(event, payload)
        lines += [line for line in (out or {}).get("systemMessage", "").splitlines() if "forecast" in line]
    assert len(lines) == 1 and "daily budget 130%" in lines[0], lines
