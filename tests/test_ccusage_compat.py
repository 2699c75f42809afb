"""Optional: our per-day token totals equal ccusage's on a generated tree (skipped without ccusage).

Install the pinned ccusage with ``npm install --prefix .cache/ccusage ccusage@18.0.11``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CCUSAGE = ROOT / ".cache" / "ccusage" / "node_modules" / ".bin" / "ccusage"
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.mark.skipif(not CCUSAGE.exists(), reason="ccusage is not installed in .cache/ccusage")
def test_daily_token_totals_equal_ccusage(tmp_path: Path) -> None:
    import compare_ccusage
    import transcript_tree

    tree = tmp_path / "claude"
    transcript_tree.build(str(tree), 3, seed=11)
    (tmp_path / "home").mkdir()
    ours = compare_ccusage.ours(tree, tmp_path)
    theirs = compare_ccusage.theirs(tree, tmp_path, str(CCUSAGE))
    lines, ok = compare_ccusage.compare(ours, theirs)
    assert ok, "\n".join(lines)
    assert len(ours["rows"]) == len(theirs["daily"]) > 0
