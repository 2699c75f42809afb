"""The composed status line (runtime/entry/statusline.py) and its installer (commands/cli/statusline_install.py)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import synthrecords
from model_strategy.commands.cli import budget_cli, statusline_install
from model_strategy.runtime.base import clock
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import statusline

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def line(stdin: str) -> str:
    out = io.StringIO()
    assert statusline.main(io.StringIO(stdin), out) == 0
    return out.getvalue()


def live(samples: Path, name: str, **pct: float) -> str:
    data: dict[str, Any] = json.loads((samples / f"statusline-{name}.json").read_text())
    for key, w in (data.get("rate_limits") or {}).items():
        w["resets_at"] = int(clock.epoch()) + {"five_hour": 5 * 3600}.get(key, 6 * 86400)
        if key in pct:
            w["used_percentage"] = pct[key]
    return json.dumps(data)


def spend(amount: str) -> None:
    synthrecords.spend(Ledger(), amount)


@pytest.mark.parametrize(("value", "shown"), [("0.2", "$0.20"), ("12.5", "$12.50"), ("10", "$10"), ("0", "$0"),
                                              ("1234.567", "$1,234.57"), (15.5, "$15.50"), (50, "$50")])
def test_money_has_cents_where_it_has_them(value: Any, shown: str) -> None:
    assert statusline.money(value) == shown


def test_api_key_payload_shows_todays_spend(samples: Path) -> None:
    spend("0.2")
    assert line((samples / "statusline-api-key.json").read_text()) == "model-strategy $0.20 today · 2% of $10 · ok\n"


def test_windows_replace_dollars_and_set_the_level(samples: Path, data_dir: Path) -> None:
    assert line(live(samples, "rate-limits")) == "model-strategy 5h 42% · 7d 17% · ok\n"
    assert line(live(samples, "rate-limits", five_hour=72)) == "model-strategy 5h 72% · 7d 17% · 5h downgrade\n"
    assert line(live(samples, "spend-limit", five_hour=91)) == \
        "model-strategy 5h 91% · 7d 17% · spend 31% ($15.50 of $50) · 5h haiku only\n"
    # a later payload without rate_limits (a new session's first status line) keeps showing the stored windows
    assert line((samples / "statusline-first-no-rate-limits.json").read_text()).startswith("model-strategy 5h 91%")


def test_budget_level_beats_a_lower_window_level(samples: Path) -> None:
    spend("10.5")
    out = line(live(samples, "rate-limits", five_hour=72))
    assert out == "model-strategy 5h 72% · 7d 17% · day exceeded 105%\n"


def test_each_figure_once_and_within_80_columns(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spend("12.21")
    budget_cli.write_global({"budgets": {"daily_usd": "1"}})
    monkeypatch.setattr(statusline, "savings_today", lambda root, now: Decimal("0.80"))
    out = line("{}")
    assert out == "model-strategy $12.21 today · 1221% of $1 · day exceeded · routing saved $0.80\n"
    assert out.count("1221%") == 1 and len(out.rstrip("\n")) <= 80
    monkeypatch.setattr(statusline, "original_command", lambda root: "printf mine")
    out = line("{}")  # after the user's own line there is no room for the saving: it is left out, nothing cut
    assert out == "mine · model-strategy $12.21 today · 1221% of $1 · day exceeded\n"
    assert len(out.rstrip("\n")) <= 80
    monkeypatch.setattr(statusline, "original_command", lambda root: "printf 'two\\nlines of mine'")
    assert line("{}").endswith("\nmodel-strategy $12.21 today · 1221% of $1 · day exceeded · routing saved $0.80\n")


def test_bad_stdin_never_shows_a_traceback(data_dir: Path) -> None:
    for raw in ("", "not json", "[1, 2]", '{"rate_limits": {"five_hour": "x"}}', '{"workspace": 3}'):
        out = line(raw)
        assert out.startswith("model-strategy ") and "Traceback" not in out


def test_routing_savings_today_incremental(data_dir: Path) -> None:
    day = "2026-11-26"
    (data_dir / "daily").mkdir()
    daily = data_dir / "daily" / f"{day}.json"
    lines = (FIXTURES / "archive-v1" / "daily" / f"{day}.json").read_text().splitlines(keepends=True)
    daily.write_text("".join(lines[:2]))  # the main thread's record and one subagent
    now = datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp()
    first = statusline.savings_today(str(data_dir), now)
    assert first is not None and first > 0  # a haiku subagent re-priced on the main thread's opus
    cache = data_dir / statusline.SAVINGS_CACHE
    state = json.loads(cache.read_text())
    assert state["offset"] == daily.stat().st_size and state["main"] == "claude-opus-5-5"
    state["saved"] = "7.25"  # proves the next call reads the sums, not the records
    cache.write_text(json.dumps(state))
    assert statusline.savings_today(str(data_dir), now) == Decimal("7.25")
    with daily.open("a") as fh:
        fh.write("".join(lines[2:]))
        fh.write('{"kind": "subagent", "partial')  # a line still being written is left for later
    more = statusline.savings_today(str(data_dir), now)
    assert more is not None and more > Decimal("7.25")
    cache.unlink()  # from scratch: the same total as the increments (on the real numbers)
    daily.write_text("".join(lines))
    whole = statusline.savings_today(str(data_dir), now)
    assert whole == first + (more - Decimal("7.25"))
    assert statusline.savings_today(str(data_dir), now + 86400) is None  # no records the next day


# ------------------------------------------------------------------ composing with the user's own line


def install(tmp_path: Path, text: str | None) -> Path:
    settings = tmp_path / "settings.json"
    if text is not None:
        settings.write_text(text)
    statusline_install.install(str(settings))
    return settings


ORIGINAL = ('{\n    "model":   "opus",\n    "statusLine": { "type": "command",  "command": "printf \'%s\' mine",'
            ' "padding": 1e0 },\n  "env": {"A": "1"}\n}\n')


def test_install_keeps_the_users_line_and_uninstall_restores_it_byte_for_byte(tmp_path: Path) -> None:
    settings = install(tmp_path, ORIGINAL)
    data = json.loads(settings.read_text())
    assert data["model"] == "opus" and data["env"] == {"A": "1"}
    assert statusline_install.is_ours(data["statusLine"])
    assert data["statusLine"]["padding"] == 1  # the entry's other keys stay while the plugin's line is in
    assert line("{}") == "mine · model-strategy $0.00 today · 0% of $10 · ok\n"
    statusline_install.install(str(settings))  # installing again keeps the user's original
    assert line("{}").startswith("mine · ")
    assert statusline_install.uninstall(str(settings)).startswith("model-strategy: restored")
    assert settings.read_text() == ORIGINAL
    assert line("{}") == "model-strategy $0.00 today · 0% of $10 · ok\n"


@pytest.mark.parametrize("text", ['{"model": "opus"}', '{\n  "model": "opus",\n  "x": [1, 2]\n}\n', "{}", "{ }\n"])
def test_uninstall_removes_an_added_entry_byte_for_byte(tmp_path: Path, text: str) -> None:
    settings = install(tmp_path, text)
    assert "statusLine" in json.loads(settings.read_text())
    statusline_install.uninstall(str(settings))
    assert settings.read_text() == text


def test_install_keeps_padding_zero(tmp_path: Path) -> None:
    settings = install(tmp_path, '{"statusLine": {"type": "command", "command": "mine", "padding": 0}}')
    entry = json.loads(settings.read_text())["statusLine"]
    assert entry["padding"] == 0 and statusline_install.is_ours(entry) and list(entry) == ["type", "command", "padding"]
    statusline_install.install(str(settings))  # again: still kept
    assert json.loads(settings.read_text())["statusLine"]["padding"] == 0
    statusline_install.uninstall(str(settings))
    assert settings.read_text() == '{"statusLine": {"type": "command", "command": "mine", "padding": 0}}'


def test_no_settings_file_before_means_none_after(tmp_path: Path) -> None:
    settings = install(tmp_path, None)
    assert statusline_install.is_ours(json.loads(settings.read_text())["statusLine"])
    statusline_install.uninstall(str(settings))
    assert not settings.exists()


def test_uninstall_leaves_a_foreign_status_line_alone(tmp_path: Path) -> None:
    settings = install(tmp_path, ORIGINAL)
    changed = settings.read_text().replace("hooks/run", "other/run")
    settings.write_text(changed)
    assert "not the plugin's" in statusline_install.uninstall(str(settings))
    assert settings.read_text() == changed


def test_broken_settings_change_nothing(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    for text in ("{broken", "[1]", '{"a": 1} x'):
        settings.write_text(text)
        with pytest.raises(ValueError, match="nothing was changed"):
            statusline_install.install(str(settings))
        assert settings.read_text() == text


def test_users_line_gets_the_same_stdin_and_a_timeout(tmp_path: Path, samples: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "seen.json"
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"statusLine": {"type": "command", "command": f"cat > {seen}; echo theirs"}}))
    statusline_install.install(str(settings))
    raw = live(samples, "rate-limits")
    assert line(raw).startswith("theirs · model-strategy 5h 42%")
    assert seen.read_text() == raw
    settings.write_text(json.dumps({"statusLine": {"type": "command", "command": "sleep 5; echo late"}}))
    statusline_install.uninstall(str(settings))
    statusline_install.install(str(settings))
    monkeypatch.setattr(statusline, "ORIGINAL_TIMEOUT", 0.3)
    monkeypatch.setattr(statusline.run_original, "__defaults__", (0.3,))
    assert line(raw).startswith("model-strategy 5h 42%")  # too slow: left out, ours still shows


def test_a_linked_settings_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles-settings.json"
    target.write_text(ORIGINAL)
    settings = tmp_path / "settings.json"
    settings.symlink_to(target)
    with pytest.raises(ValueError, match="symbolic link; nothing was changed"):
        statusline_install.install(str(settings))
    assert settings.is_symlink() and target.read_text() == ORIGINAL


def test_installed_settings_are_private(tmp_path: Path) -> None:
    settings = install(tmp_path, '{"model": "opus"}')
    assert settings.stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
