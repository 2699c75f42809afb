"""The fail-open runner every hook goes through, and the shape of what a hook prints.

``hooks/hook.py <event>`` picks the handler -- ``spawns.pre_tool_use`` (routing) or one of
``recording``'s -- and calls :func:`run` with it: bad stdin or any internal error gives exit 0, no
change to the spawn, and one ``systemMessage`` line -- never a traceback in the user's session (the
traceback goes to the error log, ``store.log_error``).
"""

from __future__ import annotations

import sys

from model_strategy.runtime.base.fastjson import dumps, loads
from model_strategy.runtime.base.payload import BadPayload, Payload
from model_strategy.runtime.base.store import LinkRefused, log_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Literal, TypedDict

    from model_strategy.runtime.base.payload import AgentInput, WorkflowInput

    class PreToolUseOutput(TypedDict, total=False):
        """``hookSpecificOutput`` of a PreToolUse hook: the input to run the tool with instead
        (``updatedInput`` replaces the whole input), or a deny with its reason."""

        hookEventName: Literal["PreToolUse"]
        updatedInput: AgentInput | WorkflowInput
        permissionDecision: Literal["deny"]
        permissionDecisionReason: str

    class Output(TypedDict, total=False):
        """What a hook prints (one JSON line), or nothing at all."""

        systemMessage: str  # shown to the user, one "model-strategy: ..." line per message
        hookSpecificOutput: PreToolUseOutput

    Handler = Callable[[Payload], "Output | None"]

PREFIX = "model-strategy:"


def message(out: Output | None, lines: list[str]) -> Output | None:
    """``out`` with ``lines`` (empty ones dropped) added to its ``systemMessage``, each after PREFIX."""
    lines = [line for line in lines if line]
    if not lines:
        return out
    text = "\n".join(f"{PREFIX} {line}" for line in lines)
    out = out.copy() if out else {}
    out["systemMessage"] = f"{out['systemMessage']}\n{text}" if out.get("systemMessage") else text
    return out


def deny(reason: str, lines: list[str]) -> Output | None:
    """Refuse the tool call, saying why (a budget policy's ``deny``)."""
    return message({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                           "permissionDecisionReason": f"{PREFIX} {reason}"}}, lines)


def run(handler: Handler, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    name = getattr(handler, "__name__", "hook")
    try:
        buf = getattr(stdin, "buffer", None)
        raw = buf.read() if buf is not None else stdin.read()
        if isinstance(raw, bytes):  # bytes Claude Code sent that are not UTF-8 survive as escapes
            raw = raw.decode("utf-8", "surrogateescape")
        try:
            payload = Payload(loads(raw))
        except (ValueError, BadPayload) as exc:
            detail = str(exc).splitlines()[0][:120]
            out = message(None, [f"{name} hook got unreadable input ({detail}); nothing changed"])
        else:
            out = handler(payload)
    except LinkRefused as exc:  # a link in the data home: refused, said, not an internal error
        out = message(None, [f"{name} hook: {exc}; the hook stopped there"])
    except Exception as exc:  # fail open: never break Claude Code's flow by accident
        log = log_error(name)
        where = f"; details in {log}" if log else ""
        # a recording hook may have written part of its work: say what happens, not "nothing changed"
        after = "spawn left unchanged" if name == "pre_tool_use" else \
            "whatever it did not record is reconciled from the transcripts at the next Stop"
        out = message(None, [f"internal error in {name} hook ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:160] if str(exc) else 'no detail'}); "
                             f"{after}{where}"])
    if out:
        stdout.write(dumps(out))
        stdout.write("\n")
    return 0
