"""``model-strategy routing`` (what the learning router learned, and an off-policy replay) and
``model-strategy feedback good|bad [AGENT_ID|last]`` (mark a run).

The report reads the ledger's subagent runs of the last ``--days`` days (one run per agent id:
continuation slices are not counted again) with their outcome events (``outcomes.jsonl``).  Per
bucket (agent type / complexity band / profile): runs, success per tier with a 95 % Wilson interval,
the static pick, the learned pick (``runtime/learning.pick`` on these runs) and why.

Replay: for each routed run (not a caller's explicit model, not a tier a budget or window policy moved,
not a fork) the decision recorded the
tier the policy gave it and the probability ``p`` it had.  A policy's cost and success per run are
estimated per bucket from the runs where the logged tier is the one that policy would pick, each
weighted by ``1/p`` and normalised by the sum of the weights (self-normalised inverse propensity
scoring), the buckets combined by their share of the runs; the 95 % interval is ``±1.96`` times the
estimator's delta-method standard error.  ``ips`` (not
normalised) is unbiased when every policy's tier had ``p > 0``; a policy whose tier was never logged
in a bucket has no support there, and the report says how many runs support each estimate.
"""

from __future__ import annotations

import math
import os
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypedDict

from model_strategy.commands.base.errors import BadInput
from model_strategy.runtime.base import clock
from model_strategy.runtime.base.kinds import TIERS, tier_index
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.routing import learning, outcomes
from model_strategy.runtime.settings.values import Config

JSON_SCHEMA = 1
FEEDBACK_DAYS = 30  # how far back ``feedback`` looks for the run
Z95 = 1.96
ALWAYS = TIERS[:3]  # the fixed policies the replay compares with: always-haiku, always-sonnet, always-opus
POLICIES = ("static", "learned", *(f"always-{t}" for t in ALWAYS))


class Run(TypedDict):
    """A run the learning counts, with its labels after the outcome events."""
    id: str
    agent_id: str
    agent_type: str
    session_id: str
    ts: str
    bucket: str
    tier: str  # the tier it ran on
    static: str  # the tier the static rule gave it
    p: float  # the probability its tier had when it was routed
    ok: bool
    cost: Decimal
    source: str | None  # the decision's source: static, learned, explicit, fork, budget …
    explored: bool
    learned: str | None
    greedy: bool
    escalated: bool
    feedback: str | None  # good | bad | None


class Estimate(TypedDict):
    """A policy's cost and success per run, estimated from the runs (``replay``)."""
    runs: int
    support: int
    success: float | None
    success_ci: list[float] | None
    cost: float | None
    cost_ci: list[float] | None
    ips_success: float | None
    ips_cost: float | None


class Replay(Estimate):
    policy: str


class TierRow(TypedDict):
    runs: int
    successes: int
    success: float | None
    ci: list[float]


class Bucket(TypedDict):
    bucket: str
    runs: int
    tiers: dict[str, TierRow]
    static: str
    learned: str
    why: str
    pinned: bool


class RoutingDoc(TypedDict):
    """``model-strategy routing --json``: what the learning learned per bucket, and the replay."""
    schema: int
    days: int
    since: str
    until: str
    runs: int
    routed_runs: int
    learning: dict[str, Any]  # learning.settings
    escalations: int
    feedback: int
    explored: int
    buckets: list[Bucket]
    replay: list[Replay]


# ------------------------------------------------------------------ statistics


