"""Routing that learns, in the real client (2.1.332) against the fake API: a bucket moves after
escalations.  The session spawns ``Explore`` for a search (routed to haiku), then -- as Claude does
when a result was not good enough -- the same task again with ``model: sonnet``, twice; the
next such search is routed to sonnet by what was learned, and the API sees it there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakeapi import agent_call, text_turn, tool_turn, usage
from harness import REPO_ROOT
from test_plugin_e2e import MODEL, load_records, models_seen, plugin_env

pytestmark = pytest.mark.e2e

DESC = "Find config loaders"
TASK = "find every place the config files are read and list them"


def notes(run: Any) -> list[str]:
    return [str(e.get("content", "")) for e in run.system_events("informational")]


def test_bucket_moves_after_escalations(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    main: list[dict[str, Any]] = []
    subs: dict[str, list[dict[str, Any]]] = {}
    for n in range(1, 3):
        main.append(tool_turn(agent_call(f"A{n}", TASK, description=DESC, subagent_type="Explore",
                                         run_in_background=False), u=usage(500, 40)))
        main.append(tool_turn(agent_call(f"B{n}", TASK, description=DESC, subagent_type="Explore", model="sonnet",
                                         run_in_background=False), u=usage(500, 40)))
        subs[f"A{n}"] = [text_turn(f"A{n} done", usage(800, 100))]
        subs[f"B{n}"] = [text_turn(f"B{n} done", usage(800, 100))]
    main.append(tool_turn(agent_call("C", TASK, description=DESC, subagent_type="Explore", run_in_background=False),
                          u=usage(500, 40)))
    subs["C"] = [text_turn("C done", usage(800, 100))]
    main.append(text_turn("all done", usage(600, 20)))
    api = fake_api({"main": main, "subagents": subs})
    data = tmp_path / "data"
    env = {**plugin_env(data), "MODEL_STRATEGY_DRAW": "0.99"}  # no exploration: the pick itself is tested
    run = claude_env.run("[[SCENARIO:learn]] go", api=api, plugin_dir=REPO_ROOT, env=env,
                         output="stream-json", timeout=240)
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    said = notes(run)
    for n in range(1, 3):
        assert models_seen(api, f"sub:A{n}") == {MODEL["haiku"]}, n
        assert models_seen(api, f"sub:B{n}") == {MODEL["sonnet"]}, n
    assert sum("escalation: Explore again on sonnet after haiku" in s for s in said) == 2, said
    assert models_seen(api, "sub:C") == {MODEL["sonnet"]}  # learned: the search bucket moved up
    line = next((s for s in said if "Explore → sonnet" in s and "learned: " in s), None)
    assert line is not None, said
    print(f"\nlearning e2e: {line}")
    recs = {r["decision"]["tool_use_id"]: r for r in load_records(data, "subagent") if r.get("decision")}
    assert len(recs) == 5
    learned = [r for r in recs.values() if r["decision"].get("learned")]
    assert len(learned) == 1 and learned[0]["decision"]["static"] == "haiku"
    assert learned[0]["decision"]["bucket"] == ["Explore", "simple", "BALANCED"]
    # the draw (0.99) took the pick itself; p is its probability: haiku, one tier below, is still open (2 runs
    # cannot rule it out) and this is the only bucket with something to learn, so it explores at the cap,
    # 4 x learning.explore
    assert learned[0]["decision"]["p"] == 0.8 and not learned[0]["decision"]["explored"]
