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
from model_strategy.runtime.base.fastjson import encode, loads

from . import records
from .ledger import Ledger, rollup_add, rollup_fresh

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from model_strategy.runtime.settings.values import Config

    from .records import Record

DEFAULT_RETENTION_DAYS = 90
STAMP = "last-run.json"
ROLLUP_KEY = "{month}@archive"
_CACHE: dict[str, tuple[tuple[int, int, int], list[Record]]] = {}


class ArchiveError(ValueError):
    """An archive file that cannot be read (one line naming it)."""


def has_archive(ledger: Ledger, month: str) -> bool:
    return os.path.exists(ledger.archive_file(month))


def month_end(month: str) -> date:
    y, m = int(month[:4]), int(month[5:7])
    first_next = date(y + (m == 12), m % 12 + 1, 1)
    return first_next - timedelta(days=1)


def read_archive(path: str) -> list[Record]:
    """The records of an archive file (cached per file version).  Raises ``ArchiveError``."""
    import gzip
    import zlib

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return []
    sig = (st.st_size, st.st_mtime_ns, st.st_ino)
    hit = _CACHE.get(path)
    if hit is not None and hit[0] == sig:
        return hit[1]
    try:
        with open(path, "rb") as fh:
            data = gzip.decompress(fh.read())
    except (OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"{path}: not a readable gzip archive ({str(exc).splitlines()[0][:80]})") from None
    out: list[Record] = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except (ValueError, UnicodeDecodeError):
            raise ArchiveError(f"{path}: line {n} is not valid JSON") from None
        rec = records.upgrade(obj) if isinstance(obj, dict) else None
        if rec is None:
            raise ArchiveError(f"{path}: line {n} is not a record")
        out.append(rec)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[path] = (sig, out)
    return out


def _month_records(ledger: Ledger, month: str, s: str | None, e: str | None,
                   errors: list[str] | None) -> list[Record]:
    """A month's records: the archive, then day-file records whose id it lacks (a run killed before
    it removed them, or records committed after), each id once, by day."""
    try:
        recs = list(read_archive(ledger.archive_file(month)))
    except ArchiveError as exc:
        if errors is not None:
            errors.append(str(exc))
        recs = []
    seen = {r["id"] for r in recs}
    for day in ledger.days(f"{month}-01", f"{month}-31"):
        for _, rec in ledger.scan(day, errors=errors):
            if rec["id"] not in seen:
                seen.add(rec["id"])
                recs.append(rec)
    recs.sort(key=lambda r: day_of(r["ts"]))
    if s or e:
        recs = [r for r in recs if (not s or day_of(r["ts"]) >= s) and (not e or day_of(r["ts"]) <= e)]
    return recs


def iter_with_archives(ledger: Ledger, archived: list[str], s: str | None, e: str | None,
                       errors: list[str] | None) -> Iterator[Record]:
    """``Ledger.iter_records`` when some months of [s, e] are archived: oldest month first."""
    days = ledger.days(s, e)
    months = sorted(set(archived) | {d[:7] for d in days})
    done = set(archived)
    for month in months:
        if month in done:
            yield from _month_records(ledger, month, s, e, errors)
            continue
        for day in days:
            if day.startswith(month):
                for _, rec in ledger.scan(day, errors=errors):
                    yield rec


def month_days(ledger: Ledger, month: str) -> list[str]:
    """The days an archived month holds records for."""
    try:
        recs = read_archive(ledger.archive_file(month))
    except ArchiveError as exc:
        ledger.warnings.append(str(exc))
        return []
    return sorted({day_of(r["ts"]) for r in recs})


def month_index(ledger: Ledger, month: str) -> dict[str, bytes]:
    """For ``has_id``/``has_key``: per day, the index entries of the month's archived records."""
    from .ledger import digest

    out: dict[str, bytearray] = {}
    try:
        recs = read_archive(ledger.archive_file(month))
    except ArchiveError as exc:
        ledger.warnings.append(str(exc))
        recs = []
    for rec in recs:
        buf = out.setdefault(day_of(rec["ts"]), bytearray(b"\n"))
        buf += b"i" + digest(rec["id"]).encode() + b"\n"
        for key in rec.get("request_keys") or ():
            buf += b"k" + str(key).encode() + b"\n"
    return {d: bytes(b) for d, b in out.items()}


# ------------------------------------------------------------------ roll-ups of archived months


def _rollup_path(ledger: Ledger, month: str) -> str:
    return ledger.path("monthly", f"{month}.json")


def _signature(ledger: Ledger, month: str) -> list[Any]:
    try:
        st = os.stat(ledger.archive_file(month))
        sig: list[Any] = [st.st_size, st.st_mtime_ns]
    except FileNotFoundError:
        sig = [None, None]
    for day in ledger.days(f"{month}-01", f"{month}-31"):
        try:
            sig.append([day, os.path.getsize(ledger.day_file(day))])
        except FileNotFoundError:
            continue
    return sig


