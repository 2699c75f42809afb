"""Whole-process timing of every model-strategy command against a year of synthetic records.

    .cache/venv/bin/python benchmarks/bench_commands.py [--runs 5] [--keep DIR]

Generates 365 days of realistic records (50-200 agents a day, fewer at weekends) through
``Ledger.append_record`` under the archive lock, then runs each command through ``bin/model-strategy``
as the slash commands do and prints the median wall time, the spread, and the ratio to a bare
``python -c pass`` measured in the same run.  Figures only: nothing here asserts a time.
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
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "tests")]
PY = os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable
TODAY = date(2026, 11, 26)
COMMANDS = [
    ("report", ["report"]),
    ("report <use case>", ["report", "code review, 500 PRs a day"]),
    ("compare", ["compare"]),
    ("cost 300", ["cost", "300"]),
    ("fallback", ["fallback"]),
    ("catalog", ["catalog"]),
    ("dashboard", ["dashboard"]),
]


def timed(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - t0)
    return out


def generate(data: Path) -> int:
    os.environ["MODEL_STRATEGY_DATA_DIR"] = str(data)
    import synthrecords
    from model_strategy.commands import catalog
    from model_strategy.runtime.ledger import Ledger

    return synthrecords.generate(Ledger(), catalog.load(), TODAY, days=365, per_day=(50, 200), seed=2026)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", help="generate into (or reuse) this data dir instead of a temp dir")
    args = ap.parse_args()
    data = Path(args.keep or tempfile.mkdtemp(prefix="ms-bench-"))
    t0 = time.perf_counter()
    if not (data / "daily").exists():
        n = generate(data)
        print(f"generated {n:,} records for 365 days in {time.perf_counter() - t0:.0f} s -> {data}")
    days = sorted((data / "daily").glob("*.json"))
    size = sum(p.stat().st_size for p in days)
    print(f"archive: {len(days)} daily files, {size / 1e6:.1f} MB; python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; median of {args.runs} runs\n")
    env = {**os.environ, "MODEL_STRATEGY_DATA_DIR": str(data), "MODEL_STRATEGY_PYTHON": PY,
           "MODEL_STRATEGY_TODAY": TODAY.isoformat()}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    launcher = str(ROOT / "bin" / "model-strategy")
    base = statistics.median(timed([PY, "-c", "pass"], env, args.runs))
    rows = [("python -c pass (baseline)", [base], 1.0)]
    (data / "cache" / "catalog.json").unlink(missing_ok=True)
    cold = timed([launcher, "catalog"], env, 1)  # first run builds the catalog cache (imports genai-prices)
    rows.append(("catalog, cold cache (once)", cold, cold[0] / base))
    for name, argv in COMMANDS:
        times = timed([launcher, *argv], env, args.runs)
        rows.append((name, times, statistics.median(times) / base))
    print(f"{'command':32} {'median':>8} {'min':>8} {'max':>8} {'x baseline':>11}")
    for name, times, ratio in rows:
        print(f"{name:32} {statistics.median(times):7.3f}s {min(times):7.3f}s {max(times):7.3f}s {ratio:10.1f}x")
    if not args.keep:
        shutil.rmtree(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
