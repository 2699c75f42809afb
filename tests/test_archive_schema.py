"""Archives written by schema 1 (frozen in tests/fixtures/archive-v1) stay readable and extendable.

If a change to the writers breaks these, the schema changed: bump SCHEMA_VERSION, add a migration
and a new frozen sample, rather than editing these files.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from model_strategy import SCHEMA_VERSION
from model_strategy.models import AgentRecord, Decision, MonthlyRollup
from model_strategy.runtime import budget, config
from model_strategy.runtime.ledger import Ledger

FROZEN = Path(__file__).parent / "fixtures" / "archive-v1"


def test_frozen_files_validate_against_the_models() -> None:
    assert SCHEMA_VERSION == 1
    records = [json.loads(line) for line in (FROZEN / "daily" / "2026-11-26.json").read_text().splitlines()]
    assert {r["kind"] for r in records} == {"main", "subagent"} and len(records) == 3
    for rec in records:
        AgentRecord.model_validate(rec)
    MonthlyRollup.model_validate(json.loads((FROZEN / "monthly" / "2026-11.json").read_text()))
    state = json.loads((FROZEN / "current_session.json").read_text())
    assert state["schema"] == 1
    for session in state["sessions"].values():
        for decision in session["decisions"].values():
            Decision.model_validate(decision)


def test_current_code_reads_and_extends_frozen_archive(data_dir: Path) -> None:
    for item in FROZEN.iterdir():
        dest = data_dir / item.name
        shutil.copytree(item, dest) if item.is_dir() else shutil.copy(item, dest)
    archive = Ledger()
    errors: list[str] = []
    records = list(archive.iter_records(errors=errors))
    assert errors == [] and len(records) == 3
    frozen_total = sum(Decimal(r["cost_usd"]) for r in records)
    month = archive.monthly("2026-11")
    assert month is not None and Decimal(month["total"]["cost_usd"]) == frozen_total
    # a new record lands beside them and the roll-up keeps adding up
    new = dict(records[1], id="new:agent", agent_id="new-agent", ts="2026-11-27T10:00:00.000Z")
    with archive.transaction():
        archive.append_record(new)
    assert Decimal(archive.monthly("2026-11")["total"]["cost_usd"]) == frozen_total + Decimal(new["cost_usd"])
    state = archive.load_sessions()
    assert state["sessions"], "frozen session state must load, not be reset"
    cfg, _ = config.load(None)
    totals = budget.load_totals(archive, cfg, datetime(2026, 11, 26, 12, tzinfo=timezone.utc))
    assert totals["schema"] == 1 and "day" in totals["periods"]
