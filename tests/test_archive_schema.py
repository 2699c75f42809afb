"""Data written by earlier schemas stays readable: migrated, never reset.

* ``tests/fixtures/archive-v1``: a data home written by the first release (schema 1: one
  ``current_session.json``, totals kept as running sums).  Its records are read and upgraded in
  place of use; its caches are rebuilt from the ledger; its session state is split into session files.
* ``tests/fixtures/archive-v2``: the current schema, frozen.  If a change to the writers breaks
  these, the schema changed: bump SCHEMA_VERSION, add a migration (``records.upgrade``) and a new
  frozen sample, rather than editing these files.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from model_strategy import SCHEMA_VERSION
from model_strategy.models import AgentRecord, AgentRecordV1, Decision, MonthlyRollup
from model_strategy.runtime.books import records
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.limits import budget
from model_strategy.runtime.settings import config

FIXTURES = Path(__file__).parent / "fixtures"
V1 = FIXTURES / "archive-v1"
V2 = FIXTURES / "archive-v2"


def _copy(src: Path, dest: Path) -> None:
    for item in src.iterdir():
        target = dest / item.name
        shutil.copytree(item, target) if item.is_dir() else shutil.copy(item, target)


def test_frozen_v1_files_validate_against_the_v1_models() -> None:
    lines = [json.loads(line) for line in (V1 / "daily" / "2026-11-26.json").read_text().splitlines()]
    assert {r["kind"] for r in lines} == {"main", "subagent"} and len(lines) == 3
    for rec in lines:
        AgentRecordV1.model_validate(rec)
        AgentRecord.model_validate(records.upgrade(rec))  # the migration yields a valid current record
    state = json.loads((V1 / "current_session.json").read_text())
    for session in state["sessions"].values():
        for decision in session["decisions"].values():
            Decision.model_validate(decision)


def test_v1_data_home_is_migrated_not_reset(data_dir: Path) -> None:
    _copy(V1, data_dir)
    ledger = Ledger()
    errors: list[str] = []
    old = list(ledger.iter_records(errors=errors))
    assert errors == [] and len(old) == 3 and all(r["schema"] == SCHEMA_VERSION for r in old)
    frozen_total = sum(Decimal(r["cost_usd"]) for r in old)
    cfg, _ = config.load(None)
    now = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)
    with ledger.transaction():  # first transaction: session state split out of current_session.json
        day = budget.status(ledger, cfg, now)[0]
    assert day["spent_usd"] == frozen_total  # totals rebuilt from the records, not restarted at $0
    assert not (data_dir / "current_session.json").exists()
    assert (data_dir / "current_session.json.v1-migrated").exists()
    sid = old[0]["session_id"]
    state = json.loads(Path(ledger.session_path(sid)).read_text())
    assert state["decisions"] and state["recorded"], "frozen session state must carry over"
    month = ledger.monthly("2026-11")
    assert month is not None and Decimal(month["total"]["cost_usd"]) == frozen_total
    MonthlyRollup.model_validate_json((data_dir / "monthly" / "2026-11.json").read_text())
    # a v1 agent reported again is not recorded twice; a new record lands beside them
    agent = next(r for r in old if r["kind"] == "subagent")
    with ledger.transaction():
        assert ledger.commit(dict(agent, schema=SCHEMA_VERSION)) is False  # type: ignore[arg-type]
        new = dict(agent, id="new:agent", agent_id="new-agent", ts="2026-11-26T10:00:00.000Z")
        assert ledger.commit(new) is True  # type: ignore[arg-type]
    assert Decimal(Ledger().monthly("2026-11")["total"]["cost_usd"]) == frozen_total + Decimal(agent["cost_usd"])


def test_frozen_v2_data_home_reads_as_is(data_dir: Path) -> None:
    assert SCHEMA_VERSION == 2
    _copy(V2, data_dir)
    ledger = Ledger()
    errors: list[str] = []
    recs = list(ledger.iter_records(errors=errors))
    assert errors == [] and len(recs) >= 3
    for rec in recs:
        AgentRecord.model_validate(rec)
    for path in (data_dir / "sessions").glob("*.json"):
        for decision in json.loads(path.read_text())["decisions"].values():
            Decision.model_validate(decision)
    for path in (data_dir / "monthly").glob("*.json"):
        MonthlyRollup.model_validate_json(path.read_text())
    cfg, _ = config.load(None)
    day = budget.status(ledger, cfg, datetime.fromisoformat(recs[-1]["ts"].replace("Z", "+00:00")))[0]
    assert day["spent_usd"] == sum(Decimal(r["cost_usd"]) for r in recs if r["ts"][:10] == recs[-1]["ts"][:10])
