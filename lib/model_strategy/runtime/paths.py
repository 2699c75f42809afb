"""Where things live. Every other module asks here; nothing else reads the env for paths.

Paths are plain ``str`` (``os.path``): ``pathlib`` costs ~7 ms to import, a tenth of a hook's budget.
"""

from __future__ import annotations

import os

PLUGIN_NAME = "model-strategy"
DATA_ENV = "MODEL_STRATEGY_DATA_DIR"  # overrides CLAUDE_PLUGIN_DATA (tests, scripts)
join = os.path.join


def plugin_root() -> str:
    """The plugin checkout: ``CLAUDE_PLUGIN_ROOT`` or the directory this package lives in."""
    env = os.environ.get("CLAUDE_PLUGIN_ROOT")
    if env:
        return env
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def data_dir() -> str:
    """The plugin's persistent data directory (created on first use)."""
    env = os.environ.get(DATA_ENV) or os.environ.get("CLAUDE_PLUGIN_DATA")
    path = env or join(os.path.expanduser("~"), ".claude", "plugins", "data", PLUGIN_NAME)
    os.makedirs(path, exist_ok=True)
    return path


def project_dir(cwd: str | None = None) -> str | None:
    """The user's project: ``CLAUDE_PROJECT_DIR``, else the hook's ``cwd``."""
    return os.environ.get("CLAUDE_PROJECT_DIR") or cwd or None


def defaults_file() -> str:
    """The configuration shipped with the plugin."""
    return join(plugin_root(), ".claude", "model-strategy.defaults.json")


def global_config_file() -> str:
    return join(data_dir(), "config.json")


def project_config_file(cwd: str | None = None) -> str | None:
    proj = project_dir(cwd)
    return join(proj, ".claude", "model-strategy.json") if proj else None


def safe_id(value: str, limit: int = 96) -> str:
    """A file-name-safe form of an id that came from outside (session id, agent id...)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in value)[:limit].strip(".")
    return cleaned or "unknown"
