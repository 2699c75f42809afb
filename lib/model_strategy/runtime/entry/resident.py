"""The resident hook worker: each hook run by a fork of a process that has the code loaded.

A hook is a new Python process, and most of its time is the interpreter and loading the package
(some 40 modules on PreToolUse), not its work.  The first hook of a data home starts one resident
(``hook.py resident``, detached, its own session): it loads every hook module once and listens on
``<data>/cache/resident.sock`` (in the private data home).  It keeps one *spare* child forked ahead,
waiting in ``accept``: the fork and its checks happen between hooks, not during one.

A hook (``hooks/resident_client.py``) connects and sends its environment, working directory and
event.  The spare that takes it tells the resident (which forks the next spare), checks that it may
run it -- the same plugin root, interpreter and version -- and says ``A``; the hook answers ``G``
with its stdin, stdout and stderr (``SCM_RIGHTS``; from then on it never touches them), and the
spare becomes that hook: its descriptors, environment, directory and time zone, a fresh process's
state, the ledger's own locks.  It runs ``main`` as the hook would have, and
``main.done`` sends the exit code back.  So a hook costs the interpreter, the client and the work.

Anything else and the hook runs in its own process, as it always could: no resident (the client
starts one for the next hook), a dead one's socket, a refusal (another root or interpreter: the
resident stops, the next hook starts a current one), no ``A`` within 2 s, no ``AF_UNIX`` (Windows),
no data home in the environment (a manual run) or ``MODEL_STRATEGY_RESIDENT=off``.  A spare checks
every ``TICK_S`` that the code on disk is the code it runs, that its socket is still its own and that
the resident lives; when not, or after ``IDLE_S`` without a hook, the resident exits.  Standard
library only.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from collections.abc import Callable
    from typing import NoReturn

    Run = Callable[[str, int], NoReturn]  # (event, the hook's socket): ``main._take``

ENV = "MODEL_STRATEGY_RESIDENT"  # "off" (or 0, false, no): every hook runs in its own process
OFF = ("off", "0", "false", "no")
SOCKET = "resident.sock"  # in <data>/cache
LOCK = "resident.lock"  # held (flock) by the running resident; holds its pid
MAGIC = b"msr1"  # the protocol's version: a request's first field
FIELDS = ("magic", "root", "executable", "version", "event", "cwd", "encodings", "environ")
RETRY_S = 60  # a hook starts a resident at most once in this long (the lock file's time; a resident
# that got as far as listening sets it to the epoch, so only one that failed to start holds hooks back)
IDLE_S = 30 * 60  # a resident with no hook for this long exits
TICK_S = 5.0  # how often a waiting spare checks the code, its socket and the resident
WARM_AFTER_S = 0.01  # a spare with no hook this soon after it was forked warms up (``_touch``)
WAIT_GO_S = 5.0  # a spare whose hook says nothing (request, then G) for this long drops it
FDS = (0, 1, 2)
MAX_REQUEST = 1 << 24  # bytes: an environment is far smaller
ACCEPTED, GO, REFUSED = b"A", b"G", b"R"  # between a spare and its hook
TOOK, QUIT = b"T", b"Q"  # from a spare to the resident
# the modules a hook may load: the resident imports them once, so its children never do
PRELOAD = (
    "model_strategy.runtime.entry.main", "model_strategy.runtime.entry.hooks",
    "model_strategy.runtime.entry.spawns", "model_strategy.runtime.entry.recording",
    "model_strategy.runtime.entry.statusline", "model_strategy.runtime.entry.slashargs",
    "model_strategy.runtime.routing.selector", "model_strategy.runtime.routing.outcomes",
    "model_strategy.runtime.routing.learning", "model_strategy.runtime.routing.workflow",
    "model_strategy.runtime.limits.budget", "model_strategy.runtime.limits.windows",
    "model_strategy.runtime.books.recorder", "model_strategy.runtime.books.usage",
    "model_strategy.runtime.books.archive", "model_strategy.runtime.money.pricing",
    "model_strategy.runtime.money.rates", "model_strategy.runtime.settings.config_rules", "decimal",
)


def root() -> str:
    """The plugin root this code runs from (``<root>/lib/model_strategy/runtime/entry/resident.py``)."""
    path = os.path.abspath(__file__)
    for _ in range(5):
        path = os.path.dirname(path)
    return path


def folder(data: str) -> str:
    return os.path.join(data, "cache")


def serve(run: Run) -> int:
    """The resident (``hook.py resident``); returns when a spare says ``QUIT`` or spares keep dying.
    ``run(event, socket)`` runs a hook in a spare that became it (``main._take``)."""
    import contextlib
    import fcntl
    import gc
    import signal
    import socket

    from model_strategy.runtime.base import paths

    here = folder(paths.data_dir())
    os.makedirs(here, mode=0o700, exist_ok=True)
    os.chdir(here)  # the socket by its name (a socket path is limited to ~104 bytes)
    lock = os.open(LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another resident serves this data home
    os.ftruncate(lock, 0)
    os.write(lock, f"{os.getpid()}\n".encode())
    for name in PRELOAD:
        __import__(name)
    stamp = _stamp()
    gc.collect()
    gc.freeze()  # a child's collections never walk (so never copy) the resident's objects
    with contextlib.suppress(FileNotFoundError):
        os.unlink(SOCKET)  # a dead resident's (we hold the lock: no live one uses it)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(SOCKET)
    os.chmod(SOCKET, 0o600)  # only this user may connect (whatever the umask it was started with)
    sock.listen(64)
    mine = os.stat(SOCKET).st_ino
    os.utime(lock, (0, 0))  # started: a hook that finds no resident later may start one at once (RETRY_S)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    me, lost = os.getpid(), 0
    while lost < 3:  # spares that die without a word (killed): after three in a row, stop
        said = _fork_spare(sock, lock, stamp, mine, me, run)
        if said == QUIT:
            break
        lost = 0 if said == TOOK else lost + 1
    if _still_mine(mine):
        os.unlink(SOCKET)
    return 0


def _fork_spare(sock: socket.socket, lock: int, stamp: dict[str, int], mine: int, parent: int, run: Run) -> bytes:
    """Fork the next spare and wait for its word: ``TOOK``, ``QUIT``, or nothing (it died)."""
    told, tell = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(told)
        os.close(tell)
        return QUIT  # no more processes: hooks run on their own
    if pid == 0:
        os.close(told)
        os.close(lock)
        _spare(sock, tell, stamp, mine, parent, run)
    os.close(tell)
    try:
        return os.read(told, 1)
    except OSError:
        return b""
    finally:
        os.close(told)


def _spare(sock: socket.socket, tell: int, stamp: dict[str, int], mine: int, parent: int, run: Run) -> NoReturn:
    """Wait for a hook and become it (``_become``), or tell the resident to quit."""
    import signal

    code = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        conn = _wait(sock, tell, stamp, mine, parent)
        if conn is not None:
            code = _become(conn, parent, run)
    except BaseException:  # a spare never returns into the resident's loop
        pass
    finally:
        os._exit(code)


def _wait(sock: socket.socket, tell: int, stamp: dict[str, int], mine: int, parent: int) -> socket.socket | None:
    """The next hook's connection, once the resident is told (``TOOK``); None once it is told to
    quit: code changed on disk, the socket is not ours any more, the resident died, or it idled."""
    import time

    born = time.monotonic()
    sock.settimeout(WARM_AFTER_S)
    warm = False
    while True:
        fresh, ours = _fresh(stamp), _still_mine(mine)
        if not fresh or not ours or os.getppid() != parent or time.monotonic() - born > IDLE_S:
            if not fresh and ours:
                os.unlink(SOCKET)  # no hook may reach this resident again
            os.write(tell, QUIT)
            return None
        try:
            conn, _ = sock.accept()
        except (TimeoutError, InterruptedError):
            if not warm:  # no hook right behind the last one: time to copy the pages a hook will write
                _touch()
                warm = True
                sock.settimeout(TICK_S)
            continue
        sock.close()
        os.write(tell, TOOK)
        os.close(tell)
        return conn


def _touch() -> None:
    """Take a reference to every object the package's modules reach (their functions' code, constants
    and names, their classes and tables): each such write copies the page it is on out of the memory
    shared with the resident, here, between hooks, instead of during the next hook, which would
    otherwise copy some 500 pages on first touch (~1 ms of a PreToolUse)."""
    import types

    seen: set[int] = set()
    stack: list[object] = [m for name, m in list(sys.modules.items()) if name.startswith("model_strategy")]
    ours = {id(m) for m in stack}
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types.ModuleType):
            if id(obj) in ours:  # the standard library's modules are reached only through ours
                stack.extend(vars(obj).values())
        elif isinstance(obj, types.FunctionType):
            stack.append(obj.__code__)
            stack.extend(obj.__defaults__ or ())
        elif isinstance(obj, types.CodeType):
            stack.extend(obj.co_consts)
            stack.extend(obj.co_names)
        elif isinstance(obj, type):
            stack.extend(vars(obj).values())
        elif isinstance(obj, (tuple, list, frozenset, set)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())


def _still_mine(inode: int) -> bool:
    try:
        return os.stat(SOCKET).st_ino == inode
    except OSError:
        return False


def _stamp() -> dict[str, int]:
    """The modification time of each of the package's files the resident has loaded."""
    out: dict[str, int] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if (name == "model_strategy" or name.startswith("model_strategy.")) and path:
            try:
                out[path] = os.stat(path).st_mtime_ns
            except OSError:
                out[path] = -1
    return out


