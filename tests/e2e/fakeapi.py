"""Scripted fake of the Anthropic Messages API, for driving the real Claude Code client offline.

Stdlib only (``http.server`` + ``threading``).  Binds 127.0.0.1 on a random free port.

Scripting
---------
A *scenario* is a dict::

    {
        "main": [Turn, Turn, ...],                 # the session's own conversation
        "subagents": {"A": [Turn, ...], ...},      # one script per subagent key
        "extra_main": Turn,                        # optional: served once "main" is exhausted
        "extra_sub": Turn,                         # optional: served once a subagent script is exhausted
    }

and a *Turn* is::

    {"content": [<text / tool_use blocks>], "stop_reason": "tool_use" | "end_turn",
     "usage": {"input_tokens": .., "output_tokens": .., "cache_read_input_tokens": ..,
               "cache_creation_input_tokens": .., "cache_creation": {"ephemeral_5m_input_tokens": ..,
                                                                     "ephemeral_1h_input_tokens": ..}}}

(``content`` may also be a plain string; a Turn may also be a callable ``f(request_info) -> Turn``.)

Which conversation a request belongs to is decided by the *opening* of the request's conversation
(the non-assistant messages before the first assistant message, i.e. the first user prompt):

* it contains ``[[SUB:<key>]]``      -> subagent script ``<key>``
* it contains ``[[SCENARIO:<name>]]`` -> main script of scenario ``<name>``
  (``FakeAPI(scenario)`` serves a single scenario for any name; ``FakeAPI(scenarios={name: scenario})`` several)

and requests whose first user message carries no marker (title / summary / side calls) get a tiny
default answer (logged as ``unscripted``).  A side call that merely *quotes* the session prompt (it has
no tools although the scripted conversation would) is treated as unscripted too.

The turn served = the number of assistant messages already in the request's ``messages``.
Requests beyond the end of a script get ``extra_main`` / ``extra_sub`` (an ``end_turn`` text turn,
"all done" by default) and are logged with ``matched`` = ``extra_main`` / ``extra_sub``.

``tool_use`` ids are generated unique per response (``toolu_<request#>_<block#>``) unless a block
carries its own ``id``.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SCENARIO_RE = re.compile(r"\[\[SCENARIO:([A-Za-z0-9_.\-]+)\]\]")
SUB_RE = re.compile(r"\[\[SUB:([A-Za-z0-9_.\-]+)\]\]")

DEFAULT_UNSCRIPTED_TURN: dict[str, Any] = {
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 7, "output_tokens": 3},
}
DEFAULT_EXTRA_MAIN_TURN: dict[str, Any] = {
    "content": [{"type": "text", "text": "all done"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 11, "output_tokens": 5},
}
DEFAULT_EXTRA_SUB_TURN: dict[str, Any] = {
    "content": [{"type": "text", "text": "subagent done"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 13, "output_tokens": 7},
}

#: request headers copied into each log entry (lower-cased names)
HEADERS_OF_INTEREST = (
    "anthropic-version",
    "anthropic-beta",
    "user-agent",
    "x-app",
    "x-api-key",
    "authorization",
    "x-claude-code-session-id",
    "x-stainless-retry-count",
    "content-type",
)


# --------------------------------------------------------------------------------------------
# helpers to build turns
# --------------------------------------------------------------------------------------------


def usage(
    input_tokens: int = 100,
    output_tokens: int = 10,
    cache_read: int = 0,
    cache_5m: int = 0,
    cache_1h: int = 0,
) -> dict[str, Any]:
    """Build a usage dict (cache_creation_input_tokens = cache_5m + cache_1h)."""
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": cache_5m + cache_1h,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_5m, "ephemeral_1h_input_tokens": cache_1h},
    }


def text_turn(text: str, u: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "usage": dict(u or usage())}


def tool_turn(
    *blocks: Mapping[str, Any], u: Mapping[str, Any] | None = None, text: str | None = None
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    content.extend(dict(b) for b in blocks)
    return {"content": content, "stop_reason": "tool_use", "usage": dict(u or usage())}


def agent_call(
    key: str,
    prompt: str = "do the thing",
    *,
    description: str | None = None,
    subagent_type: str = "general-purpose",
    model: str | None = None,
    run_in_background: bool | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ``Agent`` tool_use block whose prompt carries ``[[SUB:key]]``."""
    inp: dict[str, Any] = {
        "description": description or f"subagent {key}",
        "prompt": f"[[SUB:{key}]] {prompt}",
        "subagent_type": subagent_type,
    }
    if model is not None:
        inp["model"] = model
    if run_in_background is not None:
        inp["run_in_background"] = run_in_background
    inp.update(extra)
    return {"type": "tool_use", "name": "Agent", "input": inp}


