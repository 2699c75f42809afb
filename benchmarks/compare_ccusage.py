"""Per-day token totals of ``model-strategy history`` next to ``ccusage daily`` on the same tree.

    .cache/venv/bin/python benchmarks/compare_ccusage.py [--tree DIR | --mb 50] [--ccusage PATH]

Builds a deterministic transcript tree (or takes ``--tree``, a Claude config dir with ``projects/``),
imports it into a temp data home and prints both tools' per-day input, output, cache-write and
cache-read tokens side by side (UTC days: ``ccusage -z UTC``).  Exit 0 when every day matches, 1 when
one differs, 2 when ccusage is not installed.

Known, documented differences on real trees (none occur on the generated one): a streamed response
whose entries carry growing counts is counted with its largest counts here and with its first
entry's by ccusage; an agent is filed on the UTC day it started, ccusage files each response on its
own day; entries without a request id are deduplicated by message id here and never by ccusage.
Costs are not compared: ccusage's offline prices do not know every model genai-prices knows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "benchmarks")]
PY = os.environ.get("MODEL_STRATEGY_PYTHON") or str(ROOT / ".cache" / "venv" / "bin" / "python")
CCUSAGE = ROOT / ".cache" / "ccusage" / "node_modules" / ".bin" / "ccusage"
KINDS = [("input_tokens", "inputTokens"), ("output_tokens", "outputTokens"),
         ("cache_write_tokens", "cacheCreationTokens"), ("cache_read_tokens", "cacheReadTokens")]


def ours(tree: Path, work: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "MODEL_STRATEGY_"))}
    env.update(MODEL_STRATEGY_DATA_DIR=str(work / "data"), MODEL_STRATEGY_PYTHON=PY, HOME=str(work / "home"))
    out = subprocess.run([str(ROOT / "bin" / "model-strategy"), "history", "daily", "--json", "--claude-dir",
                          str(tree)], env=env, capture_output=True, text=True, check=True).stdout
    doc: dict[str, Any] = json.loads(out)
    return doc


def theirs(tree: Path, work: Path, ccusage: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE")}
    env.update(CLAUDE_CONFIG_DIR=str(tree), HOME=str(work / "home"), NO_COLOR="1")
    out = subprocess.run([ccusage, "daily", "--offline", "--json", "-z", "UTC"], env=env, capture_output=True,
                         text=True, check=True).stdout
    doc: dict[str, Any] = json.loads(out)
    return doc


def compare(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], bool]:
    """One line per UTC day: each token kind as model-strategy / ccusage, and whether all four match."""
    mine = {r["key"]: r for r in a["rows"]}
    cc = {r.get("period") or r["date"]: r for r in b["daily"]}  # 20.x says period, 18.x date
    head = "".join(f" {k.removesuffix('_tokens'):>12} {'(ccusage)':>12}" for k, _ in KINDS)
    lines = [f"{'day (UTC)':10}{head}  same"]
    ok = True

    def line(label: str, x: dict[str, Any], y: dict[str, Any]) -> str:
        nonlocal ok
        pairs = [(int(x.get(k, 0)), int(y.get(c, 0))) for k, c in KINDS]
        same = all(p == q for p, q in pairs)
        ok &= same
        return f"{label:10}" + "".join(f" {p:12} {q:12}" for p, q in pairs) + f"  {'yes' if same else 'NO'}"

    for day in sorted(set(mine) | set(cc)):
        lines.append(line(day, mine.get(day, {}), cc.get(day, {})))
    lines.append(line("total", a["totals"], b["totals"]))
    ours_cost, cc_cost = Decimal(a["totals"]["cost_usd"]), b["totals"]["totalCost"]
    lines.append(f"requests: {a['totals']['requests']:,} (model-strategy; ccusage does not count them); cost: "
                 f"${ours_cost:.2f} (genai-prices) vs ${cc_cost:.2f} (ccusage offline prices; not compared)")
    return lines, ok


def main() -> int:
    import transcript_tree

    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", help="a Claude config dir holding projects/ (default: generate one)")
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--ccusage", default=str(CCUSAGE))
    args = ap.parse_args()
    if not os.path.exists(args.ccusage):
        print(f"ccusage not found at {args.ccusage}; scripts/test installs the pinned one (tests/CCUSAGE_VERSION)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="ms-compare-"))
    (work / "home").mkdir()
    tree = Path(args.tree) if args.tree else work / "claude"
    info = None if args.tree else transcript_tree.build(str(tree), args.mb)
    a, b = ours(tree, work), theirs(tree, work, args.ccusage)
    lines, ok = compare(a, b)
    print("\n".join(lines))
    print(f"\nper-day token totals {'MATCH' if ok else 'DIFFER'} ({len(a['rows'])} days)")
    if info is not None:  # a generated tree: both must also equal what the generator wrote
        kinds = [k for k, _ in KINDS]
        truth_ok = {r["key"]: {k: r[k] for k in kinds} for r in a["rows"]} == info["truth"]
        ok &= truth_ok
        print(f"equal to the generator's truth: {'yes' if truth_ok else 'NO'} "
              f"({info['running_agents']} agents still running)")
    import shutil

    shutil.rmtree(work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
