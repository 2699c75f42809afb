"""Synthetic, schema-valid agent records for tests and the benchmark.

A deterministic generator (seeded): sessions with main-thread records and subagents of realistic
types, models chosen the way the selector would (plus some explicit opus spawns on simple work),
token counts with a Claude Code-like cache pattern, and costs priced from the catalog's rate cards.
Records go through ``Ledger.commit`` under the ledger lock, as the hooks write them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from model_strategy.commands.knowledge.catalog import Catalog
from model_strategy.runtime.base import clock
from model_strategy.runtime.base.clock import iso
from model_strategy.runtime.books import records
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.money import rates

# agent type -> (weight, tier chosen, decision source, complexity range, input/request range, requests range)
AGENTS: dict[str, tuple[float, str, str, tuple[float, float], tuple[int, int], tuple[int, int]]] = {
    "Explore": (30, "haiku", "agent", (0.1, 0.4), (15_000, 45_000), (3, 15)),
    "general-purpose": (22, "sonnet", "complexity", (0.35, 0.69), (25_000, 90_000), (5, 30)),
    "Plan": (8, "opus", "agent", (0.6, 0.95), (40_000, 140_000), (4, 20)),
    "code-reviewer": (10, "opus", "explicit", (0.3, 0.6), (20_000, 80_000), (3, 12)),
    "test-writer": (8, "haiku", "agent", (0.2, 0.5), (15_000, 60_000), (4, 16)),
    "doc-writer": (4, "haiku", "agent", (0.1, 0.4), (10_000, 40_000), (2, 8)),
    "debugger": (6, "sonnet", "agent", (0.5, 0.9), (30_000, 120_000), (6, 30)),
    "security-auditor": (2, "opus", "agent", (0.75, 0.98), (60_000, 180_000), (6, 25)),
    "refactor-bot": (10, "sonnet", "agent", (0.4, 0.8), (30_000, 110_000), (5, 25)),
}


def _tokens(rng: random.Random, per_request: int, requests: int, out_range: tuple[int, int]) -> dict[str, int]:
    total_in = per_request * requests
    read = int(total_in * rng.uniform(0.75, 0.92))
    w1h = int(total_in * rng.uniform(0.0, 0.02))
    w5 = int(total_in * rng.uniform(0.03, 0.1))
    fresh = max(0, total_in - read - w5 - w1h)
    return {"input": fresh, "output": requests * rng.randint(*out_range), "cache_read": read,
            "cache_write_5m": w5, "cache_write_1h": w1h, "web_search": 0}


def record(catalog: Catalog, rng: random.Random, ts: datetime, session: str, n: int, *, kind: str = "subagent",
           agent: str | None = None) -> dict[str, Any]:
    day = ts.date().isoformat()
    if kind == "main":
        agent, tier, source, cx = "main-thread", "opus", None, None
        per_req, requests = rng.randint(30_000, 120_000), rng.randint(3, 25)
    else:
        names = list(AGENTS)
        agent = agent or rng.choices(names, weights=[AGENTS[a][0] for a in names])[0]
        _, tier, source, cxr, inr, rqr = AGENTS[agent]
        cx = round(rng.uniform(*cxr), 3)
        if source == "complexity":
            tier = "haiku" if cx < 0.35 else "sonnet" if cx < 0.7 else "opus"
        per_req, requests = rng.randint(*inr), rng.randint(*rqr)
    model = catalog.aliases[tier]
    if tier == "haiku" and rng.random() < 0.15:  # some sessions remap the alias (ANTHROPIC_DEFAULT_HAIKU_MODEL)
        model = "claude-haiku-4-5"
    tokens = _tokens(rng, per_req, requests, (200, 2500))
    cost = rates.cost(catalog.prices(model, day), tokens, per_req)
    row = {"requests": requests, **tokens, "cost_usd": str(cost), "priced": True}
    decision = None
    if kind == "subagent":
        decision = {"tool_use_id": f"toolu_{session}_{n}", "ts": iso(ts - timedelta(seconds=30)), "agent_type": agent,
                    "requested": tier if source == "explicit" else None, "chosen": tier, "source": source,
                    "profile": "BALANCED", "confidence": 0.8, "complexity": cx, "reasons": [f"synthetic {source}"],
                    "budget_level": "ok", "denied": False, "prompt_hash": f"{n:016x}", "background": False}
    return {
        "schema": records.SCHEMA, "id": f"{session}:{kind}:{n}", "kind": kind, "ts": iso(ts),
        "recorded_at": iso(ts + timedelta(seconds=requests * 7)), "session_id": session, "project": "/work/demo",
        "agent_id": "main" if kind == "main" else f"a{n:06d}", "agent_type": agent,
        "tool_use_id": decision["tool_use_id"] if decision else None, "background": None if kind == "main" else False,
        "model_requested": tier if kind == "subagent" else None, "model_actual": model, "model_mismatch": False,
        "tokens": tokens, "requests": requests, "cost_usd": str(cost), "models": {model: row},
        "duration_ms": requests * 7000, "decision": decision, "source": "Stop" if kind == "main" else "SubagentStop",
        "outcome": None if kind == "main" else "completed", "unpriced_requests": 0,
        "request_keys": [records.request_key(f"msg_{session}_{n}_{i}", "req") for i in range(requests)]
        if kind == "main" else [], "flags": [], "price_source": catalog.price_source,
    }


PROJECTS = (("/work/demo", 6), ("/work/api", 3), ("/work/web", 1))
UNKNOWN_MODEL = "claude-internal-preview"


def vary(catalog: Catalog, vrng: random.Random, rec: dict[str, Any]) -> dict[str, Any]:
    """What real ledgers also hold (``variety=True``; its own random stream, so the plain records stay
    as they were): several projects, runs that errored, were interrupted, truncated or denied,
    runs on another model than chosen, a model without a price, runs without a duration."""
    rec["project"] = vrng.choices([p for p, _ in PROJECTS], weights=[w for _, w in PROJECTS])[0]
    if rec["kind"] != "subagent":
        return rec
    decision = rec["decision"]
    day = rec["ts"][:10]
    if rec["agent_type"] == "test-writer":  # harder work than haiku manages: errors, mid complexity
        decision["complexity"] = round(min(0.65, decision["complexity"] + 0.15), 3)
        if vrng.random() < 0.35:
            rec["outcome"] = "error"
    roll = vrng.random()
    if roll < 0.05:
        rec["outcome"] = "error"
    elif roll < 0.08:
        rec["outcome"] = "interrupted"
    elif roll < 0.09:
        rec["outcome"] = "truncated"
    elif roll < 0.11:
        rec["outcome"] = None
    elif roll < 0.13:  # denied by the budget policy: never ran
        decision["denied"] = True
        rec.update(outcome=None, tokens=records.zero_tokens(), requests=0, cost_usd="0", models={},
                   model_actual=None, duration_ms=None)
        return rec
    if vrng.random() < 0.1:
        rec["duration_ms"] = None
    roll = vrng.random()
    (row,) = rec["models"].values()
    if roll < 0.04 and decision["chosen"] == "haiku":  # the alias remapped to another tier
        new = "claude-sonnet-5"
        per_req = sum(row[k] for k in rates.KINDS if k != "output") // max(row["requests"], 1)
        cost = rates.cost(catalog.prices(new, day), row, per_req)
        rec["models"] = {new: {**row, "cost_usd": str(cost)}}
        rec.update(model_actual=new, model_mismatch=True, cost_usd=str(cost))
    elif roll < 0.07:  # a model genai-prices does not know: recorded, never priced
        rec["models"] = {UNKNOWN_MODEL: {**row, "cost_usd": None, "priced": False}}
        rec.update(model_actual=UNKNOWN_MODEL, cost_usd="0", unpriced_requests=row["requests"],
                   flags=["unpriced"], model_mismatch=True)
    return rec


def generate(archive: Ledger, catalog: Catalog, end: date, days: int, per_day: tuple[int, int] = (50, 200),
             seed: int = 7, variety: bool = False) -> int:
    """Write ``days`` days of records ending ``end``; returns the number written."""
    rng = random.Random(seed)
    vrng = random.Random(seed * 7919 + 1)
    written = 0
    with archive.transaction():
        for offset in range(days - 1, -1, -1):
            day = end - timedelta(days=offset)
            weekend = day.weekday() >= 5
            count = rng.randint(*per_day) // (3 if weekend else 1)
            start = datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc)
            for i in range(count):
                ts = start + timedelta(seconds=int(i * 36_000 / max(count, 1)))
                session = f"s{day.isoformat()}-{i // 25}"
                kind = "main" if i % 10 == 0 else "subagent"
                rec = record(catalog, rng, ts, session, written, kind=kind)
                if variety:
                    rec = vary(catalog, vrng, rec)
                archive.commit(rec)  # type: ignore[arg-type]
                written += 1
    return written


def total_cost(records: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(r["cost_usd"]) for r in records), Decimal(0))


def spend(ledger: Ledger, cost: str, when: datetime | None = None, *, model: str = "claude-haiku-5-5",
          session: str = "prefill", n: int = 0) -> dict[str, Any]:
    """One main-thread record of ``cost`` dollars at ``when`` (now): a day that already spent money."""
    when = when or clock.now()
    rec = {
        "schema": records.SCHEMA, "id": f"{session}:main:spend{n}", "kind": "main", "ts": iso(when),
        "recorded_at": iso(when), "session_id": session, "project": None, "agent_id": "main",
        "agent_type": "main-thread", "tool_use_id": None, "background": None, "model_requested": None,
        "model_actual": model, "model_mismatch": False, "tokens": records.zero_tokens(), "requests": 1,
        "cost_usd": cost, "unpriced_requests": 0,
        "models": {model: {**records.zero_tokens(), "requests": 1, "cost_usd": cost, "priced": True}},
        "duration_ms": None, "decision": None, "source": "Stop", "outcome": None,
        "request_keys": [records.request_key(f"spend-{session}-{n}", "req")], "flags": [], "price_source": "test",
    }
    with ledger.transaction():
        ledger.commit(rec)  # type: ignore[arg-type]
    return rec
