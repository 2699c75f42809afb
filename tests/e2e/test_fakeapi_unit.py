"""Unit tests of the fake API itself (no Claude Code client needed)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

from fakeapi import FakeAPI, agent_call, read_call, text_turn, tool_turn, usage


def _post(url: str, body: dict[str, Any], path: str = "/v1/messages?beta=true") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-api-key": "dummy", "anthropic-version": "2023-06-01"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def _sse(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for chunk in raw.decode().split("\n\n"):
        if not chunk.strip():
            continue
        name = data = None
        for line in chunk.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        assert name and data is not None, chunk
        assert data["type"] == name
        events.append((name, data))
    return events


def _assemble(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Rebuild the message the way an SDK client would."""
    msg: dict[str, Any] = {}
    partial: dict[int, str] = {}
    for name, d in events:
        if name == "message_start":
            msg = dict(d["message"])
            msg["content"] = []
        elif name == "content_block_start":
            msg["content"].append(dict(d["content_block"]))
        elif name == "content_block_delta":
            blk = msg["content"][d["index"]]
            if d["delta"]["type"] == "text_delta":
                blk["text"] += d["delta"]["text"]
            else:
                partial[d["index"]] = partial.get(d["index"], "") + d["delta"]["partial_json"]
        elif name == "content_block_stop":
            if d["index"] in partial:
                msg["content"][d["index"]]["input"] = json.loads(partial.pop(d["index"]))
        elif name == "message_delta":
            msg["stop_reason"] = d["delta"]["stop_reason"]
            msg["usage"] = {**msg["usage"], **d["usage"]}
    return msg


def _req(first_user: str, n_assistant: int = 0, model: str = "claude-opus-5-5", stream: bool = True) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>x</system-reminder>"},
                {"type": "text", "text": first_user},
            ],
        }
    ]
    for i in range(n_assistant):
        msgs.append({"role": "assistant", "content": [{"type": "text", "text": f"a{i}"}]})
        msgs.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}", "content": "r"}]})
    return {
        "model": model,
        "messages": msgs,
        "max_tokens": 100,
        "stream": stream,
        "tools": [{"name": "Agent"}, {"name": "Read"}],
    }


SCENARIO = {
    "main": [
        tool_turn(
            agent_call("A", "look", model="haiku", run_in_background=False), agent_call("B", "other"), u=usage(500, 50)
        ),
        text_turn("final"),
    ],
    "subagents": {
        "A": [tool_turn(read_call(), u=usage(1000, 200, 3000, 100, 7)), text_turn("A done")],
        "B": [text_turn("B done")],
    },
}


def test_streams_scripted_turns_and_logs() -> None:
    with FakeAPI(SCENARIO) as api:
        status, headers, raw = _post(api.url, _req("[[SCENARIO:s]] go", model="claude-opus-5-5"))
        assert status == 200 and headers["content-type"].startswith("text/event-stream")
        assert headers["request-id"].startswith("req_")
        events = _sse(raw)
        names = [n for n, _ in events]
        assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
        msg = _assemble(events)
        assert msg["model"] == "claude-opus-5-5"
        assert msg["stop_reason"] == "tool_use"
        ids = [b["id"] for b in msg["content"]]
        assert len(set(ids)) == 2
        assert msg["content"][0]["input"]["prompt"].startswith("[[SUB:A]]")
        assert msg["content"][0]["input"]["model"] == "haiku"
        assert msg["usage"]["input_tokens"] == 500 and msg["usage"]["output_tokens"] == 50

        # subagent A, turn 1 (one assistant message already present), echoes the requested model
        _, _, raw = _post(api.url, _req("[[SUB:A]] look", n_assistant=1, model="claude-haiku-5-5"))
        msg = _assemble(_sse(raw))
        assert msg["model"] == "claude-haiku-5-5" and msg["content"][0]["text"] == "A done"
        # subagent A turn 0 has cache usage
        _, _, raw = _post(api.url, _req("[[SUB:A]] look", model="claude-haiku-5-5"))
        u = _assemble(_sse(raw))["usage"]
        assert u["cache_read_input_tokens"] == 3000
        assert u["cache_creation"] == {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 7}
        assert u["cache_creation_input_tokens"] == 107

        # beyond the script -> extra_main / extra_sub
        _, _, raw = _post(api.url, _req("[[SCENARIO:s]] go", n_assistant=2))
        assert _assemble(_sse(raw))["content"][0]["text"] == "all done"
        _, _, raw = _post(api.url, _req("[[SUB:B]] other", n_assistant=1))
        assert _assemble(_sse(raw))["content"][0]["text"] == "subagent done"
        # no marker / no tools -> unscripted
        body = _req("generate a title for [[SCENARIO:s]] go")
        body.pop("tools")
        _, _, raw = _post(api.url, body)
        assert _assemble(_sse(raw))["content"][0]["text"] == "ok"

        log = api.messages_requests()
        assert [(r["matched"], r["turn"]) for r in log] == [
            ("main", 0),
            ("sub:A", 1),
            ("sub:A", 0),
            ("extra_main", 2),
            ("extra_sub", 1),
            ("unscripted", 0),
        ]
        assert log[0]["model"] == "claude-opus-5-5" and log[0]["stream"] is True
        assert log[0]["headers"]["x-api-key"] == "<redacted>"
        assert [r["turn"] for r in api.scripted("A")] == [1, 0]
        # tool_use ids unique across responses
        all_ids = [b["id"] for r in log for b in r["content"] if b.get("type") == "tool_use"]
        assert len(all_ids) == len(set(all_ids))


