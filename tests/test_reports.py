"""Golden output of every report at 100 columns, with and without records, and their JSON form.

Regenerate after an intended change with ``MODEL_STRATEGY_UPDATE_GOLDEN=1 pytest tests/test_reports.py``
and review the diff.  The goldens pin the catalog, the use-case profiles and genai-prices' prices.
"""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import synthrecords
from model_strategy.commands.cli import cli
from model_strategy.commands.knowledge import catalog
from model_strategy.runtime.books.ledger import Ledger

GOLDEN = Path(__file__).parent / "golden"
TODAY = "2026-11-26"
UPDATE = os.environ.get("MODEL_STRATEGY_UPDATE_GOLDEN") == "1"

CASES = {
    "report_code_review_norecords": (False, ["report", "code review"]),
    "report_portfolio_norecords": (False, ["report"]),
    "report_records": (True, ["report"]),
    "report_text_records": (True, ["report", "code review, 500 PRs a day, cheap"]),
    "cost_norecords": (False, ["cost", "150"]),
    "cost_records": (True, ["cost", "300"]),
    "fallback_norecords": (False, ["fallback", "code review, classification"]),
    "fallback_records": (True, ["fallback"]),
    "compare_records": (True, ["compare"]),
    "compare_norecords": (False, ["compare", "sonnet gpt-6.1-sol gemini-3.8-flash"]),
    "catalog_all": (False, ["catalog"]),
    "catalog_filtered": (False, ["catalog", "openai economy"]),
    "dashboard_records": (True, ["dashboard"]),
    "dashboard_norecords": (False, ["dashboard"]),
}


@pytest.fixture
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODEL_STRATEGY_NOW", TODAY)
    monkeypatch.chdir(tmp_path)
    return data_dir


def _records() -> None:
    synthrecords.generate(Ledger(), catalog.load(), date.fromisoformat(TODAY), days=40, per_day=(6, 12), seed=11)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


#: the same reports in an 80-column terminal (``<name>_w80.txt``): they fit and split no identifier
W80 = ("report_records", "cost_records", "fallback_records", "compare_records", "catalog_all", "dashboard_records")


@pytest.mark.parametrize("name, width", [*((n, 100) for n in sorted(CASES)), *((n, 80) for n in W80)])
def test_golden(name: str, width: int, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records, argv = CASES[name]
    if records:
        _records()
    code, out, err = run([*argv, "--width", str(width)], capsys)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= width
    assert not split_words(out), split_words(out)
    path = GOLDEN / (f"{name}.txt" if width == 100 else f"{name}_w{width}.txt")
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(out)
    assert out == path.read_text(), f"{name} differs from {path} (MODEL_STRATEGY_UPDATE_GOLDEN=1 to regenerate)"


def split_words(out: str) -> list[str]:
    """Fragments of an identifier or header cut by a line break: a word of the output that is a proper
    prefix of a model id, an agent type or a column header, cut inside one of its parts
    (``claude-sonnet-5-``, ``Recorded/m``; ``claude`` or ``Recorded`` alone are words of their own)."""
    whole = {*catalog.load().models, *synthrecords.AGENTS, "Recorded/mo", "Saves/mo", "complexity-based",
             "main-thread", "cost-optimised", "quality-first"}
    words = {w.strip(",.;:()[]") for w in out.split()}
    return sorted(w for w in words if w not in whole and any(c in w for c in "-/0123456789")
                  and any(x.startswith(w) and len(x) > len(w) and x[len(w)] not in "-/" for x in whole))


@pytest.mark.parametrize("width", [60, 80, 120])
def test_other_widths_fit(width: int, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    for argv in (["report"], ["cost", "300"], ["compare"], ["dashboard"], ["catalog"], ["fallback"]):
        code, out, _ = run([*argv, "--width", str(width)], capsys)
        assert code == 0
        assert max(len(line) for line in out.splitlines()) <= width, argv


@pytest.mark.parametrize("argv", [["report", "code review"], ["cost", "300"], ["fallback"], ["compare"],
                                  ["catalog"], ["dashboard"]])
def test_json_reports(argv: list[str], env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    code, out, _ = run([*argv, "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["prices"].startswith("genai-prices ") and data["from_records"] is True
    assert data["as_of"] == TODAY and "warnings" in data


def test_report_numbers_add_up(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    _, out, _ = run(["report", "--json"], capsys)
    r = json.loads(out)
    rows = r["usecases"]
    assert Decimal(r["total_monthly"]) == sum(Decimal(u["monthly_cost"]) for u in rows)
    for u in rows:
        assert Decimal(u["monthly_cost"]) == Decimal(u["cost_per_request"]) * Decimal(u["monthly_requests"])
        assert u["primary"] in catalog.load().models
    _, out, _ = run(["cost", "300", "--json"], capsys)
    c = json.loads(out)
    assert Decimal(c["total"]) == sum(Decimal(x["cost"]) for x in c["rows"])
    assert Decimal(c["total"]) == pytest.approx(Decimal(c["recorded_monthly"]))  # all use cases from records
    assert c["budget"] == "300" and c["budget_source"] == "argument"
    for o in c["optimisations"]:
        assert 0 < Decimal(o["low"]) <= Decimal(o["high"]) < Decimal(c["total"])


def test_dashboard_routing_saving(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    _, out, _ = run(["dashboard", "--json", "--days", "30"], capsys)
    d = json.loads(out)
    rt = d["routing"]
    assert rt["main_model"] == "claude-opus-5-5"
    assert Decimal(rt["saved_vs_main"]) == Decimal(rt["on_main_model"]) - Decimal(rt["subagent_cost"]) > 0
    assert sum(rt["decisions"].values()) > 0
    assert sum(Decimal(m["cost"]) for m in d["by_model"]) == Decimal(d["totals"]["cost"])



def test_basis_counts_agents_and_main_thread_apart_and_days_with_records(env: Path) -> None:
    from model_strategy.commands.strategy import reports

    ctx = reports.Context(catalog.load(), {}, Ledger(), date.fromisoformat("2026-11-28"), [])
    ctx._summary = {"records": 11, "agents": 8, "main_records": 3, "requests": 17, "days_with_records": 1,
                    "days": 30, "start": "2026-10-30", "end": "2026-11-28", "errors": []}
    assert ctx.header("x")["basis"] == ("your records: 8 agents and 3 main-thread records, 17 requests on 1 day "
                                        "with records in the last 30 days (2026-10-30 to 2026-11-28), scaled to a "
                                        "30-day month")
    ctx._summary.update(records=1, agents=1, main_records=0, requests=1)
    assert ctx.header("x")["basis"].startswith("your records: 1 agent, 1 request on 1 day with records")


@pytest.mark.parametrize("group", ["model", "agent-type", "session", "project", "daily"])
def test_history_fits_80_columns_with_whole_names(group: str, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    code, out, err = run(["history", group, "--no-import", "--width", "80"], capsys)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out and not split_words(out), out  # ids whole: the token counts go compact (6.9M) instead
    if group == "model":
        assert "claude-sonnet-5-5 " in out
    code, wide, _ = run(["history", group, "--no-import", "--width", "120"], capsys)
    assert "," in wide.splitlines()[5]  # with room, the exact counts


def test_budget_fits_80_columns(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synthrecords.spend(Ledger(), "123.4567")
    code, out, err = run(["budget", "--width", "80"], capsys)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80, out  # the table and its rule too
    assert "…" not in out and "Forecast" in out and "Policy" in out
