"""Bad files everywhere in the data home: cut, wrong-typed, not UTF-8.  Whatever is damaged, no
record is lost or counted twice, caches are rebuilt from the ledger, and the user gets one line
(never a traceback)."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from model_strategy.commands.cli import cli
from model_strategy.commands.usage import ledger_cli
from model_strategy.runtime.base import store
from model_strategy.runtime.books import folds
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording, spawns
from model_strategy.runtime.money import pricing
from sessionlab import AGENT_A, AGENT_B, SAMPLE_NOW, Session


def call(handler: Any, payload: dict[str, Any]) -> str:
    out = io.StringIO()
    assert hooks.run(handler, io.StringIO(json.dumps(payload)), out) == 0
    return out.getvalue()


def deliver_all(lab: Session) -> str:
    """The whole session's hooks, in Claude Code's order; returns everything they printed."""
    pricing.reset()
    seq = [(spawns.pre_tool_use, lab.pre("A")), (spawns.pre_tool_use, lab.pre("B")),
           (recording.post_tool_use, lab.payload("PostToolUse-background")),
           (recording.subagent_stop, lab.subagent_stop(AGENT_A)),
           (recording.post_tool_use, lab.payload("PostToolUse-foreground")),
           (recording.subagent_stop, lab.subagent_stop(AGENT_B)), (recording.stop, lab.payload("Stop"))]
    return "".join(call(h, p) for h, p in seq)


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def ledger_ids() -> list[str]:
    return sorted(r["id"] for r in Ledger().iter_records())


@pytest.fixture
def lab(samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setenv("MODEL_STRATEGY_NOW", SAMPLE_NOW)  # the session replayed as it happened
    return Session(samples, tmp_path)


@pytest.fixture
def settled(lab: Session, data_dir: Path) -> tuple[Session, list[str], Path]:
    """A data home after one whole session, with every cache written; and a pristine copy of it."""
    deliver_all(lab)
    assert run_cli("budget", "--json")[0] == 0 and run_cli("dashboard", "--json")[0] == 0
    ids = ledger_ids()
    assert len(ids) == 3
    pristine = data_dir.parent / "pristine"
    shutil.copytree(data_dir, pristine)
    return lab, ids, pristine


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.endswith(".lock"))


def _restore(pristine: Path, data_dir: Path) -> None:
    shutil.rmtree(data_dir)
    shutil.copytree(pristine, data_dir)


def assert_consistent(ids: list[str], output: str) -> None:
    assert ledger_ids() == ids  # nothing lost, nothing twice
    assert "Traceback" not in output
    code, out, err = run_cli("budget", "--json")
    assert code == 0 and "Traceback" not in err, err
    day = json.loads(out)["periods"]
    total = sum(Decimal(r["cost_usd"]) for r in Ledger().iter_records())
    assert Decimal(day[2]["spent_usd"]) == total.quantize(Decimal("0.0001"))  # the month holds them all
    assert run_cli("dashboard", "--json")[0] == 0
    result = ledger_cli.check(Ledger())
    assert all(c["ok"] for c in result["checks"]), [c for c in result["checks"] if not c["ok"]]


def test_every_file_cut_by_its_last_byte(settled: tuple[Session, list[str], Path], data_dir: Path) -> None:
    lab, ids, pristine = settled
    files = _files(pristine)
    assert any(f.startswith("daily/") for f in files) and any(f.startswith("index/") for f in files)
    assert {"totals.json", "notices.json"} <= set(files) and any(f.startswith("sessions/") for f in files)
    for name in files:
        _restore(pristine, data_dir)
        path = data_dir / name
        path.write_bytes(path.read_bytes()[:-1])
        output = deliver_all(lab)  # every hook of the session delivered again
        assert_consistent(ids, output)


@pytest.mark.parametrize("content", [
    b'{"schema": 2, "decisions": "oops", "links": [], "recorded": "oops", "main": 1}',
    b'{"schema": 2, "key": null, "since": "2026-01-01", "covered": {"2026-11-26": "x"}, "data": {"q": {"a": "b"}}}',
    b'{"schema": 2, "key": null, "since": null, "covered": {"2026-11-26": 10}, "data": {"q": {}}}',
    b'["not", "an", "object"]',
    b"\xff\xfe{\x00}\x00",  # UTF-16
    b"\xe9t\xe9",  # Latin-1
    b"",
])
def test_wrong_typed_and_non_utf8_state(settled: tuple[Session, list[str], Path], data_dir: Path,
                                        content: bytes) -> None:
    lab, ids, pristine = settled
    for name in _files(pristine):
        if name.startswith("daily/") or name.endswith(".log"):
            continue  # the ledger itself is the truth (its damage is reported, see doctor tests)
        _restore(pristine, data_dir)
        (data_dir / name).write_bytes(content)
        output = deliver_all(lab)
        assert_consistent(ids, output)


@pytest.mark.parametrize("content", [b"\xff\xfe{\x00}\x00", b'{"budgets": {"daily_usd": "\xe9"}}',
                                     b'{"budgets": "oops"}', b"[1, 2]", b'{"agents": {"Explore": 7}}'])
def test_bad_config_files_are_one_line_and_keep_recording(lab: Session, data_dir: Path, content: bytes) -> None:
    (data_dir / "config.json").write_bytes(content)
    (lab.project / ".claude").mkdir(exist_ok=True)
    (lab.project / ".claude" / "model-strategy.json").write_bytes(content)
    output = deliver_all(lab)
    assert "Traceback" not in output and len(ledger_ids()) == 3
    messages = [json.loads(line).get("systemMessage", "") for line in output.splitlines() if line.strip()]
    assert any("config" in m and "config.json" in m for m in messages)
    code, out, err = run_cli("budget")
    assert code == 0 and "Traceback" not in out + err


def test_ledger_line_cut_mid_record_is_reported_and_the_next_append_starts_fresh(
        settled: tuple[Session, list[str], Path], data_dir: Path) -> None:
    lab, ids, _ = settled
    (day,) = (data_dir / "daily").glob("*.json")
    data = day.read_bytes()
    day.write_bytes(data[:-40])  # power loss in the middle of the last record
    lost = ids[-1] if json.loads(data.splitlines()[-1])["id"] == ids[-1] else None
    deliver_all(lab)  # the lost record is recorded again (its hook is delivered again)
    assert ledger_ids() == ids, lost
    lines = day.read_bytes().split(b"\n")
    assert any(line and not line.endswith(b"}") for line in lines)  # the cut fragment stays, on its own line
    result = ledger_cli.check(Ledger())
    ledger_check = next(c for c in result["checks"] if c["name"] == "ledger")
    assert not ledger_check["ok"] and "unreadable" in ledger_check["detail"]


def test_caches_are_sealed_over_their_bytes_and_earlier_seals_still_hold(tmp_path: Path) -> None:
    """A cache's checksum covers the bytes of the rest of its file (checked without encoding it
    again); one sealed the earlier way (over its re-encoded offsets and content) is still trusted, so an
    upgrade rebuilds nothing; an edit into other valid JSON is caught either way."""
    doc = {"schema": 2, "key": ["UTC", "monday"], "since": "2026-12-01", "covered": {"2026-12-01": 120},
           "data": {"p": {"day": ["d1", "1.25", 3, 0]}, "name": "Explore → \u00e9"}}
    path = tmp_path / "totals.json"
    store.atomic_write_sealed(str(path), dict(doc))
    raw = path.read_bytes()
    assert raw.startswith(b'{"schema":2,') and b',"crc":' in raw and raw.endswith(b"}\n")
    loaded, sealed = folds.read_sealed(str(path))
    assert sealed and {k: v for k, v in loaded.items() if k != "crc"} == doc
    path.write_bytes(raw.replace(b'"1.25"', b'"0.25"'))
    assert folds.read_sealed(str(path))[1] is False
    earlier = {**doc, "crc": folds.crc(doc)}
    path.write_text(json.dumps(earlier, indent=1))  # any layout: the earlier seal is over the content
    assert folds.read_sealed(str(path)) == (earlier, True)
    path.write_text(json.dumps({**earlier, "covered": {"2026-12-01": 121}}))
    assert folds.read_sealed(str(path))[1] is False
    assert folds.read_sealed(str(tmp_path / "missing.json")) == (None, False)
