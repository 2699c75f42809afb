"""The ledger under load: N agents, each reported by both of its hooks (SubagentStop and PostToolUse),
all 2N hook processes started at once, as Claude Code would start them for parallel agents.

Prints the wall time, how many hooks had to park their record in the spool, and the doctor's verdict
(every agent exactly once, caches equal to the ledger).  Asserts nothing.

    python benchmarks/bench_ledger.py [--agents 200] [--repeat 3] [--resident]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_hooks import wait_listening  # noqa: E402 (after the path)


def one_run(agents: int, seed: int, resident: bool) -> dict[str, float | int | bool]:
    from fleet import Fleet, finish, hook_env, start
    from model_strategy.runtime.entry import resident as resident_mod

    tmp = Path(tempfile.mkdtemp(prefix="ms-bench-ledger-"))
    data = tmp / "data"
    data.mkdir()
    os.environ["MODEL_STRATEGY_DATA_DIR"] = str(data)
    from model_strategy.runtime.money import pricing

    pricing.reset()
    fleet = Fleet(ROOT / "tests" / "fixtures" / "claude-code-2.1.332", tmp, agents)
    jobs = [("subagent_stop", fleet.subagent_stop(a)) for a in fleet.ids]
    jobs += [("post_tool_use", fleet.post_tool_use(a)) for a in fleet.ids]
    random.Random(seed).shuffle(jobs)
    env = hook_env({"MODEL_STRATEGY_DATA_DIR": str(data), resident_mod.ENV: "on" if resident else "off"})
    if resident:  # started before the burst (by one hook), as in a session that has been running
        finish(start("unknown_event", {}, env))
        wait_listening(data)
    t0 = time.perf_counter()
    procs = [start(event, payload, env) for event, payload in jobs]
    results = [finish(p) for p in procs]
    wall = time.perf_counter() - t0
    resident_mod.stop(str(data))
    spooled = sum(1 for _, out, _ in results if b"parked in the spool" in out)
    from model_strategy.commands.usage import ledger_cli
    from model_strategy.runtime.books.ledger import Ledger

    ledger = Ledger(str(data))
    ledger.settle(wait=30)
    subs = [r for r in ledger.iter_records() if r["kind"] == "subagent"]
    once = len(subs) == agents and len({r["agent_id"] for r in subs}) == agents
    check = ledger_cli.check(Ledger(str(data)))
    return {"wall_s": wall, "spooled": spooled, "exactly_once": once, "doctor_ok": bool(check["ok"]),
            "failed_hooks": sum(1 for code, _, _ in results if code != 0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--resident", action="store_true",
                    help="hooks answered by the data home's resident worker (started first); default: each its own")
    args = ap.parse_args()
    os.environ.setdefault("MODEL_STRATEGY_PYTHON", sys.executable)
    runs = [one_run(args.agents, seed, args.resident) for seed in range(args.repeat)]
    walls = [float(r["wall_s"]) for r in runs]
    how = "answered by the resident worker" if args.resident else "each in its own process"
    print(f"{2 * args.agents} hook processes at once ({args.agents} agents × SubagentStop + PostToolUse, {how}), "
          f"{args.repeat} runs on {os.cpu_count()} cores:")
    print(f"  wall time median {statistics.median(walls):.1f} s (min {min(walls):.1f}, max {max(walls):.1f}); "
          f"{statistics.median(walls) * 1000 / (2 * args.agents):.0f} ms per hook")
    print(f"  parked in the spool: {[r['spooled'] for r in runs]}; failed hooks: {[r['failed_hooks'] for r in runs]}")
    print(f"  every agent exactly once: {[r['exactly_once'] for r in runs]}; "
          f"doctor ok: {[r['doctor_ok'] for r in runs]}")
    print(json.dumps(runs))


if __name__ == "__main__":
    main()
