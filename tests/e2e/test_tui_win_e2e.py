"""The interactive client (tmux): what a user sees when typing into Claude Code 2.1.332.

Skipped (with the reason) when tmux is missing.  Screens are captured as text; assertions look for
words on screen and for what reached the fake API, never at timings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from harness import REPO_ROOT, make_project
from tui_win import TUI, interactive_home, tmux_or_skip, tui_env

pytestmark = pytest.mark.e2e


def echo_basis(info: dict[str, Any]) -> dict[str, Any]:
    """The fake model 'summarises' by quoting the report's Basis line it was given."""
    from fakeapi import all_user_text

    m = re.search(r"Basis: ([^\n]+)", all_user_text(info["body"]))
    text = f"SUMMARY of the report. Basis: {m.group(1)}" if m else "SUMMARY: no report in the prompt"
    return {"content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 50, "output_tokens": 10}}


@pytest.fixture
def tui_setup(claude_bin: str, tmp_path: Path) -> dict[str, Any]:
    tmux_or_skip()
    from sessionlab import venv_python

    project = make_project(tmp_path / "proj")
    home = interactive_home(tmp_path / "home", [project])
    return {"claude": claude_bin, "project": project, "home": home, "data": tmp_path / "data",
            "python": venv_python()}


def start(setup: dict[str, Any], api: Any, extra: dict[str, str] | None = None) -> TUI:
    env = tui_env(api.url, setup["home"], {"MODEL_STRATEGY_PYTHON": setup["python"],
                                           "MODEL_STRATEGY_DATA_DIR": str(setup["data"]), **(extra or {})})
    tui = TUI.start(setup["claude"], cwd=setup["project"], env=env, args=["--plugin-dir", str(REPO_ROOT)])
    tui.wait_for("shift+tab", timeout=60)
    return tui


def test_enter_on_plain_model_strategy_runs_the_report(tui_setup, fake_api) -> None:  # type: ignore[no-untyped-def]
    """The plugin command's ``name: model-strategy`` frontmatter makes ``/model-strategy`` its alias:
    the typeahead puts it first, Enter runs it -- in the very first session, nothing installed."""
    api = fake_api({"main": []}, unscripted_turn=echo_basis)
    with start(tui_setup, api) as tui:
        tui.type("/model-strategy")
        menu = tui.wait_for("(model-strategy)")
        first = next(line for line in menu.splitlines() if "(model-strategy)" in line)
        assert "Model strategy for your work" in first and first.lstrip().startswith("❯"), menu
        tui.press("Enter")
        screen = tui.wait_for("SUMMARY of the report", timeout=90)
    assert "/model-strategy:model-strategy" in screen
    assert "Basis: assumptions" in screen
    prompt = api.messages_requests()[-1]["user_text"]
    assert "<command-name>/model-strategy:model-strategy</command-name>" in prompt
    assert "Model strategy\n" in prompt and "Recommendations" in prompt
    assert not (tui_setup["home"] / ".claude" / "commands").exists()  # nothing written to the user's commands
