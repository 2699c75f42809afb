"""Plain ``/model-strategy``: Claude Code namespaces plugin commands (``/model-strategy:<name>``) and
resolves a bare ``/name`` only from user or project commands (``~/.claude/commands/``,
``<project>/.claude/commands/``).  ``install-shortcut`` writes such a command.

The installed plugin's path changes with every plugin update, so the shortcut does not call it
directly: it calls a small launcher in the plugin's data dir (stable across updates), which runs
the plugin root last recorded in ``<data dir>/plugin-root`` -- refreshed whenever a plugin command
runs -- or, failing that, the root recorded at install time.
"""

from __future__ import annotations

import argparse
import os
import shlex

from model_strategy.commands.base.errors import BadInput
from model_strategy.runtime.base import paths, store

MARKER = "<!-- model-strategy shortcut v2 -->"
_MARKER_PREFIX = "<!-- model-strategy shortcut v"  # any version is ours (v1 pasted $ARGUMENTS into its shell line)
NAME = "model-strategy.md"
_UNSAFE = set('"`$\\\n')

# The arguments never enter the shell line: the plugin's slash_args hook stores them (see slashargs);
# the allowed-tools rule is the exact command, so nothing else is pre-approved.
COMMAND = """---
description: Model strategy for your work (shortcut for /model-strategy:model-strategy)
argument-hint: "[use case, e.g. code review]"
allowed-tools: Bash("{launcher}" report --slash-args)
---
{marker}
!`"{launcher}" report --slash-args`

{body}"""

LAUNCHER = """#!/usr/bin/env bash
# model-strategy shortcut launcher (written by `model-strategy install-shortcut`).
# Runs the plugin root last recorded by a plugin command, else the one from install time.
data={data}
root="$(cat "$data/plugin-root" 2>/dev/null)"
if [ ! -x "$root/bin/model-strategy" ]; then root={root}; fi
exec "$root/bin/model-strategy" --plugin-data "$data" "$@"
"""


def commands_dir(project: str | None) -> str:
    home = os.path.expanduser("~")
    base = os.path.join(os.path.abspath(project), ".claude") if project else os.path.join(home, ".claude")
    return os.path.join(base, "commands")


def remember_root(plugin_data: str, root: str | None = None) -> None:
    """Record the running plugin's root for the shortcut launcher (skipped when unchanged)."""
    root = root or paths.plugin_root()
    path = os.path.join(plugin_data, "plugin-root")
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read().strip() == root:
                return
    except OSError:
        pass
    os.makedirs(plugin_data, mode=0o700, exist_ok=True)
    _write(path, root + "\n", mode=0o600)


def _body() -> str:
    """The instructions of the plugin's own command (after its frontmatter and ! line)."""
    src = os.path.join(paths.plugin_root(), "commands", "model-strategy.md")
    try:
        with open(src, encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return "Summarise the report above for the user.\n"
    lines = text.split("---", 2)[-1].splitlines()
    return "\n".join(line for line in lines if not line.startswith("!`")).strip() + "\n"


def install_data_dir() -> tuple[str, str]:
    """The plugin's data home for the shortcut and the rule that picked it (``paths.locate``: inside
    Claude Code it is given; from a shell the installed plugin's dir is discovered)."""
    return paths.data_dir(), paths.locate()[1]


def install(project: str | None = None, force: bool = False) -> str:
    root = os.path.abspath(paths.plugin_root())
    data, why = install_data_dir()
    for value in (root, data):
        if _UNSAFE & set(value):
            raise BadInput(f"cannot write a shortcut for a path containing quotes, $, ` or \\: {value}")
    folder = commands_dir(project)
    dest = os.path.join(folder, NAME)
    if os.path.exists(dest) and not force and not _ours(dest):
        raise BadInput(f"{dest} exists and was not written by model-strategy; use --force to replace it")
    launcher = os.path.join(data, "shortcut", "model-strategy")
    os.makedirs(os.path.dirname(launcher), mode=0o700, exist_ok=True)
    _write(launcher, LAUNCHER.format(data=shlex.quote(data), root=shlex.quote(root)), mode=0o700)
    remember_root(data, root)
    os.makedirs(folder, exist_ok=True)
    _write(dest, COMMAND.format(launcher=launcher, marker=MARKER, body=_body()))
    return f"installed /model-strategy: {dest} (runs {launcher}; data home from {why})"


def upgrade_old() -> str | None:
    """Rewrite a user-level shortcut written by an older version (v1 pasted ``$ARGUMENTS`` into its
    shell line, so its arguments could run commands).  Called by every plugin slash command."""
    dest = os.path.join(commands_dir(None), NAME)
    try:
        with open(dest, encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    if _MARKER_PREFIX not in text or MARKER in text:
        return None
    return install(None)


def uninstall(project: str | None = None) -> str:
    dest = os.path.join(commands_dir(project), NAME)
    if not os.path.exists(dest):
        return f"no shortcut at {dest}"
    if not _ours(dest):
        raise BadInput(f"{dest} was not written by model-strategy; left in place")
    os.unlink(dest)
    return f"removed {dest}"


def _ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            return _MARKER_PREFIX in fh.read()
    except OSError:
        return False


def _write(path: str, text: str, mode: int = store.FILE_MODE) -> None:
    store.atomic_write_bytes(path, text.encode("utf-8"), mode)  # never through a link; 0600 (0700 to run)


def install_command(args: argparse.Namespace) -> int:
    """``model-strategy install-shortcut [--project DIR] [--force]``."""
    print(install(args.project, args.force))
    return 0


def uninstall_command(args: argparse.Namespace) -> int:
    """``model-strategy uninstall-shortcut [--project DIR]``."""
    print(uninstall(args.project))
    return 0
