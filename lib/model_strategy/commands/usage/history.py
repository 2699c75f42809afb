"""``model-strategy history``: import Claude Code's own transcripts into the ledger, then report.

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

Speed.  Lines are decoded by ``fastread`` (msgspec when the venv has it, the hooks' reader's result
either way).  With more than ``PARALLEL_FROM_BYTES`` to read, worker processes (forked) read and
parse the files while this process commits them, in file order and under the lock, so the ledger
is the one a single process would write; a worker that dies leaves the rest to this process.

Report.  After the import the report is folded from the ledger (so it includes what the hooks
recorded, and archived months), filtered to [--since, --until] (UTC days of the records' ``ts``; an
agent counts on the day it started).
"""

from __future__ import annotations

import os
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from model_strategy.commands.strategy.reports import BadInput, fail
from model_strategy.runtime.base import clock, store
from model_strategy.runtime.base.clock import day_of, iso, period_days
from model_strategy.runtime.books import records
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.books.usage import TranscriptUsage

GROUPS = ("daily", "weekly", "monthly", "session", "project", "model", "agent-type")
STATE_SCHEMA = 1
JSON_SCHEMA = 1
BATCH_BYTES = 48 << 20  # read this much, then commit it under the lock and save the state
MIN_BATCH_BYTES = 32 << 20  # with workers: committed early rather than waiting for them (each commit costs ~25 ms)
FIRST_BATCH_BYTES = 8 << 20  # the first commit comes early: the workers read on meanwhile
CHUNK_FILES = 4  # files a worker reads per task
PROGRESS_FROM_BYTES = 32 << 20
READ_CHUNK = 16 << 20
PARALLEL_FROM_BYTES = 20 << 20  # read in worker processes from this much on (forking costs ~50 ms)
WORKERS = 2
WORKER_NICE = 2  # a little below the parent: committing, not reading, is what the import waits for
TOTAL_KEYS = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens", "cost_usd", "requests",
              "unpriced_requests")


# ------------------------------------------------------------------ finding transcripts


def claude_dirs(explicit: list[str] | None = None) -> list[str]:
    """Claude Code's config dirs: ``--claude-dir`` when given, else ``$CLAUDE_CONFIG_DIR`` (comma
    separated), ``$XDG_CONFIG_HOME/claude`` (``~/.config/claude``) and ``~/.claude``; each once."""
    cands = list(explicit or ())
    if not cands:
        env = os.environ.get("CLAUDE_CONFIG_DIR", "")
        cands = [p.strip() for p in env.split(",") if p.strip()]
        home = os.path.expanduser("~")
        cands.append(os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "claude"))
        cands.append(os.path.join(home, ".claude"))
    out: list[str] = []
    seen: set[str] = set()
    for c in cands:
        real = os.path.realpath(os.path.expanduser(c))
        if real not in seen:
            seen.add(real)
            out.append(real)
    return out


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


def state_path(ledger: Ledger) -> str:
    return ledger.path("history", "state.json")


def load_state(ledger: Ledger, warnings: list[str]) -> dict[str, Any]:
    path = state_path(ledger)
    try:
        data = store.read_json(path)
    except store.StoreError as exc:
        warnings.append(f"{exc}; history import state rebuilt (the ledger keeps counts exact)")
        data = None
    if not (isinstance(data, dict) and data.get("schema") == STATE_SCHEMA and isinstance(data.get("files"), dict)):
        data = {"schema": STATE_SCHEMA, "files": {}}
    data["files"] = {k: v for k, v in data["files"].items() if isinstance(v, dict)}
    return data


def _head(path: str, size: int) -> int:
    with open(path, "rb") as fh:
        return zlib.crc32(fh.read(min(size, 1024)))


