"""Slash-command arguments as data: the slash_args hook stores them, ``--slash-args`` takes them, and
nothing a caller types can reach the shell or a write path (see tests/e2e/test_injection_e2e.py for the
real client)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_strategy.commands.cli import shortcut
from model_strategy.runtime.entry import slashargs
from sessionlab import KEEP_ENV

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin" / "model-strategy"
HOOK = ROOT / "hooks" / "run"
PY = os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable
SESSION = "3f1c2d9e-0000-4000-8000-000000000001"

NASTY = [
    'x" ; "/plugin/bin/model-strategy" budget set policy info deny ; echo "',
    'the "best model',
    "it's a 'test",
    "a\nb\nc",
    "$(touch /tmp/ms-injection-marker)",
    "a `touch /tmp/ms-injection-marker` b",
    "a ; touch /tmp/ms-injection-marker",
    "a && touch /tmp/ms-injection-marker",
    "a\nMSEND\ntouch /tmp/ms-injection-marker\ncat <<'MSEND'\nb",
    "x =ls {'a'} a\\ b <1-5> ~[x]",
    "--json --width 5 --settings /tmp/ms-injection-settings.json",
]


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k in KEEP_ENV or not k.startswith(("CLAUDE_", "MODEL_STRATEGY_"))}  # the test's clock
    env.update(MODEL_STRATEGY_PYTHON=PY, MODEL_STRATEGY_DATA_DIR=str(data_dir),
               CLAUDE_CODE_SESSION_ID=SESSION)
    env.update(extra)
    return env


def slash(sub: str, data_dir: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    """What a command's ``!`` line runs: ``model-strategy --plugin-data DIR <sub> [--slash-args]``."""
    return subprocess.run([str(BIN), "--plugin-data", str(data_dir), sub, *extra], capture_output=True, text=True,
                          timeout=60, cwd=data_dir, env=env_for(data_dir, **env))


def hook(payload: dict[str, object], data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HOOK), "slash_args"], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=60, env=env_for(data_dir, CLAUDE_PLUGIN_ROOT=str(ROOT)))


def expansion(command: str, args: str) -> dict[str, object]:
    return {"hook_event_name": "UserPromptExpansion", "session_id": SESSION, "expansion_type": "slash_command",
            "command_name": command, "command_args": args, "command_source": "plugin", "prompt": f"/{command} {args}"}


def test_stash_and_take_once(data_dir: Path) -> None:
    assert slashargs.stash(SESSION, "model-strategy:cost", "300 code review")
    assert slashargs.take("cost", SESSION) == "300 code review"
    assert slashargs.take("cost", SESSION) is None  # consumed
    assert slashargs.stash(SESSION, "other-plugin:cost", "x") is None  # not ours: nothing stored
    assert slashargs.stash(SESSION, "model-strategy:statusline", "x") is None  # takes no arguments
    assert slashargs.take("cost", SESSION) is None
    assert slashargs.stash(SESSION, "model-strategy", "shortcut text")  # the user-level shortcut
    assert slashargs.take("report", "another-session") is None
    assert slashargs.take("report", SESSION) == "shortcut text"


def test_stale_or_broken_stash_is_ignored(data_dir: Path) -> None:
    path = Path(slashargs.stash(SESSION, "model-strategy:compare", "sonnet") or "")
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "time": data["time"] - slashargs.MAX_AGE_S - 1}))
    assert slashargs.take("compare", SESSION) is None
    path.write_text("{not json")
    assert slashargs.take("compare", SESSION) is None
    old = Path(slashargs.stash(SESSION, "model-strategy:cost", "300") or "")
    os.utime(old, (1, 1))  # a text whose command never ran is pruned by the next stash
    slashargs.stash("other-session", "model-strategy:cost", "200")
    assert not old.exists()


def test_subcommand_for() -> None:
    assert slashargs.subcommand_for("model-strategy:model-strategy") == "report"
    assert slashargs.subcommand_for("model-strategy") == "report"  # the user-level shortcut
    assert slashargs.subcommand_for("/model-strategy:cost") == "cost"
    assert slashargs.subcommand_for("model-strategy:../../x") is None
    assert slashargs.subcommand_for("model-strategy:") is None
    assert slashargs.subcommand_for("other:cost") is None and slashargs.subcommand_for("model-strategyx") is None


def test_payloads() -> None:
    assert slashargs.from_payload(expansion("model-strategy:cost", "300")) == ("model-strategy:cost", "300")
    skill = {"hook_event_name": "PreToolUse", "tool_name": "Skill",
             "tool_input": {"skill": "model-strategy:model-strategy", "args": "code review"}}
    assert slashargs.from_payload(skill) == ("model-strategy:model-strategy", "code review")
    assert slashargs.from_payload({**skill, "tool_input": {"skill": "model-strategy:budget"}}) == (
        "model-strategy:budget", "")
    assert slashargs.from_payload({**skill, "tool_name": "Agent"}) is None
    assert slashargs.from_payload({"hook_event_name": "Stop"}) is None


def test_hook_fails_open(data_dir: Path) -> None:
    assert slashargs.hook_main(io.StringIO("not json")) == 0
    assert slashargs.hook_main(io.StringIO("[]")) == 0
    p = hook(expansion("model-strategy:fallback", "support chat"), data_dir)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == ""
    assert slashargs.take("fallback", SESSION) == "support chat"


def test_a_failed_slash_args_hook_is_in_the_one_error_log(data_dir: Path) -> None:
    """The same writer and format as the hooks' (a time on the header): status counts it."""
    from model_strategy.commands.usage import status

    assert slashargs.hook_main(io.StringIO("not json")) == 0
    health = status.hook_health(str(data_dir))
    assert health["errors_24h"] == 1 and health["last_error"] is not None
    assert health["last_error"]["hook"] == "slash_args" and "JSONDecodeError" in health["last_error"]["error"]
    assert health["last_error"]["time"] == "2026-12-07T12:00:00Z"


