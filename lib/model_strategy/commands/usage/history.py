"""``model-strategy history``'s import: Claude Code's own transcripts into the ledger (the report is
``history_report``, the command ``cli/history_cli``).

Import.  Claude Code keeps every session under ``<config dir>/projects/<project>/``: the main
thread in ``<session>.jsonl``, each subagent in ``<session>/subagents/agent-<id>.jsonl`` with its
``agent-<id>.meta.json`` (agent type, ``finished``); older clients wrote subagent (sidechain)
entries into the main file.  Each API response is counted once -- by message id + request id,
across files -- and priced per request exactly as the hooks do (``records.priced_usage``):

* a subagent file (``<session>/subagents/agent-<id>.jsonl``, workflow agents under
  ``subagents/workflows/<run>/``) becomes the record ``<session>:<agent id>``, the id the hooks
  give it, holding the requests the ledger lacks (``recorder.agent_slice``): an agent the hooks
  recorded is skipped, one imported first is continued, not doubled, by the hooks later.  A running
  agent is imported as far as it got; what it (or a ``SendMessage`` continuation) adds later is
  imported by a later run as a continuation slice ``<session>:<agent id>:<first new key>``.
* main-thread (and old-layout sidechain) requests go through the hooks' own
  ``recorder._commit_main``: one record per session and UTC day, holding only requests whose key is
  not in the ledger yet.

Imported records carry ``source: "import"``.  The import is incremental: ``history/state.json`` in
the data dir (a cache, safe to delete) remembers each file's offset, size, mtime and inode, so a
second run reads only new bytes; a file that shrank, changed inode or no longer lines up is read
again from the start (request keys keep that from counting anything twice).

Speed.  ``fastread`` decodes the lines (msgspec when the venv has it) and, for a large import, reads the
files in worker processes while this process commits them in file order: the ledger a single process writes.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, NotRequired, Protocol, TypedDict, cast

from model_strategy.runtime.base import clock, store
from model_strategy.runtime.base.clock import day_of, iso
from model_strategy.runtime.books import records
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.books.usage import TranscriptUsage

from .history_report import ImportSummary

STATE_SCHEMA = 1
BATCH_BYTES = 48 << 20  # read this much, then commit it under the lock and save the state
MIN_BATCH_BYTES = 32 << 20  # with workers: committed early rather than waiting for them (each commit costs ~25 ms)
FIRST_BATCH_BYTES = 8 << 20  # the first commit comes early: the workers read on meanwhile
PROGRESS_FROM_BYTES = 32 << 20  # a progress bar (on a terminal) for an import of this much or more
READ_CHUNK = 16 << 20


# ------------------------------------------------------------------ finding transcripts


@dataclass
class TFile:
    path: str
    kind: str  # "main" | "agent"
    session: str
    agent_id: str | None
    size: int
    mtime_ns: int
    ino: int


def short(path: str) -> str:
    """A transcript path as shown in one-line problems: from the ``projects`` folder on."""
    at = path.rfind(os.sep + "projects" + os.sep)
    return path[at + 1:] if at >= 0 else path


def projects_dir(root: str) -> str:
    """``<root>/projects``; a root that is a ``projects`` folder itself is taken as it is."""
    top = os.path.join(root, "projects")
    return root if not os.path.isdir(top) and os.path.basename(root.rstrip(os.sep)) == "projects" else top


def discover(roots: list[str], problems: list[str]) -> list[TFile]:
    """Every transcript under ``<root>/projects``, subagent files first (sorted, deterministic)."""
    out: list[TFile] = []
    for root in roots:
        top = projects_dir(root)
        if not os.path.isdir(top):
            continue
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError as exc:
                problems.append(f"{short(folder)}: cannot list ({exc.strerror})")
                continue
            for ent in entries:
                try:
                    if ent.is_dir(follow_symlinks=False):
                        stack.append(ent.path)
                        continue
                    if not ent.name.endswith(".jsonl") or not ent.is_file():
                        continue
                    st = ent.stat()
                except OSError as exc:
                    problems.append(f"{short(ent.path)}: cannot stat ({exc.strerror})")
                    continue
                session = _agent_session(folder) if ent.name.startswith("agent-") else None
                if session is not None:  # <session>/subagents/[workflows/<run>/]agent-<id>.jsonl
                    out.append(TFile(ent.path, "agent", session, ent.name[6:-6], st.st_size, st.st_mtime_ns,
                                     st.st_ino))
                else:
                    out.append(TFile(ent.path, "main", ent.name[:-6], None, st.st_size, st.st_mtime_ns, st.st_ino))
    out.sort(key=lambda f: (f.kind != "agent", f.path))
    return out


def _agent_session(folder: str) -> str | None:
    """The session an agent transcript in ``folder`` belongs to: the folder holding the nearest
    ``subagents`` folder above it (workflow agents sit in ``subagents/workflows/<run>/``)."""
    parts = folder.rstrip(os.sep).split(os.sep)
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == "subagents":
            return parts[i - 1] or None
    return None


# ------------------------------------------------------------------ import state (a cache)


class FileState(TypedDict):
    """What the import remembers of a transcript: its identity and how far it was read."""
    size: int
    mtime_ns: int
    ino: int
    offset: int
    head: NotRequired[int]  # main transcripts: fingerprints of the first bytes and of those before offset
    tail: NotRequired[int]
    project: NotRequired[str | None]


class ImportState(TypedDict):
    schema: int
    files: dict[str, FileState]


def state_path(ledger: Ledger) -> str:
    return ledger.path("history", "state.json")


def load_state(ledger: Ledger, warnings: list[str]) -> ImportState:
    path = state_path(ledger)
    try:
        data = store.read_json(path)
    except store.StoreError as exc:
        warnings.append(f"{exc}; history import state rebuilt (the ledger keeps counts exact)")
        data = None
    if not (isinstance(data, dict) and data.get("schema") == STATE_SCHEMA and isinstance(data.get("files"), dict)):
        data = {"schema": STATE_SCHEMA, "files": {}}
    # each entry is checked field by field where it is used (``_resume_offset``, ``_unchanged``)
    files = cast("dict[str, FileState]", {k: v for k, v in data["files"].items() if isinstance(v, dict)})
    return {"schema": STATE_SCHEMA, "files": files}


def _head(path: str, size: int) -> int:
    with open(path, "rb") as fh:
        return zlib.crc32(fh.read(min(size, 1024)))


def _tail(path: str, offset: int) -> int:
    """A fingerprint of the bytes just before ``offset`` (the last lines already read)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, offset - 256))
        return zlib.crc32(fh.read(min(offset, 256)))


