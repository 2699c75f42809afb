"""Report data for ``/model-strategy:dashboard``: what the agents spent and what routing saved.

"Saved by routing" re-prices every subagent of the window on the model the main thread used most
(Claude Code's default for a subagent without a model) and subtracts what they really cost.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..runtime import rates
from . import analytics
from .reports import Context, Report

DAY_BARS = 14


def main_model(ctx: Context) -> tuple[str, str]:
    """(catalog id, how it was found) of the main thread's model."""
    reqs: dict[str, int] = {}
    for (_uc, agent, model_id, _band), b in ctx.summary["buckets"].items():
        if agent == "main-thread":
            reqs[model_id] = reqs.get(model_id, 0) + b["requests"]
    for model_id in sorted(reqs, key=lambda m: -reqs[m]):
        mid = ctx.catalog.match(model_id)
        if mid:
            return mid, "the model your main threads used most"
    return ctx.catalog.aliases.get("opus", next(iter(ctx.catalog.models))), "assumed (no main-thread records)"


def routing_savings(ctx: Context) -> dict[str, Any]:
    s = ctx.summary
    main, how = main_model(ctx)
    keys = [k for k in s["buckets"] if k[1] != "main-thread"]
    actual = sum((s["buckets"][k]["cost"] for k in keys), Decimal(0))
    on_main = analytics.reprice(s, ctx.catalog, main, ctx.day, keys) if keys else Decimal(0)
    return {"main_model": main, "main_model_how": how, "subagent_cost": actual, "on_main_model": on_main,
            "saved": on_main - actual, "decisions": dict(sorted(s["decision_sources"].items(), key=lambda kv: -kv[1])),
            "mismatches": s["mismatches"]}


def budgets(ctx: Context) -> list[dict[str, Any]]:
    from ..runtime import budget, store

    try:
        rows = budget.status(ctx.archive, ctx.cfg)
    except (store.StoreError, KeyError, ValueError, ArithmeticError) as exc:
        ctx.warnings.append(f"budget status unavailable: {exc}")
        return []
    return [{k: r[k] for k in ("period", "spent_usd", "budget_usd", "percent", "level", "forecast_usd", "policy")}
            for r in rows]


def dashboard_report(ctx: Context) -> Report:
    s = ctx.summary
    out = ctx.header("Usage dashboard")
    if not s["records"]:
        out["basis"] = "no usage records yet"
    out["window"] = {"start": s["start"], "end": s["end"], "records": s["records"], "requests": s["requests"],
                     "agents": s["agents"], "main_records": s["main_records"],
                     "days_with_records": s["days_with_records"],
                     "cost": s["cost"], "cache_hit_rate": s["cache_hit_rate"], "tokens": s["tokens"]}
    month = ctx.today.strftime("%Y-%m")
    history = analytics.monthly_history(ctx.archive, ctx.today)
    out["month_to_date"] = next((c for m, c, _ in history if m == month), Decimal(0))
    out["history"] = [{"month": m, "cost": c, "records": n} for m, c, n in history]
    total = s["cost"] or Decimal(1)
    out["by_model"] = [{"model": m, "records": b["records"], "requests": b["requests"], "cost": b["cost"],
                        "share": b["cost"] / total}
                       for m, b in sorted(s["by_model"].items(), key=lambda kv: -kv[1]["cost"])]
    out["by_agent"] = [{"agent_type": a, "usecase": b["usecase"], "records": b["records"], "cost": b["cost"],
                        "per_agent": b["cost"] / b["records"] if b["records"] else Decimal(0)}
                       for a, b in sorted(s["by_agent"].items(), key=lambda kv: -kv[1]["cost"])]
    days = list(s["by_day"].items())[-DAY_BARS:]
    out["by_day"] = [{"day": d, "cost": c} for d, c in days]
    out["recent"] = [_recent(r) for r in reversed(s["recent"])]
    out["routing"] = routing_savings(ctx) if s["records"] else None
    out["budgets"] = budgets(ctx)
    if s["records"]:
        out["notes"].append("Saved by routing: subagents re-priced on the main thread's model at today's list "
                            "prices, minus their recorded cost.")
    return out


def _recent(rec: dict[str, Any]) -> dict[str, Any]:
    tokens = rec.get("tokens") or {}
    decision = rec.get("decision") or {}
    return {"ts": str(rec.get("ts", ""))[:16].replace("T", " "), "agent_type": rec.get("agent_type"),
            "kind": rec.get("kind"), "model": rec.get("model_actual"),
            "tokens": sum(int(tokens.get(k, 0)) for k in rates.KINDS),
            "cost": Decimal(str(rec.get("cost_usd", "0"))), "chosen": decision.get("chosen"),
            "source": decision.get("source"), "mismatch": bool(rec.get("model_mismatch"))}
