"""Hook latency, whole process as Claude Code runs it (hooks/run → the plugin's Python).

Prints medians and ratios against baselines measured in the same run; asserts nothing.

    python benchmarks/bench_hooks.py [--runs 40] [--records 200000] [--ab]

Target (issue #15): the whole PreToolUse process (hooks/run → hook.py, learning on, 200k records this
month) within 1.5× a bare `python -c pass` of the interpreter that runs the hooks, both measured in the
same interleaved runs (medians).  ``--ab`` measures only that pair (quick), and the same hook with
each hook in its own process (``MODEL_STRATEGY_RESIDENT=off``: no resident worker).  Hooks are
measured as Claude Code runs them: the data home's resident is started first (one hook, then wait).

Targets (issue #3/#4): PreToolUse median ≤ 60 ms and ≤ 4× `python3 -c pass`; recording hook median
≤ 80 ms and, with 200k records already in this month's archive, ≤ 1.15× the empty case; the budget
check adds ≤ 10 ms and stays flat with 200k records.

First run (no venv): the first PreToolUse of a fresh install (no venv, no caches: the launcher resolves
`python3` on PATH once, the config is compiled, prices come from the shipped snapshot) against the same
hook warm on that system python (its path cached) and on the venv's python.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures" / "claude-code-2.1.332"
sys.path.insert(0, str(ROOT / "lib"))

from model_strategy.runtime.base.kinds import TIERS  # noqa: E402 (after the path)
from model_strategy.runtime.entry import resident as resident_mod  # noqa: E402


def python_for_hooks() -> str:
    return os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable


def timed(cmd: list[str], stdin: bytes, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, input=stdin, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1000


def median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn(0)  # warm-up (bytecode cache, page cache)
    return statistics.median(fn(i) for i in range(1, runs + 1))


def make_env(data: Path, resident: bool = True) -> dict[str, str]:
    """The environment Claude Code gives a hook; ``resident=False``: each hook in its own process."""
    env = dict(os.environ, MODEL_STRATEGY_DATA_DIR=str(data), MODEL_STRATEGY_PYTHON=python_for_hooks(),
               CLAUDE_PLUGIN_ROOT=str(ROOT))
    env.pop("CLAUDE_PROJECT_DIR", None)
    env.pop(resident_mod.ENV, None)
    if not resident:
        env[resident_mod.ENV] = "off"
    return env


def start_resident(data: Path, env: dict[str, str], stdin: bytes) -> None:
    """Run one hook (it starts the data home's resident) and wait until the resident listens, so that
    the runs measure the steady state: hooks answered by the resident's spare."""
    timed([str(ROOT / "hooks" / "run"), "pre_tool_use"], stdin, env)
    wait_listening(data)


def wait_listening(data: Path, within: float = 20) -> None:
    """Until data home ``data``'s resident listens (and its first spare has had a moment)."""
    deadline = time.monotonic() + within
    while not (resident_mod.pid(str(data)) and (data / "cache" / resident_mod.SOCKET).exists()):
        if time.monotonic() > deadline:
            raise SystemExit(f"no resident listening for {data}")
        time.sleep(0.05)
    time.sleep(0.3)


MODELS = {"haiku": "claude-haiku-5-5", "sonnet": "claude-sonnet-5-5", "opus": "claude-opus-5-5"}


def routed(d: int, i: int, ts: str) -> dict[str, Any]:
    """Record ``i`` of day ``d`` as a routed run (for ``fill_month``): its bucket, tier and outcome, so
    the learning state the hooks fold from the ledger has buckets to count."""
    agent_type, band = ("Explore", "general-purpose", "Plan", "code-reviewer")[i % 4], \
        ("simple", "moderate", "complex")[i % 3]
    tier = TIERS[(i // 7) % 3]
    decision = {"tool_use_id": f"t{d}x{i}", "ts": ts, "agent_type": agent_type, "requested": None,
                "chosen": tier, "source": "complexity", "profile": "BALANCED", "confidence": 0.8,
                "complexity": 0.5, "reasons": [], "budget_level": "ok", "denied": False,
                "prompt_hash": "x", "background": True, "bucket": [agent_type, band, "BALANCED"],
                "static": tier, "p": 0.95}
    tokens = {"input": 3000, "output": 600, "cache_read": 9000, "cache_write_5m": 300, "cache_write_1h": 0,
              "web_search": 0}
    return {"agent_type": agent_type, "model_requested": tier, "model_actual": MODELS[tier],
            "models": {MODELS[tier]: {**tokens, "requests": 3, "cost_usd": "0.00075", "priced": True}},
            "decision": decision, "outcome": "completed" if i % 11 else "error"}


def prepare(data: Path, records: int, budgets: bool) -> None:
    from model_strategy.runtime.money import pricing

    data.mkdir(parents=True, exist_ok=True)
    os.environ["MODEL_STRATEGY_DATA_DIR"] = str(data)
    pricing.ensure_snapshot()
    if not budgets:
        (data / "config.json").write_text(json.dumps({"budgets": {"daily_usd": None, "weekly_usd": None,
                                                                  "monthly_usd": None}}))
    if records:  # routed runs: learning (on by default) has a state to fold and read
        fill_month(data, records, vary=routed)


def fill_month(data: Path, n: int, vary: Callable[[int, int, str], dict[str, Any]] | None = None,
               warm: bool = True) -> None:
    """n ledger records spread over this month's days (every few minutes of each day), then (``warm``) the
    caches the hooks would have left (id indexes, budget totals, roll-up), so the runs measure the steady
    state.  ``vary(day, i, ts)`` gives fields that replace the template's in record ``i`` of day ``day``."""
    from model_strategy.runtime.base.clock import iso
    from model_strategy.runtime.books import records
    from model_strategy.runtime.books.ledger import Ledger
    from model_strategy.runtime.limits import budget
    from model_strategy.runtime.settings import config

    now = datetime.now(timezone.utc)
    days = max(1, now.day)
    tokens = {"input": 3000, "output": 600, "cache_read": 9000, "cache_write_5m": 300, "cache_write_1h": 0,
              "web_search": 0}
    template = {
        "schema": records.SCHEMA, "kind": "subagent", "project": "/p", "agent_type": "Explore",
        "tool_use_id": None, "background": True, "model_requested": "haiku", "model_actual": "claude-haiku-5-5",
        "model_mismatch": False, "tokens": tokens, "requests": 3, "cost_usd": "0.00075", "unpriced_requests": 0,
        "models": {"claude-haiku-5-5": {**tokens, "requests": 3, "cost_usd": "0.00075", "priced": True}},
        "duration_ms": 1200, "decision": None, "source": "SubagentStop", "outcome": "completed",
        "request_keys": [], "flags": [], "price_source": "genai-prices",
    }
    ledger = Ledger(str(data))
    (data / "daily").mkdir(exist_ok=True)
    per_day = n // days
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for d in range(days):
        count = per_day if d < days - 1 else n - per_day * (days - 1)
        lines = []
        for i in range(count):
            ts = iso(min(now, start + timedelta(days=d, seconds=i * 86_400 // max(count, 1))))
            rec = dict(template, id=f"bench{d}-{i // 50}:a{d}x{i}", session_id=f"bench{d}-{i // 50}",
                       agent_id=f"a{d}x{i}", ts=ts, recorded_at=ts, **(vary(d, i, ts) if vary else {}))
            lines.append(json.dumps(rec, separators=(",", ":")))
        with open(ledger.day_file((start + timedelta(days=d)).date().isoformat()), "a") as fh:
            fh.write("\n".join(lines) + "\n")
    if not warm:
        return
    cfg, _ = config.load(None)
    with ledger.transaction():
        budget.status(ledger, cfg, now)
        for day in ledger.days():
            ledger.index(day)
        ledger.rollup(now.strftime("%Y-%m"))


def pre_payload(i: int, transcript: Path) -> bytes:
    p = json.loads((SAMPLES / "hook-PreToolUse.json").read_text())
    p["tool_use_id"] = f"toolu_bench_{i}"
    p["transcript_path"] = str(transcript)
    return json.dumps(p).encode()


def stop_payload(i: int, agent_transcript: Path) -> bytes:
    p = json.loads((SAMPLES / "hook-SubagentStop.json").read_text())
    p["agent_id"] = f"agent{i:06d}"
    p["agent_transcript_path"] = str(agent_transcript)
    p["transcript_path"] = "/nonexistent.jsonl"
    return json.dumps(p).encode()


_WINDOWS: bytes | None = None


def windows_payload() -> bytes:
    """The captured status-line payload with rate_limits (5-hour, 7-day, spend limit), resets in the future."""
    global _WINDOWS
    if _WINDOWS is None:
        p = json.loads((ROOT / "tests" / "fixtures" / "claude-code-2.1.332" / "statusline-spend-limit.json")
                       .read_text())
        for w in p["rate_limits"].values():
            w["resets_at"] = int(time.time()) + 5 * 3600
        _WINDOWS = json.dumps(p).encode()
    return _WINDOWS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--ab", action="store_true", help="only PreToolUse (full, learning on) vs `python -c pass`")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ms-bench-"))
    run = [str(ROOT / "hooks" / "run")]
    agent_transcript = tmp / "agent.jsonl"
    shutil.copy(SAMPLES / "transcript-subagent-2.jsonl", agent_transcript)
    main_transcript = tmp / "main.jsonl"
    shutil.copy(SAMPLES / "transcript-main.jsonl", main_transcript)

    py = python_for_hooks()
    base_env = dict(os.environ)
    shim = shutil.which("python3") or sys.executable
    b_shim = median_ms(lambda i: timed([shim, "-c", "pass"], b"", base_env), args.runs)
    b_py = median_ms(lambda i: timed([py, "-s", "-c", "pass"], b"", base_env), args.runs)

    setups = [("empty", 0, True), ("empty-nobudget", 0, False),
              ("full", args.records, True), ("full-nobudget", args.records, False)]
    cases: dict[str, Callable[[int], float]] = {
        # the A/B baseline, interleaved with the hooks: the same interpreter, site and all, doing nothing
        "python -c pass": lambda i: timed([py, "-c", "pass"], b"", base_env)}
    if args.ab:
        setups = [("full", args.records, True)]
    for name, records, budgets in setups:
        data = tmp / name
        t0 = time.perf_counter()
        prepare(data, records, budgets)
        if records:
            print(f"(prepared {records:,} records this month in {time.perf_counter() - t0:.1f}s)")
        env = make_env(data)
        start_resident(data, env, pre_payload(0, main_transcript))
        cases[f"pre-{name}"] = lambda i, e=env: timed([*run, "pre_tool_use"], pre_payload(i, main_transcript), e)
        if records and budgets:  # the same hook, each in its own process (no resident)
            own = make_env(data, resident=False)
            cases[f"pre-{name}-own"] = lambda i, e=own: timed([*run, "pre_tool_use"], pre_payload(i, main_transcript),
                                                              e)
        if args.ab:
            continue
        cases[f"rec-{name}"] = lambda i, e=env: timed([*run, "subagent_stop"], stop_payload(i, agent_transcript), e)
        if budgets:
            cases[f"statusline-{name}"] = lambda i, e=env: timed([*run, "statusline"], b"{}", e)
            # a subscriber's payload (rate_limits: windows.json is written once, then left alone)
            cases[f"statusline-windows-{name}"] = lambda i, e=env: timed([*run, "statusline"], windows_payload(), e)
    if args.ab:
        samples = _interleaved(cases, args.runs)
        _print_ab(samples, py, args.records)
        clean(tmp)
        return
    composed = tmp / "empty-composed"
    prepare(composed, 0, True)
    (composed / "statusline-original.json").write_text(json.dumps(
        {"schema": 1, "value": {"type": "command", "command": "echo mine"}}))
    composed_env = make_env(composed)
    cases["statusline-composed-empty"] = lambda i: timed([*run, "statusline"], windows_payload(), composed_env)
    # first run: a fresh data home per run, hooks on whatever python3 PATH gives (no MODEL_STRATEGY_PYTHON)
    def fresh_env(data: Path) -> dict[str, str]:
        env = {k: v for k, v in make_env(data).items() if k != "MODEL_STRATEGY_PYTHON"}
        return env

    def fresh(i: int) -> float:
        data = tmp / f"fresh-{i}"
        data.mkdir()
        return timed([*run, "pre_tool_use"], pre_payload(i, main_transcript), fresh_env(data))

    # each on its own data home: a resident runs one interpreter (another one's hook is refused and stops it)
    warm_system, warm_venv = tmp / "warm-system", tmp / "warm-venv"
    warm_system.mkdir()
    warm_venv.mkdir()
    start_resident(warm_system, fresh_env(warm_system), pre_payload(0, main_transcript))
    start_resident(warm_venv, make_env(warm_venv), pre_payload(0, main_transcript))
    cases["pre-first-run-fresh"] = fresh
    cases["pre-system-python-warm"] = lambda i: timed([*run, "pre_tool_use"], pre_payload(i, main_transcript),
                                                      fresh_env(warm_system))
    cases["pre-venv-python-warm"] = lambda i: timed([*run, "pre_tool_use"], pre_payload(i, main_transcript),
                                                    make_env(warm_venv))
    samples = _interleaved(cases, args.runs)
    results = {key: statistics.median(values) for key, values in samples.items()}

    print(f"\nbaselines: python3 -c pass (shim {shim}) {b_shim:.1f} ms; hook interpreter -c pass {b_py:.1f} ms")
    print(f"{'hook':<34}{'median ms':>10}{'× python3':>11}{'× interp':>10}")
    for key, ms in results.items():
        print(f"{key:<34}{ms:>10.1f}{ms / b_shim:>11.2f}{ms / b_py:>10.2f}")
    print("\ntargets")
    _print_ab(samples, py, args.records)
    pre = results["pre-empty"]
    print(f"  PreToolUse median {pre:.1f} ms (≤ 60) and {pre / b_shim:.2f}× python3 -c pass (≤ 4)")
    rec, rec_full = results["rec-empty"], results["rec-full"]
    print(f"  recording median {rec:.1f} ms (≤ 80); with {args.records:,} records {rec_full:.1f} ms = "
          f"{rec_full / rec:.2f}× empty (≤ 1.15)")
    cost = results["pre-empty"] - results["pre-empty-nobudget"]
    cost_full = results["pre-full"] - results["pre-full-nobudget"]
    print(f"  statusline median {results['statusline-empty']:.1f} ms, {results['statusline-full']:.1f} ms with "
          f"{args.records:,} records; with rate_limits {results['statusline-windows-empty']:.1f} ms; composed with "
          f"the user's own (`echo mine`) {results['statusline-composed-empty']:.1f} ms")
    print(f"  budget check in PreToolUse: +{cost:.1f} ms empty, +{cost_full:.1f} ms with {args.records:,} records "
          f"(≤ 10); PreToolUse full/empty = {results['pre-full'] / pre:.2f}×")
    print(f"  first run (no venv, no caches, no resident yet: it starts one) PreToolUse "
          f"{results['pre-first-run-fresh']:.1f} ms vs warm {results['pre-system-python-warm']:.1f} ms on the "
          f"cached system python, {results['pre-venv-python-warm']:.1f} ms on the venv python")
    clean(tmp)


def clean(tmp: Path) -> None:
    """Stop every data home's resident, then remove the data homes."""
    for lock in tmp.glob(f"*/cache/{resident_mod.LOCK}"):
        resident_mod.stop(str(lock.parent.parent))
    shutil.rmtree(tmp, ignore_errors=True)


def _interleaved(cases: dict[str, Callable[[int], float]], runs: int) -> dict[str, list[float]]:
    """Run i of every case before run i+1 of any, so drift on the machine hits all alike."""
    samples: dict[str, list[float]] = {key: [] for key in cases}
    for i in range(runs + 1):
        for key, fn in cases.items():
            ms = fn(i)
            if i:  # run 0 warms bytecode and page caches
                samples[key].append(ms)
    return samples


def _print_ab(samples: dict[str, list[float]], py: str, records: int) -> None:
    """Issue #15's speed target: PreToolUse (learning on, ``records`` this month) vs `python -c pass`."""
    pre, bare = statistics.median(samples["pre-full"]), statistics.median(samples["python -c pass"])
    own = statistics.median(samples["pre-full-own"])
    print(f"  A/B ({len(samples['pre-full'])} interleaved runs, medians): PreToolUse, learning on, {records:,} "
          f"records, whole process (hooks/run → hook.py) {pre:.1f} ms vs `{py} -c pass` {bare:.1f} ms = "
          f"{pre / bare:.2f}× (≤ 1.5); each hook in its own process (no resident) {own:.1f} ms = "
          f"{own / bare:.2f}×")


if __name__ == "__main__":
    main()
