"""Replay a month of priced subagent spawns through the real selector, budget policy and running
totals, with a fake clock.  Prints what the downgrades saved; the test suite asserts on it.

    python benchmarks/simulate_month.py [--spawns 5000] [--days 30] [--budget 200] [--deny]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

MODEL_IDS = {"haiku": "claude-haiku-5-5", "sonnet": "claude-sonnet-5-5", "opus": "claude-opus-5-5"}
WORK = [  # (agent type, description, prompt, input tokens range, output tokens range)
    ("Explore", "Find usages", "search the repo for callers of parse()", (20_000, 60_000), (500, 2_000)),
    ("general-purpose", "Refactor module", "refactor the storage module and update the tests",
     (40_000, 90_000), (3_000, 9_000)),
    ("general-purpose", "Design review", "review the architecture for security issues and race conditions",
     (60_000, 95_000), (4_000, 10_000)),
    ("Plan", "Plan the feature", "plan the implementation of the export feature", (30_000, 80_000),
     (2_000, 6_000)),
    ("code-reviewer", "Review diff", "review the diff for bugs", (20_000, 70_000), (1_000, 4_000)),
]


def simulate(spawns: int = 5000, days: int = 30, monthly: str = "200", exceeded: str = "haiku_only",
             seed: int = 7) -> dict[str, Any]:
    from model_strategy.runtime.base import paths
    from model_strategy.runtime.base.clock import iso
    from model_strategy.runtime.books import records
    from model_strategy.runtime.books.ledger import Ledger
    from model_strategy.runtime.limits import budget
    from model_strategy.runtime.money import pricing
    from model_strategy.runtime.routing import selector

    rng = random.Random(seed)
    with open(paths.defaults_file()) as fh:
        cfg = json.load(fh)
    cfg = copy.deepcopy(cfg)
    cfg["budgets"].update(timezone="UTC", daily_usd=None, weekly_usd=None, monthly_usd=monthly)
    cfg["budgets"]["policy"]["exceeded"] = exceeded
    table = pricing.table()
    archive = Ledger()
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    step = timedelta(days=days) / spawns
    spent = baseline = Decimal(0)
    max_cost = Decimal(0)
    denied = downgraded = 0
    peak_over = Decimal(0)
    tiers: dict[str, int] = {}
    for i in range(spawns):
        now = start + step * i
        agent, desc, prompt, (ilo, ihi), (olo, ohi) = rng.choice(WORK)
        usage = {"input": rng.randint(ilo, ihi) // 10, "cache_read": rng.randint(ilo, ihi),
                 "output": rng.randint(olo, ohi), "cache_write_5m": rng.randint(0, 5_000), "cache_write_1h": 0,
                 "web_search": 0}
        decision = selector.decide({"subagent_type": agent, "description": desc, "prompt": prompt}, cfg)
        wanted = decision["chosen"]
        baseline += table.price_request(MODEL_IDS[wanted], usage)
        with archive.transaction():
            verdict = budget.apply_policy(decision, cfg, archive, now)
            if verdict.get("deny"):
                denied += 1
                continue
            if decision["chosen"] != wanted:
                downgraded += 1
            model = MODEL_IDS[decision["chosen"]]
            priced = records.priced_usage([{"key": f"sim{i}", "model": model, "ts": iso(now),  # type: ignore[list-item]
                                            "tokens": dict(usage)}], table)
            cost = Decimal(priced["cost_usd"])
            max_cost = max(max_cost, cost)
            archive.commit(records.build(kind="subagent", record_id=f"sim:{i}", ts=iso(now), recorded_at=iso(now),
                                         session_id="sim", project=None, usage=priced, agent_id=f"a{i}",
                                         agent_type=agent, model_requested=decision["chosen"],
                                         source="SubagentStop"))
        spent += cost
        tiers[decision["chosen"]] = tiers.get(decision["chosen"], 0) + 1
        peak_over = max(peak_over, spent - Decimal(monthly))
    return {"spawns": spawns, "days": days, "budget": Decimal(monthly), "spent": spent, "baseline": baseline,
            "saved": baseline - spent, "downgraded": downgraded, "denied": denied, "tiers": tiers,
            "max_request_cost": max_cost, "peak_over_budget": peak_over}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spawns", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--budget", default="200")
    ap.add_argument("--deny", action="store_true", help="exceeded policy = deny (else haiku_only)")
    args = ap.parse_args()
    os.environ.setdefault("MODEL_STRATEGY_DATA_DIR", tempfile.mkdtemp(prefix="ms-sim-"))
    r = simulate(args.spawns, args.days, args.budget, "deny" if args.deny else "haiku_only")
    print(f"spawns {r['spawns']} over {r['days']} days, monthly budget ${r['budget']}")
    print(f"  without budget policy: ${r['baseline']:.2f}")
    print(f"  with budget policy:    ${r['spent']:.2f}  (saved ${r['saved']:.2f}, "
          f"{100 * r['saved'] / r['baseline']:.0f}%)")
    print(f"  downgraded {r['downgraded']}, denied {r['denied']}, models used {r['tiers']}")
    print(f"  largest request ${r['max_request_cost']:.4f}; most over budget ${r['peak_over_budget']:.4f}")


if __name__ == "__main__":
    main()
