"""Retention: old daily detail moves into compressed monthly archives; nothing is lost.

* A month whose last day is more than ``retention_days`` (config, default 90) before today is
  *archived*: its records -- from the day files, merged with what an earlier run archived -- are
  written to ``archive/YYYY-MM.jsonl.gz`` (gzip of the same JSON lines, one record per id, by day),
  then the day files and their id indexes are removed.  The month's roll-up
  (``monthly/YYYY-MM.json``) is rebuilt from the archive and stays, even when the user deletes the
  archive itself (``model-strategy archive --delete-archived-before YYYY-MM``; only then is detail
  ever deleted).  Lines of a day file that are not records are kept verbatim in
  ``archive/YYYY-MM.unreadable.jsonl``.
* Crash safety.  The archive is written to a temp file, fsynced, read back and checked to hold
  exactly the expected ids *before* ``os.replace`` puts it in place; only then are the day files
  removed.  A run killed at any point leaves either the old state, or the new archive *and* (some
  of) the day files.  Readers treat that second state correctly -- ``Ledger.iter_records`` yields a
  day-file record only when its id is not in the month's archive, and ``has_id``/``has_key`` look
  into the archive too -- and the next run merges again (idempotent) and removes the rest.
* Everything happens under the ledger's lock, so it is safe from any hook or command.  SessionStart
  calls ``maybe_run`` -- at most one real run a day (a date stamp), and a cheap directory listing
  when nothing is due.

Standard library only (runs from a hook).
"""

from __future__ import annotations

import os
from datetime import date, timedelta

from model_strategy.runtime.base import clock, store
from model_strategy.runtime.base.clock import day_of
from model_strategy.runtime.base.fastjson import encode, jsonl

from . import records
from .archived import ArchiveError, read_archive, uncache
from .folds import kept_rollup, save_rollup
from .ledger import Ledger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypedDict

    from model_strategy.runtime.settings.values import Config

    class MonthArchived(TypedDict):
        month: str
        records: int  # in the archive now
        added: int  # of them, new to it
        days: int  # day files merged (and removed)
        unreadable_lines: int  # kept verbatim in archive/YYYY-MM.unreadable.jsonl
        bytes: int
        file: str

    class ArchiveRun(TypedDict):
        archived: list[MonthArchived]
        problems: list[str]  # one line each: a month left as day files
        complete: bool  # False: stopped at the time budget (the rest next time)
        retention_days: int

    class ArchiveFile(TypedDict):
        month: str
        bytes: int
        file: str

    class ArchiveStatus(TypedDict):
        retention_days: int
        archived: list[ArchiveFile]
        due: list[str]  # months due for archiving
        day_files: int
        oldest_day_file: str | None
        last_run: str | None  # the day of the last complete run


DEFAULT_RETENTION_DAYS = 90
STAMP = "last-run.json"


# ------------------------------------------------------------------ archiving


