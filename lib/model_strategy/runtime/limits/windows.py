"""Subscription windows: the 5-hour / 7-day usage limits and a gateway's spend limit.

Claude Code gives the status line (not the hooks) ``rate_limits`` -- ``five_hour`` / ``seven_day``
with ``used_percentage`` (0-100) and ``resets_at`` (epoch seconds) for subscribers, and
``spend_limit`` (plus ``used_usd``, ``limit_usd``, ``period``) behind a gateway with a spend limit.
The status line stores the latest values here (``windows.json`` in the data dir: written only when
they change, atomically, mode 0600); the PreToolUse budget check reads that one small file and turns
the percentages into policy levels (``budgets.windows`` in the config).  A window whose reset time
has passed is stale and ignored.  Each (window, reset, level) is announced once
(``windows-announced.json``).

Whose windows: the windows belong to the account that reported them, and a session's status line
says which that is -- a subscription's status line carries ``rate_limits``, an API key's never does.
``windows.json`` keeps the sessions whose status line reported them (``sessions``); in a session
(status line, PreToolUse) only a session that reported them sees and acts on them, so an API-key
session after a subscription session has no windows.  A new subscription session has none until its
own status line reports them (Claude Code sends them from the session's first API response on).  In a
terminal (no session) ``budget`` lists them as last reported.

Pace: every change of a window's percentage is kept as a sample (time, percent) for that window;
the pace is the growth since the window's first sample divided by the time since then, and the
forecast says when the window fills at that pace (``None`` when not before it resets).

Standard library only (status line and PreToolUse hot path).
"""

from __future__ import annotations

import os

from model_strategy.runtime.base import clock, paths, store
from model_strategy.runtime.base.kinds import LEVELS, TIERS, tier_index
from model_strategy.runtime.base.kinds import POLICIES as POLICIES  # re-exported for the commands

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, NotRequired, TypedDict

    from model_strategy.runtime.base.decision import Verdict
    from model_strategy.runtime.settings.values import Config

    class Reported(TypedDict):
        """A window as a status-line payload reports it (``parse``)."""
        pct: float  # used, 0-100
        resets_at: int  # epoch seconds
        used_usd: NotRequired[float]  # the spend limit's dollars
        limit_usd: NotRequired[float]
        period: NotRequired[str]

    class Kept(Reported):
        """A window in ``windows.json``."""
        samples: NotRequired[list[list[float]]]  # [epoch seconds, percent] at each change

    class Stored(TypedDict, total=False):
        """``windows.json`` (``{}`` when missing or unreadable)."""
        schema: int
        windows: dict[str, Kept]
        sessions: dict[str, int]  # sessions whose status line reported them -> when first

    class WindowStatus(TypedDict):
        """A current window with its policy level, pace and forecast (``status``)."""
        window: str  # five_hour | seven_day | spend_limit
        label: str
        pct: float
        resets_at: int
        policy: str | None  # the policy level reached (None: none)
        thresholds: Mapping[str, float | None]  # policy -> percent
        pace_per_hour: float | None
        fills_at: float | None
        used_usd: NotRequired[float]
        limit_usd: NotRequired[float]
        period: NotRequired[str]

SCHEMA = 1
NAMES = ("five_hour", "seven_day", "spend_limit")
LABELS = {"five_hour": "5-hour limit", "seven_day": "7-day limit", "spend_limit": "spend limit"}
SHORT = {"five_hour": "5h", "seven_day": "7d", "spend_limit": "spend"}

DEFAULTS: dict[str, Mapping[str, float | None]] = {
    "five_hour": {"warn": None, "downgrade": 70, "haiku_only": 90, "deny": None},
    "seven_day": {"warn": None, "downgrade": 80, "haiku_only": None, "deny": None},
    "spend_limit": {"warn": None, "downgrade": 80, "haiku_only": 95, "deny": None},
}
#: a budget level the decision record can carry, per window policy
AS_BUDGET_LEVEL = {"warn": "info", "downgrade": "warning", "haiku_only": "critical", "deny": "exceeded"}
EFFECT = {"warn": "", "downgrade": "; new agents drop one tier (opus→sonnet→haiku)",
          "haiku_only": "; new agents use haiku", "deny": "; new agent spawns are denied"}
MAX_SESSIONS = 32  # reporting sessions remembered (the most recent)
SAME_WINDOW_S = 600  # a reset time that moved by less than this is the same window (server rounding)
MAX_SAMPLES = 48
FILE = "windows.json"
ANNOUNCED = "windows-announced.json"


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def parse(info: Any) -> dict[str, Reported]:
    """The windows in a status-line payload: ``{name: {"pct", "resets_at", ["used_usd", "limit_usd",
    "period"]}}``; missing or malformed entries are left out (lenient: fields come and go)."""
    rl = info.get("rate_limits") if isinstance(info, dict) else None
    out: dict[str, Reported] = {}
    if not isinstance(rl, dict):
        return out
    for name in NAMES:
        w = rl.get(name)
        if not isinstance(w, dict):
            continue
        pct, reset = _num(w.get("used_percentage")), _num(w.get("resets_at"))
        if pct is None or reset is None:
            continue
        row: Reported = {"pct": round(pct, 2), "resets_at": int(reset)}
        used, limit = _num(w.get("used_usd")), _num(w.get("limit_usd"))
        if used is not None:
            row["used_usd"] = used
        if limit is not None:
            row["limit_usd"] = limit
        if isinstance(w.get("period"), str):
            row["period"] = w["period"][:20]
        out[name] = row
    return out


