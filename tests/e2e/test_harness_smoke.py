"""Prove the harness against the real Claude Code client (offline, fake API, throwaway probe plugin).

Each test starts its own fake API + generates its own probe plugin into tmp_path.  These tests also pin
the client facts documented in FACTS.md, so a client upgrade that changes them fails loudly here.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from fakeapi import agent_call, read_call, text_turn, tool_turn, usage
from harness import assistant_entries, make_probe_plugin

pytestmark = pytest.mark.e2e

MAIN = "claude-opus-5-5"  # default main-thread model of 2.1.332
HAIKU = "claude-haiku-5-5"
SONNET = "claude-sonnet-5-5"
FABLE = "claude-fable-5-2"

# $/MTok (genai-prices 0.2.3): input, output, cache read, cache write 5m, cache write 1h
PRICES: dict[str, dict[str, float]] = {
    MAIN: dict(inp=4, out=20, cr=0.2, c5=5, c1h=8),
    SONNET: dict(inp=2, out=10, cr=0.1, c5=2.5, c1h=4),
    FABLE: dict(inp=8, out=40, cr=0.2, c5=10, c1h=16),
    HAIKU: dict(inp=0.1, out=0.5, cr=0.01, c5=0.125, c1h=0.2),
}
# claude-haiku-5-5 long-context tier: every token of a request whose prompt (input + cache read + cache
# write) exceeds 100_000 is billed at 5x.  The client applies it per request (verified below).
HAIKU_TIER = dict(threshold=100_000, inp=0.5, out=2.5, cr=0.05, c5=0.625, c1h=1.0)


def request_cost(model: str, u: dict[str, Any]) -> float:
    cc = u.get("cache_creation") or {}
    c5 = cc.get("ephemeral_5m_input_tokens", 0)
    c1h = cc.get("ephemeral_1h_input_tokens", 0)
    if not cc:
        c5 = u.get("cache_creation_input_tokens", 0)
    p = PRICES[model]
    prompt = u["input_tokens"] + u.get("cache_read_input_tokens", 0) + u.get("cache_creation_input_tokens", 0)
    if model == HAIKU and prompt > HAIKU_TIER["threshold"]:
        p = HAIKU_TIER
    return (
        u["input_tokens"] * p["inp"]
        + u["output_tokens"] * p["out"]
        + u.get("cache_read_input_tokens", 0) * p["cr"]
        + c5 * p["c5"]
        + c1h * p["c1h"]
    ) / 1e6


def expected_usage(api) -> dict[str, dict[str, float]]:
    """Per model totals of what the fake API served (tokens + expected cost)."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in api.messages_requests():
        u, m = r["usage"], r["model"]
        t = out[m]
        t["inputTokens"] += u["input_tokens"]
        t["outputTokens"] += u["output_tokens"]
        t["cacheReadInputTokens"] += u["cache_read_input_tokens"]
        t["cacheCreationInputTokens"] += u["cache_creation_input_tokens"]
        t["costUSD"] += request_cost(m, u)
    return out


def assert_model_usage_matches(result: dict[str, Any], api) -> None:
    exp = expected_usage(api)
    mu = result["modelUsage"]
    assert set(mu) == set(exp), (mu.keys(), exp.keys())
    for model, e in exp.items():
        for k in ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheCreationInputTokens"):
            assert mu[model][k] == e[k], (model, k, mu[model][k], e[k])
        assert mu[model]["costUSD"] == pytest.approx(e["costUSD"], rel=1e-9, abs=1e-12), model
    assert result["total_cost_usd"] == pytest.approx(sum(e["costUSD"] for e in exp.values()), rel=1e-9)


def turns(api, conv: str) -> list[int]:
    return [r["turn"] for r in api.scripted(conv)]


# ---------------------------------------------------------------------------------------------
# (a) one foreground subagent of 3 turns
# ---------------------------------------------------------------------------------------------