def archive_month(ledger: Ledger, month: str) -> MonthArchived | None:
    """Merge a month's day files into its archive and remove them (inside a transaction).  None when
    the month has no day files.  Raises ``ArchiveError`` when the existing archive is unreadable (it
    is then left alone, and so are the day files)."""
    import gzip

    if not ledger.locked:
        raise RuntimeError("archive_month outside a transaction")
    days = ledger.days(f"{month}-01", f"{month}-31")
    if not days:
        return None
    path = ledger.archive_file(month)
    recs = list(read_archive(path))
    seen = {r["id"] for r in recs}
    before = len(recs)
    unreadable: list[bytes] = []
    for day in days:
        try:
            with open(ledger.day_file(day), "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            continue
        for pos, end, obj in jsonl(data):
            rec = records.upgrade(obj) if isinstance(obj, dict) else None
            if rec is None:
                unreadable.append(data[pos:end].removesuffix(b"\n").removesuffix(b"\r"))
            elif rec["id"] not in seen:
                seen.add(rec["id"])
                recs.append(rec)
    recs.sort(key=lambda r: day_of(r["ts"]))
    payload = gzip.compress(b"".join(encode(r) + b"\n" for r in recs), compresslevel=6, mtime=0)

    def same_records(tmp: str) -> None:
        try:
            back = read_archive(tmp)
        finally:
            uncache(tmp)
        if [r["id"] for r in back] != [r["id"] for r in recs]:
            raise ArchiveError(f"{tmp}: did not read back with the same records; day files kept")

    store.atomic_write_bytes(path, payload, durable=True, check=same_records)  # never over a link
    if unreadable:
        store.append_bytes(ledger.path("archive", f"{month}.unreadable.jsonl"), b"\n".join(unreadable) + b"\n")
    ledger.keys_archiving(month)  # the request-key index holds these days' keys: no re-read of the archive
    for day in days:
        for victim in (ledger.day_file(day), ledger.path("index", f"{day}.ids")):
            try:  # noqa: SIM105
                os.unlink(victim)
            except FileNotFoundError:
                pass
    ledger._index.clear()
    ledger._archive_index.pop(month, None)
    save_rollup(ledger, month, recs)
    return {"month": month, "records": len(recs), "added": len(recs) - before, "days": len(days),
            "unreadable_lines": len(unreadable), "bytes": len(payload), "file": path}


def due_months(ledger: Ledger, retention_days: int, today: date | None = None) -> list[str]:
    """Months with day files whose last day is more than ``retention_days`` before today."""
    cutoff = (today or clock.today_utc()) - timedelta(days=retention_days)
    months = sorted({d[:7] for d in ledger.days()})
    return [m for m in months if clock.period_days("month", date.fromisoformat(f"{m}-01"))[1] <= cutoff]


def _clean_temps(ledger: Ledger) -> None:
    try:
        names = os.listdir(ledger.path("archive"))
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith(".") and name.endswith(".tmp"):
            try:  # noqa: SIM105
                os.unlink(ledger.path("archive", name))
            except FileNotFoundError:
                pass


def run(ledger: Ledger, retention_days: int, today: date | None = None, wait: float = 30.0,
        time_budget: float | None = None) -> ArchiveRun:
    """Archive every due month (idempotent).  With ``time_budget`` (seconds) it stops after the month
    that exceeds it and reports ``complete: false``."""
    import time

    start = time.monotonic()
    done: list[MonthArchived] = []
    problems: list[str] = []
    complete = True
    with ledger.transaction(wait=wait):
        _clean_temps(ledger)
        for month in due_months(ledger, retention_days, today):
            if time_budget is not None and time.monotonic() - start > time_budget:
                complete = False
                break
            try:
                out = archive_month(ledger, month)
            except ArchiveError as exc:
                problems.append(f"{exc}; {month} left as day files")
                continue
            if out:
                done.append(out)
        if complete:
            stamp = {"schema": 1, "day": (today or clock.today_utc()).isoformat()}
            store.atomic_write_json(ledger.path("archive", STAMP), stamp)
    return {"archived": done, "problems": problems, "complete": complete, "retention_days": retention_days}


def maybe_run(ledger: Ledger, cfg: Config, today: date | None = None) -> list[str]:
    """The opportunistic run (SessionStart): at most once a day, cheap when nothing is due, never
    waits long for the lock.  Returns one-line messages for the user (problems only)."""
    day = (today or clock.today_utc()).isoformat()
    try:
        stamp = store.read_json(ledger.path("archive", STAMP))
    except store.StoreError:
        stamp = None
    if isinstance(stamp, dict) and stamp.get("day") == day:
        return []
    retention = retention_of(cfg)
    if not due_months(ledger, retention, today):
        store.atomic_write_json(ledger.path("archive", STAMP), {"schema": 1, "day": day})
        return []
    try:
        out = run(ledger, retention, today, wait=0.5, time_budget=3.0)
    except store.LockTimeout:
        return []
    return [*out["problems"]]


def retention_of(cfg: Config) -> int:
    value = cfg.get("retention_days", DEFAULT_RETENTION_DAYS)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else DEFAULT_RETENTION_DAYS


def delete_before(ledger: Ledger, month: str) -> list[str]:
    """Delete the archive files of months before ``month`` (the user asked; roll-ups stay)."""
    gone = []
    with ledger.transaction(wait=30.0):
        for m in ledger.archived_months():
            if m < month:
                kept_rollup(ledger, m)  # make sure the roll-up is saved before its detail goes
                os.unlink(ledger.archive_file(m))
                uncache(ledger.archive_file(m))
                gone.append(m)
    return gone


def status(ledger: Ledger, retention_days: int, today: date | None = None) -> ArchiveStatus:
    months: list[ArchiveFile] = []
    for m in ledger.archived_months():
        try:
            size = os.path.getsize(ledger.archive_file(m))
        except FileNotFoundError:
            continue
        months.append({"month": m, "bytes": size, "file": ledger.archive_file(m)})
    try:
        stamp = store.read_json(ledger.path("archive", STAMP))
    except store.StoreError:
        stamp = None
    days = ledger.days()
    return {"retention_days": retention_days, "archived": months, "due": due_months(ledger, retention_days, today),
            "day_files": len(days), "oldest_day_file": days[0] if days else None,
            "last_run": stamp.get("day") if isinstance(stamp, dict) else None}
