"""``history``'s fast paths give exactly what the plain ones give.

* ``commands.fastread`` (msgspec, when the venv has it) against ``runtime.usage`` (the hooks'
  standard-library reader), line by line on generated transcripts full of odd lines;
* a whole import read in worker processes, and with msgspec, against one read here with the
  standard library: the same ledger, byte for byte (but the time each record was written).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.commands.usage import fastread, history, history_report
from model_strategy.runtime.books import usage as usage_mod
from model_strategy.runtime.books.ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
FIX = Path(__file__).parent / "fixtures" / "history" / "claude"

needs_msgspec = pytest.mark.skipif(not fastread.FAST, reason="no msgspec in this venv (the fallback is the plain path)")


def _state(u: usage_mod.TranscriptUsage) -> dict[str, Any]:
    return dict(vars(u))


def _plain(lines: list[bytes]) -> usage_mod.TranscriptUsage:
    u = usage_mod.TranscriptUsage()
    u.feed(b"\n".join(lines))
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
@given(st.lists(line_st, max_size=20), st.sampled_from([b"\n", b"\r\n", b"\n\r"]))
def test_whole_file_equals_read_transcript(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes],
                                           newline: bytes) -> None:
    data = newline.join(lines) + b"\n" + b'{"type":"assistant","cut'  # a last line still being written
    path = tmp_path_factory.mktemp("t") / "agent-x.jsonl"
    path.write_bytes(data)
    plain, end = usage_mod.read_transcript(str(path))
    fast, n = fastread.transcript_usage(data)
    assert (_state(fast), n) == (_state(plain), end)
    for chunk in (7, 64, 1 << 20):  # read in pieces: lines cut across them, carriage returns at the edges
        piecewise, m, head = fastread.file_usage(str(path), chunk)
        assert (_state(piecewise), m, head) == (_state(plain), end, data[:min(chunk, 256 << 10)])


@needs_msgspec
@settings(max_examples=150)
@given(st.lists(line_st, max_size=20), st.sampled_from([b"\n", b"\r\n"]))
def test_main_transcript_reads_the_same(tmp_path_factory: pytest.TempPathFactory, lines: list[bytes],
                                        newline: bytes) -> None:
    """``history.read_main`` (only lines that hold ``"usage"``, sidechains apart) with and without msgspec."""
    data = newline.join(b'{"type":"assistant","isSidechain":true,"agentId":"a1","usage":1,' + line[1:]
                        if i % 3 == 0 and line.startswith(b"{") else line for i, line in enumerate(lines))
    path = tmp_path_factory.mktemp("m") / "s.jsonl"
    path.write_bytes(data + newline + b'{"type":"assistant","usage":')
    f = history.TFile(str(path), "main", "s", None, path.stat().st_size, 0, 0)

    def read() -> Any:
        stats = history.Stats()
        sl, end = history.read_main(f, 0, stats)
        return (sl.project, _state(sl.main), {k: _state(v) for k, v in sl.sidechains.items()}, end,
                stats.as_json())

    fast = read()
    decoder = fastread._DECODER
    try:
        fastread._DECODER = None
        plain = read()
    finally:
        fastread._DECODER = decoder
    assert fast == plain


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
    rows = history_report.report(ledger, "daily", None, None)["rows"]
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


# ------------------------------------------------------------------ the hot functions, against their earlier forms


def _oracle_tokens(u: dict[str, Any]) -> dict[str, int]:
    """``usage.tokens_from_api_usage`` as it was before it was made faster."""

    def num(v: Any) -> int:
        return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0

    cache_write = num(u.get("cache_creation_input_tokens"))
    cc = u.get("cache_creation")
    split: dict[str, Any] = cc if isinstance(cc, dict) else {}
    w1h = num(split.get("ephemeral_1h_input_tokens"))
    w5m = num(split.get("ephemeral_5m_input_tokens"))
    if w1h + w5m != cache_write:
        w5m = max(cache_write - w1h, 0)
    tools = u.get("server_tool_use")
    stu: dict[str, Any] = tools if isinstance(tools, dict) else {}
    return {"input": num(u.get("input_tokens")), "output": num(u.get("output_tokens")),
            "cache_read": num(u.get("cache_read_input_tokens")), "cache_write_5m": w5m, "cache_write_1h": w1h,
            "web_search": num(stu.get("web_search_requests"))}


def _oracle_add(self: Any, entry: dict[str, Any]) -> None:
    """``TranscriptUsage.add_entry`` as it was before it was made faster."""
    from model_strategy.runtime.books.records import request_key

    ts, bad = self._stamp(entry.get("timestamp"))
    self.entries += 1
    if entry.get("type") == "user":
        if self.first_prompt is None:
            from model_strategy.runtime.base.payload import first_user_text

            self.first_prompt = first_user_text([entry]) or ""
        elif "[Request interrupted by user" in str(entry.get("message"))[:2000]:
            self.interrupted = True
    if entry.get("type") != "assistant" or (self.skip_sidechain and entry.get("isSidechain") is True):
        return
    msg = entry.get("message")
    if entry.get("isApiErrorMessage") is True:
        self.api_errors += 1
    if not isinstance(msg, dict):
        return
    if isinstance(msg.get("stop_reason"), str):
        self.stop_reason = msg["stop_reason"]
    if not isinstance(msg.get("usage"), dict):
        return
    model = msg.get("model")
    if not isinstance(model, str) or not model or model.startswith("<"):
        return
    key = (str(msg.get("id") or entry.get("uuid") or ""), str(entry.get("requestId") or ""))
    tokens = _oracle_tokens(msg["usage"])
    final = isinstance(msg.get("stop_reason"), str)
    seen = self.requests.get(key)
    if seen is None:
        req = self.requests[key] = {"key": request_key(*key), "model": model, "ts": ts, "tokens": tokens,
                                    "final": final}
        if bad:
            req["bad_timestamp"] = True
        if ts is None:
            self._orphans.append(req)
    else:
        seen["final"] = seen["final"] or final
        for kind, value in tokens.items():
            if value > seen["tokens"][kind]:
                seen["tokens"][kind] = value


@settings(max_examples=300)
@given(st.lists(entry_st, max_size=25), st.booleans())
def test_add_entry_equals_its_earlier_form(entries: list[dict[str, Any]], skip_sidechain: bool) -> None:
    now, was = usage_mod.TranscriptUsage(skip_sidechain), usage_mod.TranscriptUsage(skip_sidechain)
    for entry in entries:
        now.add_entry(json.loads(json.dumps(entry)))
        _oracle_add(was, json.loads(json.dumps(entry)))
    assert _state(now) == _state(was)


def _oracle_cost(prices: dict[str, Any], tokens: dict[str, Any]) -> Any:
    """``rates.cost`` as it was before it was made faster."""
    from decimal import Decimal

    from model_strategy.runtime.money import rates

    chains = {"cache_write_1h": ("cache_write_1h_mtok", "cache_write_mtok", "input_mtok"),
              "cache_write_5m": ("cache_write_mtok", "input_mtok"), "cache_read": ("cache_read_mtok", "input_mtok"),
              "input": ("input_mtok",), "output": ("output_mtok",)}
    total_input = sum(tokens.get(k, 0) for k in rates.KINDS if k != "output")
    out = Decimal(0)
    for kind in rates.KINDS:
        count = tokens.get(kind, 0)
        if not count:
            continue
        key = next((k for k in chains[kind] if k in prices), None)
        if key is not None:
            out += rates.unit(prices[key], total_input) * count / Decimal(1_000_000)
    return out


token_counts = st.fixed_dictionaries({k: st.one_of(st.integers(0, 2_000_000), st.just(0)) for k in
                                      ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h",
                                       "web_search")})


@settings(max_examples=200)
@given(st.data(), token_counts, st.sampled_from(["2024-01-01", "2025-06-30", "2026-11-20", None]))
def test_request_prices_equal_their_earlier_form(data: st.DataObject, tokens: dict[str, int], day: str | None) -> None:
    """Every model of the snapshot (tiers, dated prices, parents): the same Decimal, digit for digit,
    from the cached table twice and from the earlier arithmetic."""
    from decimal import Decimal

    from model_strategy.runtime.money import pricing, rates

    table = pricing.table()
    card = data.draw(st.sampled_from(table.snapshot["models"]))
    ref = str(card["id"])
    prices = rates.at(table.find(ref) or card, (day or "9999-12-31")[:10])
    want = _oracle_cost(prices, tokens)
    for _ in range(2):
        got = rates.cost(table.prices_for(ref, day), tokens)
        assert (str(got), got.as_tuple()) == (str(want), want.as_tuple())
    if "web_searches_kcount" in prices and tokens.get("web_search"):  # price_request as it was
        want += Decimal(prices["web_searches_kcount"]) * tokens["web_search"] / Decimal(1000)
    for _ in range(2):
        got = table.price_request(ref, dict(tokens), day)  # type: ignore[arg-type]
        assert (str(got), got.as_tuple()) == (str(want), want.as_tuple())


def _oracle_utc_iso(value: object) -> str | None:
    """``clock.utc_iso`` as it was before its shortcut for stamps already in our form."""
    from model_strategy.runtime.base.clock import iso, parse_ts

    if not isinstance(value, str) or not value:
        return None
    try:
        return iso(parse_ts(value))
    except ValueError:
        return None


stamps = st.one_of(
    st.datetimes().map(lambda d: d.isoformat(timespec="milliseconds") + "Z"),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.tuples(st.integers(0, 10000), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61),
              st.integers(0, 61), st.integers(0, 1000)).map(
        lambda t: "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z".format(*t)),
    st.text(alphabet="0123456789-T:.Z+ ", min_size=20, max_size=26),
    st.sampled_from(["2026-11-26T10:00:00.000Z", "2026-11-26 10:00:00.000Z", "2026-11-26T10:00:00,000Z",
                     "2026-02-30T10:00:00.000Z", "2026-11-26T10:00:00.000z", "0000-01-01T00:00:00.000Z",
                     "2026-11-26T10:00:00+00:0Z", "+2026-11-26T10:00:00.00Z", "1999-12-31T23:59:59.999Z",
                     "2000-01-01T00:00:00.000Z", "2199-12-31T23:59:59.999Z", "2200-01-01T00:00:00.000Z"]))


@settings(max_examples=500)
@given(stamps)
def test_utc_iso_equals_its_earlier_form(value: str) -> None:
    from model_strategy.runtime.base.clock import utc_iso

    assert utc_iso(value) == _oracle_utc_iso(value)


_PARENT = os.getpid()
_REAL_READ = history._read_file


def _dying_read(job: Any) -> Any:
    """``history._read_file`` in a worker that dies on one file (killed, out of memory ...)."""
    if os.getpid() != _PARENT and job[0].path.endswith(".jsonl") and "subagents" not in job[0].path:
        os._exit(1)
    return _REAL_READ(job)


def test_a_worker_that_dies_leaves_the_rest_to_the_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          data_dir: Path) -> None:
    import transcript_tree

    tree = tmp_path / "claude"
    transcript_tree.build(str(tree), 1, seed=5)
    snap = data_dir / "cache"
    shutil.copytree(snap, tmp_path / "plain" / "cache")
    plain = _import(tree, tmp_path / "plain", monkeypatch, "0", True)
    monkeypatch.setattr(history, "_read_file", _dying_read)
    shutil.copytree(snap, tmp_path / "dying" / "cache")
    assert _import(tree, tmp_path / "dying", monkeypatch, "2", True) == plain


@given(st.one_of(st.text(max_size=4), st.text(alphabet="0123456789abcdefABCDEF", max_size=22)))
def test_key_shard_equals_its_earlier_form(key: str) -> None:
    from model_strategy.runtime.books.keys import _HEX, key_shard

    head = key[:2]
    assert key_shard(key) == (head if len(head) == 2 and set(head) <= _HEX else "xx")
