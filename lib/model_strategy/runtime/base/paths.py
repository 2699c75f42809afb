"""Where things live. Every other module asks here; nothing else reads the env for paths.

**The data home** (records, settings, venv, caches) is found by one rule, used by the hooks, the slash
commands, the terminal CLI, the status line, the shortcut and the bootstrap (the bash launchers repeat the
steps that are plain variables -- ``hooks/run`` 1 and 3, ``bin/model-strategy`` 1 to 3 -- and ask this file,
run as a script, for the rest; ``tests/test_paths.py`` holds them equal):

1. ``MODEL_STRATEGY_DATA_DIR`` -- explicit override (tests, scripts, the installed status line);
2. ``--plugin-data DIR`` -- what the slash commands pass (``${CLAUDE_PLUGIN_DATA}`` substituted);
3. ``CLAUDE_PLUGIN_DATA`` -- Claude Code sets it for hooks;
4. discovery of the installed plugin's data dir, the way Claude Code names it:
   ``<plugins>/data/<plugin id with every character outside [A-Za-z0-9_-] replaced by "-">``, where
   ``<plugins>`` is ``$CLAUDE_CODE_PLUGIN_CACHE_DIR``, else ``$CLAUDE_CONFIG_DIR/plugins``, else
   ``~/.claude/plugins``; the plugin id is ``model-strategy@<marketplace>`` for an install and
   ``model-strategy@inline`` for ``--plugin-dir``.  Candidates are the ids in
   ``<plugins>/installed_plugins.json`` and the existing ``data/model-strategy-*`` dirs holding our files.
   The best is, in this order: installed, not ``-inline``, most recent activity (newest mtime of its
   ledger, config or venv), then name;
5. the default: ``<plugins>/data/model-strategy-model-strategy`` -- the dir an install from this
   repository's marketplace (``model-strategy@model-strategy``) will use.

Paths are plain ``str`` (``os.path``): ``pathlib`` costs ~7 ms to import, a tenth of a hook's budget.
Run as a script (``python paths.py [--plugin-data DIR] [--why]``) it prints the data home.
"""

from __future__ import annotations

import os

PLUGIN_NAME = "model-strategy"
MARKETPLACE = "model-strategy"
DATA_ENV = "MODEL_STRATEGY_DATA_DIR"  # overrides everything (tests, scripts)
#: entries whose mtime tells how recently a data dir was used (step 4's tie-break)
ACTIVITY = ("daily", "current_session.json", "totals.json", "config.json", "errors.log", "venv")
#: a data dir holding one of these is ours (an unrelated plugin may share the name prefix)
OURS = ("daily", "config.json", "current_session.json", "totals.json", "venv", "plugin-root", "cache")
join = os.path.join

_override: tuple[str, str] | None = None
_made: set[str] = set()


def plugin_root() -> str:
    """The plugin checkout: ``CLAUDE_PLUGIN_ROOT`` or the directory this package lives in."""
    env = os.environ.get("CLAUDE_PLUGIN_ROOT")
    if env:
        return env
    here = os.path.abspath(__file__)  # <root>/lib/model_strategy/runtime/base/paths.py
    for _ in range(5):
        here = os.path.dirname(here)
    return here


# ------------------------------------------------------------------ the data home


def use_plugin_data(path: str) -> None:
    """``--plugin-data DIR`` (step 2): the slash commands' way of passing ``${CLAUDE_PLUGIN_DATA}``."""
    global _override
    _override = (os.path.abspath(os.path.expanduser(path)), "--plugin-data") if path else None


def plugins_home() -> str:
    """Claude Code's plugins folder (``installed_plugins.json``, ``cache/``, ``data/``)."""
    env = os.environ.get("CLAUDE_CODE_PLUGIN_CACHE_DIR")
    if env:
        return os.path.expanduser(env)
    config = os.environ.get("CLAUDE_CONFIG_DIR")
    base = os.path.expanduser(config) if config else join(os.path.expanduser("~"), ".claude")
    return join(base, "plugins")


def client_data_name(plugin_id: str) -> str:
    """Claude Code's data-dir name for a plugin id: ``model-strategy@my.market`` → ``model-strategy-my-market``."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in plugin_id)


def installed_ids(home: str | None = None) -> list[str]:
    """``model-strategy@<marketplace>`` ids in Claude Code's ``installed_plugins.json``."""
    import json

    try:
        with open(join(home or plugins_home(), "installed_plugins.json"), encoding="utf-8") as fh:
            plugins = json.load(fh).get("plugins", {})
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(plugins, dict):
        return []
    return sorted(k for k in plugins if isinstance(k, str) and k.split("@", 1)[0] == PLUGIN_NAME and "@" in k)


