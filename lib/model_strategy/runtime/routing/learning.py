"""Routing that learns from its own outcomes.

Every routed spawn falls in a *bucket*: agent type × complexity band × profile.  For each bucket and
tier the ledger tells how many runs succeeded (transcript outcome ``completed``, not escalated, not
marked bad) and how many failed.  The success rate of a tier has a Beta posterior whose prior comes
from the static rule (``selector.py``): the static pick and the tiers above it start at
``PRIOR_MEAN``, each tier below it the tolerated loss plus ``PRIOR_GAP`` lower, with the weight of
``PRIOR_RUNS`` runs -- so with no evidence the static pick is the pick.  The learned pick is the
cheapest tier, within ``min_tier``..``max_tier``, whose posterior mean is within
``learning.max_success_loss`` of the best tier's.  A cheaper tier is taken when its mean gap is within
the loss (``Z_DOWN`` = 0: a few explored runs cannot prove a 2-point bound, the evidence then
accumulates at the pick itself); the static pick, the tiers above it, and a cheaper tier that is the
bucket's pick already (the latest greedy pick in the ledger) stay until they are confidently worse
(the gap minus ``Z_UP`` / ``Z_STAY`` standard deviations still exceeds the loss).

Exploration spends ``learning.explore`` (the share of spawns, on average) where there is something
to learn: a spawn runs the tier just below the pick (``target``) while that tier is not ruled out --
ruled out (``hopeless``) once it has ``MIN_RUNS_DOWN`` runs and as many failures would happen with
probability below ``ALPHA_OUT`` were it within the loss of the best tier (exact binomial tail,
``surprise``).  A bucket at the cheapest tier allowed explores nothing (the tier above is sampled
anyway: a failed run is re-spawned there), nor does one whose cheaper tier is ruled out; their
share goes to the buckets still open (``informative``: the probability is ``explore`` divided by
the share of the window's runs in open buckets, at most ``EXPLORE_CAP`` times ``explore``).  Never
while a budget or window policy is acting, never for an agent type the user pinned in ``agents``,
not before the bucket has ``EXPLORE_AFTER`` runs, not in a Workflow; the decision records the
probability of the tier it got (``p``) so replays can be unbiased.

Outcome signals beyond the transcript -- escalations and the user's feedback -- are found and
recorded by ``outcomes.py``.

``outcomes.jsonl`` is append-only (events carry the change they make: ``from`` → ``to``).  The
learning state, ``learning.json``, is a cache folded from the ledger's day files and that file
(``Ledger.fold``: per day-file offsets, checksum, rebuilt when missing, behind or damaged), so
PreToolUse reads one small file.  A resumed agent's continuation slices are not counted again (one
run per agent id).  Standard library only (hot path).
"""

from __future__ import annotations

import math
import os

from model_strategy.runtime.base import store
from model_strategy.runtime.base.kinds import TIERS, tier_index

from .outcomes import SEP, counted, events_path, greedy, read_events

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from model_strategy.runtime.books.ledger import Ledger
    from model_strategy.runtime.books.records import Record
    from model_strategy.runtime.settings.values import Config

SCHEMA = 3
CACHE = "learning.json"
WINDOW_DAYS = 90  # runs older than this no longer count
PRIOR_MEAN = 0.95
PRIOR_GAP = 0.01  # prior success lost per tier below the static pick, beyond the tolerated loss
PRIOR_RUNS = 2.0
Z_DOWN = 0.0
Z_UP = 1.5
Z_STAY = 0.75
ALPHA_OUT = 0.1  # a tier whose failures would be this unlikely were it within the loss is ruled out (not explored)
MIN_RUNS_DOWN = 3  # runs of its own a tier below the static pick needs before it can be the pick
EXPLORE_AFTER = 3  # runs a bucket has before it explores (a new user's first spawns are routed as always)
EXPLORE_CAP = 4.0  # a bucket explores at most this many times learning.explore
BANDS = ("simple", "moderate", "complex")
DEFAULTS = {"enabled": True, "explore": 0.05, "max_success_loss": 0.02}


def settings(cfg: Config) -> dict[str, Any]:
    raw = cfg.get("learning")
    return {**DEFAULTS, **(raw if isinstance(raw, dict) else {})}


def band(score: float, cfg: Config) -> str:
    c = cfg.get("complexity", {})
    simple_below = float(c.get("simple_below", 0.35))
    complex_from = float(c.get("complex_from", 0.7))
    return BANDS[0 if score < simple_below else (2 if score >= complex_from else 1)]


# ------------------------------------------------------------------ posterior and the pick


