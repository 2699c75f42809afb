"""One data home for hooks, slash commands, the terminal CLI, status line, shortcut and bootstrap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model_strategy.runtime.base import paths
from model_strategy.runtime.entry import bootstrap
from sessionlab import KEEP_ENV, ROOT, venv_python

ENV_KEYS = ("MODEL_STRATEGY_DATA_DIR", "CLAUDE_PLUGIN_DATA", "CLAUDE_CONFIG_DIR", "CLAUDE_CODE_PLUGIN_CACHE_DIR")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME without any override: the rule has to discover (or default)."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    paths.use_plugin_data("")
    return h


def install(plugins: Path, *ids: str) -> None:
    """What `claude plugin install` leaves in installed_plugins.json (shape seen with Claude Code 2.1.332)."""
    plugins.mkdir(parents=True, exist_ok=True)
    entry = [{"scope": "user", "installPath": "/x", "version": "0.1.0"}]
    (plugins / "installed_plugins.json").write_text(json.dumps({"version": 2, "plugins": {i: entry for i in ids}}))


def test_client_data_dir_names() -> None:
    """Claude Code replaces every character outside [A-Za-z0-9_-] of the plugin id with '-'."""
    assert paths.client_data_name("model-strategy@model-strategy") == "model-strategy-model-strategy"
    assert paths.client_data_name("model-strategy@inline") == "model-strategy-inline"
    assert paths.client_data_name("probe@my.market") == "probe-my-market"


def test_precedence(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = home / ".claude" / "plugins"
    assert paths.locate() == (str(plugins / "data" / "model-strategy-model-strategy"),
                              f"default (no installed plugin found under {plugins})")
    install(plugins, "model-strategy@acme")
    assert paths.locate()[0] == str(plugins / "data" / "model-strategy-acme")
    assert paths.locate()[1] == f"discovered: installed plugin model-strategy@acme under {plugins}"
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(tmp_path / "client"))
    assert paths.locate() == (str(tmp_path / "client"), "CLAUDE_PLUGIN_DATA (set by Claude Code)")
    paths.use_plugin_data(str(tmp_path / "slash"))
    assert paths.locate() == (str(tmp_path / "slash"), "--plugin-data")
    monkeypatch.setenv("MODEL_STRATEGY_DATA_DIR", str(tmp_path / "explicit"))
    assert paths.locate() == (str(tmp_path / "explicit"), "MODEL_STRATEGY_DATA_DIR (explicit override)")
    paths.use_plugin_data("")


def test_discovery_prefers_installed_then_marketplace_then_activity(home: Path) -> None:
    data = home / ".claude" / "plugins" / "data"
    for name in ("model-strategy-inline", "model-strategy-old", "model-strategy-new", "model-strategy-x"):
        (data / name / "daily").mkdir(parents=True)
    (data / "model-strategy-empty").mkdir()  # not ours: none of our files
    now = time.time()
    for i, name in enumerate(("model-strategy-inline", "model-strategy-old", "model-strategy-new")):
        os.utime(data / name / "daily", (now + 10 * i, now + 10 * i))
    os.utime(data / "model-strategy-inline" / "daily", (now + 100, now + 100))  # the newest, but -inline
    os.utime(data / "model-strategy-x" / "daily", (now - 100, now - 100))
    order = [Path(str(c["path"])).name for c in paths.candidates()]
    assert order == ["model-strategy-new", "model-strategy-old", "model-strategy-x", "model-strategy-inline"]
    install(home / ".claude" / "plugins", "model-strategy@x", "other@x")  # installed beats activity
    assert paths.locate()[0] == str(data / "model-strategy-x")
    only_inline = home / "solo" / "plugins" / "data" / "model-strategy-inline" / "venv"
    only_inline.mkdir(parents=True)
    os.environ["CLAUDE_CONFIG_DIR"] = str(home / "solo")
    try:
        assert paths.locate()[0] == str(only_inline.parent)  # -inline when it is the only one
    finally:
        del os.environ["CLAUDE_CONFIG_DIR"]


def test_config_dir_and_plugin_cache_dir_move_the_plugins_folder(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """As measured: CLAUDE_CONFIG_DIR → <it>/plugins/data/…; CLAUDE_CODE_PLUGIN_CACHE_DIR → <it>/data/…."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert paths.locate()[0] == str(tmp_path / "cfg" / "plugins" / "data" / "model-strategy-model-strategy")
    monkeypatch.setenv("CLAUDE_CODE_PLUGIN_CACHE_DIR", str(tmp_path / "pc"))
    assert paths.locate()[0] == str(tmp_path / "pc" / "data" / "model-strategy-model-strategy")


def test_data_dir_is_private(home: Path) -> None:
    target = home / ".claude" / "plugins" / "data" / "model-strategy-model-strategy"
    target.mkdir(parents=True, mode=0o755)
    target.chmod(0o755)  # as Claude Code creates it
    assert paths.data_dir() == str(target)
    assert target.stat().st_mode & 0o777 == 0o700