def _tail(path: str, offset: int) -> int:
    """A fingerprint of the bytes just before ``offset`` (the last lines already read)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, offset - 256))
        return zlib.crc32(fh.read(min(offset, 256)))


def _resume_offset(f: TFile, entry: Any) -> int:
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


def _unchanged(f: TFile, entry: Any) -> bool:
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
        for name in ("files", "files_read", "bytes_read", "records_added", "requests_added", "already_recorded",
                     "duplicate_requests", "running_agents", "unpriced_requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems += other.problems

    def as_json(self) -> dict[str, Any]:
        return {"files": self.files, "files_read": self.files_read, "bytes_read": self.bytes_read,
                "records_added": self.records_added, "requests_added": self.requests_added,
                "already_recorded_agents": self.already_recorded, "duplicate_requests": self.duplicate_requests,
                "running_agents": self.running_agents, "unpriced_requests_added": self.unpriced_requests,
                "problems": self.problems}


def _read_meta(path: str) -> dict[str, Any]:
    base = path[:-6] if path.endswith(".jsonl") else path
    try:
        meta = store.read_json(base + ".meta.json", {})
    except (store.StoreError, OSError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _first_cwd(path: str, data: bytes | None = None) -> str | None:
    """The ``cwd`` of a transcript's first entries (the project it ran in); ``data``: the file's
    bytes when they are read already."""
    from . import fastread  # msgspec is imported only when there is something to read

    if data is None:
        try:
            with open(path, "rb") as fh:
                data = fh.read(256 << 10)
        except OSError:
            return None
    for line in _head_lines(data, 256 << 10, 50):
        if b'"cwd"' not in line:
            continue
        try:
            entry, _ = fastread.decode(line)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("cwd"), str) and entry["cwd"]:
            cwd: str = entry["cwd"]
            return cwd
    return None


def _head_lines(data: bytes, limit: int, count: int) -> Iterator[bytes]:
    """``data[:limit].split(b"\\n")[:count]``, without copying more than those lines."""
    limit = min(limit, len(data))
    pos = 0
    for _ in range(count):
        nl = data.find(b"\n", pos, limit)
        if nl < 0:
            yield data[pos:limit]
            return
        yield data[pos:nl]
        pos = nl + 1


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

    meta = _read_meta(f.path)
    if meta.get("finished") is not True and not meta.get("inWorkflowRun"):  # workflow agents never say
        stats.running_agents += 1
    transcript, _, head = fastread.file_usage(f.path, READ_CHUNK)  # read once: the usage, the project
    project = _first_cwd(f.path, head)
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


class _Progress:
    """A rich progress bar on stderr -- only on a terminal and for a long import."""

    def __init__(self, total: int) -> None:
        self.bar: Any = None
        if total >= PROGRESS_FROM_BYTES and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("importing transcripts"), BarColumn(), DownloadColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("import", total=total)

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _read_file(job: tuple[TFile, Any]) -> tuple[Stats, list[str], Any]:
    """Read and parse one transcript (no ledger access: in a worker process for a large import).
    Returns what it adds to the stats and warnings, and ``(item, state entry, bytes read)`` or the
    one-line reason it could not be read."""
    f, entry = job
    stats = Stats()
    warnings: list[str] = []
    try:
        if f.kind == "agent":
            item: Any = _agent_pending(f, stats, warnings)
            new_entry: dict[str, Any] = {"size": f.size, "mtime_ns": f.mtime_ns, "ino": f.ino, "offset": f.size}
            read = f.size
        else:
            start = _resume_offset(f, entry)
            sl, offset = read_main(f, start, stats)
            if sl.project is None:
                sl.project = (entry or {}).get("project") if isinstance(entry, dict) else None
            item = sl
            new_entry = {"size": f.size, "mtime_ns": f.mtime_ns, "ino": f.ino, "offset": offset,
                         "head": _head(f.path, f.size), "tail": _tail(f.path, offset), "project": sl.project}
            read = offset - start
    except (OSError, ValueError) as exc:  # unreadable, vanished, not UTF-8 ...
        detail = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:80]
        return stats, warnings, f"{short(f.path)}: cannot read ({detail}); skipped"
    return stats, warnings, (item, new_entry, read)


def _workers(total_bytes: int) -> int:
    """Worker processes that read transcripts for this import: 0 (read in this process) unless
    there is much to read, more than one core, and ``fork`` (``MODEL_STRATEGY_HISTORY_WORKERS``
    overrides the count; 0 reads in this process)."""
    env = os.environ.get("MODEL_STRATEGY_HISTORY_WORKERS", "")
    if env.strip().isdigit():
        n = int(env)
    elif total_bytes < PARALLEL_FROM_BYTES:
        return 0
    else:
        n = min(WORKERS, os.cpu_count() or 1)
    if n < 1 or sys.platform == "darwin":
        return 0
    import multiprocessing

    return n if "fork" in multiprocessing.get_all_start_methods() else 0


def _worker_start() -> None:
    """A worker yields to the parent (committing, not reading, is what the import waits for) and
    leaves Ctrl-C to it (the parent stops the workers; no traceback from them)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # noqa: SIM105
        os.nice(WORKER_NICE)
    except OSError:
        pass


