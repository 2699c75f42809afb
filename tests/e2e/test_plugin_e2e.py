"""The real plugin inside the real Claude Code client, against the scripted fake API.

Each scenario asserts: the API saw the model the plugin chose for every subagent request; the
archives hold exactly one record per agent whose token sums equal what the fake API served; and
the recorded cost equals Claude Code's own ``modelUsage[model].costUSD`` (and, with the main thread
recorded too, its ``total_cost_usd``) to $0.000001.
"""

from __future__ import annotations

import json
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fakeapi import agent_call, read_call, text_turn, tool_turn, usage
from harness import REPO_ROOT

pytestmark = pytest.mark.e2e
sys.path.insert(0, str(REPO_ROOT / "lib"))
TOL = Decimal("0.000001")
MODEL = {"haiku": "claude-haiku-5-5", "sonnet": "claude-sonnet-5-5", "opus": "claude-opus-5-5"}


def plugin_env(data: Path) -> dict[str, str]:
    from sessionlab import venv_python

    return {"MODEL_STRATEGY_PYTHON": venv_python(), "MODEL_STRATEGY_DATA_DIR": str(data)}


def load_records(data: Path, kind: str | None = None) -> list[dict[str, Any]]:
    out = []
    for f in sorted((data / "daily").glob("*.json")):
        out += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return [r for r in out if kind is None or r["kind"] == kind]


def served(api: Any, matched_prefix: str) -> dict[str, int]:
    """Token sums the fake API served for requests matched to ``matched_prefix`` (e.g. 'sub:A')."""
    tot = {"input": 0, "output": 0, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0, "requests": 0}
    for r in api.messages_requests():
        if not str(r.get("matched", "")).startswith(matched_prefix) and r.get("matched") != matched_prefix:
            continue
        u = r["usage"]
        split = u.get("cache_creation") or {}
        tot["input"] += u.get("input_tokens", 0)
        tot["output"] += u.get("output_tokens", 0)
        tot["cache_read"] += u.get("cache_read_input_tokens", 0)
        tot["cache_write_5m"] += split.get("ephemeral_5m_input_tokens", 0)
        tot["cache_write_1h"] += split.get("ephemeral_1h_input_tokens", 0)
        tot["requests"] += 1
    return tot


def models_seen(api: Any, matched_prefix: str) -> set[str]:
    return {r["model"] for r in api.messages_requests() if str(r.get("matched", "")).startswith(matched_prefix)}


def assert_costs_match_client(result: dict[str, Any], records: list[dict[str, Any]], models: set[str]) -> None:
    for model in models:
        ours = sum((Decimal(r["models"][model]["cost_usd"]) for r in records if model in r["models"]), Decimal(0))
        theirs = Decimal(str(result["modelUsage"][model]["costUSD"]))
        assert abs(ours - theirs) <= TOL, (model, ours, theirs)


def subagent_scenario() -> dict[str, Any]:
    return {
        "main": [
            tool_turn(agent_call("A", "search the repo for config files", description="Find config files",
                                 subagent_type="Explore", run_in_background=False),
                      u=usage(500, 50)),
            tool_turn(agent_call("B", "refactor the parser module and update its tests",
                                 description="Refactor parser", run_in_background=False),
                      u=usage(800, 60, cache_read=2000)),
            text_turn("all done", usage(900, 40, cache_read=2500)),
        ],
        "subagents": {
            "A": [tool_turn(read_call(), u=usage(1000, 200, 3000, 100)),
                  tool_turn(read_call(), u=usage(1000, 200, 3000, 100)),
                  text_turn("A done", usage(1000, 200, 3000, 100))],
            "B": [tool_turn(read_call(), u=usage(2000, 300, 500, 0, 700)),
                  text_turn("B done", usage(2000, 300, 500))],
        },
    }


def test_two_foreground_subagents_routed_and_recorded(claude_env, fake_api) -> None:  # type: ignore[no-untyped-def]
    """Uses Claude Code's own CLAUDE_PLUGIN_DATA (no data-dir override)."""
    from sessionlab import venv_python

    api = fake_api(subagent_scenario())
    run = claude_env.run("[[SCENARIO:foreground]] go", api=api, plugin_dir=REPO_ROOT,
                         env={"MODEL_STRATEGY_PYTHON": venv_python()})
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    assert models_seen(api, "sub:A") == {MODEL["haiku"]}  # Explore → haiku
    assert models_seen(api, "sub:B") == {MODEL["sonnet"]}  # refactoring → sonnet
    data = claude_env.home / ".claude" / "plugins" / "data" / "model-strategy-inline"
    subs = load_records(data, "subagent")
    assert len(subs) == 2
    by_key = {("A" if r["agent_type"] == "Explore" else "B"): r for r in subs}
    for key in ("A", "B"):
        want = served(api, f"sub:{key}")
        rec = by_key[key]
        assert rec["requests"] == want.pop("requests")
        assert {k: rec["tokens"][k] for k in want} == want
        assert rec["model_mismatch"] is False and rec["decision"]["tool_use_id"] == rec["tool_use_id"]
    assert by_key["A"]["model_actual"] == MODEL["haiku"] and by_key["B"]["model_actual"] == MODEL["sonnet"]
    assert_costs_match_client(run.result, subs, {MODEL["haiku"], MODEL["sonnet"]})
    # the main thread is recorded too: all spend equals what the client says the session cost
    total = sum(Decimal(r["cost_usd"]) for r in load_records(data))
    assert abs(total - Decimal(str(run.result["total_cost_usd"]))) <= TOL