def same_window(a: Any, b: Any) -> bool:
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) < SAME_WINDOW_S


def _path(root: str | None, name: str) -> str:
    return os.path.join(root or paths.data_dir(), name)


def load(root: str | None = None) -> Stored:
    try:
        data = store.read_json(_path(root, FILE), None)
    except (store.StoreError, OSError):
        return {}
    return data if _ours(data) else {}


def _ours(data: object) -> bool:
    return isinstance(data, dict) and data.get("schema") == SCHEMA and isinstance(data.get("windows"), dict)


def remember(info: Any, now: float | None = None, root: str | None = None) -> bool:
    """Store the payload's windows when they differ from the stored ones.  Returns whether it wrote.
    A payload without ``rate_limits`` (API key, or the session's first status line) changes nothing."""
    new = parse(info)
    if not new:
        return False
    now = clock.epoch() if now is None else now
    stored = load(root)
    old = stored.get("windows", {})
    sessions = _sessions(stored)
    sid = info.get("session_id") if isinstance(info, dict) else None
    merged: dict[str, Kept] = {}
    changed = False
    for name, row in new.items():
        prev = old.get(name) if isinstance(old.get(name), dict) else None
        samples = list(prev.get("samples") or []) if prev else []
        if prev is None or not same_window(prev.get("resets_at"), row["resets_at"]):
            samples = []
        if not samples or samples[-1][1] != row["pct"]:
            samples = [*samples, [int(now), row["pct"]]][-MAX_SAMPLES:]
        cur: Kept = {**row, "samples": samples}
        if prev is None or any(prev.get(k) != cur.get(k) for k in ("pct", "used_usd", "limit_usd", "period")) \
                or not same_window(prev.get("resets_at"), row["resets_at"]):
            changed = True
        else:
            cur = prev  # unchanged: keep the stored row (and its first reset time) as it is
        merged[name] = cur
    for name, prev in old.items():  # a window missing from this payload stays until it resets
        if name not in merged and isinstance(prev, dict):
            merged[name] = prev
    if isinstance(sid, str) and sid and sid not in sessions:
        sessions[sid] = int(now)
        changed = True
    if not changed:
        return False
    keep = dict(sorted(sessions.items(), key=lambda kv: kv[1])[-MAX_SESSIONS:])
    store.atomic_write_json(_path(root, FILE), {"schema": SCHEMA, "windows": merged, "sessions": keep})
    return True


def _sessions(stored: Stored) -> dict[str, int]:
    raw = stored.get("sessions")
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)}


def reported_by(session: str | None, root: str | None = None, stored: Stored | None = None) -> bool:
    """Whether ``session``'s own status line reported the stored windows (``None``: no session, as
    in a terminal -- the windows as last reported count)."""
    if session is None:
        return True
    return bool(session) and session in _sessions(load(root) if stored is None else stored)


# ------------------------------------------------------------------ levels


def _thresholds(cfg: Config, name: str) -> Mapping[str, float | None]:
    conf: Any = cfg.get("budgets", {}).get("windows", {}).get(name)
    return conf if isinstance(conf, dict) else DEFAULTS[name]


def policy_for(pct: float, thresholds: Mapping[str, float | None]) -> str | None:
    level = None
    for pol in POLICIES:
        t = thresholds.get(pol)
        if isinstance(t, (int, float)) and pct >= t:
            level = pol
    return level


def pace(row: Kept, now: float) -> float | None:
    """Percentage points per hour since the window's first sample (None without growth or history)."""
    samples = row.get("samples") or []
    if not samples:
        return None
    t0, p0 = samples[0]
    hours = (now - t0) / 3600
    grown = row["pct"] - p0
    if hours < 1 / 60 or grown <= 0:
        return None
    return float(grown / hours)


def fills_at(row: Kept, now: float) -> float | None:
    """When the window reaches 100 % at the current pace (None: not before it resets)."""
    if row["pct"] >= 100:
        return now
    rate = pace(row, now)
    if not rate:
        return None
    eta = now + (100 - row["pct"]) / rate * 3600
    return eta if eta < row["resets_at"] else None


