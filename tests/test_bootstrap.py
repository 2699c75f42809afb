"""The plugin builds its own Python environment: no manual pip for the user."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from model_strategy.runtime.entry import bootstrap
from sessionlab import ROOT

BOOTSTRAP = ROOT / "lib" / "model_strategy" / "runtime" / "entry" / "bootstrap.py"


def test_venv_state_tracks_requirements(tmp_path: Path) -> None:
    root, data = tmp_path / "root", tmp_path / "data"
    root.mkdir()
    (data / "venv").mkdir(parents=True)
    (root / "requirements.txt").write_text("pydantic==2.14.4\n")
    assert bootstrap.venv_state(data, root) == "missing"
    (data / "venv" / bootstrap.MARKER).write_text(bootstrap.requirements_digest(root))
    assert bootstrap.venv_state(data, root) == "ready"
    (root / "requirements.txt").write_text("pydantic==2.14.5\n")
    assert bootstrap.venv_state(data, root) == "stale"


@pytest.mark.slow
def test_first_run_builds_the_environment_then_hooks_use_it(tmp_path: Path) -> None:
    """Real build from requirements.txt (pip from the package registry), as a user's first session."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("MODEL_STRATEGY_PYTHON", "PYTHONPATH")}
    env.update(MODEL_STRATEGY_DATA_DIR=str(data), CLAUDE_PLUGIN_ROOT=str(ROOT))
    base = shutil.which("python3") or sys.executable
    proc = subprocess.run([base, str(BOOTSTRAP), "--wait"],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert bootstrap.venv_state(data, ROOT) == "ready"
    assert json.loads((data / "cache" / "prices.json").read_text())["source"] == "genai-prices"
    assert not list(data.glob("venv.building-*"))
    # the launcher now runs hooks with that interpreter
    payload = json.loads((ROOT / "tests" / "fixtures" / "claude-code-2.1.332" / "hook-PreToolUse.json").read_text())
    hook = subprocess.run([str(ROOT / "hooks" / "run"), "pre_tool_use"], input=json.dumps(payload), env=env,
                          capture_output=True, text=True, timeout=60)
    assert hook.returncode == 0 and hook.stderr == ""
    assert json.loads(hook.stdout)["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    # and a second run is a no-op
    again = subprocess.run([base, str(BOOTSTRAP)], env=env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "creating" not in again.stdout
