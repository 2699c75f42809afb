"""Daily roll-ups: one small cache per ledger day, so the usage reports never re-read the ledger.

``rollups/daily/YYYY-MM-DD.json`` is folded from that day's ledger file with ``Ledger.fold`` (the
same mechanism as the monthly roll-ups): it remembers how far into the day file it has read and
catches up with what was appended since; it is rebuilt when it is missing, damaged, of another
schema or made with other band / complexity thresholds (its ``key``).  A day holds:

* ``cube`` -- usage rows keyed by (kind, project, agent type, model, requested model, prompt-size
  band, complexity class): records, requests, priced cost, unpriced requests and tokens by kind.
  Spend by model, agent type and project, the cache hit rate, the cost export and every re-pricing
  (routing savings, recommendations) are sums over these rows -- one calculation per row, not per
  record;
* ``agents`` -- per agent type: runs, outcomes (completed, error, interrupted, truncated, denied,
  unknown), total duration;
* ``sessions`` -- per session: records, cost, project, first and last timestamp;
* ``top`` -- the day's most expensive subagent runs (the top of a window is among the days' tops);
* ``mismatch`` -- runs whose model differed from the one chosen, by (chosen, actual): runs, cost,
  unpriced requests;
* ``decisions`` -- routing decisions by source.

Cube rows are lists (``ROW``); money is a Decimal string.  A record that cannot be read is counted
in ``skipped``.  A continuation slice of an agent (``continuation: true``: requests it made after it
was first recorded, e.g. continued with ``SendMessage``) adds its usage and cost everywhere but is
not another run: it counts in no ``records``, outcome, duration, top run or decision.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NotRequired, TypedDict, cast

from model_strategy.runtime.base import store
from model_strategy.runtime.base.kinds import RECORD_KINDS
from model_strategy.runtime.books.ledger import Ledger

SCHEMA = 2
TOP = 10
LOCK_WAIT = 1.0  # seconds to wait for the ledger lock per day before folding that day in memory
SEP = "\x1f"
PARSED: Final = "_parsed"  # in memory only: a loaded day's cube, parsed
#: a cube row: [records, requests, cost, unpriced requests, *tokens in RECORD_KINDS order]
RECORDS, REQUESTS, COST, UNPRICED, TOKENS = 0, 1, 2, 3, 4
ROW = ("records", "requests", "cost_usd", "unpriced_requests", *RECORD_KINDS)
#: the cube key's parts
KEY = ("kind", "project", "agent_type", "model", "requested", "band", "complexity")
OUTCOMES = ("completed", "error", "interrupted", "truncated", "denied", "unknown")
NOT_COMPLETED = ("error", "interrupted", "truncated", "denied")
INPUT_KINDS = ("input", "cache_read", "cache_write_5m", "cache_write_1h")
_INPUT_AT = tuple(TOKENS + RECORD_KINDS.index(k) for k in INPUT_KINDS)


class AgentDay(TypedDict):
    """An agent type's runs on one day."""

    kind: str
    records: int
    duration_ms: int
    timed: int  # runs with a duration
    outcomes: dict[str, int]


class DayRollup(TypedDict):
    """A day's roll-up (``Folder.fresh`` builds it, ``Folder.add`` folds records into it; see the module
    docstring).  Its lists are rows of fixed width: a cube row is ``ROW``, a session [records, cost, project,
    first ts, last ts], a top run the 11 fields of ``insights.TopRun``, a mismatch [runs, cost, unpriced]."""

    day: str
    records: int
    skipped: int
    cube: dict[str, list[Any]]  # SEP-joined KEY -> row
    agents: dict[str, AgentDay]
    sessions: dict[str, list[Any]]
    projects: dict[str, int]  # records per project
    top: list[list[Any]]
    top_floor: str | None
    mismatch: dict[str, list[Any]]  # "chosen SEP actual" -> row
    decisions: dict[str, int]  # by source
    _parsed: NotRequired[list[tuple[dict[str, str], list[Any]]]]  # PARSED


def new_row() -> list[Any]:
    """An accumulator row (its cost a ``Decimal``; stored rows hold a Decimal string)."""
    return [0, 0, Decimal(0), 0, *([0] * len(RECORD_KINDS))]


