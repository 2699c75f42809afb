"""The ledger's files as they lie on disk: the day files, their id indexes, the archived months.

* ``daily/YYYY-MM-DD.json`` -- JSON Lines, append-only, one record per agent run, agent continuation
  or main-thread slice, filed by the UTC date of the record's ``ts`` (when the usage happened).
* ``index/YYYY-MM-DD.ids`` -- digests of the ids and request keys in that day's file, followed by
  ``@<offset>``: how far into the day file it has read.  A hook killed between its append and the
  index update leaves the index behind; the next reader catches up from that offset.  Rebuilt when
  cut, corrupt or ahead of its day file.
* ``archive/YYYY-MM.jsonl.gz`` -- the detail of archived months (``archived.py`` reads them,
  ``archive.py`` writes them).

``DayFiles`` is what the lower parts of the ledger (the archive reader, the key index, the session
state) need of it; ``journal.Journal`` adds the lock and the writes, ``ledger.Ledger`` the rest.
Standard library only (hot path).
"""

from __future__ import annotations

import os

from model_strategy.runtime.base import paths, store
from model_strategy.runtime.base.fastjson import NOT_JSON, jsonl

from . import records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .records import Record

INDEX_HEADER = b"#model-strategy ids v1\n"


def digest(text: str) -> str:
    return records.request_key(text, "id")


def index_entries(rec: Record) -> bytes:
    """A record's lines in its day's index: ``i<id digest>`` and ``k<request key>`` for each request."""
    out = b"i" + digest(rec["id"]).encode() + b"\n"
    for key in rec.get("request_keys") or ():
        out += b"k" + str(key).encode() + b"\n"
    return out


class DayFiles:
    def __init__(self, root: str | None = None) -> None:
        self.root = root or paths.data_dir()
        self.warnings: list[str] = []  # problems with our own files (one line each)
        self.notices: list[str] = []  # budget notices for the user
        self._index: dict[str, bytearray] = {}
        self._depth = 0  # transactions entered (journal.Journal): writes need the lock

    @property
    def locked(self) -> bool:
        return self._depth > 0

    # ------------------------------------------------------------------ files

    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    def day_file(self, day: str) -> str:
        return self.path("daily", f"{day}.json")

    def days(self, start: str | None = None, end: str | None = None) -> list[str]:
        """The days that have a ledger file, oldest first (``start``/``end`` inclusive ISO dates)."""
        try:
            names = os.listdir(self.path("daily"))
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if len(name) != 15 or not name.endswith(".json") or name[4] != "-" or name[7] != "-":
                continue
            day = name[:10]
            if (start and day < start) or (end and day > end):
                continue
            out.append(day)
        out.sort()
        return out

    # ------------------------------------------------------------------ reading the ledger

    def scan(self, day: str, start: int = 0, errors: list[str] | None = None,
             upto: int | None = None) -> Iterator[tuple[int, Record]]:
        """``(end offset, record)`` for each record of a day file from byte ``start``.  A last line
        without its newline counts when it parses (the newline was lost); a cut-off one is left."""
        path = self.day_file(day)
        try:
            with open(path, "rb") as fh:
                if start:
                    fh.seek(start)
                data = fh.read() if upto is None else fh.read(max(0, upto - start))
        except FileNotFoundError:
            return
        name = os.path.basename(path)
        for pos, end, obj in jsonl(data):
            if obj is NOT_JSON:
                if data[end - 1:end] != b"\n":
                    return  # a line still cut off at the end: not ours to judge yet
                if errors is not None:
                    errors.append(f"{name} at byte {start + pos}: not valid JSON, skipped")
                continue
            rec = records.upgrade(obj) if isinstance(obj, dict) else None
            if rec is None:
                if errors is not None:
                    errors.append(f"{name} at byte {start + pos}: not a record, skipped")
            else:
                yield start + end, rec

    # ------------------------------------------------------------------ archived months (archived.py)

    def archive_file(self, month: str) -> str:
        return self.path("archive", f"{month}.jsonl.gz")

    def archived_months(self, start: str | None = None, end: str | None = None) -> list[str]:
        """Months (``YYYY-MM``) whose detail lives in ``archive/YYYY-MM.jsonl.gz``, oldest first."""
        try:
            names = os.listdir(self.path("archive"))
        except FileNotFoundError:
            return []
        out = [n[:7] for n in names if len(n) == 16 and n.endswith(".jsonl.gz") and n[4] == "-"]
        return sorted(m for m in out if (not start or m >= start[:7]) and (not end or m <= end[:7]))


    # ------------------------------------------------------------------ the id index (cache)

    def _index_path(self, day: str) -> str:
        return self.path("index", f"{day}.ids")

    def index(self, day: str) -> bytearray:
        """The caught-up index of a day: ``\\n<entry>\\n`` for every id digest (``i…``) and request
        key (``k…``) in that day's file.  Rebuilt when cut, corrupt or ahead of the day file."""
        cached = self._index.get(day)
        if cached is not None:
            return cached
        path = self._index_path(day)
        try:
            size = os.path.getsize(self.day_file(day))
        except FileNotFoundError:
            size = 0
        try:
            with open(path, "rb") as fh:
                data = bytearray(fh.read())
        except FileNotFoundError:
            data = bytearray()
        covered = -1
        if data.startswith(INDEX_HEADER) and data.endswith(b"\n"):
            at = data.rfind(b"\n@", 0, len(data) - 1)
            if at >= 0:
                try:
                    covered = int(data[at + 2:-1])
                except ValueError:
                    covered = -1
        if covered < 0 or covered > size:
            if data:
                self.warnings.append(f"index of {day} was {'ahead of its day file' if covered > size else 'damaged'};"
                                     " rebuilt from the ledger")
            data = bytearray(INDEX_HEADER + b"@0\n")
            covered = 0
            rewrite = True
        else:
            rewrite = False
        if covered < size:
            add = bytearray()
            end = covered
            for end, rec in self.scan(day, covered, upto=size):  # noqa: B007 - end is used after
                add += index_entries(rec)
            if end != covered:
                add += b"@%d\n" % end
                data += add
                if not rewrite and self.locked:
                    store.append_bytes(path, bytes(add))
        if rewrite and self.locked:
            store.atomic_write_bytes(path, bytes(data))
        self._index[day] = data
        return data

    def forget(self) -> None:
        """Drop the indexes held in memory (they are read again, and caught up, on next use)."""
        self._index.clear()
