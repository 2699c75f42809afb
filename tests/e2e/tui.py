"""Drive an interactive terminal program (the real Claude Code TUI) inside tmux, for tests.

Each :class:`TmuxSession` runs one command in a detached tmux session on a **private server** (its own
socket under a temp dir, its own config), so it never touches a user's tmux and can be torn down
completely.  The command gets exactly the environment given (``env -i``), nothing of the test runner's.

Typical use::

    from tui import TmuxSession, require_tmux

    require_tmux()                                   # pytest.skip with the reason when tmux is missing
    with TmuxSession.start([claude, "--plugin-dir", plugin], env=env, cwd=project) as tui:
        tui.wait_for("? for shortcuts")              # text (or a compiled regex) on the visible screen
        tui.type("hello")                            # literal text, no key names interpreted
        tui.press("Enter")                           # tmux key names: Enter, Escape, Down, C-c, ...
        tui.submit("/help")                          # type, wait for the echo, then Enter
        screen = tui.wait_for(re.compile(r"Do you want to proceed\\?"), timeout=30)
        print(tui.capture())                         # the visible screen as plain text

:meth:`TmuxSession.wait_for` raises :class:`ScreenTimeout` carrying the last screen, so a failing test
shows what the program displayed.  For Claude Code, :func:`claude_home_state` gives the
``~/.claude.json`` content that skips onboarding, the API-key and the trust dialogs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ScreenTimeout", "TmuxSession", "claude_env", "claude_home_state", "gateway_jwt", "require_tmux",
           "tmux_available"]

DUMMY_KEY = "sk-ant-api03-" + "d" * 60 + "-e2eAA"

_CONFIG = "set -g remain-on-exit on\nset -g history-limit 20000\nset -g status off\n"


def tmux_available() -> str | None:
    """The tmux binary, or None."""
    return shutil.which("tmux")


def require_tmux() -> str:
    """The tmux binary; ``pytest.skip`` (with the reason) when it is not installed."""
    path = tmux_available()
    if not path:
        import pytest

        pytest.skip("tmux is not installed (needed to drive the interactive client; apt-get install tmux)")
    return path


def claude_home_state(api_key: str, project_dirs: Iterable[Path | str], version: str | None = None) -> dict[str, Any]:
    """``~/.claude.json`` for an interactive Claude Code with no first-run dialogs: onboarding done, the
    API key (its last 20 characters) approved, and each project dir trusted."""
    state: dict[str, Any] = {
        "hasCompletedOnboarding": True,
        "customApiKeyResponses": {"approved": [api_key[-20:]], "rejected": []},
        "projects": {str(Path(p).resolve()): {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}
                     for p in project_dirs},
    }
    if version:
        state["lastOnboardingVersion"] = version
    return state


class ScreenTimeout(AssertionError):
    """What was awaited did not appear; ``.screen`` is the last capture."""

    def __init__(self, what: str, timeout: float, screen: str) -> None:
        super().__init__(f"{what!s} not on screen after {timeout:.0f}s; last screen:\n{screen}")
        self.screen = screen


class TmuxSession:
    """One command running in a detached tmux session on a private tmux server."""

    def __init__(self, tmux: str, socket: Path, name: str, workdir: Path, own_workdir: bool) -> None:
        self.tmux = tmux
        self.socket = socket
        self.name = name
        self.workdir = workdir
        self._own_workdir = own_workdir

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(
        cls,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | str,
        width: int = 200,
        height: int = 50,
        name: str = "tui",
        workdir: Path | str | None = None,
    ) -> TmuxSession:
        """Start ``command`` (argv) in ``cwd`` with exactly ``env``, on a ``width`` x ``height`` screen.
        ``workdir`` holds the tmux socket and config (a fresh temp dir, removed on :meth:`close`, when
        not given)."""
        tmux = require_tmux()
        own = workdir is None
        wd = Path(tempfile.mkdtemp(prefix="tui-")) if workdir is None else Path(workdir)
        wd.mkdir(parents=True, exist_ok=True)
        conf = wd / "tmux.conf"
        conf.write_text(_CONFIG)
        socket = wd / "tmux.sock"
        argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *command]
        out = subprocess.run(
            [tmux, "-S", str(socket), "-f", str(conf), "new-session", "-d", "-s", name, "-x", str(width),
             "-y", str(height), "-c", str(cwd), *argv],
            capture_output=True, text=True, timeout=30, env={"PATH": env.get("PATH", "/usr/bin:/bin")},
        )
        if out.returncode != 0:
            raise RuntimeError(f"tmux new-session failed ({out.returncode}): {out.stderr.strip()}")
        return cls(tmux, socket, name, wd, own)

    def close(self) -> None:
        """Kill this session's private tmux server (and so the program), and remove its temp dir."""
        subprocess.run([self.tmux, "-S", str(self.socket), "kill-server"], capture_output=True, timeout=30)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> TmuxSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.tmux, "-S", str(self.socket), *args], capture_output=True, text=True, timeout=30)

    # ------------------------------------------------------------------ input

    def type(self, text: str) -> None:
        """Type ``text`` literally (``send-keys -l``: nothing is read as a key name)."""
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def submit(self, text: str, *, key: str = "Enter", timeout: float = 30) -> None:
        """Type ``text``, wait until its end shows on the screen (a TUI may still be redrawing, and a key
        pressed too early can be taken by a completion menu), then press ``key``."""
        self.type(text)
        tail = text.splitlines()[-1][-30:] if text.strip() else ""
        if tail:
            self.wait_for(tail, timeout=timeout)
        time.sleep(0.3)
        self.press(key)

    def press(self, *keys: str) -> None:
        """Press keys by tmux name, in order: ``Enter``, ``Escape``, ``Up``, ``Down``, ``Tab``, ``C-c``, ``y``..."""
        for key in keys:
            self._tmux("send-keys", "-t", self.name, key)

    # ------------------------------------------------------------------ output

    def capture(self, *, history: bool = False) -> str:
        """The screen as plain text (``history``: with the scrollback above it)."""
        args = ["capture-pane", "-p", "-t", self.name]
        if history:
            args += ["-S", "-"]
        return self._tmux(*args).stdout

    def wait_for(self, what: str | re.Pattern[str], *, timeout: float = 30, interval: float = 0.2,
                 history: bool = False) -> str:
        """Wait until ``what`` (a substring, or a regex searched for) is on the screen; return the screen.
        Raises :class:`ScreenTimeout` with the last screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.capture(history=history)
            found = what.search(screen) if isinstance(what, re.Pattern) else what in screen
            if found:
                return screen
            if time.monotonic() >= deadline:
                label = what.pattern if isinstance(what, re.Pattern) else repr(what)
                raise ScreenTimeout(label, timeout, screen)
            time.sleep(interval)

    def alive(self) -> bool:
        """Whether the program still runs (the pane is not dead)."""
        out = self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead}")
        return out.returncode == 0 and out.stdout.strip() == "0"


# ------------------------------------------------------------------ Claude Code specifics

_KEEP = {"HOME", "PATH", "TERM", "LANG", "LC_ALL", "NO_PROXY", "no_proxy", "DISABLE_AUTOUPDATER", "USER",
         "SHELL", "TMPDIR"}


def claude_env(api_url: str, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The harness's scrubbed client environment plus what the interactive client needs (a terminal, the
    dummy API key -- or only ``ANTHROPIC_AUTH_TOKEN`` when ``extra`` gives one: a subscriber/gateway login)."""
    from harness import make_env

    env = make_env(api_url, home, tmpdir=home.parent / (home.name + "-tmp"))
    env["ANTHROPIC_API_KEY"] = DUMMY_KEY
    env["TERM"] = "xterm-256color"
    env.pop("TMUX", None)
    env.update(extra or {})
    if "ANTHROPIC_AUTH_TOKEN" in env and not (extra or {}).get("ANTHROPIC_API_KEY"):
        env.pop("ANTHROPIC_API_KEY", None)
    return {k: v for k, v in env.items() if k in _KEEP or k.startswith(("ANTHROPIC_", "CLAUDE", "MODEL_STRATEGY_"))
            or k in (extra or {})}


def gateway_jwt(aud: str = "claude-gateway") -> str:
    """An ``ANTHROPIC_AUTH_TOKEN`` with which Claude Code 2.1.332 reports ``rate_limits`` to the status
    line (it reads the payload's ``aud``; the signature is not checked)."""
    import base64
    import json

    def part(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return ".".join([part({"alg": "HS256", "typ": "JWT"}),
                     part({"aud": aud, "sub": "e2e-user", "exp": int(time.time()) + 86400}), "c2lnbmF0dXJl"])
