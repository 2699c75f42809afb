"""Use cases: recognise them in free text ("code review, 500 PRs a day, cheap") and in recorded agent
types, and turn them into profiles (workload type, latency need, cost sensitivity, volume).

A profile is the matching entry of ``data/usecases.json`` plus what the text overrides; every
override is listed in ``overrides`` so the report can say where each number came from.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, TypeVar

from model_strategy.runtime.routing.selector import wildcard_match

from .catalog import UseCase

if TYPE_CHECKING:
    from .specs import Complexity, Need, Sensitivity, Workload


class Profile(UseCase):
    """A use case as asked about: the entry of ``data/usecases.json`` with what the text (or the records)
    changed, how it was recognised, and where its volume comes from."""

    query: str
    matched_by: str  # keywords | default | records | portfolio
    match_confidence: float
    terms: list[str]
    overrides: dict[str, str]  # field -> the new value and why
    volume_source: str  # assumption | your text | records


DEFAULT_PORTFOLIO = ("interactive-coding", "code-review", "code-generation", "codebase-search",
                     "test-writing", "planning")
FALLBACK_ID = "general-agent"

_WORD = re.compile(r"[a-z0-9][a-z0-9.+#;/-]*")
_SPLIT = re.compile(r"\s*(?:,|;|\+|&|\band\b|\bplus\b)\s*")
_NUM = r"(\d+(?:[.,]\d+)?)\s*([km])?"
_VOLUME = re.compile(_NUM + r"\s*(?:[a-z-]+\s+){0,3}?(?:per|/|a|an|each|every)\s*(hour|day|week|month)\b")
_TOKENS = re.compile(_NUM + r"\s*-?\s*tokens?\b")
#: wording that overrides a field of the profile: (value, why, phrases), the first that applies wins
_WORKLOAD: tuple[tuple[Workload, str, tuple[str, ...]], ...] = (
    ("batch", "batch wording", ("batch", "nightly", "offline", "bulk", "overnight", "cron")),
    ("async", "background wording", ("async", "asynchronous", "background", "queued", "queue")),
    ("real-time interactive", "real-time wording", ("real-time", "realtime", "interactive", "live")),
)
_LATENCY: tuple[tuple[Need, str, tuple[str, ...]], ...] = (
    ("critical", "latency wording", ("low latency", "low-latency", "instant", "snappy", "fast")),
)
_COST: tuple[tuple[Sensitivity, str, tuple[str, ...]], ...] = (
    ("high", "cost wording", ("cheap", "cheapest", "budget", "low cost", "low-cost",
                              "cost-sensitive", "inexpensive", "save money")),
    ("low", "quality wording", ("best quality", "highest quality", "quality-first",
                                "accuracy", "mission critical", "mission-critical")),
)
_COMPLEXITY: tuple[tuple[Complexity, str, tuple[str, ...]], ...] = (
    ("simple", "difficulty wording", ("simple", "trivial", "easy", "quick", "routine")),
    ("complex", "difficulty wording", ("complex", "hard", "difficult", "tricky", "critical")),
)
V = TypeVar("V", bound=str)
_PER_DAY = {"hour": 24.0, "day": 1.0, "week": 1 / 7, "month": 1 / 30}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _contains(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(words[i:i + n] == phrase for i in range(len(words) - n + 1))


def _number(value: str, suffix: str | None) -> float:
    n = float(value.replace(",", ""))
    return n * {"k": 1_000, "m": 1_000_000}.get(suffix or "", 1)


def score(text: str, usecase: UseCase) -> tuple[int, list[str]]:
    """How strongly ``text`` names ``usecase``: the words of each matching keyword phrase."""
    words = _words(text)
    if usecase["id"] in words or usecase["name"].lower() in text.lower():
        return 6, [usecase["id"]]
    total, hits = 0, []
    for phrase in usecase["keywords"]:
        pw = _words(phrase)
        if pw and _contains(words, pw):
            total += len(pw)
            hits.append(phrase)
    return total, hits


def match(text: str, usecases: list[UseCase]) -> tuple[UseCase | None, float, list[str]]:
    """The best use case for one fragment of text, a 0..1 confidence and the matched terms."""
    best, best_score, best_hits, second = None, 0, [], 0
    for uc in usecases:
        s, hits = score(text, uc)
        if s > best_score:
            best, second, best_score, best_hits = uc, best_score, s, hits
        elif s > second:
            second = s
    if best is None:
        return None, 0.0, []
    confidence = min(0.95, 0.5 + 0.15 * best_score - (0.1 if second == best_score else 0.0))
    return best, round(confidence, 2), best_hits


def apply_modifiers(profile: Profile, text: str, volume: bool = True) -> None:
    """Overrides from the wording of ``text`` (workload, latency, cost, difficulty and, with
    ``volume``, requests per period and tokens per request).  Fields already overridden stay."""
    low = text.lower()
    words = _words(low)
    overrides: dict[str, str] = profile["overrides"]
    if w := _worded(words, "workload", _WORKLOAD, profile["workload"], overrides):
        profile["workload"] = w
    if n := _worded(words, "latency", _LATENCY, profile["latency"], overrides):
        profile["latency"] = n
    if s := _worded(words, "cost_sensitivity", _COST, profile["cost_sensitivity"], overrides):
        profile["cost_sensitivity"] = s
    if c := _worded(words, "complexity", _COMPLEXITY, profile["complexity"], overrides):
        profile["complexity"] = c
    if not volume:
        return
    m = _VOLUME.search(low)
    if m:
        per_day = _number(m.group(1), m.group(2)) * _PER_DAY[m.group(3)]
        if per_day > 0:
            profile["volume"]["requests_per_day"] = round(per_day, 2)
            overrides["volume"] = f"{per_day:,.0f} requests/day (from '{m.group(0)}')" if per_day >= 10 \
                else f"{per_day:.2g} requests/day (from '{m.group(0)}')"
    t = _TOKENS.search(low)
    if t:
        tokens = int(_number(t.group(1), t.group(2)))
        if tokens > 0:
            profile["volume"]["input_tokens"] = tokens
            overrides["input_tokens"] = f"{tokens:,} input tokens/request (from '{t.group(0)}')"


def _worded(words: list[str], field: str, rules: tuple[tuple[V, str, tuple[str, ...]], ...], now: V,
            overrides: dict[str, str]) -> V | None:
    """The new value of ``field``: the first of ``rules`` other than ``now`` whose phrases the words
    contain (noted in ``overrides``); None when none does or the field was overridden before."""
    if field in overrides:
        return None
    for value, why, phrases in rules:
        hit = next((p for p in phrases if _contains(words, _words(p))), None)
        if hit and value != now:
            overrides[field] = f"{value} ({why}: '{hit}')"
            return value
    return None


def profile_for(uc: UseCase, *, query: str, how: str, confidence: float,
                terms: list[str] | None = None) -> Profile:
    return {**copy.deepcopy(uc), "query": query, "matched_by": how, "match_confidence": confidence,
            "terms": terms or [], "overrides": {}, "volume_source": "assumption"}


def parse(text: str, usecases: list[UseCase]) -> list[Profile]:
    """Profiles for free text; one per recognised fragment ("code review, docs and tests").
    Text that names no known use case gets the general profile at low confidence."""
    text = " ".join(text.split())
    if not text:
        return []
    parts = [p for p in _SPLIT.split(text) if p.strip()] or [text]
    found: list[Profile] = []
    for part in parts:
        uc, conf, hits = match(part, usecases)
        if uc is None:
            continue
        if any(f["id"] == uc["id"] for f in found):
            continue
        prof = profile_for(uc, query=part, how="keywords", confidence=conf, terms=hits)
        found.append(prof)
    if not found:
        uc = next(u for u in usecases if u["id"] == FALLBACK_ID)
        found.append(profile_for(uc, query=text, how="default", confidence=0.35))
    for prof in found:  # a fragment's own wording first, then wording anywhere (numbers stay local)
        apply_modifiers(prof, prof["query"])
        apply_modifiers(prof, text, volume=len(found) == 1)
    return found


def for_agent(agent_type: str, kind: str, usecases: list[UseCase]) -> str:
    """The use case a recorded agent belongs to: exact agent names first, then glob patterns."""
    if kind == "main":
        return "interactive-coding"
    low = agent_type.lower()
    for uc in usecases:
        if any(p.lower() == low for p in uc["agent_patterns"] if "*" not in p):
            return str(uc["id"])
    for uc in usecases:
        if any(wildcard_match(p.lower(), low) for p in uc["agent_patterns"] if "*" in p):
            return str(uc["id"])
    return FALLBACK_ID


def portfolio(ids: list[str] | tuple[str, ...], usecases: list[UseCase], how: str) -> list[Profile]:
    by_id = {u["id"]: u for u in usecases}
    conf = 0.9 if how == "records" else 0.6
    return [profile_for(by_id[i], query=by_id[i]["name"], how=how, confidence=conf) for i in ids if i in by_id]
