"""Lay out a Claude Code session (transcripts + hook payloads) from the captured samples in a tmp dir."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: MODEL_STRATEGY_* variables a test's scrubbed hook environment keeps: the test's clock, and
#: each hook in its own process (conftest sets both)
KEEP_ENV = ("MODEL_STRATEGY_NOW", "MODEL_STRATEGY_RESIDENT")


def venv_python() -> str:
    """The interpreter hooks run with in tests (the test venv, not a bootstrap venv)."""
    return os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable

AGENT_A = "a442365ddfe1cb74a"  # foreground, 3 turns (transcript-subagent-2.jsonl)
AGENT_B = "a101415e3449ec69a"  # background, 2 turns (transcript-subagent-1.jsonl)


SAMPLE_NOW = "2026-11-26T09:00:00Z"  # just after the captured session: tests replaying it set the clock here


class Session:
    def __init__(self, samples: Path, tmp: Path) -> None:
        self.samples = samples
        self.sid = "7b7c13c2-e534-4f35-abe3-ef1dc3f6e990"
        self.project = tmp / "project"
        self.project.mkdir(exist_ok=True)
        base = tmp / "claude" / "projects" / "-project"
        (base / self.sid / "subagents").mkdir(parents=True, exist_ok=True)
        self.transcript = base / f"{self.sid}.jsonl"
        shutil.copy(samples / "transcript-main.jsonl", self.transcript)
        self.agent_paths = {
            AGENT_A: base / self.sid / "subagents" / f"agent-{AGENT_A}.jsonl",
            AGENT_B: base / self.sid / "subagents" / f"agent-{AGENT_B}.jsonl",
        }
        shutil.copy(samples / "transcript-subagent-2.jsonl", self.agent_paths[AGENT_A])
        shutil.copy(samples / "transcript-subagent-1.jsonl", self.agent_paths[AGENT_B])

    def payload(self, name: str, **changes: Any) -> dict[str, Any]:
        data = json.loads((self.samples / f"hook-{name}.json").read_text())
        data.pop("_env_seen_by_hook", None)
        data["transcript_path"] = str(self.transcript)
        data["cwd"] = str(self.project)
        if "agent_transcript_path" in data:
            data["agent_transcript_path"] = str(self.agent_paths[data["agent_id"]])
        data.update(changes)
        return data

    def pre(self, which: str) -> dict[str, Any]:
        """PreToolUse for agent A (foreground) or B (background), as Claude Code sends it."""
        data = self.payload("PreToolUse")
        if which == "B":
            post = self.payload("PostToolUse-background")
            data["tool_input"] = {k: v for k, v in post["tool_input"].items() if k != "model"}
            data["tool_use_id"] = post["tool_use_id"]
        return data

    def subagent_stop(self, agent_id: str) -> dict[str, Any]:
        data = self.payload("SubagentStop")
        data["agent_id"] = agent_id
        data["agent_transcript_path"] = str(self.agent_paths[agent_id])
        return data


SETUP_STUB = '''
if __name__ == "__main__":  # test stub: record that the setup was started instead of building a venv
    _d = os.environ.get("MODEL_STRATEGY_DATA_DIR") or os.environ.get("CLAUDE_PLUGIN_DATA") or "."
    with open(os.path.join(_d, "setup-started"), "a") as _fh:
        _fh.write(f"{sys.executable} {' '.join(sys.argv)}\\n")
    sys.exit(0)
'''


def plugin_copy(dest: Path) -> Path:
    """A copy of the plugin's tracked layout whose venv setup (``bootstrap.py`` run as a script) only
    appends to ``<data>/setup-started`` -- for first-run tests that must not build a real venv."""
    for name in (".claude-plugin", ".claude", "hooks", "bin", "commands", "lib"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "requirements.txt", dest / "requirements.txt")
    return stub_setup(dest)


def stub_setup(plugin: Path) -> Path:
    """Make a plugin copy's venv setup (``bootstrap.py`` run as a script) only leave a mark."""
    boot = plugin / "lib" / "model_strategy" / "runtime" / "entry" / "bootstrap.py"
    text = boot.read_text()
    head, _, _ = text.rpartition('if __name__ == "__main__":')
    boot.write_text(head + SETUP_STUB.lstrip("\n"))
    return plugin
