"""History import as real processes: two at once, and one killed with SIGKILL at random points and run
again -- the ledger ends up with each request exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import transcript_tree  # noqa: E402

PY = os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable
# just after the generated tree's last day: the import runs on fresh transcripts (retention archives none)
TREE_NOW = (transcript_tree.END + timedelta(days=2)).isoformat()


def _start(tree: Path, data: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE")}
    env.update(MODEL_STRATEGY_DATA_DIR=str(data), PYTHONPATH=str(ROOT / "lib"), MODEL_STRATEGY_NOW=TREE_NOW)
    return subprocess.Popen([PY, "-m", "model_strategy.commands.cli.cli", "history", "--json", "--claude-dir",
                             str(tree)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _ledger(data: Path) -> tuple[list[str], dict[str, int]]:
    """Every request key in the ledger (main records list theirs; imported agents too) and the totals."""
    keys: list[str] = []
    totals = {"requests": 0, "output": 0}
    for day in sorted((data / "daily").glob("*.json")):
        for line in day.read_bytes().splitlines():
            if not line.strip():
                continue
            rec: dict[str, Any] = json.loads(line)
            keys += rec["request_keys"]
            totals["requests"] += rec["requests"]
            totals["output"] += rec["tokens"]["output"]
    return keys, totals


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import transcript_tree

    root = tmp_path_factory.mktemp("tree") / "claude"
    transcript_tree.build(str(root), 6, seed=3)
    return root


@pytest.fixture(scope="module")
def expected(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    data = tmp_path_factory.mktemp("once")
    p = _start(tree, data)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    keys, totals = _ledger(data)
    assert len(keys) == len(set(keys)) == totals["requests"] > 0
    return totals


def test_two_imports_at_once(tree: Path, expected: dict[str, int], tmp_path: Path) -> None:
    procs = [_start(tree, tmp_path), _start(tree, tmp_path)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    keys, totals = _ledger(tmp_path)
    assert len(keys) == len(set(keys)) and totals == expected


def test_killed_import_then_run_again(tree: Path, expected: dict[str, int], tmp_path: Path) -> None:
    rng = random.Random(9)
    start = time.monotonic()
    probe = _start(tree, tmp_path / "probe")
    probe.communicate(timeout=120)
    full = time.monotonic() - start
    for n in range(6):
        data = tmp_path / f"run{n}"
        for _kill in range(2):  # killed twice, at random points, then left to finish
            p = _start(tree, data)
            time.sleep(rng.uniform(0.0, full))
            p.send_signal(signal.SIGKILL)
            p.wait()
            keys, _ = _ledger(data) if (data / "daily").exists() else ([], {})
            assert len(keys) == len(set(keys)), f"run {n}: a request recorded twice after a kill"
        p = _start(tree, data)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        keys, totals = _ledger(data)
        assert len(keys) == len(set(keys)) and totals == expected, f"run {n}"