def test_foreground_subagent_three_turns(claude_env, fake_api, tmp_path: Path) -> None:
    probe = make_probe_plugin(tmp_path / "probe")
    api = fake_api(
        {
            "main": [
                tool_turn(agent_call("A", "search the repo", model="haiku", run_in_background=False), u=usage(500, 50)),
                text_turn("final answer", usage(600, 40, cache_read=200)),
            ],
            "subagents": {
                "A": [
                    tool_turn(read_call(), u=usage(1000, 200, 3000, 100)),
                    tool_turn(read_call(), u=usage(1100, 210, 3100, 0, 50)),
                    text_turn("subagent A done", usage(1200, 220, 3200, 100)),
                ]
            },
        }
    )
    run = claude_env.run("[[SCENARIO:fg]] please start", api=api, plugin_dir=probe.root)
    assert run.ok, run.describe()
    res = run.result
    assert res["result"] == "final answer"
    assert res["subagent_stats"]["requested"]["foreground"] == 1
    assert res["subagent_stats"]["started_in_background"] == 0

    # the fake API saw exactly the scripted turns, subagent on haiku, main on the default model
    assert turns(api, "main") == [0, 1]
    assert turns(api, "A") == [0, 1, 2]
    assert {r["model"] for r in api.scripted("main")} == {MAIN}
    assert {r["model"] for r in api.scripted("A")} == {HAIKU}
    assert not api.messages_requests("unscripted") and not api.messages_requests("extra")
    assert all(r["stream"] for r in api.messages_requests())
    assert_model_usage_matches(res, api)

    # hook order: SubagentStop fires for foreground agents too, *before* PostToolUse(Agent)
    seq = probe.sequence()
    assert seq == [
        "SessionStart",
        "PreToolUse:Agent",
        "SubagentStart",
        "PostToolUse:Read",
        "PostToolUse:Read",
        "SubagentStop",
        "PostToolUse:Agent",
        "Stop",
    ], seq
    stop = probe.records("SubagentStop")[0]
    post = probe.records("PostToolUse")[-1]
    assert post["tool_name"] == "Agent" and post["tool_response"]["status"] == "completed"
    agent_id = post["tool_response"]["agentId"]
    assert stop["agent_id"] == agent_id
    # agent transcript complete at SubagentStop and at PostToolUse (derived path)
    assert stop["_agent_transcript"]["n_assistant"] == 3
    derived = post["_agent_transcript_derived"]
    assert derived["exists"] and derived["n_assistant"] == 3
    assert derived["path"] == stop["agent_transcript_path"]
    # <session>/subagents/agent-<id>.meta.json links the agent to the PreToolUse tool_use_id (absent at SubagentStart)
    pre = probe.records("PreToolUse")[0]
    assert stop["_agent_meta"]["toolUseId"] == pre["tool_use_id"] == post["tool_use_id"]
    assert stop["_agent_meta"]["model"] == "haiku" and stop["_agent_meta"]["requestShape"] == "foreground"
    assert "error" in probe.records("SubagentStart")[0]["_agent_meta"]
    # PostToolUse usage covers the agent's LAST turn only
    assert post["tool_response"]["usage"]["input_tokens"] == 1200
    assert post["tool_response"]["resolvedModel"] == HAIKU
    # the transcript on disk carries the served usage/model
    ents = assistant_entries(stop["agent_transcript_path"])
    assert [e["message"]["usage"]["input_tokens"] for e in ents] == [1000, 1100, 1200]
    assert {e["message"]["model"] for e in ents} == {HAIKU}
    # plugin env
    assert stop["_env"]["CLAUDE_PLUGIN_ROOT"] == str(probe.root)
    assert stop["_env"]["CLAUDE_PLUGIN_DATA"] == str(claude_env.home / ".claude" / "plugins" / "data" / "probe-inline")


# ---------------------------------------------------------------------------------------------
# (b) one background subagent of 2 turns
# ---------------------------------------------------------------------------------------------


