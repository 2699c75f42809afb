"""Shared fixtures: every test gets its own data dir; nothing touches the user's ~/.claude."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Shared 2-core CI machines: no per-example deadline (timing is for benchmarks, not tests).
settings.register_profile("project", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("project")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "claude-code-samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(ROOT / "lib"))


# The one clock (runtime/base/clock.py) is fixed for every test, so none depends on the day it runs on.
# ``MODEL_STRATEGY_TEST_NOW=2027-03-15T12:00:00Z scripts/test`` runs the whole suite at another instant;
# a test that needs a particular day sets ``MODEL_STRATEGY_NOW`` itself.  The real-client tests
# (tests/e2e) run on the wall clock, because the client stamps its transcripts with it.
TEST_NOW = os.environ.get("MODEL_STRATEGY_TEST_NOW") or "2026-12-07T12:00:00Z"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODEL_STRATEGY_NOW", TEST_NOW)
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("MODEL_STRATEGY_DATA_DIR", str(d))
    monkeypatch.setenv("CLAUDE_PLUGIN_ROOT", str(ROOT))
    monkeypatch.delenv("CLAUDE_PLUGIN_DATA", raising=False)
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    # each hook in its own process, as the tests of one process's imports and kills expect; the
    # resident worker has its own tests (test_resident.py) and the real-client tests run with it
    monkeypatch.setenv("MODEL_STRATEGY_RESIDENT", "off")
    # a shared, pre-built price snapshot makes tests fast (building one imports genai-prices)
    snap = _shared_snapshot()
    (d / "cache").mkdir()
    shutil.copy(snap, d / "cache" / "prices.json")
    from model_strategy.runtime.base import paths
    from model_strategy.runtime.money import pricing

    pricing.reset()
    paths.use_plugin_data("")  # an in-process slash-mode run of an earlier test may have set it
    yield d
    pricing.reset()
    paths.use_plugin_data("")


_SNAP: Path | None = None


def _shared_snapshot() -> Path:
    global _SNAP
    if _SNAP is None:
        import json
        import tempfile

        from model_strategy.runtime.money import pricing

        _SNAP = Path(tempfile.mkdtemp(prefix="ms-prices-")) / "prices.json"
        _SNAP.write_text(json.dumps(pricing.build_snapshot()))
    return _SNAP


@pytest.fixture
def samples() -> Path:
    """Real payloads captured from Claude Code 2.1.332 (frozen copies live in tests/fixtures)."""
    return FIXTURES / "claude-code-2.1.332"


@pytest.fixture(autouse=True)
def _dev_null_stays_a_device(request: pytest.FixtureRequest) -> Any:
    """Some run on these machines once replaced /dev/null with a regular file (every later `2>/dev/null`
    then wrote into it). Fail the test during which that happens, and put the device back."""
    import os
    import stat

    yield
    try:
        ok = stat.S_ISCHR(os.stat("/dev/null").st_mode)
    except FileNotFoundError:
        ok = False
    if not ok:
        if os.geteuid() == 0:
            with contextlib.suppress(OSError):
                os.unlink("/dev/null")
            os.mknod("/dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            os.chmod("/dev/null", 0o666)
        pytest.fail(f"/dev/null stopped being a character device during {request.node.nodeid}")
