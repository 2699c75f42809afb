"""The one write path: locking, atomic rewrites, appends, and the hot-path JSON codec."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading
import time
from pathlib import Path

import filelock
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.runtime.base import fastjson, store

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_fastjson_matches_json(value: object) -> None:
    text = fastjson.dumps(value)
    assert text == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert fastjson.loads(text) == json.loads(text)
    assert fastjson.loads(f" \n{text}\t ") == json.loads(text)


@pytest.mark.parametrize("bad", ["", "{", "{bad", "[1,]", "{} x", "nul", b"\xff\xfe"])
def test_fastjson_rejects_bad_input_with_valueerror(bad: str | bytes) -> None:
    with pytest.raises(ValueError):
        fastjson.loads(bad)


def test_fastjson_refuses_unknown_types() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        fastjson.dumps({"x": object()})


def _hold(lock_path: str, started: mp.synchronize.Event, seconds: float) -> None:  # type: ignore[name-defined]
    with filelock.FileLock(lock_path):
        started.set()
        time.sleep(seconds)


def test_lock_excludes_the_filelock_package(tmp_path: Path) -> None:
    """Our flock lock and filelock's lock on the same file exclude each other."""
    lock = str(tmp_path / "archive.lock")
    started = mp.Event()
    proc = mp.Process(target=_hold, args=(lock, started, 0.6))
    proc.start()
    assert started.wait(10)
    t0 = time.monotonic()
    with store.locked(lock):
        waited = time.monotonic() - t0
    proc.join()
    assert waited > 0.3
    with store.locked(lock), pytest.raises(filelock.Timeout):
        filelock.FileLock(lock, timeout=0.2).acquire()


def test_lock_timeout_is_a_clear_error(tmp_path: Path) -> None:
    lock = str(tmp_path / "x.lock")
    started = mp.Event()
    proc = mp.Process(target=_hold, args=(lock, started, 1.5))
    proc.start()
    assert started.wait(10)
    with pytest.raises(store.LockTimeout, match="could not lock"), store.locked(lock, timeout=0.2):
        pass
    proc.join()


def _append_many(path: str, lock: str, worker: int, n: int) -> None:
    for i in range(n):
        with store.locked(lock):
            store.append_jsonl(path, {"worker": worker, "i": i, "pad": "x" * 500})
            counter = store.read_json(path + ".count", {"n": 0})
            store.atomic_write_json(path + ".count", {"n": counter["n"] + 1})


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path, lock = str(tmp_path / "d.json"), str(tmp_path / "d.lock")
    procs = [mp.Process(target=_append_many, args=(path, lock, w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    rows = list(store.iter_jsonl(path))
    assert len(rows) == 240
    assert {(r["worker"], r["i"]) for r in rows} == {(w, i) for w in range(4) for i in range(60)}
    assert store.read_json(path + ".count") == {"n": 240}


def test_atomic_write_never_shows_half_a_file(tmp_path: Path) -> None:
    path = str(tmp_path / "big.json")
    big = {"k": ["v" * 1000] * 500}
    store.atomic_write_json(path, big)
    stop = threading.Event()
    bad: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                store.read_json(path)
            except store.StoreError as exc:
                bad.append(str(exc))

    t = threading.Thread(target=reader)
    t.start()
    for _ in range(100):
        store.atomic_write_json(path, big)
    stop.set()
    t.join()
    assert bad == []
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_broken_file_is_quarantined_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{half")
    warnings: list[str] = []
    assert store.read_json_or_quarantine(str(path), {"fresh": 1}, warnings) == {"fresh": 1}
    assert len(warnings) == 1 and "state.json" in warnings[0] and "kept as" in warnings[0]
    kept = [f for f in os.listdir(tmp_path) if f.startswith("state.json.corrupt-")]
    assert len(kept) == 1 and (tmp_path / kept[0]).read_text() == "{half"


def test_iter_jsonl_skips_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('{"a":1}\nnot json\n[1]\n\n{"b":2}\n')
    errors: list[str] = []
    assert list(store.iter_jsonl(str(path), errors)) == [{"a": 1}, {"b": 2}]
    assert errors == ["d.json:2: not valid JSON, skipped", "d.json:3: not a JSON object, skipped"]


def test_atomic_write_check_refuses_and_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """``check`` reads the temp file back before the replace (the archive's read-back): when it
    raises, the old file stays and no temp file is left; ``durable`` writes the same bytes."""
    path = str(tmp_path / "a.bin")
    store.atomic_write_bytes(path, b"old", durable=True)
    seen: list[bytes] = []

    def refuse(tmp: str) -> None:
        seen.append(Path(tmp).read_bytes())
        raise ValueError("not what was written")

    with pytest.raises(ValueError):
        store.atomic_write_bytes(path, b"new", durable=True, check=refuse)
    assert seen == [b"new"] and Path(path).read_bytes() == b"old"
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert oct(os.stat(path).st_mode & 0o777) == oct(store.FILE_MODE)


lines_st = st.lists(st.sampled_from([b"", b"  ", b'{"a":1}', b"[1]", b"not json", b'{"cut"', b"\r",
                                     b'{"b":"\xc3\xa9"}']), max_size=12)


@given(lines_st, st.booleans())
def test_jsonl_reader_gives_every_non_blank_line_with_its_offsets(lines: list[bytes], last_newline: bool) -> None:
    """``fastjson.jsonl``: each non-blank line once, in order, with offsets that cut ``data`` back
    into its lines; the value parsed, or NOT_JSON."""
    data = b"\n".join(lines) + (b"\n" if last_newline and lines else b"")
    got = list(fastjson.jsonl(data))
    want = [line for line in data.split(b"\n") if line.strip()]
    assert [data[a:b].rstrip(b"\n") for a, b, _ in got] == want
    for (_, b, value), line in zip(got, want, strict=True):
        assert data[b - 1:b] == b"\n" or b == len(data)
        try:
            assert value == json.loads(line)
        except ValueError:
            assert value is fastjson.NOT_JSON
    assert [v for _, _, v in fastjson.jsonl(data, (b'"a"',))] == [v for _, _, v in got if v == {"a": 1}]