def workflow_call(script: str | None = None, **extra: Any) -> dict[str, Any]:
    """A ``Workflow`` tool_use block.  Its ``agent('[[SUB:key]] …')`` calls reach the subagent scripts:
    Claude Code frames a workflow agent's prompt ("[Workflow harness — computed task] … follows:" and
    every line indented), and the marker survives in the opening text."""
    inp: dict[str, Any] = dict(extra)
    if script is not None:
        inp["script"] = script
    return {"type": "tool_use", "name": "Workflow", "input": inp}


def send_message_call(to: str, message: str, **extra: Any) -> dict[str, Any]:
    """A ``SendMessage`` tool_use block (continues a named agent)."""
    return {"type": "tool_use", "name": "SendMessage", "input": {"to": to, "message": message, **extra}}


def read_call(file_path: str = "README.md") -> dict[str, Any]:
    return {"type": "tool_use", "name": "Read", "input": {"file_path": file_path}}


# --------------------------------------------------------------------------------------------
# request inspection
# --------------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    """All text in a message ``content`` (string or list of blocks, recursing into tool_result)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    out: list[str] = []
    if isinstance(content, list):
        for b in content:
            if isinstance(b, str):
                out.append(b)
            elif isinstance(b, dict):
                if isinstance(b.get("text"), str):
                    out.append(b["text"])
                if "content" in b:
                    out.append(_text_of(b["content"]))
                if b.get("type") == "tool_use":
                    out.append(json.dumps(b.get("input", {})))
    return "\n".join(out)


def first_user_text(body: Mapping[str, Any]) -> str:
    for m in body.get("messages") or []:
        if m.get("role") == "user":
            return _text_of(m.get("content"))
    return ""


def opening_text(body: Mapping[str, Any]) -> str:
    """Text of the non-assistant messages before the first assistant message (the conversation's
    opening prompt, plus whatever reminders the client put around it).  Used for routing."""
    out = []
    for m in body.get("messages") or []:
        if m.get("role") == "assistant":
            break
        out.append(_text_of(m.get("content")))
    return "\n".join(out)


def all_user_text(body: Mapping[str, Any]) -> str:
    """Text of every non-assistant message of a request (``user`` incl. tool results, and the
    mid-conversation ``system``-role messages Claude Code 2.1.332 sends, e.g. hook additionalContext),
    joined by newlines."""
    return "\n".join(_text_of(m.get("content")) for m in body.get("messages") or [] if m.get("role") != "assistant")


def last_user_text(body: Mapping[str, Any]) -> str:
    for m in reversed(body.get("messages") or []):
        if m.get("role") == "user":
            return _text_of(m.get("content"))
    return ""


def system_text(body: Mapping[str, Any]) -> str:
    s = body.get("system")
    return _text_of(s) if not isinstance(s, str) else s


def count_assistant(body: Mapping[str, Any]) -> int:
    return sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")


def tool_names(body: Mapping[str, Any]) -> list[str]:
    return [t.get("name", "?") for t in body.get("tools") or [] if isinstance(t, dict)]


# --------------------------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------------------------


