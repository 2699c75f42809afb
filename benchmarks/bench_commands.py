"""Whole-process timing of every model-strategy command against a year of synthetic records, and of
the usage reports against a ledger of a million records.

    .cache/venv/bin/python benchmarks/bench_commands.py [--runs 5] [--keep DIR]
    .cache/venv/bin/python benchmarks/bench_commands.py --large 1000000 [--large-days 30] [--keep-large DIR]

Generates 365 days of realistic records (50-200 agents a day, fewer at weekends) through
``Ledger.commit`` under the ledger lock, then runs each command through ``bin/model-strategy``
as the slash commands do and prints the median wall time, the spread, and the ratio to a bare
``python -c pass`` measured in the same run.  Figures only: nothing here asserts a time.

``--large N`` writes N records spread over the last ``--large-days`` days straight into the day
files (templates from ``synthrecords`` with their ids, sessions and times filled in -- committing a
million records one by one would take an hour), then times ``dashboard --days 30`` and ``export
costs`` cold (no daily roll-ups yet: every day file is read once and folded) and warm (roll-ups
caught up: only they are read).  Targets: dashboard 1.5 s, export costs 2 s, warm.
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
    ("dashboard --days 30", ["dashboard", "--days", "30"]),
    ("efficiency", ["efficiency"]),
    ("roi", ["roi"]),
    ("recommendations", ["recommendations"]),
    ("export costs", ["export", "costs", os.devnull]),
]
LARGE = [
    ("dashboard --days 30", ["dashboard", "--days", "30"]),
    ("export costs (every day)", ["export", "costs", os.devnull]),
    ("efficiency", ["efficiency"]),
    ("recommendations", ["recommendations"]),
    ("export analytics", ["export", "analytics", os.devnull]),
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
    from model_strategy.commands.knowledge import catalog
    from model_strategy.runtime.books.ledger import Ledger

    return synthrecords.generate(Ledger(), catalog.load(), TODAY, days=365, per_day=(50, 200), seed=2026)


TEMPLATES = 4000


def generate_large(data: Path, n: int, days: int) -> int:
    """``n`` records over the ``days`` days ending TODAY, written straight into the day files."""
    import random
    from datetime import datetime, timedelta, timezone

    os.environ["MODEL_STRATEGY_DATA_DIR"] = str(data)
    import synthrecords
    from model_strategy.commands.knowledge import catalog
    from model_strategy.runtime.base import fastjson

    cat = catalog.load()
    rng, vrng = random.Random(2026), random.Random(2027)
    base = datetime(TODAY.year, TODAY.month, TODAY.day, 8, tzinfo=timezone.utc)
    templates = []
    for i in range(TEMPLATES):
        kind = "main" if i % 10 == 0 else "subagent"
        rec = synthrecords.vary(cat, vrng, synthrecords.record(cat, rng, base, "@SID@", i, kind=kind))
        rec.update(id="@ID@", ts="@TS@", recorded_at="@TS@")
        if kind == "main":
            rec["request_keys"] = rec["request_keys"][:3]
        templates.append(fastjson.dumps(rec))
    (data / "daily").mkdir(parents=True, exist_ok=True)
    per_day, extra = divmod(n, days)
    written = 0
    for d in range(days):
        day = TODAY - timedelta(days=days - 1 - d)
        count = per_day + (1 if d < extra else 0)
        lines = []
        for i in range(count):
            secs = i * 50_400 // count  # 08:00 to 22:00
            ts = f"{day.isoformat()}T{8 + secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}.000Z"
            sid = f"s{day.isoformat()}-{i // 25}"
            line = templates[(written + i) % TEMPLATES]
            lines.append(line.replace("@ID@", f"{sid}:{written + i}").replace("@TS@", ts).replace("@SID@", sid))
        with open(data / "daily" / f"{day.isoformat()}.json", "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        written += count
    return written


def large(args: argparse.Namespace, env: dict[str, str], launcher: str, base: float) -> None:
    data = Path(args.keep_large or tempfile.mkdtemp(prefix="ms-bench-large-"))
    env = {**env, "MODEL_STRATEGY_DATA_DIR": str(data)}
    if not (data / "daily").exists():
        t0 = time.perf_counter()
        n = generate_large(data, args.large, args.large_days)
        print(f"\ngenerated {n:,} records over {args.large_days} days in {time.perf_counter() - t0:.0f} s -> {data}")
    days = sorted((data / "daily").glob("*.json"))
    size = sum(p.stat().st_size for p in days)
    print(f"large ledger: {len(days)} day files, {size / 1e9:.2f} GB; cold = no daily roll-ups yet "
          f"(every day file folded once), warm = median of {args.runs}\n")
    subprocess.run([launcher, "catalog"], env=env, stdout=subprocess.DEVNULL, check=True)  # catalog cache
    print(f"{'command':32} {'cold':>8} {'warm':>8} {'min':>8} {'max':>8} {'x baseline':>11}")
    for name, argv in LARGE:
        shutil.rmtree(data / "rollups", ignore_errors=True)
        cold = timed([launcher, *argv], env, 1)[0]
        warm = timed([launcher, *argv], env, args.runs)
        med = statistics.median(warm)
        print(f"{name:32} {cold:7.2f}s {med:7.3f}s {min(warm):7.3f}s {max(warm):7.3f}s {med / base:10.1f}x")
    if not args.keep_large:
        shutil.rmtree(data)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", help="generate into (or reuse) this data dir instead of a temp dir")
    ap.add_argument("--large", type=int, default=0, help="also time the usage reports on a ledger of N records")
    ap.add_argument("--large-days", type=int, default=30, help="days the large ledger spans (default 30)")
    ap.add_argument("--keep-large", help="generate the large ledger into (or reuse) this data dir")
    ap.add_argument("--only-large", action="store_true", help="skip the year of records")
    args = ap.parse_args()
    if args.only_large:
        env = {**os.environ, "MODEL_STRATEGY_PYTHON": PY, "MODEL_STRATEGY_NOW": TODAY.isoformat()}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        base = statistics.median(timed([PY, "-c", "pass"], env, args.runs))
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; python -c pass {base:.3f}s")
        large(args, env, str(ROOT / "bin" / "model-strategy"), base)
        return 0
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
           "MODEL_STRATEGY_NOW": TODAY.isoformat()}
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
    if args.large:
        large(args, env, launcher, base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