def test_background_subagent_recorded_once_from_its_transcript(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenario = {"main": [tool_turn(agent_call("B", "review the overall architecture for security risks",
                                              description="Review architecture"), u=usage(500, 50)),
                         text_turn("launched", usage(600, 20)), text_turn("all done", usage(700, 30))],
                "subagents": {"B": [tool_turn(read_call(), u=usage(2000, 300, 500)),
                                    text_turn("B done", usage(2000, 300, 500, 0, 400))]}}
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:bg]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data),
                         output="stream-json")
    assert run.returncode == 0 and run.result, run.describe()
    assert models_seen(api, "sub:B") == {MODEL["opus"]}  # architecture + security → opus
    (rec,) = load_records(data, "subagent")
    assert rec["background"] is True and rec["source"] == "SubagentStop"
    want = served(api, "sub:B")
    assert rec["requests"] == want.pop("requests") and {k: rec["tokens"][k] for k in want} == want
    notes = [e.get("content", "") for e in run.system_events("informational")]
    assert any("model-strategy: general-purpose → opus" in n for n in notes), notes
    total = sum(Decimal(r["cost_usd"]) for r in load_records(data))
    assert abs(total - Decimal(str(run.result["total_cost_usd"]))) <= TOL


def test_three_parallel_spawns(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    calls = [agent_call(k, p, description=d, run_in_background=bg) for k, p, d, bg in [
        ("A", "find the config loader", "Find loader", False),
        ("B", "implement retry logic in the HTTP client", "Implement retries", True),
        ("C", "list the markdown files", "List docs", False)]]
    scenario = {"main": [tool_turn(*calls, u=usage(700, 90)), text_turn("done", usage(800, 20)),
                         text_turn("all done", usage(800, 20))],
                "subagents": {k: [tool_turn(read_call(), u=usage(1500, 100, 1000)), text_turn(f"{k} done",
                                                                                            usage(1600, 120))]
                              for k in "ABC"}}
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:par]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data))
    assert run.returncode == 0 and run.result, run.describe()
    assert models_seen(api, "sub:A") == {MODEL["haiku"]} and models_seen(api, "sub:C") == {MODEL["haiku"]}
    assert models_seen(api, "sub:B") == {MODEL["sonnet"]}
    subs = load_records(data, "subagent")
    assert len(subs) == 3 and len({r["agent_id"] for r in subs}) == 3
    assert sum(r["requests"] for r in subs) == 6
    assert_costs_match_client(run.result, subs, {MODEL["haiku"], MODEL["sonnet"]})
    (state_file,) = (data / "sessions").glob("*.json")
    session = json.loads(state_file.read_text())
    assert len(session["decisions"]) == 3 and len(session["recorded"]) == 3


def test_caller_set_model_is_respected(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenario = {"main": [tool_turn(agent_call("A", "search for the config file", model="opus",
                                              run_in_background=False), u=usage(500, 50)),
                         text_turn("all done", usage(600, 20))],
                "subagents": {"A": [text_turn("A done", usage(1200, 80))]}}
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:explicit]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data))
    assert run.returncode == 0, run.describe()
    assert models_seen(api, "sub:A") == {MODEL["opus"]}
    (rec,) = load_records(data, "subagent")
    assert rec["decision"]["source"] == "explicit" and rec["model_requested"] == "opus"


def test_broken_hook_stdin_fails_open(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A PreToolUse that receives garbage: the spawn runs unchanged and the user sees one line."""
    plugin = tmp_path / "plugin"
    shutil.copytree(REPO_ROOT, plugin, ignore=shutil.ignore_patterns(".cache", ".git", "tests", "__pycache__"))
    hooks = json.loads((plugin / "hooks" / "hooks.json").read_text())
    hooks["hooks"]["PreToolUse"][0]["hooks"][0]["command"] = (
        "echo '{\"tool_input\": {broken' | \"${CLAUDE_PLUGIN_ROOT}/hooks/run\" pre_tool_use")
    (plugin / "hooks" / "hooks.json").write_text(json.dumps(hooks))
    scenario = {"main": [tool_turn(agent_call("A", "search for the config file", run_in_background=False),
                                   u=usage(500, 50)), text_turn("all done", usage(600, 20))],
                "subagents": {"A": [text_turn("A done", usage(1200, 80))]}}
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:broken]] go", api=api, plugin_dir=plugin, env=plugin_env(data),
                         output="stream-json")
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    assert models_seen(api, "sub:A") == {MODEL["opus"]}  # unchanged: inherits the main model
    notes = [e.get("content", "") for e in run.system_events("informational")]
    assert any("pre_tool_use hook got unreadable input" in n for n in notes), notes
    (rec,) = load_records(data, "subagent")  # still recorded, just without a decision
    assert rec["decision"] is None and rec["model_actual"] == MODEL["opus"]