def _resume_offset(f: TFile, entry: FileState | None) -> int:
    """Where to go on reading a main transcript: the remembered offset when the file is the same one
    grown (same inode, same first bytes and same bytes before the offset), else 0."""
    if not isinstance(entry, dict):
        return 0
    offset = entry.get("offset")
    if not isinstance(offset, int) or offset <= 0 or offset > f.size or entry.get("ino") != f.ino:
        return 0
    try:
        if _head(f.path, f.size) != entry.get("head") or _tail(f.path, offset) != entry.get("tail"):
            return 0
    except OSError:
        return 0
    return offset


def _unchanged(f: TFile, entry: FileState | None) -> bool:
    return isinstance(entry, dict) and entry.get("size") == f.size and entry.get("mtime_ns") == f.mtime_ns \
        and entry.get("ino") == f.ino


# ------------------------------------------------------------------ reading


@dataclass
class Stats:
    files: int = 0
    files_read: int = 0
    bytes_read: int = 0
    records_added: int = 0
    requests_added: int = 0
    already_recorded: int = 0
    duplicate_requests: int = 0
    running_agents: int = 0
    unpriced_requests: int = 0
    problems: list[str] = field(default_factory=list)

    def merge(self, other: Stats) -> None:
        """Add another's counts and problems (a worker's, for one file)."""
        for name in (f.name for f in fields(self) if f.name != "problems"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems += other.problems

    def as_json(self) -> ImportSummary:
        return {"files": self.files, "files_read": self.files_read, "bytes_read": self.bytes_read,
                "records_added": self.records_added, "requests_added": self.requests_added,
                "already_recorded_agents": self.already_recorded, "duplicate_requests": self.duplicate_requests,
                "running_agents": self.running_agents, "unpriced_requests_added": self.unpriced_requests,
                "problems": self.problems}


@dataclass
class MainSlice:
    session: str
    project: str | None
    main: TranscriptUsage
    sidechains: dict[str, TranscriptUsage]


def read_main(f: TFile, start: int, stats: Stats) -> tuple[MainSlice, int]:
    """Parse a main transcript from ``start``: only lines that carry ``usage`` are decoded (the rest
    holds no usage).  Returns the slice and the offset after the last complete line."""
    from . import fastread

    main = TranscriptUsage()
    sides: dict[str, TranscriptUsage] = {}
    cwd: str | None = None
    bad = 0
    offset = start
    rest = b""
    with open(f.path, "rb") as fh:  # in chunks: a transcript can be larger than memory should hold
        if start:
            fh.seek(start)
        while True:
            chunk = fh.read(READ_CHUNK)
            if not chunk:
                break
            data = rest + chunk
            end = data.rfind(b"\n") + 1
            rest = data[end:]
            offset += end
            region = fastread.Region(data, end)
            for a, b in region.lines_with(b'"usage"'):  # the other lines hold no usage
                try:
                    entry, reduced = region.decode(a, b)
                except (ValueError, UnicodeDecodeError):
                    bad += 1
                    continue
                if not isinstance(entry, dict):
                    continue
                if cwd is None and isinstance(entry.get("cwd"), str):
                    cwd = entry["cwd"]
                if entry.get("isSidechain") is True:
                    aid = entry.get("agentId")
                    usage = sides.setdefault(aid if isinstance(aid, str) and aid else "sidechain", TranscriptUsage())
                    region.add(usage, entry, reduced, a, b)
                else:
                    region.add(main, entry, reduced, a, b)
    stats.bytes_read += offset - start
    if bad:
        stats.problems.append(f"{short(f.path)}: {bad} unreadable line(s) skipped")
    return MainSlice(f.session, cwd, main, sides), offset


def _drop_seen(usage: TranscriptUsage, seen: set[str], stats: Stats) -> None:
    """Keep only requests not met in another file of this run (resumed sessions copy history)."""
    for k, req in list(usage.requests.items()):
        if req["key"] in seen:
            del usage.requests[k]
            stats.duplicate_requests += 1
        else:
            seen.add(req["key"])


def _agent_pending(f: TFile, stats: Stats, warnings: list[str]) -> dict[str, Any]:
    """An agent transcript read as the hooks read it, running or not: what it holds now is imported,
    what it adds later is imported by a later run (continuation slices)."""
    from model_strategy.runtime.base.payload import Payload
    from model_strategy.runtime.books import recorder

    from . import fastread

    meta = fastread.agent_meta(f.path)
    if meta.get("finished") is not True and not meta.get("inWorkflowRun"):  # workflow agents never say
        stats.running_agents += 1
    transcript, _, head = fastread.file_usage(f.path, READ_CHUNK)  # read once: the usage, the project
    project = fastread.first_cwd(f.path, head)
    tool_use_id = meta.get("toolUseId")
    pending = recorder.pending_agent(Payload({"session_id": f.session, "cwd": project}), agent_id=str(f.agent_id),
                                     agent_type=str(meta.get("agentType") or "unknown"), source="import",
                                     transcript_path=f.path, warnings=warnings, keys=True, transcript=transcript,
                                     tool_use_id=tool_use_id if isinstance(tool_use_id, str) and tool_use_id
                                     else None)
    pending["project"] = project  # not $CLAUDE_PROJECT_DIR of the shell running the import
    pending["meta"] = meta
    stats.bytes_read += f.size
    if pending["bad_lines"]:
        stats.problems.append(f"{short(f.path)}: {pending['bad_lines']} unreadable line(s) skipped")
    return pending


def _commit_agent(ledger: Ledger, pending: dict[str, Any], stats: Stats) -> None:
    from model_strategy.runtime.books import recorder
    from model_strategy.runtime.money import pricing

    stats.records_added += len(recorder.commit_corrections(
        ledger, pending["requests"], session_id=pending["session_id"], project=pending["project"],
        agent_id=pending["agent_id"], agent_type=pending["agent_type"], source="import"))
    part = recorder.agent_slice(ledger, pending)
    if part is None:
        if pending["requests"] and ledger.has_id(day_of(pending["ts"]),
                                                 records.subagent_id(pending["session_id"], pending["agent_id"])):
            stats.already_recorded += 1
        return  # in the ledger already, or an agent without a single API response
    record_id, ts, fresh, continuation = part
    meta = pending["meta"]
    shape = meta.get("requestShape")
    model = meta.get("model")
    rec = records.build(
        kind="subagent", record_id=record_id, ts=ts, recorded_at=iso(clock.now()),
        session_id=pending["session_id"], project=pending["project"],
        usage=records.priced_usage(fresh, pricing.table(ledger.warnings)),
        agent_id=pending["agent_id"], agent_type=pending["agent_type"], tool_use_id=pending.get("tool_use_id"),
        background=shape == "background" if isinstance(shape, str) else None,
        model_requested=model if isinstance(model, str) and model else None,
        duration_ms=None if continuation else pending.get("duration_ms"),
        source="import", outcome=pending.get("outcome"), request_keys=[r["key"] for r in fresh],
        continuation=continuation, partial=records.partial_counts(fresh))
    if ledger.commit(rec):
        stats.records_added += 1
        stats.requests_added += rec["requests"]
        stats.unpriced_requests += rec["unpriced_requests"]


def _commit_slice(ledger: Ledger, sl: MainSlice, stats: Stats) -> None:
    from model_strategy.runtime.books import recorder

    out = recorder._commit_main(ledger, sl.session, sl.project, sl.main, "import")
    for aid, usage in sorted(sl.sidechains.items()):
        out += recorder._commit_main(ledger, sl.session, sl.project, usage, "import", agent_id=aid)
    for rec in out:
        stats.records_added += 1
        stats.requests_added += rec["requests"]
        stats.unpriced_requests += rec["unpriced_requests"]


Item = dict[str, Any] | MainSlice  # an agent's pending record (``recorder.pending_agent``) or a main slice
Job = tuple[TFile, FileState | None]
#: a read's stats, warnings, and (item, its new state entry, bytes read) or the reason it failed
ReadResult = tuple[Stats, list[str], tuple[Item, FileState, int] | str]


class Progress(Protocol):
    """A progress bar (``render_history.progress_bar``) for a long import."""

    def advance(self, n: int) -> None: ...

    def close(self) -> None: ...


def _read_file(job: Job) -> ReadResult:
    """Read and parse one transcript (no ledger access: in a worker process for a large import).
    Returns what it adds to the stats and warnings, and ``(item, state entry, bytes read)`` or the
    one-line reason it could not be read."""
    f, entry = job
    stats = Stats()
    warnings: list[str] = []
    try:
        if f.kind == "agent":
            item: Item = _agent_pending(f, stats, warnings)
            new_entry: FileState = {"size": f.size, "mtime_ns": f.mtime_ns, "ino": f.ino, "offset": f.size}
            read = f.size
        else:
            start = _resume_offset(f, entry)
            sl, offset = read_main(f, start, stats)
            if sl.project is None:
                sl.project = entry.get("project") if isinstance(entry, dict) else None
            item = sl
            new_entry = {"size": f.size, "mtime_ns": f.mtime_ns, "ino": f.ino, "offset": offset,
                         "head": _head(f.path, f.size), "tail": _tail(f.path, offset), "project": sl.project}
            read = offset - start
    except (OSError, ValueError) as exc:  # unreadable, vanished, not UTF-8 ...
        detail = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:80]
        return stats, warnings, f"{short(f.path)}: cannot read ({detail}); skipped"
    return stats, warnings, (item, new_entry, read)


