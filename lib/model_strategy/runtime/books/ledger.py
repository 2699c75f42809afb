"""The ledger: the user's financial record, and the only source of truth.

* ``daily/YYYY-MM-DD.json`` -- JSON Lines, append-only, one record per agent run, agent continuation
  or main-thread slice, filed by the UTC date of the record's ``ts`` (when the usage happened).
  Records carry stable ids (``records.py``); ``commit`` never writes an id, or a request (its key),
  twice -- the key checked against the whole ledger, every day file and archived month.
* Everything else is a cache derived from those files and rebuilt from them whenever it is
  missing, cut, corrupt, of another schema or behind:

  - ``index/YYYY-MM-DD.ids`` -- digests of the ids and request keys in that day's file, followed by
    ``@<offset>``: how far into the day file it has read.  A hook killed between its append and
    the index update leaves the index behind; the next reader catches up from that offset.
  - ``index/keys/<xx>.keys`` -- every request key in the ledger, sharded by its first two hex digits
    (a hook reads only the shards of the keys it checks), with ``key=<counts>`` lines for requests
    read while they streamed (their counts may still grow: ``recorder.commit_corrections``);
    ``index/keys/state.json`` remembers how far into each day file it has folded, the archived months
    folded and each shard's size.  Caught up from those offsets like the rest; rebuilt from the day
    files (their id indexes) and archives when a day file shrank or vanished unarchived, or a shard is
    shorter than recorded or ends in a cut line. ``monthly/YYYY-MM.json`` (``rollup``) remember, per day
    file, the offset they have folded in, and catch up the same way.
  - ``sessions/<id>.json`` -- per-session working state: PreToolUse decisions (joined into records),
    background agent links, how far the main transcript was read.

* Writers take one lock (``archive.lock``).  A recording hook that cannot get it within a short
  wait writes its record to ``spool/`` (one file per record, created atomically) and exits; whoever
  holds the lock next merges the spool (commits are idempotent, so a merge killed half-way is
  simply done again).
* An append never glues onto a cut-off last line: it starts with a newline when the file does not
  end with one.

Standard library only (hot path).
"""

from __future__ import annotations

import os
import time

from model_strategy.runtime.base import clock, fastjson, paths, store
from model_strategy.runtime.base.clock import day_of, iso
from model_strategy.runtime.base.fastjson import loads
from model_strategy.runtime.base.faults import crash_point

from . import records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import date
    from typing import Any

    from .records import Record

LOCK_WAIT = 2.0  # seconds a hook waits for the lock before it spools (hook timeouts are 15-30 s)
SPOOL_MERGE_LIMIT = 400  # spool files merged per transaction (the rest by the next one)
SESSION_KEEP_DECISIONS = 400
INDEX_HEADER = b"#model-strategy ids v1\n"
SESSION_SCHEMA = 2
KEYS_SCHEMA = 1  # index/keys/: the ledger-wide request-key index
KEY_LEN = 20  # records.request_key digests
_HEX = frozenset("0123456789abcdef")


def digest(text: str) -> str:
    return records.request_key(text, "id")


_SHARDS = {a + b: a + b for a in sorted(_HEX) for b in sorted(_HEX)}


def key_shard(key: str) -> str:
    """The shard of the request-key index a key lives in (its first two hex digits)."""
    return _SHARDS.get(key[:2], "xx")


def key_entries(rec: Record | dict[str, Any]) -> list[tuple[str, list[int] | None]]:
    """A record's entries in the request-key index: each request key, with the counts of those that
    may still grow (``partial``) or were corrected (``corrects``)."""
    out: list[tuple[str, list[int] | None]] = [(str(k), None) for k in rec.get("request_keys") or ()]
    for field in ("partial", "corrects"):
        extra = rec.get(field)
        if isinstance(extra, dict):
            out += [(str(k), [int(x) for x in v]) for k, v in extra.items() if isinstance(v, list)]
    return out


def index_entries(rec: Record | dict[str, Any]) -> bytes:
    """A record's lines in its day's index: ``i<id digest>`` and ``k<request key>`` for each request."""
    out = b"i" + digest(rec["id"]).encode() + b"\n"
    for key in rec.get("request_keys") or ():
        out += b"k" + str(key).encode() + b"\n"
    return out


