"""Claude Code's ``statusLine`` command (``hooks/run statusline``), composed with the user's own.

Runs every few seconds, so it stays on the hook path's budget: standard library only, small files.

1. The user's previous status line (kept by ``install-statusline`` in ``<data>/statusline-original.json``)
   runs first with the same stdin and a timeout; its output comes first.
2. ``rate_limits`` of the payload go to ``windows.json`` (only when they changed; see ``windows``).
3. The plugin's segment: the subscription windows' percent used when Claude Code reports them, else
   today's spend against the daily budget; the worst level; what routing saved today.

It never fails: any problem gives a one-line ``status unavailable`` segment, never a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from decimal import Decimal

from model_strategy.runtime.base import clock, paths, store
from model_strategy.runtime.base.fastjson import jsonl
from model_strategy.runtime.limits import windows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from model_strategy.runtime.limits.budget import BudgetStatus
    from model_strategy.runtime.limits.windows import WindowStatus

ORIGINAL = "statusline-original.json"
ORIGINAL_TIMEOUT = 2.0  # seconds the user's own status line may take
SAVINGS_CACHE = os.path.join("cache", "statusline-savings.json")
DEFAULT_MAIN_MODEL = "claude-opus-5-5"  # Claude Code 2.1.332's default main-thread model


def money(v: Decimal | float | int) -> str:
    """Dollars with cents where the amount has them: ``$0.20``, ``$12.50``, ``$10``."""
    q = Decimal(str(v)).quantize(Decimal("0.01"))
    return f"${q:,.0f}" if q == q.to_integral_value() else f"${q:,.2f}"


def original_command(root: str) -> str | None:
    try:
        data = store.read_json(os.path.join(root, ORIGINAL), None)
    except (store.StoreError, OSError):
        return None
    value = data.get("value") if isinstance(data, dict) else None
    if isinstance(value, dict) and value.get("type") == "command" and isinstance(value.get("command"), str):
        return str(value["command"])
    return None


def run_original(command: str, raw: str, timeout: float = ORIGINAL_TIMEOUT) -> str:
    """The user's status line output (stdout, trailing newlines dropped); empty on failure/timeout."""
    import subprocess

    try:
        proc = subprocess.run(["/bin/sh", "-c", command], input=raw, capture_output=True, text=True,
                              timeout=timeout, errors="replace")
    except (subprocess.TimeoutExpired, OSError):
        return ""
    return proc.stdout.rstrip("\n")


def savings_today(root: str, now: float) -> Decimal | None:
    """What routing saved today: today's subagents re-priced on the main thread's most used model
    minus what they cost.  Incremental: the records file is append-only, so only the lines added since
    the last status line are read (the running sums live in ``cache/statusline-savings.json``); a file
    that shrank, another day or a change of the main model start over."""
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    daily = os.path.join(root, "daily", f"{day}.json")
    try:
        size = os.stat(daily).st_size
    except OSError:
        return None
    cache = os.path.join(root, SAVINGS_CACHE)
    try:
        state = store.read_json(cache, None)
    except store.StoreError:
        state = None
    if not (isinstance(state, dict) and state.get("day") == day and isinstance(state.get("offset"), int)
            and state["offset"] <= size):
        state = None
    if state is not None and state["offset"] == size:
        return Decimal(state["saved"]) if state.get("saved") is not None else None
    new_state = _advance(daily, day, state)
    if new_state is None:
        return None
    store.atomic_write_json(cache, new_state)
    return Decimal(new_state["saved"])


