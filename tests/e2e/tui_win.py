"""A small tmux driver for the interactive Claude Code client (offline, against :mod:`fakeapi`).

    with TUI.start(claude, cwd=project, home=home, env=env, args=["--plugin-dir", repo]) as tui:
        tui.wait_for("? for shortcuts")
        tui.type("/model-strategy")
        tui.press("Enter")
        screen = tui.wait_for("strategy")

``interactive_home`` writes the ``~/.claude.json`` the client needs to start without onboarding, the
API-key approval prompt or the trust dialog.  Tests skip (``tmux_or_skip``) when tmux is missing.
(Another branch brings a shared ``tui.py``; this one is meant to be merged into it.)
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

DUMMY_KEY = "sk-ant-api03-" + "d" * 60 + "-e2eAA"


def tmux_or_skip() -> str:
    import pytest

    path = shutil.which("tmux")
    if not path:
        pytest.skip("tmux is not installed: the interactive-client tests drive Claude Code in a tmux pane")
    return path


def interactive_home(home: Path, project_dirs: Sequence[Path], *, settings: Mapping[str, Any] | None = None,
                     api_key: str = DUMMY_KEY) -> Path:
    """A HOME in which the interactive client starts straight at the prompt (no onboarding, no
    "use this API key?" question, no trust dialog)."""
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    state = {
        "hasCompletedOnboarding": True,
        "lastOnboardingVersion": "2.1.332",
        "customApiKeyResponses": {"approved": [api_key[-20:]], "rejected": []},
        "projects": {str(Path(p).resolve()): {"hasTrustDialogAccepted": True} for p in project_dirs},
    }
    (home / ".claude.json").write_text(json.dumps(state, indent=2))
    if settings is not None:
        (home / ".claude" / "settings.json").write_text(json.dumps(settings, indent=2))
    return home


class TUI:
    """One interactive client in a detached tmux session (own server socket, so nothing leaks)."""

    def __init__(self, session: str, socket: str) -> None:
        self.session = session
        self.socket = socket
        self.saved = 0

    @classmethod
    def start(cls, claude: str, *, cwd: Path, env: Mapping[str, str], args: Sequence[str] = (),
              width: int = 200, height: int = 50) -> TUI:
        session = "cc" + uuid.uuid4().hex[:8]
        socket = f"tuiwin-{session}"
        cmd = " ".join(shlex.quote(a) for a in [claude, *args])
        envargs: list[str] = []
        for k, v in env.items():
            envargs += ["-e", f"{k}={v}"]
        argv = ["tmux", "-L", socket, "new-session", "-d", "-x", str(width), "-y", str(height),
                "-s", session, "-c", str(cwd), *envargs, cmd]
        for attempt in range(6):  # a busy machine can fail a server start ("server exited unexpectedly")
            proc = subprocess.run(argv, env=dict(env), capture_output=True, text=True, timeout=30)
            if proc.returncode == 0:
                return cls(session, socket)
            time.sleep(0.5 * (attempt + 1))
        raise RuntimeError(f"tmux new-session failed: {proc.stderr.strip()}")

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        return out.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.session, "-l", text)

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys)

    def wait_for(self, what: str | Callable[[str], bool], timeout: float = 30.0) -> str:
        """The screen once it contains ``what`` (or satisfies it); raises with the last screen.
        With ``$TUI_SCREENS`` set, every screen waited for is also saved there as text."""
        pred = (lambda s: what in s) if isinstance(what, str) else what
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if pred(screen):
                self._keep(screen, what if isinstance(what, str) else "screen")
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what!r}; screen:\n{screen}")

    def _keep(self, screen: str, label: str) -> None:
        folder = os.environ.get("TUI_SCREENS")
        if folder:
            self.saved += 1
            name = "".join(c if c.isalnum() else "-" for c in label)[:40]
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / f"{self.session}-{self.saved:02d}-{name}.txt").write_text(screen)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.session],
                              capture_output=True).returncode == 0

    def close(self) -> None:
        if self.alive():
            self.press("C-c")
            time.sleep(0.3)
            self.press("C-c")
            time.sleep(0.5)
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

    def __enter__(self) -> TUI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tui_env(api_url: str, home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The scrubbed client environment of the harness plus what the interactive client needs."""
    from harness import make_env

    env = make_env(api_url, home, tmpdir=home.parent / (home.name + "-tmp"))
    env["ANTHROPIC_API_KEY"] = DUMMY_KEY
    env["TERM"] = "xterm-256color"
    env.pop("TMUX", None)
    env.update(extra or {})
    if "ANTHROPIC_AUTH_TOKEN" in env and not (extra or {}).get("ANTHROPIC_API_KEY"):
        env.pop("ANTHROPIC_API_KEY", None)  # a subscriber / gateway login: token only
    return {k: v for k, v in env.items() if k in _KEEP or k.startswith(("ANTHROPIC_", "CLAUDE", "MODEL_STRATEGY_"))
            or k in (extra or {})}


_KEEP = {"HOME", "PATH", "TERM", "LANG", "LC_ALL", "NO_PROXY", "no_proxy", "DISABLE_AUTOUPDATER", "USER",
         "SHELL", "TMPDIR"}


def gateway_jwt(aud: str = "claude-gateway") -> str:
    """An ``ANTHROPIC_AUTH_TOKEN`` with which Claude Code 2.1.332 reports ``rate_limits`` to the status
    line (it reads the payload's ``aud``; the signature is not checked)."""
    import base64

    def part(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return ".".join([part({"alg": "HS256", "typ": "JWT"}),
                     part({"aud": aud, "sub": "e2e-user", "exp": int(time.time()) + 86400}), "c2lnbmF0dXJl"])
