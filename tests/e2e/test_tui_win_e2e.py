"""The interactive client (tmux): what a user sees when typing into Claude Code 2.1.332.

Skipped (with the reason) when tmux is missing.  Screens are captured as text; assertions look for
words on screen and for what reached the fake API, never at timings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from harness import REPO_ROOT, make_project
from tui import DUMMY_KEY, TmuxSession, claude_env, claude_home_state, require_tmux

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
    require_tmux()
    from sessionlab import venv_python

    project = make_project(tmp_path / "proj")
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude.json").write_text(json.dumps(claude_home_state(DUMMY_KEY, [project.resolve()], "2.1.332")))
    return {"claude": claude_bin, "project": project, "home": home, "data": tmp_path / "data",
            "python": venv_python()}


def start(setup: dict[str, Any], api: Any, extra: dict[str, str] | None = None) -> TmuxSession:
    env = claude_env(api.url, setup["home"], {"MODEL_STRATEGY_PYTHON": setup["python"],
                                           "MODEL_STRATEGY_DATA_DIR": str(setup["data"]), **(extra or {})})
    # acceptEdits: the default auto mode asks before an Agent spawn against a fake API (FACTS.md 11), and
    # the plugin no longer answers that prompt for the user
    tui = TmuxSession.start([setup["claude"], "--plugin-dir", str(REPO_ROOT), "--permission-mode", "acceptEdits"],
                            env=env, cwd=setup["project"])
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


def test_plain_model_strategy_in_print_mode(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The alias resolves in ``-p`` too, with the arguments (no shortcut installed)."""
    from sessionlab import venv_python

    api = fake_api({"main": []})
    run = claude_env.run("/model-strategy code review", api=api, plugin_dir=REPO_ROOT,
                         env={"MODEL_STRATEGY_PYTHON": venv_python(), "MODEL_STRATEGY_DATA_DIR": str(tmp_path / "d")})
    assert run.ok, run.describe()
    prompt = api.messages_requests()[-1]["user_text"]
    assert "<command-name>/model-strategy:model-strategy</command-name>" in prompt
    assert "<command-args>code review</command-args>" in prompt and "Model strategy — code review" in prompt


