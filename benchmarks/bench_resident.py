"""What a resident's spare gains by warming up (``resident._touch``) before its hook.  Asserts nothing.

    python benchmarks/bench_resident.py [--forks 24] [--records 200000]

In one process that has loaded the hook modules as the resident does (``PRELOAD``, then
``gc.freeze``), fork children alternately with and without the warm-up, and time one PreToolUse in
each (the hook's work only: no interpreter start, no socket), counting the minor page faults it
takes: a fork shares the resident's memory, and each page a hook writes first (a reference count,
say) is copied then.  Linux (``/proc/self/stat``).
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_hooks  # noqa: E402 (after the path)

from model_strategy.runtime.entry import resident  # noqa: E402


def faults() -> int:
    with open("/proc/self/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[7])


def one(payload: bytes) -> tuple[float, int]:
    from model_strategy.runtime.entry import hooks
    from model_strategy.runtime.entry.spawns import pre_tool_use

    out = io.StringIO()
    before, t0 = faults(), time.perf_counter()
    hooks.run(pre_tool_use, io.TextIOWrapper(io.BytesIO(payload)), out)
    return (time.perf_counter() - t0) * 1000, faults() - before


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--forks", type=int, default=24)
    ap.add_argument("--records", type=int, default=200_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ms-bench-resident-"))
    data = tmp / "data"
    bench_hooks.prepare(data, args.records, True)
    os.environ.update(MODEL_STRATEGY_DATA_DIR=str(data), CLAUDE_PLUGIN_ROOT=str(ROOT))
    transcript = tmp / "main.jsonl"
    transcript.write_bytes((bench_hooks.SAMPLES / "transcript-main.jsonl").read_bytes())
    one(bench_hooks.pre_payload(0, transcript))  # caches as the steady state has them
    for name in resident.PRELOAD:
        __import__(name)
    gc.collect()
    gc.freeze()
    got: dict[str, list[tuple[float, int]]] = {"warmed": [], "cold": []}
    for i in range(args.forks):
        how = "warmed" if i % 2 else "cold"
        told, tell = os.pipe()
        pid = os.fork()
        if pid == 0:
            if how == "warmed":
                resident._touch()
            time.sleep(0.05)
            ms, n = one(bench_hooks.pre_payload(i + 1, transcript))
            os.write(tell, f"{ms} {n}".encode())
            os._exit(0)
        os.waitpid(pid, 0)
        ms_text, n_text = os.read(told, 64).decode().split()
        got[how].append((float(ms_text), int(n_text)))
        os.close(told)
        os.close(tell)
    print(f"PreToolUse in a fork of a resident-like process, {args.records:,} records, medians of "
          f"{args.forks // 2} forks each:")
    for how, rows in got.items():
        print(f"  {how:<7} {statistics.median(ms for ms, _ in rows):5.2f} ms, "
              f"{statistics.median(n for _, n in rows):5.0f} page faults")
    t0 = time.perf_counter()
    resident._touch()
    print(f"  the warm-up itself (in the parent, once): {(time.perf_counter() - t0) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
