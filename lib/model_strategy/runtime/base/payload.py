"""Lenient readers for Claude Code's hook payloads.

Claude Code adds and drops fields between versions, so nothing here rejects unknown fields or
insists on optional ones: each accessor returns a typed value or a default.  (pydantic would do the
same job but costs more to import than a hook may take; see ``models.py``.)
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypedDict

    class AgentInput(TypedDict, total=False):
        """The ``Agent`` (``Task``) tool's input as Claude Code sends it (``sdk-tools.d.ts``): any field
        may be missing or of another type (read leniently), unknown fields are kept (``updatedInput``
        replaces the whole input)."""

        description: object
        prompt: object
        subagent_type: object
        model: object
        effort: object
        run_in_background: object
        name: object

    class WorkflowInput(TypedDict, total=False):
        """The ``Workflow`` tool's input: an inline ``script``, or a ``name`` / ``scriptPath`` whose
        script the client reads after the hooks ran."""

        script: object
        name: object
        scriptPath: object

    class AgentResponse(TypedDict, total=False):
        """PostToolUse(Agent)'s ``tool_response``: ``agentId``, and ``status: "async_launched"`` (or
        ``isAsync``) for a background spawn."""

        agentId: object
        agentType: object
        status: object
        isAsync: object
        totalDurationMs: object

    class Task(TypedDict, total=False):
        """One of a Stop's ``background_tasks``."""

        id: object
        type: object
        status: object

try:  # hashlib loads OpenSSL (~5 ms); the builtin module is enough for one digest
    from _sha256 import sha256  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import sha256

SUBAGENT_TOOLS = ("Agent", "Task")


class BadPayload(ValueError):
    pass


class Payload:
    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise BadPayload(f"hook input must be a JSON object, got {type(raw).__name__}")
        self.raw = raw

    def text(self, key: str, default: str = "") -> str:
        value = self.raw.get(key)
        return value if isinstance(value, str) else default

    def _object(self, key: str) -> Any:
        """A JSON object field (its type given by the accessor that asks), or None."""
        value = self.raw.get(key)
        return value if isinstance(value, dict) else None

    @property
    def event(self) -> str:
        return self.text("hook_event_name")

    @property
    def session_id(self) -> str:
        return self.text("session_id") or os.environ.get("CLAUDE_CODE_SESSION_ID", "") or "unknown-session"

    @property
    def cwd(self) -> str | None:
        return self.text("cwd") or None

    @property
    def project(self) -> str | None:
        return os.environ.get("CLAUDE_PROJECT_DIR") or self.cwd

    @property
    def tool_name(self) -> str:
        return self.text("tool_name")

    @property
    def is_subagent_tool(self) -> bool:
        return self.tool_name in SUBAGENT_TOOLS

    def agent_input(self) -> AgentInput | None:
        """The ``Agent`` tool's input, None when it is not an object."""
        found: AgentInput | None = self._object("tool_input")
        return found

    def workflow_input(self) -> WorkflowInput | None:
        found: WorkflowInput | None = self._object("tool_input")
        return found

    @property
    def tool_response(self) -> AgentResponse:
        found: AgentResponse | None = self._object("tool_response")
        return found or {}

    def background_tasks(self) -> list[Task]:
        """A Stop's ``background_tasks`` that are objects."""
        tasks = self.raw.get("background_tasks")
        found: list[Task] = [self._task(t) for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []
        return found

    @staticmethod
    def _task(value: Any) -> Task:
        task: Task = value
        return task

    @property
    def tool_use_id(self) -> str | None:
        return self.text("tool_use_id") or None

    def subagent_transcript(self, agent_id: str) -> str | None:
        """Where Claude Code keeps an agent's transcript: ``<session transcript>/subagents/agent-<id>.jsonl``."""
        explicit = self.text("agent_transcript_path")
        if explicit:
            return explicit
        main = self.text("transcript_path")
        if not main or not agent_id:
            return None
        base = main[:-6] if main.endswith(".jsonl") else main
        return os.path.join(base, "subagents", f"agent-{agent_id}.jsonl")


def prompt_hash(prompt: Any) -> str:
    """A short digest of a spawn's prompt: joins a spawn to its agent without storing the text."""
    text = prompt if isinstance(prompt, str) else ""
    digest: str = sha256(text.encode("utf-8", "replace")).hexdigest()
    return digest[:16]


def first_user_text(entries_head: list[dict[str, Any]]) -> str | None:
    """The first user message of a transcript (an agent's prompt)."""
    for entry in entries_head:
        if entry.get("type") != "user":
            continue
        msg = entry.get("message")
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
            if texts:
                return "\n".join(texts) if len(texts) > 1 else texts[0]
        return None
    return None


def unframe(text: str) -> str:
    """A workflow agent's task as the script passed it: Claude Code frames it ("[Workflow harness —
    computed task] … follows:" and every line indented by two spaces) in the agent's first message."""
    if not text.startswith("[Workflow harness"):
        return text
    _, sep, rest = text.partition("follows:\n")
    if not sep:
        return text
    return "\n".join(line[2:] if line.startswith("  ") else line for line in rest.split("\n"))
