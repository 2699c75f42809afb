"""The archives in the data dir, all written under one lock (``archive.lock``):

* ``current_session.json`` -- live state of recent sessions: model decisions by tool_use_id, which
  agents are already recorded (so each agent is recorded exactly once), transcript offsets;
  sessions idle for a day move to ``sessions/<id>.json``;
* ``daily/YYYY-MM-DD.json`` -- JSON Lines, one record per agent (UTC date of the record);
* ``monthly/YYYY-MM.json`` -- roll-ups by model, agent type, day and project;
* ``totals.json`` -- running budget totals per period, so a budget check never rescans records.

Every file and record carries ``schema``.  Standard library only (hot path).
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from .. import SCHEMA_VERSION
from . import paths, store
from .usage import RECORD_KINDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

SESSION_IDLE = timedelta(hours=24)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Archive:
    def __init__(self, root: str | None = None) -> None:
        self.root = root or paths.data_dir()
        self.warnings: list[str] = []  # problems with our own files (one line each)
        self.notices: list[str] = []  # budget warnings for the user

    # -------------------------------------------------------------- locking and session state

    def transaction(self) -> store.locked:
        """``with archive.transaction():`` -- the archive-wide lock every write happens under."""
        return store.locked(os.path.join(self.root, "archive.lock"))

    @property
    def sessions_file(self) -> str:
        return os.path.join(self.root, "current_session.json")

    def load_sessions(self) -> dict[str, Any]:
        data = store.read_json_or_quarantine(self.sessions_file, None, self.warnings)
        if not data or data.get("schema") != SCHEMA_VERSION or not isinstance(data.get("sessions"), dict):
            return {"schema": SCHEMA_VERSION, "sessions": {}}
        sessions: dict[str, Any] = data
        return sessions

    def save_sessions(self, data: dict[str, Any]) -> None:
        now = utcnow()
        for sid, state in list(data["sessions"].items()):
            try:
                idle = now - parse_ts(state.get("updated", ""))
            except ValueError:
                idle = SESSION_IDLE
            if idle >= SESSION_IDLE:
                store.atomic_write_json(os.path.join(self.root, "sessions", f"{paths.safe_id(sid)}.json"),
                                        {"schema": SCHEMA_VERSION, "session_id": sid, **state})
                del data["sessions"][sid]
        store.atomic_write_json(self.sessions_file, data)

    @staticmethod
    def session(data: dict[str, Any], session_id: str, project: str | None) -> dict[str, Any]:
        state: dict[str, Any] | None = data["sessions"].get(session_id)
        if state is None:
            state = data["sessions"][session_id] = {
                "started": iso(utcnow()), "project": project, "decisions": {}, "links": {},
                "recorded": {}, "cost_usd": "0", "agents": 0,
            }
        state["updated"] = iso(utcnow())
        return state

    # -------------------------------------------------------------- records

    def daily_file(self, day: date) -> str:
        return os.path.join(self.root, "daily", f"{day.isoformat()}.json")

    def monthly_file(self, month: str) -> str:
        return os.path.join(self.root, "monthly", f"{month}.json")

    def append_record(self, record: dict[str, Any]) -> None:
        """Append a record and update its roll-up; call inside ``transaction``."""
        ts = parse_ts(record["ts"]).astimezone(timezone.utc)
        store.append_jsonl(self.daily_file(ts.date()), record)
        self._roll_up(record, ts)

    def _roll_up(self, record: dict[str, Any], ts: datetime) -> None:
        month = ts.strftime("%Y-%m")
        path = self.monthly_file(month)
        data = store.read_json_or_quarantine(path, None, self.warnings)
        if not data or data.get("schema") != SCHEMA_VERSION:
            data = {"schema": SCHEMA_VERSION, "month": month, "updated": "", "total": {},
                    "by_model": {}, "by_agent_type": {}, "by_day": {}, "by_project": {}}
        data["updated"] = iso(utcnow())
        add_to_bucket(data["total"], record)
        for name, row in record["models"].items():
            add_to_bucket(data["by_model"].setdefault(name, {}), row, records=1)
        add_to_bucket(data["by_agent_type"].setdefault(record["agent_type"], {}), record)
        add_to_bucket(data["by_day"].setdefault(ts.date().isoformat(), {}), record)
        add_to_bucket(data["by_project"].setdefault(record.get("project") or "(none)", {}), record)
        store.atomic_write_json(path, data)

    def iter_records(self, start: date | None = None, end: date | None = None,
                     errors: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Records whose daily file lies in [start, end] (UTC dates), oldest file first."""
        folder = os.path.join(self.root, "daily")
        try:
            names = sorted(os.listdir(folder))
        except FileNotFoundError:
            return
        for name in names:
            if not name.endswith(".json") or name.startswith("."):
                continue
            try:
                day = date.fromisoformat(name[:-5])
            except ValueError:
                continue
            if (start and day < start) or (end and day > end):
                continue
            for rec in store.iter_jsonl(os.path.join(folder, name), errors):
                if rec.get("schema") == SCHEMA_VERSION:
                    yield rec
                elif errors is not None:
                    errors.append(f"{name}: record with unknown schema {rec.get('schema')!r}, skipped")

    def monthly(self, month: str) -> dict[str, Any] | None:
        data = store.read_json(self.monthly_file(month))
        return data if isinstance(data, dict) else None


def add_to_bucket(bucket: dict[str, Any], row: dict[str, Any], records: int | None = None) -> None:
    """Add a record (or a per-model row) into a roll-up bucket; money stays Decimal-as-string."""
    bucket["cost_usd"] = str(Decimal(bucket.get("cost_usd", "0")) + Decimal(row["cost_usd"]))
    bucket["records"] = bucket.get("records", 0) + (records if records is not None else 1)
    bucket["requests"] = bucket.get("requests", 0) + row.get("requests", 0)
    tokens = bucket.setdefault("tokens", {})
    src = row.get("tokens", row)
    for kind in RECORD_KINDS:
        tokens[kind] = tokens.get(kind, 0) + src.get(kind, 0)