def fold_archived(ledger: Ledger, name: str, since: str | None, until: str | None, months: list[str],
                  fresh: Callable[[], dict[str, Any]], add: Callable[[dict[str, Any], Record], None], schema: int,
                  key: Any) -> dict[str, Any]:
    """``Ledger.fold`` over a range that reaches into archived months: the records folded whole, and
    the result kept in ``name`` with the versions of the archives and day files it came from."""
    from .ledger import _crc

    sig = [[m, *_signature(ledger, m)] for m in months]
    sig += [[d, os.path.getsize(ledger.day_file(d))] for d in ledger.days(since, until)
            if os.path.exists(ledger.day_file(d))]
    path = ledger.path(name)
    try:
        doc = store.read_json(path)
    except store.StoreError:
        doc = None
    if (isinstance(doc, dict) and doc.get("schema") == schema and doc.get("key") == key
            and doc.get("archived") == sig and isinstance(doc.get("data"), dict) and doc.get("crc") == _crc(doc)):
        kept: dict[str, Any] = doc["data"]
        return kept
    data = fresh()
    for rec in ledger.iter_records(since, until, ledger.warnings):
        add(data, rec)
    doc = {"schema": schema, "key": key, "since": since, "covered": {}, "archived": sig, "data": data}
    doc["crc"] = _crc(doc)
    try:  # noqa: SIM105 - contextlib is not imported on the hot path
        store.atomic_write_json(path, doc)
    except OSError:
        pass  # folded again next time
    return data


def _save_rollup(ledger: Ledger, month: str, recs: list[Record]) -> dict[str, Any]:
    data = rollup_fresh(month)
    for rec in recs:
        rollup_add(data, rec)
    doc = {"schema": records.SCHEMA, "key": ROLLUP_KEY.format(month=month), "since": f"{month}-01",
           "covered": {}, "archive": _signature(ledger, month), "data": data}
    try:
        store.atomic_write_json(_rollup_path(ledger, month), doc)
    except OSError as exc:
        ledger.warnings.append(f"could not save the roll-up of {month} ({exc.strerror}); rebuilt next time")
    return data


def kept_rollup(ledger: Ledger, month: str) -> dict[str, Any] | None:
    """The roll-up of an archived month (from the archive plus any day files left or added), or of a
    month whose archive the user deleted (the roll-up stays); None for a month that is not archived."""
    try:
        doc = store.read_json(_rollup_path(ledger, month))
    except store.StoreError:
        doc = None
    ours = isinstance(doc, dict) and doc.get("key") == ROLLUP_KEY.format(month=month) \
        and doc.get("schema") == records.SCHEMA and isinstance(doc.get("data"), dict)
    if has_archive(ledger, month):
        if ours and doc["archive"] == _signature(ledger, month):
            kept: dict[str, Any] = doc["data"]
            return kept
        return _save_rollup(ledger, month, _month_records(ledger, month, None, None, ledger.warnings))
    if ours and not ledger.days(f"{month}-01", f"{month}-31"):
        deleted: dict[str, Any] = doc["data"]
        return deleted
    return None


# ------------------------------------------------------------------ archiving


def _fsync_write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, store.FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def archive_month(ledger: Ledger, month: str) -> dict[str, Any] | None:
    """Merge a month's day files into its archive and remove them (inside a transaction).  None when
    the month has no day files.  Raises ``ArchiveError`` when the existing archive is unreadable (it
    is then left alone, and so are the day files)."""
    import gzip
    import time

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
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                obj = loads(line)
            except (ValueError, UnicodeDecodeError):
                obj = None
            rec = records.upgrade(obj) if isinstance(obj, dict) else None
            if rec is None:
                unreadable.append(line)
            elif rec["id"] not in seen:
                seen.add(rec["id"])
                recs.append(rec)
    recs.sort(key=lambda r: day_of(r["ts"]))
    payload = gzip.compress(b"".join(encode(r) + b"\n" for r in recs), compresslevel=6, mtime=0)
    folder = os.path.dirname(path)
    store.ensure_dir(folder)
    store.refuse_links(path)  # never into a linked archive/ folder, never over a link
    tmp = os.path.join(folder, f".{month}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        _fsync_write(tmp, payload)
        back = read_archive(tmp)
        if [r["id"] for r in back] != [r["id"] for r in recs]:
            raise ArchiveError(f"{tmp}: did not read back with the same records; day files kept")
        os.replace(tmp, path)
    except BaseException:
        try:  # noqa: SIM105
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _CACHE.pop(tmp, None)
    _fsync_dir(folder)
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
    _save_rollup(ledger, month, recs)
    return {"month": month, "records": len(recs), "added": len(recs) - before, "days": len(days),
            "unreadable_lines": len(unreadable), "bytes": len(payload), "file": path}


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def due_months(ledger: Ledger, retention_days: int, today: date | None = None) -> list[str]:
    """Months with day files whose last day is more than ``retention_days`` before today."""
    cutoff = (today or clock.today_utc()) - timedelta(days=retention_days)
    months = sorted({d[:7] for d in ledger.days()})
    return [m for m in months if month_end(m) < cutoff]


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
        time_budget: float | None = None) -> dict[str, Any]:
    """Archive every due month (idempotent).  With ``time_budget`` (seconds) it stops after the month
    that exceeds it and reports ``complete: false``."""
    import time

    start = time.monotonic()
    done: list[dict[str, Any]] = []
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
                _CACHE.pop(ledger.archive_file(m), None)
                gone.append(m)
    return gone


def status(ledger: Ledger, retention_days: int, today: date | None = None) -> dict[str, Any]:
    months = []
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