def add_row(into: list[Any], row: list[Any]) -> None:
    """Sum a cube row into another; money stays exact (a stored row's cost is a Decimal string,
    an accumulator's a ``Decimal``)."""
    into[RECORDS] += row[RECORDS]
    into[REQUESTS] += row[REQUESTS]
    cost = row[COST] if isinstance(row[COST], Decimal) else Decimal(row[COST])
    into[COST] = into[COST] + cost if isinstance(into[COST], Decimal) else str(Decimal(into[COST]) + cost)
    into[UNPRICED] += row[UNPRICED]
    for i in range(TOKENS, TOKENS + len(RECORD_KINDS)):
        into[i] += row[i]


def tokens_of(row: list[Any]) -> dict[str, int]:
    return {k: row[TOKENS + i] for i, k in enumerate(RECORD_KINDS)}


def band_of(per_request_input: float, thresholds: list[int]) -> int:
    return sum(1 for t in thresholds if per_request_input > t)


def complexity_class(value: Any, simple_below: float, complex_from: float) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return ""
    return "low" if value < simple_below else "high" if value >= complex_from else "mid"


def outcome_of(rec: dict[str, Any]) -> str:
    """``denied`` when the routing decision denied the spawn, else the record's outcome (``unknown``
    when it has none)."""
    decision = rec.get("decision")
    if isinstance(decision, dict) and decision.get("denied"):
        return "denied"
    out = rec.get("outcome")
    return out if out in OUTCOMES else "unknown"


def requested_of(rec: dict[str, Any]) -> str:
    """The model the caller asked for: ``decision.requested`` (None when it set none), or the
    record's ``model_requested`` when there was no routing decision."""
    if rec.get("kind") != "subagent":
        return ""
    decision = rec.get("decision")
    if isinstance(decision, dict):
        return str(decision.get("requested") or "")
    return str(rec.get("model_requested") or "")


