"""Fixtures for the offline real-client tests.

* ``claude_bin``  – path of the real client; skips locally when absent, **fails** when ``CI=true``.
* ``fake_api``    – factory: ``fake_api(scenario, **kw) -> FakeAPI`` (started; stopped at teardown).
* ``e2e_home`` / ``e2e_project`` – fresh HOME and project dir (with README.md) under tmp_path.
* ``claude_env``  – a :class:`ClaudeEnv` bundling the above with a ``run(prompt, api=..., ...)`` method.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakeapi import FakeAPI
from harness import (
    ClaudeRun,
    claude_version,
    expected_claude_version,
    find_claude,
    make_home,
    make_project,
    run_claude,
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: drives the real Claude Code client against the offline fake API")


@pytest.fixture(autouse=True)
def _wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client stamps its transcripts with the wall clock, so these tests run on it too (the root
    conftest fixes the clock for every other test); a test that needs a day passes MODEL_STRATEGY_NOW."""
    monkeypatch.delenv("MODEL_STRATEGY_NOW", raising=False)


@pytest.fixture(autouse=True)
def _residents_stopped(tmp_path: Path) -> Iterator[None]:
    """The client's hooks go through the data home's resident worker, as they do for a user (the
    scrubbed environment has no MODEL_STRATEGY_RESIDENT); each test stops the ones it started."""
    yield
    import time

    from model_strategy.runtime.entry import resident

    for _ in range(3):  # a hook still running as the test ends (a status line refresh) may start one more
        running = [home for home in (str(lock.parent.parent) for lock in tmp_path.rglob(resident.LOCK))
                   if resident.pid(home)]
        if not running:
            break
        for home in running:
            resident.stop(home)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and any(resident.pid(home) for home in running):
            time.sleep(0.01)  # gone once its lock is free (a zombie may wait longer for its reaper)


@pytest.fixture(scope="session")
def claude_bin() -> str:
    path = find_claude()
    if not path:
        msg = (
            "Claude Code client not found: set CLAUDE_BIN, or run "
            "`npm install --prefix .cache/cc @anthropic-ai/claude-code@2.1.332`, or put `claude` on PATH."
        )
        if _in_ci():
            pytest.fail("CI=true and real-client e2e tests cannot run: " + msg, pytrace=False)
        pytest.skip(msg)
    expected = expected_claude_version()
    try:
        got = claude_version(path).split()[0]
    except (OSError, subprocess.SubprocessError, IndexError) as e:
        pytest.fail(f"cannot run `{path} --version`: {e!r}", pytrace=False)
    if expected and got != expected:
        warnings.warn(
            f"Claude Code {got} at {path}, but tests/e2e facts were pinned against {expected}; "
            "failures may be client behaviour changes (see tests/e2e/FACTS.md)",
            stacklevel=1,
        )
    return path


def pytest_report_header(config: pytest.Config) -> str:
    path = find_claude()
    if not path:
        return "claude: not found"
    try:
        return f"claude: {path} ({claude_version(path)}; facts pinned to {expected_claude_version()})"
    except (OSError, subprocess.SubprocessError) as e:
        return f"claude: {path} (version check failed: {e!r})"


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[Callable[..., FakeAPI]]:
    started: list[FakeAPI] = []

    def factory(scenario: Mapping[str, Any] | None = None, **kw: Any) -> FakeAPI:
        kw.setdefault("log_path", tmp_path / f"fakeapi-{len(started)}.jsonl")
        api = FakeAPI(scenario, **kw).start()
        started.append(api)
        return api

    yield factory
    for api in started:
        api.stop()


@pytest.fixture
def e2e_project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture
def e2e_home(tmp_path: Path, e2e_project: Path) -> Path:
    return make_home(tmp_path / "home", project_dirs=[e2e_project])


@dataclass
class ClaudeEnv:
    claude: str
    home: Path
    project_dir: Path
    tmp_path: Path

    def run(self, prompt: str, *, api: Any, plugin_dir: Any = None, **kw: Any) -> ClaudeRun:
        kw.setdefault("timeout", 60)
        return run_claude(
            prompt,
            plugin_dir=plugin_dir,
            api=api,
            project_dir=self.project_dir,
            home=self.home,
            claude=self.claude,
            **kw,
        )


@pytest.fixture
def claude_env(claude_bin: str, e2e_home: Path, e2e_project: Path, tmp_path: Path) -> ClaudeEnv:
    return ClaudeEnv(claude=claude_bin, home=e2e_home, project_dir=e2e_project, tmp_path=tmp_path)
