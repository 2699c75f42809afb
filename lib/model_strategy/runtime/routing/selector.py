"""Pick the model for one subagent spawn.

Inputs: the agent type (config map, then glob patterns), the task's complexity read from its
description and prompt (keywords and length), the profile (FAST / BALANCED / QUALITY), and any
model the caller set.  Output: a decision with a confidence and human-readable reasons.
Budget policy is applied afterwards (``budget.apply_policy``).  Standard library only.
"""

from __future__ import annotations

from model_strategy.runtime.base.kinds import EFFORTS, TIERS
from model_strategy.runtime.base.payload import prompt_hash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from model_strategy.runtime.base.decision import Decision, Source
    from model_strategy.runtime.base.payload import AgentInput
    from model_strategy.runtime.settings.values import Config


# (keyword, weight, label).  Positive weights push towards a bigger model.
_SIGNALS: tuple[tuple[str, float, str], ...] = (
    ("architect", 0.35, "architecture"),
    ("design", 0.22, "design work"),
    ("security", 0.35, "security"),
    ("vulnerab", 0.35, "security"),
    ("threat model", 0.35, "security"),
    ("race condition", 0.35, "concurrency"),
    ("concurren", 0.28, "concurrency"),
    ("deadlock", 0.35, "concurrency"),
    ("refactor", 0.25, "refactoring"),
    ("migrat", 0.25, "migration"),
    ("debug", 0.22, "debugging"),
    ("root cause", 0.3, "debugging"),
    ("optimi", 0.22, "optimisation"),
    ("performance", 0.2, "performance"),
    ("algorithm", 0.25, "algorithms"),
    ("prove", 0.3, "proof"),
    ("trade-off", 0.22, "trade-offs"),
    ("tradeoff", 0.22, "trade-offs"),
    ("complex", 0.18, "complex task"),
    ("implement", 0.15, "implementation"),
    ("review", 0.15, "review"),
    ("analy", 0.12, "analysis"),
    ("plan", 0.12, "planning"),
    ("multi-step", 0.15, "multi-step"),
    ("search", -0.25, "simple search"),
    ("find", -0.22, "simple search"),
    ("grep", -0.28, "simple search"),
    ("locate", -0.22, "simple search"),
    ("list ", -0.2, "listing"),
    ("look up", -0.22, "lookup"),
    ("lookup", -0.22, "lookup"),
    ("read ", -0.12, "reading"),
    ("summari", -0.15, "summary"),
    ("count", -0.15, "counting"),
    ("rename", -0.15, "mechanical edit"),
    ("format", -0.18, "formatting"),
    ("typo", -0.25, "mechanical edit"),
    ("check if", -0.15, "quick check"),
)


def complexity(description: str, prompt: str) -> tuple[float, list[str]]:
    """A 0..1 score and the labels of the signals that moved it."""
    text = f"{description}\n{prompt}".lower()
    score = 0.45
    labels: list[str] = []
    for word, weight, label in _SIGNALS:
        if word in text:
            score += weight
            if label not in labels:
                labels.append(label)
    # Length: long, detailed prompts tend to be harder tasks; very short ones are lookups.
    n = len(prompt)
    if n > 4000:
        score += 0.15
        labels.append("long prompt")
    elif n > 1500:
        score += 0.08
        labels.append("detailed prompt")
    elif n < 120:
        score -= 0.05
    steps = sum(prompt.count(m) for m in ("\n1.", "\n2.", "\n3.", "\n- ", "\n* "))
    if steps >= 4:
        score += 0.08
        labels.append("multi-step")
    return max(0.0, min(1.0, score)), labels


