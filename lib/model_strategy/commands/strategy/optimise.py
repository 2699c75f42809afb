"""Cost optimisations, each with an estimated monthly saving range, complexity and prerequisites.

Each estimate prices a concrete change with the model's list prices (cache reads instead of fresh
input, the batch variant, a smaller tier, fewer input tokens) on the monthly token counts of the
use cases it applies to.  Ranges overlap -- they are not additive.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from model_strategy.commands.knowledge.catalog import Catalog
from model_strategy.runtime.money import rates

from .roadmap import RoadmapItem

TARGET_HIT = Decimal("0.90")


class CostRowBase(TypedDict):
    usecase: str
    name: str
    workload: str
    claude_code: bool
    complexity: str
    lower: str | None  # the same vendor's next lower tier (the recommendation's first such fallback)
    requests_per_day: float
    volume_source: str


class CostRow(CostRowBase):
    """A use case's month (``reports.cost_report``): the model it runs on, its requests, tokens and cost."""

    model: str
    requests: Decimal
    tokens: dict[str, Decimal]  # by token kind
    per_request_input: int
    cost: Decimal


class Optimisation(TypedDict):
    """A change with its estimated monthly saving range (low-high), how hard it is and what it needs."""

    name: str
    low: Decimal
    high: Decimal
    complexity: str
    applies_to: list[str]
    how: str
    prerequisites: str


def caching(catalog: Catalog, rows: list[CostRow], day: str) -> Optimisation | None:
    lo = hi = Decimal(0)
    hit_now: list[str] = []
    for r in rows:
        t = r["tokens"]
        cacheable = t["input"] + t["cache_read"] + t["cache_write_5m"] + t["cache_write_1h"]
        if not cacheable:
            continue
        hit = Decimal(t["cache_read"]) / cacheable
        if hit >= Decimal("0.85"):
            continue
        p = catalog.prices(r["model"], day)
        per_tok = (rates.unit(p["input_mtok"], r["per_request_input"])
                   - (rates.base(p, "cache_read") or rates.unit(p["input_mtok"], 0))) / Decimal(1_000_000)
        hi += (TARGET_HIT - hit) * cacheable * per_tok
        lo += (TARGET_HIT - hit) / 2 * cacheable * per_tok
        hit_now.append(f"{r['name']} {hit:.0%}")
    if hi <= 0:
        return None
    return {"name": "Prompt caching", "low": lo, "high": hi, "complexity": "low",
            "applies_to": hit_now,
            "how": f"raise the cache hit rate halfway to / all the way to {TARGET_HIT:.0%}",
            "prerequisites": "stable prompt prefix (system prompt, CLAUDE.md, tool list); keep sessions "
                             "alive instead of restarting; long pauses need the 1 h cache"}


def batching(catalog: Catalog, rows: list[CostRow], day: str) -> Optimisation | None:
    lo = hi = Decimal(0)
    names = []
    for r in rows:
        if r["workload"] not in ("batch", "async"):
            continue
        bp = catalog.batch_prices(r["model"], day)
        if bp is None:
            continue
        saving = r["cost"] - rates.cost(bp, r["tokens"], r["per_request_input"])
        if saving <= 0:
            continue
        hi += saving
        lo += saving / 2
        names.append(r["name"])
    if hi <= 0:
        return None
    return {"name": "Batch API", "low": lo, "high": hi, "complexity": "medium", "applies_to": names,
            "how": "send half / all of these jobs through the batch API (genai-prices batch rates)",
            "prerequisites": "results within 24 h are acceptable; headless jobs (not interactive "
                             "Claude Code sessions); idempotent job handling"}