def import_history(ledger: Ledger, roots: list[str], warnings: list[str], now: float | None = None,
                   progress: Callable[[int], Progress | None] | None = None) -> Stats:
    """Bring the ledger up to date with the transcripts under ``roots`` (see the module doc).
    ``now`` is accepted for callers of the earlier form (agents no longer wait to look finished).
    Files are read (in worker processes when there is much to read) and committed in order, so
    the result does not depend on how they were read.  ``progress(total bytes)`` makes a progress
    bar for an import of ``PROGRESS_FROM_BYTES`` or more (``None``: none)."""
    from . import fastread

    stats = Stats()
    files = discover(roots, stats.problems)
    stats.files = len(files)
    state = load_state(ledger, warnings)
    known = state["files"]
    todo = [f for f in files if not _unchanged(f, known.get(f.path))]
    total = sum(max(0, f.size - _offset(known.get(f.path))) for f in todo)
    jobs: list[Job] = [(f, known.get(f.path)) for f in todo]
    reader = fastread.Reader(jobs, fastread.workers(total), _read_file)
    seen: set[str] = set()
    bar = None
    try:  # the bar after the reader: its workers are forked before the bar's thread runs
        bar = progress(total) if progress is not None and total >= PROGRESS_FROM_BYTES else None
        batch: list[tuple[TFile, Item, FileState]] = []
        batch_bytes = 0
        flushed = False
        for f, (part, notes, out) in zip(todo, reader, strict=True):
            stats.merge(part)
            warnings += notes
            if isinstance(out, str):
                stats.problems.append(out)
                continue
            item, new_entry, read = out
            if isinstance(item, dict):  # an agent's pending record
                reqs = item["requests"]
                item["requests"] = [r for r in reqs if r["key"] not in seen]  # met in another file
                stats.duplicate_requests += len(reqs) - len(item["requests"])
                seen.update(r["key"] for r in reqs)
            else:
                _drop_seen(item.main, seen, stats)
                for usage in item.sidechains.values():
                    _drop_seen(usage, seen, stats)
            stats.files_read += 1
            if bar is not None:
                bar.advance(read)
            batch.append((f, item, new_entry))
            batch_bytes += read
            # committed under the lock in batches; with workers, also whenever the next file is not read yet
            least = MIN_BATCH_BYTES if flushed else FIRST_BATCH_BYTES
            if batch_bytes >= BATCH_BYTES or (batch_bytes >= least and not reader.ready()):
                _flush(ledger, batch, known, state, stats)
                batch, batch_bytes, flushed = [], 0, True
        _flush(ledger, batch, known, state, stats)
    finally:
        if bar is not None:
            bar.close()
        reader.close()
    # forget files that are gone from the dirs just scanned (keeps the state small)
    present = {f.path for f in files}
    scanned = tuple(projects_dir(r).rstrip(os.sep) + os.sep for r in roots)
    gone = [p for p in known if p not in present and p.startswith(scanned)]
    if gone:
        for p in gone:
            del known[p]
        store.atomic_write_json(state_path(ledger), state)
    return stats


def _offset(entry: FileState | None) -> int:
    offset = entry.get("offset", 0) if isinstance(entry, dict) else 0
    return offset if isinstance(offset, int) else 0


def _flush(ledger: Ledger, batch: list[tuple[TFile, Item, FileState]], known: dict[str, FileState],
           state: ImportState, stats: Stats) -> None:
    if not batch:
        return
    with ledger.transaction(wait=60.0):
        for f, item, new_entry in batch:
            if isinstance(item, dict):
                _commit_agent(ledger, item, stats)
            else:
                _commit_slice(ledger, item, stats)
            known[f.path] = new_entry
        store.atomic_write_json(state_path(ledger), state)  # after the commits: a kill in between re-reads
