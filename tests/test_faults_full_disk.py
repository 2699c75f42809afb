"""Commands on a full, read-only or unusable data home (issue 14): one line naming the path and what
failed, a non-zero exit -- never a traceback.  Real processes on a real full / read-only file system
(a small tmpfs, when this machine lets us mount one), and in-process faults for the rest."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import synthrecords
from model_strategy.commands.cli import cli
from model_strategy.runtime.books.ledger import Ledger
from test_budget_cli import bin_run

COMMANDS = [["budget"], ["budget", "set", "daily", "5"], ["budget", "set", "timezone", "UTC"], ["report"],
            ["dashboard"], ["status"], ["doctor"], ["doctor", "--repair"], ["export", "records"],
            ["archive", "--now"], ["history", "--no-import"], ["install-shortcut"], ["uninstall-statusline"]]


def _one_line_failure(out: subprocess.CompletedProcess[str], args: list[str]) -> None:
    assert out.returncode != 0, (args, out.stdout[-300:])
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, (args, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("model-strategy: "), (args, out.stderr)


def _mount(where: Path, options: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                              timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _seed(data: Path) -> None:
    """A data home in use: settings, a record, its caches."""
    data.mkdir(exist_ok=True)
    (data / "config.json").write_text(json.dumps({"budgets": {"daily_usd": "10"}}))
    synthrecords.spend(Ledger(str(data)), "1")


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "mnt"
    if not _mount(mnt, "size=256k,mode=0700"):
        pytest.skip("cannot mount a tmpfs here (not root, or no permission)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=20)


def test_full_data_home(small_fs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = small_fs / "data"
    _seed(data)
    monkeypatch.setenv("MODEL_STRATEGY_DATA_DIR", str(data))
    fd = os.open(small_fs / "filler", os.O_WRONLY | os.O_CREAT)  # fill the disk to the last byte
    try:
        while os.write(fd, b"\0" * 512):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    seen = []
    for args in COMMANDS:
        out = bin_run(*args, data=data)
        if out.returncode == 0:  # a read-only command that found everything it needs up to date
            assert "Traceback" not in out.stderr, (args, out.stderr)
            continue
        _one_line_failure(out, args)
        seen.append(out.stderr)
    assert any("no space left on the device" in line and str(data) in line for line in seen), seen
    assert json.loads((data / "config.json").read_text()) == {"budgets": {"daily_usd": "10"}}  # nothing lost


def test_read_only_data_home(small_fs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = small_fs / "data"
    _seed(data)
    monkeypatch.setenv("MODEL_STRATEGY_DATA_DIR", str(data))
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], capture_output=True, timeout=20)
    if remount.returncode:
        pytest.skip("cannot remount read-only here")
    for args in (["budget", "set", "daily", "5"], ["budget", "set", "policy", "exceeded", "deny"]):
        out = bin_run(*args, data=data)
        _one_line_failure(out, args)
        assert "read-only" in out.stderr and str(data) in out.stderr, out.stderr
    for args in COMMANDS:
        out = bin_run(*args, data=data)
        assert "Traceback" not in out.stderr, (args, out.stderr)
        if out.returncode:
            _one_line_failure(out, args)


@pytest.mark.parametrize("args", COMMANDS)
def test_data_home_under_a_file(tmp_path: Path, args: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = bin_run(*args, data=blocker / "data")
    _one_line_failure(out, args)
    assert "not a folder" in out.stderr and str(blocker / "data") in out.stderr


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT])
@pytest.mark.parametrize("args", [["budget", "set", "daily", "5"], ["budget"], ["report"]])
def test_write_failures_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   code: int, args: list[str]) -> None:
    synthrecords.spend(Ledger(), "1")

    def refuse(src: str, dst: str) -> None:
        raise OSError(code, os.strerror(code), dst)

    monkeypatch.setattr(os, "replace", refuse)
    rc = cli.main(args)
    err = capsys.readouterr().err
    if rc == 0:  # nothing needed rewriting
        assert err == ""
        return
    assert rc == 1 and len(err.strip().splitlines()) == 1 and err.startswith("model-strategy: could not "), err
    assert os.environ["MODEL_STRATEGY_DATA_DIR"] in err


def test_slash_command_gets_the_line_on_stdout(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = bin_run("--plugin-data", str(blocker / "data"), "budget", data=blocker / "data")
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout.startswith("model-strategy: could not use ") and len(out.stdout.splitlines()) == 1