def test_background_subagent_two_turns(claude_env, fake_api, tmp_path: Path) -> None:
    probe = make_probe_plugin(tmp_path / "probe")
    api = fake_api(
        {
            "main": [
                tool_turn(agent_call("B", "review", model="haiku", run_in_background=True), u=usage(500, 50)),
                text_turn("launched; waiting", usage(600, 60)),
            ],
            "subagents": {
                "B": [
                    tool_turn(read_call(), u=usage(2000, 300, 500)),
                    text_turn("subagent B done", usage(2000, 300, 500)),
                ]
            },
        },
        extra_main_turn=text_turn("all done", usage(11, 5)),
    )
    run = claude_env.run("[[SCENARIO:bg]] please start", api=api, plugin_dir=probe.root, output="stream-json")
    assert run.ok, run.describe()
    assert turns(api, "main") == [0, 1]
    assert turns(api, "B") == [0, 1]
    # after the agent finishes the client injects a <task-notification> and asks the main thread again
    extra = api.messages_requests("extra_main")
    assert len(extra) == 1 and "<task-notification>" in extra[0]["last_user_text"]
    # stream-json: two result events; the last (json output shows this one) answers the notification
    results = run.results
    assert [r["result"] for r in results] == ["launched; waiting", "all done"]
    assert results[-1]["origin"]["kind"] == "task-notification"
    assert results[0]["total_cost_usd"] == results[-1]["total_cost_usd"]  # session totals
    assert_model_usage_matches(results[-1], api)

    post = probe.records("PostToolUse")[0]
    assert post["tool_name"] == "Agent" and post["tool_response"]["status"] == "async_launched"
    assert "usage" not in post["tool_response"]
    # at launch the agent transcript is usually not written yet -- usually: on a loaded machine the agent can
    # get there first, so the plugin never relies on either (PostToolUse(async) only links agent and spawn)
    stop = probe.records("SubagentStop")
    assert len(stop) == 1 and stop[0]["agent_id"] == post["tool_response"]["agentId"]
    assert stop[0]["_agent_transcript"]["n_assistant"] == 2  # complete when SubagentStop fires
    seq = probe.sequence()
    assert seq.index("SubagentStop") > seq.index("PostToolUse:Agent")
    assert seq[-1] == "Stop" and seq.count("Stop") == 2  # Stop after turn 1 (agent running) and after notification
    assert probe.records("Stop")[0]["background_tasks"][0]["status"] == "running"


# ---------------------------------------------------------------------------------------------
# (c) three parallel subagents
# ---------------------------------------------------------------------------------------------


