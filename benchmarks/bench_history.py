"""``model-strategy history`` against ``ccusage daily --offline --json -z UTC`` on the same transcript tree.

    .cache/venv/bin/python benchmarks/bench_history.py [--mb 200] [--runs 3] [--keep DIR] [--ccusage PATH]

The reference is ccusage 20.0.24 (``CCUSAGE_VERSION``; a Rust binary behind its npm launcher, what
``npx ccusage`` installs now): ``npm install --prefix .cache/ccusage ccusage@20.0.24``.

Generates a deterministic ~200 MB Claude Code transcript tree (``transcript_tree.py``, seed 7),
then times, in the same run and interleaved run by run:

* cold   -- ``history`` on an empty data dir (reads and imports every file; the price snapshot is
  already there, as it is on any machine where the hooks ran) vs ccusage on the tree;
* warm   -- ``history`` again, nothing new (stats the files, reads no transcript bytes, folds the
  report from the ledger) vs ccusage again (it has no cache: it reads everything every time);
* append -- one new session (main + agents) added to the tree, then both again.

Both are whole processes through their launchers (``bin/model-strategy``, ``ccusage``'s npm entry).
The page cache is warmed once before timing so neither side pays for the first disk read.  ccusage is
pointed at the tree with ``CLAUDE_CONFIG_DIR`` (its documented way) and a ``HOME`` without a
``.claude``; we get ``--claude-dir``.  Data homes are temp dirs (``MODEL_STRATEGY_DATA_DIR``).
Targets (issue 13): cold <= 1.5x ccusage's wall time, warm <= 0.2x; append <= 0.2x too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "benchmarks")]
PY = os.environ.get("MODEL_STRATEGY_PYTHON") or str(ROOT / ".cache" / "venv" / "bin" / "python")
CCUSAGE = ROOT / ".cache" / "ccusage" / "node_modules" / ".bin" / "ccusage"
CCUSAGE_VERSION = "20.0.24"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - t0


def warm_page_cache(tree: Path) -> int:
    total = 0
    for p in tree.rglob("*.jsonl"):
        total += len(p.read_bytes())
    return total


def seed_snapshot(data: Path) -> None:
    """The price snapshot the hooks keep in the data dir (built once per machine, not per history run)."""
    from model_strategy.runtime.money import pricing

    (data / "cache").mkdir(parents=True, exist_ok=True)
    os.environ["MODEL_STRATEGY_DATA_DIR"] = str(data)
    pricing.ensure_snapshot()


def main() -> int:
    import transcript_tree

    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", help="generate into (or reuse) this tree instead of a temp dir")
    ap.add_argument("--ccusage", default=str(CCUSAGE))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ms-bench-history-"))
    tree = Path(args.keep) if args.keep else work / "claude"
    if not (tree / "projects").exists():
        t0 = time.perf_counter()
        info = transcript_tree.build(str(tree), args.mb)
        print(f"generated {info['sessions']} sessions, {info['bytes'] / 1e6:.0f} MB in "
              f"{time.perf_counter() - t0:.0f} s -> {tree}")
    files = list(tree.rglob("*.jsonl"))
    size = warm_page_cache(tree)
    have_cc = os.path.exists(args.ccusage)
    version = subprocess.run([args.ccusage, "--version"], capture_output=True, text=True).stdout.strip() \
        if have_cc else "not installed"
    if have_cc and version.split()[-1:] != [CCUSAGE_VERSION]:
        print(f"warning: the targets are set against ccusage {CCUSAGE_VERSION}, this is {version!r}")
    print(f"tree: {len(files):,} transcript files, {size / 1e6:.0f} MB; python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; ccusage {version}; median of {args.runs} runs\n")
    home = work / "home"
    home.mkdir()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "MODEL_STRATEGY_"))}
    base_env.pop("PYTHONDONTWRITEBYTECODE", None)
    cc_env = {**base_env, "HOME": str(home), "CLAUDE_CONFIG_DIR": str(tree), "NO_COLOR": "1"}
    cc_cmd = [args.ccusage, "daily", "--offline", "--json", "-z", "UTC"]
    ours_cmd = [str(ROOT / "bin" / "model-strategy"), "history", "daily", "--json", "--claude-dir", str(tree)]
    snap = work / "snapshot"
    seed_snapshot(snap)

    def ours_env(data: Path) -> dict[str, str]:
        return {**base_env, "HOME": str(home), "MODEL_STRATEGY_DATA_DIR": str(data), "MODEL_STRATEGY_PYTHON": PY}

    results: dict[str, dict[str, list[float]]] = {c: {"ours": [], "ccusage": []} for c in ("cold", "warm", "append")}
    for run in range(args.runs):
        data = work / f"data{run}"
        shutil.copytree(snap, data)
        results["cold"]["ours"].append(timed(ours_cmd, ours_env(data)))
        if have_cc:
            results["cold"]["ccusage"].append(timed(cc_cmd, cc_env))
        results["warm"]["ours"].append(timed(ours_cmd, ours_env(data)))
        if have_cc:
            results["warm"]["ccusage"].append(timed(cc_cmd, cc_env))
        added = transcript_tree.add_session(str(tree), seed=1000 + run)
        results["append"]["ours"].append(timed(ours_cmd, ours_env(data)))
        if have_cc:
            results["append"]["ccusage"].append(timed(cc_cmd, cc_env))
        print(f"run {run + 1}: cold {results['cold']['ours'][-1]:.2f} s, warm {results['warm']['ours'][-1]:.3f} s, "
              f"append ({added / 1e3:.0f} kB) {results['append']['ours'][-1]:.3f} s", flush=True)
        if run:  # keep the data dirs small: only the first is kept for inspection
            shutil.rmtree(data)
    targets = {"cold": ("<= 1.5x ccusage", lambda r: r <= 1.5), "warm": ("<= 0.2x ccusage", lambda r: r <= 0.2),
               "append": ("<= 0.2x ccusage", lambda r: r <= 0.2)}
    print(f"\n{'case':8} {'ours':>9} {'ccusage':>9} {'ours/ccusage':>13} {'speed-up':>9}  target")
    for case, res in results.items():
        ours = statistics.median(res["ours"])
        if res["ccusage"]:
            cc = statistics.median(res["ccusage"])
            ratio = ours / cc
            label, ok = targets[case]
            print(f"{case:8} {ours:8.3f}s {cc:8.3f}s {ratio:12.2f}x {cc / ours:8.1f}x  {label}: "
                  f"{'met' if ok(ratio) else 'MISSED'}")
        else:
            print(f"{case:8} {ours:8.3f}s {'-':>9} {'-':>13} {'-':>9}  (ccusage not installed)")
    shutil.rmtree(work)
    if args.keep:
        print(f"\n(the tree in {tree} now holds {args.runs} more appended session(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
