"""The ``bin/model-strategy`` launcher end to end (subprocesses), bad input, and the plain
``/model-strategy`` shortcut."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_strategy.commands.cli import shortcut
from model_strategy.runtime.entry import slashargs

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "bin" / "model-strategy"
PY = os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable


def env_for(data_dir: Path, home: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "MODEL_STRATEGY_"))}
    env.update(MODEL_STRATEGY_PYTHON=PY, MODEL_STRATEGY_DATA_DIR=str(data_dir), MODEL_STRATEGY_NOW="2026-11-26")
    if home is not None:
        env["HOME"] = str(home)
    env.update(extra)
    return env


def run(args: list[str], data_dir: Path, cwd: Path, exe: Path = BIN, **kw: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env=env_for(data_dir, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize("args, expect", [
    (["report", "code review"], "Model strategy — code review"),
    (["report", "code review, 500 PRs a day"], "500 requests/day"),  # "$ARGUMENTS" arrives as one word
    (["report", ""], "Interactive coding"),
    (["compare", "sonnet opus"], "claude-opus-5-5"),
    (["cost", "250"], "Budget $250.00/month (argument)"),
    (["cost", "$250"], "Budget $250.00/month (argument)"),
    (["fallback", "support chat"], "Fallback chains"),
    (["catalog", "--vendor", "google"], "gemini-4-argon"),
    (["catalog", "anthropic frontier"], "claude-fable-5-2"),
    (["dashboard"], "No usage records in the last 7 days"),
    (["cost", "abc"], "Cost projection"),  # a plain word is the use case
    (["statusline", "--help"], "usage: model-strategy statusline"),
    (["--help"], "install-statusline"),
    (["--help"], "doctor"),
    (["status"], "data home"),
])
def test_commands(args: list[str], expect: str, data_dir: Path, tmp_path: Path) -> None:
    p = run(args, data_dir, tmp_path)
    assert p.returncode == 0, p.stderr
    assert expect in p.stdout
    assert p.stderr == ""
    if args[0] != "status":  # status prints whole paths
        assert max(len(line) for line in p.stdout.splitlines()) <= 100


def test_json_and_width(data_dir: Path, tmp_path: Path) -> None:
    p = run(["compare", "haiku", "--json"], data_dir, tmp_path)
    assert p.returncode == 0 and json.loads(p.stdout)["models"][0]["id"] == "claude-haiku-5-5"
    p = run(["catalog", "--width", "70"], data_dir, tmp_path)
    assert max(len(line) for line in p.stdout.splitlines()) <= 70


@pytest.mark.parametrize("args, message", [
    (["compare", "gpt-99"], "unknown model 'gpt-99'"),
    (["cost", "0"], "positive amount"),
    (["cost", "12abc"], "amount in USD"),
    (["catalog", "--vendor", "acme"], "unknown vendor 'acme'"),
    (["catalog", "wat"], "neither a vendor"),
    (["report", "--width", "10"], "--width must be at least 40"),
    (["report", "--bogus"], "unrecognized arguments: --bogus"),
    (["nonsense"], "invalid choice"),
    (["cost", "-5"], "positive amount in USD"),
    (["cost", "$-5", "code review"], "positive amount in USD"),
    (["cost", ".5x"], "amount in USD"),
    (["budget", "bogus"], "unknown budget argument 'bogus'"),
    (["status", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_input_is_one_line_exit_2(args: list[str], message: str, data_dir: Path, tmp_path: Path) -> None:
    p = run(args, data_dir, tmp_path)
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and message in p.stderr
    assert p.stderr.startswith("model-strategy: ")


def test_slash_command_errors_reach_the_model(data_dir: Path, tmp_path: Path) -> None:
    """With --plugin-data (slash commands) bad input is one stdout line and exit 0."""
    p = run(["--plugin-data", str(tmp_path / "pd"), "compare", "gpt-99"], data_dir, tmp_path)
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.strip().splitlines() == [
        "model-strategy: unknown model 'gpt-99'; see /model-strategy:catalog for ids and aliases"]


def test_errors_name_the_command_of_their_context(data_dir: Path, tmp_path: Path) -> None:
    """A terminal points to the terminal command, a slash command to the slash command; a bad budget setting
    is one line in both."""
    p = run(["compare", "nosuchmodel"], data_dir, tmp_path)
    assert p.returncode == 2 and p.stderr.strip().splitlines() == [
        "model-strategy: unknown model 'nosuchmodel'; see bin/model-strategy catalog for ids and aliases"]
    p = run(["budget", "bogus"], data_dir, tmp_path)
    assert "(see bin/model-strategy budget --help)" in p.stderr
    slash = ["--plugin-data", str(tmp_path / "pd")]
    p = run([*slash, "budget", "set daily abc"], data_dir, tmp_path)
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.strip().splitlines() == [
        "model-strategy: daily budget must be an amount in USD, e.g. 15 (got 'abc')"]
    p = run([*slash, "budget", "bogus"], data_dir, tmp_path)
    assert p.stdout.strip().splitlines() == [
        "model-strategy: unknown budget argument 'bogus' (see /model-strategy:budget --help)"]
    p = run(["budget", "set", "daily", "abc"], data_dir, tmp_path)
    assert p.returncode == 2 and p.stderr.strip().splitlines() == [  # one line in a terminal too
        "model-strategy: daily budget must be an amount in USD, e.g. 15 (got 'abc')"]


def test_hints_name_the_command_of_their_context() -> None:
    from decimal import Decimal

    from model_strategy.commands.base import errors
    from model_strategy.commands.render import render

    try:
        for slash, hint in ((False, "bin/model-strategy cost 300"), (True, "/model-strategy:cost 300")):
            errors.set_slash(slash)
            assert f"or pass one: {hint})" in render.budget_line(Decimal(5), None).plain
        assert errors.command("report") == "/model-strategy"
    finally:
        errors.set_slash(False)


def run_in_terminal(args: list[str], data_dir: Path, cwd: Path, columns: int) -> str:
    """``bin/model-strategy`` with stdout on a pseudo-terminal ``columns`` wide; returns what it showed."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in env_for(data_dir).items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([str(BIN), *args], stdout=slave, stderr=subprocess.PIPE, cwd=cwd, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.parametrize("args", [["report"], ["catalog"], ["budget"], ["history", "--no-import"]])
