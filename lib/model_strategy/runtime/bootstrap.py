"""Build the plugin's own Python environment: ``<data dir>/venv`` from ``requirements.txt``.

Runs as a script with any Python >= 3.10 (standard library only): the ``hooks/run`` launcher starts
it in the background when the venv is missing, and the SessionStart hook re-runs it when
``requirements.txt`` changed (a plugin update).  A marker file holding the requirements' digest
says the venv is complete; a half-built venv is never used.  Until it is ready the hooks fail
open with one message.  ``MODEL_STRATEGY_PYTHON`` points the hooks at an existing interpreter instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

MARKER = ".model-strategy-ready"


def _root() -> Path:
    env = os.environ.get("CLAUDE_PLUGIN_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[3]


def _data() -> Path:
    env = os.environ.get("MODEL_STRATEGY_DATA_DIR") or os.environ.get("CLAUDE_PLUGIN_DATA")
    path = Path(env) if env else Path.home() / ".claude" / "plugins" / "data" / "model-strategy"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    subprocess.run([str(py), "-c", "from model_strategy.runtime import pricing; pricing.ensure_snapshot(force=True)"],
                   check=True, env=env)
    (work / MARKER).write_text(digest + "\n")
    if target.exists():
        old = data / f"venv.old-{int(time.time())}"
        os.replace(target, old)
        os.replace(work, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, target)
    log(f"ready: {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    """Build the venv unless ready.  ``--wait``: wait for a setup already running (foreground use)."""
    wait = "--wait" in (sys.argv[1:] if argv is None else argv)
    data, root = _data(), _root()
    import fcntl

    lock = os.open(data / "bootstrap.lock", os.O_RDWR | os.O_CREAT, 0o644)
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
        (data / "bootstrap.failed").write_text(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {exc}\n")
        return 1
    finally:
        os.close(lock)


def start_background() -> None:
    """Start ``main`` detached (used when the venv exists but is stale)."""
    data = _data()
    with open(data / "bootstrap.log", "ab") as log:
        subprocess.Popen([sys.executable, str(Path(__file__).resolve())], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL, start_new_session=True)


def check_on_session_start() -> list[str]:
    """SessionStart: rebuild a stale venv in the background and refresh the price snapshot."""
    lines: list[str] = []
    data = _data()
    try:  # the /model-strategy shortcut launcher runs the root recorded here (it moves on updates)
        root_file = data / "plugin-root"
        if not root_file.exists() or root_file.read_text().strip() != str(_root()):
            root_file.write_text(f"{_root()}\n")
    except OSError:
        pass
    if not os.environ.get("MODEL_STRATEGY_PYTHON") and venv_state() == "stale":
        start_background()
        lines.append("requirements changed: rebuilding the Python environment in the background")
    from . import pricing

    pricing.ensure_snapshot()
    return lines


if __name__ == "__main__":
    sys.exit(main())
