"""Claude Code session_start hook shim: parse stdin, call model_strategy.hooks.session_start, print its JSON.

Never fails the user's session: model_strategy.hooks.run exits 0 whatever happens.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

try:
    from model_strategy.hooks import run, session_start
except Exception as exc:  # a broken install must not break Claude Code either
    print('{"systemMessage": "model-strategy: cannot load its code (' + type(exc).__name__ + '); nothing changed"}')
    sys.exit(0)

sys.exit(run(session_start))