def status(cfg: Config, now: float | None = None, root: str | None = None,
           session: str | None = None) -> list[WindowStatus]:
    """Every current (not stale) window with its policy level, pace and forecast; with ``session``,
    only when that session reported them (see the module docstring)."""
    now = clock.epoch() if now is None else now
    stored = load(root)
    if not reported_by(session, root, stored):
        return []
    out: list[WindowStatus] = []
    for name, row in stored.get("windows", {}).items():
        if name not in NAMES or not isinstance(row, dict) or not isinstance(row.get("resets_at"), (int, float)):
            continue
        if row["resets_at"] <= now:
            continue  # the window has reset since: stale
        th = _thresholds(cfg, name)
        st: WindowStatus = {"window": name, "label": LABELS[name], "pct": float(row["pct"]),
                            "resets_at": int(row["resets_at"]), "policy": policy_for(float(row["pct"]), th),
                            "thresholds": th, "pace_per_hour": pace(row, now), "fills_at": fills_at(row, now)}
        if "used_usd" in row:
            st["used_usd"] = row["used_usd"]
        if "limit_usd" in row:
            st["limit_usd"] = row["limit_usd"]
        if "period" in row:
            st["period"] = row["period"]
        out.append(st)
    out.sort(key=lambda w: NAMES.index(w["window"]))
    return out


def active(cfg: Config, now: float | None = None, root: str | None = None,
           session: str | None = None) -> list[WindowStatus]:
    """The windows at a policy level right now (``status`` rows whose ``policy`` is set)."""
    return [w for w in status(cfg, now, root, session) if w["policy"]]


def until(ts: float, now: float) -> str:
    """``3h 12m`` / ``2d 4h`` / ``45m``."""
    s = max(0, int(ts - now))
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    if d:
        return f"{d}d {h}h"
    return f"{h}h {m:02d}m" if h else f"{m}m"


def describe(w: WindowStatus, now: float) -> str:
    """``5-hour limit 72% used (resets in 3h 12m)``; the spend limit with its dollars."""
    money = ""
    if "used_usd" in w and "limit_usd" in w:
        money = f", ${w['used_usd']:,.2f} of ${w['limit_usd']:,.2f}"
    return f"{w['label']} {w['pct']:.0f}% used{money} (resets in {until(w['resets_at'], now)})"


def announce(levels: list[WindowStatus], now: float, root: str | None = None) -> list[str]:
    """A line for each (window, reset, level) not announced before; remembered in its own file."""
    if not levels:
        return []
    path = _path(root, ANNOUNCED)
    with store.locked(path + ".lock"):
        try:
            seen = store.read_json(path, {}) or {}
        except store.StoreError:
            seen = {}
        if not isinstance(seen, dict):
            seen = {}
        lines = []
        for w in levels:
            if w["policy"] is None:
                continue  # at no level (``active`` gives none such)
            prev = seen.get(w["window"]) if isinstance(seen.get(w["window"]), dict) else None
            done = list(prev.get("levels") or []) if prev and same_window(prev.get("resets_at"), w["resets_at"]) else []
            if w["policy"] in done:
                continue
            done += [p for p in POLICIES[: POLICIES.index(w["policy"]) + 1] if p not in done]
            seen[w["window"]] = {"resets_at": w["resets_at"], "levels": done}
            lines.append(f"{describe(w, now)}{EFFECT[w['policy']]}")
        if lines:
            store.atomic_write_json(path, seen)
    return lines


# ------------------------------------------------------------------ the PreToolUse policy


def apply(decision: dict[str, Any], cfg: Config, verdict: Verdict, before: str,
          notices: list[str] | None = None, now: float | None = None, root: str | None = None,
          session: str | None = None) -> Verdict:
    """Apply the strictest active window level on top of the budget ``verdict`` (the worst wins).
    ``before`` is the choice before the budget policy; new announcements go to ``notices``.  With
    ``session``, only windows that session's status line reported count."""
    now = clock.epoch() if now is None else now
    levels = active(cfg, now, root, session)
    if notices is not None:
        notices.extend(announce(levels, now, root))
    if not levels or verdict.get("deny"):
        return verdict
    worst = max(levels, key=lambda w: (POLICIES.index(w["policy"]), w["pct"]))
    policy, where = worst["policy"] or "warn", describe(worst, now)  # (``active``: a policy is set)
    if policy == "deny":
        return {"deny": True, "reason": f"{where}; the window policy denies new agents"}
    cur = decision["chosen"]
    idx = tier_index(str(before))
    cur_idx = tier_index(str(cur))
    target = None
    if policy == "downgrade" and idx is not None and idx > 0:
        target = idx - 1
    elif policy == "haiku_only":
        target = 0
    note = f"{worst['label']} {worst['pct']:.0f}%"
    if target is None or (cur_idx is not None and cur_idx <= target):
        joined = "; ".join(n for n in (verdict.get("note"), note) if n)
        return {**verdict, "note": joined}
    new = TIERS[target]
    decision["reasons"].append(f"{where}: window policy {policy} → {new}")
    decision["chosen"] = new
    decision["source"] = "budget"
    levels_order = ("ok", *LEVELS)
    mine = AS_BUDGET_LEVEL[policy]
    if levels_order.index(mine) > levels_order.index(decision.get("budget_level", "ok")):
        decision["budget_level"] = mine
    return {**verdict, "note": f"{note} → {new}"}