def _fresh(stamp: dict[str, int]) -> bool:
    for path, mtime in stamp.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def parse(body: bytes) -> dict[str, bytes] | None:
    """A request's fields by name (``FIELDS``), or None when ``body`` is not a request."""
    parts = body.split(b"\0\0")
    if len(parts) != len(FIELDS) or parts[0] != MAGIC:
        return None
    return dict(zip(FIELDS, parts, strict=True))


def environ(raw: bytes) -> dict[bytes, bytes]:
    """The environment a request carries (``NAME=value`` items separated by one NUL)."""
    out: dict[bytes, bytes] = {}
    for item in raw.split(b"\0") if raw else ():
        key, _, value = item.partition(b"=")
        if key:
            out[key] = value
    return out


def _receive(conn: socket.socket) -> bytes:
    """The request's body (after its 4-byte length), or ``b""`` when it came cut, too long or late."""
    conn.settimeout(WAIT_GO_S)
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        more = conn.recv(1 << 16)
        if not more or len(data) > MAX_REQUEST:
            return b""
        data += more
    return data[4:4 + int.from_bytes(data[:4], "big")]


def _go(conn: socket.socket) -> list[int] | None:
    """The hook's ``G`` and, with it, its stdin, stdout and stderr; None when it gave up (it then
    runs on its own).  The descriptors come only now: sent with the request, they would sit in
    the socket of a resident that never answers, and keep the hook's pipes open after it exits."""
    import socket

    data, ancillary, _, _ = conn.recvmsg(1, socket.CMSG_SPACE(4 * len(FDS)))
    conn.settimeout(None)
    fds = [int.from_bytes(raw[i:i + 4], sys.byteorder) for level, kind, raw in ancillary
           if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS for i in range(0, len(raw) - 3, 4)]
    if data != GO or len(fds) != len(FDS):
        for fd in fds:
            os.close(fd)
        return None
    return fds


