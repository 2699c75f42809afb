"""Many agents of one session, laid out as Claude Code lays them out, for process-level ledger tests.

Each agent gets its own transcript (the captured 3-turn sample with the message and request ids
made unique per agent), an ``agent-<id>.meta.json`` with its ``toolUseId``, and the two hook
payloads that report it: ``SubagentStop`` and the foreground ``PostToolUse(Agent)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from model_strategy.commands.usage import ledger_cli
from model_strategy.runtime.books.ledger import Ledger
from sessionlab import ROOT, venv_python

RUN = str(ROOT / "hooks" / "run")
SID = "fleet-session-0001"


class Fleet:
    def __init__(self, samples: Path, tmp: Path, agents: int, model: str | None = None) -> None:
        self.samples = samples
        self.project = tmp / "project"
        self.project.mkdir(exist_ok=True)
        base = tmp / "claude" / "projects" / "-project"
        self.subagents = base / SID / "subagents"
        self.subagents.mkdir(parents=True, exist_ok=True)
        self.transcript = base / f"{SID}.jsonl"
        self.transcript.write_text((samples / "transcript-main.jsonl").read_text())
        self.ids = [f"a{i:05d}fleet" for i in range(agents)]
        template = (samples / "transcript-subagent-2.jsonl").read_text().splitlines()
        self.expected: dict[str, dict[str, int]] = {}
        for n, agent in enumerate(self.ids):
            lines = []
            seen: dict[str, dict[str, int]] = {}
            for line in template:
                entry = json.loads(line)
                entry["agentId"] = agent
                msg = entry.get("message")
                if entry.get("type") == "assistant" and isinstance(msg, dict):
                    msg["id"] = f"{msg['id']}-{agent}"
                    entry["requestId"] = f"{entry.get('requestId')}-{agent}"
                    if model:
                        msg["model"] = model
                    u = msg.get("usage") or {}
                    seen[msg["id"]] = {"input": u.get("input_tokens", 0), "output": u.get("output_tokens", 0),
                                       "cache_read": u.get("cache_read_input_tokens", 0)}
                lines.append(json.dumps(entry, separators=(",", ":")))
            (self.subagents / f"agent-{agent}.jsonl").write_text("\n".join(lines) + "\n")
            (self.subagents / f"agent-{agent}.meta.json").write_text(json.dumps(
                {"agentType": "general-purpose", "toolUseId": f"toolu_fleet_{n}"}))
            self.expected[agent] = {k: sum(v[k] for v in seen.values()) for k in ("input", "output", "cache_read")}
            self.expected[agent]["requests"] = len(seen)

    def base_payload(self, name: str) -> dict[str, Any]:
        data = json.loads((self.samples / f"hook-{name}.json").read_text())
        data.pop("_env_seen_by_hook", None)
        data.update(session_id=SID, transcript_path=str(self.transcript), cwd=str(self.project))
        return data

    def subagent_stop(self, agent: str) -> dict[str, Any]:
        data = self.base_payload("SubagentStop")
        data.update(agent_id=agent, agent_transcript_path=str(self.subagents / f"agent-{agent}.jsonl"))
        return data

    def post_tool_use(self, agent: str) -> dict[str, Any]:
        data = self.base_payload("PostToolUse-foreground")
        n = self.ids.index(agent)
        data["tool_use_id"] = f"toolu_fleet_{n}"
        data["tool_response"] = dict(data["tool_response"], agentId=agent)
        return data

    def pre_tool_use(self, n: int) -> dict[str, Any]:
        data = self.base_payload("PreToolUse")
        data["tool_use_id"] = f"toolu_fleet_{n}"
        return data


def hook_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_STRATEGY_CRASH")}
    env["MODEL_STRATEGY_PYTHON"] = venv_python()
    env.update(extra or {})
    return env


def start(event: str, payload: dict[str, Any], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([RUN, event], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env or hook_env(), start_new_session=True)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(payload).encode())
    proc.stdin.close()
    return proc


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> tuple[int, bytes, bytes]:
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    return proc.wait(timeout), out, err


def kill_after(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """SIGKILL the hook's process group (bash launcher and python) after ``seconds``."""
    time.sleep(seconds)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def assert_exactly_once(fleet: Fleet) -> None:
    ledger = Ledger()
    ledger.settle(wait=30)
    assert ledger.spool_names() == []
    subs = [r for r in ledger.iter_records() if r["kind"] == "subagent"]
    counts = Counter(r["agent_id"] for r in subs)
    assert set(counts) == set(fleet.ids), f"missing: {sorted(set(fleet.ids) - set(counts))[:5]}"
    assert max(counts.values()) == 1, [a for a, c in counts.items() if c > 1][:5]
    for rec in subs:
        want = fleet.expected[rec["agent_id"]]
        got = {k: rec["tokens"][k] for k in ("input", "output", "cache_read")}
        assert got == {k: want[k] for k in got} and rec["requests"] == want["requests"]
    result = ledger_cli.check(Ledger())
    bad = [c for c in result["checks"] if not c["ok"]]
    assert not bad, bad
