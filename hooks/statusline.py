"""Claude Code statusLine command: one line with today's spend and budget level.

Configure with ``bin/model-strategy install-statusline`` (writes the absolute path of
``hooks/run statusline`` into ~/.claude/settings.json).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

try:
    from model_strategy.budget_cli import statusline
except Exception as exc:
    print(f"model-strategy: status unavailable ({type(exc).__name__})")
    sys.exit(0)

sys.exit(statusline())
