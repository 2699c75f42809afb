"""``history``'s fast paths give exactly what the plain ones give.

* ``commands.fastread`` (msgspec, when the venv has it) against ``runtime.usage`` (the hooks'
  standard-library reader), line by line on generated transcripts full of odd lines;
* a whole import read in worker processes, and with msgspec, against one read here with the
  standard library: the same ledger, byte for byte (but the time each record was written).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.commands import fastread, history
from model_strategy.runtime import usage as usage_mod
from model_strategy.runtime.ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
FIX = Path(__file__).parent / "fixtures" / "history" / "claude"

needs_msgspec = pytest.mark.skipif(not fastread.FAST, reason="no msgspec in this venv (the fallback is the plain path)")


def _state(u: usage_mod.TranscriptUsage) -> dict[str, Any]:
    return dict(vars(u))


def _plain(lines: list[bytes]) -> usage_mod.TranscriptUsage:
    u = usage_mod.TranscriptUsage()
    u.feed_lines(lines)
    return u


def _fast(lines: list[bytes]) -> usage_mod.TranscriptUsage:
    u = usage_mod.TranscriptUsage()
    fastread.feed_lines(u, lines)
    return u


ids = st.sampled_from(["msg_1", "msg_2", "msg_3", "", None, 7])
counts = st.one_of(st.integers(-5, 10 ** 7), st.sampled_from([True, None, "12", 1.5]))
usage_st = st.one_of(
    st.fixed_dictionaries({}, optional={
        "input_tokens": counts, "output_tokens": counts, "cache_read_input_tokens": counts,
        "cache_creation_input_tokens": counts,
        "cache_creation": st.one_of(st.none(), st.fixed_dictionaries(
            {}, optional={"ephemeral_1h_input_tokens": counts, "ephemeral_5m_input_tokens": counts})),
        "server_tool_use": st.fixed_dictionaries({}, optional={"web_search_requests": counts})}),
    st.sampled_from([None, [], "usage"]))
message_st = st.one_of(
    st.fixed_dictionaries({}, optional={
        "id": ids, "model": st.sampled_from(["claude-opus-5-5", "claude-haiku-5-5", "<synthetic>", "", None, 3]),
        "stop_reason": st.sampled_from([None, "end_turn", "tool_use", "max_tokens", 1]), "usage": usage_st,
        "content": st.one_of(st.text(max_size=30), st.lists(st.fixed_dictionaries(
            {"type": st.sampled_from(["text", "tool_result", "thinking"]),
             "text": st.sampled_from(["hi", "[Request interrupted by user]",
                                      "[Request interrupted by user for tool use]", "\u00e9t\u00e9 \U0001f600",
                                      "x" * 50])}), max_size=3))}),
    st.sampled_from([None, "text", [1, 2]]))
entry_st = st.fixed_dictionaries(
    {"type": st.sampled_from(["assistant", "user", "system", "summary", None, 5])},
    optional={"timestamp": st.one_of(st.sampled_from(["2026-11-01T10:00:00.000Z", "2026-11-02T23:59:59.999Z",
                                                      "2026-10-31T00:00:00Z", "", None]), st.integers(0, 3)),
              "requestId": st.sampled_from(["req_1", "req_2", "", None, 5]),
              "uuid": st.sampled_from(["u1", "u2", None]),
              "isSidechain": st.sampled_from([True, False, None, "true"]),
              "isApiErrorMessage": st.sampled_from([True, False, 1]), "agentId": st.sampled_from(["a1", "", None]),
              "cwd": st.sampled_from(["/p", 1, None]), "message": message_st,
              "toolUseResult": st.text(max_size=40)})


def _encode(entry: dict[str, Any], how: int) -> bytes:
    text = json.dumps(entry, separators=(",", ":"), ensure_ascii=how == 1)
    if how == 2:
        text = text.replace("interrupted", "\\u0069nterrupted")  # an escape that spells the notice
    return text.encode()


odd_lines = st.sampled_from([b"", b"   ", b"not json", b"[1,2]", b"null", b'"text"', b'{"type":"user"', b"\xff\xfe{}",
                             b'{"type":"assistant","x":"\xff"}', b"\xef\xbb\xbf{\"type\":\"system\"}",
                             b'{"type":"assistant","x":NaN}', b'{"type":"user","x":"\\ud800"}',
                             b'{"type":"assistant","message":{"usage":{"input_tokens":1e999}}}',
                             b'{"type":"assistant","type":"user","message":{"content":"dup"}}',
                             b'{"timestamp":"2026-11-03T00:00:00Z"} ', b"\t{}\t", b"{}\x0c",
                             b'{"type":"user","message":{"role":"user","content":"the prompt"}}',
                             b'{"type":"user","message":{"content":[{"type":"text",'
                             b'"text":"[Request interrupted by user]"}]}}',
                             b'{"type":"user","message":{"content":"[Request \\u0069nterrupted by user"}}'])
line_st = st.one_of(st.tuples(entry_st, st.integers(0, 2)).map(lambda t: _encode(*t)), odd_lines)


@needs_msgspec
@settings(max_examples=300)
@given(st.lists(line_st, max_size=25))
def test_fast_reader_equals_the_plain_one(lines: list[bytes]) -> None:
    assert _state(_fast(lines)) == _state(_plain(lines))


@needs_msgspec
@given(st.lists(line_st, max_size=20))
def test_whole_file_equals_read_transcript(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes]) -> None:
    data = b"\n".join(lines) + b"\n" + b'{"type":"assistant","cut'  # a last line still being written
    path = tmp_path_factory.mktemp("t") / "agent-x.jsonl"
    path.write_bytes(data)
    plain, end = usage_mod.read_transcript(str(path))
    fast, n = fastread.transcript_usage(data)
    assert (_state(fast), n) == (_state(plain), end)


def test_fixture_transcripts_read_the_same() -> None:
    for path in sorted(FIX.rglob("*.jsonl")):
        data = path.read_bytes()
        plain, end = usage_mod.read_transcript(str(path))
        fast, n = fastread.transcript_usage(data)
        assert (_state(fast), n) == (_state(plain), end), path


def _import(tree: Path, data: Path, monkeypatch: pytest.MonkeyPatch, workers: str, fast: bool) -> dict[str, Any]:
    monkeypatch.setenv("MODEL_STRATEGY_DATA_DIR", str(data))
    monkeypatch.setenv("MODEL_STRATEGY_HISTORY_WORKERS", workers)
    if not fast:
        monkeypatch.setattr(fastread, "_DECODER", None)
    data.mkdir(exist_ok=True)
    ledger = Ledger(str(data))
    warnings: list[str] = []
    stats = history.import_history(ledger, [str(tree)], warnings)
    recs = []
    for day in ledger.days():
        for line in (data / "daily" / f"{day}.json").read_bytes().splitlines():
            rec = json.loads(line)
            rec.pop("recorded_at")
            recs.append((day, rec))
    rows = history.report(ledger, "daily", None, None)["rows"]
    monkeypatch.undo()
    return {"stats": stats.as_json(), "warnings": warnings, "records": recs, "rows": rows}


@pytest.mark.parametrize("which", ["fixture", "generated"])
def test_import_in_workers_with_msgspec_equals_plain_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           data_dir: Path, which: str) -> None:
    tree = tmp_path / "claude"
    if which == "fixture":
        shutil.copytree(FIX, tree)
    else:
        import transcript_tree

        transcript_tree.build(str(tree), 2, seed=11)
    snap = data_dir / "cache"
    results = []
    for name, workers, fast in (("plain", "0", False), ("workers", "2", True), ("serial-fast", "0", True)):
        data = tmp_path / name
        shutil.copytree(snap, data / "cache")
        results.append(_import(tree, data, monkeypatch, workers, fast))
    plain = results[0]
    assert plain["records"] and plain["stats"]["files_read"] == plain["stats"]["files"]
    for other in results[1:]:
        assert other == plain
