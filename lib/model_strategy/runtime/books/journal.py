"""The ledger's write side: one lock, the records committed once, the spool, the session state.

* Writers take one lock (``archive.lock``): ``with ledger.transaction():``.  A recording hook that
  cannot get it within a short wait writes its record to ``spool/`` (one file per record, created
  atomically) and exits; whoever holds the lock next merges the spool (``Ledger.apply_spooled``:
  commits are idempotent, so a merge killed half-way is simply done again).
* ``commit`` never writes an id, or a request (its key), twice -- the key checked against the whole
  ledger, every day file and archived month (``keys.KeyIndex``).
* An append never glues onto a cut-off last line: it starts with a newline when the file does not
  end with one (``store.append_bytes``).

``Journal`` is the ledger as the recorder writes to it; ``ledger.Ledger`` (what everyone opens) adds
the caches folded from it and the appliers of parked writes.  Standard library only (hot path).
"""

from __future__ import annotations

import os
import time

from model_strategy.runtime.base import store
from model_strategy.runtime.base.clock import day_of
from model_strategy.runtime.base.faults import crash_point

from . import archived, sessions
from .dayfiles import DayFiles, digest, index_entries
from .keys import KeyIndex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import date
    from typing import Any, TypeVar

    from .records import Record

    J = TypeVar("J", bound="Journal")

LOCK_WAIT = 2.0  # seconds a hook waits for the lock before it spools (hook timeouts are 15-30 s)
SPOOL_MERGE_LIMIT = 400  # spool files merged per transaction (the rest by the next one)


