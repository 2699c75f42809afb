"""Budget warnings where the user looks: the interactive client (tmux).

A session that starts over its daily budget says so at once (SessionStart), and the downgrade of the
next spawn names both the selector's pick and the model the budget made of it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from harness import REPO_ROOT, make_env, make_project
from test_budget_e2e import complex_spawn, prefill
from test_plugin_e2e import MODEL, models_seen, plugin_env
from tui import TmuxSession, claude_home_state, require_tmux

pytestmark = pytest.mark.e2e


def test_session_start_warning_and_downgrade_line_in_the_client(claude_bin: str, fake_api: Any,
                                                                 tmp_path: Path) -> None:
    require_tmux()
    project = make_project(tmp_path / "project")
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text(json.dumps({"permissions": {"allow": ["Agent"]}}))
    (home / ".claude.json").write_text(json.dumps(claude_home_state("dummy", [project], "2.1.332")))
    data = tmp_path / "data"
    prefill(data, "10.40", {"daily_usd": "10"})  # already over today's budget: exceeded → haiku only
    api = fake_api(complex_spawn())
    env = make_env(api.url, home, tmpdir=tmp_path / "cc-tmp", extra={**plugin_env(data), "TERM": "xterm-256color"})
    cmd = [claude_bin, "--plugin-dir", str(REPO_ROOT), "--permission-mode", "acceptEdits"]  # auto mode needs a server
    with TmuxSession.start(cmd, env=env, cwd=project,
                           workdir=tmp_path / "tmux") as tui:
        screen = tui.wait_for("session starts at exceeded", timeout=60)
        print("--- SessionStart ---\n" + screen)
        assert "daily budget 104% ($10.40 of $10.00)" in screen and "new agents use haiku" in screen
        tui.wait_for("❯", timeout=60)
        tui.submit("[[SCENARIO:budget]] review the auth architecture")
        screen = tui.wait_for(re.compile(r"general-purpose → opus → haiku"), timeout=90)
        print("--- downgrade ---\n" + screen)
        assert "(daily budget 104% ($10.40 of $10.00), policy haiku_only; picked for" in screen.replace("\n", "")
        api.wait_for(lambda reqs: any(str(r.get("matched", "")).startswith("sub:A") for r in reqs), timeout=60)
    assert models_seen(api, "sub:A") == {MODEL["haiku"]}
