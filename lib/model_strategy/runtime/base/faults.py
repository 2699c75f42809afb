"""The test seam for crash faults: a process killed at a named point of a write.

The fault tests (``tests/test_ledger_processes.py`` and the crash cases of the hook-process tests)
start real hook processes with ``MODEL_STRATEGY_CRASH_AT=<point>``; when such a process reaches
``crash_point("<point>")`` it kills itself with SIGKILL, as a power cut or an OOM kill would, so the
tests can check that nothing is lost or counted twice.  Unset (always, outside those tests) every
``crash_point`` is a no-op: one string comparison.  Standard library only (hot path).
"""

from __future__ import annotations

import os

ENV = "MODEL_STRATEGY_CRASH_AT"
_CRASH_AT = os.environ.get(ENV, "")


def crash_point(name: str) -> None:
    """Kill this process at ``name`` when the crash tests ask for it (a no-op otherwise)."""
    if name == _CRASH_AT:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