def test_bootstrap_uses_the_same_home(home: Path) -> None:
    install(home / ".claude" / "plugins", "model-strategy@model-strategy")
    assert str(bootstrap._data()) == paths.locate()[0]


def _launcher_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k in KEEP_ENV or not k.startswith(("CLAUDE_", "MODEL_STRATEGY_"))}
    env.update(HOME=str(home), **extra)
    return env


@pytest.mark.parametrize("case", ["default", "installed", "config-dir", "client", "explicit", "plugin-data"])
def test_launchers_agree_with_paths(case: str, home: Path, tmp_path: Path) -> None:
    """bin/model-strategy and hooks/run pick the same data home as paths.locate() in every case."""
    plugins = home / ".claude" / "plugins"
    extra: dict[str, str] = {}
    args: list[str] = []
    if case == "installed":
        install(plugins, "model-strategy@acme")
    elif case == "config-dir":
        extra["CLAUDE_CONFIG_DIR"] = str(tmp_path / "cfg")
        install(tmp_path / "cfg" / "plugins", "model-strategy@cfg")
    elif case == "client":
        extra["CLAUDE_PLUGIN_DATA"] = str(tmp_path / "client")
    elif case == "explicit":
        extra.update(MODEL_STRATEGY_DATA_DIR=str(tmp_path / "explicit"), CLAUDE_PLUGIN_DATA=str(tmp_path / "c"))
        args = ["--plugin-data", str(tmp_path / "slash")]
    elif case == "plugin-data":
        extra["CLAUDE_PLUGIN_DATA"] = str(tmp_path / "client")
        args = ["--plugin-data", str(tmp_path / "slash")]
    for key, value in extra.items():
        os.environ[key] = value
    try:
        paths.use_plugin_data(args[1] if args else "")
        expected = paths.locate()[0]
    finally:
        for key in extra:
            del os.environ[key]
        paths.use_plugin_data("")
    # the CLI (through the launcher, with the venv found in the data home it computed)
    cli = subprocess.run([str(ROOT / "bin" / "model-strategy"), *args, "status", "--json"], capture_output=True,
                         text=True, timeout=120, env=_launcher_env(home, MODEL_STRATEGY_PYTHON=venv_python(), **extra))
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["data_home"]["path"] == expected
    # the launcher's own choice: it looks for the venv in the data home it computed (a fake venv marks it)
    fake = Path(expected) / "venv"
    (fake / "bin").mkdir(parents=True, exist_ok=True)
    (fake / bootstrap.MARKER).write_text(bootstrap.requirements_digest(ROOT))
    runs = [(ROOT / "bin" / "model-strategy", [*args, "status"])]
    if case != "plugin-data":  # hooks get no --plugin-data
        runs.append((ROOT / "hooks" / "run", ["statusline"]))
    for exe, argv in runs:
        (fake / "bin" / "python").write_text(f"#!/bin/sh\necho \"launcher-venv {expected}\"\n")
        (fake / "bin" / "python").chmod(0o755)
        out = subprocess.run([str(exe), *argv], capture_output=True, text=True, timeout=60, input="{}",
                             env=_launcher_env(home, **extra))
        assert out.stdout.strip() == f"launcher-venv {expected}", (exe, out.stdout, out.stderr)


def test_paths_runs_as_a_script_on_a_bare_interpreter(home: Path) -> None:
    install(home / ".claude" / "plugins", "model-strategy@acme")
    out = subprocess.run([sys.executable, "-I", "-S", str(ROOT / "lib/model_strategy/runtime/base/paths.py"),
                          "--why"], capture_output=True, text=True, timeout=30, env=_launcher_env(home))
    path, why = out.stdout.splitlines()
    assert path == paths.locate()[0] and why == paths.locate()[1]


def test_terminal_install_statusline_pins_the_installed_plugins_home(home: Path, tmp_path: Path) -> None:
    install(home / ".claude" / "plugins", "model-strategy@model-strategy")
    settings = tmp_path / "settings.json"
    out = subprocess.run([str(ROOT / "bin" / "model-strategy"), "install-statusline", "--settings", str(settings)],
                         capture_output=True, text=True, timeout=60,
                         env=_launcher_env(home, MODEL_STRATEGY_PYTHON=venv_python()))
    assert out.returncode == 0, out.stderr
    data = home / ".claude" / "plugins" / "data" / "model-strategy-model-strategy"
    command = json.loads(settings.read_text())["statusLine"]["command"]
    assert command == f"MODEL_STRATEGY_DATA_DIR={data} {ROOT / 'hooks' / 'run'} statusline"
    assert f"data home {data} (discovered: installed plugin model-strategy@model-strategy" in out.stdout
