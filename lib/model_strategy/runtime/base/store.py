"""The one write path for everything the plugin persists.

* a lock file beside the data (``<name>.lock``), taken with ``flock`` -- the protocol of the
  ``filelock`` package's ``UnixFileLock``, so the two exclude each other (tested).  ``filelock``
  itself is only imported where ``fcntl`` is missing (Windows): importing it costs 90-150 ms,
  more than a hook process may take in all;
* rewrites go to a temp file in the same directory, then ``os.replace`` (readers never see half a file);
* appends are one ``write`` of one JSON line, under the lock.
* nothing is written through a symbolic link: appends and lock files open with ``O_NOFOLLOW``, a
  rewrite checks what it replaces, and a folder of the data home that is a link is refused too
  (``LinkRefused``, one line; ``doctor`` lists the links).  A link in the data home would make the
  plugin write to wherever it points.

Standard library only, and the cheap part of it: this module is on the hooks' hot path.
"""

from __future__ import annotations

import errno
import os
import time

from . import fastjson, paths

TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class LockTimeout(RuntimeError):
    pass


class StoreError(ValueError):
    """A data file that cannot be read; the message is one line naming the file."""


class LinkRefused(OSError):
    """A write would go through a symbolic link in the data home; the message is one line."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.ELOOP, f"refusing to write through the symbolic link {path} "
                                      "(`model-strategy doctor` lists the links in the data home)")
        self.filename = path

    def __str__(self) -> str:
        return str(self.strerror)


NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def refuse_links(path: str) -> None:
    """Raise ``LinkRefused`` when ``path``, or a folder between it and the data home, is a symbolic
    link (the data home itself may be one: that is the user's choice of where it lives)."""
    home = _data_home()
    here = os.path.abspath(path)
    while True:
        if os.path.islink(here):
            raise LinkRefused(here)
        parent = os.path.dirname(here)
        if parent in (here, home) or not parent.startswith(home + os.sep):
            return
        here = parent


_HOME: tuple[object, str] | None = None


def _data_home() -> str:
    """The data home (``paths.locate``), remembered while the settings that pick it stay the same: a
    terminal's discovery reads files, too slow to repeat for every write of an import."""
    global _HOME
    key = (os.environ.get(paths.DATA_ENV), paths._override, os.environ.get("CLAUDE_PLUGIN_DATA"))
    if _HOME is None or _HOME[0] != key:
        _HOME = (key, os.path.abspath(paths.locate()[0]))
    return _HOME[1]


def _open_nofollow(path: str, flags: int) -> int:
    try:
        return os.open(path, flags | NOFOLLOW, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.EMLINK and os.path.islink(path)):
            raise LinkRefused(path) from None
        raise


class locked:
    """``with locked(path):`` -- an exclusive inter-process lock on ``path`` (created if missing)."""

    def __init__(self, lock_path: str, timeout: float = 5.0) -> None:  # well inside hook timeouts
        self.path = lock_path
        self.timeout = timeout
        self.fd = -1
        self._fallback: Any = None

    def __enter__(self) -> locked:
        ensure_dir(os.path.dirname(self.path))
        if fcntl is None:  # pragma: no cover - Windows
            import filelock

            self._fallback = filelock.FileLock(self.path, timeout=self.timeout)
            self._fallback.acquire()
            return self
        self.fd = _open_nofollow(self.path, os.O_RDWR | os.O_CREAT)
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    self.fd = -1
                    raise LockTimeout(f"could not lock {self.path} within {self.timeout:.0f}s") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    def __exit__(self, *exc: object) -> None:
        if self._fallback is not None:  # pragma: no cover - Windows
            self._fallback.release()
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = -1


dumps = fastjson.dumps
loads = fastjson.loads
FILE_MODE = 0o600  # spend, projects and settings are the user's business alone
DIR_MODE = 0o700


def ensure_dir(path: str) -> None:
    """Create a directory (and parents) private to the user."""
    if path and not os.path.isdir(path):
        os.makedirs(path, mode=DIR_MODE, exist_ok=True)


def atomic_write_bytes(path: str, data: bytes, mode: int = FILE_MODE, *, durable: bool = False,
                       check: Callable[[str], None] | None = None) -> None:
    """Replace ``path`` with ``data``: a temp file in the same folder, then ``os.replace`` (readers
    never see half a file); the temp file is removed when anything fails.  Call with the lock held.
    ``mode``: 0600 unless the file must run (0700).  ``durable``: the file is fsynced before it
    replaces ``path`` and the folder after (for a write that other files are deleted on the strength
    of).  ``check(temp path)`` runs before the replace: it may read the file back and raise, leaving
    ``path`` as it was."""
    folder, name = os.path.split(path)
    ensure_dir(folder)
    refuse_links(path)  # os.replace would not follow it, but a linked folder would take the file elsewhere
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
        if durable:
            _fsync_dir(folder)
    except BaseException as exc:
        try:  # noqa: SIM105 - contextlib is not imported on the hot path
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, LinkRefused):
            raise _named(exc, path) from exc
        raise


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


