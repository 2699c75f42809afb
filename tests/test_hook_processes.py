"""Every hook as Claude Code runs it: a real process through hooks/run, JSON on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from model_strategy.archive import Archive
from sessionlab import AGENT_A, AGENT_B, ROOT, Session, venv_python

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
def lab(samples: Path, tmp_path: Path) -> Session:
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
    assert hso["updatedInput"] == {**payload["tool_input"], "model": "haiku"}
    assert out["systemMessage"] == "model-strategy: general-purpose → haiku (simple search, 0.90)"


def test_full_sequence_of_processes_records_each_agent_once(lab: Session) -> None:
    for event, payload in [
        ("pre_tool_use", lab.pre("A")), ("pre_tool_use", lab.pre("B")),
        ("post_tool_use", lab.payload("PostToolUse-background")),
        ("subagent_stop", lab.subagent_stop(AGENT_A)), ("post_tool_use", lab.payload("PostToolUse-foreground")),
        ("subagent_stop", lab.subagent_stop(AGENT_B)), ("stop", lab.payload("Stop")),
    ]:
        code, _, err = run_hook(event, payload)
        assert code == 0 and err == "", (event, err)
    recs = list(Archive().iter_records())
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
    assert "nothing changed" in out["systemMessage"] and "errors.log" in out["systemMessage"]
    assert "Traceback" in (data_dir / "errors.log").read_text()


def test_launcher_without_environment_fails_open_and_starts_setup(lab: Session, tmp_path: Path) -> None:
    """No venv yet: one message, exit 0, and the setup is started in the background."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "setup-started"
    (fake_bin / "python3").write_text(f"#!/bin/sh\necho \"$@\" > {marker}\n")
    (fake_bin / "python3").chmod(0o755)
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin"}
    code, out, err = run_hook("pre_tool_use", lab.pre("A"), env=env, python=None)
    assert code == 0 and err == ""
    assert out is not None and "setting up its Python environment" in out["systemMessage"]
    assert "not routed" in out["systemMessage"]
    for _ in range(50):
        if marker.exists():
            break
        time.sleep(0.1)
    assert "bootstrap.py" in marker.read_text()
    code, out, _ = run_hook("post_tool_use", lab.payload("PostToolUse-foreground"), env=env, python=None)
    assert code == 0 and out is None  # recording hooks stay quiet while setting up


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
