"""Claude Code hook shim: ``hook.py <event>`` parses stdin, calls the event's handler --
``model_strategy.runtime.entry.spawns.pre_tool_use`` (routing) or ``...entry.recording.<event>`` -- through
the fail-open runner ``...entry.hooks.run`` and prints its JSON (``statusline`` prints one line of text
instead; ``slash_args`` nothing).

Never fails the user's session: the runner exits 0 whatever happens, and so does this file when the
package itself cannot be loaded.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
os.umask(0o077)  # the data home is private: files 0600, directories 0700 (hooks/run sets it too)
_cached = os.environ.get("MODEL_STRATEGY_PY_CACHE")
if _cached and os.environ.get("MODEL_STRATEGY_PY_VERSION") != sys.version.split()[0]:
    # hooks/run ran a cached interpreter whose version changed: the next hook resolves python3 again
    try:  # noqa: SIM105 - contextlib is not imported on the hot path
        os.unlink(_cached)
    except OSError:
        pass
if sys.version_info < (3, 12):
    # datetime.py of 3.10/3.11 runs its whole pure-Python version (~1.5 ms) before it imports the C
    # module over it; 3.12's is only `from _datetime import *`: do what it does
    try:
        import _datetime

        sys.modules.setdefault("datetime", _datetime)
    except ImportError:  # pragma: no cover - an interpreter without the C module
        pass


def done(code: int) -> None:
    """Exit once the output is out, skipping the interpreter's teardown (freeing every module and
    object: ~2 ms of a hook's time).  Files are closed and locks released by then."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # Claude Code stopped reading: nothing left to tell it
        pass
    os._exit(code)


RECORDING = ("post_tool_use", "subagent_stop", "stop", "session_start")
event = sys.argv[1] if len(sys.argv) > 1 else ""

try:
    if event == "statusline":
        from model_strategy.runtime.entry.statusline import main as statusline

        done(statusline())
    if event == "slash_args":  # UserPromptExpansion / PreToolUse(Skill): store a slash command's arguments
        from model_strategy.runtime.entry.slashargs import hook_main

        done(hook_main())
    from model_strategy.runtime.entry import hooks

    if event == "pre_tool_use":  # only the module the event needs is loaded
        from model_strategy.runtime.entry.spawns import pre_tool_use as handler
    elif event in RECORDING:
        from model_strategy.runtime.entry import recording

        handler = getattr(recording, event)
except Exception as exc:  # a broken install must not break Claude Code either
    reason = type(exc).__name__
    print(f"model-strategy: status unavailable ({reason})" if event == "statusline" else
          '{"systemMessage": "model-strategy: cannot load its code (' + reason + '); nothing changed"}')
    sys.exit(0)

if event != "pre_tool_use" and event not in RECORDING:
    print('{"systemMessage": "model-strategy: unknown hook event ' + repr(event)[:40].replace('"', "'") + '"}')
    sys.exit(0)
done(hooks.run(handler))
