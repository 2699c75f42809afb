"""Symbolic links in the data home are never written through (issue 14): a link at a day file,
``errors.log``, an index, a cache or the spool makes the write fail with one line (the hook still exits
0); the file it points to, outside the data home, is untouched.  ``doctor`` lists the links."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from model_strategy.runtime.base import store
from model_strategy.runtime.books.ledger import Ledger
from sessionlab import AGENT_A, Session
from test_budget_cli import bin_run
from test_hook_processes import run_hook

DAY = "2026-11-26"  # the sample session's day


@pytest.fixture
def lab(samples: Path, tmp_path: Path) -> Session:
    return Session(samples, tmp_path)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the data home a link points to."""
    target = tmp_path / "elsewhere" / "precious.txt"
    target.parent.mkdir()
    target.write_bytes(b"the user's own file\n")
    return target


def _link(data_dir: Path, rel: str, target: Path) -> Path:
    link = data_dir / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def test_store_refuses_links(data_dir: Path, outside: Path) -> None:
    link = _link(data_dir, "daily/x.json", outside)
    with pytest.raises(store.LinkRefused, match="symbolic link"):
        store.append_jsonl(str(link), {"a": 1})
    with pytest.raises(store.LinkRefused):
        store.atomic_write_json(str(link), {"a": 1})
    with pytest.raises(store.LinkRefused), store.locked(str(_link(data_dir, "x.lock", outside))):
        pass
    (data_dir / "spool").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(store.LinkRefused):  # a linked folder of the data home
        store.atomic_write_json(str(data_dir / "spool" / "entry.json"), {"a": 1})
    assert outside.read_bytes() == b"the user's own file\n"
    assert sorted(os.listdir(outside.parent)) == ["precious.txt"]


@pytest.mark.parametrize("rel", [f"daily/{DAY}.json", f"index/{DAY}.ids", "totals.json", "notices.json"])
def test_hooks_never_write_through_a_link(lab: Session, data_dir: Path, outside: Path, rel: str) -> None:
    _link(data_dir, rel, outside)
    for event, payload in [("pre_tool_use", lab.pre("A")), ("subagent_stop", lab.subagent_stop(AGENT_A)),
                           ("stop", lab.payload("Stop"))]:
        code, out, err = run_hook(event, payload)
        assert code == 0 and err == "", (event, err)
        text = (out or {}).get("systemMessage", "")
        assert "Traceback" not in text
        if event == "pre_tool_use" and not rel.startswith("index/"):  # caches: routing goes on, link said
            assert "general-purpose → haiku" in text and "symbolic link" in text, (rel, text)
        if rel.startswith("daily/") and event != "pre_tool_use":
            assert "refusing to write through the symbolic link" in text, (event, text)
            assert len([line for line in text.splitlines() if "symbolic link" in line]) == 1
    assert outside.read_bytes() == b"the user's own file\n"
    assert (data_dir / rel).is_symlink()


def test_errors_log_link_is_not_written_through(lab: Session, data_dir: Path, outside: Path) -> None:
    _link(data_dir, "errors.log", outside)
    (data_dir / "archive.lock").mkdir()  # an internal error: the hook wants to log it
    code, out, err = run_hook("pre_tool_use", lab.pre("A"))
    assert code == 0 and err == ""
    assert out is not None and "internal error in pre_tool_use hook" in out["systemMessage"]
    assert "details in" not in out["systemMessage"]  # the log was refused, so it does not point there
    assert outside.read_bytes() == b"the user's own file\n"


def test_spool_link_is_not_written_through(lab: Session, data_dir: Path, outside: Path) -> None:
    (data_dir / "spool").symlink_to(outside.parent, target_is_directory=True)
    with store.locked(str(data_dir / "archive.lock")):  # busy ledger: the hook would park its record
        code, out, err = run_hook("subagent_stop", lab.subagent_stop(AGENT_A))
    assert code == 0 and err == ""
    assert out is not None and "symbolic link" in out["systemMessage"]
    assert sorted(os.listdir(outside.parent)) == ["precious.txt"]


def test_doctor_lists_links(data_dir: Path, outside: Path) -> None:
    _link(data_dir, f"daily/{DAY}.json", outside)
    _link(data_dir, "errors.log", outside)
    (data_dir / "venv" / "bin").mkdir(parents=True)
    (data_dir / "venv" / "bin" / "python").symlink_to("/usr/bin/python3")  # venvs are links by design
    assert bin_run("doctor", data=data_dir).returncode == 1
    out = bin_run("doctor", "--json", data=data_dir)
    assert json.loads(out.stdout)["ok"] is False
    check = next(c for c in json.loads(out.stdout)["checks"] if c["name"] == "links")
    assert not check["ok"]
    assert "2 symbolic links" in check["detail"] and f"daily/{DAY}.json" in check["detail"]
    assert "venv" not in check["detail"]
    assert outside.read_bytes() == b"the user's own file\n"
    assert list(Ledger().iter_records()) == []  # reading the link is fine; the target holds no records


def test_doctor_without_links_says_none(data_dir: Path) -> None:
    out = bin_run("doctor", "--json", data=data_dir)
    check = next(c for c in json.loads(out.stdout)["checks"] if c["name"] == "links")
    assert check == {"name": "links", "ok": True, "detail": "none", "repaired": False}
