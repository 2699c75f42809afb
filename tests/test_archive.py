"""Retention: old months move into archive/YYYY-MM.jsonl.gz, readers see no difference, roll-ups stay,
and no kill at any point loses or doubles a record."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from model_strategy.models import Config
from model_strategy.runtime.base import clock
from model_strategy.runtime.base.clock import day_of
from model_strategy.runtime.books import archive, archived, records
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 28)  # retention 90 days: months ending before 2026-08-30 are due


def make(i: int, day: str, cost: str = "0.25", kind: str = "subagent", tokens: int = 100,
         keys: list[str] | None = None) -> records.Record:
    tok = {"input": tokens, "output": tokens // 2, "cache_read": tokens * 10, "cache_write_5m": tokens,
           "cache_write_1h": 0, "web_search": 0}
    usage = {"model_actual": "claude-haiku-5-5", "tokens": tok, "requests": 2, "cost_usd": cost,
             "unpriced_requests": 0, "flags": [], "price_source": "test",
             "models": {"claude-haiku-5-5": {**tok, "requests": 2, "cost_usd": cost, "priced": True}}}
    return records.build(kind=kind, record_id=f"s{i}:a{i}", ts=f"{day}T{i % 24:02d}:00:00.000Z",
                         recorded_at="2026-11-28T00:00:00.000Z", session_id=f"s{i}", project=f"/p{i % 3}",
                         usage=usage, agent_type=["Explore", "Plan"][i % 2], request_keys=keys)


def commit_all(recs: list[records.Record]) -> None:
    ledger = Ledger()
    with ledger.transaction():
        for r in recs:
            assert ledger.commit(r)


def sample() -> list[records.Record]:
    out = []
    i = 0
    for day in ["2026-06-01", "2026-06-15", "2026-06-30", "2026-07-04", "2026-08-31", "2026-11-01"]:
        for _ in range(3):
            i += 1
            out.append(make(i, day, cost=f"0.{i:02d}", keys=[f"k{i:04d}"]))
    return out


def ids() -> list[str]:
    return [r["id"] for r in Ledger().iter_records()]


def rollups(months: list[str]) -> dict[str, Any]:
    return {m: json.loads(json.dumps(Ledger().rollup(m))) for m in months}


MONTHS = ["2026-06", "2026-07", "2026-08", "2026-11"]


def test_old_months_move_and_readers_see_no_difference(data_dir: Path) -> None:
    commit_all(sample())
    before_ids, before_roll = ids(), rollups(MONTHS)
    out = archive.run(Ledger(), 90, TODAY)
    assert [m["month"] for m in out["archived"]] == ["2026-06", "2026-07"]  # 2026-08 ends after the cutoff
    assert sorted(p.name for p in (data_dir / "archive").glob("*.gz")) == ["2026-06.jsonl.gz", "2026-07.jsonl.gz"]
    assert Ledger().days() == ["2026-08-31", "2026-11-01"]
    assert not list((data_dir / "index").glob("2026-06-*"))
    assert ids() == before_ids and rollups(MONTHS) == before_roll
    assert [r["id"] for r in Ledger().iter_records("2026-06-15", "2026-07-04")] == before_ids[3:12]
    ledger = Ledger()
    with ledger.transaction():  # the archive still refuses an id or a request key it holds
        assert not ledger.commit(sample()[4])
        assert ledger.has_key("2026-06-15", "k0004") and not ledger.has_key("2026-06-15", "k9999")
    assert Ledger().days() == ["2026-08-31", "2026-11-01"]
    again = archive.run(Ledger(), 90, TODAY)  # idempotent
    assert again["archived"] == [] and ids() == before_ids


def test_killed_before_the_day_files_went(data_dir: Path) -> None:
    commit_all(sample())
    before_ids, before_roll = ids(), rollups(MONTHS)
    keep = data_dir.parent / "keep"
    shutil.copytree(data_dir / "daily", keep)
    archive.run(Ledger(), 90, TODAY)
    for p in keep.glob("2026-06-*"):  # as if the run died after os.replace, before removing the day files
        shutil.copy(p, data_dir / "daily" / p.name)
    assert ids() == before_ids and rollups(MONTHS) == before_roll
    ledger = Ledger()
    with ledger.transaction():
        assert not ledger.commit(sample()[0])
    archive.run(Ledger(), 90, TODAY)
    assert Ledger().days() == ["2026-08-31", "2026-11-01"] and ids() == before_ids


def test_late_records_of_an_archived_month(data_dir: Path) -> None:
    commit_all(sample())
    archive.run(Ledger(), 90, TODAY)
    late = make(100, "2026-06-20", cost="1.5")
    commit_all([late])  # e.g. a history import of old transcripts
    assert ids().count(late["id"]) == 1
    assert Decimal(Ledger().rollup("2026-06")["total"]["cost_usd"]) == Decimal("0.01") + Decimal("0.02") \
        + Decimal("0.03") + Decimal("0.04") + Decimal("0.05") + Decimal("0.06") + Decimal("0.07") \
        + Decimal("0.08") + Decimal("0.09") + Decimal("1.5")
    out = archive.run(Ledger(), 90, TODAY)
    assert out["archived"][0]["added"] == 1 and ids().count(late["id"]) == 1


def test_deleting_archives_keeps_rollups(data_dir: Path) -> None:
    commit_all(sample())
    before = rollups(MONTHS)
    archive.run(Ledger(), 90, TODAY)
    assert archive.delete_before(Ledger(), "2026-07") == ["2026-06"]
    assert not (data_dir / "archive" / "2026-06.jsonl.gz").exists()
    assert rollups(MONTHS) == before
    assert not any(day_of(r["ts"]).startswith("2026-06") for r in Ledger().iter_records())


def test_corrupt_archive_is_left_alone(data_dir: Path) -> None:
    commit_all(sample())
    (data_dir / "archive").mkdir()
    (data_dir / "archive" / "2026-06.jsonl.gz").write_bytes(b"not gzip")
    errors: list[str] = []
    seen = [r["id"] for r in Ledger().iter_records(errors=errors)]
    assert len(seen) == 18 and "not a readable gzip archive" in errors[0]
    out = archive.run(Ledger(), 90, TODAY)
    assert len(out["problems"]) == 1 and "2026-06 left as day files" in out["problems"][0]
    assert "2026-06-01" in Ledger().days()
    assert (data_dir / "archive" / "2026-06.jsonl.gz").read_bytes() == b"not gzip"


def test_unreadable_lines_are_kept(data_dir: Path) -> None:
    commit_all(sample())
    with open(data_dir / "daily" / "2026-06-15.json", "ab") as fh:
        fh.write(b'{"broken\n')
    archive.run(Ledger(), 90, TODAY)
    assert (data_dir / "archive" / "2026-06.unreadable.jsonl").read_bytes() == b'{"broken\n'


def test_opportunistic_run_once_a_day(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commit_all(sample())
    calls = []
    real = archive.run
    monkeypatch.setattr(archive, "run", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert archive.maybe_run(Ledger(), {"retention_days": 90}, TODAY) == []
    assert archive.maybe_run(Ledger(), {"retention_days": 90}, TODAY) == []
    assert calls == [1]
    commit_all([make(200, "2026-05-05")])
    assert archive.maybe_run(Ledger(), {"retention_days": 90}, TODAY) == [] and calls == [1]  # stamped today
    archive.maybe_run(Ledger(), {"retention_days": 90}, TODAY + timedelta(days=1))
    assert calls == [1, 1] and "2026-05" in Ledger().archived_months()


def test_session_start_archives(data_dir: Path) -> None:
    today = clock.today_utc()
    old = (today.replace(day=1) - timedelta(days=200)).isoformat()
    commit_all([make(1, old)])
    out = io.StringIO()
    assert hooks.run(recording.session_start, io.StringIO(json.dumps({"session_id": "s", "cwd": str(data_dir)})),
                     out) == 0
    assert Ledger().archived_months() == [old[:7]] and ids() == ["s1:a1"]


def test_retention_is_configurable() -> None:
    assert Config().retention_days == 90
    assert Config.model_validate({"retention_days": 30}).retention_days == 30
    with pytest.raises(ValidationError):
        Config.model_validate({"retention_days": 3})
    assert archive.retention_of({"retention_days": "x"}) == 90


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 28), st.integers(0, 10_000), st.integers(0, 5000)),
                min_size=1, max_size=40))
def test_rollups_and_archives_equal_the_detail(tmp_path_factory: pytest.TempPathFactory,
                                               rows: list[tuple[int, int, int, int]]) -> None:
    d = tmp_path_factory.mktemp("prop")
    old = os.environ["MODEL_STRATEGY_DATA_DIR"]
    os.environ["MODEL_STRATEGY_DATA_DIR"] = str(d)
    try:
        recs = [make(i, f"2026-{m + 1:02d}-{day:02d}", cost=str(Decimal(c) / 1000), tokens=t)
                for i, (m, day, c, t) in enumerate(rows)]
        commit_all(recs)
        months = sorted({f"2026-{m + 1:02d}" for m, *_ in rows})
        before = rollups(months)
        archive.run(Ledger(), 90, TODAY)  # months 01-06 are due
        after = rollups(months)
        assert after == before
        for m in months:
            detail = [r for r in Ledger().iter_records(f"{m}-01", f"{m}-31")]
            assert Decimal(after[m]["total"]["cost_usd"]) == sum(Decimal(r["cost_usd"]) for r in detail)
            assert after[m]["total"]["tokens"]["input"] == sum(r["tokens"]["input"] for r in detail)
            assert after[m]["total"]["records"] == len(detail)
            if m in Ledger().archived_months():
                arch = archived.read_archive(Ledger().archive_file(m))
                assert sorted(r["id"] for r in arch) == sorted(r["id"] for r in detail)
        assert sorted(ids()) == sorted(r["id"] for r in recs)
    finally:
        os.environ["MODEL_STRATEGY_DATA_DIR"] = old


# ------------------------------------------------------------------ killed for real


ARCHIVE_RUN = """
import sys
from datetime import date
from model_strategy.runtime.books import archive
from model_strategy.runtime.books.ledger import Ledger
archive.run(Ledger(), 90, date(2026, 11, 28))
print("done")
"""


def _run(data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MODEL_STRATEGY_DATA_DIR": str(data), "PYTHONPATH": str(ROOT / "lib")}
    return subprocess.Popen([os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable, "-c", ARCHIVE_RUN],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkilled_archival_is_repaired_by_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "base"
    base.mkdir()
    monkeypatch.setenv("MODEL_STRATEGY_DATA_DIR", str(base))
    rng = random.Random(5)
    recs = []
    for i in range(3000):
        day = date(2026, 3, 1) + timedelta(days=rng.randint(0, 150))
        recs.append(make(i, day.isoformat(), cost=f"0.{rng.randint(1, 999):03d}", keys=[f"k{i}"]))
    commit_all(recs)
    months = sorted({r["ts"][:7] for r in recs})
    want_ids = sorted(r["id"] for r in recs)
    want_roll = rollups(months)
    probe = tmp_path / "probe"
    shutil.copytree(base, probe)
    start = time.monotonic()
    assert _run(probe).wait() == 0
    full = time.monotonic() - start  # interpreter start included: some kills land before any work
    for n in range(8):
        data = tmp_path / f"run{n}"
        shutil.copytree(base, data)
        p = _run(data)
        if n % 2:  # right after the first archive is in place, while its day files are being removed
            while p.poll() is None and not list(data.glob("archive/*.gz")):
                time.sleep(0.001)
        else:
            time.sleep(rng.uniform(0.0, full))
        p.send_signal(signal.SIGKILL)
        p.wait()
        monkeypatch.setenv("MODEL_STRATEGY_DATA_DIR", str(data))
        got = [r["id"] for r in Ledger().iter_records()]
        assert sorted(got) == want_ids, f"run {n}: killed archival lost or doubled records"
        assert rollups(months) == want_roll
        done = _run(data)
        assert done.wait() == 0 and done.stdout is not None and done.stdout.read().strip() == b"done"
        assert sorted(r["id"] for r in Ledger().iter_records()) == want_ids
        assert rollups(months) == want_roll
        assert Ledger().days() == [] and Ledger().archived_months() == months
        assert not [p for p in (data / "archive").iterdir() if p.name.endswith(".tmp")]


def test_folds_over_archived_months_stay_complete(data_dir: Path) -> None:
    commit_all(sample())
    ledger = Ledger()

    def fresh() -> dict[str, Any]:
        return {"n": 0, "cost": "0"}

    def add(d: dict[str, Any], rec: records.Record) -> None:
        d["n"] += 1
        d["cost"] = str(Decimal(d["cost"]) + Decimal(rec["cost_usd"]))

    with ledger.transaction():
        before = ledger.fold("window.json", "2026-07-01", None, fresh, add, schema=1)
    archive.run(Ledger(), 90, TODAY)
    with ledger.transaction():
        after = ledger.fold("window.json", "2026-07-01", None, fresh, add, schema=1)
    assert after == before and before["n"] == 9


def test_daily_rollup_reports_still_see_archived_days(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The usage reports built on daily roll-ups (export costs, dashboard) read archived days too."""
    from model_strategy.commands.cli import cli

    commit_all(sample())

    def export() -> list[str]:
        assert cli.main(["export", "costs", "-"]) == 0
        return sorted(line.split(",")[0] for line in capsys.readouterr().out.splitlines()[1:] if line)

    before = export()
    archive.run(Ledger(), 90, TODAY)
    assert export() == before and before[0] == "2026-06-01"
    assert Ledger().record_days() == sorted({day_of(r["ts"]) for r in sample()})
    assert export() == before  # from the kept folds