def test_reports_follow_the_terminal_width(args: list[str], data_dir: Path, tmp_path: Path) -> None:
    out = run_in_terminal(args, data_dir, tmp_path, 80)
    lines = out.splitlines()
    assert lines and max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert max(len(line.rstrip()) for line in lines) > 60  # the terminal's width is used, not a narrow default
    if args == ["report"]:
        wide = run_in_terminal(args, data_dir, tmp_path, 130)
        assert max(len(line) for line in wide.splitlines()) > 100  # and a wide terminal gets the room


def test_python_dash_m(data_dir: Path, tmp_path: Path) -> None:
    env = env_for(data_dir, PYTHONPATH=str(ROOT / "lib"))
    p = subprocess.run([PY, "-m", "model_strategy.commands.cli.cli", "catalog", "openai"], capture_output=True,
                       text=True, timeout=60, cwd=tmp_path, env=env)
    assert p.returncode == 0 and "gpt-6-astra" in p.stdout


def test_plugin_data_argument_selects_the_data_dir(data_dir: Path, tmp_path: Path) -> None:
    plugin_data = tmp_path / "plugin-data"
    env = env_for(data_dir)
    del env["MODEL_STRATEGY_DATA_DIR"]  # as in a slash command: only ${CLAUDE_PLUGIN_DATA} is known
    p = subprocess.run([str(BIN), "--plugin-data", str(plugin_data), "catalog", "xai"], capture_output=True,
                       text=True, timeout=60, cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    assert (plugin_data / "cache" / "catalog.json").exists()
    assert (plugin_data / "plugin-root").read_text().strip() == str(ROOT)


# ---------------------------------------------------------------- the plain /model-strategy shortcut


def test_install_shortcut_writes_a_user_command(data_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    p = run(["install-shortcut"], data_dir, tmp_path, HOME=str(home))
    assert p.returncode == 0, p.stderr
    cmd = home / ".claude" / "commands" / "model-strategy.md"
    text = cmd.read_text()
    launcher = data_dir / "shortcut" / "model-strategy"
    assert f'allowed-tools: Bash("{launcher}" report --slash-args)' in text  # exactly this command
    assert f'!`"{launcher}" report --slash-args`' in text
    assert "$ARGUMENTS" not in text  # arguments never enter the shell line
    assert shortcut.MARKER in text and "Summarise" in text
    assert "${CLAUDE_PLUGIN_ROOT}" not in text  # user commands get no plugin variables
    # the launcher runs the plugin from anywhere, as Claude Code's ! command would
    out = subprocess.run([str(launcher), "report", "code review"], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path, env=env_for(data_dir))
    assert out.returncode == 0, out.stderr
    assert "Model strategy — code review" in out.stdout
    # idempotent; a foreign file is left alone unless --force
    assert run(["install-shortcut"], data_dir, tmp_path, HOME=str(home)).returncode == 0
    cmd.write_text("my own command\n")
    p = run(["install-shortcut"], data_dir, tmp_path, HOME=str(home))
    assert p.returncode == 2 and "--force" in p.stderr and cmd.read_text() == "my own command\n"
    assert run(["uninstall-shortcut"], data_dir, tmp_path, HOME=str(home)).returncode == 2
    assert run(["install-shortcut", "--force"], data_dir, tmp_path, HOME=str(home)).returncode == 0
    assert run(["uninstall-shortcut"], data_dir, tmp_path, HOME=str(home)).returncode == 0
    assert not cmd.exists()


def test_shell_install_finds_the_plugin_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a shell (no CLAUDE_PLUGIN_DATA) the installed plugin's data dir is found (paths.locate)."""
    monkeypatch.delenv("MODEL_STRATEGY_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    real = tmp_path / ".claude" / "plugins" / "data" / "model-strategy-acme"
    (real / "daily").mkdir(parents=True)
    (tmp_path / ".claude" / "plugins" / "data" / "other-plugin" / "daily").mkdir(parents=True)
    assert shortcut.install_data_dir() == (str(real), f"discovered: existing data dir under {tmp_path}/.claude/plugins")
    out = shortcut.install()
    assert f"(runs {real / 'shortcut' / 'model-strategy'}; data home from discovered" in out
    assert (real / "shortcut" / "model-strategy").stat().st_mode & 0o777 == 0o700


def test_project_shortcut(data_dir: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    p = run(["install-shortcut", "--project", str(proj)], data_dir, tmp_path)
    assert p.returncode == 0
    assert (proj / ".claude" / "commands" / "model-strategy.md").exists()


def test_launcher_follows_the_recorded_plugin_root(data_dir: Path, tmp_path: Path) -> None:
    """After a plugin update the recorded root wins over the root written at install time."""
    shortcut.install(str(tmp_path / "proj"))
    launcher = data_dir / "shortcut" / "model-strategy"
    fake = tmp_path / "newer-plugin" / "bin"
    fake.mkdir(parents=True)
    (fake / "model-strategy").write_text('#!/bin/sh\necho "newer $*"\n')
    (fake / "model-strategy").chmod(0o755)
    shortcut.remember_root(str(data_dir), str(tmp_path / "newer-plugin"))
    out = subprocess.run([str(launcher), "report"], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == f"newer --plugin-data {data_dir} report"
    (data_dir / "plugin-root").write_text("/nowhere\n")  # a removed version: back to the install-time root
    out = subprocess.run([str(launcher), "catalog", "meta"], capture_output=True, text=True, timeout=60,
                         env=env_for(data_dir))
    assert out.returncode == 0 and "muse-wonder-1.0" in out.stdout


def test_plugin_commands_are_wired_the_same_way() -> None:
    """Every command runs one fixed shell line, pre-approved by an exact allowed-tools rule (no :*), and
    no command puts $ARGUMENTS into it: arguments arrive through the slash_args hook."""
    base = '"${CLAUDE_PLUGIN_ROOT}/bin/model-strategy" --plugin-data "${CLAUDE_PLUGIN_DATA}" '
    for md in sorted((ROOT / "commands").glob("*.md")):
        text = md.read_text()
        assert text.startswith("---\n") and "\ndescription: " in text.split("---")[1], md
        assert "$ARGUMENTS" not in text and "$1" not in text and "$0" not in text, md
        bang = [line for line in text.splitlines() if line.startswith("!`")]
        assert len(bang) == 1 and bang[0].startswith("!`" + base) and bang[0].endswith("`"), md
        command = bang[0][2:-1]
        sub = command[len(base):].split()
        assert sub[0] in {*slashargs.TAKES_WORDS, "install-shortcut", "install-statusline"}, md
        assert sub[1:] == (["--slash-args"] if sub[0] in slashargs.TAKES_WORDS else []), md
        assert f"allowed-tools: Bash({command})\n" in text, md
        if sub[1:]:  # the slash_args hook stores this command's arguments for this subcommand
            assert slashargs.subcommand_for(f"model-strategy:{md.stem}") == sub[0], md
    # `name: model-strategy` makes plain /model-strategy an alias of the report command (typeahead + Enter)
    assert (ROOT / "commands" / "model-strategy.md").read_text().startswith("---\nname: model-strategy\n")
    names = {p.stem for p in (ROOT / "commands").glob("*.md")}
    assert {"model-strategy", "compare", "cost", "fallback", "catalog", "dashboard", "shortcut", "efficiency", "roi",
            "recommendations"} <= names