def _read_files(jobs: list[tuple[TFile, Any]]) -> list[tuple[Stats, list[str], Any]]:
    return [_read_file(job) for job in jobs]


class _Reader:
    """``_read_file`` of each job, in order: by worker processes (forked when it is made, before any
    thread -- the progress bar -- runs) or here, without them; what is left when a worker dies is
    read here."""

    def __init__(self, jobs: list[tuple[TFile, Any]], workers: int) -> None:
        from collections import deque

        self.jobs = jobs
        self.pool: Any = None
        self.futures: deque[Any] = deque()
        if not workers or not jobs:
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        for stream in (sys.stdout, sys.stderr):  # a forked worker flushes what it inherited when it exits
            try:  # noqa: SIM105
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        try:
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_worker_start)
            for i in range(0, len(jobs), CHUNK_FILES):  # all submitted now: the workers start here
                self.futures.append(self.pool.submit(_read_files, jobs[i:i + CHUNK_FILES]))
        except (OSError, ImportError, NotImplementedError, ValueError, RuntimeError):  # no semaphores, no fork
            self.close()

    def ready(self) -> bool:
        """Whether the next result is there without waiting (reading here never waits)."""
        return not self.futures or self.futures[0].done()

    def __iter__(self) -> Iterator[tuple[Stats, list[str], Any]]:
        from concurrent.futures.process import BrokenProcessPool

        done = 0
        while self.futures:
            try:
                outs = self.futures.popleft().result()
            except (BrokenProcessPool, OSError):  # a worker died: the rest is read here
                self.close()
                break
            for out in outs:
                yield out
                done += 1
        self.close()
        for job in self.jobs[done:]:
            yield _read_file(job)

    def close(self) -> None:
        self.futures.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def import_history(ledger: Ledger, roots: list[str], warnings: list[str], now: float | None = None) -> Stats:
    """Bring the ledger up to date with the transcripts under ``roots`` (see the module doc).
    ``now`` is accepted for callers of the earlier form (agents no longer wait to look finished).
    Files are read (in worker processes when there is much to read) and committed in order, so
    the result does not depend on how they were read."""
    stats = Stats()
    files = discover(roots, stats.problems)
    stats.files = len(files)
    state = load_state(ledger, warnings)
    known: dict[str, Any] = state["files"]
    todo = [f for f in files if not _unchanged(f, known.get(f.path))]
    total = sum(max(0, f.size - (known.get(f.path) or {}).get("offset", 0)) for f in todo)
    reader = _Reader([(f, known.get(f.path)) for f in todo], _workers(total))
    seen: set[str] = set()
    progress = None
    try:
        progress = _Progress(total)
        batch: list[tuple[TFile, Any, dict[str, Any]]] = []
        batch_bytes = 0
        flushed = False
        for f, (part, notes, out) in zip(todo, reader, strict=True):
            stats.merge(part)
            warnings += notes
            if isinstance(out, str):
                stats.problems.append(out)
                continue
            item, new_entry, read = out
            if f.kind == "agent":
                reqs = item["requests"]
                item["requests"] = [r for r in reqs if r["key"] not in seen]  # met in another file
                stats.duplicate_requests += len(reqs) - len(item["requests"])
                seen.update(r["key"] for r in reqs)
            else:
                _drop_seen(item.main, seen, stats)
                for usage in item.sidechains.values():
                    _drop_seen(usage, seen, stats)
            stats.files_read += 1
            progress.advance(read)
            batch.append((f, item, new_entry))
            batch_bytes += read
            # committed under the lock in batches; with workers, also whenever the next file is not read yet
            least = MIN_BATCH_BYTES if flushed else FIRST_BATCH_BYTES
            if batch_bytes >= BATCH_BYTES or (batch_bytes >= least and not reader.ready()):
                _flush(ledger, batch, known, state, stats)
                batch, batch_bytes, flushed = [], 0, True
        _flush(ledger, batch, known, state, stats)
    finally:
        if progress is not None:
            progress.close()
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


def _flush(ledger: Ledger, batch: list[tuple[TFile, Any, dict[str, Any]]], known: dict[str, Any],
           state: dict[str, Any], stats: Stats) -> None:
    if not batch:
        return
    with ledger.transaction(wait=60.0):
        for f, item, new_entry in batch:
            if f.kind == "agent":
                _commit_agent(ledger, item, stats)
            else:
                _commit_slice(ledger, item, stats)
            known[f.path] = new_entry
        store.atomic_write_json(state_path(ledger), state)  # after the commits: a kill in between re-reads


