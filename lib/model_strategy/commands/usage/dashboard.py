"""Report data for ``/model-strategy:dashboard [--days N]``: where the money went in the last N days
(UTC), the trend against the N days before, what routing saved, model mismatches, the cache hit
rate and usage that has no price.  Built from the daily roll-ups (``daily``), never from the ledger
lines themselves, so it stays fast on a large ledger.

* Trend: this period's spend against the previous period of the same length; a day is flagged when
  it cost at least ``SPIKE_FACTOR`` times the period's median day (days without records count as $0).
* Routing savings: see ``insights.routing_savings``.
"""

from __future__ import annotations

import heapq
from decimal import Decimal
from typing import Any

from model_strategy.commands.base.words import last_days

from . import insights
from .daily import COST, RECORDS, REQUESTS, UNPRICED
from .insights import Insights

SPIKE_FACTOR = Decimal(2)
TOP = 10


def dashboard_report(ins: Insights) -> dict[str, Any]:
    prev_win = ins.previous()  # loads both periods at once
    win = ins.window()
    out = ins.header("Usage dashboard", win)
    t = insights.totals(win)
    out["totals"] = t
    days = insights.by_day(win)
    med = insights.median([d["cost"] for d in days])
    for d in days:
        d["flagged"] = bool(med > 0 and d["cost"] >= med * SPIKE_FACTOR)
    out["by_day"] = days
    prev = insights.totals(prev_win)
    change = t["cost"] - prev["cost"]
    out["trend"] = {"current": t["cost"], "previous": prev["cost"], "previous_records": prev["records"],
                    "change": change, "change_pct": change / prev["cost"] if prev["cost"] else None,
                    "median_day": med, "spike_factor": SPIKE_FACTOR,
                    "flagged": [d["day"] for d in days if d["flagged"]]}
    total = t["cost"]
    out["by_model"] = _rows(insights.group(win, "model"), "model", total)
    out["by_agent_type"] = _rows(insights.group(win, "agent_type"), "agent_type", total,
                                 insights.record_counts(win, "agents"))
    out["by_project"] = _rows(insights.group(win, "project"), "project", total, insights.record_counts(win, "projects"))
    sess = insights.sessions(win)
    out["sessions"] = len(sess)
    top = sorted(heapq.nlargest(TOP, sess.items(), key=lambda kv: kv[1][1]), key=lambda kv: (-kv[1][1], kv[0]))
    out["by_session"] = [{"session_id": sid, "project": s[2], "records": s[0], "cost": s[1], "first": s[3],
                          "last": s[4], "share": s[1] / total if total else None} for sid, s in top]
    out["top_agents"] = insights.top_runs(win, TOP)
    out["routing"] = insights.routing_savings(ins, win) if win.records else None
    out["mismatches"] = insights.mismatches(win)
    out["unpriced"] = insights.unpriced(win)
    if win.records:
        out["notes"] += [
            f"Trend: {last_days(ins.days)} against the {'day' if ins.days == 1 else f'{ins.days:,}'} before; "
            f"a day is flagged (!) when it "
            f"cost at least {SPIKE_FACTOR}x the median day of the period.",
            "Routing savings: subagents' tokens re-priced on the model their caller requested and on the "
            "main thread's model, at each day's list prices, minus their recorded cost.",
            "Cache hit rate: cache reads / (uncached input + cache reads + cache writes)."]
    if out["unpriced"]["requests"]:
        out["notes"].append("Unpriced requests ran on models without a known price: they are counted, not "
                            "costed ($ figures leave them out).")
    return out


def _rows(groups: dict[str, list[Any]], name: str, total: Decimal,
          counts: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """``records``: records per group; for models, the records that used the model."""
    rows = []
    for value, row in groups.items():
        cost = Decimal(row[COST])
        records = counts.get(value, row[RECORDS]) if counts else row[RECORDS]
        rows.append({name: value, "records": records, "requests": row[REQUESTS], "cost": cost,
                     "unpriced_requests": row[UNPRICED], "share": cost / total if total else None})
    rows.sort(key=lambda r: (-r["cost"], -r["requests"], r[name]))
    return rows