def test_three_parallel_subagents(claude_env, fake_api, tmp_path: Path) -> None:
    probe = make_probe_plugin(tmp_path / "probe")
    api = fake_api(
        {
            "main": [
                tool_turn(
                    agent_call("X", "one", model="haiku", run_in_background=False),
                    agent_call("Y", "two", model="sonnet", run_in_background=False),
                    agent_call("Z", "three", run_in_background=False),
                    u=usage(700, 90),
                ),
                text_turn("merged", usage(900, 30)),
            ],
            "subagents": {
                "X": [tool_turn(read_call(), u=usage(300, 30)), text_turn("X done", usage(310, 31))],
                "Y": [text_turn("Y done", usage(400, 40, cache_5m=1000))],
                "Z": [tool_turn(read_call(), u=usage(500, 50, cache_read=5000)), text_turn("Z done", usage(510, 51))],
            },
        }
    )
    run = claude_env.run("[[SCENARIO:par]] go", api=api, plugin_dir=probe.root)
    assert run.ok, run.describe()
    assert run.result["result"] == "merged"
    assert turns(api, "main") == [0, 1]
    assert turns(api, "X") == [0, 1] and turns(api, "Y") == [0] and sorted(turns(api, "Z")) == [0, 1]
    assert {r["model"] for r in api.scripted("X")} == {HAIKU}
    assert {r["model"] for r in api.scripted("Y")} == {SONNET}
    assert {r["model"] for r in api.scripted("Z")} == {MAIN}  # no model -> inherits the main model
    assert_model_usage_matches(run.result, api)
    assert run.result["subagent_stats"]["spawned"] == 3
    assert len(probe.records("SubagentStart")) == 3
    assert len(probe.records("SubagentStop")) == 3
    posts = [r for r in probe.records("PostToolUse") if r["tool_name"] == "Agent"]
    assert len(posts) == 3
    assert sorted(p["tool_response"]["resolvedModel"] for p in posts) == sorted([HAIKU, SONNET, MAIN])
    # per agent: its SubagentStop fires before its PostToolUse(Agent) (stops and posts of different agents interleave)
    recs = probe.records()
    for p in posts:
        aid = p["tool_response"]["agentId"]
        i_stop = next(i for i, r in enumerate(recs) if r["hook_event_name"] == "SubagentStop" and r["agent_id"] == aid)
        i_post = next(
            i
            for i, r in enumerate(recs)
            if r["hook_event_name"] == "PostToolUse" and (r.get("tool_response") or {}).get("agentId") == aid
        )
        assert i_stop < i_post
        assert p["_agent_transcript_derived"]["n_assistant"] == len(
            api.scripted({"claude-haiku-5-5": "X", SONNET: "Y", MAIN: "Z"}[p["tool_response"]["resolvedModel"]])
        )


# ---------------------------------------------------------------------------------------------
# PreToolUse routing + systemMessage
# ---------------------------------------------------------------------------------------------


def test_pretooluse_updated_input_routes_subagent_to_haiku(claude_env, fake_api, tmp_path: Path) -> None:
    probe = make_probe_plugin(tmp_path / "probe", actions={"PreToolUse": {"tool": "Agent", "set_model": "haiku"}})
    api = fake_api(
        {
            "main": [tool_turn(agent_call("A", "no model given", run_in_background=False)), text_turn("final")],
            "subagents": {"A": [tool_turn(read_call()), text_turn("A done")]},
        }
    )
    run = claude_env.run("[[SCENARIO:route]] go", api=api, plugin_dir=probe.root)
    assert run.ok, run.describe()
    assert "model" not in probe.records("PreToolUse")[0]["tool_input"]
    assert {r["model"] for r in api.scripted("A")} == {HAIKU}
    assert {r["model"] for r in api.scripted("main")} == {MAIN}
    post = next(r for r in probe.records("PostToolUse") if r["tool_name"] == "Agent")
    assert post["tool_input"]["model"] == "haiku"  # PostToolUse sees the *updated* input
    assert post["tool_response"]["resolvedModel"] == HAIKU
    assert_model_usage_matches(run.result, api)


def test_hook_system_message_is_a_stream_event(claude_env, fake_api, tmp_path: Path) -> None:
    probe = make_probe_plugin(
        tmp_path / "probe",
        actions={"PreToolUse": {"tool": "Agent", "set_model": "haiku", "system_message": "PROBE: routed to haiku"}},
    )
    api = fake_api(
        {
            "main": [tool_turn(agent_call("A", "x", run_in_background=False)), text_turn("final")],
            "subagents": {"A": [text_turn("A done")]},
        }
    )
    run = claude_env.run("[[SCENARIO:sysmsg]] go", api=api, plugin_dir=probe.root, output="stream-json")
    assert run.ok, run.describe()
    infos = [e for e in run.system_events("informational") if "PROBE: routed to haiku" in e.get("content", "")]
    assert len(infos) == 1, run.system_events()
    assert infos[0]["content"] == "PreToolUse:Agent says: PROBE: routed to haiku"
    assert infos[0]["level"] == "notice"
    pre = run.hook_responses("PreToolUse")
    assert pre and pre[0]["hook_name"] == "PreToolUse:Agent" and pre[0]["outcome"] == "success"
    assert {r["model"] for r in api.scripted("A")} == {HAIKU}
    # the systemMessage is NOT sent to the model
    assert all("PROBE: routed" not in json.dumps(r["body"]["messages"]) for r in api.messages_requests())


