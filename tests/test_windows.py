"""Subscription windows: parsing the real status-line payloads, the snapshot, levels, pace, announcements
and the PreToolUse policy (worst of budget and window levels)."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import synthrecords
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.limits import budget, windows
from model_strategy.runtime.settings import config

NOW = 1_800_000_000.0


def payload(samples: Path, name: str, **pct: float) -> dict[str, Any]:
    """A captured payload with its reset times moved after NOW (and optional percentages)."""
    data: dict[str, Any] = json.loads((samples / f"statusline-{name}.json").read_text())
    for key, w in (data.get("rate_limits") or {}).items():
        w["resets_at"] = int(NOW) + {"five_hour": 5 * 3600, "seven_day": 7 * 86400}.get(key, 20 * 86400)
        if key in pct:
            w["used_percentage"] = pct[key]
    return data


def test_parse_real_payloads(samples: Path) -> None:
    assert windows.parse(json.loads((samples / "statusline-api-key.json").read_text())) == {}
    assert windows.parse(json.loads((samples / "statusline-first-no-rate-limits.json").read_text())) == {}
    rl = windows.parse(json.loads((samples / "statusline-rate-limits.json").read_text()))
    assert set(rl) == {"five_hour", "seven_day"}
    assert rl["five_hour"]["pct"] == 42 and rl["seven_day"]["pct"] == 17
    assert isinstance(rl["five_hour"]["resets_at"], int)
    sl = windows.parse(json.loads((samples / "statusline-spend-limit.json").read_text()))["spend_limit"]
    assert sl["pct"] == 31 and sl["used_usd"] == 15.5 and sl["limit_usd"] == 50 and sl["period"] == "monthly"


@pytest.mark.parametrize("bad", [None, [], "x", {"rate_limits": []}, {"rate_limits": {"five_hour": {}}},
                                 {"rate_limits": {"five_hour": {"used_percentage": "42", "resets_at": 1}}},
                                 {"rate_limits": {"five_hour": {"used_percentage": True, "resets_at": 1}}}])
def test_parse_is_lenient(bad: Any) -> None:
    assert windows.parse(bad) == {}


def test_remember_writes_only_on_change_atomically_0600(samples: Path, data_dir: Path) -> None:
    snap = data_dir / windows.FILE
    assert windows.remember(payload(samples, "api-key"), NOW) is False and not snap.exists()
    assert windows.remember(payload(samples, "rate-limits"), NOW) is True
    assert stat.S_IMODE(os.stat(snap).st_mode) == 0o600
    ino = os.stat(snap).st_ino
    assert windows.remember(payload(samples, "rate-limits"), NOW + 5) is False  # same numbers: no write
    assert os.stat(snap).st_ino == ino
    assert windows.remember(payload(samples, "rate-limits", five_hour=50), NOW + 600) is True
    assert os.stat(snap).st_ino != ino  # replaced, not rewritten in place
    row = json.loads(snap.read_text())["windows"]["five_hour"]
    assert row["samples"] == [[int(NOW), 42], [int(NOW) + 600, 50]]
    # no rate_limits (API key, or a new session's first status line): the stored windows stay
    assert windows.remember(payload(samples, "first-no-rate-limits"), NOW + 700) is False
    assert [f for f in os.listdir(data_dir) if f.endswith(".tmp")] == []


def test_new_window_restarts_the_samples(samples: Path, data_dir: Path) -> None:
    windows.remember(payload(samples, "rate-limits", five_hour=80), NOW)
    nxt = payload(samples, "rate-limits", five_hour=3)
    nxt["rate_limits"]["five_hour"]["resets_at"] += 5 * 3600
    assert windows.remember(nxt, NOW + 5 * 3600 + 10)
    assert windows.load()["windows"]["five_hour"]["samples"] == [[int(NOW) + 5 * 3600 + 10, 3]]


def test_stale_snapshot_is_ignored(samples: Path, data_dir: Path) -> None:
    cfg, _ = config.load(None)
    windows.remember(payload(samples, "rate-limits", five_hour=95), NOW)
    assert [w["window"] for w in windows.active(cfg, NOW + 60)] == ["five_hour"]
    assert windows.active(cfg, NOW + 5 * 3600 + 1) == []  # the 5-hour window has reset since
    assert [w["window"] for w in windows.status(cfg, NOW + 5 * 3600 + 1)] == ["seven_day"]


@pytest.mark.parametrize(("pct", "policy"), [(69.9, None), (70, "downgrade"), (89, "downgrade"), (90, "haiku_only"),
                                             (100, "haiku_only")])
def test_default_five_hour_levels(pct: float, policy: str | None) -> None:
    assert windows.policy_for(pct, windows.DEFAULTS["five_hour"]) == policy


def test_levels_come_from_the_config(samples: Path, data_dir: Path) -> None:
    (data_dir / "config.json").write_text(json.dumps(
        {"budgets": {"windows": {"seven_day": {"warn": 10, "deny": 15}}}}))
    cfg, warnings = config.load(None)
    assert warnings == []
    assert cfg["budgets"]["windows"]["seven_day"] == {"warn": 10, "downgrade": 80, "haiku_only": None, "deny": 15}
    windows.remember(payload(samples, "rate-limits"), NOW)  # seven_day 17 %
    (w,) = windows.active(cfg, NOW)
    assert w["window"] == "seven_day" and w["policy"] == "deny"


def test_bad_window_config_is_one_line(data_dir: Path) -> None:
    (data_dir / "config.json").write_text(json.dumps({"budgets": {"windows": {"five_hour": {"downgrade": 170}}}}))
    _cfg, warnings = config.load(None)
    assert len(warnings) == 1 and "budgets.windows.five_hour.downgrade" in warnings[0]


def test_pace_and_forecast(samples: Path, data_dir: Path) -> None:
    cfg, _ = config.load(None)
    windows.remember(payload(samples, "rate-limits", five_hour=20), NOW)
    windows.remember(payload(samples, "rate-limits", five_hour=40), NOW + 3600)
    (five,) = [w for w in windows.status(cfg, NOW + 3600) if w["window"] == "five_hour"]
    assert five["pace_per_hour"] == pytest.approx(20)
    assert five["fills_at"] == pytest.approx(NOW + 3600 + 3 * 3600)  # 60 points left at 20 per hour
    (seven,) = [w for w in windows.status(cfg, NOW + 3600) if w["window"] == "seven_day"]
    assert seven["pace_per_hour"] is None and seven["fills_at"] is None  # no growth seen
    slow = {"pct": 50.0, "resets_at": NOW + 3600, "samples": [[NOW - 3600, 49.0]]}
    assert windows.fills_at(slow, NOW) is None  # not before the reset at this pace


def test_announced_once_per_window_and_level(samples: Path, data_dir: Path) -> None:
    cfg, _ = config.load(None)
    windows.remember(payload(samples, "rate-limits", five_hour=72), NOW)
    (line,) = windows.announce(windows.active(cfg, NOW), NOW)
    assert line == "5-hour limit 72% used (resets in 5h 00m); new agents drop one tier (opus→sonnet→haiku)"
    assert windows.announce(windows.active(cfg, NOW + 60), NOW + 60) == []
    windows.remember(payload(samples, "rate-limits", five_hour=93), NOW + 120)
    (line,) = windows.announce(windows.active(cfg, NOW + 120), NOW + 120)
    assert "5-hour limit 93% used" in line and line.endswith("; new agents use haiku")
    assert windows.announce(windows.active(cfg, NOW + 180), NOW + 180) == []
    assert stat.S_IMODE(os.stat(data_dir / windows.ANNOUNCED).st_mode) == 0o600
    nxt = payload(samples, "rate-limits", five_hour=75)  # the next 5-hour window: announced again
    nxt["rate_limits"]["five_hour"]["resets_at"] += 5 * 3600
    windows.remember(nxt, NOW + 5 * 3600 + 10)
    assert len(windows.announce(windows.active(cfg, NOW + 5 * 3600 + 10), NOW + 5 * 3600 + 10)) == 1


def decision(chosen: str = "opus") -> dict[str, Any]:
    return {"chosen": chosen, "requested": None, "reasons": [], "source": "complexity", "agent_type": "x"}


@pytest.mark.parametrize(("pct", "chosen", "expect"), [(50, "opus", "opus"), (72, "opus", "sonnet"),
                                                       (72, "haiku", "haiku"), (91, "opus", "haiku"),
                                                       (91, "sonnet", "haiku")])
def test_window_policy_in_pretooluse(samples: Path, data_dir: Path, pct: float, chosen: str, expect: str) -> None:
    cfg, _ = config.load(None)
    windows.remember(payload(samples, "rate-limits", five_hour=pct), NOW)
    d = decision(chosen)
    archive = Ledger()
    verdict = budget.apply_policy(d, cfg, archive, datetime.fromtimestamp(NOW, timezone.utc))
    assert d["chosen"] == expect and not verdict.get("deny")
    if expect != chosen:
        assert d["source"] == "budget" and d["budget_level"] in ("warning", "critical")
        assert verdict["note"] == f"5-hour limit {pct}%" and verdict["picked"] == chosen
        assert any("window policy" in r for r in d["reasons"])
        assert len(archive.notices) == 1 and archive.notices[0].startswith(f"5-hour limit {pct}% used")


def test_worst_of_budget_and_window_wins(samples: Path, data_dir: Path) -> None:
    (data_dir / "config.json").write_text(json.dumps({"budgets": {"daily_usd": "10", "timezone": "UTC"}}))
    cfg, _ = config.load(None)
    now = datetime.fromtimestamp(NOW, timezone.utc)
    archive = Ledger()
    synthrecords.spend(archive, "9.5", now)  # 95 %: critical -> downgrade
    windows.remember(payload(samples, "rate-limits", five_hour=72), NOW)  # downgrade too: not twice
    d = decision("opus")
    budget.apply_policy(d, cfg, archive, now)
    assert d["chosen"] == "sonnet"
    windows.remember(payload(samples, "rate-limits", five_hour=95), NOW + 1)  # haiku only beats downgrade
    d = decision("opus")
    verdict = budget.apply_policy(d, cfg, archive, now)
    assert d["chosen"] == "haiku" and verdict["picked"] == "opus"
    assert verdict["note"] == "5-hour limit 95%"


def test_window_deny(samples: Path, data_dir: Path) -> None:
    (data_dir / "config.json").write_text(json.dumps({"budgets": {"windows": {"five_hour": {"deny": 98}}}}))
    cfg, _ = config.load(None)
    windows.remember(payload(samples, "rate-limits", five_hour=99), NOW)
    verdict = budget.apply_policy(decision(), cfg, Ledger(), datetime.fromtimestamp(NOW, timezone.utc))
    assert verdict["deny"] and verdict["reason"].startswith("5-hour limit 99% used (resets in 5h 00m)")


def test_no_windows_changes_nothing(data_dir: Path) -> None:
    cfg, _ = config.load(None)
    d = decision("opus")
    assert budget.apply_policy(d, cfg, Ledger()) == {}
    assert d["chosen"] == "opus" and not (data_dir / windows.ANNOUNCED).exists()


def test_budget_table_and_json_list_the_windows(samples: Path, data_dir: Path) -> None:
    from model_strategy.commands.cli import budget_cli
    from model_strategy.commands.render import render_budget

    windows.remember(payload(samples, "spend-limit", five_hour=20), NOW - 3600)
    windows.remember(payload(samples, "spend-limit", five_hour=40), NOW)
    cfg, _ = config.load(None)
    rows = budget_cli.window_rows(cfg, str(data_dir), NOW)
    five = rows[0]
    assert five["window"] == "five_hour" and five["percent"] == 40 and five["resets_in"] == "5h 00m"
    assert five["pace_percent_per_hour"] == 20 and five["level"] == "ok"
    assert five["fills_at"] == datetime.fromtimestamp(NOW + 3 * 3600, timezone.utc).isoformat(timespec="seconds")
    assert rows[2]["used_usd"] == 15.5 and rows[2]["limit_usd"] == 50 and rows[2]["period"] == "monthly"
    data = budget_cli.report_data()
    data["windows"] = rows
    text = render_budget.text(data, 100)
    assert "Subscription windows" in text and "5-hour limit" in text and "31% ($15.50 of $50)" in text
    assert five["fills_at"][11:16] + "Z" in text
    assert "Window policy: 5-hour limit ≥70% → downgrade, ≥90% → haiku_only" in text.replace("\n", " ")
    assert max(len(line) for line in text.splitlines()) <= 100
    json.dumps(data)  # --json prints this


def test_budget_set_window(data_dir: Path) -> None:
    from model_strategy.commands.cli import cli

    assert cli.main(["budget", "set", "window", "five_hour", "downgrade", "60"]) == 0
    assert cli.main(["budget", "set", "window", "seven_day", "downgrade", "none"]) == 0
    cfg, warnings = config.load(None)
    assert warnings == []
    assert cfg["budgets"]["windows"]["five_hour"]["downgrade"] == 60
    assert cfg["budgets"]["windows"]["seven_day"]["downgrade"] is None
    assert cli.main(["budget", "set", "window", "ten_hour", "downgrade", "60"]) == 2
    assert cli.main(["budget", "set", "window", "five_hour", "downgrade", "160"]) == 2
