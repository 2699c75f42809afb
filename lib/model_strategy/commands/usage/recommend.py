"""Report data for ``/model-strategy:recommendations [--days N]``: data-backed changes, each with its
numbers and the exact configuration change.

* Routing: for each subagent type, the lowest tier that covers ``COVER`` of its runs' complexity
  (below ``simple_below``: haiku, from ``complex_from``: opus, between: sonnet).  Its runs on a higher
  tier are re-priced on that tier (same tokens, each day's list prices); when that saves money, the
  line names the ``agents`` entry to set (and, when callers asked for the model explicitly, the
  agent definition or ``override_explicit_model``).
* Quality: a type that completes fewer than ``LOW_COMPLETION`` of its runs while most of them ran
  below the tier their complexity needs: the next tier, with what it would have cost more.
* Budget: the window's pace scaled to a 30-day month against ``budgets.monthly_usd``.
* Prices: models that ran without a known price, with the override file entry that prices them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from model_strategy.commands.base.words import plural

from . import efficiency, insights
from .daily import COST, RECORDS, UNPRICED
from .efficiency import LOW_COMPLETION, MIN_RUNS
from .insights import TIER_OF_CLASS, AgentStats, Insights, Unpriced, pct, tier_name, tier_of, usd

COVER = Decimal("0.8")
PROJECT_FILE = ".claude/model-strategy.json"
MIN_SAVING = Decimal("0.01")


class ConfigChange(TypedDict):
    """The configuration entry a recommendation sets (``set``: the value, None: the user fills it in)."""

    file: str
    key: str
    set: dict[str, str] | str | None


#: a recommendation: its kind (routing, quality, budget, prices), the line that says it, the change to make,
#: the numbers behind it and what it saves (in the window and per month)
Advice = TypedDict("Advice", {
    "kind": str, "agent_type": NotRequired[str], "model": NotRequired[str], "text": str, "change": str,
    "monthly_usd": NotRequired[Decimal], "budget_usd": NotRequired[Decimal], "config": ConfigChange,
    "runs": NotRequired[int], "explicit_runs": NotRequired[int], "from": NotRequired[str], "to": NotRequired[str],
    "cost": NotRequired[Decimal], "on_target": NotRequired[Decimal], "completion_rate": NotRequired[Decimal],
    "extra_cost_usd": NotRequired[Decimal], "requests": NotRequired[int], "saving_usd": Decimal,
    "monthly_saving_usd": Decimal})


def recommendations_report(ins: Insights) -> dict[str, Any]:
    win = ins.window()
    out = ins.header("Recommendations", win)
    stats = efficiency.agent_stats(ins, win)
    items: list[Advice] = []
    scale = Decimal(30) / ins.days
    agents_cfg = ins.cfg.get("agents") or {}
    per_agent: dict[str, list[tuple[str, dict[str, str], list[Any]]]] = {}
    for day, key, row in win.rows():
        if key["kind"] == "subagent" and key["agent_type"] in stats:
            per_agent.setdefault(key["agent_type"], []).append((day, key, row))
    for agent, rows in per_agent.items():
        item = _routing(ins, agent, rows, agents_cfg.get(agent))
        if item:
            items.append(item)
    items.sort(key=lambda i: (-i["saving_usd"], i["agent_type"]))
    for a in stats.values():
        item = _quality(ins, a, per_agent.get(a["agent_type"], []), agents_cfg.get(a["agent_type"]))
        if item:
            items.append(item)
    total = insights.totals(win)
    saving = sum((i["monthly_saving_usd"] for i in items if i["kind"] == "routing"), Decimal(0))
    budget_item = _budget(ins, total["cost"] * scale, saving)
    if budget_item:
        items.append(budget_item)
    items += _prices(insights.unpriced(win))
    out["items"] = items
    out["total_saving_usd"] = sum((i["saving_usd"] for i in items if i["kind"] == "routing"), Decimal(0))
    out["total_monthly_saving_usd"] = saving
    out["notes"] += ["Savings: the window's tokens re-priced on the recommended tier at each day's list prices; "
                     + ("the window is a 30-day month." if ins.days == 30
                        else f"per month: the window's saving scaled from {plural(ins.days, 'day')} to 30."),
                     f"Tier a run needs: complexity below {ins.simple_below} haiku, from {ins.complex_from} opus, "
                     f"sonnet between; a type is routed to the lowest tier covering {pct(COVER)} of its runs."]
    return out


def _target(rows: list[tuple[str, dict[str, str], list[Any]]]) -> tuple[int | None, dict[int, int]]:
    need: dict[int, int] = {}
    for _, key, row in rows:
        t = TIER_OF_CLASS.get(key["complexity"])
        if t is not None:
            need[t] = need.get(t, 0) + row[RECORDS]
    total = sum(need.values())
    if total < MIN_RUNS:
        return None, need
    acc = 0
    for t in sorted(need):
        acc += need[t]
        if Decimal(acc) / total >= COVER:
            return t, need
    return max(need), need


def _routing(ins: Insights, agent: str, rows: list[tuple[str, dict[str, str], list[Any]]],
             configured: str | None) -> Advice | None:
    target, need = _target(rows)
    if target is None:
        return None
    model = ins.tier_model(target)
    runs = explicit = 0
    cost = on_target = Decimal(0)
    tiers: dict[int, int] = {}
    for day, key, row in rows:
        have = tier_of(key["model"])
        if have is None or have <= target or row[UNPRICED]:
            continue
        priced = ins.reprice(row, int(key["band"]), key["model"], model, day)
        if priced is None:
            continue
        runs += row[RECORDS]
        tiers[have] = tiers.get(have, 0) + row[RECORDS]
        explicit += row[RECORDS] if key["requested"] else 0
        cost += Decimal(row[COST])
        on_target += priced
    saving = cost - on_target
    if runs < MIN_RUNS or saving < MIN_SAVING:
        return None
    name = tier_name(target)
    ran_on = " and ".join(tier_name(t) for t in sorted(tiers, reverse=True))
    covered = sum(n for t, n in need.items() if t <= target)
    text = (f"{agent} ran on {ran_on} {runs} times; on {name} it would have cost {usd(saving)} less "
            f"({usd(on_target)} instead of {usd(cost)}, -{pct(saving / cost)}); {covered} of its "
            f"{sum(need.values())} runs had complexity {name} handles")
    entry = f'"{agent}": "{name}"'
    if configured == name:
        change = (f"\"agents\" already has {entry}: the {explicit} runs on a higher tier asked for it explicitly; "
                  f"set model: {name} in the agent's definition (.claude/agents/{agent}.md) or "
                  f"\"override_explicit_model\": true in {PROJECT_FILE}")
    elif configured:
        change = f"change \"{agent}\": \"{configured}\" to {entry} in \"agents\" in {PROJECT_FILE}"
    else:
        change = f"add {entry} to \"agents\" in {PROJECT_FILE}"
    if explicit and configured != name:
        change += (f"; {explicit} of the runs asked for the model explicitly: also set model: {name} in "
                   f".claude/agents/{agent}.md (or \"override_explicit_model\": true)")
    return {"kind": "routing", "agent_type": agent, "text": text, "change": change,
            "config": {"file": PROJECT_FILE, "key": "agents", "set": {agent: name}}, "runs": runs,
            "explicit_runs": explicit, "from": ran_on, "to": name, "cost": cost, "on_target": on_target,
            "saving_usd": saving, "monthly_saving_usd": saving * (Decimal(30) / ins.days)}


def _quality(ins: Insights, a: AgentStats, rows: list[tuple[str, dict[str, str], list[Any]]],
             configured: str | None) -> Advice | None:
    rate = a["completion_rate"]
    known = a["completed"] + a["not_completed"]
    under = sum(g["runs"] for g in a["underkill"])
    if rate is None or known < MIN_RUNS or rate >= LOW_COMPLETION or not a["cx_runs"] or under * 2 < a["cx_runs"]:
        return None
    have = tier_of(a["model"])
    if have is None or have >= 2:
        return None
    up = have + 1
    model = ins.tier_model(up)
    cost = on_up = Decimal(0)
    for day, key, row in rows:
        if tier_of(key["model"]) != have:
            continue
        priced = ins.reprice(row, int(key["band"]), key["model"], model, day)
        if priced is not None:
            cost += Decimal(row[COST])
            on_up += priced
    name = tier_name(up)
    agent = a["agent_type"]
    entry = f'"{agent}": "{name}"'
    text = (f"{agent} completed {a['completed']} of {known} runs ({pct(rate)}) and {under} of its "
            f"{a['cx_runs']} runs ran below the tier their complexity needs; on {name} its {tier_name(have)} runs "
            f"would have cost {usd(on_up - cost)} more ({usd(on_up)} instead of {usd(cost)})")
    change = (f"change \"{agent}\": \"{configured}\" to {entry} in" if configured else f"add {entry} to") + \
        f" \"agents\" in {PROJECT_FILE}"
    return {"kind": "quality", "agent_type": agent, "text": text, "change": change,
            "config": {"file": PROJECT_FILE, "key": "agents", "set": {agent: name}}, "runs": known,
            "completion_rate": rate, "extra_cost_usd": on_up - cost, "saving_usd": cost - on_up,
            "monthly_saving_usd": (cost - on_up) * Decimal(30) / ins.days}


def _budget(ins: Insights, monthly: Decimal, saving: Decimal) -> Advice | None:
    raw = ins.cfg.get("budgets", {}).get("monthly_usd")
    if raw in (None, ""):
        return None
    budget = Decimal(str(raw))
    if budget <= 0 or monthly <= budget:
        return None
    pace = "the last day's pace" if ins.days == 1 else f"the last {ins.days:,} days' pace"
    text = (f"At {pace} you spend {usd(monthly)} a month, {pct(monthly / budget)} of "
            f"budgets.monthly_usd ({usd(budget)})")
    if saving > 0:
        text += f"; the routing changes above save about {usd(saving)} a month"
    need = (monthly - saving if monthly - saving > budget else monthly).to_integral_value(rounding="ROUND_CEILING")
    change = f"or set \"budgets\": {{\"monthly_usd\": \"{need}\"}} in {PROJECT_FILE}"
    return {"kind": "budget", "text": text, "change": change, "monthly_usd": monthly, "budget_usd": budget,
            "config": {"file": PROJECT_FILE, "key": "budgets.monthly_usd", "set": str(need)},
            "saving_usd": Decimal(0), "monthly_saving_usd": Decimal(0)}


def _prices(unpriced: Unpriced) -> list[Advice]:
    out: list[Advice] = []
    override = "<data dir>/prices.override.json"
    for m in unpriced["models"]:
        have = "has" if m["requests"] == 1 else "have"
        text = (f"{plural(m['requests'], 'request')} on {m['model']} {have} no price (genai-prices does not know "
                "the model): they are counted but not in any $ figure")
        change = (f"add {{\"models\": {{\"{m['model']}\": {{\"input_mtok\": \"…\", \"output_mtok\": \"…\"}}}}}} "
                  f"to {override}")
        out.append({"kind": "prices", "model": m["model"], "text": text, "change": change,
                    "config": {"file": override, "key": f"models.{m['model']}", "set": None},
                    "requests": m["requests"], "saving_usd": Decimal(0), "monthly_saving_usd": Decimal(0)})
    return out
