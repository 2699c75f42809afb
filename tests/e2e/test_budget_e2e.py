"""Budgets acting inside a real Claude Code session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fakeapi import agent_call, text_turn, tool_turn, usage
from harness import REPO_ROOT
from test_plugin_e2e import MODEL, load_records, models_seen, plugin_env

pytestmark = pytest.mark.e2e


def prefill(data: Path, spent: str, budgets: dict[str, object]) -> None:
    """A day that already spent ``spent`` dollars, and the user's budget settings."""
    data.mkdir(parents=True, exist_ok=True)
    (data / "config.json").write_text(json.dumps({"budgets": {"timezone": "UTC", **budgets}}))
    old = os.environ.get("MODEL_STRATEGY_DATA_DIR")
    os.environ["MODEL_STRATEGY_DATA_DIR"] = str(data)
    try:
        from model_strategy.runtime.books.ledger import Ledger
        from model_strategy.runtime.settings import config
        from synthrecords import spend

        _, warnings = config.load(None)
        assert warnings == []
        spend(Ledger(), spent)
    finally:
        if old is None:
            del os.environ["MODEL_STRATEGY_DATA_DIR"]
        else:
            os.environ["MODEL_STRATEGY_DATA_DIR"] = old


def complex_spawn() -> dict[str, object]:
    return {"main": [tool_turn(agent_call("A", "review the auth architecture for security vulnerabilities",
                                          description="Security review", run_in_background=False),
                               u=usage(500, 50)),
                     text_turn("all done", usage(600, 20))],
            "subagents": {"A": [text_turn("A done", usage(4000, 400, 2000))]}}


def test_nearly_used_budget_warns_and_downgrades(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    prefill(data, "7.50", {"daily_usd": "10"})
    api = fake_api(complex_spawn())
    run = claude_env.run("[[SCENARIO:budget]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data),
                         output="stream-json")
    assert run.returncode == 0 and run.result, run.describe()
    assert models_seen(api, "sub:A") == {MODEL["sonnet"]}  # opus wanted; the warning level drops one tier
    notes = "\n".join(e.get("content", "") for e in run.system_events("informational"))
    assert ("model-strategy: general-purpose → opus → sonnet (daily budget 75% ($7.50 of $10.00), policy downgrade"
            in notes)
    # crossing 75 % happened before this session (prefill); the spend of this session is recorded on top
    (rec,) = load_records(data, "subagent")
    assert rec["decision"]["source"] == "budget" and rec["decision"]["budget_level"] == "warning"


def test_threshold_crossing_is_announced_once(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    prefill(data, "0.0495", {"daily_usd": "0.10"})  # 49.5 %: the session's own spend crosses 50 %
    api = fake_api(complex_spawn())
    run = claude_env.run("[[SCENARIO:budget]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data),
                         output="stream-json")
    assert run.returncode == 0 and run.result, run.describe()
    notes = [e.get("content", "") for e in run.system_events("informational")]
    crossings = [n for n in notes if "daily budget" in n and "forecast $" in n and "by midnight" in n]
    assert len(crossings) == 1, notes


def test_deny_policy_stops_the_spawn_with_the_reason(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    prefill(data, "10.20", {"daily_usd": "10", "policy": {"exceeded": "deny"}})
    api = fake_api(complex_spawn())
    run = claude_env.run("[[SCENARIO:budget]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data),
                         output="stream-json")
    assert run.returncode == 0 and run.result, run.describe()
    assert models_seen(api, "sub:A") == set()  # the subagent never ran
    denials = run.result.get("permission_denials") or []
    assert denials and denials[0]["tool_name"] in ("Agent", "Task")
    blob = json.dumps(run.events)
    assert "daily budget 102% ($10.20 of $10.00); the budget policy denies new agents" in blob
    assert load_records(data, "subagent") == []
