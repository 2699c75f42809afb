"""A simulated month: 5,000 priced spawns over 30 days at $200/month."""

from __future__ import annotations

import sys
from decimal import Decimal

from sessionlab import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from simulate_month import simulate


def test_downgrades_save_money_and_haiku_only_caps_the_damage() -> None:
    r = simulate(5000, 30, "200", "haiku_only")
    print(f"\nhaiku_only: baseline ${r['baseline']:.2f} spent ${r['spent']:.2f} saved ${r['saved']:.2f} "
          f"downgraded {r['downgraded']} tiers {r['tiers']}")
    assert r["baseline"] > Decimal(300)  # the workload really does not fit the budget
    assert r["saved"] > 0 and r["downgraded"] > 0 and r["denied"] == 0
    assert r["spent"] < r["baseline"]


def test_deny_never_passes_the_budget_by_more_than_one_request() -> None:
    r = simulate(5000, 30, "200", "deny")
    print(f"\ndeny: spent ${r['spent']:.2f} denied {r['denied']} peak over ${r['peak_over_budget']:.4f}")
    assert r["denied"] > 0
    assert r["spent"] <= Decimal(200) + r["max_request_cost"]
    assert r["peak_over_budget"] <= r["max_request_cost"]
