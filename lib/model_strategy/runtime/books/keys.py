"""The ledger-wide request-key index: ``index/keys/``, a cache of every request key in the ledger.

Every request key in the ledger, sharded by its first two hex digits (``<xx>.keys``: a hook reads
only the shards of the keys it checks), with ``key=<counts>`` lines for requests read while they
streamed (their counts may still grow: ``recorder.commit_corrections``).  ``state.json`` remembers
how far into each day file it has folded, the archived months folded and each shard's size.  Caught
up from those offsets like the other caches; rebuilt from the day files (their id indexes) and
archives when a day file shrank or vanished unarchived, or a shard is shorter than recorded or ends
in a cut line (a key it lost could be counted again).

Standard library only (hot path).
"""

from __future__ import annotations

import os

from model_strategy.runtime.base import store
from model_strategy.runtime.base.fastjson import jsonl

from . import archived

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, TypedDict

    from .dayfiles import DayFiles
    from .records import Record

    #: a record's entries in the index: each request key, with its counts when they may still grow
    Entries = list[tuple[str, list[int] | None]]

    class KeysState(TypedDict):
        """``index/keys/state.json``."""
        schema: int
        days: dict[str, int]  # day -> offset of its day file folded in
        months: list[str]  # archived months folded in
        sizes: dict[str, int]  # shard -> its file's size as last written

KEYS_SCHEMA = 1  # index/keys/: the ledger-wide request-key index
KEY_LEN = 20  # records.request_key digests
_HEX = frozenset("0123456789abcdef")
_SHARDS = {a + b: a + b for a in sorted(_HEX) for b in sorted(_HEX)}



def key_shard(key: str) -> str:
    """The shard of the request-key index a key lives in (its first two hex digits)."""
    return _SHARDS.get(key[:2], "xx")


def key_entries(rec: Record) -> Entries:
    """A record's entries in the request-key index: each request key, with the counts of those that
    may still grow (``partial``) or were corrected (``corrects``)."""
    out: Entries = [(str(k), None) for k in rec.get("request_keys") or ()]
    for field in ("partial", "corrects"):
        extra = rec.get(field)
        if isinstance(extra, dict):
            out += [(str(k), [int(x) for x in v]) for k, v in extra.items() if isinstance(v, list)]
    return out