# ---------------------------------------------------------------------------------------------
# client facts used by the plugin design
# ---------------------------------------------------------------------------------------------


def test_model_aliases_resolve(claude_env, fake_api, tmp_path: Path) -> None:
    aliases = {"H": "haiku", "S": "sonnet", "O": "opus", "F": "fable"}
    api = fake_api(
        {
            "main": [
                tool_turn(*[agent_call(k, "x", model=m, run_in_background=False) for k, m in aliases.items()]),
                text_turn("final"),
            ],
            "subagents": {k: [text_turn(f"{k} done")] for k in aliases},
        }
    )
    run = claude_env.run("[[SCENARIO:alias]] go", api=api)
    assert run.ok, run.describe()
    got = {k: {r["model"] for r in api.scripted(k)} for k in aliases}
    assert got == {"H": {HAIKU}, "S": {SONNET}, "O": {MAIN}, "F": {FABLE}}
    assert_model_usage_matches(run.result, api)


def test_client_cost_long_context_tier_and_1h_cache(claude_env, fake_api) -> None:
    """costUSD applies the haiku >100k tier per request and prices 1h cache writes at 2x input."""
    api = fake_api(
        {
            "main": [
                tool_turn(
                    agent_call("T", "tier", model="haiku", run_in_background=False),
                    agent_call("N", "normal", model="haiku", run_in_background=False),
                    u=usage(10, 1),
                ),
                text_turn("final", usage(1000, 100, cache_1h=10000)),
            ],
            "subagents": {
                "T": [text_turn("T", usage(150_000, 1000))],  # tier: 0.075 + 0.0025
                "N": [tool_turn(read_call(), u=usage(60_000, 1000)), text_turn("N", usage(60_000, 1000))],  # 2 x base
            },
        }
    )
    run = claude_env.run("[[SCENARIO:tier]] go", api=api)
    assert run.ok, run.describe()
    haiku = run.result["modelUsage"][HAIKU]
    tier_formula = 150_000 * 0.5e-6 + 1000 * 2.5e-6
    base_formula = 150_000 * 0.1e-6 + 1000 * 0.5e-6
    n_cost = 2 * (60_000 * 0.1e-6 + 1000 * 0.5e-6)
    assert haiku["costUSD"] == pytest.approx(tier_formula + n_cost)
    assert haiku["costUSD"] != pytest.approx(base_formula + n_cost)
    main = run.result["modelUsage"][MAIN]
    assert main["cacheCreationEphemeral1hInputTokens"] == 10000
    assert main["costUSD"] == pytest.approx((10 * 4 + 1 * 20) / 1e6 + (1000 * 4 + 100 * 20 + 10000 * 8) / 1e6)
    assert_model_usage_matches(run.result, api)