def install_statusline(setup: dict[str, Any], settings: Path) -> str:
    """The installer's Python entry with an explicit settings file (slash commands cannot pass one)."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "lib"), "MODEL_STRATEGY_DATA_DIR": str(setup["data"]),
           "CLAUDE_PLUGIN_ROOT": str(REPO_ROOT), "HOME": str(setup["home"])}
    code = ("import sys; from model_strategy.commands.cli.statusline_install import install as i; "
            "print(i(sys.argv[1]))")
    out = subprocess.run([setup["python"], "-c", code, str(settings)], env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    return out.stdout


def security_review(key: str) -> dict[str, Any]:
    from fakeapi import agent_call, tool_turn, usage

    return tool_turn(agent_call(key, "review the auth architecture for security vulnerabilities",
                                description="Security review", run_in_background=False), u=usage(500, 50))


def reply(info: dict[str, Any]) -> dict[str, Any]:
    """The main thread's answer from the latest user message, not from the turn number: in the interactive
    client the agents run in the background and their completion notifications add turns at any time."""
    from fakeapi import last_user_text, text_turn, usage

    last = (info["body"].get("messages") or [{}])[-1]
    content = last.get("content")
    if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
        return text_turn("reviewer started", usage(100, 10))
    text = last_user_text(info["body"])
    if "<task-notification>" in text:
        return text_turn("a reviewer finished", usage(100, 10))
    for ask, key in (("spawn a reviewer", "A"), ("spawn another reviewer", "B")):
        if ask in text:
            return security_review(key)
    return text_turn(f"noted: {text.strip().splitlines()[-1][:40]}", usage(100, 10))


def test_subscription_window_levels_in_the_client(tui_setup, fake_api) -> None:  # type: ignore[no-untyped-def]
    """A subscriber's 5-hour window crosses 70 % and then 90 % between prompts: the status line shows it,
    the session is told once per level, and the next subagents run one tier lower, then on haiku."""
    from fakeapi import text_turn, usage
    from tui import gateway_jwt

    settings = tui_setup["home"] / ".claude" / "settings.json"
    settings.write_text(json.dumps({"statusLine": {"type": "command", "command": "echo mine"}}, indent=2))
    assert "your previous status line (echo mine) runs first" in install_statusline(tui_setup, settings)
    script = {"main": [], "extra_main": reply, "subagents": {"A": [text_turn("A done", usage(400, 40))],
                                                             "B": [text_turn("B done", usage(400, 40))]}}
    api = fake_api(script)
    api.rate_limit_headers(0.42, 0.17)
    tui = start(tui_setup, api, extra={"ANTHROPIC_AUTH_TOKEN": gateway_jwt()})
    with tui:
        tui.submit("[[SCENARIO:win]] hello")
        screen = tui.wait_for("mine · model-strategy 5h 42% · 7d 17% · ok", timeout=60)
        api.rate_limit_headers(0.75, 0.18)
        tui.submit("the 5-hour window is filling")
        tui.wait_for("5h 75%", timeout=60)
        tui.submit("spawn a reviewer")
        screen = tui.wait_for("5-hour limit 75% used", timeout=90)
        assert "general-purpose → opus → sonnet (5-hour limit 75%; picked for" in screen, screen
        assert api.wait_for(lambda reqs: any(r.get("matched") == "sub:A" for r in reqs), timeout=60)
        assert "5-hour limit 75% used" in screen and "new agents drop one tier" in screen, screen
        assert "5h downgrade" in screen
        api.rate_limit_headers(0.93, 0.19)
        tui.submit("nearly full now")
        tui.wait_for("5h 93%", timeout=60)
        tui.submit("spawn another reviewer")
        screen = tui.wait_for("5-hour limit 93% used", timeout=90)
        assert "general-purpose → opus → haiku (5-hour limit 93%; picked for" in screen, screen
        assert api.wait_for(lambda reqs: any(r.get("matched") == "sub:B" for r in reqs), timeout=60)
        assert "5-hour limit 93% used" in screen and "new agents use haiku" in screen, screen
        assert "5h haiku only" in screen
    from test_plugin_e2e import MODEL, models_seen

    assert models_seen(api, "sub:A") == {MODEL["sonnet"]}  # opus wanted: one tier lower
    assert models_seen(api, "sub:B") == {MODEL["haiku"]}
    snap = json.loads((tui_setup["data"] / "windows.json").read_text())
    assert [s[1] for s in snap["windows"]["five_hour"]["samples"]] == [42, 75, 93]


def test_statusline_command_shows_at_once_and_keeps_the_users_line(tui_setup, fake_api) -> None:  # type: ignore[no-untyped-def]
    """/model-strategy:statusline inside a running session: the composed line appears in that session."""
    settings = tui_setup["home"] / ".claude" / "settings.json"
    original = '{\n  "statusLine": {"type": "command", "command": "echo mine"},\n  "theme": "dark"\n}\n'
    settings.write_text(original)
    api = fake_api({"main": []}, unscripted_turn=echo_basis)
    with start(tui_setup, api) as tui:
        tui.wait_for("mine")
        tui.type("/model-strategy:statusline")
        tui.wait_for("(model-strategy) Show today's spend")
        tui.press("Enter")
        screen = tui.wait_for("mine · model-strategy $0.00 today · 0% of $10 · ok", timeout=60)
    assert "<command-name>/model-strategy:statusline</command-name>" in api.messages_requests()[-1]["user_text"]
    assert "statusLine set in" in api.messages_requests()[-1]["user_text"]
    assert "next session" not in screen
    import subprocess

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tui_setup["home"]), "MODEL_STRATEGY_PYTHON": tui_setup["python"],
           "MODEL_STRATEGY_DATA_DIR": str(tui_setup["data"])}
    out = subprocess.run([str(REPO_ROOT / "bin" / "model-strategy"), "uninstall-statusline"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "restored your previous statusLine" in out.stdout, out.stderr
    assert settings.read_text() == original
