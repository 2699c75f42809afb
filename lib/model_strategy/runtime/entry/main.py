"""What ``hooks/hook.py <event>`` runs (kept here, not in the shim, so that it is compiled once and
cached like any module: the shim itself is compiled on every hook).

Each event loads only its own module: ``spawns.pre_tool_use`` (routing), one of ``recording``'s
handlers, ``statusline.main`` or ``slashargs.hook_main``; the handlers go through the fail-open
runner ``hooks.run``.  Never fails the user's session: exit 0 whatever happens.
"""

from __future__ import annotations

import os
import sys

if sys.version_info < (3, 12):
    # datetime.py of 3.10/3.11 runs its whole pure-Python version (~1.5 ms) before it imports the C
    # module over it; 3.12's is only `from _datetime import *`: do what it does (nothing in the
    # package has imported datetime yet)
    try:
        import _datetime  # type: ignore[import-not-found]

        sys.modules.setdefault("datetime", _datetime)
    except ImportError:  # pragma: no cover - an interpreter without the C module
        pass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from .hooks import Handler

RECORDING = ("post_tool_use", "subagent_stop", "stop", "session_start")
answer: int | None = None  # in a resident's child: the socket on which the waiting hook gets its exit code


def done(code: int) -> NoReturn:
    """Exit once the output is out, skipping the interpreter's teardown (freeing every module and
    object: ~2 ms of a hook's time).  Files are closed and locks released by then."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # Claude Code stopped reading: nothing left to tell it
        pass
    if answer is not None:  # a resident's child: the hook that waits exits with this code
        try:  # noqa: SIM105 - contextlib is not imported on the hot path
            os.write(answer, bytes([code & 0xFF]))
        except OSError:  # it is gone (Claude Code's timeout)
            pass
    os._exit(code)


def _take(event: str, socket: int) -> NoReturn:
    """A resident's child runs the hook that connected on ``socket``; ``done`` answers it there."""
    global answer
    answer = socket
    main(event)


def main(event: str) -> NoReturn:
    handler: Handler | None = None
    try:
        if event == "statusline":
            from .statusline import main as statusline

            done(statusline())
        if event == "resident":  # the resident hook worker (started by a hook; see resident.py)
            from .resident import serve

            done(serve(_take))
        if event == "slash_args":  # UserPromptExpansion / PreToolUse(Skill): store a slash command's arguments
            from .slashargs import hook_main

            done(hook_main())
        from . import hooks

        if event == "pre_tool_use":
            from .spawns import pre_tool_use as handler
        elif event in RECORDING:
            from . import recording

            handler = getattr(recording, event)
    except Exception as exc:  # a broken install must not break Claude Code either
        reason = type(exc).__name__
        print(f"model-strategy: status unavailable ({reason})" if event == "statusline" else
              '{"systemMessage": "model-strategy: cannot load its code (' + reason + '); nothing changed"}')
        done(0)
    if handler is None:
        print('{"systemMessage": "model-strategy: unknown hook event ' + repr(event)[:40].replace('"', "'") + '"}')
        done(0)
    done(hooks.run(handler))