@pytest.mark.parametrize(
    "name, action, timeouts, subagent_ran, expect",
    [
        (
            "deny",
            {
                "json": {
                    "hookSpecificOutput": {
                        "hookEventName": "PreToolUse",
                        "permissionDecision": "deny",
                        "permissionDecisionReason": "PROBE: too expensive",
                    }
                }
            },
            None,
            False,
            "PreToolUse:Agent hook error: PROBE: too expensive",
        ),
        ("exit2", {"stderr": "PROBE: blocked by exit 2", "exit": 2}, None, False, "PROBE: blocked by exit 2"),
        ("not-json", {"stdout": "this is not json", "set_model": None}, None, True, None),
        ("exit1", {"stderr": "PROBE: crashed", "exit": 1}, None, True, None),
        ("exit1-json", {"set_model": "haiku", "exit": 1}, None, True, None),
        ("timeout", {"sleep": 5, "set_model": "haiku"}, {"PreToolUse": 1}, True, None),
    ],
)
def test_pretooluse_failure_modes(claude_env, fake_api, tmp_path, name, action, timeouts, subagent_ran, expect) -> None:
    probe = make_probe_plugin(
        tmp_path / "probe", actions={"PreToolUse": {"tool": "Agent", **action}}, timeouts=timeouts
    )
    api = fake_api(
        {
            "main": [tool_turn(agent_call("A", "x", run_in_background=False)), text_turn("final")],
            "subagents": {"A": [text_turn("A done")]},
        }
    )
    run = claude_env.run(f"[[SCENARIO:{name}]] go", api=api, plugin_dir=probe.root, output="stream-json")
    assert run.ok, run.describe()
    assert run.result["result"] == "final"
    assert bool(api.scripted("A")) is subagent_ran
    tool_result = api.scripted("main")[1]["body"]["messages"][-1]["content"][0]
    denials = run.result["permission_denials"]
    if expect:
        assert tool_result["is_error"] is True and expect in tool_result["content"]
        assert denials and denials[0]["tool_name"] == "Task" and denials[0]["tool_use_id"] == tool_result["tool_use_id"]
    else:
        assert not tool_result.get("is_error") and not denials
    resp = run.hook_responses("PreToolUse")[0]
    if name == "exit1-json":  # JSON stdout is honoured even with a non-blocking error exit code
        assert resp["exit_code"] == 1 and resp["outcome"] == "error"
        assert {r["model"] for r in api.scripted("A")} == {HAIKU}
    if name == "timeout":  # timed-out hook: output ignored, tool runs, warning event
        assert resp["outcome"] == "cancelled"
        assert {r["model"] for r in api.scripted("A")} == {MAIN}
        warn = [e for e in run.system_events("informational") if e.get("tag") == "hook_no_verdict"]
        assert warn and warn[0]["hook_no_verdict"]["timed_out"] is True
    if name == "not-json":
        assert resp["outcome"] == "success" and resp["stdout"] == "this is not json"


def test_plugin_command_bang_substitution(claude_env, fake_api, tmp_path: Path) -> None:
    probe = make_probe_plugin(tmp_path / "probe")
    (probe.root / "show.py").write_text(
        "import os, sys\nprint('SHOW argv=' + repr(sys.argv[1:]))\n"
        "print('SHOW env=' + repr(sorted(k for k in os.environ if k.startswith('CLAUDE_PLUGIN'))))\n"
    )
    probe.add_command(
        "hello",
        "---\ndescription: probe hello\nallowed-tools: Bash(python3:*)\n---\n"
        "!`echo HELLO ${CLAUDE_PLUGIN_ROOT} ${CLAUDE_PLUGIN_DATA}`\n"
        '!`python3 ${CLAUDE_PLUGIN_ROOT}/show.py "$ARGUMENTS"`\n'
        "root=${CLAUDE_PLUGIN_ROOT} args=[$ARGUMENTS] first=[$ARGUMENTS[0]]\n",
    )
    probe.add_command("unbraced", "---\ndescription: bad\n---\n!`echo HELLO $CLAUDE_PLUGIN_ROOT`\n")
    api = fake_api({"main": []})
    data_dir = claude_env.home / ".claude" / "plugins" / "data" / "probe-inline"

    run = claude_env.run("/probe:hello some args", api=api, plugin_dir=probe.root)
    assert run.ok, run.describe()
    [req] = api.messages_requests()
    prompt = req["user_text"]
    assert f"HELLO {probe.root} {data_dir}" in prompt
    assert "SHOW argv=['some args']" in prompt
    assert "SHOW env=[]" in prompt  # CLAUDE_PLUGIN_* are NOT in the environment of ! commands
    assert f"root={probe.root} args=[some args] first=[some]" in prompt
    assert "<command-name>/probe:hello</command-name>" in req["user_text"]

    # unbraced $VAR inside ! -> refused before running; no API call at all
    n = len(api.messages_requests())
    run = claude_env.run("/probe:unbraced", api=api, plugin_dir=probe.root)
    assert run.returncode == 0 and run.result["num_turns"] == 0
    assert "A variable in this command can't be checked before it runs" in run.result["result"]
    assert len(api.messages_requests()) == n

    # bare /hello does not resolve to the plugin command
    run = claude_env.run("/hello x", api=api, plugin_dir=probe.root)
    assert run.ok
    assert "no command with that name is available" in api.messages_requests()[-1]["user_text"]


