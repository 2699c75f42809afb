"""One bad time stamp costs at most that entry's time stamp (issue 14): an entry stamped out of range
(``9999-12-31T23:59:59-05:00`` overflows when converted to UTC, ``0001-01-01T00:00:00+05:00`` too)
takes its time from its neighbours, the record is flagged ``bad_timestamp``, and the agent, the
session's later hooks and ``history`` keep working -- as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model_strategy.runtime.base.clock import day_of, parse_ts, utc_iso
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.books.usage import TranscriptUsage
from sessionlab import AGENT_A, AGENT_B, ROOT, Session
from test_hook_processes import run_hook

BAD = ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59Z", "not a time", ""]


@pytest.fixture
def lab(samples: Path, tmp_path: Path) -> Session:
    return Session(samples, tmp_path)


def _stamp(path: Path, stamp: str, which: str = "assistant") -> None:
    """Give the first ``which`` entry of a transcript a bad time stamp."""
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        entry = json.loads(line)
        if entry.get("type") == which:
            entry["timestamp"] = stamp
            lines[i] = json.dumps(entry)
            break
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("stamp", BAD[:2])
def test_parse_ts_raises_only_value_error(stamp: str) -> None:
    with pytest.raises(ValueError):
        parse_ts(stamp)
    assert utc_iso(stamp) is None
    assert len(day_of(stamp)) == 10  # today, never an exception


@given(st.text(max_size=40))
def test_timestamp_parsing_is_total(text: str) -> None:
    try:
        dt = parse_ts(text)
    except ValueError:
        assert utc_iso(text) is None
    else:
        assert dt.tzinfo is not None and utc_iso(text) is not None
    day_of(text)


@given(st.datetimes(timezones=st.timezones()))
def test_any_aware_datetime_parses_or_is_refused(when: Any) -> None:
    text = when.isoformat()
    try:
        parsed = parse_ts(text)
    except ValueError:
        return
    assert parsed == datetime.fromisoformat(text)  # the same instant (an ambiguous local hour: as written)


def test_bad_entry_takes_its_neighbours_time() -> None:
    u = TranscriptUsage()
    rows = [("0001-01-01T00:00:00+05:00", "m0"), ("2026-11-26T10:00:00.000Z", "m1"),
            ("9999-12-31T23:59:59-05:00", "m2"), ("2026-11-26T10:05:00+01:00", "m3")]
    for stamp, mid in rows:
        u.add_entry({"type": "assistant", "timestamp": stamp, "requestId": mid,
                     "message": {"id": mid, "model": "claude-sonnet-4-5", "usage": {"output_tokens": 1}}})
    reqs = u.request_list()
    assert [r["ts"] for r in reqs] == ["2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00.000Z",
                                       "2026-11-26T10:00:00.000Z", "2026-11-26T09:05:00.000Z"]
    assert [bool(r.get("bad_timestamp")) for r in reqs] == [True, False, True, False]
    assert u.bad_timestamps == 2
    assert (u.first_ts, u.last_ts) == ("2026-11-26T09:05:00.000Z", "2026-11-26T10:00:00.000Z")


@pytest.mark.parametrize("stamp", BAD[:2])
def test_agent_with_a_bad_stamp_is_recorded(lab: Session, stamp: str) -> None:
    _stamp(lab.agent_paths[AGENT_A], stamp)
    code, out, err = run_hook("subagent_stop", lab.subagent_stop(AGENT_A))
    assert code == 0 and err == ""
    assert out is None or "internal error" not in out.get("systemMessage", ""), out
    recs = [r for r in Ledger().iter_records() if r["agent_id"] == AGENT_A]
    assert len(recs) == 1 and recs[0]["requests"] == 3
    assert "bad_timestamp" in recs[0]["flags"]
    assert recs[0]["ts"].startswith("2026-11-26T")


@pytest.mark.parametrize("stamp", BAD[:2])
def test_session_with_a_bad_stamp_keeps_routing_and_recording(lab: Session, stamp: str) -> None:
    _stamp(lab.transcript, stamp)
    for event, payload in [("pre_tool_use", lab.pre("A")), ("subagent_stop", lab.subagent_stop(AGENT_B)),
                           ("pre_tool_use", lab.pre("B")), ("stop", lab.payload("Stop"))]:
        code, out, err = run_hook(event, payload)
        assert code == 0 and err == "", (event, err)
        assert out is None or "internal error" not in out.get("systemMessage", ""), (event, out)
        if event == "pre_tool_use":
            assert out is not None and "→" in out["systemMessage"]
    main = [r for r in Ledger().iter_records() if r["kind"] == "main"]
    assert main and sum(r["requests"] for r in main) > 0
    assert any("bad_timestamp" in r["flags"] for r in main)
    assert all(r["ts"].startswith("2026-11-26T") for r in main)


def test_history_imports_around_a_bad_stamp(lab: Session, tmp_path: Path, data_dir: Path) -> None:
    _stamp(lab.transcript, BAD[0])
    _stamp(lab.agent_paths[AGENT_A], BAD[1])
    for p in lab.agent_paths.values():
        os.utime(p, (1_000_000_000, 1_000_000_000))  # long finished
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE")}
    env.update(MODEL_STRATEGY_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT / "lib"))
    proc = subprocess.run([sys.executable, "-m", "model_strategy.commands.cli.cli", "history", "--json",
                           "--claude-dir", str(tmp_path / "claude")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    recs = list(Ledger().iter_records())
    assert {r["agent_id"] for r in recs} >= {"main", AGENT_A, AGENT_B}
    assert sum("bad_timestamp" in r["flags"] for r in recs) >= 2
