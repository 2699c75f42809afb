"""Report data for ``/model-strategy:efficiency [AGENT_TYPE] [--days N]``: per subagent type, how many
runs, what they used and cost, how many completed, how well they used the cache, the model they
mostly ran on, a 0-100 score and concrete optimisation opportunities.

A run is *completed* when its record's ``outcome`` is ``completed`` and its routing decision was
not denied; ``error``, ``interrupted``, ``truncated`` (stopped at max_tokens) and denied runs are
not completed; runs whose outcome is unknown count in neither (the completion rate is taken over
runs with a known outcome).  Cost per completed run = all of the type's cost / its completed runs.
The score is ``score``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from model_strategy.commands.base.errors import BadInput
from model_strategy.commands.base.words import last_days, plural

from . import daily
from .daily import COST, RECORDS, REQUESTS, UNPRICED, Window
from .insights import TIER_OF_CLASS, AgentStats, Insights, TierMove, cache_hit_rate, pct, tier_name, tier_of, usd

MIN_RUNS = 3  # an opportunity needs at least this many runs behind it
LOW_COMPLETION = Decimal("0.8")
LOW_CACHE = Decimal("0.5")
CACHE_MIN_COST = Decimal("0.50")
#: completion rate, right-sizing, cache hit rate -- the efficiency score's weights (README)
SCORE_WEIGHTS = {"completion": Decimal("0.4"), "right_sizing": Decimal("0.3"), "cache": Decimal("0.3")}

#: an optimisation opportunity of one agent type: its kind (downgrade, completion, cache, unpriced), the line
#: that says it, and the numbers behind it
Opportunity = TypedDict("Opportunity", {
    "kind": str, "text": str, "not_completed": NotRequired[int], "runs": NotRequired[int], "from": NotRequired[str],
    "to": NotRequired[str], "saving_usd": NotRequired[Decimal], "cache_hit_rate": NotRequired[Decimal],
    "requests": NotRequired[int]})


class EfficiencyRow(AgentStats):
    opportunities: list[Opportunity]
    model_label: str | None  # the model it mostly ran on, by its Claude Code alias where it has one


def efficiency_report(ins: Insights, agent_type: str | None = None) -> dict[str, Any]:
    win = ins.window()
    out = ins.header("Agent efficiency", win)
    stats = agent_stats(ins, win)
    if agent_type:
        found = [a for a in stats if a.lower() == agent_type.lower()]
        if not found:
            known = ", ".join(sorted(stats)[:12]) or "none"
            raise BadInput(f"no runs of agent type {agent_type!r} in {last_days(ins.days)} "
                           f"(agent types with runs: {known})")
        stats = {found[0]: stats[found[0]]}
    out["agent_type"] = agent_type
    rows: list[EfficiencyRow] = []
    for a in stats.values():
        ops = opportunities(ins, a)
        mid = ins.match(a["model"]) if a["model"] else None
        rows.append({**a, "opportunities": ops, "model_label": (ins.catalog.alias_of(mid) if mid else None)
                     or a["model"]})
    out["agents"] = rows
    out["none_found"] = none_found(rows)
    out["score_formula"] = ("score = 100 x (0.4 x completion rate + 0.3 x right-sizing + 0.3 x cache hit rate); "
                            "a part without data is left out and the other weights scaled up")
    if rows:
        out["notes"] += [
            "Completed: outcome 'completed' and not denied; error, interrupted, truncated and denied runs are not; "
            "runs with an unknown outcome are left out of the completion rate.",
            "Cost per completed run: all of the type's cost / its completed runs.",
            "Right-sizing: share of runs (with a recorded complexity) on no higher a tier than their complexity "
            f"needs (below {ins.simple_below}: haiku, from {ins.complex_from}: opus, between: sonnet).",
            out["score_formula"] + "."]
    return out


def none_found(rows: Sequence[AgentStats]) -> str:
    """What "no opportunity" means, in the thresholds the opportunities use -- a claim the table can be
    checked against (a type that reads little from the cache but costs too little to matter is named)."""
    text = (f"None found: no type with {MIN_RUNS} runs or more ran above the tier its work needs or completed "
            f"under {pct(LOW_COMPLETION)} of its runs, and none costing ${CACHE_MIN_COST:.2f} or more read under "
            f"{pct(LOW_CACHE)} of its input from the prompt cache")
    small = [a["agent_type"] for a in rows if a["cache_hit_rate"] is not None and a["cache_hit_rate"] < LOW_CACHE
             and a["cost"] < CACHE_MIN_COST]
    if small:
        text += f" ({', '.join(small)} read less, at under ${CACHE_MIN_COST:.2f} in all)"
    return text + "."


def opportunities(ins: Insights, a: AgentStats) -> list[Opportunity]:
    """Concrete, numbered optimisation opportunities for one agent type."""
    name = a["agent_type"]
    out: list[Opportunity] = []
    for g in a["overkill"]:
        saving = g["cost"] - g["on_target"]
        if g["runs"] < MIN_RUNS or saving <= 0:
            continue
        text = (f"{name} ran on {g['from']} in {g['runs']} runs with {g['complexity']} complexity: route to "
                f"{g['to']} ({usd(g['on_target'])} instead of {usd(g['cost'])}, {usd(saving)} less)")
        if g["explicit_runs"]:
            text += f"; {g['explicit_runs']} of them asked for {g['from']} explicitly"
        out.append({"kind": "downgrade", "text": text, "runs": g["runs"], "from": g["from"], "to": g["to"],
                    "saving_usd": saving})
    known = a["completed"] + a["not_completed"]
    rate = a["completion_rate"]
    if rate is not None and known >= MIN_RUNS and rate < LOW_COMPLETION:
        why = ", ".join(f"{k} {a['outcomes'][k]}" for k in ("error", "interrupted", "truncated", "denied")
                        if a["outcomes"].get(k))
        text = (f"{name}: {a['not_completed']} of {known} runs did not complete ({why}): a completed run costs "
                f"{usd(a['cost_per_completed'])} against {usd(a['avg_cost'])} per run")
        under = [g for g in a["underkill"] if g["runs"] >= MIN_RUNS]
        if under:
            g = under[0]
            text += f"; {g['runs']} runs with {g['complexity']} complexity ran on {g['from']}: try {g['to']}"
        out.append({"kind": "completion", "text": text, "not_completed": a["not_completed"], "runs": known})
    hit = a["cache_hit_rate"]
    if hit is not None and hit < LOW_CACHE and a["cost"] >= CACHE_MIN_COST:
        out.append({"kind": "cache", "text": f"{name}: only {pct(hit)} of input came from the prompt cache: keep the "
                    "agent's system prompt and tools stable so its prefix is cached", "cache_hit_rate": hit})
    if a["unpriced_requests"]:
        out.append({"kind": "unpriced", "text": f"{name}: {plural(a['unpriced_requests'], 'request')} ran on a model "
                    "without a known price: their cost is not in these figures", "requests": a["unpriced_requests"]})
    return out


# ---------------------------------------------------------------------- per agent type


def agent_stats(ins: Insights, win: Window) -> dict[str, AgentStats]:
    """Per subagent type: runs, outcomes, tokens, cost, duration, cache hit rate, the model it mostly
    ran on, right-sizing and the score (formula in the README and ``score``).  Each call returns its
    own copy (reports add to the rows)."""
    import copy

    key = (win.start, win.end)
    if key not in ins.memo:
        ins.memo[key] = _agent_stats(ins, win)
    return copy.deepcopy(ins.memo[key])


@dataclass
class _Runs:
    """An agent type's sums while they are collected (``finish`` makes them an ``AgentStats``)."""

    agent_type: str
    runs: int = 0
    duration_ms: int = 0
    timed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(daily.OUTCOMES, 0))
    row: list[Any] = field(default_factory=daily.new_row)
    models: dict[str, int] = field(default_factory=dict)
    cx_runs: int = 0
    overkill: dict[str, TierMove] = field(default_factory=dict)
    underkill: dict[str, TierMove] = field(default_factory=dict)


