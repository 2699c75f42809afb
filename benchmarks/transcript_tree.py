"""A deterministic Claude Code transcript tree for the history benchmarks and the ccusage comparison.

Shapes follow the real 2.1.332 transcripts (tests/fixtures/claude-code-2.1.332): compact JSON lines
as the client writes them; a main thread per session in ``projects/<project>/<session>.jsonl``;
subagents in ``<session>/subagents/agent-<id>.jsonl`` with ``agent-<id>.meta.json``; one API
response written as one entry per content block (streamed duplicates, same message id and request
id, same usage); tool results carrying most of the bytes; queue operations, system and bookkeeping
entries; some resumed sessions that copy their parent's entries (same ids, so counted once); a few
``<synthetic>`` error stubs; a few agents still running (their meta file does not say ``finished``).
Sessions stay inside one UTC day.  ``build`` returns the truth: the tokens of every distinct response
(message id + request id) per UTC day, which both ``history`` and ccusage must equal.

    python benchmarks/transcript_tree.py DIR [--mb 200] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

MODELS_MAIN = ["claude-opus-5-5", "claude-sonnet-5-5", "claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929"]
MODELS_AGENT = ["claude-haiku-5-5", "claude-sonnet-5-5", "claude-haiku-4-5-20251001", "claude-opus-5-5"]
AGENT_TYPES = ["Explore", "general-purpose", "Plan", "code-reviewer", "test-writer"]
PROJECTS = ["-home-user-shop", "-home-user-api", "-home-user-infra", "-home-user-docs", "-home-user-ml"]
END = datetime(2026, 11, 27, tzinfo=timezone.utc)
WORDS = ("the of config parse return value error test import function class module build cache request token model "
         "agent file path line read write diff patch review plan index")
DAYS = 60
RUNNING = 0.04  # share of agents still running


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        words = WORDS.split()
        self.blob = " ".join(self.r.choice(words) for _ in range(400_000))
        self.msg = 0
        self.req = 0
        self.truth: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}  # (msg, req) -> (UTC day, usage)
        self.running = 0

    def text(self, lo: int, hi: int) -> str:
        n = self.r.randint(lo, hi)
        at = self.r.randint(0, len(self.blob) - n - 1)
        return self.blob[at:at + n]

    def uid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def usage(self, big: bool) -> dict[str, Any]:
        r = self.r
        w5 = r.choice([0, 0, r.randint(100, 8000)])
        w1 = r.choice([0, 0, 0, r.randint(100, 20000)])
        return {"input_tokens": r.randint(1, 600), "cache_creation_input_tokens": w5 + w1,
                "cache_read_input_tokens": r.randint(5000, 160000 if big else 60000),
                "output_tokens": r.randint(20, 4000), "output_tokens_details": {"thinking_tokens": 0},
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0}, "service_tier": "standard",
                "cache_creation": {"ephemeral_1h_input_tokens": w1, "ephemeral_5m_input_tokens": w5},
                "inference_geo": "", "iterations": [], "speed": "standard", "fallback_credit": None}

    def conversation(self, ctx: dict[str, Any], t: datetime, turns: int, models: list[str], sidechain: bool,
                     agent_id: str | None, prompt: str) -> tuple[list[dict[str, Any]], datetime]:
        r = self.r
        base = {"isSidechain": sidechain, "userType": "external", "entrypoint": "cli", "cwd": ctx["cwd"],
                "sessionId": ctx["session"], "version": "2.1.332", "gitBranch": "main"}
        if agent_id:
            base["agentId"] = agent_id
        out: list[dict[str, Any]] = []
        parent = None

        def ts() -> str:
            return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")

        if not sidechain:
            out.append({"type": "queue-operation", "operation": "enqueue", "timestamp": ts(),
                        "sessionId": ctx["session"], "content": prompt})
        u = self.uid()
        out.append({"parentUuid": None, **base, "type": "user", "message": {"role": "user", "content": prompt},
                    "uuid": u, "timestamp": ts(), "permissionMode": "default"})
        parent = u
        model = r.choice(models)
        for _ in range(turns):
            t += timedelta(seconds=r.randint(2, 40))
            self.msg += 1
            self.req += 1
            mid, rid = f"msg_01{self.msg:022d}", f"req_01{self.req:022d}"
            if r.random() < 0.004:  # an API error stub: no real model, zero usage
                out.append({"parentUuid": parent, **base, "type": "assistant", "uuid": self.uid(), "timestamp": ts(),
                            "isApiErrorMessage": True, "message": {
                                "id": mid, "type": "message", "role": "assistant", "model": "<synthetic>",
                                "content": [{"type": "text", "text": "API Error: overloaded"}],
                                "stop_reason": "stop_sequence", "usage": {
                                    "input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                                    "cache_read_input_tokens": 0}}})
                continue
            usage = self.usage(big=not sidechain)
            self.truth[(mid, rid)] = (t.date().isoformat(), usage)
            blocks: list[dict[str, Any]] = []
            if r.random() < 0.6:
                blocks.append({"type": "thinking", "thinking": "", "signature": self.text(200, 600)})
            if r.random() < 0.7:
                blocks.append({"type": "text", "text": self.text(40, 900)})
            tool_id = f"toolu_01{self.msg:020d}"
            blocks.append({"type": "tool_use", "id": tool_id, "name": r.choice(["Read", "Grep", "Bash", "Edit"]),
                           "input": {"file_path": f"src/{self.text(5, 20).replace(' ', '_')}.py"}})
            for block in blocks:  # one entry per content block, same id and usage (streamed)
                u = self.uid()
                out.append({"parentUuid": parent, **base, "message": {
                    "id": mid, "type": "message", "role": "assistant", "model": model, "content": [block],
                    "stop_reason": "tool_use", "stop_sequence": None, "usage": usage},
                    "requestId": rid, "type": "assistant", "uuid": u, "timestamp": ts()})
                parent = u
            t += timedelta(seconds=r.randint(1, 20))
            u = self.uid()
            result = self.text(300, 9000)
            out.append({"parentUuid": parent, **base, "type": "user", "message": {"role": "user", "content": [
                {"tool_use_id": tool_id, "type": "tool_result", "content": result}]}, "uuid": u,
                "timestamp": ts(), "toolUseResult": {"stdout": result[:2000], "stderr": "", "interrupted": False},
                "sourceToolAssistantUUID": parent})
            parent = u
        if not sidechain:
            out.append({"type": "last-prompt", "lastPrompt": prompt[:80], "sessionId": ctx["session"]})
        return out, t


def write_lines(path: str, entries: list[dict[str, Any]]) -> int:
    data = "".join(dumps(e) + "\n" for e in entries).encode()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    return len(data)


def session(g: Gen, root: str, day: int, project: str | None = None,
            resume_from: list[dict[str, Any]] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Write one session (main + agents) and return its bytes and main entries."""
    r = g.r
    project = project or r.choice(PROJECTS)
    sid = g.uid()
    ctx = {"session": sid, "cwd": "/" + project.strip("-").replace("-", "/")}
    start = END - timedelta(days=day) + timedelta(hours=r.randint(0, 17), minutes=r.randint(0, 59))
    entries: list[dict[str, Any]] = []
    if resume_from:
        entries += [dict(e, sessionId=sid) for e in resume_from]  # a resumed session copies the history
    t = start
    size = 0
    for _ in range(r.randint(1, 4)):
        conv, t = g.conversation(ctx, t, r.randint(4, 30), MODELS_MAIN, False, None, g.text(20, 200))
        entries += conv
        for _a in range(r.choice([0, 1, 1, 2, 3])):
            aid = f"a{r.getrandbits(64):016x}"[:17]
            conv_a, _end = g.conversation(ctx, t, r.randint(2, 25), MODELS_AGENT, True, aid, g.text(40, 400))
            folder = os.path.join(root, "projects", project, sid, "subagents")
            size += write_lines(os.path.join(folder, f"agent-{aid}.jsonl"), conv_a)
            meta = {"agentType": r.choice(AGENT_TYPES), "isBuiltIn": True, "description": g.text(10, 40),
                    "toolUseId": f"toolu_01{g.msg:020d}", "spawnDepth": 1,
                    "requestShape": r.choice(["foreground", "background"]), "model": "haiku", "finished": True}
            if r.random() < RUNNING:  # still running when the tree is read: no finished flag yet
                del meta["finished"]
                g.running += 1
            with open(os.path.join(folder, f"agent-{aid}.meta.json"), "w") as fh:
                fh.write(dumps(meta))
    entries.append({"type": "system", "subtype": "stop_hook_summary", "timestamp": t.isoformat(), "sessionId": sid})
    size += write_lines(os.path.join(root, "projects", project, f"{sid}.jsonl"), entries)
    return size, entries