def wilson(s: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a success rate ``s/n`` (``(0, 1)`` without runs)."""
    if n <= 0:
        return 0.0, 1.0
    p = s / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def replay(rows: list[Run], target: list[str | None]) -> Estimate:
    """Off-policy estimate of a deterministic policy picking ``target[i]`` for run ``i``: each row has
    the logged ``tier``, its probability ``p``, ``ok`` (success), ``cost`` and optionally its
    ``bucket``.  Per bucket the matching runs are weighted by ``1/p`` and normalised by their weight
    (self-normalised), and the buckets are combined by their share of the runs (a policy whose tier
    ran early in a bucket and not later is not judged on the other buckets' runs); a bucket with no
    matching run leaves the policy without an estimate.  Returns ``success`` and ``cost`` per run
    with 95 % intervals (delta method), the plain IPS estimates (``ips_success``, ``ips_cost``:
    unbiased when every target tier had ``p > 0``), and ``support``: the matching runs."""
    w = [1.0 / r["p"] if t is not None and r["tier"] == t and r["p"] > 0 else 0.0
         for r, t in zip(rows, target, strict=True)]
    n = len(rows)
    support = sum(1 for x in w if x > 0)
    out: Estimate = {"runs": n, "support": support, "success": None, "success_ci": None, "cost": None,
                     "cost_ci": None, "ips_success": None, "ips_cost": None}
    if not n:
        return out
    strata: dict[str | None, list[int]] = {}
    for i, r in enumerate(rows):
        strata.setdefault(r.get("bucket"), []).append(i)
    for key, values in (("success", [1.0 if r["ok"] else 0.0 for r in rows]),
                        ("cost", [float(r["cost"]) for r in rows])):
        ips = sum(x * v for x, v in zip(w, values, strict=True)) / n
        if key == "success":
            out["ips_success"] = ips
        else:
            out["ips_cost"] = ips
        est = var = 0.0
        for idx in strata.values():
            total = sum(w[i] for i in idx)
            if total <= 0:
                est = -1.0
                break
            share = len(idx) / n
            b_est = sum(w[i] * values[i] for i in idx) / total
            est += share * b_est
            var += share * share * sum((w[i] * (values[i] - b_est)) ** 2 for i in idx) / (total * total)
        if est < 0:
            continue  # a bucket without support: no estimate
        sd = math.sqrt(var)
        lo, hi = est - Z95 * sd, est + Z95 * sd
        if key == "success":
            out["success"], out["success_ci"] = est, [max(0.0, lo), min(1.0, hi)]
        else:
            out["cost"], out["cost_ci"] = est, [max(0.0, lo), hi]
    return out


# ------------------------------------------------------------------ the runs


def runs(ledger: Ledger, since: str, errors: list[str] | None = None) -> list[Run]:
    """The runs the learning counts since ``since`` (a UTC day), oldest first, with their labels
    after the outcome events."""
    events: dict[str, list[dict[str, Any]]] = {}
    for e in outcomes.read_events(ledger)[0]:
        events.setdefault(str(e["run"]), []).append(e)
    out: list[Run] = []
    for rec in ledger.iter_records(since, None, errors):
        c = outcomes.counted(rec)
        if c is None:
            continue
        d = rec["decision"] or {}
        ok = c[3]
        for e in events.get(rec["id"], ()):
            if isinstance(e.get("to"), bool):
                ok = e["to"]
        p, static = d.get("p"), d.get("static")
        out.append({"id": rec["id"], "agent_id": rec["agent_id"], "agent_type": rec["agent_type"],
                    "session_id": rec["session_id"], "ts": rec["ts"], "bucket": c[0], "tier": c[1],
                    "static": static if isinstance(static, str) and static in TIERS else c[1],
                    "p": float(p) if isinstance(p, (int, float)) and not isinstance(p, bool) and 0 < p <= 1 else 1.0,
                    "ok": ok, "cost": Decimal(rec.get("cost_usd") or "0"), "source": d.get("source"),
                    "explored": bool(d.get("explored")), "learned": d.get("learned"), "greedy": outcomes.greedy(d),
                    "escalated": bool(d.get("escalated")) or any(e.get("kind") == "escalated"
                                                                 for e in events.get(rec["id"], ())),
                    "feedback": next((e["kind"] for e in reversed(events.get(rec["id"], ()))
                                      if e.get("kind") in ("good", "bad")), None)})
    return out


def _why(counts: dict[str, list[int]], static: int, learned: int, means: dict[int, float], loss: float) -> str:
    n = learning.runs(counts)
    if learned == static:
        if not n:
            return "no runs yet: the static rule"
        below = static - 1
        if below in means:
            return (f"{TIERS[below]} {means[below] * 100:.0f} % is not within {loss * 100:g} pts of the best "
                    f"({max(means.values()) * 100:.0f} %)")
        return "the cheapest tier allowed"
    if learned < static:
        return f"{TIERS[learned]} {means[learned] * 100:.0f} % is within {loss * 100:g} pts of the best"
    return (f"{TIERS[static]} {means[static] * 100:.0f} % is more than {loss * 100:g} pts below "
            f"{TIERS[learned]} {means[learned] * 100:.0f} %")


def build(days: int, cfg: Config, ledger: Ledger | None = None) -> tuple[RoutingDoc, list[str]]:
    ledger = ledger or Ledger()
    ledger.settle()
    now = clock.now()
    since = (now - timedelta(days=days - 1)).date().isoformat()
    errors: list[str] = []
    rows = runs(ledger, since, errors)
    opts = learning.settings(cfg)
    loss = float(opts["max_success_loss"])
    lo = TIERS.index(cfg.get("min_tier", "haiku"))
    hi = TIERS.index(cfg.get("max_tier", "opus"))
    counts: dict[str, dict[str, list[int]]] = {}
    statics: dict[str, dict[str, int]] = {}
    current: dict[str, int | None] = {}
    for r in rows:
        if r["greedy"]:
            current[r["bucket"]] = tier_index(r["tier"])
        row = counts.setdefault(r["bucket"], {}).setdefault(r["tier"], [0, 0])
        row[0 if r["ok"] else 1] += 1
        if r["source"] != "explicit":
            statics.setdefault(r["bucket"], {}).setdefault(r["static"], 0)
            statics[r["bucket"]][r["static"]] += 1
    buckets: list[Bucket] = []
    picks: dict[str, int] = {}
    for key in sorted(counts, key=lambda k: (-learning.runs(counts[k]), k)):
        agent_type = key.split(outcomes.SEP)[0]
        st = statics.get(key)
        static = tier_index(max(st, key=lambda t: st[t])) if st else None
        if static is None:
            static = max(tier_index(t) or 0 for t in counts[key])
        static = max(lo, min(hi, static))
        pinned = learning.pinned(agent_type, cfg)
        means: dict[int, float]
        if pinned or not opts["enabled"]:
            learned, means = static, {}
            why = "pinned in agents" if pinned else "learning is off"
        else:
            learned, means = learning.pick(counts[key], static, lo, hi, loss, current.get(key))
            why = _why(counts[key], static, learned, means, loss)
        picks[key] = learned
        tiers: dict[str, TierRow] = {}
        for t, (s, f) in sorted(counts[key].items(), key=lambda kv: TIERS.index(kv[0])):
            ci = wilson(s, s + f)
            tiers[t] = {"runs": s + f, "successes": s, "success": s / (s + f) if s + f else None, "ci": list(ci)}
        buckets.append({"bucket": outcomes.bucket_name(key), "runs": learning.runs(counts[key]), "tiers": tiers,
                        "static": TIERS[static], "learned": TIERS[learned], "why": why, "pinned": pinned})
    routed = [r for r in rows if r["source"] not in ("explicit", "fork", "budget")]
    targets: dict[str, list[str | None]] = {
        "static": [r["static"] for r in routed],
        "learned": [TIERS[picks[r["bucket"]]] if r["bucket"] in picks else None for r in routed],
        **{f"always-{t}": [t] * len(routed) for t in ALWAYS}}
    replays: list[Replay] = [{"policy": name, **replay(routed, targets[name])} for name in POLICIES]
    doc: RoutingDoc = {"schema": JSON_SCHEMA, "days": days, "since": since, "until": now.date().isoformat(),
           "runs": len(rows), "routed_runs": len(routed), "learning": opts,
           "escalations": sum(1 for r in rows if r["escalated"]),
           "feedback": sum(1 for r in rows if r["feedback"]), "explored": sum(1 for r in rows if r["explored"]),
           "buckets": buckets, "replay": replays}
    return doc, [*ledger.warnings, *errors[:5]]


# ------------------------------------------------------------------ commands


def mark(verdict: str, which: str) -> str:
    """Append a feedback event for a run; the line that says what was marked."""
    from model_strategy.runtime.base.clock import iso, parse_ts

    ledger = Ledger()
    ledger.settle()
    since = (clock.now() - timedelta(days=FEEDBACK_DAYS)).date().isoformat()
    cands = [r for r in ledger.iter_records(since, None)
             if r.get("kind") == "subagent" and r.get("id") == f"{r.get('session_id')}:{r.get('agent_id')}"]
    which = which.strip()
    if not which or len(which) > 80 or not all(c.isalnum() or c in "-_" for c in which):
        raise BadInput("give an agent id (letters, digits, - and _) or last")
    if which == "last":
        session = os.environ.get("CLAUDE_CODE_SESSION_ID") or ""
        mine = [r for r in cands if r.get("session_id") == session] or cands
        found = max(mine, key=lambda r: (str(r.get("ts")), str(r.get("recorded_at")))) if mine else None
        if found is None:
            raise BadInput(f"no agent run in the last {FEEDBACK_DAYS} days to mark")
    else:
        match = [r for r in cands if str(r.get("agent_id")) == which] or \
            [r for r in cands if str(r.get("agent_id")).startswith(which)]
        if not match:
            raise BadInput(f"no agent {which!r} in the last {FEEDBACK_DAYS} days")
        if len({r["id"] for r in match}) > 1:
            raise BadInput(f"{which!r} starts {len(match)} agent ids; give more of it")
        found = match[0]
    c = outcomes.counted(found)
    try:
        when = iso(parse_ts(found["ts"]))[:16].replace("T", " ")
    except ValueError:
        when = "?"
    who = f"agent {found['agent_id']} ({found['agent_type']}, {when} UTC"
    if c is None:
        return f"{who}) has no routing decision the learning counts (a fork, a denied spawn or an unknown " \
               "outcome); nothing marked"
    with ledger.transaction():
        event = outcomes.append_event(ledger, found, verdict, verdict == "good")
    assert event is not None
    was = {True: "a success", False: "a failure", None: "not counted"}[event["from"]]
    return (f"marked {who}, {c[1]}) {verdict}: it counts as a {'success' if verdict == 'good' else 'failure'} "
            f"on {c[1]} for {outcomes.bucket_name(c[0])} (was {was})")
