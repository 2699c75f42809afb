"""Claude Code hook shim: ``hook.py <event>`` runs ``model_strategy.runtime.entry.main`` (which
picks the event's handler and prints what it says).  This file is compiled on every hook, so it
stays small; it exits 0 with one line when the package itself cannot be loaded.

First it asks the data home's resident worker to run the hook (``resident_client.ask``; the worker
is ``runtime/entry/resident.py``); without one, or when it refuses, the hook runs here.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.join(ROOT, "lib"))
os.umask(0o077)  # the data home is private: files 0600, directories 0700 (hooks/run sets it too)
_cached = os.environ.get("MODEL_STRATEGY_PY_CACHE")
if _cached and os.environ.get("MODEL_STRATEGY_PY_VERSION") != sys.version.split()[0]:
    # hooks/run ran a cached interpreter whose version changed: the next hook resolves python3 again
    try:  # noqa: SIM105 - contextlib is not imported on the hot path
        os.unlink(_cached)
    except OSError:
        pass
event = sys.argv[1] if len(sys.argv) > 1 else ""
try:
    from resident_client import ask  # next to this file (sys.path[0]): its bytecode is cached, not this file's

    answered = ask(event, ROOT)
except Exception:  # the resident is only a faster way: never a reason to fail
    answered = None
if answered is not None:
    os._exit(answered)
try:
    from model_strategy.runtime.entry.main import main
except Exception as exc:  # a broken install must not break Claude Code either
    reason = type(exc).__name__
    print(f"model-strategy: status unavailable ({reason})" if event == "statusline" else
          '{"systemMessage": "model-strategy: cannot load its code (' + reason + '); nothing changed"}')
    sys.exit(0)
main(event)