def build(root: str, mb: int, seed: int = 7) -> dict[str, Any]:
    g = Gen(seed)
    total = sessions = 0
    last: list[dict[str, Any]] = []
    while total < mb * 1_000_000:
        resume = last[: len(last) // 2] if last and g.r.random() < 0.05 else None
        size, entries = session(g, root, g.r.randint(1, DAYS), resume_from=resume)
        total += size
        sessions += 1
        last = entries
    return {"bytes": total, "sessions": sessions, "running_agents": g.running, "truth": truth(g)}


def truth(g: Gen) -> dict[str, dict[str, int]]:
    """Per UTC day, the tokens of every distinct response the generator wrote (copies counted once)."""
    days: dict[str, dict[str, int]] = {}
    for day, u in g.truth.values():
        row = days.setdefault(day, {"input_tokens": 0, "output_tokens": 0, "cache_write_tokens": 0,
                                    "cache_read_tokens": 0})
        row["input_tokens"] += u["input_tokens"]
        row["output_tokens"] += u["output_tokens"]
        row["cache_write_tokens"] += u["cache_creation_input_tokens"]
        row["cache_read_tokens"] += u["cache_read_input_tokens"]
    return dict(sorted(days.items()))


def add_session(root: str, seed: int) -> int:
    """One new session today (the "append" case)."""
    g = Gen(seed)
    g.msg = g.req = 900_000_000
    size, _ = session(g, root, 0, project=PROJECTS[0])
    return size


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    print(build(a.dir, a.mb, a.seed))