def wildcard_match(pattern: str, text: str) -> bool:
    """Glob match where only ``*`` is special (``fnmatch`` would import ``re``)."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return text == pattern
    if not text.startswith(parts[0]):
        return False
    pos = len(parts[0])
    for middle in parts[1:-1]:
        found = text.find(middle, pos)
        if found < 0:
            return False
        pos = found + len(middle)
    return len(text) - pos >= len(parts[-1]) and text.endswith(parts[-1])


def _agent_choice(agent_type: str, config: Config) -> tuple[str | None, str]:
    agents = config.get("agents", {})
    if agent_type in agents:
        return agents[agent_type], f"{agent_type} mapped to {agents[agent_type]}"
    low = agent_type.lower()
    for pattern, choice in config.get("agent_patterns", {}).items():
        if wildcard_match(pattern.lower(), low):
            return choice, f"{agent_type} matches {pattern} → {choice}"
    return None, ""


BANDS = ("simple", "moderate", "complex")


def _effort(decision: Decision, band: int, requested: str | None, config: Config) -> None:
    """Set ``effort`` (and ``requested_effort``) on a decision: the effort configured for the task's
    complexity band (``effort.simple`` / ``moderate`` / ``complex``; null leaves the agent's usual
    effort), unless the caller set one (kept unless ``override_explicit_effort``) or set the model
    (a spawn whose model the caller chose keeps its effort too)."""
    decision["requested_effort"] = requested
    configured = config.get("effort", {}).get(BANDS[band])
    configured = configured if configured in EFFORTS else None
    if decision["source"] == "explicit":
        decision["effort"] = requested
    elif requested and not config.get("override_explicit_effort", False):
        decision["effort"] = requested
        decision["reasons"].append(f"caller asked for {requested} effort; explicit efforts are respected")
    else:
        decision["effort"] = configured or requested
        if configured and configured != requested:
            decision["reasons"].append(f"{BANDS[band]} task → {configured} effort")


def decide(tool_input: AgentInput, config: Config) -> Decision:
    """The model decision for one spawn (ids and time are added when the session state keeps it),
    with the effort to run it at (``effort``; None: the agent's usual effort)."""
    out = _decide_model(tool_input, config)
    score = out["complexity"]
    simple_below = float(config.get("complexity", {}).get("simple_below", 0.35))
    complex_from = float(config.get("complexity", {}).get("complex_from", 0.7))
    band = 0 if score < simple_below else (2 if score >= complex_from else 1)
    effort = tool_input.get("effort")
    _effort(out, band, effort if isinstance(effort, str) and effort in EFFORTS else None, config)
    return out


def _decide_model(tool_input: AgentInput, config: Config) -> Decision:
    agent_type = str(tool_input.get("subagent_type") or "general-purpose")
    description = str(tool_input.get("description") or "")
    prompt = str(tool_input.get("prompt") or "")
    model = tool_input.get("model")
    requested = model if isinstance(model, str) else None
    profile = str(config.get("profile", "BALANCED")).upper()
    lo = TIERS.index(config.get("min_tier", "haiku"))
    hi = TIERS.index(config.get("max_tier", "opus"))
    score, labels = complexity(description, prompt)
    simple_below = float(config.get("complexity", {}).get("simple_below", 0.35))
    complex_from = float(config.get("complexity", {}).get("complex_from", 0.7))
    by_complexity = 0 if score < simple_below else (2 if score >= complex_from else 1)
    # distance from the nearest boundary → how sure the complexity reading is
    margin = min(abs(score - simple_below), abs(score - complex_from))
    reasons: list[str] = []
    what = ", ".join(labels[:2]) if labels else ("short task" if by_complexity == 0 else "general task")

    digest, background = prompt_hash(tool_input.get("prompt")), tool_input.get("run_in_background") is not False
    if requested and not config.get("override_explicit_model", False):
        return {
            "agent_type": agent_type, "requested": requested, "chosen": requested, "source": "explicit",
            "profile": profile, "confidence": 1.0, "complexity": round(score, 3),
            "reasons": [f"caller asked for {requested}; explicit models are respected"], "summary": "caller's choice",
            "budget_level": "ok", "prompt_hash": digest, "background": background, "effort": None,
            "requested_effort": None,  # set by _effort
        }

    choice, why = _agent_choice(agent_type, config)
    if choice and choice != "auto":
        idx = TIERS.index(choice)
        source: Source = "agent"
        reasons.append(why)
        confidence = 0.8
        if abs(by_complexity - idx) == 0:
            confidence += 0.1
            reasons.append(f"task complexity {score:.2f} agrees ({what})")
        elif score >= 0.85 and idx < 2:
            idx += 1
            confidence -= 0.15
            reasons.append(f"task complexity {score:.2f} is high ({what}): one tier up")
        elif score <= 0.15 and idx > 0:
            idx -= 1
            confidence -= 0.15
            reasons.append(f"task complexity {score:.2f} is low ({what}): one tier down")
        else:
            confidence -= 0.05
            reasons.append(f"task complexity {score:.2f} ({what}); agent mapping wins")
    else:
        idx = by_complexity
        source = "complexity"
        if why:
            reasons.append(why)
        reasons.append(f"task complexity {score:.2f} ({what}) → {TIERS[idx]}")
        confidence = 0.6 + min(margin, 0.3)

    if profile == "FAST" and idx > 0:
        idx -= 1
        reasons.append("profile FAST: one tier down")
    elif profile == "QUALITY" and idx < hi:
        idx += 1
        reasons.append("profile QUALITY: one tier up")
    clamped = max(lo, min(hi, idx))
    if clamped != idx:
        reasons.append(f"kept within {TIERS[lo]}..{TIERS[hi]}")
    chosen = TIERS[clamped]
    if requested:
        reasons.insert(0, f"caller asked for {requested}; config overrides explicit models")
    return {
        "agent_type": agent_type, "requested": requested, "chosen": chosen, "source": source,
        "profile": profile, "confidence": round(max(0.5, min(0.97, confidence)), 2),
        "complexity": round(score, 3), "reasons": reasons, "summary": what, "budget_level": "ok",
        "prompt_hash": digest, "background": background, "effort": None, "requested_effort": None,  # see _effort
    }
