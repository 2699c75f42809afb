"""Transcripts are read streaming and, in a hook, a bounded slice at a time: a huge never-read main
transcript costs one hook a bounded read, the next hooks go on from the offset, and nothing is lost
or counted twice on the way."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model_strategy.runtime.books import recorder, usage
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording, spawns
from sessionlab import Session


def assistant(n: int, out: int = 7) -> dict[str, Any]:
    return {"type": "assistant", "timestamp": "2026-11-26T08:20:07.818Z", "requestId": f"req_{n}",
            "message": {"id": f"msg_{n}", "model": "claude-haiku-4-5", "role": "assistant",
                        "usage": {"input_tokens": 10 + n, "output_tokens": out}}}


def tool_result(size: int) -> dict[str, Any]:
    return {"type": "user", "timestamp": "2026-11-26T08:20:07.818Z",
            "message": {"role": "user", "content": [{"type": "tool_result", "content": "x" * size}]}}


def write(path: Path, entries: list[dict[str, Any]], tail: bytes = b"") -> None:
    path.write_bytes(b"".join(json.dumps(e).encode() + b"\n" for e in entries) + tail)


def totals(u: usage.TranscriptUsage) -> dict[str, int]:
    return {r["key"]: r["tokens"]["input"] for r in u.request_list()}


@given(sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=30), limit=st.integers(1, 5000),
       chunk=st.sampled_from([7, 64, 1 << 20]), cut=st.booleans())
def test_bounded_reads_add_up_to_one_whole_read(tmp_path_factory: pytest.TempPathFactory, sizes: list[int],
                                                limit: int, chunk: int, cut: bool) -> None:
    path = tmp_path_factory.mktemp("t") / "main.jsonl"
    entries = [e for i, size in enumerate(sizes) for e in (assistant(i), tool_result(size))]
    write(path, entries, b'{"type": "assistant", "mess' if cut else b"")  # a line still being written
    old = usage.CHUNK
    usage.CHUNK = chunk
    try:
        whole, end = usage.read_transcript(str(path), main_thread=True)
        offset, seen, calls = 0, {}, 0
        while True:
            part, offset2 = usage.read_transcript(str(path), offset, main_thread=True, limit=limit)
            calls += 1
            assert offset2 > offset or offset2 == end  # always progress, never past the last whole line
            if offset2 == offset:
                break
            assert not set(totals(part)) & set(seen)  # nothing read twice
            seen.update(totals(part))
            offset = offset2
    finally:
        usage.CHUNK = old
    assert seen == totals(whole) and len(seen) == len(sizes)
    assert end == path.stat().st_size - (len(b'{"type": "assistant", "mess') if cut else 0)


def call(handler: Any, payload: dict[str, Any]) -> None:
    assert hooks.run(handler, io.StringIO(json.dumps(payload)), io.StringIO()) == 0


def test_hooks_catch_up_a_long_main_transcript_in_bounded_slices(samples: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    lab = Session(samples, tmp_path)
    write(lab.transcript, [e for i in range(40) for e in (assistant(i), tool_result(2000))])
    monkeypatch.setattr(recorder, "MAIN_READ_LIMIT", 10_000)  # ~4 requests a hook
    call(spawns.pre_tool_use, lab.pre("A"))
    first = [r for r in Ledger().iter_records() if r["kind"] == "main"]
    assert 0 < sum(r["requests"] for r in first) < 40  # one hook read a bounded slice, not the whole file
    for _ in range(12):
        call(recording.stop, lab.payload("Stop"))
    main = [r for r in Ledger().iter_records() if r["kind"] == "main"]
    assert sum(r["requests"] for r in main) == 40  # the next hooks caught up: every request, once
    assert sum(r["tokens"]["input"] for r in main) == sum(10 + i for i in range(40))
    keys = [k for r in main for k in r["request_keys"]]
    assert len(keys) == len(set(keys)) == 40
