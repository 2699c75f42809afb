"""Every hook as Claude Code runs it: a real process through hooks/run, JSON on stdin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from model_strategy.runtime.books.ledger import Ledger
from sessionlab import AGENT_A, AGENT_B, KEEP_ENV, ROOT, SAMPLE_NOW, Session, plugin_copy, venv_python

RUN = str(ROOT / "hooks" / "run")


def run_hook(event: str, stdin: str | dict[str, Any], env: dict[str, str] | None = None,
             python: str | None = "venv") -> tuple[int, dict[str, Any] | None, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_STRATEGY_PYTHON")}
    if python == "venv":
        e["MODEL_STRATEGY_PYTHON"] = venv_python()
    e.update(env or {})
    text = stdin if isinstance(stdin, str) else json.dumps(stdin)
    proc = subprocess.run([RUN, event], input=text, capture_output=True, text=True, env=e, timeout=60)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


@pytest.fixture
def lab(samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setenv("MODEL_STRATEGY_NOW", SAMPLE_NOW)  # the session replayed as it happened
    return Session(samples, tmp_path)


def test_pre_tool_use_process_rewrites_model_and_keeps_every_field(lab: Session) -> None:
    payload = lab.pre("A")
    payload["tool_input"]["isolation"] = "worktree"
    payload["tool_input"]["future_field"] = {"nested": [1, 2]}
    code, out, err = run_hook("pre_tool_use", payload)
    assert code == 0 and err == ""
    assert out is not None
    hso = out["hookSpecificOutput"]
    assert hso["hookEventName"] == "PreToolUse"
    assert "permissionDecision" not in hso  # routing must not grant the spawn: the user's mode and rules decide
    assert hso["updatedInput"] == {**payload["tool_input"], "model": "haiku", "effort": "low"}
    assert out["systemMessage"] == "model-strategy: general-purpose → haiku, low effort (simple search, 0.90)"


def test_full_sequence_of_processes_records_each_agent_once(lab: Session) -> None:
    for event, payload in [
        ("pre_tool_use", lab.pre("A")), ("pre_tool_use", lab.pre("B")),
        ("post_tool_use", lab.payload("PostToolUse-background")),
        ("subagent_stop", lab.subagent_stop(AGENT_A)), ("post_tool_use", lab.payload("PostToolUse-foreground")),
        ("subagent_stop", lab.subagent_stop(AGENT_B)), ("stop", lab.payload("Stop")),
    ]:
        code, _, err = run_hook(event, payload)
        assert code == 0 and err == "", (event, err)
    recs = list(Ledger().iter_records())
    assert sorted((r["kind"], r["agent_id"]) for r in recs) == [
        ("main", "main"), ("subagent", AGENT_B), ("subagent", AGENT_A)]


def test_session_start_process(lab: Session) -> None:
    code, out, err = run_hook("session_start", lab.payload("SessionStart"))
    assert code == 0 and err == "" and out is None


@pytest.mark.parametrize("event", ["pre_tool_use", "post_tool_use", "subagent_stop", "stop", "session_start"])
@pytest.mark.parametrize("stdin", ["", "{not json", "[1, 2]", "\x00\xff"])
def test_bad_stdin_fails_open_with_one_line(event: str, stdin: str) -> None:
    code, out, err = run_hook(event, stdin)
    assert code == 0 and err == ""
    assert out is not None and "hookSpecificOutput" not in out
    assert out["systemMessage"].startswith("model-strategy: ") and "\n" not in out["systemMessage"]
    assert "unreadable input" in out["systemMessage"]


def test_non_agent_tools_are_ignored(lab: Session) -> None:
    payload = lab.pre("A")
    payload["tool_name"] = "Read"
    assert run_hook("pre_tool_use", payload)[1] is None


def test_tool_input_missing_fails_open(lab: Session) -> None:
    payload = lab.pre("A")
    payload["tool_input"] = "oops"
    _, out, _ = run_hook("pre_tool_use", payload)
    assert out == {"systemMessage": "model-strategy: PreToolUse input has no tool_input object; "
                                    "spawn left unchanged"}


def test_internal_error_fails_open_and_logs(lab: Session, data_dir: Path) -> None:
    (data_dir / "archive.lock").mkdir()  # the lock path is a directory: opening it fails
    code, out, err = run_hook("pre_tool_use", lab.pre("A"))
    assert code == 0 and err == ""
    assert out is not None and "hookSpecificOutput" not in out
    assert out["systemMessage"].startswith("model-strategy: internal error in pre_tool_use hook (")
    assert "spawn left unchanged" in out["systemMessage"] and "errors.log" in out["systemMessage"]
    assert "Traceback" in (data_dir / "errors.log").read_text()
    code, out, err = run_hook("subagent_stop", lab.subagent_stop(AGENT_A))  # a recording hook: no false claim
    assert code == 0 and err == "" and out is not None
    assert "nothing changed" not in out["systemMessage"]
    assert "reconciled from the transcripts at the next Stop" in out["systemMessage"]
    (data_dir / "archive.lock").rmdir()  # the fault is gone: the next Stop records what the hooks lost
    code, out, err = run_hook("stop", lab.payload("Stop"))
    assert code == 0 and err == "" and out is not None
    assert "agents missed by earlier hooks: recorded 5 request(s) of 2 agent(s)" in out["systemMessage"]
    assert sorted(r["agent_id"] for r in Ledger().iter_records() if r["kind"] == "subagent") == sorted(
        [AGENT_A, AGENT_B])


def _bare_env(tmp_path: Path, data: Path, root: Path) -> dict[str, str]:
    """A user's first session: no venv, no caches, no MODEL_STRATEGY_PYTHON; python3 only on PATH."""
    env = {k: v for k, v in os.environ.items()
           if k in KEEP_ENV or not k.startswith(("MODEL_STRATEGY_", "CLAUDE_", "PYTHON"))}
    env.update(CLAUDE_PLUGIN_DATA=str(data), CLAUDE_PLUGIN_ROOT=str(root), MODEL_STRATEGY_DATA_DIR="")
    return env


