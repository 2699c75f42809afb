"""Our per-day token totals equal ccusage's on a generated tree.

ccusage is the peer users run for their history; ``scripts/test`` installs the pinned version
(``tests/CCUSAGE_VERSION``) into ``.cache/ccusage``.  Without it the test skips locally and fails in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
PINNED = (ROOT / "tests" / "CCUSAGE_VERSION").read_text().strip()


@pytest.fixture(scope="module")
def ccusage() -> str:
    path = os.environ.get("CCUSAGE_BIN") or str(ROOT / ".cache" / "ccusage" / "node_modules" / ".bin" / "ccusage")
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60).stdout.split()
    except OSError:
        version = []
    if version[-1:] != [PINNED]:
        msg = f"ccusage {PINNED} is not installed at {path} (scripts/test installs it); found {version or 'nothing'}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return path


def test_daily_token_totals_equal_ccusage(tmp_path: Path, ccusage: str) -> None:
    import compare_ccusage
    import transcript_tree

    tree = tmp_path / "claude"
    info = transcript_tree.build(str(tree), 3, seed=11)
    assert info["running_agents"] > 0  # some agents still running: their requests so far count now
    (tmp_path / "home").mkdir()
    ours = compare_ccusage.ours(tree, tmp_path)
    theirs = compare_ccusage.theirs(tree, tmp_path, ccusage)
    lines, ok = compare_ccusage.compare(ours, theirs)
    assert ok, "\n".join(lines)
    assert len(ours["rows"]) == len(theirs["daily"]) > 0
    kinds = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")
    mine = {r["key"]: {k: r[k] for k in kinds} for r in ours["rows"]}
    assert mine == info["truth"]  # and both equal the generator's truth, day by day
