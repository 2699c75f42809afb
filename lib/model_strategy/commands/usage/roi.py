"""Report data for ``/model-strategy:roi [--hourly-rate R] [--days N]``: what the agents cost against
the labour they saved, on assumptions that are configurable and always printed with the result.

* Time saved = for each subagent type, its completed runs x the minutes one completed run saves
  (``roi.minutes_saved``: the type's own entry, else the longest matching ``*`` pattern, else
  ``"*"``, else 0).  Runs that did not complete (see ``efficiency``) save nothing.
* Labour saved = hours saved x the hourly rate (``--hourly-rate``, else ``roi.hourly_rate``).
* Cost = everything recorded in the window, main thread included (priced requests only).
* ROI % = (labour saved - cost) / cost x 100; break-even: the hours (and completed runs at the
  window's average minutes per run) whose labour equals the cost, and the hourly rate at which the
  time saved pays for the cost exactly.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any, TypedDict

from model_strategy.runtime.settings.values import Config

from . import efficiency, insights
from .insights import Insights, usd

DEFAULT_RATE = Decimal(75)
DEFAULT_MINUTES = {"*": 10}


class RoiRow(TypedDict):
    """A subagent type's time saved: its completed runs x the minutes one saves, in hours and labour."""

    agent_type: str
    runs: int
    completed: int
    minutes_per_run: Decimal
    minutes_key: str  # the roi.minutes_saved key that said so
    hours_saved: Decimal
    labour_saved: Decimal
    cost: Decimal


def settings(cfg: Config, hourly_rate: Decimal | None) -> tuple[Decimal, str, dict[str, Decimal]]:
    roi = cfg.get("roi")
    if hourly_rate is not None:
        rate, src = hourly_rate, "--hourly-rate"
    else:
        raw = roi.get("hourly_rate") if roi else None
        rate, src = (Decimal(str(raw)), "roi.hourly_rate") if raw is not None else (DEFAULT_RATE, "default")
    minutes = (roi.get("minutes_saved") if roi else None) or DEFAULT_MINUTES
    return rate, src, {str(k): Decimal(str(v)) for k, v in minutes.items()}


def minutes_for(agent: str, minutes: dict[str, Decimal]) -> tuple[Decimal, str]:
    """(minutes one completed run saves, the config key that said so)."""
    if agent in minutes:
        return minutes[agent], agent
    patterns = sorted((k for k in minutes if "*" in k and k != "*" and fnmatchcase(agent.lower(), k.lower())),
                      key=lambda k: (-len(k), k))
    if patterns:
        return minutes[patterns[0]], patterns[0]
    if "*" in minutes:
        return minutes["*"], "*"
    return Decimal(0), "(none)"


def roi_report(ins: Insights, hourly_rate: Decimal | None = None) -> dict[str, Any]:
    win = ins.window()
    out = ins.header("Return on investment", win)
    rate, rate_src, minutes = settings(ins.cfg, hourly_rate)
    t = insights.totals(win)
    stats = efficiency.agent_stats(ins, win)
    rows: list[RoiRow] = []
    total_min = Decimal(0)
    completed = 0
    for a in stats.values():
        per, key = minutes_for(a["agent_type"], minutes)
        saved = per * a["completed"]
        total_min += saved
        completed += a["completed"]
        hours = saved / 60
        rows.append({"agent_type": a["agent_type"], "runs": a["runs"], "completed": a["completed"],
                     "minutes_per_run": per, "minutes_key": key, "hours_saved": hours, "labour_saved": hours * rate,
                     "cost": a["cost"]})
    rows.sort(key=lambda r: (-r["labour_saved"], r["agent_type"]))
    cost = t["cost"]
    sub_cost = sum((r["cost"] for r in rows), Decimal(0))
    hours = total_min / 60
    labour = hours * rate
    avg_min = total_min / completed if completed else None
    be_hours = cost / rate if rate else None
    out["agents"] = rows
    out["totals"] = {
        "cost": cost, "subagent_cost": sub_cost, "main_thread_cost": cost - sub_cost,
        "unpriced_requests": t["unpriced_requests"], "completed_runs": completed, "hours_saved": hours,
        "labour_saved": labour, "net": labour - cost, "roi_pct": (labour - cost) / cost * 100 if cost else None,
        "break_even_hours": be_hours,
        "break_even_runs": math.ceil(be_hours * 60 / avg_min) if be_hours is not None and avg_min else None,
        "break_even_hourly_rate": cost / hours if hours else None,
        "avg_minutes_per_completed_run": avg_min,
    }
    shown = ", ".join(f"{k}: {v.normalize():f}" for k, v in sorted(minutes.items(), key=lambda kv: kv[0] == "*"))
    out["assumptions"] = {
        "hourly_rate": rate, "hourly_rate_source": rate_src, "minutes_saved": minutes,
        "lines": [
            f"hourly rate {usd(rate)} ({rate_src})",
            f"minutes saved per completed subagent run (roi.minutes_saved): {shown}",
            "only completed runs save time (outcome completed, not denied); errors, interruptions, truncated and "
            "denied runs save nothing",
            "cost = all recorded spend of the window, main thread included; requests without a price are not in it",
        ],
    }
    out["notes"].append("Change the assumptions in .claude/model-strategy.json: "
                        '"roi": {"hourly_rate": 75, "minutes_saved": {"Explore": 5, "*": 10}}.')
    return out
