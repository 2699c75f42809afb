"""The ledger against the real client: a named background agent continued with ``SendMessage`` keeps
its agent id and its transcript grows; the added requests land in the same agent (a continuation
slice) and the session's recorded total equals Claude Code's own ``total_cost_usd``."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fakeapi import agent_call, read_call, send_message_call, text_turn, tool_turn, usage
from harness import REPO_ROOT

pytestmark = pytest.mark.e2e
sys.path.insert(0, str(REPO_ROOT / "lib"))
TOL = Decimal("0.000001")


def load_records(data: Path) -> list[dict[str, Any]]:
    out = []
    for f in sorted((data / "daily").glob("*.json")):
        out += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return out


def test_sendmessage_continuation_is_recorded_in_the_same_agent(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sessionlab import venv_python

    scenario = {
        "main": [tool_turn(agent_call("R", "search the repo for config files", description="Find config files",
                                      run_in_background=True, name="scout"), u=usage(500, 50)),
                 text_turn("all done", usage(500, 50)),
                 tool_turn(send_message_call("scout", "Also list the yaml files you saw", summary="more files"),
                           u=usage(500, 50)),
                 text_turn("all done", usage(500, 50))],
        "extra_main": text_turn("all done", usage(500, 50)),
        "subagents": {"R": [tool_turn(read_call(), u=usage(1000, 200)),
                            text_turn("subagent R done", usage(1000, 200))]},
        "extra_sub": text_turn("subagent R done", usage(1000, 200)),
    }
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:resume]] go", api=api, plugin_dir=REPO_ROOT, output="stream-json",
                         env={"MODEL_STRATEGY_PYTHON": venv_python(), "MODEL_STRATEGY_DATA_DIR": str(data)})
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    recs = load_records(data)
    agents = [r for r in recs if r["kind"] == "subagent"]
    sub_requests = [r for r in api.messages_requests() if str(r.get("matched", "")).startswith(("sub:R", "extra_sub"))]
    assert len({r["agent_id"] for r in agents}) == 1, agents  # SendMessage kept the agent id
    assert sum(r["requests"] for r in agents) == len(sub_requests) >= 3
    assert agents[0].get("continuation", False) is False and agents[0]["id"].count(":") == 1
    assert sum(1 for r in agents if not r.get("continuation")) == 1  # one run
    total = sum(Decimal(r["cost_usd"]) for r in recs)
    print(f"\nresume e2e: recorded {total} vs total_cost_usd {run.result['total_cost_usd']}; agent records:",
          [(r["id"].split(":", 1)[1], r["requests"], r.get("continuation", False), r["source"]) for r in agents])
    assert abs(total - Decimal(str(run.result["total_cost_usd"]))) <= TOL


def test_a_fork_does_not_count_its_parents_response_again(claude_env, fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A fork's transcript starts with its parent's context, including the parent's response that spawned
    it (same message id and request id): that request is counted once, in the whole ledger."""
    from sessionlab import venv_python

    scenario = {
        "main": [tool_turn(agent_call("F", "list the files here", description="List files",
                                      subagent_type="fork", run_in_background=False), u=usage(500, 50)),
                 text_turn("done", usage(600, 60))],
        "extra_main": text_turn("all done", usage(700, 70)),
    }
    api = fake_api(scenario)
    data = tmp_path / "data"
    run = claude_env.run("[[SCENARIO:fork]] go", api=api, plugin_dir=REPO_ROOT, output="stream-json",
                         env={"MODEL_STRATEGY_PYTHON": venv_python(), "MODEL_STRATEGY_DATA_DIR": str(data)})
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    recs = load_records(data)
    keys = [k for r in recs for k in r["request_keys"]]
    total = sum(Decimal(r["cost_usd"]) for r in recs)
    print(f"\nfork e2e: recorded {total} vs total_cost_usd {run.result['total_cost_usd']};",
          [(r["kind"], r["agent_type"], r["requests"]) for r in recs], len(api.messages_requests()))
    assert any(r["kind"] == "subagent" for r in recs), recs
    assert len(keys) == len(set(keys))
    assert abs(total - Decimal(str(run.result["total_cost_usd"]))) <= TOL