def _become(conn: socket.socket, parent: int, run: Run) -> int:
    """Run the hook that connected on ``conn`` in this process, as it would have run in its own."""
    request = parse(_receive(conn))
    if request is None:
        conn.sendall(REFUSED)
        return 0
    if (request["root"] != os.fsencode(root()) or request["executable"] != os.fsencode(sys.executable)
            or request["version"] != sys.version.encode()):
        _stop(parent)  # not the plugin or interpreter this hook runs: the next hook starts its own
        conn.sendall(REFUSED)
        return 0
    conn.sendall(ACCEPTED)
    fds = _go(conn)
    if fds is None:
        return 0
    for target, fd in zip(FDS, fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    _take_over(request)
    run(request["event"].decode("utf-8", "replace"), conn.fileno())  # main.done answers on the socket


def _take_over(request: dict[str, bytes]) -> None:
    """This process's streams, environment, time zone and directory become the hook's.  Past the
    ``G`` the hook has handed over its stdin: whatever cannot be taken over is left as it is, and the
    hook runs anyway (a hook that ran nowhere would be lost)."""
    import contextlib
    import io
    import time

    for stream, encoding in zip((sys.stdin, sys.stdout, sys.stderr), request["encodings"].decode().split(","),
                                strict=False):
        if isinstance(stream, io.TextIOWrapper) and encoding != stream.encoding:
            with contextlib.suppress(LookupError, ValueError):  # an encoding this python lacks
                stream.reconfigure(encoding=encoding)
    want, have = environ(request["environ"]), os.environb
    zone = have.get(b"TZ")
    for key in [key for key in have if key not in want]:
        del have[key]
    for key, value in want.items():
        if have.get(key) != value:
            have[key] = value
    if have.get(b"TZ") != zone:
        time.tzset()  # the C library read the resident's TZ when it started
    with contextlib.suppress(OSError):  # a directory deleted since (a process would still be in it)
        os.chdir(request["cwd"])
    sys.argv = [os.path.join(root(), "hooks", "hook.py"), request["event"].decode("utf-8", "replace")]


def _stop(parent: int) -> None:
    """Stop the resident this spare came from (while it lives: never whoever inherited the spare)."""
    import signal

    if os.getppid() != parent:
        return
    try:
        os.unlink(SOCKET)  # the resident holds the lock: no newer one has bound this name
        os.kill(parent, signal.SIGTERM)
    except OSError:
        pass


def pid(data: str) -> int | None:
    """The pid of data home ``data``'s resident while one runs."""
    import fcntl

    try:
        fd = os.open(os.path.join(folder(data), LOCK), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held: it runs
            raw = os.read(fd, 32).strip()
            return int(raw) if raw.isdigit() else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def stop(data: str) -> bool:
    """Stop data home ``data``'s resident and its spare (tests; uninstalling); True when one ran.
    Its process group is its own (it leads its session), which holds the spare too."""
    import signal

    running = pid(data)
    if running is None:
        return False
    try:
        if os.getpgid(running) == running:
            os.killpg(running, signal.SIGTERM)
        else:  # started some other way (a test calling serve): only the resident
            os.kill(running, signal.SIGTERM)
    except OSError:
        return False
    return True