def _agent_stats(ins: Insights, win: Window) -> dict[str, AgentStats]:
    out: dict[str, _Runs] = {}
    for data in win.days.values():
        for agent, s in data["agents"].items():
            if s["kind"] != "subagent":
                continue
            a = out.get(agent)
            if a is None:
                a = out[agent] = _Runs(agent)
            a.runs += s["records"]
            a.duration_ms += s["duration_ms"]
            a.timed += s["timed"]
            for k, n in s["outcomes"].items():
                a.outcomes[k] = a.outcomes.get(k, 0) + n
    for day, key, row in win.rows():
        found = out.get(key["agent_type"])
        if found is None or key["kind"] != "subagent":
            continue
        a = found
        daily.add_row(a.row, row)
        a.models[key["model"]] = a.models.get(key["model"], 0) + row[REQUESTS]
        need = TIER_OF_CLASS.get(key["complexity"])
        have = tier_of(key["model"])
        if need is None or have is None:
            continue
        a.cx_runs += row[RECORDS]
        if have != need:
            side = a.overkill if have > need else a.underkill
            grp = side.setdefault(f"{have}>{need}", {"from": tier_name(have), "to": tier_name(need), "runs": 0,
                                                      "cost": Decimal(0), "on_target": Decimal(0),
                                                      "unpriced_runs": 0, "explicit_runs": 0,
                                                      "complexity": key["complexity"]})
            grp["runs"] += row[RECORDS]
            if key["requested"]:
                grp["explicit_runs"] += row[RECORDS]
            target_cost = ins.reprice(row, int(key["band"]), key["model"], ins.tier_model(need), day)
            if target_cost is None:
                grp["unpriced_runs"] += row[RECORDS]
            else:
                grp["cost"] += Decimal(row[COST])
                grp["on_target"] += target_cost
    stats = {agent: finish(a) for agent, a in out.items()}
    return dict(sorted(stats.items(), key=lambda kv: (-kv[1]["cost"], kv[0])))