def activity(path: str) -> float:
    """Newest mtime among a data dir's ledger, config and venv (0 when none exists)."""
    newest = 0.0
    for name in ACTIVITY:
        try:  # noqa: SIM105 - contextlib is not imported on the hot path
            newest = max(newest, os.stat(join(path, name)).st_mtime)
        except OSError:
            pass
    return newest


def candidates(home: str | None = None) -> list[dict[str, object]]:
    """Every data dir the installed plugin may use, best first (see the module docstring, step 4)."""
    home = home or plugins_home()
    data = join(home, "data")
    found: dict[str, str | None] = {join(data, client_data_name(pid)): pid for pid in installed_ids(home)}
    try:
        names = os.listdir(data)
    except OSError:
        names = []
    for name in names:
        path = join(data, name)
        if name.startswith(PLUGIN_NAME + "-") and path not in found \
                and any(os.path.exists(join(path, m)) for m in OURS):
            found[path] = None
    rows = [(pid is None, path.endswith("-inline"), -activity(path), path, pid) for path, pid in found.items()]
    return [{"path": path, "plugin_id": pid, "installed": not not_installed, "inline": inline, "activity": -neg}
            for not_installed, inline, neg, path, pid in sorted(rows)]


def default_data_dir(home: str | None = None) -> str:
    return join(home or plugins_home(), "data", client_data_name(f"{PLUGIN_NAME}@{MARKETPLACE}"))


def locate() -> tuple[str, str]:
    """``(data home, the rule that picked it)``.  Steps 1-3 are dictionary look-ups (the hooks always
    stop there); discovery reads one small JSON file and a few ``stat``s."""
    explicit = os.environ.get(DATA_ENV)
    if explicit:
        return explicit, f"{DATA_ENV} (explicit override)"
    if _override:
        return _override
    client = os.environ.get("CLAUDE_PLUGIN_DATA")
    if client:
        return client, "CLAUDE_PLUGIN_DATA (set by Claude Code)"
    home = plugins_home()
    found = candidates(home)
    if found:
        best = found[0]
        how = f"installed plugin {best['plugin_id']}" if best["installed"] else "existing data dir"
        others = f"; {len(found) - 1} other candidate(s)" if len(found) > 1 else ""
        return str(best["path"]), f"discovered: {how} under {home}{others}"
    return default_data_dir(home), f"default (no installed plugin found under {home})"


def data_dir() -> str:
    """The plugin's persistent data directory (created 0700 on first use)."""
    path = locate()[0]
    if path not in _made or not os.path.isdir(path):
        _ensure_private_dir(path)
        _made.add(path)
    return path


def _ensure_private_dir(path: str) -> None:
    """Create ``path`` (mode 0700) or tighten an existing one (Claude Code creates it 0755)."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o700)
    except OSError:
        pass


def project_dir(cwd: str | None = None) -> str | None:
    """The user's project: ``CLAUDE_PROJECT_DIR``, else the hook's ``cwd``."""
    return os.environ.get("CLAUDE_PROJECT_DIR") or cwd or None


def package_data(name: str) -> str:
    """A file shipped in the package's ``data/`` folder (``lib/model_strategy/data/<name>``)."""
    here = os.path.abspath(__file__)  # <package>/runtime/base/paths.py
    return join(os.path.dirname(os.path.dirname(os.path.dirname(here))), "data", name)


def defaults_file() -> str:
    """The configuration shipped with the plugin: package data, apart from a developer's own settings
    in the checkout's ``.claude/``."""
    return package_data("defaults.json")


def global_config_file() -> str:
    return join(data_dir(), "config.json")


def project_config_file(cwd: str | None = None) -> str | None:
    proj = project_dir(cwd)
    return join(proj, ".claude", "model-strategy.json") if proj else None


def safe_id(value: str, limit: int = 96) -> str:
    """A file-name-safe form of an id that came from outside (session id, agent id...)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in value)[:limit].strip(".")
    return cleaned or "unknown"


def main(argv: list[str]) -> int:
    """``paths.py [--plugin-data DIR] [--why]``: print the data home (the bash launchers ask this)."""
    if argv[:1] == ["--plugin-data"] and len(argv) > 1:
        use_plugin_data(argv[1])
        argv = argv[2:]
    path, why = locate()
    print(f"{path}\n{why}" if "--why" in argv else path)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