class Folder:
    """``fresh`` and ``add`` for ``Ledger.fold`` of one day."""

    def __init__(self, day: str, thresholds: list[int], simple_below: float, complex_from: float) -> None:
        self.day, self.thresholds = day, thresholds
        self.simple_below, self.complex_from = simple_below, complex_from
        self.key = f"{day}|{','.join(map(str, thresholds))}|{simple_below}|{complex_from}"

    def fresh(self) -> dict[str, Any]:
        return {"day": self.day, "records": 0, "skipped": 0, "cube": {}, "agents": {}, "sessions": {},
                "projects": {}, "top": [], "top_floor": None, "mismatch": {},
                "decisions": {}}

    def add(self, data: dict[str, Any], rec: Any) -> None:
        try:
            parts = self._parse(rec)
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation):
            data["skipped"] += 1
            return
        kind, project, agent, cost, rows, cx, requested = parts
        run = 0 if rec.get("continuation") is True else 1
        cube = data["cube"]
        for model, row in rows:
            row[RECORDS] = run
            key = SEP.join((kind, project, agent, model, requested, str(row.pop()), cx))
            have = cube.get(key)
            if have is None:
                cube[key] = row
            else:
                add_row(have, row)
        data["records"] += run
        data["projects"][project] = data["projects"].get(project, 0) + run
        outcome = outcome_of(rec)
        stats = data["agents"].get(agent)
        if stats is None:
            stats = data["agents"][agent] = {"kind": kind, "records": 0, "duration_ms": 0, "timed": 0,
                                             "outcomes": {}}
        duration = rec.get("duration_ms")
        if run:
            stats["records"] += 1
            stats["outcomes"][outcome] = stats["outcomes"].get(outcome, 0) + 1
            if isinstance(duration, int) and not isinstance(duration, bool) and duration >= 0:
                stats["duration_ms"] += duration
                stats["timed"] += 1
        ts = str(rec.get("ts") or "")
        sid = str(rec.get("session_id") or "?")
        sess = data["sessions"].get(sid)
        if sess is None:
            data["sessions"][sid] = [run, str(cost), project, ts, ts]
        else:
            sess[0] += run
            sess[1] = str(Decimal(sess[1]) + cost)
            sess[3] = min(sess[3], ts)
            sess[4] = max(sess[4], ts)
        decision = rec.get("decision")
        if isinstance(decision, dict) and run:
            src = str(decision.get("source") or "?")
            data["decisions"][src] = data["decisions"].get(src, 0) + 1
        if rec.get("model_mismatch"):
            mkey = f"{rec.get('model_requested') or '?'}{SEP}{rec.get('model_actual') or '?'}"
            mm = data["mismatch"].setdefault(mkey, [0, "0", 0])
            mm[0] += run
            mm[1] = str(Decimal(mm[1]) + cost)
            mm[2] += int(rec.get("unpriced_requests") or 0)
        if kind == "subagent" and run:
            floor = data["top_floor"]
            if len(data["top"]) < TOP or floor is None or cost > Decimal(floor):
                tokens = rec.get("tokens") or {}
                data["top"].append([str(cost), str(rec.get("id")), ts, agent, rec.get("model_actual"), sid, project,
                                    sum(int(tokens.get(k, 0)) for k in RECORD_KINDS), int(rec.get("requests") or 0),
                                    duration if isinstance(duration, int) else None, outcome])
                if len(data["top"]) >= 2 * TOP:
                    data["top"].sort(key=lambda t: Decimal(t[0]), reverse=True)
                    del data["top"][TOP:]
                    data["top_floor"] = data["top"][-1][0]

    def _parse(self, rec: dict[str, Any]) -> tuple[str, str, str, Decimal, list[tuple[str, list[Any]]], str, str]:
        kind = str(rec["kind"])
        agent = str(rec.get("agent_type") or "?")
        project = str(rec.get("project") or "(none)")
        cost = Decimal(rec.get("cost_usd") or "0")
        rows = []
        unpriced_left = int(rec.get("unpriced_requests") or 0)
        for model, m in rec["models"].items():
            n = int(m.get("requests", 0))
            row: list[Any] = [1, n, str(Decimal(m.get("cost_usd") or "0")), 0,
                              *(int(m.get(k, 0)) for k in RECORD_KINDS)]
            if m.get("priced") is False:
                row[UNPRICED] = min(n, unpriced_left) if unpriced_left else n
                unpriced_left = max(0, unpriced_left - row[UNPRICED])
            per_request = sum(row[i] for i in _INPUT_AT) / max(n, 1)
            row.append(band_of(per_request, self.thresholds))
            rows.append((str(model), row))
        decision = rec.get("decision")
        cx = complexity_class(decision.get("complexity") if isinstance(decision, dict) else None,
                              self.simple_below, self.complex_from)
        return kind, project, agent, cost, rows, cx, requested_of(rec)


def path_of(day: str) -> str:
    return os.path.join("rollups", "daily", f"{day}.json")


SECTIONS = {"cube": dict, "agents": dict, "sessions": dict, "projects": dict, "top": list, "mismatch": dict,
            "decisions": dict, "records": int, "skipped": int}


def valid(data: dict[str, Any]) -> bool:
    """The shape the reports rely on (a roll-up that is valid JSON but not this is rebuilt)."""
    if not all(isinstance(data.get(k), t) for k, t in SECTIONS.items()):
        return False
    width = len(ROW)
    return (all(isinstance(r, list) and len(r) == width for r in data["cube"].values())
            and all(isinstance(m, list) and len(m) == 3 for m in data["mismatch"].values())
            and all(isinstance(s, list) and len(s) == 5 for s in data["sessions"].values())
            and all(isinstance(a, dict) and isinstance(a.get("outcomes"), dict) for a in data["agents"].values())
            and all(isinstance(t, list) and len(t) == 11 for t in data["top"]))


def fold_day(ledger: Ledger, folder: Folder) -> DayRollup:
    """The day's roll-up: ``Ledger.fold`` keeps the dict ``Folder.fresh`` made and ``valid`` checked."""
    data = ledger.fold(path_of(folder.day), folder.day, folder.day, folder.fresh, folder.add, schema=SCHEMA,
                       key=folder.key, valid=valid)
    return cast("DayRollup", data)


