"""Transcript lines decoded fast for ``history``, with the same result as the hooks' reader.

``runtime.usage`` (the hook path, standard library only) decodes every line whole.  ``history``
reads hundreds of megabytes of transcripts, most of it tool results and file contents that usage
never looks at.  When the venv holds ``msgspec``, a line is decoded into a struct of only the fields
``TranscriptUsage.add_entry`` reads (the rest is skipped without being built); a line it cannot take
exactly that way goes through ``fastjson.loads`` as before: not a JSON object, a field of an
unexpected shape, bytes that are not UTF-8, a byte-order mark, or a user entry whose content matters
(the agent's first prompt, an interruption notice).  Without ``msgspec`` every line goes through
``fastjson``.  ``tests/test_history_fastread.py`` holds the two paths equal.

A large import (more than ``PARALLEL_FROM_BYTES``) reads its files in worker processes (``Reader``):
forked, niced, results in file order (``history`` commits them in that order, under the lock, so the
ledger is the one a single process would write); what a worker that died left is read in this process.

Not on the hook path (``runtime/`` never imports this module).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypedDict, TypeVar, cast

from model_strategy.runtime.base import store
from model_strategy.runtime.base.fastjson import loads
from model_strategy.runtime.books.usage import TranscriptUsage

try:
    if os.environ.get("MODEL_STRATEGY_NO_MSGSPEC"):  # tests: the standard-library path
        raise ImportError
    import msgspec  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    msgspec = None  # type: ignore[assignment,unused-ignore]

_INTERRUPTED = b"[Request interrupted by user"  # usage.TranscriptUsage.add_entry looks for it in user entries

if msgspec is not None:

    class _Message(msgspec.Struct):  # type: ignore[misc,unused-ignore]
        id: Any = None
        model: Any = None
        stop_reason: Any = None
        usage: Any = None

    class _Entry(msgspec.Struct):  # type: ignore[misc,unused-ignore]
        type: Any = None
        timestamp: Any = None
        isSidechain: Any = None  # Claude Code's field names
        isApiErrorMessage: Any = None
        requestId: Any = None
        uuid: Any = None
        agentId: Any = None
        cwd: Any = None
        message: _Message | None = None

    _DECODER: Any = msgspec.json.Decoder(_Entry)
    _FAILED: Any = msgspec.MsgspecError
else:  # pragma: no cover - exercised with MODEL_STRATEGY_NO_MSGSPEC
    _DECODER = None
    _FAILED = ValueError

FAST = _DECODER is not None


def decode(line: bytes) -> tuple[Any, bool]:
    """``(entry, reduced)``: the line's entry, ``reduced`` when only the fields usage reads are in it
    (a user entry's ``message`` is then left out: see ``add``).  Raises ValueError for a line that is
    not valid JSON or not UTF-8, as ``fastjson.loads`` does."""
    if _DECODER is not None:
        ok = line.isascii()
        if not ok:
            try:
                line.decode("utf-8")  # fastjson refuses a line that is not UTF-8: so must we
                ok = True
            except UnicodeDecodeError:
                pass
        if ok:
            try:
                e = _DECODER.decode(line)
            except _FAILED:
                pass  # not an object, a field of another shape, NaN, a lone surrogate, ...: the exact reader
            else:
                return _reduced(e), True
    return loads(line), False


def _reduced(e: Any) -> dict[str, Any]:
    m = e.message
    return {"type": e.type, "timestamp": e.timestamp, "isSidechain": e.isSidechain,
            "isApiErrorMessage": e.isApiErrorMessage, "requestId": e.requestId, "uuid": e.uuid,
            "agentId": e.agentId, "cwd": e.cwd,
            "message": None if m is None or e.type == "user" else
            {"id": m.id, "model": m.model, "stop_reason": m.stop_reason, "usage": m.usage}}


def add(usage: TranscriptUsage, entry: dict[str, Any], reduced: bool, line: bytes) -> None:
    """``usage.add_entry`` with the entry ``decode`` gave; a reduced user entry is decoded whole when
    its content can matter: the first one (the prompt) and one that may hold an interruption notice
    (the notice, or a ``\\u`` escape that could spell it)."""
    if reduced and entry["type"] == "user" and (usage.first_prompt is None or _INTERRUPTED in line
                                                 or b"\\u" in line):
        entry = loads(line)
    usage.add_entry(entry)


def feed_lines(usage: TranscriptUsage, lines: list[bytes]) -> None:
    """``usage.feed`` of these lines (same lines counted, skipped and added)."""
    for line in lines:
        if not line.strip():
            continue
        try:
            entry, reduced = decode(line)
        except ValueError:
            usage.bad_lines += 1
            continue
        if isinstance(entry, dict):
            add(usage, entry, reduced, line)


class Region:
    """The complete lines ``data[:end]`` of a transcript, decoded in place: a line is handed to
    msgspec as a slice of the buffer (no copy), once the whole region is known to be UTF-8."""

    def __init__(self, data: bytes, end: int) -> None:
        self.data = data
        self.end = end
        self.view = memoryview(data)
        self.utf8 = False
        if _DECODER is not None:
            if data.isascii():
                self.utf8 = True
            else:
                try:
                    str(self.view[:end], "utf-8")
                    self.utf8 = True
                except UnicodeDecodeError:
                    pass  # lines are checked one by one (``decode``)

    def decode(self, a: int, b: int) -> tuple[Any, bool]:
        """``decode`` of the line ``data[a:b]``."""
        if self.utf8:
            try:
                e = _DECODER.decode(self.view[a:b])
            except _FAILED:
                pass
            else:
                return _reduced(e), True
        return decode(self.data[a:b])

    def add(self, usage: TranscriptUsage, entry: dict[str, Any], reduced: bool, a: int, b: int) -> None:
        """``add`` for the line ``data[a:b]``."""
        data = self.data
        if reduced and entry["type"] == "user" and (usage.first_prompt is None or data.find(_INTERRUPTED, a, b) >= 0
                                                     or data.find(b"\\u", a, b) >= 0):
            entry = loads(data[a:b])
        usage.add_entry(entry)

    def lines_with(self, needle: bytes) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` of each line (split at newlines) that holds ``needle``."""
        data, end = self.data, self.end
        pos = 0
        while True:
            i = data.find(needle, pos, end)
            if i < 0:
                return
            a = data.rfind(b"\n", pos, i)
            a = pos if a < 0 else a + 1
            b = data.find(b"\n", i, end)
            if b < 0:  # pragma: no cover - end is just after a newline
                b = end
            yield a, b
            pos = b + 1


def transcript_usage(data: bytes) -> tuple[TranscriptUsage, int]:
    """``usage.read_transcript`` of a whole file's bytes: the usage and the length of its complete lines."""
    usage = TranscriptUsage()
    end = data.rfind(b"\n") + 1
    _feed(usage, data, end)
    return usage, end


def file_usage(path: str, chunk: int) -> tuple[TranscriptUsage, int, bytes]:
    """``usage.read_transcript(path)``, read ``chunk`` bytes at a time (memory: a chunk and the longest
    line): the usage, the offset after its last complete line, and the file's first 256 kB."""
    usage = TranscriptUsage()
    offset = 0
    rest = head = b""
    with open(path, "rb") as fh:
        while True:
            data = fh.read(chunk)
            if not data:
                break
            if rest:
                data = rest + data
            if not offset and not rest:
                head = data[:256 << 10]
            end = data.rfind(b"\n") + 1
            _feed(usage, data, end)
            rest = data[end:]
            offset += end
    return usage, offset, head


def _feed(usage: TranscriptUsage, data: bytes, end: int) -> None:
    """Add the complete lines ``data[:end]`` (split at newlines, as ``read_transcript`` splits them)."""
    if _DECODER is None:
        usage.feed(data[:end])
        return
    region = Region(data, end)
    find = data.find
    pos = 0
    while pos < end:
        nl = find(b"\n", pos, end)
        if nl > pos:
            try:
                entry, reduced = region.decode(pos, nl)
            except ValueError:
                if data[pos:nl].strip():  # a blank line is no bad line
                    usage.bad_lines += 1
            else:
                if isinstance(entry, dict):
                    region.add(usage, entry, reduced, pos, nl)
        pos = nl + 1


def first_cwd(path: str, data: bytes | None = None) -> str | None:
    """The ``cwd`` of a transcript's first entries (the project it ran in); ``data``: the file's
    bytes when they are read already."""
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
            entry, _ = decode(line)
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


class AgentMeta(TypedDict, total=False):
    """The fields read from Claude Code's ``agent-<id>.meta.json`` (checked where they are used)."""
    agentType: object
    finished: object
    inWorkflowRun: object
    toolUseId: object
    requestShape: object
    model: object


def agent_meta(path: str) -> AgentMeta:
    """The ``agent-<id>.meta.json`` beside an agent transcript (``{}`` when missing or unreadable)."""
    base = path[:-6] if path.endswith(".jsonl") else path
    try:
        meta = store.read_json(base + ".meta.json", {})
    except (store.StoreError, OSError):
        return {}
    return cast(AgentMeta, meta) if isinstance(meta, dict) else {}


# ------------------------------------------------------------------ reading in worker processes

PARALLEL_FROM_BYTES = 20 << 20  # read in worker processes from this much on (forking costs ~50 ms)
WORKERS = 2
WORKER_NICE = 2  # a little below the parent: committing, not reading, is what the import waits for
CHUNK_FILES = 4  # files a worker reads per task

J = TypeVar("J")
R = TypeVar("R")


def workers(total_bytes: int) -> int:
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


def _read_all(read: Callable[[J], R], jobs: list[J]) -> list[R]:
    return [read(job) for job in jobs]


class Reader(Generic[J, R]):
    """``read`` of each job, in order: by worker processes (forked when it is made, before any
    thread -- the progress bar -- runs) or here, without them; what is left when a worker dies is
    read here.  ``read`` is a module-level function (a worker gets it by name)."""

    def __init__(self, jobs: list[J], workers: int, read: Callable[[J], R]) -> None:
        from collections import deque
        from concurrent.futures import Future, ProcessPoolExecutor

        self.jobs = jobs
        self.read = read
        self.pool: ProcessPoolExecutor | None = None
        self.futures: deque[Future[list[R]]] = deque()
        if not workers or not jobs:
            return
        import multiprocessing

        for stream in (sys.stdout, sys.stderr):  # a forked worker flushes what it inherited when it exits
            try:  # noqa: SIM105
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        try:
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_worker_start)
            for i in range(0, len(jobs), CHUNK_FILES):  # all submitted now: the workers start here
                self.futures.append(self.pool.submit(_read_all, read, jobs[i:i + CHUNK_FILES]))
        except (OSError, ImportError, NotImplementedError, ValueError, RuntimeError):  # no semaphores, no fork
            self.close()

    def ready(self) -> bool:
        """Whether the next result is there without waiting (reading here never waits)."""
        return not self.futures or self.futures[0].done()

    def __iter__(self) -> Iterator[R]:
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
            yield self.read(job)

    def close(self) -> None:
        self.futures.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
