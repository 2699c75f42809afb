"""The one error path of every command: bad input (``BadInput``), where the run answers (a slash command
or a terminal: ``set_slash``, ``command``), and one line per problem (``fail``, ``os_problem``)."""

from __future__ import annotations

import errno
import sys

from model_strategy.commands.base.cells import terminal_safe


class BadInput(ValueError):
    """Bad command-line input; the message is the one line shown to the user."""


_slash = False


def set_slash(on: bool) -> None:
    """Where this run answers: a slash command in a Claude Code session (``--plugin-data``) or a terminal."""
    global _slash
    _slash = on


def command(sub: str, args: str = "") -> str:
    """How the user runs ``sub`` where they are: ``/model-strategy:catalog`` in a session,
    ``bin/model-strategy catalog`` in a terminal (``report`` is plain ``/model-strategy`` in a session)."""
    if _slash:
        name = "/model-strategy" if sub == "report" else f"/model-strategy:{sub}"
    else:
        name = f"bin/model-strategy {sub}"
    return f"{name} {args}" if args else name


def fail(exc: Exception, slash: bool, code: int | None = None) -> int:
    """Report a command's problem as one line and return the exit code.  In a slash command the line
    goes to stdout with exit 0 (Claude Code drops a failing ``!`` command's output, so the model could
    not explain it); in a terminal to stderr with ``code``, by default 2 for bad input and 1 otherwise."""
    text = os_problem(exc) if isinstance(exc, OSError) else str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(terminal_safe(f"model-strategy: {text}"), file=sys.stdout if slash else sys.stderr)
    if slash:
        return 0
    return code if code is not None else (2 if isinstance(exc, BadInput) else 1)


#: what went wrong, per errno, for a file-system problem a command hits (full, read-only, no access)
_OS_REASONS = {"ENOSPC": "no space left on the device", "EDQUOT": "disk quota exceeded",
               "EROFS": "the file system is read-only", "EACCES": "permission denied", "EPERM": "not permitted",
               "ENOTDIR": "a part of the path is not a folder", "ELOOP": "a symbolic link is in the way",
               "EISDIR": "it is a folder", "ENOENT": "it does not exist"}


def os_problem(exc: OSError) -> str:
    """One line for a file-system error: the path and what failed (``could not write
    /data/config.json: no space left on the device``), never a traceback."""
    name = errno.errorcode.get(exc.errno or 0, "")
    reason = _OS_REASONS.get(name) or (exc.strerror or str(exc)).splitlines()[0]
    path = exc.filename or ""
    if exc.filename2:
        path = f"{path} → {exc.filename2}"
    verb = "write" if name in ("ENOSPC", "EDQUOT", "EROFS") else "use"
    if not path:  # a short write or the like: our own message says which file
        return f"could not {verb} a file in the data home: {str(exc).splitlines()[0][:200]}"
    if name == "ELOOP" and exc.strerror and "symbolic link" in exc.strerror:  # store.LinkRefused says it all
        return exc.strerror
    return f"could not {verb} {path}: {reason}"
