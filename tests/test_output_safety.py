"""Output is data, never code: names from the ledger (agent types, projects, models, ids) reach a CSV
export without acting as spreadsheet formulas, and a terminal report without acting as rich markup."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import synthrecords
from model_strategy.commands.base import cells
from model_strategy.commands.cli import cli
from model_strategy.commands.knowledge import catalog
from model_strategy.runtime.books.ledger import Ledger

TODAY = "2026-11-26"
FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\t=1+1", "\r=1+1"]


@pytest.fixture
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODEL_STRATEGY_NOW", TODAY)
    monkeypatch.chdir(tmp_path)
    return data_dir


def hostile(names: list[str], *, model: str | None = None, first: int = 0) -> None:
    """One completed subagent record per name, the name used as agent type, project and session id;
    ``model`` replaces the model id (recorded unpriced)."""
    cat = catalog.load()
    rng = random.Random(3)
    ledger = Ledger()
    start = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)
    with ledger.transaction():
        for n, name in enumerate(names, first):
            rec: dict[str, Any] = synthrecords.record(cat, rng, start + timedelta(minutes=n), f"s{n}", n,
                                                      agent="Explore")
            rec.update(agent_type=name, project=name, session_id=name)
            rec["decision"]["agent_type"] = name
            if model is not None:
                (row,) = rec["models"].values()
                rec["models"] = {model: {**row, "cost_usd": None, "priced": False}}
                rec.update(model_actual=model, cost_usd="0", unpriced_requests=row["requests"], flags=["unpriced"])
            ledger.commit(rec)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- CSV


@pytest.mark.parametrize("text", FORMULAS)
def test_cell_neutralises_formula_text(text: str) -> None:
    assert cells.cell(text) == "'" + text


@pytest.mark.parametrize("value", [-2, -0.5, 3, "-2", "-0.125", "+4", "0.0012", "2026-11-26", "Explore", "", None])
def test_cell_keeps_numbers_and_plain_text(value: Any) -> None:
    assert cells.cell(value) == value


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_export_records_csv_neutralises_names(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile(FORMULAS, model='=HYPERLINK("http://m","m")')
    assert cli.main(["export", "records"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert sorted(r["agent_type"] for r in rows) == sorted("'" + f for f in FORMULAS)
    for r in rows:
        assert r["project"] == r["agent_type"] == r["session_id"]
        assert r["model"] == '\'=HYPERLINK("http://m","m")'
        assert int(r["input_tokens"]) >= 0 and r["cost_usd"] == ""  # numbers untouched
    for r in _csv_cells(rows):
        assert not r.startswith(cells.TRIGGERS) or r.lstrip("-").replace(".", "").isdigit()


def _csv_cells(rows: list[dict[str, str]]) -> list[str]:
    return [v for r in rows for v in r.values() if v]


def test_export_records_jsonl_keeps_names_as_they_are(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    hostile(["@SUM(1)"])
    assert cli.main(["export", "records", "--format", "jsonl"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["agent_type"] == "@SUM(1)"  # JSON is not opened as a sheet: the data as it is


def test_export_costs_neutralises_names(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile(FORMULAS, model="@SUM(2)")
    out = tmp_path / "costs.csv"
    assert cli.main(["export", "costs", str(out)]) == 0
    rows = _csv(out.read_bytes().decode())
    assert sorted(r["agent_type"] for r in rows) == sorted("'" + f for f in FORMULAS)
    assert {r["project"] for r in rows} == {"'" + f for f in FORMULAS}
    assert {r["model"] for r in rows} == {"'@SUM(2)"}
    assert all(r["cost_usd"] == "0" and int(r["requests"]) > 0 for r in rows)


def test_writer_keeps_numbers_and_quotes_a_row_with_a_carriage_return() -> None:
    buf = io.StringIO(newline="")
    w = cells.Writer(buf)
    w.writerow(["2026-11-26", "-2+3", -1, "-0.50"])
    w.writerow(["a\rb", 2])
    assert buf.getvalue() == '2026-11-26,\'-2+3,-1,-0.50\n"a\rb","2"\n'
    assert list(csv.reader(io.StringIO(buf.getvalue(), newline=""))) == [
        ["2026-11-26", "'-2+3", "-1", "-0.50"], ["a\rb", "2"]]


# ---------------------------------------------------------------------- terminal markup

MARKUP = ["reviewer[/strict]", "notes[/draft]", "[link=https://evil.example]click[/link]", "[bold]loud", ":smile:"]
REPORTS = [["dashboard"], ["dashboard", "--days", "30"], ["efficiency"], ["efficiency", "reviewer[/strict]"], ["roi"],
           ["recommendations"], ["report"], ["cost"], ["fallback"], ["compare", "sonnet", "haiku"],
           ["history", "agent-type", "--no-import"], ["history", "project", "--no-import"],
           ["history", "session", "--no-import"], ["history", "model", "--no-import"],
           ["history", "daily", "--no-import"], ["budget"]]


@pytest.mark.parametrize("argv", REPORTS, ids=" ".join)
def test_names_render_as_text_never_markup(argv: list[str], env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile(MARKUP)
    hostile(["[link=https://evil.example]m[/link]"], model="[red]model[/red]", first=len(MARKUP))
    width = [] if argv[0] in ("history", "budget") else ["--width", "250"]
    code = cli.main([*argv, *width])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in out + err and "MarkupError" not in out + err
    shown = [name for name in MARKUP if name in out]
    if argv[0] in ("dashboard", "efficiency", "roi") or argv[1:2] in (["agent-type"], ["project"]):
        assert shown, out  # the names this report lists are there, literally
    for name in shown:
        assert name in out
    assert "\x1b]8;" not in out  # never a terminal hyperlink


def test_dashboard_html_shows_a_link_as_text(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile(["[link=https://evil.example]click[/link]"])
    html = tmp_path / "d.html"
    assert cli.main(["dashboard", "--width", "250", "--html", str(html)]) == 0
    capsys.readouterr()
    page = html.read_text()
    assert "evil.example" in page and 'href="https://evil.example"' not in page


ESCAPES = ["\x1b[2Jwiped", "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "bell\x07\x9b31mcsi"]


@pytest.mark.parametrize("argv", [*REPORTS, ["status"]], ids=" ".join)
def test_control_characters_never_reach_the_terminal(argv: list[str], env: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    hostile(ESCAPES, model="\x1b[31mred-model")
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == (2 if "reviewer[/strict]" in argv else 0)  # that one: no such type, the known ones listed
    assert not any(c in out + err for c in "\x1b\x07\x9b"), repr(out + err)
    if argv[0] in ("dashboard", "efficiency", "roi"):
        assert "\ufffd[2Jwiped" in out + err  # shown, made harmless
