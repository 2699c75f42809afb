"""Reading archived months: ``archive/YYYY-MM.jsonl.gz`` (written by ``archive.py``, retention).

A month's records are its archive's, then the day-file records whose id the archive lacks (a run
killed before it removed them, or records committed after): each id once, by day.  Archives are
read whole and cached per file version (size, mtime, inode).  Standard library only (hot path:
the ledger reads here only when a month is archived).
"""

from __future__ import annotations

import os

from model_strategy.runtime.base.clock import day_of
from model_strategy.runtime.base.fastjson import NOT_JSON, jsonl

from . import records
from .dayfiles import index_entries

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .dayfiles import DayFiles
    from .records import Record

_CACHE: dict[str, tuple[tuple[int, int, int], list[Record]]] = {}


class ArchiveError(ValueError):
    """An archive file that cannot be read (one line naming it)."""


def has_archive(files: DayFiles, month: str) -> bool:
    return os.path.exists(files.archive_file(month))


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
    for pos, _, obj in jsonl(data):
        rec = records.upgrade(obj) if isinstance(obj, dict) else None
        if rec is None:
            n = data.count(b"\n", 0, pos) + 1
            raise ArchiveError(f"{path}: line {n} is {'not valid JSON' if obj is NOT_JSON else 'not a record'}")
        out.append(rec)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[path] = (sig, out)
    return out


def uncache(path: str) -> None:
    """Forget what was read from ``path`` (a temp file read back, an archive deleted)."""
    _CACHE.pop(path, None)


def month_records(files: DayFiles, month: str, s: str | None, e: str | None,
                   errors: list[str] | None) -> list[Record]:
    """A month's records: the archive, then day-file records whose id it lacks (a run killed before
    it removed them, or records committed after), each id once, by day."""
    try:
        recs = list(read_archive(files.archive_file(month)))
    except ArchiveError as exc:
        if errors is not None:
            errors.append(str(exc))
        recs = []
    seen = {r["id"] for r in recs}
    for day in files.days(f"{month}-01", f"{month}-31"):
        for _, rec in files.scan(day, errors=errors):
            if rec["id"] not in seen:
                seen.add(rec["id"])
                recs.append(rec)
    recs.sort(key=lambda r: day_of(r["ts"]))
    if s or e:
        recs = [r for r in recs if (not s or day_of(r["ts"]) >= s) and (not e or day_of(r["ts"]) <= e)]
    return recs


def iter_with_archives(files: DayFiles, archived: list[str], s: str | None, e: str | None,
                       errors: list[str] | None) -> Iterator[Record]:
    """``Journal.iter_records`` when some months of [s, e] are archived: oldest month first."""
    days = files.days(s, e)
    months = sorted(set(archived) | {d[:7] for d in days})
    done = set(archived)
    for month in months:
        if month in done:
            yield from month_records(files, month, s, e, errors)
            continue
        for day in days:
            if day.startswith(month):
                for _, rec in files.scan(day, errors=errors):
                    yield rec


def month_days(files: DayFiles, month: str) -> list[str]:
    """The days an archived month holds records for."""
    try:
        recs = read_archive(files.archive_file(month))
    except ArchiveError as exc:
        files.warnings.append(str(exc))
        return []
    return sorted({day_of(r["ts"]) for r in recs})


def month_index(files: DayFiles, month: str) -> dict[str, bytes]:
    """For ``has_id``/``has_key``: per day, the index entries of the month's archived records."""
    out: dict[str, bytearray] = {}
    try:
        recs = read_archive(files.archive_file(month))
    except ArchiveError as exc:
        files.warnings.append(str(exc))
        recs = []
    for rec in recs:
        buf = out.setdefault(day_of(rec["ts"]), bytearray(b"\n"))
        buf += index_entries(rec)
    return {d: bytes(b) for d, b in out.items()}