class Journal(DayFiles):
    def __init__(self, root: str | None = None) -> None:
        super().__init__(root)
        self._archive_index: dict[str, dict[str, bytes] | None] = {}  # month -> day -> archived entries
        self._lock: store.locked | None = None
        self._wait = LOCK_WAIT
        self.keys = KeyIndex(self)

    # ------------------------------------------------------------------ locking

    def transaction(self: J, wait: float = LOCK_WAIT) -> J:
        """``with ledger.transaction():`` -- the one lock every write happens under; on entry the
        spool is merged.  Raises ``store.LockTimeout`` after ``wait`` seconds.  Re-entrant."""
        self._wait = wait
        return self

    def __enter__(self: J) -> J:
        if self._depth == 0:
            lock = store.locked(self.path("archive.lock"), timeout=self._wait)
            lock.__enter__()
            self._lock = lock
            self._depth = 1
            self._index.clear()  # other processes may have appended since
            self._archive_index.clear()  # or archived a month
            self.keys.reset()
            try:
                sessions.migrate_v1(self)
                self.merge_spool()
            except BaseException:
                self.__exit__()
                raise
            return self
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.keys.finish()
        if self._depth == 0 and self._lock is not None:
            self._lock.__exit__()
            self._lock = None

    def settle(self, wait: float = 5.0) -> None:
        """For commands: merge what hooks parked in the spool before reading (a busy lock is noted)."""
        if not self.spool_names():
            return
        try:
            with self.transaction(wait=wait):
                pass
        except store.LockTimeout:
            self.warnings.append("the ledger is busy; records parked in the spool are not shown yet")

    # ------------------------------------------------------------------ reading, archived months included

    def iter_records(self, start: date | str | None = None, end: date | str | None = None,
                     errors: list[str] | None = None) -> Iterator[Record]:
        """Every record filed on a day in [start, end] (UTC dates), oldest day first."""
        s = start if isinstance(start, str) or start is None else start.isoformat()
        e = end if isinstance(end, str) or end is None else end.isoformat()
        months = self.archived_months(s, e)
        if months:  # months moved into archive/YYYY-MM.jsonl.gz are read from there (archived.py)
            yield from archived.iter_with_archives(self, months, s, e, errors)
            return
        for day in self.days(s, e):
            for _, rec in self.scan(day, errors=errors):
                yield rec

    def record_days(self, start: str | None = None, end: str | None = None) -> list[str]:
        """The days that hold records, oldest first: day files and the days of archived months."""
        out = set(self.days(start, end))
        months = self.archived_months(start, end)
        if months:
            for month in months:
                out.update(d for d in archived.month_days(self, month) if (not start or d >= start)
                           and (not end or d <= end))
        return sorted(out)

    def _archived_entry(self, day: str, needle: bytes) -> bool:
        """Whether an id/key entry is in the archive of ``day``'s month (cached per month)."""
        month = day[:7]
        cache = self._archive_index
        if month not in cache:
            if os.path.exists(self.archive_file(month)):
                cache[month] = archived.month_index(self, month)
            else:
                cache[month] = None
        found = cache[month]
        return found is not None and needle in found.get(day, b"")

    def find_record(self, day: str, record_id: str) -> Record | None:
        """The record ``record_id`` filed on ``day`` (its day file, or its month's archive)."""
        for _, rec in self.scan(day):
            if rec["id"] == record_id:
                return rec
        if self.archived_months(day, day):
            for rec in archived.iter_with_archives(self, [day[:7]], day, day, None):
                if rec["id"] == record_id:
                    return rec
        return None

    def count(self) -> int:
        return sum(1 for _ in self.iter_records())


    def forget(self) -> None:
        """Drop the indexes held in memory (they are read again, and caught up, on next use)."""
        super().forget()
        self.keys.reset()

    def has_id(self, day: str, record_id: str) -> bool:
        needle = b"\ni" + digest(record_id).encode() + b"\n"
        return needle in self.index(day) or self._archived_entry(day, needle)

    def has_key(self, day: str, key: str) -> bool:
        needle = b"\nk" + key.encode() + b"\n"
        return needle in self.index(day) or self._archived_entry(day, needle)

    # ------------------------------------------------------------------ the request-key index (keys.py)

    def stored_keys(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` the ledger holds already (any day file, any archived month)."""
        return self.keys.stored(keys)

    def stored_counts(self, key: str) -> list[int] | None:
        """The counts stored for a request whose response was still streaming when recorded (None: the
        ledger holds its complete counts, or not the request)."""
        return self.keys.counts(key)

    def has_request(self, key: str) -> bool:
        return self.keys.has(key)

    def keys_archiving(self, month: str) -> None:
        """``archive.archive_month``, before it removes the month's day files: ``KeyIndex.archiving``."""
        self.keys.archiving(month)

    def load_key_index(self) -> None:
        """Read every shard of the request-key index (``doctor``): ``KeyIndex.load_all``."""
        self.keys.load_all()

    # ------------------------------------------------------------------ writing

    def commit(self, rec: Record) -> bool:
        """Append ``rec`` unless its id is in the ledger already, or one of its requests is (call
        inside ``transaction``).  Writers keep only requests not yet recorded (``stored_keys``):
        a record holding one that is, is refused whole rather than counting it twice."""
        if not self.locked:
            raise RuntimeError("Ledger.commit outside a transaction")
        day = day_of(rec["ts"])
        if self.has_id(day, rec["id"]):
            return False
        keys = rec.get("request_keys") or ()
        if keys and self.stored_keys(keys):
            return False
        self.keys.catch_up()
        index = self.index(day)
        try:
            before = os.path.getsize(self.day_file(day))
        except FileNotFoundError:
            before = 0
        end = store.append_jsonl(self.day_file(day), rec)
        crash_point("after-append")
        try:
            self.keys.note(day, rec, before, end)
        except OSError:
            self.keys.stale()  # the key index catches up from the day file next time
        add = index_entries(rec) + b"@%d\n" % end
        try:  # noqa: SIM105 - contextlib is not imported on the hot path
            store.append_bytes(self._index_path(day), bytes(add))
        except OSError:
            pass  # the index catches up from the day file next time
        crash_point("after-index")
        index += add
        return True

    # ------------------------------------------------------------------ spool

    def spool(self, kind: str, payload: dict[str, Any]) -> str:
        """Park a write for the next lock holder: one file, created atomically (no lock needed)."""
        folder = self.path("spool")
        name = f"{time.time_ns():020d}-{os.getpid()}-{kind}.json"
        store.atomic_write_json(os.path.join(folder, name), {"schema": 1, "kind": kind, "payload": payload})
        return name

    def spool_names(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.path("spool")) if n.endswith(".json") and not n.startswith("."))
        except FileNotFoundError:
            return []

    def merge_spool(self, limit: int = SPOOL_MERGE_LIMIT) -> int:
        """Apply parked writes (inside ``transaction``); each file is removed once applied."""
        names = self.spool_names()
        if not names:
            return 0
        done = 0
        for name in names[:limit]:
            path = self.path("spool", name)
            try:
                entry = store.read_json(path)
                if not isinstance(entry, dict) or not isinstance(entry.get("payload"), dict):
                    raise store.StoreError(f"{path}: not a spool entry")
                self.apply_spooled(str(entry.get("kind")), entry["payload"])
            except FileNotFoundError:
                continue
            except (store.StoreError, KeyError, TypeError, ValueError) as exc:
                dest = store.quarantine(path)
                self.warnings.append(f"spool entry {name} unreadable ({str(exc).splitlines()[0][:80]}); "
                                     f"kept as {os.path.basename(dest)}")
                continue
            try:  # noqa: SIM105
                os.unlink(path)
            except FileNotFoundError:
                pass
            done += 1
        return done


    def apply_spooled(self, kind: str, payload: dict[str, Any]) -> None:
        """Apply one parked write: ``Ledger.apply_spooled`` (the recorder's)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ session state (sessions.py)

    def session_path(self, session_id: str) -> str:
        return sessions.session_path(self, session_id)

    def session(self, session_id: str, project: str | None) -> dict[str, Any]:
        """The working state of a session (created when new; rebuilt empty when unreadable)."""
        return sessions.load(self, session_id, project)

    def save_session(self, state: dict[str, Any]) -> None:
        sessions.save(self, state)