def test_project_command_and_allowed_tools(claude_env, fake_api, tmp_path: Path) -> None:
    probe = make_probe_plugin(tmp_path / "probe")
    (probe.root / "s.py").write_text("print('SCRIPT RAN')\n")
    probe.add_command("noperm", "---\ndescription: no allowed-tools\n---\n!`python3 ${CLAUDE_PLUGIN_ROOT}/s.py`\n")
    probe.add_command(
        "failing",
        "---\ndescription: fails\nallowed-tools: Bash(python3:*)\n---\n!`python3 -c 'import sys; sys.exit(3)'`\n",
    )
    cmd = claude_env.project_dir / ".claude" / "commands" / "x.md"
    cmd.parent.mkdir(parents=True)
    cmd.write_text("---\ndescription: x\n---\nProject command X args=$ARGUMENTS\n!`echo PROJX`\n")
    api = fake_api({"main": []})

    run = claude_env.run("/x a b", api=api, plugin_dir=probe.root)
    assert run.ok, run.describe()
    assert "Project command X args=a b\nPROJX" in api.messages_requests()[-1]["user_text"]

    n = len(api.messages_requests())
    run = claude_env.run("/probe:noperm", api=api, plugin_dir=probe.root)
    assert run.result["num_turns"] == 0 and "This command requires approval" in run.result["result"]
    run = claude_env.run("/probe:failing", api=api, plugin_dir=probe.root)
    assert run.result["num_turns"] == 0 and run.result["result"].startswith("Shell command failed")
    assert len(api.messages_requests()) == n