@pytest.mark.parametrize("text", NASTY)
def test_nasty_arguments_are_words_of_the_report(text: str, data_dir: Path, tmp_path: Path) -> None:
    marker = Path("/tmp/ms-injection-marker")
    marker.unlink(missing_ok=True)
    hook(expansion("model-strategy:model-strategy", text), data_dir)
    p = slash("report", data_dir, "--slash-args")
    assert p.returncode == 0, p.stderr
    title = " ".join(slashargs.words(text))
    assert f"Model strategy — {title}"[:60] in p.stdout, p.stdout[:500]
    assert not marker.exists()
    assert not (data_dir / "config.json").exists() and not Path("/tmp/ms-injection-settings.json").exists()


def test_long_and_missing_arguments(data_dir: Path) -> None:
    hook(expansion("model-strategy:model-strategy", "w" * 100_000), data_dir)
    p = slash("report", data_dir, "--slash-args")
    assert p.returncode == 0
    assert p.stdout.strip() == ("model-strategy: the arguments are too long (100,000 characters; at most 2,000): "
                                "describe the use case in a sentence or two")
    p = slash("report", data_dir, "--slash-args")  # the hook did not run: say so, then the plain report
    assert p.returncode == 0
    assert p.stdout.startswith("model-strategy: the arguments of this command did not reach model-strategy")
    assert "Model strategy" in p.stdout
    p = slash("install-statusline", data_dir, "--slash-args")  # not a command that takes arguments
    assert p.returncode == 0 and p.stdout.startswith("model-strategy: --slash-args goes right after one of:")


def test_catalog_filters_and_options_as_words(data_dir: Path) -> None:
    hook(expansion("model-strategy:catalog", "--vendor openai --category fast-economy"), data_dir)
    p = slash("catalog", data_dir, "--slash-args")
    assert p.returncode == 0 and "gpt-" in p.stdout and "claude-" not in p.stdout
    hook(expansion("model-strategy:compare", "--json sonnet"), data_dir)
    p = slash("compare", data_dir, "--slash-args")  # an option-looking word is a word, not an option
    assert p.stdout.startswith("model-strategy: unknown model '--json'") and len(p.stdout.splitlines()) == 1


def test_budget_set_only_through_its_own_command(data_dir: Path) -> None:
    hook(expansion("model-strategy:model-strategy", "budget set daily 15"), data_dir)
    assert "Model strategy — budget set daily 15" in slash("report", data_dir, "--slash-args").stdout
    assert not (data_dir / "config.json").exists()
    hook(expansion("model-strategy:budget", "set daily 15"), data_dir)
    p = slash("budget", data_dir, "--slash-args")
    assert p.stdout.startswith("model-strategy: saved daily 15 in ")
    assert json.loads((data_dir / "config.json").read_text())["budgets"]["daily_usd"] == "15"
    hook(expansion("model-strategy:budget", '" ; touch /tmp/ms-injection-marker'), data_dir)
    p = slash("budget", data_dir, "--slash-args")  # words that are no setting: one line, nothing written
    assert p.returncode == 0 and p.stdout.startswith("model-strategy: unknown budget argument") and \
        p.stdout.count("\n") == 1
    assert json.loads((data_dir / "config.json").read_text())["budgets"]["daily_usd"] == "15"


def test_write_paths_are_refused_in_slash_mode(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "chosen" / "settings.json"
    p = slash("install-statusline", data_dir, "--settings", str(target))
    assert p.returncode == 0 and p.stdout.startswith("model-strategy: install-statusline takes no options")
    assert not target.exists()
    p = slash("install-shortcut", data_dir, "--project", str(tmp_path / "proj"))
    assert p.returncode == 0 and p.stdout.startswith("model-strategy: install-shortcut takes no options")
    assert not (tmp_path / "proj").exists()
    # from a terminal both still work
    home = tmp_path / "home"
    out = subprocess.run([str(BIN), "install-statusline", "--settings", str(target)], capture_output=True,
                         text=True, timeout=60, env=env_for(data_dir, HOME=str(home)))
    assert out.returncode == 0 and "statusLine" in json.loads(target.read_text())


def test_old_shortcut_is_upgraded(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    cmd = tmp_path / ".claude" / "commands" / "model-strategy.md"
    cmd.parent.mkdir(parents=True)
    cmd.write_text('---\n---\n<!-- model-strategy shortcut v1 -->\n!`"/x/launcher" report "$ARGUMENTS"`\n')
    assert shortcut.upgrade_old()
    text = cmd.read_text()
    assert shortcut.MARKER in text and "$ARGUMENTS" not in text and "report --slash-args`" in text
    assert shortcut.upgrade_old() is None  # current: left alone
    cmd.write_text("my own command\n")
    assert shortcut.upgrade_old() is None and cmd.read_text() == "my own command\n"


def test_hook_stores_arguments_before_the_environment_exists(data_dir: Path, tmp_path: Path) -> None:
    """Without MODEL_STRATEGY_PYTHON and before the plugin's venv is built, hooks/run still stores the
    arguments with the system python3 (slashargs is standard library only)."""
    env = {k: v for k, v in env_for(data_dir, CLAUDE_PLUGIN_ROOT=str(ROOT)).items() if k != "MODEL_STRATEGY_PYTHON"}
    p = subprocess.run([str(HOOK), "slash_args"], input=json.dumps(expansion("model-strategy:cost", "300")),
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0 and p.stdout == ""
    assert slashargs.take("cost", SESSION) == "300"