def smaller_models(catalog: Catalog, rows: list[CostRow], day: str,
                   evidence: list[RoadmapItem]) -> Optimisation | None:
    """Records: the overkill/move items of the roadmap.  Assumptions: 20-40% of moderate/complex
    requests moved one tier down by complexity routing."""
    if evidence:
        hi = sum((i["saving_usd"] for i in evidence if i["saving_usd"] > 0), Decimal(0))
        if hi <= 0:
            return None
        return {"name": "Route to smaller models", "low": hi / 2, "high": hi, "complexity": "low",
                "applies_to": sorted({i["what"] for i in evidence if i["saving_usd"] > 0}),
                "how": "move the agent types the roadmap lists (half / all of their runs)",
                "prerequisites": "model-strategy hooks active; agents or agent_patterns in .claude/model-strategy.json"}
    lo = hi = Decimal(0)
    names = []
    for r in rows:
        lower = r.get("lower")
        if not lower or r["complexity"] == "simple" or r["usecase"] == "interactive-coding":
            continue
        cheaper = rates.cost(catalog.prices(lower, day), r["tokens"], r["per_request_input"])
        diff = r["cost"] - cheaper
        if diff <= 0:
            continue
        lo += diff * Decimal("0.2")
        hi += diff * Decimal("0.4")
        names.append(f"{r['name']} → {lower}")
    if hi <= 0:
        return None
    return {"name": "Route to smaller models", "low": lo, "high": hi, "complexity": "low",
            "applies_to": names, "how": "20-40% of requests are simple enough for one tier down",
            "prerequisites": "model-strategy hooks active (complexity routing); spot-check the results"}


def trimming(catalog: Catalog, rows: list[CostRow], day: str) -> Optimisation | None:
    lo = hi = Decimal(0)
    names = []
    for r in rows:
        if r["per_request_input"] < 50_000:
            continue
        t = r["tokens"]
        fresh = {"input": t["input"], "cache_write_5m": t["cache_write_5m"], "cache_write_1h": t["cache_write_1h"]}
        fresh_cost = rates.cost(catalog.prices(r["model"], day), fresh, r["per_request_input"])
        lo += fresh_cost * Decimal("0.10")
        hi += fresh_cost * Decimal("0.25")
        names.append(f"{r['name']} ({r['per_request_input'] / 1000:.0f}k/request)")
    if hi <= 0:
        return None
    return {"name": "Context trimming", "low": lo, "high": hi, "complexity": "medium", "applies_to": names,
            "how": "10-25% fewer fresh input tokens per request",
            "prerequisites": "/compact or /clear between tasks; narrower file reads; a shorter CLAUDE.md"}


def fine_tuning(rows: list[CostRow]) -> Optimisation | None:
    fit = [r for r in rows if not r["claude_code"] and r["complexity"] == "simple" and r["requests_per_day"] >= 1000]
    if not fit:
        return None
    base = sum((r["cost"] for r in fit), Decimal(0))
    return {"name": "Fine-tuning a small model", "low": base * Decimal("0.2"), "high": base * Decimal("0.5"),
            "complexity": "high", "applies_to": [r["name"] for r in fit],
            "how": "a fine-tuned small model replaces few-shot prompts (shorter inputs, smaller tier)",
            "prerequisites": ">= 1,000 labelled examples and an eval set; a vendor that fine-tunes small "
                             "models; API workloads only (Claude Code cannot use fine-tuned models)"}


def all_for(catalog: Catalog, rows: list[CostRow], day: str,
            evidence: list[RoadmapItem]) -> tuple[list[Optimisation], list[str]]:
    """The optimisations that apply, largest first, and one line for each that does not."""
    found = {"Prompt caching": caching(catalog, rows, day), "Batch API": batching(catalog, rows, day),
             "Route to smaller models": smaller_models(catalog, rows, day, evidence),
             "Context trimming": trimming(catalog, rows, day), "Fine-tuning": fine_tuning(rows)}
    why = {"Prompt caching": "cache hit rate is already 85% or more",
           "Batch API": "no batch or async workload with a batch price",
           "Route to smaller models": "nothing runs above the tier it needs",
           "Context trimming": "requests average under 50k input tokens",
           "Fine-tuning": "only fits high-volume, simple API workloads; none here"}
    applied = sorted((o for o in found.values() if o), key=lambda o: -o["high"])
    skipped = [f"{name}: {why[name]}" for name, o in found.items() if o is None]
    return applied, skipped