def test_plugin_validate_strict_offline(claude_env, tmp_path: Path) -> None:
    probe = make_probe_plugin(tmp_path / "probe")
    env = {"HOME": str(claude_env.home), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [claude_env.claude, "plugin", "validate", "--strict", "--json", str(probe.root)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["success"] is True, out.stdout
    assert {h["event"] for h in report["provides"]["hooks"]} == set(
        ["PreToolUse", "PostToolUse", "SubagentStart", "SubagentStop", "Stop", "SessionStart"]
    )
    # --strict turns warnings (e.g. missing author, unknown manifest fields) into failures
    manifest = probe.root / ".claude-plugin" / "plugin.json"
    m = json.loads(manifest.read_text())
    m.pop("author")
    manifest.write_text(json.dumps(m))
    out = subprocess.run(
        [claude_env.claude, "plugin", "validate", "--strict", "--json", str(probe.root)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 1 and json.loads(out.stdout)["success"] is False


def test_other_hook_outputs(claude_env, fake_api, tmp_path: Path) -> None:
    """SessionStart plain stdout reaches the model; Stop exit 1 is only a notification;
    SubagentStop exit 2 blocks the subagent from stopping (it is asked for more turns)."""
    probe = make_probe_plugin(
        tmp_path / "probe",
        actions={
            "SessionStart": {"stdout": "PROBE session context"},
            "Stop": {"stderr": "PROBE stop failed", "exit": 1},
        },
    )
    scenario = {
        "main": [tool_turn(agent_call("A", "x", run_in_background=False)), text_turn("final")],
        "subagents": {"A": [text_turn("A done")]},
    }
    api = fake_api(scenario)
    run = claude_env.run("[[SCENARIO:other]] go", api=api, plugin_dir=probe.root, output="stream-json")
    assert run.ok, run.describe()
    main0 = api.scripted("main")[0]
    assert "SessionStart:startup hook success: PROBE session context" in main0["user_text"]
    assert "system" in main0["roles"]  # delivered as a mid-conversation system-role message
    assert all("PROBE session context" not in r["user_text"] for r in api.scripted("A"))  # not in subagents
    assert [e for e in run.system_events("notification") if e.get("key") == "stop-hook-error"]
    assert run.result["result"] == "final"

    probe.set_actions({"SubagentStop": {"stderr": "PROBE keep going", "exit": 2}})
    api = fake_api(scenario)
    run = claude_env.run("[[SCENARIO:other2]] go", api=api, plugin_dir=probe.root, output="stream-json")
    assert run.ok, run.describe()
    extra = api.messages_requests("extra_sub")
    assert len(extra) >= 1
    assert "Stop hook feedback:" in extra[0]["user_text"] and "PROBE keep going" in extra[0]["user_text"]
    assert run.result["result"] == "final"  # gives up eventually; the main thread still finishes


def test_agent_defaults_to_background(claude_env, fake_api, tmp_path: Path) -> None:
    """In 2.1.332 an Agent call without ``run_in_background`` is launched in the background."""
    probe = make_probe_plugin(tmp_path / "probe")
    api = fake_api(
        {"main": [tool_turn(agent_call("A", "x")), text_turn("launched")], "subagents": {"A": [text_turn("A done")]}}
    )
    run = claude_env.run("[[SCENARIO:default-bg]] go", api=api, plugin_dir=probe.root)
    assert run.ok, run.describe()
    stats = run.result["subagent_stats"]
    assert stats["requested"]["unset"] == 1 and stats["started_in_background"] == 1
    post = next(r for r in probe.records("PostToolUse") if r["tool_name"] == "Agent")
    assert "run_in_background" not in post["tool_input"]
    assert post["tool_response"]["status"] == "async_launched"
    assert run.result["result"] == "all done"  # json output = the last result (after the task notification)
    assert len(api.messages_requests("extra_main")) == 1


@pytest.mark.parametrize(
    "updated, expect",
    [
        ("full-model-id", 'Invalid option: expected one of \\"sonnet\\"|\\"opus\\"|\\"haiku\\"|\\"fable\\"'),
        ("model-only", "The required parameter `description` is missing"),
    ],
)
def test_updated_input_is_schema_validated(claude_env, fake_api, tmp_path: Path, updated: str, expect: str) -> None:
    """updatedInput REPLACES the tool input and is validated: only aliases are accepted for ``model``
    and all original fields must be echoed back; otherwise the Agent call fails (no subagent runs)."""
    if updated == "full-model-id":
        action: dict[str, Any] = {"tool": "Agent", "set_model": HAIKU}
    else:
        hso = {"hookEventName": "PreToolUse", "permissionDecision": "allow", "updatedInput": {"model": "haiku"}}
        action = {"tool": "Agent", "json": {"hookSpecificOutput": hso}}
    probe = make_probe_plugin(tmp_path / "probe", actions={"PreToolUse": action})
    api = fake_api(
        {
            "main": [tool_turn(agent_call("A", "x", run_in_background=False)), text_turn("final")],
            "subagents": {"A": [text_turn("A done")]},
        }
    )
    run = claude_env.run(f"[[SCENARIO:{updated}]] go", api=api, plugin_dir=probe.root)
    assert run.ok, run.describe()
    assert not api.scripted("A")
    tool_result = api.scripted("main")[1]["body"]["messages"][-1]["content"][0]
    assert tool_result["is_error"] is True
    assert tool_result["content"].startswith(
        "PreToolUse hook for Agent returned updatedInput that failed schema validation"
    )
    assert expect.replace("\\", "") in tool_result["content"].replace("\\", "")
    assert not [r for r in probe.records("PostToolUse") if r["tool_name"] == "Agent"]