def test_non_streaming_count_tokens_unknown_paths(tmp_path) -> None:
    log = tmp_path / "api.jsonl"
    with FakeAPI(SCENARIO, log_path=log, extra_main_turn=text_turn("custom end", usage(1, 1))) as api:
        status, _, raw = _post(api.url, _req("[[SCENARIO:s]] go", n_assistant=1, stream=False))
        assert status == 200
        msg = json.loads(raw)
        assert msg["type"] == "message" and msg["content"][0]["text"] == "final"
        _, _, raw = _post(api.url, _req("[[SCENARIO:s]] go", n_assistant=5, stream=False))
        assert json.loads(raw)["content"][0]["text"] == "custom end"
        status, _, raw = _post(api.url, _req("x"), path="/v1/messages/count_tokens")
        assert status == 200 and json.loads(raw)["input_tokens"] > 0
        status, _, raw = _post(api.url, {}, path="/v1/whatever")
        assert status == 404 and json.loads(raw)["type"] == "error"
        assert [r["path"] for r in api.unknown_paths()] == ["/v1/whatever"]
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(lines) == 4 and all("body" not in x for x in lines)


def test_named_scenarios_and_callable_turns() -> None:
    seen: list[int] = []

    def dynamic(info: dict[str, Any]) -> dict[str, Any]:
        seen.append(info["turn"])
        return text_turn(f"dynamic {info['body']['model']}")

    with FakeAPI(scenarios={"one": {"main": [text_turn("one")]}, "two": {"main": [dynamic]}}) as api:
        _, _, raw = _post(api.url, _req("[[SCENARIO:one]] go"))
        assert _assemble(_sse(raw))["content"][0]["text"] == "one"
        _, _, raw = _post(api.url, _req("[[SCENARIO:two]] go", model="m-x"))
        assert _assemble(_sse(raw))["content"][0]["text"] == "dynamic m-x"
        _, _, raw = _post(api.url, _req("[[SCENARIO:three]] go"))
        assert _assemble(_sse(raw))["content"][0]["text"] == "ok"  # unknown scenario name -> unscripted
    assert seen == [0]


def test_concurrent_requests_are_all_logged() -> None:
    with FakeAPI({"main": [], "subagents": {k: [text_turn(k)] for k in "ABCDEFGH"}}) as api:
        threads = [threading.Thread(target=_post, args=(api.url, _req(f"[[SUB:{k}]] x"))) for k in "ABCDEFGH"]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert sorted(r["matched"] for r in api.messages_requests()) == [f"sub:{k}" for k in "ABCDEFGH"]
        assert sorted(r["seq"] for r in api.requests) == list(range(8))
