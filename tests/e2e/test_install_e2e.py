"""Installed the way users install it: `claude plugin marketplace add` + `claude plugin install`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fakeapi import agent_call, text_turn, tool_turn, usage
from harness import REPO_ROOT, make_env
from test_plugin_e2e import MODEL, load_records, models_seen

pytestmark = pytest.mark.e2e


def test_marketplace_install_then_session(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sessionlab import venv_python

    checkout = tmp_path / "checkout"  # tracked files only, as a user's clone of the repository
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(checkout)], check=True, timeout=120)
    env = make_env("http://127.0.0.1:9", claude_env.home)
    for args in (["plugin", "marketplace", "add", str(checkout)],
                 ["plugin", "install", "model-strategy@model-strategy"]):
        proc = subprocess.run([claude_env.claude, *args], env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    scenario = {"main": [tool_turn(agent_call("A", "search the repo for config files", subagent_type="Explore",
                                              run_in_background=False), u=usage(500, 50)),
                         text_turn("all done", usage(600, 20))],
                "subagents": {"A": [text_turn("A done", usage(1200, 80))]}}
    api = fake_api(scenario)
    run = claude_env.run("[[SCENARIO:installed]] go", api=api, plugin_dir=None,
                         env={"MODEL_STRATEGY_PYTHON": venv_python()})
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    assert models_seen(api, "sub:A") == {MODEL["haiku"]}
    data_dirs = list((claude_env.home / ".claude" / "plugins" / "data").glob("model-strategy*"))
    assert len(data_dirs) == 1, data_dirs
    (rec,) = load_records(data_dirs[0], "subagent")
    assert rec["model_actual"] == MODEL["haiku"] and rec["requests"] == 1
    # the command's `name: model-strategy` frontmatter: plain /model-strategy resolves in the installed plugin
    n = len(api.messages_requests())
    run = claude_env.run("/model-strategy code review", api=api, plugin_dir=None,
                         env={"MODEL_STRATEGY_PYTHON": venv_python()})
    assert run.returncode == 0 and run.result, run.describe()
    prompt = api.messages_requests()[n]["user_text"]
    assert "<command-name>/model-strategy:model-strategy</command-name>" in prompt
    assert "Model strategy — code review" in prompt