# ------------------------------------------------------------------ the report


def _week_start(day: str, week_start: str) -> str:
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    return period_days("week", date.fromisoformat(day), week_start if week_start in names else "monday")[0].isoformat()


def _zero() -> dict[str, Any]:
    return {"input_tokens": 0, "output_tokens": 0, "cache_write_tokens": 0, "cache_read_tokens": 0,
            "cost_usd": Decimal(0), "requests": 0, "unpriced_requests": 0, "records": 0}


def _add(row: dict[str, Any], tokens: dict[str, Any], cost: str | None, requests: int, unpriced: int,
         run: int = 1) -> None:
    row["input_tokens"] += int(tokens.get("input", 0))
    row["output_tokens"] += int(tokens.get("output", 0))
    row["cache_write_tokens"] += int(tokens.get("cache_write_5m", 0)) + int(tokens.get("cache_write_1h", 0))
    row["cache_read_tokens"] += int(tokens.get("cache_read", 0))
    row["cost_usd"] += Decimal(cost or "0")
    row["requests"] += int(requests)
    row["unpriced_requests"] += int(unpriced)
    row["records"] += run  # a continuation slice is not another record of a run


def _key(rec: dict[str, Any], group: str, week_start: str) -> str:
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


ROLLUP_GROUPS = {"model": "by_model", "project": "by_project", "agent-type": "by_agent_type"}


def _add_bucket(row: dict[str, Any], b: dict[str, Any]) -> None:
    """Add a roll-up bucket (``folds.add_to_bucket``'s shape) into a report row."""
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
           errors: list[str] | None = None, rollups: bool = True) -> dict[str, Any]:
    """Rows and totals from the ledger for [since, until] (UTC days).  From the monthly roll-ups
    (cached, caught up incrementally, kept for archived months) where they hold the grouping, from the
    records for sessions and for the model/project/agent-type split of months cut by the range."""
    if not rollups or group == "session":
        return _report_records(ledger, group, since, until, week_start, errors)
    months = sorted({d[:7] for d in ledger.days(since, until)} | set(ledger.archived_months(since, until)))
    rows: dict[str, dict[str, Any]] = {}
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
                target = rows.setdefault(row["key"], _zero())
                for k in target:
                    target[k] += row[k]
    return _finish(group, since, until, rows, totals, {})


def _report_records(ledger: Ledger, group: str, since: str | None, until: str | None, week_start: str,
                    errors: list[str] | None) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    totals = _zero()
    projects: dict[str, str | None] = {}
    for rec in ledger.iter_records(since, until, errors):
        r: dict[str, Any] = dict(rec)
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


def _finish(group: str, since: str | None, until: str | None, rows: dict[str, dict[str, Any]],
            totals: dict[str, Any], projects: dict[str, str | None]) -> dict[str, Any]:
    chronological = group in ("daily", "weekly", "monthly")
    order = sorted(rows) if chronological else sorted(rows, key=lambda k: (-rows[k]["cost_usd"], k))
    out_rows = []
    for k in order:
        row = {"key": k, **rows[k]}
        if group == "session":
            row["project"] = projects.get(k)
        out_rows.append(row)
    return {"group": group, "since": since, "until": until, "rows": out_rows, "totals": totals}


# ------------------------------------------------------------------ command line