def test_first_spawn_routes_and_records_without_a_venv(lab: Session, tmp_path: Path) -> None:
    """No venv yet: hooks run on the system python3 (found once, cached), route and record at once;
    SessionStart starts the setup in the background and says so once per session."""
    root = plugin_copy(tmp_path / "plugin")
    data = tmp_path / "fresh-data"
    env = _bare_env(tmp_path, data, root)
    code, out, err = run_hook("session_start", lab.payload("SessionStart"), env=env, python=None)
    assert code == 0 and err == ""
    assert out is not None and "setting up its Python environment in the background" in out["systemMessage"]
    assert "routing and recording already work" in out["systemMessage"]
    for _ in range(100):
        if (data / "setup-started").exists():
            break
        time.sleep(0.05)
    assert "bootstrap.py" in (data / "setup-started").read_text()
    # the same session again (resume, compact): setup is restarted (it locks itself) but no second notice
    assert run_hook("session_start", lab.payload("SessionStart"), env=env, python=None)[1] is None
    cached = (data / "cache" / "python").read_text().splitlines()
    assert os.path.isabs(cached[0]) and cached[1].startswith("3.")
    code, out, err = run_hook("pre_tool_use", lab.pre("A"), env=env, python=None)
    assert code == 0 and err == "", err
    assert out is not None and out["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    assert "setting up" not in out["systemMessage"]
    code, out, err = run_hook("subagent_stop", lab.subagent_stop(AGENT_A), env=env, python=None)
    assert code == 0 and err == "", (out, err)
    recs = list(Ledger(str(data)).iter_records())
    assert [(r["agent_id"], r["model_actual"]) for r in recs if r["kind"] == "subagent"] == [
        (AGENT_A, "claude-haiku-5-5")]
    assert not (data / "venv").exists()


def test_cached_interpreter_is_dropped_when_it_vanishes(lab: Session, tmp_path: Path) -> None:
    data = tmp_path / "data2"
    (data / "cache").mkdir(parents=True)
    (data / "cache" / "python").write_text(f"{tmp_path / 'gone' / 'python3'}\n3.99.0\n")
    env = _bare_env(tmp_path, data, ROOT)
    code, out, _ = run_hook("pre_tool_use", lab.pre("A"), env=env, python=None)
    assert code == 0 and out is not None and out["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    assert (data / "cache" / "python").read_text().splitlines()[0] != str(tmp_path / "gone" / "python3")


def test_cached_interpreter_is_dropped_when_its_version_changed(lab: Session, tmp_path: Path) -> None:
    data = tmp_path / "data3"
    env = _bare_env(tmp_path, data, ROOT)
    assert run_hook("pre_tool_use", lab.pre("A"), env=env, python=None)[0] == 0
    cache = data / "cache" / "python"
    path, version = cache.read_text().splitlines()
    assert run_hook("pre_tool_use", lab.pre("A"), env=env, python=None)[0] == 0
    assert cache.read_text().splitlines() == [path, version]  # kept while it matches
    cache.write_text(f"{path}\n2.7.18\n")  # as if the file at that path had been upgraded in place
    code, out, _ = run_hook("pre_tool_use", lab.pre("A"), env=env, python=None)
    assert code == 0 and out is not None and "updatedInput" in out["hookSpecificOutput"]
    assert not cache.exists()  # dropped: the next hook resolves python3 again
    assert run_hook("pre_tool_use", lab.pre("A"), env=env, python=None)[0] == 0
    assert cache.read_text().splitlines() == [path, version]


def test_no_python_at_all_fails_open(lab: Session, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    for tool in ("bash", "cat", "mkdir", "mv", "dirname"):
        target = shutil.which(tool)
        assert target
        (empty / tool).symlink_to(target)
    env = {**_bare_env(tmp_path, tmp_path / "d", ROOT), "PATH": str(empty)}
    code, out, err = run_hook("session_start", lab.payload("SessionStart"), env=env, python=None)
    assert code == 0 and err == "" and out is not None and "no python3 >= 3.10" in out["systemMessage"]
    assert run_hook("pre_tool_use", lab.pre("A"), env=env, python=None)[:2] == (0, None)


def test_unknown_event_is_one_line() -> None:
    code, out, err = run_hook("bogus", "{}")
    assert code == 0 and err == "" and out == {"systemMessage": "model-strategy: unknown hook event 'bogus'"}


def test_unloadable_package_fails_open(tmp_path: Path) -> None:
    """A broken install (here: no lib/ beside the shim) still exits 0 with one line."""
    import shutil

    (tmp_path / "hooks").mkdir()
    shutil.copy(ROOT / "hooks" / "run", tmp_path / "hooks" / "run")
    shutil.copy(ROOT / "hooks" / "hook.py", tmp_path / "hooks" / "hook.py")
    env = {**os.environ, "MODEL_STRATEGY_PYTHON": venv_python(), "CLAUDE_PLUGIN_ROOT": str(tmp_path)}
    proc = subprocess.run([str(tmp_path / "hooks" / "run"), "pre_tool_use"], input="{}", capture_output=True,
                          text=True, env=env, timeout=30, cwd=tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"systemMessage": "model-strategy: cannot load its code "
                                                        "(ModuleNotFoundError); nothing changed"}


HEAVY = ("pydantic", "rich", "genai_prices")


def _direct(python_args: list[str], event: str, payload: dict[str, Any],
            data: Path) -> subprocess.CompletedProcess[str]:
    """hook.py run straight by an interpreter (no launcher), as hooks/run would exec it."""
    env = {k: v for k, v in os.environ.items()
           if k in KEEP_ENV or not k.startswith(("MODEL_STRATEGY_", "PYTHON"))}
    env.update(MODEL_STRATEGY_DATA_DIR=str(data), CLAUDE_PLUGIN_ROOT=str(ROOT))
    return subprocess.run([*python_args, str(ROOT / "hooks" / "hook.py"), event], input=json.dumps(payload),
                          capture_output=True, text=True, env=env, timeout=60)


def test_warm_hooks_import_none_of_pydantic_rich_genai_prices(lab: Session, data_dir: Path) -> None:
    """With the packages importable (the venv, site enabled) and warm caches, the hot path imports none."""
    assert run_hook("pre_tool_use", lab.pre("B"))[0] == 0  # warms the compiled config
    for event, payload in (("pre_tool_use", lab.pre("A")), ("subagent_stop", lab.subagent_stop(AGENT_A))):
        proc = _direct([venv_python(), "-X", "importtime"], event, payload, data_dir)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        assert event == "subagent_stop" or "updatedInput" in proc.stdout
        imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                    if line.startswith("import time:")}
        assert not imported & set(HEAVY), (event, imported & set(HEAVY))
        assert "model_strategy.runtime.entry.hooks" in proc.stderr  # it did run the hook
    for heavy in HEAVY:  # and they are installed there, so the test means something
        assert subprocess.run([venv_python(), "-c", f"import {heavy}"], capture_output=True).returncode == 0


#: standard-library modules a warm PreToolUse does without (each costs 1-12 ms of a hook's start-up):
#: dataclasses (inspect, ast, dis), strptime's locale and calendar, re, json, the config's rules
SLOW_STDLIB = ("dataclasses", "inspect", "_strptime", "locale", "re", "json", "enum",
               "model_strategy.runtime.settings.config_rules")


def test_warm_pre_tool_use_skips_the_slow_standard_library(lab: Session, data_dir: Path) -> None:
    """With spend this week (the budget's burn rate is worked out) and a fresh compiled config."""
    assert run_hook("pre_tool_use", lab.pre("B"))[0] == 0
    assert run_hook("subagent_stop", lab.subagent_stop(AGENT_A))[0] == 0
    proc = _direct([venv_python(), "-E", "-S", "-X", "importtime"], "pre_tool_use", lab.pre("A"), data_dir)
    assert proc.returncode == 0 and "updatedInput" in proc.stdout, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "model_strategy.runtime.limits.budget" in imported and not imported & set(SLOW_STDLIB), \
        imported & set(SLOW_STDLIB)


def test_a_spawn_with_nothing_new_does_no_money_arithmetic(lab: Session, data_dir: Path) -> None:
    """The second of two spawns with nothing recorded in between (parallel spawns, a Workflow's agents)
    reads the budget levels from levels.json and imports no ``decimal`` -- and is routed the same."""
    (data_dir / "config.json").write_text('{"budgets": {"daily_usd": "0.0001"}}')  # over budget: a policy acts
    assert run_hook("pre_tool_use", lab.pre("B"))[0] == 0
    assert run_hook("subagent_stop", lab.subagent_stop(AGENT_A))[0] == 0
    code, first, _ = run_hook("pre_tool_use", lab.pre("A"))
    assert code == 0 and first is not None
    proc = _direct([venv_python(), "-E", "-S", "-X", "importtime"], "pre_tool_use", lab.pre("A"), data_dir)
    assert proc.returncode == 0 and "updatedInput" in proc.stdout, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "model_strategy.runtime.limits.budget" in imported and "decimal" not in imported
    out = json.loads(proc.stdout)["hookSpecificOutput"]
    assert out["updatedInput"] == first["hookSpecificOutput"]["updatedInput"]
    assert "daily budget" in proc.stdout and "daily budget" in json.dumps(first)  # from the cache, the same level


def test_stdlib_only_interpreter_routes_and_records_from_cold(lab: Session, data_dir: Path) -> None:
    """A bare interpreter (-I -S: no site-packages at all), no venv, no caches: the config is validated,
    prices come from the shipped snapshot, the spawn is routed and the agent recorded with its cost."""
    import shutil as _shutil

    _shutil.rmtree(data_dir / "cache")
    bare = [venv_python(), "-I", "-S"]
    assert subprocess.run([*bare, "-c", "import pydantic"], capture_output=True).returncode != 0
    (data_dir / "config.json").write_text('{"budgets": {"daily_usd": "15"}}')  # a changed config: validated
    proc = _direct(bare, "pre_tool_use", lab.pre("A"), data_dir)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert json.loads(proc.stdout)["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    proc = _direct(bare, "subagent_stop", lab.subagent_stop(AGENT_A), data_dir)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    (rec,) = [r for r in Ledger().iter_records() if r["kind"] == "subagent"]
    assert rec["model_actual"] == "claude-haiku-5-5" and float(rec["cost_usd"]) > 0
    assert json.loads((data_dir / "cache" / next(p.name for p in (data_dir / "cache").glob("config-*.json")
                                                  if not p.name.endswith(".lock"))).read_text()
                      )["config"]["budgets"]["daily_usd"] == "15"


def test_files_the_plugin_creates_are_private(lab: Session, tmp_path: Path) -> None:
    """Everything under the data home: files 0600, directories 0700 (hooks, CLI, shortcut)."""
    data = tmp_path / "private"
    env = {"MODEL_STRATEGY_DATA_DIR": str(data)}
    for event, payload in [("pre_tool_use", lab.pre("A")), ("subagent_stop", lab.subagent_stop(AGENT_A)),
                           ("post_tool_use", lab.payload("PostToolUse-foreground")), ("stop", lab.payload("Stop")),
                           ("session_start", lab.payload("SessionStart"))]:
        assert run_hook(event, payload, env=env)[0] == 0
    (data / "errors.log").unlink(missing_ok=True)
    cli_env = {**os.environ, "MODEL_STRATEGY_PYTHON": venv_python(), "MODEL_STRATEGY_DATA_DIR": str(data),
               "HOME": str(tmp_path / "home")}
    for args in (["budget", "set", "daily", "5"], ["install-shortcut"], ["catalog"]):
        proc = subprocess.run([str(ROOT / "bin" / "model-strategy"), *args], capture_output=True, text=True,
                              env=cli_env, timeout=120)
        assert proc.returncode == 0, proc.stderr
    loose = [f"{p} {oct(p.stat().st_mode & 0o777)}" for p in [data, *data.rglob("*")]
             if p.stat().st_mode & 0o777 != (0o700 if p.is_dir() or p.name == "model-strategy" else 0o600)]
    assert loose == []
    assert len(list(data.rglob("*"))) > 8
