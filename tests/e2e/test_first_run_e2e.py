"""A user's first session: the plugin's Python environment does not exist yet.

The hooks need only the standard library, so they run on the system python3 at once: the first spawn
is routed and recorded.  SessionStart starts building the venv (for the report commands) in the
background and says so once.  The plugin here is a copy whose venv setup only leaves a mark
(``sessionlab.plugin_copy``), so the test needs no package registry.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from fakeapi import agent_call, text_turn, tool_turn, usage
from test_plugin_e2e import MODEL, load_records, models_seen

from sessionlab import plugin_copy

pytestmark = pytest.mark.e2e


def test_first_session_routes_records_and_starts_setup_once(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plugin = plugin_copy(tmp_path / "plugin")
    scenario = {"main": [tool_turn(agent_call("A", "search for the config file", run_in_background=False),
                                   u=usage(500, 50)),
                         tool_turn(agent_call("B", "find the readme", run_in_background=False), u=usage(550, 40)),
                         text_turn("all done", usage(600, 20))],
                "subagents": {"A": [text_turn("A done", usage(1200, 80))],
                              "B": [text_turn("B done", usage(900, 60))]}}
    api = fake_api(scenario)
    node_dir = os.path.dirname(shutil.which("node") or "/usr/bin/node")
    path = f"{node_dir}:/usr/local/bin:/usr/bin:/bin"  # a system python3, no venv, no MODEL_STRATEGY_PYTHON
    run = claude_env.run("[[SCENARIO:first]] go", api=api, plugin_dir=plugin, output="stream-json",
                         env={"PATH": path})
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    # routed from the very first spawn
    assert models_seen(api, "sub:A") == {MODEL["haiku"]} and models_seen(api, "sub:B") == {MODEL["haiku"]}
    data = claude_env.home / ".claude" / "plugins" / "data" / "model-strategy-inline"
    records = load_records(data, "subagent")
    assert sorted(r["model_actual"] for r in records) == [MODEL["haiku"]] * 2
    # the setup was started in the background, and said once in the session
    assert "bootstrap.py" in (data / "setup-started").read_text()
    # (in -p a SessionStart systemMessage is no `informational` stream event, only the hook's response)
    said = [(h["hook_event"], h["stdout"]) for h in run.hook_responses() if "Python environment" in h["stdout"]]
    assert [event for event, _ in said] == ["SessionStart"], said
    assert "routing and recording already work" in json.loads(said[0][1])["systemMessage"]
    notes = [e.get("content", "") for e in run.system_events("informational")]
    assert not [n for n in notes if "Python environment" in n], notes
    assert not (data / "venv").exists()
    cached = (data / "cache" / "python").read_text().splitlines()
    assert os.path.isabs(cached[0]) and ".cache/venv" not in cached[0]
    # the message is for the user, not the model: nothing about it reaches the API
    bodies = json.dumps([r.get("body") for r in api.messages_requests()])
    assert "Python environment" not in bodies
    assert data.stat().st_mode & 0o777 == 0o700
