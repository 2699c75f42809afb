"""The one write path for everything the plugin persists.

* a lock file beside the data (``<name>.lock``), taken with ``flock`` -- the protocol of the
  ``filelock`` package's ``UnixFileLock``, so the two exclude each other (tested).  ``filelock``
  itself is only imported where ``fcntl`` is missing (Windows): importing it costs 90-150 ms,
  more than a hook process may take in all;
* rewrites go to a temp file in the same directory, then ``os.replace`` (readers never see half a file);
* appends are one ``write`` of one JSON line, under the lock.

Standard library only, and the cheap part of it: this module is on the hooks' hot path.
"""

from __future__ import annotations

import os
import time

from . import fastjson

TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class LockTimeout(RuntimeError):
    pass


class StoreError(ValueError):
    """A data file that cannot be read; the message is one line naming the file."""


class locked:
    """``with locked(path):`` -- an exclusive inter-process lock on ``path`` (created if missing)."""

    def __init__(self, lock_path: str, timeout: float = 5.0) -> None:  # well inside hook timeouts
        self.path = lock_path
        self.timeout = timeout
        self.fd = -1
        self._fallback: Any = None

    def __enter__(self) -> locked:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        if fcntl is None:  # pragma: no cover - Windows
            import filelock

            self._fallback = filelock.FileLock(self.path, timeout=self.timeout)
            self._fallback.acquire()
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
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


def atomic_write_json(path: str, obj: Any, *, indent: int | None = None) -> None:
    """Replace ``path`` with ``obj`` as JSON; call with the lock held."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    if indent:
        import json

        text = json.dumps(obj, indent=indent, ensure_ascii=False)
    else:
        text = dumps(obj)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:  # noqa: SIM105 - contextlib is not imported on the hot path
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def append_jsonl(path: str, obj: Any) -> None:
    """Append one JSON line (a single ``write``); call with the lock held."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    line = (dumps(obj) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_json(path: str, default: Any = None) -> Any:
    """Read a JSON file; a missing file gives ``default``; a broken one raises ``StoreError``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return default
    try:
        return loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: not valid JSON ({str(exc).splitlines()[0]})") from None


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
    """Yield each JSON object line of ``path``; bad lines are skipped and counted in ``errors``."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        return
    name = os.path.basename(path)
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = loads(line)
            except (ValueError, UnicodeDecodeError):
                if errors is not None:
                    errors.append(f"{name}:{lineno}: not valid JSON, skipped")
                continue
            if isinstance(obj, dict):
                yield obj
            elif errors is not None:
                errors.append(f"{name}:{lineno}: not a JSON object, skipped")
