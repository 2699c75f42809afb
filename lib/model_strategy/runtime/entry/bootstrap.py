"""Build the plugin's own Python environment: ``<data dir>/venv`` from ``requirements.txt``.

Runs as a script with any Python >= 3.10 (standard library only).  The SessionStart hook starts it in
the background when the venv is missing or was built from other requirements (a plugin update), and
``bin/model-strategy`` runs it in the foreground before a command needs it.  A marker file holding the
requirements' digest says the venv is complete; a half-built venv is never used.  The hooks need no
venv at all (standard library only): until it is ready they run on the system ``python3`` that
``hooks/run`` found, so routing and recording work from the first spawn; only the report commands
(pydantic, rich, genai-prices) wait for it.  ``MODEL_STRATEGY_PYTHON`` points hooks and commands at an
existing interpreter instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from pathlib import Path

if __package__:
    from model_strategy.runtime.base import clock, paths
else:  # run as a script by a bare interpreter: import the package from this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from model_strategy.runtime.base import clock, paths

MARKER = ".model-strategy-ready"
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # never write through a link in the data home
NOTICE = "setup-notice"  # <data>/cache/setup-notice: the session that was last told about the setup


def _root() -> Path:
    env = os.environ.get("CLAUDE_PLUGIN_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[4]


def _data() -> Path:
    return Path(paths.data_dir())  # the one rule (paths.py), created 0700


def requirements_digest(root: Path | None = None) -> str:
    req = (root or _root()) / "requirements.txt"
    return hashlib.sha256(req.read_bytes()).hexdigest()


def venv_state(data: Path | None = None, root: Path | None = None) -> str:
    """``ready``, ``stale`` (built from other requirements) or ``missing``."""
    marker = (data or _data()) / "venv" / MARKER
    try:
        built = marker.read_text().strip()
    except OSError:
        return "missing"
    return "ready" if built == requirements_digest(root) else "stale"


def build(data: Path, root: Path, log=print) -> Path:  # type: ignore[no-untyped-def]
    """Create a fresh venv beside the live one, install, mark it ready, then swap it in."""
    import shutil
    import subprocess

    digest = requirements_digest(root)
    target = data / "venv"
    work = data / f"venv.building-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    log(f"creating {work}")
    subprocess.run([sys.executable, "-m", "venv", str(work)], check=True)
    py = work / "bin" / "python"
    if not py.exists():  # pragma: no cover - Windows layout
        py = work / "Scripts" / "python.exe"
    subprocess.run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q",
                    "-r", str(root / "requirements.txt")], check=True)
    env = dict(os.environ, PYTHONPATH=str(root / "lib"), MODEL_STRATEGY_DATA_DIR=str(data))
    snapshot = "from model_strategy.runtime.money import pricing; pricing.ensure_snapshot(force=True)"
    subprocess.run([str(py), "-c", snapshot], check=True, env=env)
    (work / MARKER).write_text(digest + "\n")
    if target.exists():
        old = data / f"venv.old-{int(clock.epoch())}"
        os.replace(target, old)
        os.replace(work, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, target)
    log(f"ready: {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    """Build the venv unless ready.  ``--wait``: wait for a setup already running (foreground use)."""
    import subprocess

    wait = "--wait" in (sys.argv[1:] if argv is None else argv)
    os.umask(0o077)  # everything under the data home is private: files 0600, dirs 0700
    data, root = _data(), _root()
    import fcntl

    lock = os.open(data / "bootstrap.lock", os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        print("model-strategy: another setup is already running")
        os.close(lock)
        return 0
    try:
        if venv_state(data, root) == "ready":
            return 0
        build(data, root)
        (data / "bootstrap.failed").unlink(missing_ok=True)
        return 0
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"model-strategy: setup failed: {exc}", file=sys.stderr)
        with contextlib.suppress(OSError), os.fdopen(os.open(data / "bootstrap.failed", os.O_WRONLY | os.O_CREAT
                                                             | os.O_TRUNC | NOFOLLOW, 0o600), "w") as fh:
            fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {exc}\n")
        return 1
    finally:
        os.close(lock)


def start_background() -> None:
    """Start ``main`` detached (it locks itself, so a setup already running is left alone)."""
    import subprocess

    data = _data()
    fd = os.open(data / "bootstrap.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW, 0o600)
    with os.fdopen(fd, "ab") as log:
        subprocess.Popen([sys.executable, str(Path(__file__).resolve())], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL, start_new_session=True)


def _first_notice(data: Path, session_id: str) -> bool:
    """True once per session: the setup notice is shown at most once in a session (SessionStart also
    fires on resume, clear and compact)."""
    path = data / "cache" / NOTICE
    try:
        if path.read_text().strip() == session_id:
            return False
    except OSError:
        pass
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(session_id + "\n")
    except OSError:
        pass
    return True


def check_on_session_start(session_id: str = "") -> list[str]:
    """SessionStart: record the plugin root; start building a missing or stale venv in the background
    and say so once per session.  Never waits, never imports anything heavy."""
    lines: list[str] = []
    data, root = _data(), _root()
    try:  # the /model-strategy shortcut launcher runs the root recorded here (it moves on updates)
        root_file = data / "plugin-root"
        if not root_file.exists() or root_file.read_text().strip() != str(root):
            fd = os.open(root_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{root}\n")
    except OSError:
        pass
    if os.environ.get("MODEL_STRATEGY_PYTHON"):
        return lines
    state = venv_state(data, root)
    if state == "ready":
        return lines
    start_background()
    if state == "stale":
        why = "requirements changed: rebuilding its Python environment in the background"
    elif (data / "bootstrap.failed").exists():
        why = f"setting up its Python environment failed before (see {data / 'bootstrap.log'}); retrying"
    else:
        why = "setting up its Python environment in the background (first run, about a minute)"
    if _first_notice(data, session_id):
        lines.append(f"{why}; routing and recording already work, the report commands wait for it")
    return lines


if __name__ == "__main__":
    sys.exit(main())
