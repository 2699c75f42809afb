"""A user's first session: the plugin's Python environment does not exist yet."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from fakeapi import agent_call, text_turn, tool_turn, usage
from harness import REPO_ROOT
from test_plugin_e2e import MODEL, models_seen

pytestmark = pytest.mark.e2e


def test_first_session_fails_open_and_starts_setup(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stub_bin = tmp_path / "stub-bin"
    stub_bin.mkdir()
    started = tmp_path / "setup-started"
    (stub_bin / "python3").write_text(f"#!/bin/sh\necho \"$@\" >> {started}\n")  # stands in for the real setup
    (stub_bin / "python3").chmod(0o755)
    scenario = {"main": [tool_turn(agent_call("A", "search for the config file", run_in_background=False),
                                   u=usage(500, 50)), text_turn("all done", usage(600, 20))],
                "subagents": {"A": [text_turn("A done", usage(1200, 80))]}}
    api = fake_api(scenario)
    node_dir = os.path.dirname(shutil.which("node") or "/usr/bin/node")
    path = f"{stub_bin}:{node_dir}:/usr/local/bin:/usr/bin:/bin"
    run = claude_env.run("[[SCENARIO:first]] go", api=api, plugin_dir=REPO_ROOT, output="stream-json",
                         env={"MODEL_STRATEGY_DATA_DIR": str(tmp_path / "data"), "PATH": path})
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    assert models_seen(api, "sub:A") == {MODEL["opus"]}  # not routed: the spawn is unchanged
    notes = [e.get("content", "") for e in run.system_events("informational")]
    assert any("model-strategy: setting up its Python environment" in n for n in notes), notes
    assert "bootstrap.py" in started.read_text()
    # the message is for the user, not the model: nothing about it reaches the API
    bodies = json.dumps([r.get("body") for r in api.messages_requests()])
    assert "setting up its Python environment" not in bodies