def posterior(s: float, f: float, static: int, tier: int, loss: float = 0.02) -> tuple[float, float]:
    """Mean and variance of the Beta posterior of ``tier``'s success after ``s`` successes and ``f``
    failures, with the prior the static pick ``static`` implies: a tier below it starts ``loss +
    PRIOR_GAP`` lower per tier (just beyond the tolerated loss, so only evidence moves the pick)."""
    m0 = max(0.05, PRIOR_MEAN - (loss + PRIOR_GAP) * max(0, static - tier))
    a = m0 * PRIOR_RUNS + max(0.0, s)
    b = (1 - m0) * PRIOR_RUNS + max(0.0, f)
    n = a + b
    return a / n, a * b / (n * n * (n + 1))


def _stats(counts: dict[str, Any], static: int, lo: int, hi: int, loss: float) -> dict[int, tuple[float, float]]:
    out: dict[int, tuple[float, float]] = {}
    for t in range(lo, hi + 1):
        s, f = _sf(counts.get(TIERS[t]))
        out[t] = posterior(s, f, static, t, loss)
    return out


def pick(counts: dict[str, Any], static: int, lo: int, hi: int, loss: float,
         current: int | None = None) -> tuple[int, dict[int, float]]:
    """The learned tier (index) for a bucket with ``counts`` (tier -> [successes, failures]) whose
    static pick is ``static``, within ``lo``..``hi``; and the posterior mean per tier.  ``current``:
    the bucket's pick so far (a tier below the static pick that is the pick already stays until it is
    confidently worse: one unlucky run does not undo what several good ones showed)."""
    static = max(lo, min(hi, static))
    stats = _stats(counts, static, lo, hi, loss)
    means = {t: m for t, (m, _) in stats.items()}
    best = max(stats, key=lambda t: (stats[t][0], -t))
    mb, vb = stats[best]
    for t in range(lo, hi + 1):
        m, v = stats[t]
        gap = mb - m
        sd = math.sqrt(vb + v) if t != best else 0.0
        if t >= static:
            ok = gap - Z_UP * sd <= loss  # the static pick and above: kept until confidently worse
        elif t == current:
            ok = gap - Z_STAY * sd <= loss
        else:  # a cheaper tier: taken when its mean gap is within the loss, on evidence of its own (one lucky
            # run, or one a budget moved down, does not move the bucket)
            ok = gap + Z_DOWN * sd <= loss and sum(_sf(counts.get(TIERS[t]))) >= MIN_RUNS_DOWN
        if ok:
            return t, means
    return best, means


def hopeless(counts: dict[str, Any], static: int, tier: int, lo: int, hi: int, loss: float) -> bool:
    """Whether ``tier`` has failed too often for a tier within ``loss`` of the best one: as many
    failures or more would happen with probability below ``ALPHA_OUT`` (``surprise``).  Exploring it
    again would cost success and cannot change the pick."""
    static = max(lo, min(hi, static))
    stats = _stats(counts, static, lo, hi, loss)
    best = max(stats, key=lambda t: (stats[t][0], -t))
    if best == tier or tier not in stats or sum(_sf(counts.get(TIERS[tier]))) < MIN_RUNS_DOWN:
        return False
    return surprise(counts, tier, stats[best][0] - loss) < ALPHA_OUT


def surprise(counts: dict[str, Any], tier: int, rate: float) -> float:
    """The probability of at least as many failures as ``tier`` had in its runs if its success rate
    were ``rate`` (binomial tail; 1.0 without failures).  Small: the tier is worse than ``rate``."""
    s, f = _sf(counts.get(TIERS[tier]))
    n, k = round(s + f), round(f)
    if k <= 0:
        return 1.0
    if rate <= 0:
        return 1.0
    if rate >= 1:
        return 0.0
    q = 1 - rate
    if n > 1000:  # the normal approximation (with continuity correction); the sum below would underflow
        z = (k - 0.5 - n * q) / math.sqrt(n * q * rate)
        return 0.5 * math.erfc(z / math.sqrt(2))
    term, below = rate ** n, 0.0
    for i in range(k):  # P(fewer than k failures)
        below += term
        term *= (n - i) / (i + 1) * q / rate
    return max(0.0, 1.0 - below)


def _sf(row: Any) -> tuple[float, float]:
    if isinstance(row, list) and len(row) == 2:
        return float(row[0]), float(row[1])
    return 0.0, 0.0


def runs(counts: dict[str, Any]) -> int:
    return int(sum(sum(_sf(row)) for row in counts.values()))


# ------------------------------------------------------------------ routing a decision