def _read_lines(path: str, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines after ``offset`` and the offset after the last complete one."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    end = data.rfind(b"\n") + 1
    out = [obj for _, _, obj in jsonl(data[:end]) if isinstance(obj, dict)]
    return out, offset + end


def _advance(daily: str, day: str, state: dict[str, Any] | None) -> dict[str, Any] | None:
    from model_strategy.runtime.money import pricing

    if not os.path.exists(pricing.snapshot_path()):
        return None  # never build the price snapshot (slow) from a status line
    table = pricing.table([])
    records, offset = _read_lines(daily, state["offset"] if state else 0)
    mains: dict[str, int] = dict(state["mains"]) if state else {}
    for r in records:
        if r.get("kind") == "main" and isinstance(r.get("model_actual"), str):
            mains[r["model_actual"]] = mains.get(r["model_actual"], 0) + int(r.get("requests") or 0)
    main = max(sorted(mains), key=lambda m: mains[m]) if mains else DEFAULT_MAIN_MODEL
    if state is not None and state.get("main") != main:  # the main model changed: re-price the whole day
        return _advance(daily, day, None)
    saved = Decimal(state["saved"]) if state else Decimal(0)
    saved += sum((_saved_by(r, main, table) for r in records), Decimal(0))
    return {"day": day, "offset": offset, "mains": mains, "main": main, "saved": str(saved)}


def _saved_by(record: dict[str, Any], main: str, table: Any) -> Decimal:
    from model_strategy.runtime.money import rates

    if record.get("kind") != "subagent":
        return Decimal(0)
    out = Decimal(0)
    for usage in (record.get("models") or {}).values():
        if not isinstance(usage, dict):
            continue
        try:
            tokens = {k: int(usage.get(k) or 0) for k in ("input", "output", "cache_read", "cache_write_5m",
                                                            "cache_write_1h")}
            n = max(1, int(usage.get("requests") or 1))
            per_request = sum(v for k, v in tokens.items() if k != "output") // n
            out += rates.cost(table.prices_for(main), tokens, per_request) - Decimal(str(usage["cost_usd"]))
        except (KeyError, ValueError, TypeError, ArithmeticError, LookupError):
            continue
    return out


WIDTH = 80  # the composed line stays within an 80-column terminal where it can


def segment(info: dict[str, Any], root: str, now: float, room: int = WIDTH) -> str:
    """``model-strategy 5h 42% · 7d 17% · ok · routing saved $0.80 today``, or without windows
    ``model-strategy $3.21 today · 32% of $10 · ok · routing saved $0.80``.  Each figure once: the level
    names the day's percent only when it is not already shown; the routing saving, the least needed
    part, is left out when the line would pass ``room`` columns."""
    from model_strategy.runtime.books.ledger import Ledger
    from model_strategy.runtime.limits import budget
    from model_strategy.runtime.settings import config as config_mod

    cwd = None
    ws = info.get("workspace")
    if isinstance(ws, dict) and isinstance(ws.get("project_dir"), str):
        cwd = ws["project_dir"]
    elif isinstance(info.get("cwd"), str):
        cwd = info["cwd"]
    cfg, _ = config_mod.load(cwd)
    sid = info.get("session_id")
    wins = windows.status(cfg, now, root, sid if isinstance(sid, str) else "")  # this session's windows only
    day, week, month = budget.status(Ledger(root), cfg)
    parts: list[str] = []
    if wins:
        for w in wins:
            text = f"{windows.SHORT[w['window']]} {w['pct']:.0f}%"
            if "used_usd" in w and "limit_usd" in w:
                text += f" ({money(w['used_usd'])} of {money(w['limit_usd'])})"
            parts.append(text)
    else:
        parts.append(f"${day['spent_usd']:.2f} today")
        if day["budget_usd"]:
            parts.append(f"{day['percent']:.0f}% of {money(day['budget_usd'])}")
    parts.append(_level(day, week, month, wins, budget.LEVELS, day_shown=not wins and bool(day["budget_usd"])))
    line = "model-strategy " + " · ".join(parts)
    saved = savings_today(root, now)
    if saved is not None and saved >= Decimal("0.005"):
        more = f" · routing saved {money(saved)}" + (" today" if wins else "")  # without windows "today" is said
        if len(line) + len(more) <= room:
            line += more
    return line


def _level(day: BudgetStatus, week: BudgetStatus, month: BudgetStatus, wins: list[WindowStatus],
           levels: tuple[str, ...], day_shown: bool = False) -> str:
    rank = {"ok": 0, **{name: i + 1 for i, name in enumerate(levels)}}
    worst_budget = max((day, week, month), key=lambda s: rank[s["level"]])
    hot = [w for w in wins if w["policy"]]
    worst_win = max(hot, key=lambda w: (windows.POLICIES.index(w["policy"]), w["pct"])) if hot else None
    win_rank = rank[windows.AS_BUDGET_LEVEL[str(worst_win["policy"])]] if worst_win else 0
    if worst_win and win_rank >= rank[worst_budget["level"]]:
        return f"{windows.SHORT[worst_win['window']]} {str(worst_win['policy']).replace('_', ' ')}"
    if worst_budget["level"] != "ok":
        if day_shown and worst_budget is day:  # "$12.21 today · 1221% of $1 · day exceeded": the % once
            return f"{day['period']} {day['level']}"
        return f"{worst_budget['period']} {worst_budget['level']} {worst_budget['percent']:.0f}%"
    return "ok"


def main(stdin: Any = None, stdout: Any = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    raw = ""
    head = ""
    try:
        raw = stdin.read()
        root = paths.data_dir()
        command = original_command(root)
        if command:
            head = run_original(command, raw)
        try:
            info = store.loads(raw) if raw.strip() else {}
        except ValueError:
            info = {}
        if not isinstance(info, dict):
            info = {}
        now = clock.epoch()
        try:  # noqa: SIM105 - contextlib is not imported on the hot path
            windows.remember(info, now, root)
        except OSError:
            pass  # a read-only data dir must not hide the status line
        beside = head if head.strip() and "\n" not in head else ""  # compose(): ours follows a one-line head
        ours = segment(info, root, now, WIDTH - (len(beside) + 3 if beside else 0))
    except Exception as exc:  # a status line must never show a traceback
        ours = f"model-strategy: status unavailable ({type(exc).__name__})"
    stdout.write(compose(head, ours) + "\n")
    return 0


def compose(head: str, ours: str) -> str:
    """The user's status line first; ours appended to its last line."""
    if not head.strip():
        return ours
    return f"{head} · {ours}" if "\n" not in head else f"{head}\n{ours}"
