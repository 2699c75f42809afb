"""Slash-command arguments are data, never shell, in the real client (FACTS.md section 10).

Claude Code pastes ``$ARGUMENTS`` verbatim into a command's ``!`` line; this plugin's commands no longer
do that: the ``slash_args`` hook (``UserPromptExpansion`` for typed commands, ``PreToolUse`` on ``Skill``
when Claude invokes one) stores the text and the fixed ``!`` line ``model-strategy ... <sub> --slash-args``
reads it.  Every payload below must give the command's own report (the text as its words) or one
``model-strategy:`` line -- never an aborted command, never a second command: config.json and the
settings files stay byte-for-byte unchanged and no marker file appears.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fakeapi import text_turn, tool_turn

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "bin" / "model-strategy"
PY = os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable
TODAY = "2026-11-26"


@pytest.fixture
def world(claude_env: Any, tmp_path: Path) -> dict[str, Path]:
    """A data dir with a known config.json, a user settings.json, and paths an attacker would pick."""
    data = tmp_path / "ms-data"
    data.mkdir()
    env = {**os.environ, "MODEL_STRATEGY_PYTHON": PY, "MODEL_STRATEGY_DATA_DIR": str(data)}
    subprocess.run([str(BIN), "budget", "set", "daily", "20"], check=True, env=env, timeout=60,
                   capture_output=True)
    settings = claude_env.home / ".claude" / "settings.json"
    settings.write_text(json.dumps({"theme": "dark"}) + "\n")
    return {"data": data, "config": data / "config.json", "settings": settings,
            "marker": tmp_path / "INJECTED", "chosen": tmp_path / "chosen" / "settings.json"}


def snapshot(w: dict[str, Path]) -> dict[str, bytes | None]:
    return {k: (p.read_bytes() if p.exists() else None) for k, p in w.items() if k != "data"}


def run_command(claude_env: Any, api: Any, w: dict[str, Path], prompt: str, **kw: Any) -> str:
    """Run one slash command; return the prompt text the API received for it."""
    n = len(api.messages_requests())
    env = {"MODEL_STRATEGY_PYTHON": PY, "MODEL_STRATEGY_DATA_DIR": str(w["data"]), "MODEL_STRATEGY_NOW": TODAY}
    run = claude_env.run(prompt, api=api, plugin_dir=REPO, env=env, **kw)
    assert run.ok, run.describe()
    assert "Shell command" not in str(run.result.get("result")), run.result  # not aborted by the `!` runner
    reqs = api.messages_requests()
    assert len(reqs) > n, "the command sent nothing to the API (aborted?)"
    return str(reqs[n]["user_text"])


def payloads(w: dict[str, Path]) -> dict[str, str]:
    m, root = w["marker"], REPO
    return {
        "break-out-to-budget": f'x" ; "{root}/bin/model-strategy" budget set policy info deny ; echo "',
        "break-out-to-statusline": f'x" ; "{root}/bin/model-strategy" install-statusline --settings {w["chosen"]} '
                                   '; echo "',
        "one-double-quote": 'the "best model',
        "single-quotes": "what's the 'best model",
        "newline": f"code review\ntouch {m}",
        "command-substitution": f"$(touch {m}) code review",
        "backticks": f"code `touch {m}` review",
        "semicolon": f"code review ; touch {m}",
        "and-and": f"code review && touch {m}",
        "heredoc-lookalikes": f"a\nMSEND\n!MS\nEOF\ntouch {m}\ncat <<'EOF'\nb",
        "checker-too-complex": "x =ls {'a'} a\\ b <1-5> ~[x] \u00a0nbsp",
    }


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", [
    "break-out-to-budget", "break-out-to-statusline", "one-double-quote", "single-quotes", "newline",
    "command-substitution", "backticks", "semicolon", "and-and", "heredoc-lookalikes", "checker-too-complex"])
def test_report_arguments_are_a_use_case(name: str, claude_env: Any, fake_api: Any, world: dict[str, Path]) -> None:
    text = payloads(world)[name]
    before = snapshot(world)
    api = fake_api({"main": []})
    prompt = run_command(claude_env, api, world, f"/model-strategy:model-strategy {text}")
    assert words(f"Model strategy — {text}")[:60] in words(prompt), prompt[:3000]  # the report wraps lines
    assert "Recommendations" in prompt
    assert snapshot(world) == before


def test_hundred_thousand_characters_get_one_line(claude_env: Any, fake_api: Any, world: dict[str, Path]) -> None:
    before = snapshot(world)
    api = fake_api({"main": []})
    prompt = run_command(claude_env, api, world, "/model-strategy:model-strategy " + "w" * 100_000)
    assert ("model-strategy: the arguments are too long (100,000 characters; at most 2,000): describe the use "
            "case in a sentence or two") in prompt
    assert snapshot(world) == before


@pytest.mark.parametrize("command, expect", [
    ("compare", "model-strategy: unknown model"),
    ("cost", "Budget"),
    ("fallback", "Fallback chains"),
    ("catalog", "model-strategy:"),
    ("budget", "model-strategy: --settings is not available in a slash command"),
    ("dashboard", "Usage dashboard"),
    ("statusline", "model-strategy: statusLine set in"),
])
def test_every_command_keeps_injections_as_text(command: str, expect: str, claude_env: Any, fake_api: Any,
                                                world: dict[str, Path]) -> None:
    text = (f'x" ; "{REPO}/bin/model-strategy" budget set policy info deny ; touch {world["marker"]} ; '
            f'"{REPO}/bin/model-strategy" install-statusline --settings {world["chosen"]} ; echo "\n$(touch '
            f'{world["marker"]})')
    before = snapshot(world)
    api = fake_api({"main": []})
    prompt = run_command(claude_env, api, world, f"/model-strategy:{command} {text}")
    assert expect in prompt, prompt[:3000]
    after = snapshot(world)
    if command == "statusline":  # its own job: ~/.claude/settings.json gets a statusLine, nothing else changes
        assert json.loads(after.pop("settings") or b"")["statusLine"]["command"].endswith(" statusline")
        before.pop("settings")
    assert after == before


def test_statusline_settings_option_is_not_reachable(claude_env: Any, fake_api: Any,
                                                     world: dict[str, Path]) -> None:
    before = snapshot(world)
    api = fake_api({"main": []})
    prompt = run_command(claude_env, api, world, f"/model-strategy:statusline --settings {world['chosen']}")
    assert "model-strategy: statusLine set in " + str(world["settings"]) in prompt  # the default, not the chosen
    assert not world["chosen"].exists() and snapshot(world)["config"] == before["config"]


def test_budget_set_still_works_from_its_own_command(claude_env: Any, fake_api: Any,
                                                     world: dict[str, Path]) -> None:
    api = fake_api({"main": []})
    prompt = run_command(claude_env, api, world, "/model-strategy:budget set daily 15")
    assert "model-strategy: saved daily 15 in " in prompt
    assert json.loads(world["config"].read_text())["budgets"]["daily_usd"] == "15"


def test_claude_invoking_a_command_through_the_skill_tool(claude_env: Any, fake_api: Any,
                                                          world: dict[str, Path]) -> None:
    """Arguments Claude chose (e.g. after reading an untrusted file) take the PreToolUse(Skill) path."""
    text = payloads(world)["break-out-to-budget"] + f"\n$(touch {world['marker']})"
    call = {"type": "tool_use", "name": "Skill", "input": {"skill": "model-strategy:model-strategy", "args": text}}
    api = fake_api({"main": [tool_turn(call), text_turn("summarised")]})
    before = snapshot(world)
    run_command(claude_env, api, world, "[[SCENARIO:s]] plan my models", allowed_tools="Skill")
    tool_results = str(api.messages_requests()[-1]["user_text"])
    assert words(f"Model strategy — {text}")[:60] in words(tool_results), tool_results[-3000:]
    assert snapshot(world) == before


def test_client_facts_behind_the_design(claude_env: Any, fake_api: Any, tmp_path: Path) -> None:
    """Why no command puts $ARGUMENTS into its ``!`` line, even quoted in a heredoc (FACTS.md 10): the
    heredoc keeps quotes, ``;`` and delimiter lookalikes as text, but a backtick ends the ``!`` block and
    the permission checker aborts the whole command on ordinary text or on length.  The hook that the
    design relies on sees the raw arguments before the ``!`` line runs."""
    from harness import make_probe_plugin

    probe = make_probe_plugin(tmp_path / "probe", events={"UserPromptExpansion": "^probe:c$"})
    (probe.root / "show.py").write_text(
        "import sys, json, os\n"
        "log = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'hook-log.jsonl')\n"
        "seen = [json.loads(x)['command_args'] for x in open(log)] if os.path.exists(log) else []\n"
        "print('SHOW ' + json.dumps({'stdin': sys.stdin.read(), 'hook_saw': seen}))\n")
    probe.add_command("c", "---\ndescription: heredoc probe\nallowed-tools: Bash(python3:*)\n---\n"
                           "!`python3 ${CLAUDE_PLUGIN_ROOT}/show.py <<'!MS'\n$ARGUMENTS\n!MS-END\n!MS`\n")
    api = fake_api({"main": []})

    def run(args: str) -> tuple[dict[str, Any], str]:
        probe.log_path.unlink(missing_ok=True)
        n = len(api.messages_requests())
        r = claude_env.run(f"/probe:c {args}", api=api, plugin_dir=probe.root, allowed_tools=None)
        assert r.result is not None, r.describe()
        reqs = api.messages_requests()[n:]
        return r.result, (str(reqs[0]["user_text"]) if reqs else "")

    text = "a\" ; 'b\n!MS\nc && $(d)"
    result, prompt = run(text)
    shown = json.loads(prompt.split("SHOW ", 1)[1].split("\n", 1)[0])
    assert shown == {"stdin": "a\" ; 'b\n\\!MS\nc && $(d)\n!MS-END\n", "hook_saw": [text]}  # `!` escaped as `\!`
    result, prompt = run("a `b` c")  # the backtick closes the `!` block: the heredoc is cut there
    assert "here-document at line 2 delimited by end-of-file" in prompt and '"stdin": "a\\n"' in prompt
    assert "b` c\n!MS-END\n!MS`" in prompt  # the rest of the arguments is pasted as plain text
    for args, reason in [("x =ls", "Contains zsh =cmd equals expansion"),
                         ("{'a'}", "Contains brace with quote character (expansion obfuscation)"),
                         ("a\u00a0b", "Contains Unicode whitespace"),
                         ("w" * 12_000, "Parser aborted (timeout, resource limit, or over-length)")]:
        result, prompt = run(args)
        assert result["num_turns"] == 0 and prompt == ""  # aborted: nothing reached the API
        assert result["result"].startswith("Shell command permission check failed for pattern ")
        assert result["result"].endswith(reason), result["result"][-200:]


def test_interactive_typed_command_keeps_injection_as_text(claude_bin: str, fake_api: Any, world: dict[str, Path],
                                                           tmp_path: Path) -> None:
    """The same in the interactive client (tmux): the typed break-out is the report's use case."""
    from harness import make_env, make_project
    from tui import TmuxSession, claude_home_state, require_tmux

    require_tmux()
    project = make_project(tmp_path / "tui-project")
    home = tmp_path / "tui-home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude.json").write_text(json.dumps(claude_home_state("dummy", [project], "2.1.332")))
    api = fake_api({"main": []})
    env = make_env(api.url, home, tmpdir=tmp_path / "tui-tmp", extra={
        "MODEL_STRATEGY_PYTHON": PY, "MODEL_STRATEGY_DATA_DIR": str(world["data"]), "MODEL_STRATEGY_NOW": TODAY,
        "TERM": "xterm-256color"})
    text = payloads(world)["break-out-to-budget"]
    before = snapshot(world)
    cmd = [claude_bin, "--plugin-dir", str(REPO), "--permission-mode", "default"]
    with TmuxSession.start(cmd, env=env, cwd=project, workdir=tmp_path / "tmux") as tui:
        tui.wait_for("❯", timeout=60)
        tui.submit(f"/model-strategy:model-strategy {text}")
        assert api.wait_for(lambda _: len(api.messages_requests()) > 0, timeout=60), tui.capture()
    prompt = str(api.messages_requests()[0]["user_text"])
    assert words(f"Model strategy — {text}")[:60] in words(prompt), prompt[:3000]
    assert snapshot(world) == before
