"""The ``history`` report's data: the ledger folded into rows per day, week, month, session, project,
model or agent type, with totals, for [since, until] (UTC days of the records' ``ts``; an agent counts
on the day it started).  From the monthly roll-ups (cached, kept for archived months) where they hold
the grouping, from the records for sessions and for the split of months the range cuts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from model_strategy.runtime.base.clock import day_of, period_days
from model_strategy.runtime.base.kinds import WEEKDAYS
from model_strategy.runtime.books import records
from model_strategy.runtime.books.ledger import Ledger

if TYPE_CHECKING:
    from model_strategy.runtime.books.records import Record, Tokens

GROUPS = ("daily", "weekly", "monthly", "session", "project", "model", "agent-type")
ROLLUP_GROUPS = {"model": "by_model", "project": "by_project", "agent-type": "by_agent_type"}


class Totals(TypedDict):
    """What a row (and the total) adds up: tokens by kind, cost of the priced requests, requests, runs."""
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: Decimal
    requests: int
    unpriced_requests: int
    records: int


class Row(Totals):
    key: str  # the day, week start, month, session id, project, model or agent type
    project: NotRequired[str | None]  # the session's project (``session`` grouping)


class ImportSummary(TypedDict):
    """What an import did, for the report (``history --json``'s ``import``, with its dirs and time)."""
    files: int
    files_read: int
    bytes_read: int
    records_added: int
    requests_added: int
    already_recorded_agents: int
    duplicate_requests: int
    running_agents: int
    unpriced_requests_added: int
    problems: list[str]


class Report(TypedDict):
    group: str
    since: str | None
    until: str | None
    rows: list[Row]
    totals: Totals


class ImportDone(ImportSummary):
    claude_dirs: list[str]
    seconds: float


#: ``history --json``: the report, what the import did (``None`` with ``--no-import``), when
HistoryDoc = TypedDict("HistoryDoc", {
    "schema": int, "group": str, "since": "str | None", "until": "str | None", "rows": "list[Row]",
    "totals": Totals, "days": str, "import": "ImportDone | None", "generated_at": str})


def _week_start(day: str, week_start: str) -> str:
    start = week_start if week_start in WEEKDAYS else "monday"
    return period_days("week", date.fromisoformat(day), start)[0].isoformat()


def _zero() -> Totals:
    return {"input_tokens": 0, "output_tokens": 0, "cache_write_tokens": 0, "cache_read_tokens": 0,
            "cost_usd": Decimal(0), "requests": 0, "unpriced_requests": 0, "records": 0}


def _add(row: Totals, tokens: Tokens, cost: str | None, requests: int, unpriced: int, run: int = 1) -> None:
    row["input_tokens"] += int(tokens.get("input", 0))
    row["output_tokens"] += int(tokens.get("output", 0))
    row["cache_write_tokens"] += int(tokens.get("cache_write_5m", 0)) + int(tokens.get("cache_write_1h", 0))
    row["cache_read_tokens"] += int(tokens.get("cache_read", 0))
    row["cost_usd"] += Decimal(cost or "0")
    row["requests"] += int(requests)
    row["unpriced_requests"] += int(unpriced)
    row["records"] += run  # a continuation slice is not another record of a run


def _add_totals(row: Totals, other: Totals) -> None:
    row["input_tokens"] += other["input_tokens"]
    row["output_tokens"] += other["output_tokens"]
    row["cache_write_tokens"] += other["cache_write_tokens"]
    row["cache_read_tokens"] += other["cache_read_tokens"]
    row["cost_usd"] += other["cost_usd"]
    row["requests"] += other["requests"]
    row["unpriced_requests"] += other["unpriced_requests"]
    row["records"] += other["records"]


def _key(rec: Record, group: str, week_start: str) -> str:
    day = day_of(rec["ts"])
    if group == "daily":
        return day
    if group == "weekly":
        return _week_start(day, week_start)
    if group == "monthly":
        return day[:7]
    if group == "session":
        return str(rec.get("session_id") or "(none)")
    if group == "project":
        return str(rec.get("project") or "(none)")
    return str(rec.get("agent_type") or "unknown")


def _add_bucket(row: Totals, b: dict[str, Any]) -> None:
    """Add a roll-up bucket (``ledger.add_to_bucket``'s shape) into a report row."""
    t = b.get("tokens") or {}
    row["input_tokens"] += int(t.get("input", 0))
    row["output_tokens"] += int(t.get("output", 0))
    row["cache_write_tokens"] += int(t.get("cache_write_5m", 0)) + int(t.get("cache_write_1h", 0))
    row["cache_read_tokens"] += int(t.get("cache_read", 0))
    row["cost_usd"] += Decimal(b.get("cost_usd") or "0")
    row["requests"] += int(b.get("requests", 0))
    row["unpriced_requests"] += int(b.get("unpriced_requests", 0))
    row["records"] += int(b.get("records", 0))


def _day_key(day: str, group: str, week_start: str) -> str:
    return day if group == "daily" else _week_start(day, week_start) if group == "weekly" else day[:7]


def report(ledger: Ledger, group: str, since: str | None, until: str | None, week_start: str = "monday",
           errors: list[str] | None = None, rollups: bool = True) -> Report:
    """Rows and totals from the ledger for [since, until] (UTC days).  From the monthly roll-ups
    (cached, caught up incrementally, kept for archived months) where they hold the grouping, from the
    records for sessions and for the model/project/agent-type split of months cut by the range."""
    if not rollups or group == "session":
        return _report_records(ledger, group, since, until, week_start, errors)
    months = sorted({d[:7] for d in ledger.days(since, until)} | set(ledger.archived_months(since, until)))
    rows: dict[str, Totals] = {}
    totals = _zero()
    for month in months:
        first = f"{month}-01"
        last = (period_days("month", date.fromisoformat(first))[1] - timedelta(days=1)).isoformat()
        data = ledger.rollup(month)
        for day, bucket in (data.get("by_day") or {}).items():
            if (since and day < since) or (until and day > until):
                continue
            _add_bucket(totals, bucket)
            if group in ("daily", "weekly", "monthly"):
                _add_bucket(rows.setdefault(_day_key(day, group, week_start), _zero()), bucket)
        if group not in ROLLUP_GROUPS:
            continue
        if (not since or since <= first) and (not until or until >= last):
            for name, bucket in (data.get(ROLLUP_GROUPS[group]) or {}).items():
                _add_bucket(rows.setdefault(name, _zero()), bucket)
        else:  # the range cuts this month: its records for the split
            part = _report_records(ledger, group, max(first, since or first), min(last, until or last), week_start,
                                   errors)
            for row in part["rows"]:
                _add_totals(rows.setdefault(row["key"], _zero()), row)
    return _finish(group, since, until, rows, totals, {})


def _report_records(ledger: Ledger, group: str, since: str | None, until: str | None, week_start: str,
                    errors: list[str] | None) -> Report:
    rows: dict[str, Totals] = {}
    totals = _zero()
    projects: dict[str, str | None] = {}
    for r in ledger.iter_records(since, until, errors):
        run = 0 if records.is_continuation(r) else 1
        _add(totals, r["tokens"], r["cost_usd"], r["requests"], r.get("unpriced_requests", 0), run)
        if group == "model":
            for name, m in (r.get("models") or {}).items():
                unpriced = m.get("requests", 0) if m.get("priced") is False else 0
                _add(rows.setdefault(name, _zero()), m, m.get("cost_usd"), m.get("requests", 0), unpriced, run)
            continue
        key = _key(r, group, week_start)
        _add(rows.setdefault(key, _zero()), r["tokens"], r["cost_usd"], r["requests"], r.get("unpriced_requests", 0),
             run)
        if group == "session":
            projects.setdefault(key, r.get("project"))
    return _finish(group, since, until, rows, totals, projects)


def _finish(group: str, since: str | None, until: str | None, rows: dict[str, Totals], totals: Totals,
            projects: dict[str, str | None]) -> Report:
    chronological = group in ("daily", "weekly", "monthly")
    order = sorted(rows) if chronological else sorted(rows, key=lambda k: (-rows[k]["cost_usd"], k))
    out_rows: list[Row] = []
    for k in order:
        row = cast(Row, {"key": k, **rows[k]})
        if group == "session":
            row["project"] = projects.get(k)
        out_rows.append(row)
    return {"group": group, "since": since, "until": until, "rows": out_rows, "totals": totals}