class Ledger:
    def __init__(self, root: str | None = None) -> None:
        self.root = root or paths.data_dir()
        self.warnings: list[str] = []  # problems with our own files (one line each)
        self.notices: list[str] = []  # budget notices for the user
        self._index: dict[str, bytearray] = {}
        self._archive_index: dict[str, dict[str, bytes] | None] = {}  # month -> day -> archived entries
        self._depth = 0
        self._lock: store.locked | None = None
        self._key_shards: dict[str, set[str]] = {}  # the request-key index, shards read so far
        self._key_counts: dict[str, list[int]] = {}  # counts of requests that may still grow
        self._keys_state: dict[str, Any] | None = None
        self._keys_ready = False
        self._keys_fresh = False  # rebuilt in this process: the shard files are not read
        self._keys_dirty = False  # the key index state has offsets not saved yet
        self._shard_pending: dict[str, list[str]] = {}  # shard lines noted, appended when the transaction ends

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

    # ------------------------------------------------------------------ locking

    def transaction(self, wait: float = LOCK_WAIT) -> Ledger:
        """``with ledger.transaction():`` -- the one lock every write happens under; on entry the
        spool is merged.  Raises ``store.LockTimeout`` after ``wait`` seconds.  Re-entrant."""
        self._wait = wait
        return self

    def __enter__(self) -> Ledger:
        if self._depth == 0:
            lock = store.locked(self.path("archive.lock"), timeout=getattr(self, "_wait", LOCK_WAIT))
            lock.__enter__()
            self._lock = lock
            self._depth = 1
            self._index.clear()  # other processes may have appended since
            self._archive_index.clear()  # or archived a month
            self._key_shards.clear()
            self._key_counts.clear()
            self._shard_pending.clear()
            self._keys_dirty = False
            self._keys_ready = False
            self._keys_fresh = False
            try:
                self._migrate_v1_sessions()
                self.merge_spool()
            except BaseException:
                self.__exit__()
                raise
            return self
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._keys_dirty and self._keys_state is not None:
            self._keys_dirty = False
            try:
                self._flush_shards()
                store.atomic_write_json(self._keys_state_path(), self._keys_state)
            except OSError:
                pass  # the next catch-up folds from the offsets saved last
        if self._depth == 0 and self._lock is not None:
            self._lock.__exit__()
            self._lock = None

    @property
    def locked(self) -> bool:
        return self._depth > 0

    def settle(self, wait: float = 5.0) -> None:
        """For commands: merge what hooks parked in the spool before reading (a busy lock is noted)."""
        if not self.spool_names():
            return
        try:
            with self.transaction(wait=wait):
                pass
        except store.LockTimeout:
            self.warnings.append("the ledger is busy; records parked in the spool are not shown yet")

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
        pos = 0
        n = len(data)
        lineno = 0
        while pos < n:
            nl = data.find(b"\n", pos)
            end = n if nl < 0 else nl + 1
            line = data[pos:end]
            lineno += 1
            if line.strip():
                try:
                    obj = loads(line)
                except (ValueError, UnicodeDecodeError):
                    if nl < 0:
                        return  # a line still cut off at the end: not ours to judge yet
                    if errors is not None:
                        errors.append(f"{os.path.basename(path)} at byte {start + pos}: not valid JSON, skipped")
                    pos = end
                    continue
                rec = records.upgrade(obj) if isinstance(obj, dict) else None
                if rec is None:
                    if errors is not None:
                        errors.append(f"{os.path.basename(path)} at byte {start + pos}: not a record, skipped")
                else:
                    yield start + end, rec
            pos = end

    def iter_records(self, start: date | str | None = None, end: date | str | None = None,
                     errors: list[str] | None = None) -> Iterator[Record]:
        """Every record filed on a day in [start, end] (UTC dates), oldest day first."""
        s = start if isinstance(start, str) or start is None else start.isoformat()
        e = end if isinstance(end, str) or end is None else end.isoformat()
        archived = self.archived_months(s, e)
        if archived:  # months moved into archive/YYYY-MM.jsonl.gz are read from there (archive.py)
            from . import archive

            yield from archive.iter_with_archives(self, archived, s, e, errors)
            return
        for day in self.days(s, e):
            for _, rec in self.scan(day, errors=errors):
                yield rec

    # ------------------------------------------------------------------ archived months (archive.py)

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

    def record_days(self, start: str | None = None, end: str | None = None) -> list[str]:
        """The days that hold records, oldest first: day files and the days of archived months."""
        out = set(self.days(start, end))
        months = self.archived_months(start, end)
        if months:
            from . import archive

            for month in months:
                out.update(d for d in archive.month_days(self, month) if (not start or d >= start)
                           and (not end or d <= end))
        return sorted(out)

    def _archived_entry(self, day: str, needle: bytes) -> bool:
        """Whether an id/key entry is in the archive of ``day``'s month (cached per month)."""
        month = day[:7]
        cache = self._archive_index
        if month not in cache:
            if os.path.exists(self.archive_file(month)):
                from . import archive

                cache[month] = archive.month_index(self, month)
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
            from . import archive

            for rec in archive.iter_with_archives(self, [day[:7]], day, day, None):
                if rec["id"] == record_id:
                    return rec
        return None

    def count(self) -> int:
        return sum(1 for _ in self.iter_records())

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
        self._key_shards.clear()
        self._key_counts.clear()
        self._shard_pending.clear()  # not saved: the state on disk is behind them, so they are folded again
        self._keys_dirty = False
        self._keys_ready = False
        self._keys_fresh = False

    def has_id(self, day: str, record_id: str) -> bool:
        needle = b"\ni" + digest(record_id).encode() + b"\n"
        return needle in self.index(day) or self._archived_entry(day, needle)

    def has_key(self, day: str, key: str) -> bool:
        needle = b"\nk" + key.encode() + b"\n"
        return needle in self.index(day) or self._archived_entry(day, needle)

    # ------------------------------------------------------------------ the request-key index (cache)

    def _keys_dir(self) -> str:
        return self.path("index", "keys")

    def _keys_state_path(self) -> str:
        return os.path.join(self._keys_dir(), "state.json")

    def _key_shard_path(self, shard: str) -> str:
        return os.path.join(self._keys_dir(), f"{shard}.keys")

    def _load_shard(self, shard: str) -> set[str]:
        """A shard of the request-key index.  One shorter than the index last wrote it, or ending in a
        cut line, makes the whole index be rebuilt from the ledger (a key it lost could be counted
        again)."""
        cached = self._key_shards.get(shard)
        if cached is not None:
            return cached
        data = b""
        if not self._keys_fresh:
            try:
                with open(self._key_shard_path(shard), "rb") as fh:
                    data = fh.read()
            except FileNotFoundError:
                pass
            state = self._keys_state or {}
            want = (state.get("sizes") or {}).get(shard, 0)
            if len(data) < want or (data and not data.endswith(b"\n")):
                self.warnings.append("request-key index was cut or damaged; rebuilt from the ledger")
                self._keys_ready = False
                self._keys_catch_up(rebuild=True)
                return self._key_shards.setdefault(shard, set())
        have: set[str] = set()
        for line in data.decode("ascii", "replace").split("\n"):
            if len(line) == KEY_LEN:
                have.add(line)
            elif len(line) > KEY_LEN and line[KEY_LEN] == "=":  # a request's counts while they may grow
                try:
                    values = [int(v) for v in line[KEY_LEN + 1:].split(",")]
                except ValueError:
                    continue
                have.add(line[:KEY_LEN])
                self._merge_counts(line[:KEY_LEN], values)
        self._key_shards[shard] = have
        return have

    def _merge_counts(self, key: str, values: list[int]) -> bool:
        """Keep the largest count of each kind known for a request; True when one grew."""
        old = self._key_counts.get(key)
        if old is None or len(old) != len(values):
            self._key_counts[key] = list(values)
            return True
        grew = False
        for i, v in enumerate(values):
            if v > old[i]:
                old[i] = v
                grew = True
        return grew

    def _take(self, shard: str, entries: list[tuple[str, list[int] | None]]) -> list[str]:
        """Add a record's index entries to a loaded shard; the lines that add something new."""
        have = self._load_shard(shard)
        out: list[str] = []
        for key, values in entries:
            fresh = key not in have
            have.add(key)
            if values is not None:
                if self._merge_counts(key, values) or fresh:
                    out.append(f"{key}={','.join(str(v) for v in values)}")
            elif fresh:
                out.append(key)
        return out

    def stored_counts(self, key: str) -> list[int] | None:
        """The counts stored for a request whose response was still streaming when recorded (None: the
        ledger holds its complete counts, or not the request)."""
        self._keys_catch_up()
        self._load_shard(key_shard(key))
        return self._key_counts.get(key)

    def _shard_append(self, state: dict[str, Any], shard: str, lines: list[str]) -> None:
        """Append entries to a shard file and remember its new size (lock held)."""
        size = store.append_bytes(self._key_shard_path(shard), ("\n".join(lines) + "\n").encode("ascii", "replace"))
        state.setdefault("sizes", {})[shard] = size

    def _keys_rebuild_state(self) -> dict[str, Any]:
        """Start the key index over (lock held: its files are removed; else in memory only)."""
        if self.locked:
            try:
                names = os.listdir(self._keys_dir())
            except FileNotFoundError:
                names = []
            for name in names:
                if name.endswith(".keys"):
                    os.unlink(os.path.join(self._keys_dir(), name))
        self._key_shards = {}
        self._key_counts = {}
        self._shard_pending = {}  # the rebuild folds those records from the day files again
        self._keys_fresh = True  # every key comes from the ledger now, none from the old files
        return {"schema": KEYS_SCHEMA, "days": {}, "months": [], "sizes": {}}

    def _keys_catch_up(self, rebuild: bool = False) -> None:
        """Bring the ledger-wide request-key index up to date with the day files and archives: each
        day file is folded from the offset the index has reached (``state.json``), archived months
        whole; rebuilt from scratch when a day file shrank or went away without being archived.
        Under the lock what was folded is appended to the shards and the state saved; outside it
        the result is kept in memory only.  Done once per transaction."""
        if self._keys_ready:
            return
        try:
            state = store.read_json(self._keys_state_path())
        except store.StoreError:
            state = None
        ok = (not rebuild and isinstance(state, dict) and state.get("schema") == KEYS_SCHEMA
              and isinstance(state.get("days"), dict) and isinstance(state.get("months"), list)
              and isinstance(state.get("sizes"), dict)
              and all(isinstance(v, int) and not isinstance(v, bool) for v in state["days"].values())
              and all(isinstance(v, int) and not isinstance(v, bool) for v in state["sizes"].values()))
        days = self.days()
        archived = self.archived_months()
        sizes: dict[str, int] = {}
        for day in days:
            try:
                sizes[day] = os.path.getsize(self.day_file(day))
            except FileNotFoundError:
                sizes[day] = 0
        if ok:
            assert isinstance(state, dict)
            for day, done in state["days"].items():
                if day in sizes:
                    if done > sizes[day]:
                        ok = False  # a day file was cut or rewritten: fold everything again
                elif day[:7] not in archived:
                    ok = False  # a day file went away (not into an archive)
            if any(m not in archived for m in state["months"]):
                ok = False
        if not ok:
            if state is not None and not rebuild:
                self.warnings.append("request-key index did not match the ledger; rebuilt from it")
            state = self._keys_rebuild_state()
        assert isinstance(state, dict)
        self._keys_state = state  # the shards are checked against its sizes as they are read
        add: dict[str, list[tuple[str, list[int] | None]]] = {}

        def collect(rec: Any) -> None:
            for key, values in key_entries(rec):
                add.setdefault(key_shard(key), []).append((key, values))

        changed = not ok
        for month in archived:
            if month in state["months"]:
                continue
            from . import archive

            try:
                recs = archive.read_archive(self.archive_file(month))
            except archive.ArchiveError as exc:
                self.warnings.append(str(exc))
                recs = []
            for rec in recs:
                collect(rec)
            state["months"].append(month)
            changed = True
        for day in list(state["days"]):
            if day not in sizes:  # archived: its keys are folded from the archive
                del state["days"][day]
                changed = True
        for day in days:
            done = state["days"].get(day, 0)
            if done >= sizes[day]:
                continue
            start = self._day_keys(day, add) if done == 0 else done  # a whole day: keys from its id index
            end = start
            for end, rec in self.scan(day, start, upto=sizes[day]):  # noqa: B007 - end is used after
                collect(rec)
            if end != done:
                state["days"][day] = end
                changed = True
        for shard, entries in add.items():
            self._load_shard(shard)
            if self._keys_state is not state:  # a damaged shard had the index rebuilt (it holds all of these)
                return
            new = self._take(shard, entries)
            if new and self.locked:
                self._shard_append(state, shard, new)
        if changed and self.locked:
            self._flush_shards()
            store.atomic_write_json(self._keys_state_path(), state)
        self._keys_state = state
        self._keys_ready = True

    def _day_keys(self, day: str, add: dict[str, list[tuple[str, list[int] | None]]]) -> int:
        """The request keys of a day file from its id index (caught up, so exactly the keys of its
        records), and the counts of the few records with ``partial``/``corrects`` (parsed); returns the
        offset that covers."""
        idx = self.index(day)
        at = idx.rfind(b"\n@")
        if at < 0:
            return 0
        try:
            covered = int(idx[at + 2:idx.index(b"\n", at + 2)])
        except ValueError:
            return 0
        for line in bytes(idx).split(b"\n"):
            if line[:1] == b"k":
                key = line[1:].decode("ascii", "replace")
                add.setdefault(key_shard(key), []).append((key, None))
        try:
            with open(self.day_file(day), "rb") as fh:
                data = fh.read(covered)
        except FileNotFoundError:
            return 0
        if b'"partial"' in data or b'"corrects"' in data:
            for line in data.split(b"\n"):
                if b'"partial"' in line or b'"corrects"' in line:
                    try:
                        obj = loads(line)
                    except (ValueError, UnicodeDecodeError):
                        continue
                    if isinstance(obj, dict):
                        for key, values in key_entries(obj):
                            if values is not None:
                                add.setdefault(key_shard(key), []).append((key, values))
        return covered

    def has_request(self, key: str) -> bool:
        """Whether a request (its key) is anywhere in the ledger: any day file or archived month."""
        self._keys_catch_up()
        return key in self._load_shard(key_shard(key))

    def keys_archiving(self, month: str) -> None:
        """``archive.archive_month``, its archive written and before it removes the month's day files
        (lock held): the key index folds those day files now and takes the archive as folded, so it
        never reads a month's archive back just because the month was archived."""
        self._keys_ready = False
        self._keys_catch_up()
        state = self._keys_state
        if state is not None and month not in state["months"]:
            state["months"].append(month)
            self._flush_shards()
            store.atomic_write_json(self._keys_state_path(), state)

    def load_key_index(self) -> None:
        """Read every shard of the request-key index (``doctor``): one cut or damaged has the index
        rebuilt, as it would be when a hook first needs it."""
        self._keys_catch_up()
        try:
            names = sorted(os.listdir(self._keys_dir()))
        except FileNotFoundError:
            names = []
        for name in names:
            if name.endswith(".keys"):
                self._load_shard(name[:-5])
        for shard in (self._keys_state or {}).get("sizes") or {}:
            self._load_shard(shard)  # a shard file that went away

    def stored_keys(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` the ledger holds already."""
        self._keys_catch_up()
        return {k for k in keys if k in self._load_shard(key_shard(k))}

    def _keys_note(self, day: str, rec: Record, before: int, end: int) -> None:
        """After an append: the record's keys into the shards, the day's offset into the state (when
        the state had reached the old end of the day file; else the next catch-up folds it)."""
        state = self._keys_state
        if state is None or state["days"].get(day, 0) != before:
            self._keys_ready = False
            return
        by: dict[str, list[tuple[str, list[int] | None]]] = {}
        for key, values in key_entries(rec):
            by.setdefault(key_shard(key), []).append((key, values))
        for shard, entries in by.items():
            self._load_shard(shard)
            if self._keys_state is not state:  # rebuilt meanwhile (a damaged shard): it holds this record
                return
            new = self._take(shard, entries)
            if new:
                self._shard_pending.setdefault(shard, []).extend(new)
        state["days"][day] = end
        self._keys_dirty = True  # shards and state written once, when the transaction ends

    def _flush_shards(self) -> None:
        """Append the shard lines noted since the last flush (before any state that covers them is
        saved: a state never claims keys its shards do not hold)."""
        pending, self._shard_pending = self._shard_pending, {}
        state = self._keys_state
        if state is None:
            return
        for shard, lines in sorted(pending.items()):
            self._shard_append(state, shard, lines)

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
        self._keys_catch_up()
        index = self.index(day)
        try:
            before = os.path.getsize(self.day_file(day))
        except FileNotFoundError:
            before = 0
        end = store.append_jsonl(self.day_file(day), rec)
        crash_point("after-append")
        try:
            self._keys_note(day, rec, before, end)
        except OSError:
            self._keys_ready = False  # the key index catches up from the day file next time
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
        from . import recorder

        done = 0
        for name in names[:limit]:
            path = self.path("spool", name)
            try:
                entry = store.read_json(path)
                if not isinstance(entry, dict) or not isinstance(entry.get("payload"), dict):
                    raise store.StoreError(f"{path}: not a spool entry")
                recorder.apply_spooled(self, str(entry.get("kind")), entry["payload"])
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

    # ------------------------------------------------------------------ session state (cache)

    def session_path(self, session_id: str) -> str:
        return self.path("sessions", f"{paths.safe_id(session_id, 48)}-{digest(session_id)[:10]}.json")

    def session(self, session_id: str, project: str | None) -> dict[str, Any]:
        """The working state of a session (created when new; rebuilt empty when unreadable)."""
        path = self.session_path(session_id)
        state = store.read_json_or_quarantine(path, None, self.warnings)
        if not _valid_session(state):
            if state is not None:
                dest = store.quarantine(path) if os.path.exists(path) else path
                self.warnings.append(f"{path}: unexpected content; kept as {os.path.basename(dest)}, "
                                     "session state restarted (records are safe in the ledger)")
            now = iso(clock.now())
            state = {"schema": SESSION_SCHEMA, "session_id": session_id, "project": project, "started": now,
                     "updated": now, "decisions": {}, "links": {}, "recorded": {}, "main": {}, "notified": []}
        assert isinstance(state, dict)
        state["updated"] = iso(clock.now())
        if project and not state.get("project"):
            state["project"] = project
        out: dict[str, Any] = state
        return out

    def save_session(self, state: dict[str, Any]) -> None:
        decisions = state["decisions"]
        if len(decisions) > SESSION_KEEP_DECISIONS:
            for key in sorted(decisions, key=lambda k: str(decisions[k].get("ts", "")))[:-SESSION_KEEP_DECISIONS]:
                del decisions[key]
        store.atomic_write_json(self.session_path(state["session_id"]), state)

    def _migrate_v1_sessions(self) -> None:
        """Schema 1 kept every session in ``current_session.json``: split it into session files."""
        legacy = self.path("current_session.json")
        if not os.path.exists(legacy):
            return
        try:
            data = store.read_json(legacy)
        except store.StoreError:
            data = None
        sessions = data.get("sessions") if isinstance(data, dict) else None
        for sid, old in (sessions or {}).items():
            if not isinstance(old, dict) or os.path.exists(self.session_path(str(sid))):
                continue
            state = self.session(str(sid), old.get("project") if isinstance(old.get("project"), str) else None)
            for key in ("decisions", "links"):
                if isinstance(old.get(key), dict):
                    state[key] = old[key]
            if isinstance(old.get("recorded"), dict):
                state["recorded"] = {a: (v.get("id") if isinstance(v, dict) else None)
                                     for a, v in old["recorded"].items()}
            main = old.get("main")
            if isinstance(main, dict) and isinstance(main.get("offset"), int):
                state["main"] = {"path": main.get("path"), "offset": main["offset"]}
            self.save_session(state)
        os.replace(legacy, legacy + ".v1-migrated")

    # ------------------------------------------------------------------ derived caches

    def fold(self, name: str, since: str | None, until: str | None, fresh: Callable[[], dict[str, Any]],
             add: Callable[[dict[str, Any], Record], None], schema: int, key: Any = None,
             prune: Callable[[dict[str, Any], str], None] | None = None,
             valid: Callable[[dict[str, Any]], bool | str] | None = None) -> dict[str, Any]:
        """A cache file ``name`` folded from the records of the day files in [since, until]: loaded,
        checked (schema, shape, ``key``, checksum, each day file's offset, then ``valid``, which may
        bring it up to date and answers True, "changed" or False to rebuild), caught up with what was
        appended since, rebuilt from the ledger when it cannot be trusted, and saved when it changed.
        When ``since`` moves forward, ``prune`` drops what fell out of the window."""
        months = self.archived_months(since, until)
        if months:  # archived detail has no offsets to fold by: folded whole, kept per archive version
            from . import archive

            return archive.fold_archived(self, name, since, until, months, fresh, add, schema, key)
        path = self.path(name)
        days = self.days(since, until)
        try:
            data = store.read_json(path)
        except store.StoreError as exc:
            self.warnings.append(f"{str(exc)[:160]}; rebuilt from the ledger")
            data = None
        ok = (isinstance(data, dict) and data.get("schema") == schema and data.get("key") == key
              and isinstance(data.get("covered"), dict) and isinstance(data.get("data"), dict)
              and (data.get("since") or "") <= (since or "") and data.get("crc") == _crc(data))
        changed = False
        if ok and valid is not None:
            try:
                verdict = valid(data["data"])
            except (ValueError, TypeError, KeyError, ArithmeticError, AttributeError):
                verdict = False
            ok = verdict is not False
            changed = verdict == "changed"
        if ok:
            assert isinstance(data, dict)
            if since and data.get("since") != since:
                if prune is None and data.get("since") is not None:
                    ok = False
                else:
                    try:
                        if prune is not None:
                            prune(data["data"], since)
                    except (ValueError, TypeError, KeyError, AttributeError):
                        ok = False
                    data["covered"] = {d: v for d, v in data["covered"].items() if d >= since}
                    data["since"] = since
                    changed = True
            if ok and set(data["covered"]) - set(days):  # a day file went away: start over
                ok = False
        if not ok:
            rekeyed = isinstance(data, dict) and data.get("key") != key  # e.g. another time zone: no damage
            if data is not None and not rekeyed:
                self.warnings.append(f"{path}: of another schema, shape or window; rebuilt from the ledger")
            data = {"schema": schema, "key": key, "since": since, "covered": {}, "data": fresh()}
            changed = True
        assert isinstance(data, dict)
        for attempt in range(2):
            covered = data["covered"]
            target = data["data"]
            try:
                for day in days:
                    done = covered.get(day, 0)
                    if not isinstance(done, int) or isinstance(done, bool):
                        raise ValueError(day)
                    try:
                        size = os.path.getsize(self.day_file(day))
                    except FileNotFoundError:
                        size = 0
                    if size == done:
                        continue
                    if size < done:
                        raise ValueError(day)  # cut or rewritten: fold again from scratch
                    end = done
                    for end, rec in self.scan(day, done, upto=size):  # noqa: B007 - end is used after
                        add(target, rec)
                    if end != done:
                        covered[day] = end
                        changed = True
                break
            except (ValueError, TypeError, KeyError, ArithmeticError, AttributeError):
                if attempt:
                    raise
                self.warnings.append(f"{path}: did not match the ledger; rebuilt from it")
                data = {"schema": schema, "key": key, "since": since, "covered": {}, "data": fresh()}
                changed = True
        if changed:  # a consistent snapshot (offsets match content), so saving needs no lock
            data["crc"] = _crc(data)
            try:
                store.atomic_write_json(path, data)
            except store.LinkRefused as exc:  # a cache: the answer stands, the file is left alone
                self.warnings.append(f"{exc}; {name} is not saved")
            except OSError as exc:
                if self.locked:
                    raise
                self.warnings.append(f"could not save {path} ({exc.strerror}); it is rebuilt next time")
        result: dict[str, Any] = data["data"]
        return result

    def rollup(self, month: str) -> dict[str, Any]:
        """The roll-up of a month (``YYYY-MM``): totals by model, agent type, day and project."""
        if self.archived_months(month, month) or (not self.days(f"{month}-01", f"{month}-31")
                                                  and os.path.exists(self.path("monthly", f"{month}.json"))):
            from . import archive

            kept = archive.kept_rollup(self, month)  # detail moved to archive/: the roll-up is kept from there
            if kept is not None:
                return kept

        def fresh() -> dict[str, Any]:
            return rollup_fresh(month)

        return self.fold(os.path.join("monthly", f"{month}.json"), f"{month}-01", f"{month}-31",
                         fresh, rollup_add, schema=records.SCHEMA, key=month)

    def monthly(self, month: str) -> dict[str, Any] | None:
        data = self.rollup(month)
        return data if data.get("total") else None


def rollup_fresh(month: str) -> dict[str, Any]:
    return {"month": month, "total": {}, "by_model": {}, "by_agent_type": {}, "by_day": {},
            "by_project": {}, "by_kind": {}}


def rollup_add(data: dict[str, Any], rec: Record) -> None:
    """Fold a record into a month's roll-up; a continuation slice adds its usage, not a record (run)."""
    run = 0 if rec.get("continuation") is True else 1
    add_to_bucket(data["total"], rec, records=run)
    for name, row in rec["models"].items():
        add_to_bucket(data["by_model"].setdefault(name, {}), row, records=run)
    add_to_bucket(data["by_agent_type"].setdefault(rec["agent_type"], {}), rec, records=run)
    add_to_bucket(data["by_day"].setdefault(day_of(rec["ts"]), {}), rec, records=run)
    add_to_bucket(data["by_project"].setdefault(rec.get("project") or "(none)", {}), rec, records=run)
    add_to_bucket(data["by_kind"].setdefault(rec["kind"], {}), rec, records=run)


def add_to_bucket(bucket: dict[str, Any], row: Any, records: int | None = None) -> None:
    """Add a record (or a per-model row) into a roll-up bucket; money stays Decimal-as-string."""
    from decimal import Decimal

    from model_strategy.runtime.base.kinds import RECORD_KINDS

    bucket["cost_usd"] = str(Decimal(bucket.get("cost_usd", "0")) + Decimal(row.get("cost_usd") or "0"))
    bucket["records"] = bucket.get("records", 0) + (records if records is not None else 1)
    bucket["requests"] = bucket.get("requests", 0) + int(row.get("requests", 0))
    unpriced = row.get("unpriced_requests")
    if unpriced is None and row.get("priced") is False:
        unpriced = row.get("requests", 0)
    bucket["unpriced_requests"] = bucket.get("unpriced_requests", 0) + int(unpriced or 0)
    tokens = bucket.setdefault("tokens", {})
    src = row.get("tokens", row)
    for kind in RECORD_KINDS:
        tokens[kind] = tokens.get(kind, 0) + int(src.get(kind, 0))


def _crc(cache: dict[str, Any]) -> int:
    """A checksum over a cache's offsets and content: one edited or damaged into other values (still
    valid JSON) is rebuilt from the ledger instead of being trusted."""
    import zlib

    body = {"covered": cache.get("covered"), "data": cache.get("data"), "since": cache.get("since")}
    return zlib.crc32(fastjson.encode(body))


def _valid_session(state: Any) -> bool:
    return (isinstance(state, dict) and state.get("schema") == SESSION_SCHEMA
            and isinstance(state.get("session_id"), str)
            and all(isinstance(state.get(k), dict) for k in ("decisions", "links", "recorded", "main"))
            and isinstance(state.get("notified", []), list))
