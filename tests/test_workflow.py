"""Routing a Workflow script's agent() calls, forks, SendMessage and effort (hook level).

The real client runs these in tests/e2e/test_routing_e2e.py; here: the script reader, the appended
routing function (run in node when it is installed), the hook's answers and the decision join.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthrecords
from model_strategy.models import AgentRecord, Decision
from model_strategy.runtime.base import clock, payload
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording, spawns
from model_strategy.runtime.routing import workflow

SAMPLE = "claude-code-2.1.332/workflow"
SID = "63769f81-8529-4c43-b4e4-866046da3c0d"
EXPLORE, DESIGN = "a420f38f6adc02353", "acb2b1357d525975a"


def call(handler: Any, payload: dict[str, Any]) -> dict[str, Any] | None:
    out = io.StringIO()
    assert hooks.run(handler, io.StringIO(json.dumps(payload)), out) == 0
    return json.loads(out.getvalue()) if out.getvalue() else None


class Run:
    """The captured Workflow run laid out under a tmp dir."""

    def __init__(self, fixtures: Path, tmp: Path) -> None:
        self.dir = fixtures / SAMPLE
        self.project = tmp / "project"
        self.project.mkdir()
        base = tmp / "claude" / "projects" / "-project"
        self.transcript = base / f"{SID}.jsonl"
        self.run_dir = base / SID / "subagents" / "workflows" / "wf_888be8d5-265"
        self.run_dir.mkdir(parents=True)
        self.transcript.write_text("")
        for agent in (EXPLORE, DESIGN):
            shutil.copy(self.dir / f"workflow-agent-{agent}.jsonl", self.run_dir / f"agent-{agent}.jsonl")
            shutil.copy(self.dir / f"workflow-agent-{agent}.meta.json", self.run_dir / f"agent-{agent}.meta.json")

    def payload(self, name: str, **changes: Any) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.dir / f"{name}.json").read_text())
        data.update(transcript_path=str(self.transcript), cwd=str(self.project))
        if "agent_id" in data:
            data["agent_transcript_path"] = str(self.run_dir / f"agent-{data['agent_id']}.jsonl")
        data.update(changes)
        return data

    def pre(self, script: str | None = None, **tool_input: Any) -> dict[str, Any]:
        data = self.payload("hook-00-PreToolUse-Workflow")
        if script is not None or tool_input:
            data["tool_input"] = {**({"script": script} if script is not None else {}), **tool_input}
        return data


@pytest.fixture
def wf(tmp_path: Path) -> Run:
    return Run(Path(__file__).resolve().parent / "fixtures", tmp_path)


def over_budget(run: Run) -> None:
    """A daily budget of $10 with $20 spent today, and the policy ``deny`` once it is exceeded."""
    (run.project / ".claude").mkdir(exist_ok=True)
    cfg = {"budgets": {"daily_usd": "10", "policy": {"exceeded": "deny"}}}
    (run.project / ".claude" / "model-strategy.json").write_text(json.dumps(cfg))
    synthrecords.spend(Ledger(), "20", clock.now())


# ------------------------------------------------------------------ reading the script


def test_calls_of_the_captured_script(wf: Run) -> None:
    parsed = workflow.parse(wf.pre()["tool_input"]["script"])
    calls = parsed.calls
    assert not parsed.own and not parsed.children
    assert [(c.prompt, c.agent_type, c.label, c.model, c.effort) for c in calls] == [
        ("[[SUB:W1]] search the repo for config files", "Explore", "find configs", None, None),
        ("[[SUB:W2]] design the architecture for distributed authentication with threat model",
         "workflow-subagent", "design auth", None, None)]


@pytest.mark.parametrize(("source", "expected"), [
    ("agent('a\\'b\\n\\u00e9\\u{1F600}')", [("a'b\né😀", "workflow-subagent", None, None)]),
    ('agent(`one\nline`, {model: "opus", effort: "max"})', [("one\nline", "workflow-subagent", "opus", "max")]),
    ("agent(`x ${y}`, {agentType: 'Plan'})", [(None, "Plan", None, None)]),
    ("agent(p, {...o, agentType: 'Plan'})", [(None, "Plan", workflow.UNKNOWN, workflow.UNKNOWN)]),
    ("agent('x', opts)", [("x", None, workflow.UNKNOWN, workflow.UNKNOWN)]),
    ("agent('x', {agentType: kind, model})", [("x", None, workflow.UNKNOWN, None)]),
    ("// agent('comment')\n/* agent('block') */ const s = 'agent(\"str\")'; x.agent('member')", []),
    ("const r = /agent\\('re'\\)/g; const q = a / b / agent('real')", [("real", "workflow-subagent", None, None)]),
    ("await parallel(xs.map(x => () => agent('[' + x + ']', {label: x})))", [(None, "workflow-subagent", None, None)]),
    ("agent('legacy \\1 octal')", [(None, "workflow-subagent", None, None)]),
])
def test_calls_found_in_source(source: str, expected: list[tuple[Any, ...]]) -> None:
    parsed = workflow.parse(source)
    assert [(c.prompt, c.agent_type, c.model, c.effort) for c in parsed.calls] == expected and not parsed.own


@pytest.mark.parametrize("source", ["function agent(p) { return p }", "const agent = (p) => p",
                                    "let agent; agent = 1", "agent = wrap(agent)"])
def test_a_script_with_its_own_agent_is_left_alone(source: str) -> None:
    assert workflow.parse(source).own


def test_fnv_equals_the_javascript_one() -> None:  # values printed by node for the same function
    assert workflow.fnv("[[SUB:W1]] search") == "b3bbf4f"
    assert workflow.fnv("é😀") == "44cc4da1"


def test_unframe_gives_back_the_scripts_prompt() -> None:
    framed = ("[Workflow harness — computed task] The task text below was computed at runtime by a workflow "
              "script. … The computed task text follows:\n  first line\n  second\n\n  third")
    assert payload.unframe(framed) == "first line\nsecond\n\nthird"
    assert payload.unframe("plain prompt") == "plain prompt"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_the_tokenizer_never_fails_and_the_rewrite_is_idempotent(script: str) -> None:
    workflow.parse(script)
    once = workflow.rewrite(script, {"calls": {}, "types": {}, "other": {"m": "haiku", "e": None},
                                     "keepModel": True, "keepEffort": True})
    again = workflow.rewrite(once, {"calls": {}, "types": {}, "other": {"m": "opus", "e": "low"},
                                    "keepModel": True, "keepEffort": True})
    assert once.count(workflow.BEGIN) == 1 == again.count(workflow.BEGIN)
    assert workflow.strip(again).rstrip("\n") == script.rstrip("\n") or not script.endswith("\n")


def test_table_is_ascii_json_whatever_the_prompts_hold() -> None:
    nasty = "'); process.exit(1); ('\u2028</script>\"`${x}`"
    out = workflow.rewrite("export const meta = {name: 'n'}\n", {
        "calls": {workflow.fnv(nasty): [{"t": nasty, "rm": None, "re": None, "m": "haiku", "e": None}]},
        "types": {nasty: {"m": "opus", "e": None}}, "other": {"m": "sonnet", "e": None},
        "keepModel": True, "keepEffort": True})
    table = out.split("const r = ", 1)[1].split(";\n", 1)[0]
    assert table.isascii() and json.loads(table)["types"][nasty] == {"m": "opus", "e": None}


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node not installed")
def test_the_routing_function_sets_model_and_effort_in_javascript(wf: Run) -> None:
    """Run the rewritten body as the client does (an async function body, strict mode, agent on the
    global object) with a stand-in agent() that returns the options it got."""
    script = ("export const meta = { name: 'scan' }\n"
              "const a = await agent('[[SUB:W1]] search the repo for config files',\n"
              "                      { label: 'find configs', agentType: 'Explore' })\n"
              "const b = await agent('[[SUB:W2]] design the architecture for authentication', {model: 'haiku'})\n"
              "const c = await agent(['list', 'docs'].join(' '), { agentType: 'Explore' })\n"
              "const d = await agent(['x'].join(''))\n"
              "return [a, b, c, d]\n")
    out = call(spawns.pre_tool_use, wf.pre(script))
    assert out is not None
    body = out["hookSpecificOutput"]["updatedInput"]["script"].split("\n", 1)[1]
    program = ("globalThis.agent = async (p, o) => o === undefined ? null : JSON.parse(JSON.stringify(o));\n"
               f"(async () => {{'use strict';\n{body}\n}})().then((r) => console.log(JSON.stringify(r)));")
    got = json.loads(subprocess.run([NODE, "-e", program], capture_output=True, text=True, check=True,
                                    timeout=30).stdout)
    assert got[0] == {"label": "find configs", "agentType": "Explore", "model": "haiku", "effort": "low"}
    assert got[1] == {"model": "haiku"}  # the script's own model is kept (its effort too: none)
    assert got[2] == {"agentType": "Explore", "model": "haiku"}  # the type's rule (decided on the type alone)
    assert got[3] == {"model": "sonnet"}  # any other computed call


# ------------------------------------------------------------------ the hook


def test_workflow_hook_rewrites_only_the_script_and_keeps_the_decisions(wf: Run) -> None:
    payload = wf.pre()
    payload["tool_input"]["args"] = {"q": [1, 2]}
    out = call(spawns.pre_tool_use, payload)
    assert out is not None
    hso = out["hookSpecificOutput"]
    assert "permissionDecision" not in hso  # routing never grants the call
    updated = hso["updatedInput"]
    assert {k: v for k, v in updated.items() if k != "script"} == {"args": {"q": [1, 2]}}
    assert updated["script"].startswith(payload["tool_input"]["script"])
    assert out["systemMessage"] == (
        "model-strategy: Workflow scan: find configs (Explore) → haiku, low effort (simple search, 0.90); "
        "design auth (workflow-subagent) → opus, high effort (architecture, design work, 0.90)")
    state = json.loads(Path(Ledger().session_path(SID)).read_text())
    kept = state["decisions"]
    assert set(kept) == {"toolu_00000_wf#0", "toolu_00000_wf#1", "toolu_00000_wf#*"}
    for d in kept.values():
        Decision.model_validate(d)
        assert d["workflow"] == "toolu_00000_wf"
    assert kept["toolu_00000_wf#*"]["shared"] is True


def test_workflow_agents_join_their_calls_by_prompt(wf: Run) -> None:
    call(spawns.pre_tool_use, wf.pre())
    for name in ("hook-06-SubagentStop-Explore", "hook-08-SubagentStop-workflow-subagent"):
        call(recording.subagent_stop, wf.payload(name))
    recs = {r["agent_id"]: r for r in Ledger().iter_records() if r["kind"] == "subagent"}
    assert set(recs) == {EXPLORE, DESIGN}
    for r in recs.values():
        AgentRecord.model_validate(r)
        assert r["tool_use_id"] == "toolu_00000_wf"
    assert recs[EXPLORE]["decision"]["tool_use_id"] == "toolu_00000_wf#0"
    assert recs[EXPLORE]["decision"]["chosen"] == "haiku" and recs[EXPLORE]["decision"]["effort"] == "low"
    assert recs[DESIGN]["decision"]["tool_use_id"] == "toolu_00000_wf#1"
    # the capture ran unrouted (both on opus): the Explore agent's record says it did not run as asked
    assert recs[EXPLORE]["model_mismatch"] and not recs[DESIGN]["model_mismatch"]


def test_a_computed_prompt_joins_the_workflows_rule(wf: Run) -> None:
    script = "export const meta = {name: 'x'}\nreturn agent(prompts[0], {agentType: 'Explore'})\n"
    call(spawns.pre_tool_use, wf.pre(script))
    call(recording.subagent_stop, wf.payload("hook-06-SubagentStop-Explore"))
    (rec,) = [r for r in Ledger().iter_records() if r["kind"] == "subagent"]
    assert rec["decision"]["shared"] and rec["decision"]["agent_type"] == "Explore"
    assert rec["decision"]["chosen"] == "haiku"


@pytest.mark.parametrize(("tool_input", "why"), [
    ({"name": "scan"}, "a named workflow's script is not visible to hooks"),
    ({"scriptPath": "/x/scan.js", "script": "export const meta = {name: 'scan'}\n"},
     "a scriptPath run takes its script from the file"),
    ({"script": "export const meta = {name: 'scan'}\nconst agent = 1\n"}, "the script defines or assigns agent()"),
])
def test_unroutable_workflows_say_so_and_change_nothing(wf: Run, tool_input: dict[str, Any], why: str) -> None:
    out = call(spawns.pre_tool_use, wf.pre(**tool_input))
    assert out is not None and "hookSpecificOutput" not in out
    assert out["systemMessage"].startswith("model-strategy: Workflow scan: its agents were not routed (" + why)
    assert not json.loads(Path(Ledger().session_path(SID)).read_text())["decisions"]


def test_budget_deny_denies_the_workflow_call(wf: Run) -> None:
    over_budget(wf)
    for tool_input in ({}, {"name": "scan"}):
        out = call(spawns.pre_tool_use, wf.pre(**tool_input))
        assert out is not None
        hso = out["hookSpecificOutput"]
        assert hso["permissionDecision"] == "deny" and "updatedInput" not in hso
        assert "Workflow scan denied: " in out["systemMessage"]


def test_fork_is_recorded_but_not_routed(wf: Run) -> None:
    payload = wf.pre()
    payload.update(tool_name="Agent", tool_use_id="toolu_fork",
                   tool_input={"description": "fork", "prompt": "list the docs", "subagent_type": "fork",
                               "model": "haiku", "run_in_background": False})
    assert call(spawns.pre_tool_use, payload) is None  # nothing to say, nothing changed
    decision = json.loads(Path(Ledger().session_path(SID)).read_text())["decisions"]["toolu_fork"]
    Decision.model_validate(decision)
    assert decision["source"] == "fork" and decision["chosen"] == "inherit" and decision["requested"] == "haiku"


def test_fork_under_deny_policy_is_denied(wf: Run) -> None:
    over_budget(wf)
    payload = wf.pre()
    payload.update(tool_name="Agent", tool_input={"prompt": "x", "subagent_type": "fork"})
    out = call(spawns.pre_tool_use, payload)
    assert out is not None and out["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_send_message_is_quiet_unless_the_policy_denies(wf: Run) -> None:
    payload = wf.payload("hook-PreToolUse-SendMessage", session_id=SID)
    assert call(spawns.pre_tool_use, payload) is None
    over_budget(wf)
    out = call(spawns.pre_tool_use, payload)
    assert out is not None and out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert out["systemMessage"].startswith("model-strategy: SendMessage denied: ")


def test_a_budget_downgrade_adds_no_effort_and_leaves_forks_alone(wf: Run) -> None:
    (wf.project / ".claude").mkdir(exist_ok=True)
    (wf.project / ".claude" / "model-strategy.json").write_text(json.dumps({"budgets": {"daily_usd": "10"}}))
    synthrecords.spend(Ledger(), "10.5", clock.now())  # exceeded: policy haiku_only
    payload = wf.pre()
    payload.update(tool_name="Agent", tool_use_id="toolu_design",
                   tool_input={"description": "Design", "prompt": "design the architecture with a threat model",
                               "subagent_type": "general-purpose"})
    out = call(spawns.pre_tool_use, payload)
    assert out is not None
    assert out["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    assert "effort" not in out["hookSpecificOutput"]["updatedInput"]
    assert "general-purpose → opus → haiku (daily budget" in out["systemMessage"]
    payload.update(tool_use_id="toolu_fork", tool_input={"prompt": "x", "subagent_type": "fork"})
    out = call(spawns.pre_tool_use, payload)
    assert out is None or "hookSpecificOutput" not in out
    kept = json.loads(Path(Ledger().session_path(SID)).read_text())["decisions"]
    assert kept["toolu_design"]["effort"] is None and kept["toolu_design"]["chosen"] == "haiku"
    assert kept["toolu_fork"]["chosen"] == "inherit" and kept["toolu_fork"]["source"] == "fork"
    assert kept["toolu_fork"]["budget_level"] == "exceeded"


def test_many_calls_are_bounded_and_a_too_long_script_is_left_alone(wf: Run) -> None:
    head = "export const meta = { name: 'many' }\n"
    many = head + "".join(f"await agent('find file {i}', {{label: 'f{i}'}})\n" for i in range(150))
    out = call(spawns.pre_tool_use, wf.pre(many))
    assert out is not None and "updatedInput" in out["hookSpecificOutput"]
    assert out["systemMessage"].count(" → ") == spawns.SHOWN + 1 and "94 more routed" in out["systemMessage"]
    kept = json.loads(Path(Ledger().session_path(SID)).read_text())["decisions"]
    assert len([k for k in kept if k.split("#")[1].isdigit()]) == workflow.MAX_CALLS
    filler = "// " + "x" * (workflow.MAX_SCRIPT - 200) + "\n"
    out = call(spawns.pre_tool_use, wf.pre(head + filler + "await agent('find it')\n"))
    assert out is not None and "hookSpecificOutput" not in out
    assert "not routed (the script is too long to add routing to)" in out["systemMessage"]


def test_meta_name() -> None:
    assert workflow.meta_name("export const meta = { description: 'names', name: \"scan\", phases: [] }\n") == "scan"
    assert workflow.meta_name("export const meta = { name: n }") == ""
    assert workflow.meta_name("agent('x')") == ""


def test_child_workflows_are_named_as_not_routed(wf: Run) -> None:
    assert workflow.parse("await workflow('review', {x: 1})").children
    assert not workflow.parse("const workflows = 1; x.workflow('y')").children
    script = "export const meta = {name: 'parent'}\nawait agent('find x')\nreturn await workflow('child')\n"
    out = call(spawns.pre_tool_use, wf.pre(script))
    assert out is not None and "updatedInput" in out["hookSpecificOutput"]
    assert out["systemMessage"].endswith("; the agents of child workflow() runs are not routed")
