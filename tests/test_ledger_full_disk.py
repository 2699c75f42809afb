"""Issue 14, full disk: hooks that fail while the data home is full lose nothing -- the next Stop reconciles
from Claude Code's transcripts, and a record cut by a short write is quarantined by ``doctor --repair`` and
re-derived.  Real hook processes on a real full file system (a small tmpfs; skipped where it cannot be
mounted)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from model_strategy.commands.usage import ledger_cli
from model_strategy.runtime.books import records
from model_strategy.runtime.books.ledger import Ledger
from sessionlab import AGENT_A, AGENT_B, SAMPLE_NOW, Session
from test_hook_processes import run_hook


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mnt)],
                              capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("cannot mount a tmpfs here")
    if done.returncode:
        pytest.skip("cannot mount a tmpfs here (not root, or no permission)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=20)


def fill(where: Path) -> Path:
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    try:  # the last bytes too
        while os.write(fd, b"\0"):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def session_cost(data: Path) -> tuple[Decimal, list[str]]:
    recs = list(Ledger(str(data)).iter_records())
    keys = [k for r in recs for k in r["request_keys"]]
    assert len(keys) == len(set(keys))  # nothing twice
    return sum((records.cost(r) for r in recs), Decimal(0)), sorted(r["agent_id"] for r in recs)


def replay(lab: Session, env: dict[str, str], between: object = None) -> list[str]:
    lines = []
    for event, payload in (("pre_tool_use", lab.pre("A")), ("pre_tool_use", lab.pre("B"))):
        assert run_hook(event, payload, env=env)[0] == 0
    if callable(between):
        between()
    for agent in (AGENT_A, AGENT_B):
        code, out, err = run_hook("subagent_stop", lab.subagent_stop(agent), env=env)
        assert code == 0 and "Traceback" not in err
        lines.append((out or {}).get("systemMessage", ""))
    return lines


def test_agents_lost_to_a_full_disk_are_recorded_when_space_returns(small_fs: Path, tmp_path: Path,
                                                                      samples: Path) -> None:
    clean = tmp_path / "clean"
    (tmp_path / "lab").mkdir()
    lab = Session(samples, tmp_path / "lab")
    env = {"MODEL_STRATEGY_NOW": SAMPLE_NOW}
    replay(lab, {**env, "MODEL_STRATEGY_DATA_DIR": str(clean)})
    run_hook("stop", lab.payload("Stop"), env={**env, "MODEL_STRATEGY_DATA_DIR": str(clean)})
    want = session_cost(clean)

    data = small_fs / "data"
    full = {**env, "MODEL_STRATEGY_DATA_DIR": str(data)}
    fillers: list[Path] = []
    lines = replay(lab, full, between=lambda: fillers.append(fill(small_fs)))  # the disk fills up mid-session
    for line in lines:
        assert "nothing changed" not in line, line  # a recording hook never claims that
    before = [r["agent_id"] for r in Ledger(str(data)).iter_records() if r["kind"] == "subagent"]
    print("\nfull-disk hooks said:", lines, "agents recorded while full:", before)
    assert len(before) < 2  # the fault was real: an agent's hook could not record it
    fillers[0].unlink()  # space returns
    code, out, err = run_hook("stop", lab.payload("Stop"), env=full)
    assert code == 0 and "Traceback" not in err
    print("Stop said:", out)
    assert out is not None and "agents missed by earlier hooks: recorded" in out["systemMessage"]
    result = ledger_cli.check(Ledger(str(data)))
    print("doctor:", [c["detail"] for c in result["checks"] if not c["ok"]])
    if not result["ok"]:  # a record cut by a short write: quarantined, re-derived from the transcripts
        os.environ["MODEL_STRATEGY_DATA_DIR"] = str(data)
        ledger_cli.check(Ledger(str(data)), repair=True)
        result = ledger_cli.check(Ledger(str(data)))
    assert result["ok"], result
    assert session_cost(data) == want  # nothing lost, nothing twice