def _parse(argv: list[str]) -> Any:
    import argparse

    class P(argparse.ArgumentParser):
        def error(self, message: str) -> Any:
            raise BadInput(message)

    p = P(prog="model-strategy history", description="import Claude Code's transcripts and report usage")
    p.add_argument("group", nargs="?", default="daily", choices=GROUPS)
    p.add_argument("--since", help="first UTC day, YYYY-MM-DD")
    p.add_argument("--until", help="last UTC day, YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.add_argument("--claude-dir", action="append", help="Claude Code config dir (repeatable; default "
                   "$CLAUDE_CONFIG_DIR and ~/.claude)")
    p.add_argument("--no-import", action="store_true", help="report from the ledger only")
    p.add_argument("--width", type=int)
    args = p.parse_args(argv)
    for name in ("since", "until"):
        value = getattr(args, name)
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise BadInput(f"--{name} must be a date YYYY-MM-DD (got {value!r})") from None
            if len(value) != 10:
                raise BadInput(f"--{name} must be a date YYYY-MM-DD (got {value!r})")
    if args.since and args.until and args.since > args.until:
        raise BadInput(f"--since {args.since} is after --until {args.until}")
    if args.width is None and args.json:
        args.width = 100  # no table drawn (and rich, which render imports, not loaded)
    elif args.width is None:
        from model_strategy.commands.render.render import default_width

        args.width = default_width(60)
    if args.width < 60:
        raise BadInput(f"--width must be at least 60 (got {args.width})")
    return args


def run(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The history document (imports first unless ``--no-import``) and the warnings."""
    from model_strategy.runtime.books import archive
    from model_strategy.runtime.settings import config

    args = _parse(argv)
    cfg, warnings = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    ledger = Ledger()
    stats = None
    roots: list[str] = []
    started = time.monotonic()
    if not args.no_import:
        roots = claude_dirs(args.claude_dir)
        stats = import_history(ledger, roots, warnings)
        warnings += archive.maybe_run(ledger, cfg)  # history older than the retention goes on into the archive
    errors: list[str] = []
    week_start = str(cfg.get("budgets", {}).get("week_start", "monday"))
    try:  # under the lock the monthly roll-ups it folds are saved, so the next report starts from them
        with ledger.transaction(wait=1.0):
            doc = report(ledger, args.group, args.since, args.until, week_start, errors)
    except store.LockTimeout:
        doc = report(ledger, args.group, args.since, args.until, week_start, errors)
    doc = {"schema": JSON_SCHEMA, **doc, "days": "UTC",
           "import": None if stats is None else {"claude_dirs": roots, **stats.as_json(),
                                                "seconds": round(time.monotonic() - started, 3)},
           "generated_at": iso(clock.now())}
    warnings += errors + ledger.warnings
    doc["_args"] = args
    return doc, warnings


def jsonable(doc: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    def conv(row: dict[str, Any]) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}

    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    out["rows"] = [conv(r) for r in doc["rows"]]
    out["totals"] = conv(doc["totals"])
    out["warnings"] = warnings
    return out


def render_text(doc: dict[str, Any], warnings: list[str], width: int = 100) -> str:
    from rich.console import Group
    from rich.text import Text

    from model_strategy.commands.base.cells import terminal_safe
    from model_strategy.commands.render.render import console, table, tok, usd

    group = doc["group"]
    label = {"daily": "Day (UTC)", "weekly": "Week of", "monthly": "Month", "session": "Session",
             "project": "Project", "model": "Model", "agent-type": "Agent type"}[group]
    head = Text()
    head.append(f"Usage history — {group}", style="bold")
    span = f"{doc['since'] or 'first record'} to {doc['until'] or 'today'}"
    head.append(f"\nFrom the ledger (hooks + imported transcripts), {span}; days are UTC.")
    def cells(row: dict[str, Any], short: bool = False) -> list[str]:
        cost = usd(row["cost_usd"])
        if row["unpriced_requests"]:
            cost += "*"
        n = tok if short else (lambda v: f"{v:,}")
        return [n(row["input_tokens"]), n(row["output_tokens"]), n(row["cache_write_tokens"]),
                n(row["cache_read_tokens"]), f"{row['requests']:,}", cost]

    names = []
    for row in doc["rows"]:
        name = row["key"]
        if group == "session":
            name = f"{name[:8]} {os.path.basename(str(row.get('project') or '').rstrip('/')) or '-'}"
        names.append(name)
    room = max(len(label), *(min(len(n), 24) for n in names)) if names else len(label)
    for short in (False, True):  # exact token counts when they fit beside the names, else 6.9M
        heads = ("Input", "Output", *(("Cache\nwrite", "Cache\nread") if short else ("Cache write", "Cache read")),
                 "Requests", "Cost")
        body = [[name, *cells(row, short)] for name, row in zip(names, doc["rows"], strict=True)]
        total = ["Total", *cells(doc["totals"], short)]
        widths = [max(*(len(x) for x in h.split("\n")), *(len(r[i + 1]) for r in [*body, total]))
                  for i, h in enumerate(heads)]
        if sum(widths) + 3 * len(heads) + room <= width:
            break
    t = table(None)  # numbers are never cut; a long name is (with an ellipsis)
    t.add_column(label, no_wrap=True, overflow="ellipsis", max_width=max(8, width - sum(widths) - 3 * len(heads)))
    for h, w in zip(heads, widths, strict=True):
        t.add_column(h, justify="right", no_wrap=True, min_width=w)
    for cols in body:
        t.add_row(*cols)
    t.add_section()
    t.add_row(*total, style="bold")
    parts: list[Any] = [head, Text(""), t if doc["rows"] else Text("No usage recorded in this range.")]
    notes = Text()
    if doc["totals"]["unpriced_requests"]:
        notes.append(f"\n* {doc['totals']['unpriced_requests']:,} request(s) on models without a known price are "
                     "counted in tokens and requests but not in cost (add a price in prices.override.json).")
    imp = doc.get("import")
    if imp and not imp["files"]:
        notes.append(f"\nNo Claude Code transcripts found under {', '.join(imp['claude_dirs'])} "
                     "(projects/); use --claude-dir DIR or set CLAUDE_CONFIG_DIR.")
    elif imp:
        notes.append(f"\nImport: {imp['files_read']:,} of {imp['files']:,} transcript files read "
                     f"({imp['bytes_read'] / 1e6:,.1f} MB), {imp['records_added']:,} records with "
                     f"{imp['requests_added']:,} requests added")
        if imp["already_recorded_agents"]:
            notes.append(f"; {imp['already_recorded_agents']:,} agent(s) were recorded by the hooks already")
        if imp["running_agents"]:
            notes.append(f"; {imp['running_agents']:,} agent(s) still running (imported once finished)")
        notes.append(".")
        for line in imp["problems"]:
            notes.append(f"\n! {line}")
    for line in warnings:
        notes.append(f"\n! {line}")
    if notes:
        parts.append(notes)
    c = console(width, record=True)
    with c.capture() as cap:
        c.print(Group(*parts))
    return terminal_safe("\n".join(line.rstrip() for line in cap.get().splitlines()) + "\n")


def main(argv: list[str], slash: bool = False) -> int:
    import json

    try:
        doc, warnings = run(argv)
    except (BadInput, store.LockTimeout, OSError) as exc:
        return fail(exc, slash)
    args = doc["_args"]
    if args.json:
        print(json.dumps(jsonable(doc, warnings), indent=1, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(doc, warnings, args.width))
    return 0


def archive_main(argv: list[str], slash: bool = False) -> int:
    """``model-strategy archive [--now] [--delete-archived-before YYYY-MM] [--json]``: without
    ``--now`` it shows what is archived and what is due."""
    import argparse
    import json

    from model_strategy.runtime.books import archive
    from model_strategy.runtime.settings import config

    class P(argparse.ArgumentParser):
        def error(self, message: str) -> Any:
            raise BadInput(message)

    p = P(prog="model-strategy archive", description="move old daily detail into monthly archives")
    p.add_argument("--now", action="store_true", help="archive every due month now")
    p.add_argument("--delete-archived-before", metavar="YYYY-MM",
                   help="delete the archive files of months before this one (their roll-ups stay)")
    p.add_argument("--json", action="store_true")
    try:
        args = p.parse_args(argv)
        month = args.delete_archived_before
        if month is not None and (len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit()
                                  or not 1 <= int(month[5:]) <= 12):
            raise BadInput(f"--delete-archived-before must be a month YYYY-MM (got {month!r})")
        cfg, warnings = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
        ledger = Ledger()
        retention = archive.retention_of(cfg)
        out: dict[str, Any] = {"schema": 1}
        if args.now:
            out["run"] = archive.run(ledger, retention)
        if month:
            out["deleted"] = archive.delete_before(ledger, month)
        out["status"] = archive.status(ledger, retention)
        out["warnings"] = warnings + ledger.warnings
    except (BadInput, store.LockTimeout, OSError) as exc:
        return fail(exc, slash)
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    st = out["status"]
    for m in (out.get("run") or {}).get("archived", []):
        print(f"archived {m['month']}: {m['records']:,} records from {m['days']} day file(s) into {m['file']}")
    for line in (out.get("run") or {}).get("problems", []):
        print(f"! {line}")
    for m in out.get("deleted", []):
        print(f"deleted the archive of {m} (its monthly roll-up stays)")
    print(f"retention: {st['retention_days']} days of daily detail (whole months); "
          f"{len(st['archived'])} archived month(s): {', '.join(a['month'] for a in st['archived']) or 'none'}")
    print(f"day files: {st['day_files']:,} (oldest {st['oldest_day_file'] or '-'}); due for archiving: "
          f"{', '.join(st['due']) or 'nothing'}; last run {st['last_run'] or 'never'}")
    for line in out["warnings"]:
        print(f"! {line}")
    return 0