def _draw() -> float:
    """A uniform number in [0, 1) (``os.urandom``: ``random`` costs an import on the hot path).
    ``MODEL_STRATEGY_DRAW`` fixes it (tests)."""
    fixed = os.environ.get("MODEL_STRATEGY_DRAW")
    if fixed:
        try:
            return min(max(float(fixed), 0.0), 0.999999)
        except ValueError:
            pass
    return int.from_bytes(os.urandom(7), "big") / float(1 << 56)


def pinned(agent_type: str, cfg: Config) -> bool:
    """Whether the user (not the shipped defaults) mapped ``agent_type`` to a tier in ``agents``."""
    mapped = cfg.get("agents", {}).get(agent_type)
    if mapped is None or mapped == "auto":
        return False
    from model_strategy.runtime.base import paths

    try:
        shipped = store.read_json(paths.defaults_file(), {}) or {}
    except (store.StoreError, OSError):
        return True
    agents = shipped.get("agents") if isinstance(shipped, dict) else None
    return not (isinstance(agents, dict) and agents.get(agent_type) == mapped)


def route(decision: dict[str, Any], cfg: Config, state: dict[str, Any] | None, acting: bool) -> None:
    """Add the learning fields to a selector decision (in place) and apply the learned pick and
    exploration: ``bucket``, ``static`` (the static rule's tier), ``p`` (the probability the policy
    gave the tier it picked), ``learned`` (a short note when learning moved the pick), ``explored``.
    ``state``: the learning state (``load``), None when learning is off; ``acting``: a budget or
    window policy is acting (no exploration)."""
    if decision.get("source") == "fork" or "bucket" in decision:
        return
    decision["bucket"] = [str(decision.get("agent_type")), band(float(decision.get("complexity") or 0), cfg),
                          str(decision.get("profile"))]
    decision["static"] = decision["chosen"]
    decision["p"] = 1.0
    decision["learned"] = None
    decision["explored"] = False
    static = tier_index(decision["chosen"])
    if state is None or decision.get("source") == "explicit" or static is None or decision["chosen"] not in TIERS:
        return
    if pinned(decision["bucket"][0], cfg):
        return
    opts = settings(cfg)
    lo = TIERS.index(cfg.get("min_tier", "haiku"))
    hi = TIERS.index(cfg.get("max_tier", "opus"))
    if lo > hi:
        return
    key = SEP.join(decision["bucket"])
    counts = state.get("total", {}).get(key, {})
    current = state.get("pick", {}).get(key)
    t, means = pick(counts, static, lo, hi, float(opts["max_success_loss"]),
                    tier_index(current[1]) if isinstance(current, list) and len(current) == 2 else None)
    if t != static:
        n = runs(counts)
        best = max(means, key=lambda i: (means[i], -i))
        vs = best if best != t else static
        note = (f"learned: {n} runs, {TIERS[t]} {means[t] * 100:.0f} % vs {TIERS[vs]} {means[vs] * 100:.0f} %")
        decision["learned"] = note
        decision["chosen"] = TIERS[t]
        decision["reasons"].append(f"{note} → {TIERS[t]}")
    explore = float(opts["explore"])
    if explore <= 0 or acting or decision.get("workflow") or runs(counts) < EXPLORE_AFTER:
        return
    loss = float(opts["max_success_loss"])
    other = target(counts, static, t, lo, hi, loss)
    if other is None:
        return
    rate = round(min(explore * EXPLORE_CAP, explore / max(informative(state, lo, hi, loss), 1e-9), max(explore, 0.5)),
                 6)
    if _draw() < rate:
        decision["chosen"] = TIERS[other]
        decision["p"] = rate
        decision["explored"] = True
        decision["reasons"].append(f"exploring: {TIERS[other]} instead of {TIERS[t]} (p {decision['p']:g})")
    else:
        decision["p"] = round(1 - rate, 6)


def target(counts: dict[str, Any], static: int, t: int, lo: int, hi: int, loss: float) -> int | None:
    """The tier worth exploring from the pick ``t``: the one below it while it is not ruled out
    (``hopeless``); None when there is nothing to learn there."""
    other = t - 1
    if other < lo or hopeless(counts, static, other, lo, hi, loss):
        return None
    return other


