"""The test seam for crash faults: a process killed at a named point of a write.

The fault tests (``tests/test_ledger_processes.py`` and the crash cases of the hook-process tests)
start real hook processes with ``MODEL_STRATEGY_CRASH_AT=<point>``; when such a process reaches
``crash_point("<point>")`` it kills itself with SIGKILL, as a power cut or an OOM kill would, so the
tests can check that nothing is lost or counted twice.  Unset (always, outside those tests) every
``crash_point`` is a no-op: one dictionary look-up.  Standard library only (hot path).
"""

from __future__ import annotations

import os

ENV = "MODEL_STRATEGY_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process at ``name`` when the crash tests ask for it (a no-op otherwise).  Read at
    each point, not at import: a resident's child gets its hook's environment after the import."""
    if name == os.environ.get(ENV):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