def atomic_write_json(path: str, obj: Any, *, indent: int | None = None) -> None:
    """Replace ``path`` with ``obj`` as JSON; call with the lock held."""
    if indent:
        import json

        text = json.dumps(obj, indent=indent, ensure_ascii=False)
        data = text.encode("utf-8", "backslashreplace")
    else:
        data = fastjson.encode(obj)
    atomic_write_bytes(path, data + b"\n")


def append_bytes(path: str, data: bytes) -> int:
    """Append ``data`` in one ``write``, after a newline when the file does not end with one (so
    nothing is glued onto a cut-off line).  Returns the file's size after it.  Lock held."""
    ensure_dir(os.path.dirname(path))
    refuse_links(os.path.dirname(path))
    fd = _open_nofollow(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        try:
            written = os.write(fd, data)
        except OSError as exc:
            raise _named(exc, path) from exc
        if written != len(data):  # a short write (disk full): the next append starts on a fresh line
            raise OSError(errno.ENOSPC, f"short write ({written} of {len(data)} bytes)", path)
        return size + written
    finally:
        os.close(fd)


def _named(exc: OSError, path: str) -> OSError:
    """The error with the file it was about (``os.write`` and a temp file's name say nothing useful)."""
    return OSError(exc.errno, exc.strerror or str(exc), path)


#: ``<data dir>/errors.log``, the one error log: each entry is a header line, ``--- <UTC time, ISO 8601>
#: <what failed>`` (``--- 2026-12-07T12:00:00Z pre_tool_use``), then the traceback; ``status`` counts them
ERROR_LOG = "errors.log"
ERROR_HEADER = "--- "


def log_error(what: str) -> str:
    """Append the exception being handled to the error log (the same single no-follow append as the
    ledger's: never through a link).  Returns the log's path, "" when it could not be written."""
    try:
        import traceback

        from . import clock

        log = os.path.join(paths.data_dir(), ERROR_LOG)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.epoch()))
        text = f"{ERROR_HEADER}{stamp} {what}\n{traceback.format_exc()}"
        append_bytes(log, text.encode("utf-8", "backslashreplace"))
        return log
    except Exception:  # the log is a courtesy: never fail over it
        return ""


def append_jsonl(path: str, obj: Any) -> int:
    """Append one JSON line (see ``append_bytes``); returns the offset after it.  Lock held."""
    return append_bytes(path, fastjson.encode(obj) + b"\n")


def read_json(path: str, default: Any = None) -> Any:
    """Read a JSON file; a missing file gives ``default``; a broken one raises ``StoreError``."""
    return read_json_raw(path, default)[0]


def read_json_raw(path: str, default: Any = None) -> tuple[Any, bytes]:
    """``read_json`` and the bytes it was read from (``b""`` for a missing file)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return default, b""
    try:
        return loads(data), data
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: not valid JSON ({str(exc).splitlines()[0]})") from None


def atomic_write_sealed(path: str, doc: dict[str, Any]) -> None:
    """Save cache document ``doc`` (not empty) with a checksum over the bytes of all the rest, as its
    last key (``"crc"``): one edited or damaged into other values (still valid JSON) is not trusted
    (``read_sealed``).  ``doc`` loses any ``crc`` it had.  Lock held, or a consistent snapshot."""
    import zlib

    doc.pop("crc", None)
    body = fastjson.encode(doc)
    atomic_write_bytes(path, b'%s,"crc":%d}\n' % (body[:-1], zlib.crc32(body)))


def read_sealed(path: str) -> tuple[Any, bool]:
    """A document ``atomic_write_sealed`` wrote, and whether its checksum holds -- checked on the
    bytes read, one crc32 (encoding it again to check it cost a PreToolUse ~0.7 ms over two caches).
    A missing file: ``(None, False)``; one that is not JSON raises ``StoreError``."""
    import zlib

    doc, raw = read_json_raw(path)
    head, sep, tail = raw.rstrip().rpartition(b',"crc":')
    return doc, (isinstance(doc, dict) and bool(sep) and tail[-1:] == b"}" and tail[:-1].isdigit()
                 and zlib.crc32(head + b"}") == int(tail[:-1]))


def quarantine(path: str) -> str:
    """Move a broken file aside (never delete data) and return where it went."""
    dest = f"{path}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    os.replace(path, dest)
    return dest


def read_json_or_quarantine(path: str, default: Any, warnings: list[str]) -> Any:
    """Like ``read_json`` but a broken file is moved aside with a one-line warning."""
    try:
        data = read_json(path, default)
    except StoreError as exc:
        dest = quarantine(path)
        warnings.append(f"{exc}; kept as {os.path.basename(dest)}, starting a fresh one")
        return default
    if data is not None and not isinstance(data, dict):
        dest = quarantine(path)
        warnings.append(f"{path}: expected a JSON object; kept as {os.path.basename(dest)}, starting a fresh one")
        return default
    return data


def iter_jsonl(path: str, errors: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Yield each JSON object line of ``path`` (``fastjson.jsonl``); bad lines are skipped and counted
    in ``errors``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return
    name = os.path.basename(path)
    for pos, _, obj in fastjson.jsonl(data):
        if isinstance(obj, dict):
            yield obj
        elif errors is not None:
            lineno = data.count(b"\n", 0, pos) + 1
            what = "not valid JSON" if obj is fastjson.NOT_JSON else "not a JSON object"
            errors.append(f"{name}:{lineno}: {what}, skipped")
