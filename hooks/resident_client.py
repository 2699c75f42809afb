"""The hook's side of the resident worker (``lib/model_strategy/runtime/entry/resident.py``).

``ask(event, root)``: connect to the data home's resident, send it this process's environment,
directory and event, hand it stdin, stdout and stderr (``SCM_RIGHTS``) once it has said it takes
the hook, and wait for the exit code of the hook it ran.  None when it did not run it -- no data
home in the environment (a manual run: the package discovers it), ``MODEL_STRATEGY_RESIDENT=off``,
no ``AF_UNIX``, no resident (one is started for the next hook), a refusal or no answer within 2 s
-- and the hook then runs in this process, with its stdin untouched: the resident gets it only
with this side's ``G``.

Here, not in the package: importing even the package's ``__init__`` files costs more than all of
this, and ``hook.py`` itself is compiled on every hook (this module's bytecode is cached).
Standard library only; the protocol's words are ``resident``'s (a test holds them equal).
"""

import os
import sys

MAGIC, SOCKET, LOCK = b"msr1", "resident.sock", "resident.lock"
RETRY_S = 60  # a hook starts a resident at most once in this long (the lock file's time)
ENV, OFF = "MODEL_STRATEGY_RESIDENT", ("off", "0", "false", "no")
ACCEPTED, GO = b"A", b"G"
FDS = (0, 1, 2)
WAIT_S = 2.0  # for the resident to take the hook; then it runs here


def ask(event: str, root: str) -> int | None:
    """The exit code of this hook as the resident ran it, or None: run it here."""
    data = os.environ.get("MODEL_STRATEGY_DATA_DIR") or os.environ.get("CLAUDE_PLUGIN_DATA")
    if not data or event == "resident" or os.environ.get(ENV, "").strip().lower() in OFF:
        return None
    try:
        import _socket

        cwd = os.getcwd()
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    except (ImportError, AttributeError, OSError):  # no AF_UNIX (Windows)
        return None
    folder = os.path.join(cwd, data, "cache")  # a relative data home is the hook's, as the package reads it
    taken = False
    try:
        try:
            os.chdir(folder)  # the socket by its name: a socket path is limited to ~104 bytes, a data home is not
            sock.connect(SOCKET)
        except OSError:
            os.chdir(cwd)  # the resident starts where the hook runs (it finds the data home the same way)
            start(folder, root)
            return None
        sock.settimeout(WAIT_S)
        sock.sendall(request(event, root, cwd))
        if sock.recv(1) == ACCEPTED:  # else refused (it then stops: the next hook starts a current one) or gone
            # from here the resident's child owns stdin and stdout (sent only now: a resident that never
            # says A must not hold them, or the hook's pipes would stay open after it exits)
            sock.sendmsg([GO], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds())])
            taken = True
    except OSError:
        pass
    finally:
        os.chdir(cwd)
        if not taken:
            sock.close()
    if not taken:
        return None
    try:
        sock.settimeout(None)
        code = sock.recv(1)
    except OSError:
        code = b""
    return code[0] if code else 0  # no code: the child was killed mid-hook; what it wrote stands


def request(event: str, root: str, cwd: str) -> bytes:
    """The 4-byte length, then the fields (``resident.FIELDS``) separated by two NULs; the
    environment's items by one (neither a name nor a value can hold a NUL)."""
    env = b"\0".join(k + b"=" + v for k, v in os.environb.items())
    streams = ",".join(getattr(s, "encoding", None) or "utf-8" for s in (sys.stdin, sys.stdout, sys.stderr))
    body = b"\0\0".join([MAGIC, os.fsencode(root), os.fsencode(sys.executable), sys.version.encode(),
                         event.encode(), os.fsencode(cwd), streams.encode(), env])
    return len(body).to_bytes(4, "big") + body


def fds() -> bytes:
    return b"".join(fd.to_bytes(4, sys.byteorder) for fd in FDS)  # a C int array, as SCM_RIGHTS wants


def start(folder: str, root: str) -> None:
    """Start the resident, detached (its own session; Claude Code does not wait for it).  At most
    once in RETRY_S (the lock file's time): one that cannot start must not cost every hook a process."""
    import time

    lock = os.path.join(folder, LOCK)
    try:
        if time.time() - os.stat(lock).st_mtime < RETRY_S:
            return
    except OSError:
        pass
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
        os.utime(lock)
        script = os.path.join(root, "hooks", "hook.py")
        os.posix_spawn(sys.executable, [sys.executable, "-E", "-S", script, "resident"], os.environ, setsid=True,
                       file_actions=[(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in FDS])
    except (OSError, AttributeError, NotImplementedError):  # no posix_spawn: every hook runs on its own
        pass
