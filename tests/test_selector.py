"""Model selection: agent map, complexity, profile, explicit models."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.runtime.base import paths
from model_strategy.runtime.routing import selector

DEFAULTS: dict[str, Any] = json.loads(Path(paths.defaults_file()).read_text())


def cfg(**changes: Any) -> dict[str, Any]:
    c = copy.deepcopy(DEFAULTS)
    c.update(changes)
    return c


def spawn(agent: str = "general-purpose", description: str = "", prompt: str = "", **extra: Any) -> dict[str, Any]:
    return {"subagent_type": agent, "description": description, "prompt": prompt, **extra}


@pytest.mark.parametrize(("tool_input", "expected"), [
    (spawn("Explore", "Find config files", "search the repo for config files"), "haiku"),
    (spawn("general-purpose", "Find config files", "search the repo for config files"), "haiku"),
    (spawn("general-purpose", "Refactor parser", "refactor the parser module and fix the tests"), "sonnet"),
    (spawn("general-purpose", "Security review", "review the auth architecture for vulnerabilities "
                                                 "and race conditions; design a migration plan"), "opus"),
    (spawn("Plan", "Plan the release", "plan the next release"), "opus"),
    (spawn("code-reviewer", "Review PR", "review the diff"), "sonnet"),
    (spawn("security-auditor", "Audit", "audit dependencies"), "opus"),
    (spawn("test-runner", "Run tests", "run the test suite and report failures"), "haiku"),
])
def test_balanced_choices(tool_input: dict[str, Any], expected: str) -> None:
    assert selector.decide(tool_input, cfg())["chosen"] == expected


def test_profiles_shift_one_tier() -> None:
    task = spawn("general-purpose", "Refactor parser", "refactor the parser module")
    assert selector.decide(task, cfg(profile="FAST"))["chosen"] == "haiku"
    assert selector.decide(task, cfg(profile="BALANCED"))["chosen"] == "sonnet"
    assert selector.decide(task, cfg(profile="QUALITY"))["chosen"] == "opus"
    high = selector.decide(task, cfg(profile="QUALITY", max_tier="sonnet"))
    assert high["chosen"] == "sonnet"


def test_explicit_model_respected_unless_configured() -> None:
    task = spawn("Explore", "find", "find files", model="opus")
    d = selector.decide(task, cfg())
    assert d["chosen"] == "opus" and d["source"] == "explicit" and d["confidence"] == 1.0
    d = selector.decide(task, cfg(override_explicit_model=True))
    assert d["chosen"] == "haiku" and "config overrides explicit models" in d["reasons"][0]


def test_decision_has_reasons_and_summary() -> None:
    d = selector.decide(spawn("Explore", "Find config files", "search the repo"), cfg())
    assert d["reasons"] and all(isinstance(r, str) for r in d["reasons"])
    assert d["summary"] == "simple search" and 0.5 <= d["confidence"] <= 0.97


@pytest.mark.parametrize(("pattern", "text", "ok"), [
    ("*review*", "code-reviewer", True), ("*review*", "reviewer", True), ("*review*", "rev", False),
    ("test-*", "test-runner", True), ("test-*", "my-test-runner", False), ("a*b*c", "axxbyyc", True),
    ("a*b*c", "acb", False), ("exact", "exact", True), ("*", "", True), ("a*a", "a", False),
])
def test_wildcard_match(pattern: str, text: str, ok: bool) -> None:
    import fnmatch

    assert selector.wildcard_match(pattern, text) is ok is fnmatch.fnmatchcase(text, pattern)


@settings(max_examples=200, deadline=None)
@given(agent=st.text(max_size=30), description=st.text(max_size=200), prompt=st.text(max_size=3000),
       profile=st.sampled_from(["FAST", "BALANCED", "QUALITY"]))
def test_any_input_gives_a_valid_decision(agent: str, description: str, prompt: str, profile: str) -> None:
    d = selector.decide(spawn(agent or "x", description, prompt), cfg(profile=profile))
    assert d["chosen"] in ("haiku", "sonnet", "opus")
    assert 0 <= d["complexity"] <= 1 and 0.5 <= d["confidence"] <= 1


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=500))
def test_more_complex_words_never_lower_the_tier(prompt: str) -> None:
    base = selector.decide(spawn("general-purpose", "", prompt), cfg())
    harder = selector.decide(spawn("general-purpose", "", prompt + " architecture security race condition"),
                             cfg())
    assert selector.TIERS.index(harder["chosen"]) >= selector.TIERS.index(base["chosen"])


def test_effort_follows_the_complexity_band() -> None:
    simple = selector.decide(spawn("Explore", "find", "find the config file"), cfg())
    assert simple["chosen"] == "haiku" and simple["effort"] == "low" and simple["requested_effort"] is None
    assert "simple task → low effort" in simple["reasons"]
    complex_ = selector.decide(spawn("general-purpose", "Design", "design the architecture for auth with a threat "
                                                                  "model and security review"), cfg())
    assert complex_["chosen"] == "opus" and complex_["effort"] == "high"
    moderate = selector.decide(spawn("general-purpose", "Refactor parser", "refactor the parser module"), cfg())
    assert moderate["chosen"] == "sonnet" and moderate["effort"] is None  # null: the agent's usual effort
    off = selector.decide(spawn("Explore", "find", "find the config file"),
                          cfg(effort={"simple": None, "moderate": None, "complex": None}))
    assert off["effort"] is None


def test_explicit_effort_respected_unless_configured() -> None:
    task = spawn("Explore", "find", "find files", effort="max")
    d = selector.decide(task, cfg())
    assert d["effort"] == "max" and d["requested_effort"] == "max" and d["chosen"] == "haiku"
    d = selector.decide(task, cfg(override_explicit_effort=True))
    assert d["effort"] == "low" and d["requested_effort"] == "max"
    # a model the caller chose leaves the spawn alone: no effort added
    d = selector.decide(spawn("Explore", "find", "find files", model="opus"), cfg())
    assert d["chosen"] == "opus" and d["effort"] is None
    d = selector.decide(spawn("Explore", "find", "find files", effort="bogus"), cfg())
    assert d["effort"] == "low" and d["requested_effort"] is None
