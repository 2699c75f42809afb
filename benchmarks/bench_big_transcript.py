"""The first PreToolUse hook on a huge main transcript that no hook has read yet (a resumed session).

    .cache/venv/bin/python benchmarks/bench_big_transcript.py [--mb 1024] [--runs 3] [--keep DIR]

Writes a main transcript of ``--mb`` MB shaped like a long session (an assistant entry with usage, then a
30 KB tool result, over and over), then times whole ``hooks/run pre_tool_use`` processes on a fresh data home
against the same hook on a one-line transcript in the same run, and reads each one's peak memory (max RSS).
Targets (issue 13): at most 1 s and 100 MB on 1 GB; the hook reads a bounded slice
(``recorder.MAIN_READ_LIMIT``) and the next hooks go on from there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures" / "claude-code-2.1.332"
PY = os.environ.get("MODEL_STRATEGY_PYTHON") or str(ROOT / ".cache" / "venv" / "bin" / "python")


def build(path: Path, mb: int) -> int:
    lines = (SAMPLES / "transcript-main.jsonl").read_text().splitlines()
    entry = json.loads(next(line for line in lines if '"assistant"' in line and '"usage"' in line))
    result = json.dumps({"type": "user", "timestamp": entry["timestamp"], "message": {
        "role": "user", "content": [{"type": "tool_result", "content": "x" * 30_000}]}}) + "\n"
    n = 0
    with open(path, "w") as fh:
        while fh.tell() < mb << 20:
            entry["message"]["id"], entry["requestId"] = f"msg_bench_{n}", f"req_bench_{n}"
            fh.write(json.dumps(entry) + "\n" + result)
            n += 1
    return n


def run_hook(transcript: Path, work: Path) -> tuple[float, int]:
    """One PreToolUse process on a fresh data home: (seconds, peak KB of that process)."""
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    payload: dict[str, Any] = json.loads((SAMPLES / "hook-PreToolUse.json").read_text())
    payload.pop("_env_seen_by_hook", None)
    payload.update(transcript_path=str(transcript), cwd=str(work))
    env = dict(os.environ, MODEL_STRATEGY_DATA_DIR=str(data), MODEL_STRATEGY_PYTHON=PY, CLAUDE_PLUGIN_ROOT=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(ROOT / "hooks" / "run"), "pre_tool_use"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, env=env)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(payload).encode())
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)  # the launcher execs python: this is the hook's own peak
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.returncode
    return seconds, usage.ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", help="build the transcript in DIR and keep it")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="ms-big-"))
    work.mkdir(parents=True, exist_ok=True)
    big, small = work / "big.jsonl", work / "small.jsonl"
    if not big.exists() or big.stat().st_size < args.mb << 20:
        print(f"writing {args.mb} MB ...", flush=True)
        build(big, args.mb)
    build(small, 0)
    runs = {"big": [], "small": []}  # type: dict[str, list[tuple[float, int]]]
    run_hook(small, work)  # warm-up (bytecode, price snapshot)
    for _ in range(args.runs):  # interleaved
        runs["big"].append(run_hook(big, work))
        runs["small"].append(run_hook(small, work))
    b = statistics.median(s for s, _ in runs["big"])
    s = statistics.median(s for s, _ in runs["small"])
    peak_b = max(k for _, k in runs["big"]) / 1024
    peak_s = max(k for _, k in runs["small"]) / 1024
    print(f"first PreToolUse, {big.stat().st_size / 2**20:,.0f} MB never-read main transcript: {b:.2f} s, "
          f"peak {peak_b:.0f} MB")
    print(f"same hook, one-line transcript: {s:.2f} s, peak {peak_s:.0f} MB  (ratio {b / s:.1f}x)")
    print("target: <= 1 s and <= 100 MB:", "met" if b <= 1 and peak_b <= 100 else "NOT met")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
