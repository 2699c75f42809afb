"""Every spawn path routed in the real client (2.1.332) against the fake API: the models and
efforts the API saw per agent, the hook's line, and the records' joined decisions.

* ``Workflow``: the hook appends a routing ``agent()`` to the script; each ``agent()`` call runs on
  its routed model and effort (a literal prompt by its own decision, a computed one by the rule).
* ``fork``: the client ignores ``model``; the plugin claims no model and warns of no mismatch.
* nested: an ``Agent`` call made inside a subagent is routed like a top-level one.
* ``SendMessage``: nothing to route; the hook runs and stays quiet.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fakeapi import agent_call, read_call, text_turn, tool_turn, usage, workflow_call
from harness import REPO_ROOT
from test_plugin_e2e import MODEL, TOL, load_records, models_seen, plugin_env

pytestmark = pytest.mark.e2e

SCRIPT = """export const meta = { name: 'scan', description: 'scan the repo', phases: ['scan'] }
const a = await agent('[[SUB:W1]] search the repo for config files', { label: 'find configs', agentType: 'Explore' })
const b = await agent('[[SUB:W2]] refactor the parser module and update its tests', { label: 'refactor parser' })
const topic = ['[[SUB:W3]]', 'list the docs'].join(' ')
const c = await agent(topic, { label: 'computed' })
const d = await agent('[[SUB:W4]] design the architecture for authentication', { label: 'kept', model: 'sonnet' })
return [a, b, c, d]
"""


def efforts_seen(api: Any, matched_prefix: str) -> set[str | None]:
    return {((r.get("body") or {}).get("output_config") or {}).get("effort")
            for r in api.messages_requests() if str(r.get("matched", "")).startswith(matched_prefix)}


def notes(run: Any) -> list[str]:
    return [str(e.get("content", "")) for e in run.system_events("informational")]


def test_workflow_agents_run_on_routed_models(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = {"main": [tool_turn(workflow_call(SCRIPT), u=usage(500, 50)),
                         text_turn("launched", usage(600, 20)), text_turn("all done", usage(700, 30))],
                "subagents": {"W1": [tool_turn(read_call(), u=usage(1000, 200)),
                                     text_turn("W1 done", usage(1000, 200))],
                              "W2": [text_turn("W2 done", usage(2000, 300))],
                              "W3": [text_turn("W3 done", usage(1500, 100))],
                              "W4": [text_turn("W4 done", usage(1200, 90))]}}
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:wf]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data),
                         output="stream-json", allowed_tools="Agent Read Workflow", timeout=120)
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    # the API saw each workflow agent on its routed model and effort
    assert models_seen(api, "sub:W1") == {MODEL["haiku"]} and efforts_seen(api, "sub:W1") == {"low"}
    assert models_seen(api, "sub:W2") == {MODEL["sonnet"]} and efforts_seen(api, "sub:W2") == {"medium"}
    assert models_seen(api, "sub:W3") == {MODEL["sonnet"]}  # computed prompt: the rule for computed calls
    assert models_seen(api, "sub:W4") == {MODEL["sonnet"]}  # the script's own model is kept
    assert models_seen(api, "main") == {MODEL["opus"]}
    line = next((n for n in notes(run) if "model-strategy: Workflow scan: " in n), None)
    assert line is not None, notes(run)
    assert "find configs (Explore) → haiku, low effort (simple search" in line
    assert "refactor parser (workflow-subagent) → sonnet (" in line
    assert "kept (workflow-subagent) → sonnet (caller's choice" in line and "; other computed calls → sonnet" in line
    # each agent recorded once, its decision joined (by its prompt, or the workflow's rule)
    subs = {r["agent_type"] + ":" + str((r["decision"] or {}).get("chosen")): r for r in load_records(data, "subagent")}
    assert len(load_records(data, "subagent")) == 4, list(subs)
    explore = subs["Explore:haiku"]
    assert explore["model_actual"] == MODEL["haiku"] and not explore["model_mismatch"]
    assert explore["decision"]["effort"] == "low" and explore["decision"]["workflow"] == explore["tool_use_id"]
    rules = [r for r in load_records(data, "subagent") if (r["decision"] or {}).get("shared")]
    assert len(rules) == 1 and rules[0]["model_actual"] == MODEL["sonnet"]
    assert not any(r["model_mismatch"] for r in load_records(data, "subagent"))
    # nothing lost, nothing twice: the ledger equals what the client says the session cost
    total = sum(Decimal(r["cost_usd"]) for r in load_records(data))
    print(f"\nworkflow e2e: {line}\nrecorded ${total} vs total_cost_usd ${run.result['total_cost_usd']}")
    for r in load_records(data):
        print(f"  {r['kind']:8} {r['agent_type']:18} {r['model_actual']!s:18} "
              f"effort={(r['decision'] or {}).get('effort')} requests={r['requests']} ${r['cost_usd']}")
    assert abs(total - Decimal(str(run.result["total_cost_usd"]))) <= TOL


def test_named_workflow_is_not_routed_and_says_so(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = "export const meta = { name: 'scan', description: 'scan' }\nreturn await agent('[[SUB:W1]] find x')\n"
    (claude_env.project_dir / ".claude" / "workflows").mkdir(parents=True)
    (claude_env.project_dir / ".claude" / "workflows" / "scan.js").write_text(script)
    scenario = {"main": [tool_turn(workflow_call(name="scan"), u=usage(500, 50)),
                         text_turn("launched", usage(600, 20)), text_turn("all done", usage(700, 30))],
                "subagents": {"W1": [text_turn("W1 done", usage(1000, 200))]}}
    api = fake_api(scenario)
    run = claude_env.run("[[SCENARIO:named]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(tmp_path / "d"),
                         output="stream-json", allowed_tools="Agent Read Workflow", timeout=120)
    assert run.returncode == 0 and run.result, run.describe()
    assert models_seen(api, "sub:W1") == {MODEL["opus"]}
    assert any("Workflow scan: its agents were not routed (a named workflow's script is not visible" in n
               for n in notes(run)), notes(run)


def test_fork_claims_no_model_and_warns_of_no_mismatch(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fork = agent_call("F", "list the markdown files", subagent_type="fork", model="haiku", run_in_background=False)
    scenario = {"main": [tool_turn(fork, u=usage(500, 50)), text_turn("done", usage(600, 20)),
                         text_turn("all done", usage(700, 30))]}
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:fork]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data),
                         output="stream-json", timeout=120)
    assert run.returncode == 0 and run.result, run.describe()
    forked = [r for r in api.messages_requests() if "[[SUB:F]]" in str(r.get("user_text"))]
    assert forked and {r["model"] for r in forked} == {MODEL["opus"]}  # the client ignores model for forks
    said = "\n".join(notes(run))
    assert "fork →" not in said and "asked for" not in said, said
    subs = load_records(data, "subagent")
    assert subs, json.dumps(run.events)[-3000:]
    for rec in subs:
        assert rec["model_mismatch"] is False and rec["model_requested"] is None
        assert rec["decision"] is not None and rec["decision"]["source"] == "fork"


def test_nested_agent_call_is_routed(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = {"main": [tool_turn(agent_call("P", "refactor the parser module and update its tests",
                                              run_in_background=False), u=usage(500, 50)),
                         text_turn("all done", usage(600, 20))],
                "subagents": {"P": [tool_turn(agent_call("C", "search the repo for config files",
                                                         subagent_type="Explore", run_in_background=False),
                                              u=usage(800, 60)),
                                    text_turn("P done", usage(900, 40))],
                              "C": [text_turn("C done", usage(1000, 80))]}}
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:nested]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data),
                         output="stream-json", timeout=120)
    assert run.returncode == 0 and run.result, run.describe()
    assert models_seen(api, "sub:P") == {MODEL["sonnet"]}
    assert models_seen(api, "sub:C") == {MODEL["haiku"]} and efforts_seen(api, "sub:C") == {"low"}
    by_type = {r["agent_type"]: r for r in load_records(data, "subagent")}
    assert by_type["Explore"]["decision"]["chosen"] == "haiku" and not by_type["Explore"]["model_mismatch"]
    assert by_type["general-purpose"]["decision"]["chosen"] == "sonnet"


def test_send_message_continuation_passes_the_hook_quietly(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A named background agent continued with SendMessage: the plugin's PreToolUse(SendMessage) has
    nothing to route and says nothing; the agent keeps its routed model for the added request."""
    # as in tests/e2e/test_ledger_e2e.py: a background agent, so the print-mode session waits for the
    # continued agent's request (the completion notices bring the extra main turns)
    spawn = agent_call("S", "search the repo for config files", description="Find config files", name="scout",
                       run_in_background=True)
    send = {"type": "tool_use", "name": "SendMessage",
            "input": {"to": "scout", "summary": "more files", "message": "Also list the yaml files you saw"}}
    scenario = {"main": [tool_turn(spawn, u=usage(500, 50)), text_turn("all done", usage(600, 20)),
                         tool_turn(send, u=usage(700, 30)), text_turn("all done", usage(750, 20))],
                "extra_main": text_turn("all done", usage(800, 30)),
                "subagents": {"S": [tool_turn(read_call(), u=usage(1000, 100)),
                                    text_turn("scout done", usage(1100, 60))]},
                "extra_sub": text_turn("yaml: none", usage(1000, 60))}
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:send]] go", api=api, plugin_dir=REPO_ROOT, env=plugin_env(data),
                         output="stream-json", allowed_tools="Agent Read SendMessage", timeout=120)
    assert run.returncode == 0 and run.result, run.describe()
    scout = [r for r in api.messages_requests() if str(r.get("matched", "")).startswith(("sub:S", "extra_sub"))]
    # two requests of its first run, one of the continuation: all on the routed model
    assert len(scout) == 3 and {r["model"] for r in scout} == {MODEL["haiku"]}, [r["matched"] for r in scout]
    pre = [e for e in run.hook_responses("PreToolUse") if e.get("hook_name") == "PreToolUse:SendMessage"]
    assert len(pre) == 1  # the plugin's hook ran on the SendMessage call
    said = "\n".join(notes(run))
    assert "internal error" not in said and "SendMessage" not in said, said
    assert all(e.get("exit_code", 0) == 0 for e in pre), pre
