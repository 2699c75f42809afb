"""``model-strategy status [--json]``: where the plugin keeps its data and why, which interpreter the
hooks run on, whether they are healthy, and what is recorded.

Reads files only (no lock, nothing written besides the data home itself): safe while hooks run.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

from model_strategy.runtime.base import clock, paths
from model_strategy.runtime.base.store import ERROR_HEADER, ERROR_LOG
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import bootstrap
from model_strategy.runtime.settings import config

if TYPE_CHECKING:
    from model_strategy.runtime.settings.config import LayerState


class HookError(TypedDict):
    time: str
    hook: str
    error: str  # the exception line


class HookHealth(TypedDict):
    errors_24h: int
    last_error: HookError | None


class Interpreter(TypedDict):
    path: str | None
    why: str
    version: NotRequired[str | None]


class PluginInfo(TypedDict):
    root: str
    version: str | None


class DataHome(TypedDict):
    path: str
    why: str
    other_candidates: list[str]
    legacy_dir: str | None


class Environment(TypedDict):
    venv: str
    venv_setup_failed: str | None
    hook_interpreter: Interpreter


class Status(TypedDict):
    """``model-strategy status [--json]``."""
    data_home: DataHome
    plugin: PluginInfo
    environment: Environment
    hooks: HookHealth
    records: int
    unpriced_models: dict[str, int]
    config: list[LayerState]  # config.file_states: one layer each


def count_records(data: str) -> int:
    """Records in the ledger (the one place status counts them)."""
    return Ledger(data).count()


def unpriced_models(data: str) -> dict[str, int]:
    """Records per model whose ``models`` row says ``"priced": false`` (no price known when recorded)."""
    counts: dict[str, int] = {}
    for rec in Ledger(data).iter_records():
        models = rec.get("models")
        if not isinstance(models, dict):
            continue
        for model, row in models.items():
            if isinstance(row, dict) and row.get("priced") is False:
                counts[model] = counts.get(model, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def hook_health(data: str, now: datetime | None = None) -> HookHealth:
    """The last internal error in ``errors.log`` (time, hook, exception line) and the count of the last 24 h."""
    now = now or clock.now()
    try:
        with open(os.path.join(data, ERROR_LOG), encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return {"errors_24h": 0, "last_error": None}
    entries: list[HookError] = []
    for line in lines:
        if line.startswith(ERROR_HEADER):
            when, _, hook = line[len(ERROR_HEADER):].partition(" ")  # the format: store.log_error
            if not hook:  # written before there was one writer: "--- slash_args", no time
                when, hook = "", when
            entries.append({"time": when, "hook": hook, "error": ""})
        elif entries and line.strip() and not line.startswith((" ", "Traceback")):
            entries[-1]["error"] = line.strip()[:200]  # the exception line ends each traceback
    recent = 0
    for entry in entries:
        try:
            if now - datetime.fromisoformat(entry["time"].replace("Z", "+00:00")) <= timedelta(hours=24):
                recent += 1
        except ValueError:
            pass
    return {"errors_24h": recent, "last_error": entries[-1] if entries else None}


def interpreter(data: str, venv: str) -> Interpreter:
    """The interpreter ``hooks/run`` uses (the same order as the launcher)."""
    env = os.environ.get("MODEL_STRATEGY_PYTHON")
    if env:
        return {"path": env, "why": "MODEL_STRATEGY_PYTHON"}
    if venv == "ready":
        return {"path": os.path.join(data, "venv", "bin", "python"), "why": "the plugin's venv"}
    try:
        with open(os.path.join(data, "cache", "python"), encoding="utf-8") as fh:
            path, _, version = fh.read().partition("\n")
        return {"path": path.strip(), "version": version.strip() or None,
                "why": "system python (resolved once, cached in cache/python) until the venv is ready"}
    except OSError:
        return {"path": None, "why": "not resolved yet: the first hook picks python3 >= 3.10 on PATH"}


def plugin_info(root: str) -> PluginInfo:
    try:
        with open(os.path.join(root, ".claude-plugin", "plugin.json"), encoding="utf-8") as fh:
            version = json.load(fh).get("version")
    except (OSError, ValueError, AttributeError):
        version = None
    return {"root": root, "version": version}


def status_data(cwd: str | None = None) -> Status:
    data, why = paths.locate()
    data = paths.data_dir()
    root = paths.plugin_root()
    venv = bootstrap.venv_state(Path(data), Path(root))
    failed = None
    try:
        with open(os.path.join(data, "bootstrap.failed"), encoding="utf-8") as fh:
            failed = fh.read().strip()[:200] or None
    except OSError:
        pass
    others = [str(c["path"]) for c in paths.candidates() if str(c["path"]) != data]
    legacy = os.path.join(paths.plugins_home(), "data", paths.PLUGIN_NAME)  # terminal default before 0.2
    return {
        "data_home": {"path": data, "why": why, "other_candidates": others,
                      "legacy_dir": legacy if os.path.isdir(legacy) and legacy != data else None},
        "plugin": plugin_info(root),
        "environment": {"venv": venv, "venv_setup_failed": failed, "hook_interpreter": interpreter(data, venv)},
        "hooks": hook_health(data),
        "records": count_records(data),
        "unpriced_models": unpriced_models(data),
        "config": config.file_states(cwd),
    }