@dataclass
class Window:
    """The day roll-ups of [start, end] (UTC dates, inclusive); days without a ledger file are absent."""

    start: date
    end: date
    days: dict[str, DayRollup] = field(default_factory=dict)

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def all_days(self) -> list[str]:
        return [(self.start + timedelta(days=i)).isoformat() for i in range(self.n_days)]

    def sub(self, start: date, end: date) -> Window:
        lo, hi = start.isoformat(), end.isoformat()
        return Window(start, end, {d: v for d, v in self.days.items() if lo <= d <= hi})

    def rows(self) -> Iterator[tuple[str, dict[str, str], list[Any]]]:
        """(day, key parts, cube row with its cost as a ``Decimal``) for every row of every day
        (parsed once per day and kept beside the day's data; not to be modified)."""
        for day, data in self.days.items():
            parsed = data.get(PARSED)
            if parsed is None:
                parsed = data[PARSED] = [(dict(zip(KEY, key.split(SEP), strict=True)),
                                          [*row[:COST], Decimal(row[COST]), *row[COST + 1:]])
                                         for key, row in data["cube"].items()]
            for parts, row in parsed:
                yield day, parts, row

    @property
    def records(self) -> int:
        return sum(int(d["records"]) for d in self.days.values())

    @property
    def skipped(self) -> int:
        return sum(int(d.get("skipped", 0)) for d in self.days.values())


def rollup_days(ledger: Ledger, start: str, end: str) -> list[str]:
    try:
        names = os.listdir(ledger.path("rollups", "daily"))
    except FileNotFoundError:
        return []
    return [n[:10] for n in names if len(n) == 15 and n.endswith(".json") and start <= n[:10] <= end]


def _kept(ledger: Ledger, day: str) -> DayRollup | None:
    """The roll-up of a day whose ledger file is no longer there, when it is sound."""
    try:
        data = store.read_json(ledger.path(path_of(day)))
    except store.StoreError:
        return None
    if not (isinstance(data, dict) and data.get("schema") == SCHEMA and isinstance(data.get("data"), dict)):
        return None
    try:
        ok = valid(data["data"])
    except (TypeError, AttributeError):
        ok = False
    return data["data"] if ok else None


def load(ledger: Ledger, start: date, end: date, thresholds: list[int], simple_below: float,
         complex_from: float, warnings: list[str]) -> Window:
    """The roll-ups of [start, end], caught up with the ledger.  Each day is folded under the
    ledger lock (held for that one day, so hooks wait at most one day's catch-up); when the lock is
    busy (or cannot be taken) the day is folded in memory and not saved."""
    win = Window(start, end)
    days = ledger.record_days(start.isoformat(), end.isoformat())  # archived days are folded from the archive
    for day in sorted(set(rollup_days(ledger, start.isoformat(), end.isoformat())) - set(days)):
        kept = _kept(ledger, day)  # its day file went away (archived): the roll-up is what is left
        if kept is not None:
            win.days[day] = kept
    for day in days:
        folder = Folder(day, thresholds, simple_below, complex_from)
        try:
            with ledger.transaction(wait=LOCK_WAIT):
                data = fold_day(ledger, folder)
        except (store.LockTimeout, OSError):  # busy, or a data dir we may not write: fold in memory
            data = fold_day(ledger, folder)
        win.days[day] = data
    mine = os.path.join("rollups", "daily", "")
    rebuilt = [w for w in ledger.warnings if mine in w]
    for w in ledger.warnings:
        if mine not in w and w not in warnings:
            warnings.append(w)
    if rebuilt:  # one line, not one per day (a new roll-up schema rebuilds them all)
        name = os.path.basename(rebuilt[0].split(": ", 1)[0])
        why = rebuilt[0].split(": ", 1)[-1].removesuffix("; rebuilt from the ledger").removesuffix("; rebuilt from it")
        warnings.append(f"{len(rebuilt)} daily roll-ups rebuilt from the ledger (first {name}: {why})"
                        if len(rebuilt) > 1 else rebuilt[0])
    ledger.warnings.clear()
    return win


def sum_rows(rows: Iterable[list[Any]]) -> list[Any]:
    out = new_row()
    for row in rows:
        add_row(out, row)
    return out