class FakeAPI:
    """Scripted fake Anthropic API.  Use as a context manager or call ``start()`` / ``stop()``."""

    def __init__(
        self,
        scenario: Mapping[str, Any] | None = None,
        *,
        scenarios: Mapping[str, Mapping[str, Any]] | None = None,
        unscripted_turn: Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
        extra_main_turn: Mapping[str, Any] | None = None,
        extra_sub_turn: Mapping[str, Any] | None = None,
        log_path: str | Path | None = None,
        keep_bodies: bool = True,
        chunk_delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        response_headers: Mapping[str, str] | None = None,
        oauth_usage: Mapping[str, Any] | None = None,
    ) -> None:
        if scenario is None and scenarios is None:
            scenario = {"main": [], "subagents": {}}
        self.scenario = scenario
        self.scenarios = dict(scenarios or {})
        self.unscripted_turn: Any = (unscripted_turn if callable(unscripted_turn)
                                     else dict(unscripted_turn or DEFAULT_UNSCRIPTED_TURN))
        self.extra_main_turn = extra_main_turn
        self.extra_sub_turn = extra_sub_turn
        self.log_path = Path(log_path) if log_path else None
        self.keep_bodies = keep_bodies
        self.chunk_delay = chunk_delay
        self.host = host
        self._port = port
        #: extra headers on every ``/v1/messages`` response (e.g. ``anthropic-ratelimit-unified-5h-utilization``);
        #: a test may replace or change it between prompts (see :meth:`set_headers`)
        self.response_headers: dict[str, str] = dict(response_headers or {})
        #: the JSON answered to ``GET /api/oauth/usage`` (404 while None)
        self.oauth_usage: dict[str, Any] | None = dict(oauth_usage) if oauth_usage is not None else None
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeAPI:
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer((self.host, self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fakeapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeAPI not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_headers(self, **headers: str | float | int | None) -> None:
        """Change response headers for the next responses: ``set_headers(**{"x-y": "1"})``; None removes one."""
        with self._lock:
            new = dict(self.response_headers)
            for k, v in headers.items():
                if v is None:
                    new.pop(k, None)
                else:
                    new[k] = str(v)
            self.response_headers = new

    def rate_limit_headers(self, five_hour: float | None = None, seven_day: float | None = None, *,
                           reset_5h: int | None = None, reset_7d: int | None = None,
                           overage: float | None = None, reset_overage: int | None = None) -> None:
        """Set the ``anthropic-ratelimit-unified-*`` headers Claude Code turns into the status line's
        ``rate_limits`` (utilisations as fractions 0-1; resets as epoch seconds, default: 5 h / 7 d /
        30 d from now)."""
        now = int(time.time())
        h: dict[str, str | float | int | None] = {}
        if five_hour is not None:
            h["anthropic-ratelimit-unified-5h-utilization"] = five_hour
            h["anthropic-ratelimit-unified-5h-reset"] = reset_5h or now + 5 * 3600
        if seven_day is not None:
            h["anthropic-ratelimit-unified-7d-utilization"] = seven_day
            h["anthropic-ratelimit-unified-7d-reset"] = reset_7d or now + 7 * 86400
        if overage is not None:
            h["anthropic-ratelimit-unified-overage-utilization"] = overage
            h["anthropic-ratelimit-unified-overage-reset"] = reset_overage or now + 30 * 86400
            h["anthropic-ratelimit-unified-overage-status"] = "allowed"
            h["anthropic-ratelimit-unified-representative-claim"] = "overage"
        self.set_headers(**h)

    # ---- log access --------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A snapshot copy of the request log (every request, any path)."""
        with self._lock:
            return list(self._requests)

    def messages_requests(self, matched: str | None = None) -> list[dict[str, Any]]:
        """Logged ``POST /v1/messages`` requests, optionally filtered by ``matched`` prefix."""
        out = [r for r in self.requests if r.get("kind") == "messages"]
        if matched is not None:
            out = [r for r in out if str(r.get("matched", "")).startswith(matched)]
        return out

    def scripted(self, conversation: str, *, include_extra: bool = False) -> list[dict[str, Any]]:
        """Requests served from a script: ``"main"`` or a subagent key like ``"A"``.

        With ``include_extra`` also the requests of that conversation served past the end of its
        script (``extra_main`` / ``extra_sub``)."""
        want = "main" if conversation == "main" else f"sub:{conversation}"
        return [
            r
            for r in self.messages_requests()
            if r.get("conversation") == want and (include_extra or r.get("matched") == want)
        ]

    def unknown_paths(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("kind") == "unknown"]

    def wait_for(self, pred: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self.requests):
                return True
            time.sleep(0.05)
        return pred(self.requests)

    def _log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["seq"] = len(self._requests)
            self._requests.append(entry)
            if self.log_path is not None:
                slim = {k: v for k, v in entry.items() if k != "body"}
                with self.log_path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(slim, default=str) + "\n")

    # ---- scripting -------------------------------------------------------------------------

    def _scenario_for(self, name: str) -> Mapping[str, Any] | None:
        if name in self.scenarios:
            return self.scenarios[name]
        return self.scenario

    def _all_subagent_scripts(self, scenario_name: str | None) -> Mapping[str, Any]:
        if scenario_name is not None:
            sc = self._scenario_for(scenario_name)
            if sc is not None and sc.get("subagents"):
                return dict(sc["subagents"])
        merged: dict[str, Any] = {}
        for sc in [self.scenario, *self.scenarios.values()]:
            if sc:
                merged.update(sc.get("subagents") or {})
        return merged

    def choose(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Pick the turn for a messages request.  Returns (turn, match-info)."""
        first = opening_text(body)
        n_asst = count_assistant(body)
        has_tools = bool(body.get("tools"))
        sub = SUB_RE.search(first)
        scen = SCENARIO_RE.search(first)
        info: dict[str, Any] = {"turn": n_asst, "conversation": None, "scenario": scen.group(1) if scen else None}

        if sub:
            key = sub.group(1)
            scripts = self._all_subagent_scripts(info["scenario"])
            if key in scripts and has_tools:
                info["conversation"] = f"sub:{key}"
                script = scripts[key]
                if n_asst < len(script):
                    info["matched"] = f"sub:{key}"
                    return self._resolve(script[n_asst], body, info), info
                info["matched"] = "extra_sub"
                sub_sc = self._scenario_for(info["scenario"] or "") or {}
                extra = sub_sc.get("extra_sub") or self.extra_sub_turn or DEFAULT_EXTRA_SUB_TURN
                return self._resolve(extra, body, info), info
        if scen and has_tools and not sub:
            sc = self._scenario_for(scen.group(1))
            if sc is not None:
                info["conversation"] = "main"
                script = sc.get("main") or []
                if n_asst < len(script):
                    info["matched"] = "main"
                    return self._resolve(script[n_asst], body, info), info
                info["matched"] = "extra_main"
                extra = sc.get("extra_main") or self.extra_main_turn or DEFAULT_EXTRA_MAIN_TURN
                return self._resolve(extra, body, info), info
        info["matched"] = "unscripted"
        return self._resolve(self.unscripted_turn, body, info), info

    def _resolve(self, turn: Any, body: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
        if callable(turn):
            turn = turn({"body": body, **info})
        out: dict[str, Any] = copy.deepcopy(dict(turn))
        content = out.get("content", [])
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        out["content"] = content
        out.setdefault("stop_reason", "tool_use" if any(b.get("type") == "tool_use" for b in content) else "end_turn")
        out.setdefault("usage", usage())
        return out


def _full_usage(u: Mapping[str, Any]) -> dict[str, Any]:
    cc = dict(u.get("cache_creation") or {})
    cc.setdefault("ephemeral_5m_input_tokens", 0)
    cc.setdefault("ephemeral_1h_input_tokens", 0)
    out = {
        "input_tokens": int(u.get("input_tokens", 0)),
        "cache_creation_input_tokens": int(
            u.get("cache_creation_input_tokens", cc["ephemeral_5m_input_tokens"] + cc["ephemeral_1h_input_tokens"])
        ),
        "cache_read_input_tokens": int(u.get("cache_read_input_tokens", 0)),
        "cache_creation": cc,
        "output_tokens": int(u.get("output_tokens", 0)),
        "service_tier": u.get("service_tier", "standard"),
    }
    for k, v in u.items():  # pass through anything else (e.g. server_tool_use)
        out.setdefault(k, v)
    return out


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAPI  # set by subclass
    protocol_version = "HTTP/1.1"
    server_version = "fakeapi/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    # ---- low level -------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n) if n else b""

    def _headers_of_interest(self) -> dict[str, str]:
        out = {}
        for h in HEADERS_OF_INTEREST:
            v = self.headers.get(h)
            if v is not None:
                out[h] = "<redacted>" if h in ("x-api-key", "authorization") else v
        return out

    def _extra_headers(self) -> None:
        for k, v in self.fake.response_headers.items():
            self.send_header(k, v)

    def _send_json(self, status: int, obj: Any, req_id: str, extra: bool = False) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("request-id", req_id)
        if extra:
            self._extra_headers()
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _base_entry(self, kind: str, req_id: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "time": time.time(),
            "method": self.command,
            "path": self.path,
            "request_id": req_id,
            "headers": self._headers_of_interest(),
        }

    # ---- verbs -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/") == "/api/oauth/usage" and self.fake.oauth_usage is not None:
            req_id = f"req_fake_{next(self.fake._counter):05d}"
            self.fake._log(self._base_entry("oauth_usage", req_id))
            self._send_json(200, self.fake.oauth_usage, req_id)
            return
        self._unknown(b"")

    def do_HEAD(self) -> None:
        req_id = f"req_fake_{next(self.fake._counter):05d}"
        self.fake._log(self._base_entry("unknown", req_id))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        raw = self._read_body()
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/messages":
            self._messages(raw)
        elif path == "/v1/messages/count_tokens":
            self._count_tokens(raw)
        else:
            self._unknown(raw)

    def do_PUT(self) -> None:
        self._unknown(self._read_body())

    def do_DELETE(self) -> None:
        self._unknown(self._read_body())

    # ---- endpoints -------------------------------------------------------------------------

    def _unknown(self, raw: bytes) -> None:
        n = next(self.fake._counter)
        req_id = f"req_fake_{n:05d}"
        entry = self._base_entry("unknown", req_id)
        entry["body_text"] = raw[:2000].decode("utf-8", "replace")
        self.fake._log(entry)
        path = self.path.split("?", 1)[0]
        if self.command == "GET" and path.rstrip("/") == "/v1/models":
            self._send_json(200, {"data": [], "has_more": False, "first_id": None, "last_id": None}, req_id)
            return
        self._send_json(
            404, {"type": "error", "error": {"type": "not_found_error", "message": f"fakeapi: no route {path}"}}, req_id
        )

    def _count_tokens(self, raw: bytes) -> None:
        n = next(self.fake._counter)
        req_id = f"req_fake_{n:05d}"
        entry = self._base_entry("count_tokens", req_id)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        entry["model"] = body.get("model")
        tokens = max(1, len(raw) // 4)
        entry["input_tokens"] = tokens
        self.fake._log(entry)
        self._send_json(200, {"input_tokens": tokens}, req_id)

    def _messages(self, raw: bytes) -> None:
        n = next(self.fake._counter)
        req_id = f"req_fake_{n:05d}"
        entry = self._base_entry("messages", req_id)
        try:
            body = json.loads(raw or b"{}")
        except ValueError as e:
            entry["error"] = f"bad json: {e}"
            self.fake._log(entry)
            self._send_json(
                400, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad json"}}, req_id
            )
            return
        try:
            turn, info = self.fake.choose(body)
        except Exception as e:  # never kill the client because of a script bug; log it
            entry["error"] = f"script error: {e!r}"
            turn, info = dict(DEFAULT_UNSCRIPTED_TURN), {"matched": "error", "turn": None, "conversation": None}
        model = body.get("model") or "claude-unknown"
        stream = bool(body.get("stream"))
        msg_id = f"msg_fake_{n:05d}"
        content = []
        for i, b in enumerate(turn["content"]):
            b = dict(b)
            if b.get("type") == "tool_use":
                b.setdefault("id", f"toolu_{n:05d}_{i}")
                b.setdefault("input", {})
            content.append(b)
        u = _full_usage(turn["usage"])
        first = first_user_text(body)
        entry.update(
            {
                "model": model,
                "stream": stream,
                "matched": info.get("matched"),
                "conversation": info.get("conversation"),
                "scenario": info.get("scenario"),
                "turn": info.get("turn"),
                "usage": u,
                "stop_reason": turn["stop_reason"],
                "content": content,
                "n_messages": len(body.get("messages") or []),
                "tools": tool_names(body),
                "first_user_text": first[:4000],
                "last_user_text": last_user_text(body)[:4000],
                "user_text": all_user_text(body)[:200000],
                "roles": [m.get("role") for m in body.get("messages") or []],
                "system_head": system_text(body)[:300],
                "max_tokens": body.get("max_tokens"),
                "thinking": body.get("thinking"),
            }
        )
        if self.fake.keep_bodies:
            entry["body"] = body
        self.fake._log(entry)

        message = {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": turn["stop_reason"],
            "stop_sequence": None,
            "usage": u,
        }
        if not stream:
            self._send_json(200, message, req_id, extra=True)
            return
        self._stream(message, req_id)

    def _stream(self, message: dict[str, Any], req_id: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", req_id)
        self.send_header("connection", "close")
        self._extra_headers()
        self.end_headers()
        self.close_connection = True
        u = message["usage"]
        start_usage = dict(u)
        start_usage["output_tokens"] = 1
        events: list[tuple[str, dict[str, Any]]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {**message, "content": [], "stop_reason": None, "usage": start_usage},
                },
            )
        ]
        for i, b in enumerate(message["content"]):
            if b.get("type") == "text":
                events.append(
                    (
                        "content_block_start",
                        {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}},
                    )
                )
                for chunk in _chunks(b.get("text", ""), 40):
                    events.append(
                        (
                            "content_block_delta",
                            {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": chunk}},
                        )
                    )
            elif b.get("type") == "tool_use":
                events.append(
                    (
                        "content_block_start",
                        {
                            "type": "content_block_start",
                            "index": i,
                            "content_block": {"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}},
                        },
                    )
                )
                js = json.dumps(b.get("input", {}))
                for chunk in _chunks(js, 60):
                    events.append(
                        (
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": i,
                                "delta": {"type": "input_json_delta", "partial_json": chunk},
                            },
                        )
                    )
            else:  # pass any other block through whole
                events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": b}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        delta_usage = {
            k: u[k]
            for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
            if k in u
        }
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                    "usage": delta_usage,
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        try:
            for name, data in events:
                self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
                if self.fake.chunk_delay:
                    time.sleep(self.fake.chunk_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _chunks(s: str, n: int) -> Iterable[str]:
    if not s:
        yield ""
        return
    for i in range(0, len(s), n):
        yield s[i : i + n]


def new_session_id() -> str:
    return str(uuid.uuid4())


if __name__ == "__main__":  # manual use: python fakeapi.py scenario.json
    import sys

    sc = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else None
    with FakeAPI(sc, log_path=sys.argv[2] if len(sys.argv) > 2 else None) as api:
        print(api.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
