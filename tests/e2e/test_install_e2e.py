"""Installed the way users install it: `claude plugin marketplace add` + `claude plugin install`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from fakeapi import agent_call, text_turn, tool_turn, usage
from harness import REPO_ROOT, make_env
from test_plugin_e2e import MODEL, load_records, models_seen

pytestmark = pytest.mark.e2e


def install(claude_env, tmp_path: Path, stub_setup: bool = False) -> Path:  # type: ignore[no-untyped-def]
    """Clone this repository, then `claude plugin marketplace add` + `claude plugin install`.
    ``stub_setup``: the clone's venv setup only leaves a mark (no package registry needed)."""
    checkout = tmp_path / "checkout"  # tracked files only, as a user's clone of the repository
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(checkout)], check=True, timeout=120)
    if stub_setup:
        from sessionlab import stub_setup as stub

        stub(checkout)
    env = make_env("http://127.0.0.1:9", claude_env.home)
    for args in (["plugin", "marketplace", "add", str(checkout)],
                 ["plugin", "install", "model-strategy@model-strategy"]):
        proc = subprocess.run([claude_env.claude, *args], env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return checkout


def explore_spawn() -> dict[str, object]:
    """One foreground Explore spawn of one turn (routed to haiku by the defaults)."""
    return {"main": [tool_turn(agent_call("A", "search the repo for config files", subagent_type="Explore",
                                          run_in_background=False), u=usage(500, 50)),
                     text_turn("all done", usage(600, 20))],
            "subagents": {"A": [text_turn("A done", usage(1200, 80))]}}


def test_marketplace_install_then_session(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sessionlab import venv_python

    install(claude_env, tmp_path)
    api = fake_api(explore_spawn())
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


def terminal(exe: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """A plain terminal: HOME and PATH, no CLAUDE_* or MODEL_STRATEGY_DATA_DIR (the venv is the test's)."""
    from sessionlab import venv_python

    env = {"HOME": str(home), "PATH": os.environ["PATH"], "MODEL_STRATEGY_PYTHON": venv_python()}
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=home)


def test_terminal_settings_reach_the_installed_plugin(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`budget set` in a terminal writes the config the installed plugin's hooks use; `status` names its dir."""
    from sessionlab import venv_python

    checkout = install(claude_env, tmp_path)
    plugins = claude_env.home / ".claude" / "plugins"
    (entry,) = json.loads((plugins / "installed_plugins.json").read_text())["plugins"]["model-strategy@model-strategy"]
    installed = Path(entry["installPath"])
    data = plugins / "data" / "model-strategy-model-strategy"  # Claude Code's name for model-strategy@model-strategy
    # from the checkout and from the installed copy alike (no session has run: the dir may not exist yet)
    for exe, args in ((checkout / "bin" / "model-strategy", ("budget", "set", "daily", "15")),
                      (installed / "bin" / "model-strategy", ("budget", "set", "monthly", "0.00001")),
                      (checkout / "bin" / "model-strategy", ("budget", "set", "policy", "exceeded", "deny"))):
        out = terminal(exe, *args, home=claude_env.home)
        assert out.returncode == 0 and f"in {data / 'config.json'}" in out.stdout, out.stdout + out.stderr
    status = json.loads(terminal(installed / "bin" / "model-strategy", "status", "--json", home=claude_env.home).stdout)
    assert status["data_home"]["path"] == str(data)
    assert status["data_home"]["why"] == f"discovered: installed plugin model-strategy@model-strategy under {plugins}"
    assert status["config"][1] == {"layer": "global", "file": str(data / "config.json"), "state": "ok", "reason": None}
    budget = json.loads(terminal(checkout / "bin" / "model-strategy", "budget", "--json", home=claude_env.home).stdout)
    assert [p["budget_usd"] for p in budget["periods"]] == ["15", "50", "0.00001"]
    # the installed plugin's hooks use those settings: a first session's Stop hook records its main-thread
    # spend (over the $0.00001 monthly budget), so in the next session the policy set above denies the spawn
    api = fake_api({"main": [text_turn("hello", usage(500, 50))]})
    run = claude_env.run("hello", api=api, plugin_dir=None, env={"MODEL_STRATEGY_PYTHON": venv_python()})
    assert run.ok, run.describe()
    api = fake_api(explore_spawn())
    run = claude_env.run("[[SCENARIO:installed]] go", api=api, plugin_dir=None,
                         env={"MODEL_STRATEGY_PYTHON": venv_python()})
    assert run.returncode == 0 and run.result, run.describe()
    assert models_seen(api, "sub:A") == set()  # denied: the subagent never ran
    assert [d["tool_use_id"] for d in run.result["permission_denials"]] == ["toolu_00000_0"]
    assert "monthly" in json.dumps(api.messages_requests()[-1]["body"])


def test_first_session_after_a_marketplace_install_routes_and_records(claude_env, fake_api,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    """No venv yet, no MODEL_STRATEGY_PYTHON: the installed plugin's hooks run on the system python3."""
    import shutil

    install(claude_env, tmp_path, stub_setup=True)
    api = fake_api(explore_spawn())
    node_dir = os.path.dirname(shutil.which("node") or "/usr/bin/node")
    run = claude_env.run("[[SCENARIO:first-install]] go", api=api, plugin_dir=None,
                         env={"PATH": f"{node_dir}:/usr/local/bin:/usr/bin:/bin"})
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    assert models_seen(api, "sub:A") == {MODEL["haiku"]}  # routed on the very first spawn
    data = claude_env.home / ".claude" / "plugins" / "data" / "model-strategy-model-strategy"
    (rec,) = load_records(data, "subagent")
    assert rec["model_actual"] == MODEL["haiku"] and rec["requests"] == 1
    assert "bootstrap.py" in (data / "setup-started").read_text() and not (data / "venv").exists()