class KeyIndex:
    """The request-key index of the ledger ``files`` (one per ``Ledger``; its caches live as long as
    a transaction: ``reset`` when one starts, ``finish`` when it ends)."""

    def __init__(self, files: DayFiles) -> None:
        self.files = files
        self.dir = files.path("index", "keys")
        self._shards: dict[str, set[str]] = {}  # shards read so far
        self._counts: dict[str, list[int]] = {}  # counts of requests that may still grow
        self.state: KeysState | None = None
        self._ready = False
        self._fresh = False  # rebuilt in this process: the shard files are not read
        self._dirty = False  # the state has offsets not saved yet
        self._pending: dict[str, list[str]] = {}  # shard lines noted, appended when the transaction ends

    def reset(self) -> None:
        """Drop what is held in memory (read again, and caught up, on next use); lines noted and not
        saved are dropped too (the state on disk is behind them, so they are folded again)."""
        self._shards.clear()
        self._counts.clear()
        self._pending.clear()
        self._dirty = False
        self._ready = False
        self._fresh = False

    def finish(self) -> None:
        """At the end of a transaction: append the lines noted and save the state (lock held)."""
        if self._dirty and self.state is not None:
            self._dirty = False
            try:
                self.flush()
                store.atomic_write_json(self._state_path(), self.state)
            except OSError:
                pass  # the next catch-up folds from the offsets saved last

    def stale(self) -> None:
        """An append the index did not note: it catches up from the day file next time."""
        self._ready = False

    def _state_path(self) -> str:
        return os.path.join(self.dir, "state.json")

    def _shard_path(self, shard: str) -> str:
        return os.path.join(self.dir, f"{shard}.keys")

    def load_shard(self, shard: str) -> set[str]:
        """A shard of the request-key index.  One shorter than the index last wrote it, or ending in a
        cut line, makes the whole index be rebuilt from the ledger (a key it lost could be counted
        again)."""
        cached = self._shards.get(shard)
        if cached is not None:
            return cached
        data = b""
        if not self._fresh:
            try:
                with open(self._shard_path(shard), "rb") as fh:
                    data = fh.read()
            except FileNotFoundError:
                pass
            want = (self.state["sizes"] if self.state else {}).get(shard, 0)
            if len(data) < want or (data and not data.endswith(b"\n")):
                self.files.warnings.append("request-key index was cut or damaged; rebuilt from the ledger")
                self._ready = False
                self.catch_up(rebuild=True)
                return self._shards.setdefault(shard, set())
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
        self._shards[shard] = have
        return have

    def _merge_counts(self, key: str, values: list[int]) -> bool:
        """Keep the largest count of each kind known for a request; True when one grew."""
        old = self._counts.get(key)
        if old is None or len(old) != len(values):
            self._counts[key] = list(values)
            return True
        grew = False
        for i, v in enumerate(values):
            if v > old[i]:
                old[i] = v
                grew = True
        return grew

    def _take(self, shard: str, entries: Entries) -> list[str]:
        """Add a record's index entries to a loaded shard; the lines that add something new."""
        have = self.load_shard(shard)
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

    def counts(self, key: str) -> list[int] | None:
        """The counts stored for a request whose response was still streaming when recorded (None: the
        ledger holds its complete counts, or not the request)."""
        self.catch_up()
        self.load_shard(key_shard(key))
        return self._counts.get(key)

    def _shard_append(self, state: KeysState, shard: str, lines: list[str]) -> None:
        """Append entries to a shard file and remember its new size (lock held)."""
        size = store.append_bytes(self._shard_path(shard), ("\n".join(lines) + "\n").encode("ascii", "replace"))
        state["sizes"][shard] = size

    def _rebuild_state(self) -> KeysState:
        """Start the key index over (lock held: its files are removed; else in memory only)."""
        if self.files.locked:
            try:
                names = os.listdir(self.dir)
            except FileNotFoundError:
                names = []
            for name in names:
                if name.endswith(".keys"):
                    os.unlink(os.path.join(self.dir, name))
        self._shards = {}
        self._counts = {}
        self._pending = {}  # the rebuild folds those records from the day files again
        self._fresh = True  # every key comes from the ledger now, none from the old files
        return {"schema": KEYS_SCHEMA, "days": {}, "months": [], "sizes": {}}

    def catch_up(self, rebuild: bool = False) -> None:
        """Bring the ledger-wide request-key index up to date with the day files and archives: each
        day file is folded from the offset the index has reached (``state.json``), archived months
        whole; rebuilt from scratch when a day file shrank or went away without being archived.
        Under the lock what was folded is appended to the shards and the state saved; outside it
        the result is kept in memory only.  Done once per transaction."""
        if self._ready:
            return
        state: Any
        try:
            state = store.read_json(self._state_path())
        except store.StoreError:
            state = None
        ok = (not rebuild and isinstance(state, dict) and state.get("schema") == KEYS_SCHEMA
              and isinstance(state.get("days"), dict) and isinstance(state.get("months"), list)
              and isinstance(state.get("sizes"), dict)
              and all(isinstance(v, int) and not isinstance(v, bool) for v in state["days"].values())
              and all(isinstance(v, int) and not isinstance(v, bool) for v in state["sizes"].values()))
        days = self.files.days()
        months = self.files.archived_months()
        sizes: dict[str, int] = {}
        for day in days:
            try:
                sizes[day] = os.path.getsize(self.files.day_file(day))
            except FileNotFoundError:
                sizes[day] = 0
        if ok:
            assert isinstance(state, dict)
            for day, done in state["days"].items():
                if day in sizes:
                    if done > sizes[day]:
                        ok = False  # a day file was cut or rewritten: fold everything again
                elif day[:7] not in months:
                    ok = False  # a day file went away (not into an archive)
            if any(m not in months for m in state["months"]):
                ok = False
        if not ok:
            if state is not None and not rebuild:
                self.files.warnings.append("request-key index did not match the ledger; rebuilt from it")
            state = self._rebuild_state()
        self.state = state  # the shards are checked against its sizes as they are read
        add: dict[str, Entries] = {}

        def collect(rec: Record) -> None:
            for key, values in key_entries(rec):
                add.setdefault(key_shard(key), []).append((key, values))

        changed = not ok
        for month in months:
            if month in state["months"]:
                continue
            try:
                recs = archived.read_archive(self.files.archive_file(month))
            except archived.ArchiveError as exc:
                self.files.warnings.append(str(exc))
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
            for end, rec in self.files.scan(day, start, upto=sizes[day]):  # noqa: B007 - end is used after
                collect(rec)
            if end != done:
                state["days"][day] = end
                changed = True
        for shard, entries in add.items():
            self.load_shard(shard)
            if self.state is not state:  # a damaged shard had the index rebuilt (it holds all of these)
                return
            new = self._take(shard, entries)
            if new and self.files.locked:
                self._shard_append(self.state, shard, new)
        if changed and self.files.locked:
            self.flush()
            store.atomic_write_json(self._state_path(), state)
        self.state = state
        self._ready = True

    def _day_keys(self, day: str, add: dict[str, Entries]) -> int:
        """The request keys of a day file from its id index (caught up, so exactly the keys of its
        records), and the counts of the few records with ``partial``/``corrects`` (parsed); returns the
        offset that covers."""
        idx = self.files.index(day)
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
            with open(self.files.day_file(day), "rb") as fh:
                data = fh.read(covered)
        except FileNotFoundError:
            return 0
        if b'"partial"' in data or b'"corrects"' in data:
            for _, _, obj in jsonl(data, (b'"partial"', b'"corrects"')):
                if isinstance(obj, dict):
                    for key, values in key_entries(obj):  # type: ignore[arg-type]  # a day file's line
                        if values is not None:
                            add.setdefault(key_shard(key), []).append((key, values))
        return covered

    def has(self, key: str) -> bool:
        """Whether a request (its key) is anywhere in the ledger: any day file or archived month."""
        self.catch_up()
        return key in self.load_shard(key_shard(key))

    def archiving(self, month: str) -> None:
        """``archive.archive_month``, its archive written and before it removes the month's day files
        (lock held): the key index folds those day files now and takes the archive as folded, so it
        never reads a month's archive back just because the month was archived."""
        self._ready = False
        self.catch_up()
        state = self.state
        if state is not None and month not in state["months"]:
            state["months"].append(month)
            self.flush()
            store.atomic_write_json(self._state_path(), state)

    def load_all(self) -> None:
        """Read every shard of the request-key index (``doctor``): one cut or damaged has the index
        rebuilt, as it would be when a hook first needs it."""
        self.catch_up()
        try:
            names = sorted(os.listdir(self.dir))
        except FileNotFoundError:
            names = []
        for name in names:
            if name.endswith(".keys"):
                self.load_shard(name[:-5])
        for shard in self.state["sizes"] if self.state else {}:
            self.load_shard(shard)  # a shard file that went away

    def stored(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` the ledger holds already."""
        self.catch_up()
        return {k for k in keys if k in self.load_shard(key_shard(k))}

    def note(self, day: str, rec: Record, before: int, end: int) -> None:
        """After an append: the record's keys into the shards, the day's offset into the state (when
        the state had reached the old end of the day file; else the next catch-up folds it)."""
        state = self.state
        if state is None or state["days"].get(day, 0) != before:
            self._ready = False
            return
        by: dict[str, Entries] = {}
        for key, values in key_entries(rec):
            by.setdefault(key_shard(key), []).append((key, values))
        for shard, entries in by.items():
            self.load_shard(shard)
            if self.state is not state:  # rebuilt meanwhile (a damaged shard): it holds this record
                return
            new = self._take(shard, entries)
            if new:
                self._pending.setdefault(shard, []).extend(new)
        state["days"][day] = end
        self._dirty = True  # shards and state written once, when the transaction ends

    def flush(self) -> None:
        """Append the shard lines noted since the last flush (before any state that covers them is
        saved: a state never claims keys its shards do not hold)."""
        pending, self._pending = self._pending, {}
        state = self.state
        if state is None:
            return
        for shard, lines in sorted(pending.items()):
            self._shard_append(state, shard, lines)