def informative(state: dict[str, Any], lo: int, hi: int, loss: float) -> float:
    """The share of the window's runs that fall in buckets with a tier worth exploring (``target``
    from the bucket's latest pick; a bucket without one counts as worth exploring).  Exploration is
    spread over those buckets: ``learning.explore`` per spawn on average, none where nothing is left
    to learn."""
    total = useful = 0.0
    statics = state.get("static", {})
    picks = state.get("pick", {})
    for key, counts in state.get("total", {}).items():
        n = runs(counts)
        total += n
        static, current = tier_index(statics.get(key)), picks.get(key)
        t = tier_index(current[1]) if isinstance(current, list) and len(current) == 2 else None
        if (static is None or t is None or not lo <= t <= hi
                or target(counts, max(lo, min(hi, static)), t, lo, hi, loss) is not None):
            useful += n
    return useful / total if total else 1.0


# ------------------------------------------------------------------ the learning state (cache)


def _bump(data: dict[str, Any], day: str, key: str, tier: str, ds: int, df: int) -> None:
    for target in (data["days"].setdefault(day, {}), data["total"]):
        row = target.setdefault(key, {}).setdefault(tier, [0, 0])
        row[0] += ds
        row[1] += df


class _State:
    def __init__(self, ledger: Ledger, since: str) -> None:
        self.ledger, self.since = ledger, since

    def fresh(self) -> dict[str, Any]:
        return {"days": {}, "total": {}, "pick": {}, "static": {}, "events_at": 0}

    def add(self, data: dict[str, Any], rec: Record) -> None:
        c = counted(rec)
        if c is None or c[2] < self.since:
            return
        _bump(data, c[2], c[0], c[1], 1 if c[3] else 0, 0 if c[3] else 1)
        d = rec["decision"] or {}
        if d.get("source") != "explicit" and d.get("static") in TIERS:
            data.setdefault("static", {})[c[0]] = d["static"]
        if greedy(d):  # the policy's own pick (not explored, not the caller's, not a budget's)
            ts = str(d.get("ts") or rec.get("ts"))
            last = data["pick"].get(c[0])
            if not (isinstance(last, list) and len(last) == 2 and str(last[0]) > ts):
                data["pick"][c[0]] = [ts, c[1]]

    def prune(self, data: dict[str, Any], since: str) -> None:
        for day in [d for d in data["days"] if d < since]:
            for key, tiers in data["days"].pop(day).items():
                for tier, (s, f) in tiers.items():
                    row = data["total"][key][tier]
                    row[0] -= s
                    row[1] -= f

    def catch_up(self, data: dict[str, Any]) -> bool | str:
        """Fold the outcome events appended since (``valid`` hook of the fold)."""
        at = data.get("events_at")
        if not isinstance(at, int) or isinstance(at, bool):
            return False
        size = _events_size(self.ledger)
        if size < at:
            return False  # the events file was cut or replaced: fold again
        if size == at:
            return True
        events, end = read_events(self.ledger, at)
        for e in events:
            before, after = e.get("from"), e.get("to")
            day, key, tier = e.get("day"), e.get("bucket"), e.get("tier")
            if not (isinstance(before, bool) and isinstance(after, bool) and before != after
                    and isinstance(day, str) and isinstance(key, str) and tier in TIERS and day >= self.since):
                continue
            _bump(data, day, key, str(tier), 1 if after else -1, -1 if after else 1)
        data["events_at"] = end
        return "changed"


def since_day(now: datetime, days: int = WINDOW_DAYS) -> str:
    from datetime import timedelta

    return (now - timedelta(days=days)).date().isoformat()


def load(ledger: Ledger, now: datetime, retention_days: int | None = None) -> dict[str, Any]:
    """The learning state: ``{"total": {bucket: {tier: [successes, failures]}}, "pick": …, "static": …,
    "days": …}``
    over the last ``WINDOW_DAYS`` days -- fewer when ``retention_days`` keeps less detail, so the window
    never reaches into archived months (folded whole) -- caught up with the ledger and the events."""
    days = WINDOW_DAYS if retention_days is None else max(1, min(WINDOW_DAYS, int(retention_days)))
    st = _State(ledger, since_day(now, days))
    data = ledger.fold(CACHE, st.since, None, st.fresh, st.add, schema=SCHEMA, key="learning-1",
                       prune=st.prune, valid=st.catch_up)
    if data.get("events_at", 0) < _events_size(ledger):  # rebuilt just now: the events on top (saved next time)
        data = {**data, "days": {}, "total": _copy(data["total"]), "pick": dict(data.get("pick", {}))}
        st.catch_up(data)
    return data


def _copy(total: dict[str, Any]) -> dict[str, Any]:
    return {k: {t: list(row) for t, row in tiers.items()} for k, tiers in total.items()}


def _events_size(ledger: Ledger) -> int:
    try:
        return os.path.getsize(events_path(ledger))
    except FileNotFoundError:
        return 0
