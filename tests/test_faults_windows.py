"""Stale subscription windows (issue 14): windows belong to the session whose status line reported
them.  After a subscription session at 95 % of its 5-hour window, a later API-key session (no
``rate_limits`` in its status line) neither shows nor acts on them -- real processes: the status line
and PreToolUse through ``hooks/run``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from model_strategy.runtime.base import clock
from model_strategy.runtime.limits import windows
from sessionlab import ROOT, Session, venv_python
from test_hook_processes import run_hook

SUB = "a6060c2e-1326-4896-abd3-e8b74dff9584"  # the subscription session of the captured payloads
API = "991c2506-ee82-4568-821e-d2fbdd86cee8"  # the API-key session


def status_payload(samples: Path, name: str, **pct: float) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((samples / f"statusline-{name}.json").read_text())
    now = int(clock.epoch())
    for key, w in (data.get("rate_limits") or {}).items():
        w["resets_at"] = now + {"five_hour": 4 * 3600, "seven_day": 6 * 86400}.get(key, 20 * 86400)
        if key in pct:
            w["used_percentage"] = pct[key]
    return data


def status_line(payload: dict[str, Any]) -> str:
    env = {**os.environ, "MODEL_STRATEGY_PYTHON": venv_python()}
    out = subprocess.run([str(ROOT / "hooks" / "run"), "statusline"], input=json.dumps(payload), text=True,
                         capture_output=True, env=env, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return out.stdout


def spawn(lab: Session, session: str) -> str:
    payload = lab.pre("B")  # asks for opus-grade work: a window at 95 % takes it to haiku
    payload["session_id"] = session
    code, out, err = run_hook("pre_tool_use", payload)
    assert code == 0 and err == ""
    assert out is not None
    return str(out["systemMessage"])


def test_api_key_session_after_a_subscription_has_no_windows(samples: Path, tmp_path: Path) -> None:
    lab = Session(samples, tmp_path)
    sub = status_line(status_payload(samples, "rate-limits", five_hour=95))
    assert "5h 95%" in sub and "5h haiku only" in sub
    assert "→ haiku" in spawn(lab, SUB) and "5-hour limit" in spawn(lab, SUB)  # the subscription session acts

    api = status_line(status_payload(samples, "api-key"))
    assert "5h" not in api and "haiku only" not in api, api
    assert api.startswith("model-strategy $") and "today" in api
    msg = spawn(lab, API)
    assert "5-hour limit" not in msg and "→ opus" in msg and "haiku" not in msg, msg

    assert "5h 95%" in status_line(status_payload(samples, "rate-limits", five_hour=95))  # still the sub's


def test_first_status_line_of_a_new_session_shows_none(samples: Path, data_dir: Path) -> None:
    """A new session (not yet reported rate_limits) does not inherit another session's windows; the
    stored windows stay for the session that reported them."""
    status_line(status_payload(samples, "rate-limits", five_hour=95))
    first = status_payload(samples, "first-no-rate-limits")
    first["session_id"] = "new-session"
    assert "5h" not in status_line(first)
    assert windows.status({}, clock.epoch(), str(data_dir), "new-session") == []
    assert [w["window"] for w in windows.status({}, clock.epoch(), str(data_dir), SUB)] == ["five_hour", "seven_day"]
    assert len(windows.status({}, clock.epoch(), str(data_dir))) == 2  # a terminal: as last reported


def test_two_subscription_sessions_both_see_them(samples: Path, data_dir: Path) -> None:
    status_line(status_payload(samples, "rate-limits", five_hour=95))
    other = status_payload(samples, "rate-limits", five_hour=95)
    other["session_id"] = "second-sub"
    assert "5h 95%" in status_line(other)  # same numbers, another session: it is added
    stored = json.loads((data_dir / "windows.json").read_text())
    assert set(stored["sessions"]) == {SUB, "second-sub"}
