"""Slash-command arguments travel beside the shell, never through it.

Claude Code pastes ``$ARGUMENTS`` verbatim into a command's ``!`` shell line, so any argument text
could run a second command, and its permission checker aborts the whole slash command on ordinary
text (``x =ls``, ``{'a'}``, a non-breaking space, more than ~10,000 characters; see
``tests/e2e/FACTS.md`` section 10).  So no command puts ``$ARGUMENTS`` into its ``!`` line.  Instead:

* a hook receives the arguments as JSON -- ``UserPromptExpansion`` (``command_name``,
  ``command_args``) when the user types the command, ``PreToolUse`` on ``Skill`` (``skill``,
  ``args``) when Claude invokes it -- and :func:`hook_main` stores them under the plugin's data dir,
  keyed by session and subcommand;
* the ``!`` line is a fixed command, ``model-strategy --plugin-data DIR <subcommand> --slash-args``,
  pinned by an exact ``allowed-tools`` rule, and the CLI takes the stored text with :func:`take`
  (the ``!`` process has ``CLAUDE_CODE_SESSION_ID`` in its environment).

The text is only ever data: the CLI splits it into words for its subcommand.
"""

from __future__ import annotations

import os
import sys

from model_strategy.runtime.base import clock, paths, store
from model_strategy.runtime.base.fastjson import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PLUGIN = "model-strategy"
#: commands whose CLI subcommand has another name; every other ``model-strategy:<x>`` runs ``<x>``
ALIASES = {"model-strategy": "report"}
#: the subcommands whose slash command passes its arguments (``<sub> --slash-args``)
TAKES_WORDS = ("report", "compare", "cost", "fallback", "catalog", "budget", "dashboard", "efficiency", "roi",
               "recommendations", "history", "routing", "feedback")
#: subcommands whose words include their own options (``--days 7``); the others get theirs after ``--``
OPTION_WORDS = ("budget", "dashboard", "efficiency", "roi", "recommendations", "history", "routing", "feedback")
#: options that write or read where the caller chooses: never from a slash command's text
REFUSED = ("--html", "--svg", "--output", "--settings", "--project", "--claude-dir", "--plugin-data")
FLAG = "--slash-args"
MAX_CHARS = 2000  # longer argument text is refused with one line (a use case is a sentence or two)
MAX_AGE_S = 3600  # a stored text older than this is stale (its command never ran)
_DIR = "slash-args"


def subcommand_for(command: str) -> str | None:
    """The CLI subcommand behind a slash command as Claude Code names it (``model-strategy:cost`` ->
    ``cost``; ``model-strategy:model-strategy`` and the user-level shortcut ``model-strategy`` ->
    ``report``), or None when the command is not ours."""
    name = command.lstrip("/")
    if name == PLUGIN:
        return ALIASES[PLUGIN]
    if not name.startswith(PLUGIN + ":"):
        return None
    sub = name[len(PLUGIN) + 1:]
    sub = ALIASES.get(sub, sub)
    return sub if sub and len(sub) <= 40 and all(c.isascii() and (c.islower() or c.isdigit() or c == "-")
                                                    for c in sub) else None


def _path(session_id: str, subcommand: str) -> str:
    return os.path.join(paths.data_dir(), _DIR, f"{paths.safe_id(session_id)}.{paths.safe_id(subcommand)}.json")


def stash(session_id: str, command: str, args: str) -> str | None:
    """Store ``args`` for the next ``--slash-args`` run of ``command``'s subcommand in this session.
    Returns the file written, or None when ``command`` is not one of ours."""
    sub = subcommand_for(command)
    if sub not in TAKES_WORDS:
        return None
    path = _path(session_id, sub)
    _prune(os.path.dirname(path))
    # the one atomic writer: a private folder, temp + os.replace, never through a link
    store.atomic_write_json(path, {"command": command, "args": args, "time": clock.epoch()})
    return path


def _prune(folder: str) -> None:
    """Remove stored texts whose command never ran (older than MAX_AGE_S)."""
    now = clock.epoch()
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    if now - entry.stat().st_mtime > MAX_AGE_S:
                        os.unlink(entry.path)
                except OSError:
                    pass
    except OSError:
        pass


def take(subcommand: str, session_id: str | None = None) -> str | None:
    """The argument text stored for this session's ``subcommand`` (removed once read), or None when
    there is none (the hook did not run) or it is stale."""
    session_id = session_id or os.environ.get("CLAUDE_CODE_SESSION_ID", "")
    if not session_id:
        return None
    path = _path(session_id, subcommand)
    try:
        data = store.read_json(path)
        os.unlink(path)
    except (OSError, ValueError):  # StoreError is a ValueError
        return None
    if not isinstance(data, dict) or not isinstance(data.get("args"), str):
        return None
    stamp = data.get("time")
    if not isinstance(stamp, (int, float)) or clock.epoch() - stamp > MAX_AGE_S:
        return None
    return str(data["args"])


def from_payload(payload: dict[str, object]) -> tuple[str, str] | None:
    """(command name, argument text) from a ``UserPromptExpansion`` or ``PreToolUse(Skill)`` payload."""
    event = payload.get("hook_event_name")
    if event == "UserPromptExpansion":
        name, args = payload.get("command_name"), payload.get("command_args")
    elif event == "PreToolUse" and payload.get("tool_name") == "Skill":
        tool_input = payload.get("tool_input")
        if not isinstance(tool_input, dict):
            return None
        name, args = tool_input.get("skill"), tool_input.get("args")
    else:
        return None
    if not isinstance(name, str):
        return None
    return name, args if isinstance(args, str) else ""


def hook_main(stdin: Any = None) -> int:
    """The ``slash_args`` hook: store the arguments, print nothing, always exit 0 (fail open: the
    command then runs without arguments and says so)."""
    try:
        raw = (stdin or sys.stdin).read()
        payload = loads(raw)
        if isinstance(payload, dict):
            found = from_payload(payload)
            session = payload.get("session_id") or os.environ.get("CLAUDE_CODE_SESSION_ID")
            if found and isinstance(session, str) and session:
                stash(session, *found)
    except Exception:  # never disturb the user's command
        store.log_error("slash_args")
    return 0


def words(text: str) -> list[str]:
    """The argument text as words (whitespace split); control characters become spaces."""
    cleaned = "".join(" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) else c for c in text)
    return cleaned.split()