def finish(a: _Runs) -> AgentStats:
    runs, oc, row = a.runs, a.outcomes, a.row
    tokens = daily.tokens_of(row)
    cost = Decimal(row[COST])
    completed = oc.get("completed", 0)
    not_completed = sum(oc.get(k, 0) for k in daily.NOT_COMPLETED)
    known = completed + not_completed
    completion_rate = Decimal(completed) / known if known else None
    hit = cache_hit_rate(tokens)
    over = sum(g["runs"] for g in a.overkill.values())
    right_sizing = Decimal(1) - Decimal(over) / a.cx_runs if a.cx_runs else None
    models = a.models
    return {
        "agent_type": a.agent_type, "runs": runs, "duration_ms": a.duration_ms, "timed": a.timed, "outcomes": oc,
        "models": models, "cx_runs": a.cx_runs,
        "overkill": sorted(a.overkill.values(), key=lambda g: -(g["cost"] - g["on_target"])),
        "underkill": sorted(a.underkill.values(), key=lambda g: -g["runs"]),
        "tokens": tokens, "requests": row[REQUESTS], "cost": cost, "unpriced_requests": row[UNPRICED],
        "completed": completed, "not_completed": not_completed, "completion_rate": completion_rate,
        "avg_tokens": Decimal(sum(tokens.values())) / runs if runs else Decimal(0),
        "avg_cost": cost / runs if runs else Decimal(0),
        "avg_duration_s": Decimal(a.duration_ms) / a.timed / 1000 if a.timed else None,
        "cost_per_completed": cost / completed if completed else None,
        "cache_hit_rate": hit,
        "model": max(models, key=lambda m: (models[m], m)) if models else None,
        "right_sizing": right_sizing,
        "score": score(completion_rate, right_sizing, hit),
    }


def score(completion: Decimal | None, right_sizing: Decimal | None, cache: Decimal | None) -> int | None:
    """0-100: 40 % completion rate, 30 % right-sizing, 30 % cache hit rate; a part without data is left
    out and the others' weights scaled up to 100 %."""
    parts = {"completion": completion, "right_sizing": right_sizing, "cache": cache}
    have = {k: v for k, v in parts.items() if v is not None}
    if not have:
        return None
    weight = sum((SCORE_WEIGHTS[k] for k in have), Decimal(0))
    value = sum((SCORE_WEIGHTS[k] * v for k, v in have.items()), Decimal(0)) / weight
    return int((value * 100).to_integral_value())
