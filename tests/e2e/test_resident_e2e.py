"""The resident hook worker in the real client (2.1.332) against the fake API: the first session's
hooks start it; the next session's hooks are answered by it -- its spare becomes each of them, so
the spare waiting before the session is gone after it -- and they route, record and cost exactly as
hooks in their own processes do."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest
from harness import REPO_ROOT
from test_plugin_e2e import MODEL, assert_costs_match_client, load_records, models_seen, plugin_env, subagent_scenario

from model_strategy.runtime.entry import resident

pytestmark = pytest.mark.e2e


def children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


def listening(data: Path) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pid = resident.pid(str(data))
        if pid and (data / "cache" / resident.SOCKET).exists() and children(pid):
            return pid
        time.sleep(0.05)
    raise AssertionError("the first session's hooks started no resident")


def test_the_next_sessions_hooks_are_answered_by_the_resident(claude_env, fake_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    env = plugin_env(data)
    first = claude_env.run("[[SCENARIO:foreground]] go", api=fake_api(subagent_scenario()), plugin_dir=REPO_ROOT,
                           env=env)
    assert first.returncode == 0 and first.result and not first.result["is_error"], first.describe()
    pid = listening(data)
    spare = children(pid)
    api: Any = fake_api(subagent_scenario())
    api._counter = itertools.count(10_000)  # ids of its own (the ledger rightly counts a request id once)
    run = claude_env.run("[[SCENARIO:foreground]] go", api=api, plugin_dir=REPO_ROOT, env=env)
    assert run.returncode == 0 and run.result and not run.result["is_error"], run.describe()
    assert resident.pid(str(data)) == pid  # the same resident throughout
    assert spare and not spare & children(pid)  # its spare took a hook (a refused or idle one would wait on)
    assert models_seen(api, "sub:A") == {MODEL["haiku"]} and models_seen(api, "sub:B") == {MODEL["sonnet"]}
    subs = [r for r in load_records(data, "subagent") if r["session_id"] == run.result["session_id"]]
    assert len(subs) == 2 and {r["model_actual"] for r in subs} == {MODEL["haiku"], MODEL["sonnet"]}
    assert all(r["decision"] and r["decision"]["tool_use_id"] == r["tool_use_id"] for r in subs)
    assert_costs_match_client(run.result, subs, {MODEL["haiku"], MODEL["sonnet"]})
    assert len(load_records(data, "subagent")) == 4  # each agent of both sessions once
