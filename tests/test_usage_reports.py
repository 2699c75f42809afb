"""The usage reports -- dashboard, efficiency, roi, recommendations, exports -- and the daily roll-ups
they are built from.

Goldens at 100 columns in ``tests/golden/usage_*.txt`` (regenerate with
``MODEL_STRATEGY_UPDATE_GOLDEN=1``).  The figures are checked against sums taken straight from the
ledger, so the roll-ups cannot drift from the records they summarise.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import synthrecords
from model_strategy.commands.cli import cli
from model_strategy.commands.knowledge import catalog
from model_strategy.commands.usage import daily, efficiency, insights, roi
from model_strategy.runtime.base.clock import iso
from model_strategy.runtime.books import records
from model_strategy.runtime.books.ledger import Ledger

GOLDEN = Path(__file__).parent / "golden"
TODAY = "2026-11-26"
UPDATE = os.environ.get("MODEL_STRATEGY_UPDATE_GOLDEN") == "1"

CASES = {
    "usage_dashboard_7d": (True, ["dashboard"]),
    "usage_dashboard_30d": (True, ["dashboard", "--days", "30"]),
    "usage_dashboard_norecords": (False, ["dashboard"]),
    "usage_efficiency": (True, ["efficiency"]),
    "usage_efficiency_one": (True, ["efficiency", "test-writer", "--days", "40"]),
    "usage_efficiency_norecords": (False, ["efficiency"]),
    "usage_roi": (True, ["roi"]),
    "usage_roi_rate": (True, ["roi", "--hourly-rate", "120", "--days", "14"]),
    "usage_roi_norecords": (False, ["roi"]),
    "usage_recommendations": (True, ["recommendations"]),
    "usage_recommendations_norecords": (False, ["recommendations"]),
}


@pytest.fixture
def env(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODEL_STRATEGY_NOW", TODAY)
    monkeypatch.chdir(tmp_path)
    return data_dir


def _records() -> None:
    synthrecords.generate(Ledger(), catalog.load(), date.fromisoformat(TODAY), days=40, per_day=(6, 12), seed=11,
                          variety=True)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def as_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def ledger_records(start: str, end: str) -> list[dict[str, Any]]:
    return list(Ledger().iter_records(start, end))  # type: ignore[arg-type]


def window(days: int) -> tuple[str, str]:
    end = date.fromisoformat(TODAY)
    return (end - timedelta(days=days - 1)).isoformat(), TODAY


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with_records, argv = CASES[name]
    if with_records:
        _records()
    code, out, err = run([*argv, "--width", "100"], capsys)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 100
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        path.write_text(out)
    assert out == path.read_text(), f"{name} differs from {path} (MODEL_STRATEGY_UPDATE_GOLDEN=1 to regenerate)"


@pytest.mark.parametrize("name", ["usage_dashboard_30d", "usage_efficiency", "usage_roi", "usage_recommendations"])
def test_golden_80_columns(name: str, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In an 80-column terminal: every line fits and no identifier or header is cut (``<name>_w80.txt``)."""
    from test_reports import split_words

    _records()
    code, out, err = run([*CASES[name][1], "--width", "80"], capsys)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80
    assert not split_words(out), split_words(out)
    path = GOLDEN / f"{name}_w80.txt"
    if UPDATE:
        path.write_text(out)
    assert out == path.read_text(), f"{name} differs from {path} (MODEL_STRATEGY_UPDATE_GOLDEN=1 to regenerate)"


@pytest.mark.parametrize("width", [60, 80, 120])
def test_other_widths_fit(width: int, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    for argv in (["dashboard"], ["efficiency"], ["roi"], ["recommendations"]):
        code, out, _ = run([*argv, "--width", str(width)], capsys)
        assert code == 0
        assert max(len(line) for line in out.splitlines()) <= width, argv


# ---------------------------------------------------------------------- dashboard figures vs the ledger


def test_dashboard_adds_up_to_the_ledger(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    d = as_json(["dashboard", "--days", "14"], capsys)
    recs = ledger_records(*window(14))
    cost = sum((records.cost(r) for r in recs), Decimal(0))
    t = d["totals"]
    assert Decimal(t["cost"]) == cost and t["records"] == len(recs)
    assert t["requests"] == sum(r["requests"] for r in recs)
    assert t["unpriced_requests"] == sum(r["unpriced_requests"] for r in recs) > 0
    for part in ("by_model", "by_agent_type", "by_project"):
        assert sum(Decimal(x["cost"]) for x in d[part]) == cost, part
    assert sum(x["records"] for x in d["by_agent_type"]) == len(recs)
    assert sum(x["records"] for x in d["by_project"]) == len(recs)
    assert len(d["by_day"]) == 14 and sum(Decimal(x["cost"]) for x in d["by_day"]) == cost
    assert d["sessions"] == len({r["session_id"] for r in recs})
    sub = sorted((r for r in recs if r["kind"] == "subagent"), key=lambda r: -records.cost(r))
    assert [x["id"] for x in d["top_agents"]] == [r["id"] for r in sub[:10]]
    tokens = {k: sum(r["tokens"][k] for r in recs) for k in ("input", "cache_read", "cache_write_5m",
                                                              "cache_write_1h")}
    assert Decimal(t["cache_hit_rate"]) == Decimal(tokens["cache_read"]) / sum(tokens.values())
    mm = [r for r in recs if r["model_mismatch"]]
    assert d["mismatches"]["records"] == len(mm) > 0
    unpriced = d["unpriced"]
    assert unpriced["models"][0]["model"] == synthrecords.UNKNOWN_MODEL
    assert unpriced["requests"] == t["unpriced_requests"]
    row = next(x for x in d["by_model"] if x["model"] == synthrecords.UNKNOWN_MODEL)
    assert row["cost"] == "0" and row["unpriced_requests"] == row["requests"]


def test_dashboard_trend_and_flagged_days(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    d = as_json(["dashboard", "--days", "10"], capsys)
    prev = ledger_records((date.fromisoformat(TODAY) - timedelta(days=19)).isoformat(),
                          (date.fromisoformat(TODAY) - timedelta(days=10)).isoformat())
    tr = d["trend"]
    assert Decimal(tr["previous"]) == sum((records.cost(r) for r in prev), Decimal(0))
    assert Decimal(tr["change"]) == Decimal(tr["current"]) - Decimal(tr["previous"])
    costs = sorted(Decimal(x["cost"]) for x in d["by_day"])
    med = (costs[4] + costs[5]) / 2
    assert Decimal(tr["median_day"]) == med
    assert tr["flagged"] == [x["day"] for x in d["by_day"] if Decimal(x["cost"]) >= 2 * med]
    assert all(x["flagged"] == (x["day"] in tr["flagged"]) for x in d["by_day"])


def test_routing_savings(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    rt = as_json(["dashboard", "--days", "30"], capsys)["routing"]
    assert rt["main_model"] == "claude-opus-5-5"
    assert Decimal(rt["saved_vs_main"]) == Decimal(rt["on_main_model"]) - Decimal(rt["subagent_cost"]) > 0
    # callers only asked explicitly for opus (code-reviewer) and got it: nothing saved against their requests
    assert Decimal(rt["saved_vs_requested"]) == 0
    assert rt["unpriced_requests_excluded"] > 0 and sum(rt["decisions"].values()) > 0


def test_routing_savings_against_an_overridden_request(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A caller asked for opus, routing ran it on haiku: saved = its tokens on opus - what it cost."""
    import random

    from model_strategy.runtime.money import rates

    cat = catalog.load()
    rec = synthrecords.record(cat, random.Random(3), datetime_at(TODAY, 10), "s1", 1, agent="code-reviewer")
    (model, row), = rec["models"].items()
    assert model == cat.aliases["opus"]
    haiku = cat.aliases["haiku"]
    per_req = sum(row[k] for k in rates.KINDS if k != "output") // row["requests"]
    cheap = str(rates.cost(cat.prices(haiku, TODAY), row, per_req))
    rec["decision"]["requested"] = "opus"
    rec["models"] = {haiku: {**row, "cost_usd": cheap}}
    rec.update(model_actual=haiku, cost_usd=cheap)
    with Ledger().transaction() as ledger:
        ledger.commit(rec)  # type: ignore[arg-type]
    rt = as_json(["dashboard"], capsys)["routing"]
    assert Decimal(rt["subagent_cost"]) == Decimal(cheap)
    assert Decimal(rt["on_requested"]) == Decimal(row["cost_usd"])  # the same tokens on opus
    assert Decimal(rt["saved_vs_requested"]) == Decimal(row["cost_usd"]) - Decimal(cheap) > 0
    assert rt["main_model_how"].startswith("assumed") and Decimal(rt["saved_vs_main"]) > 0


def datetime_at(day: str, hour: int) -> Any:
    from datetime import datetime, timezone

    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=timezone.utc)


# ---------------------------------------------------------------------- daily roll-ups


def test_rollups_are_saved_and_catch_up(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    first = as_json(["dashboard"], capsys)
    path = env / "rollups" / "daily" / f"{TODAY}.json"
    assert path.exists()
    cat = catalog.load()
    import random

    rec = synthrecords.record(cat, random.Random(5), datetime_at(TODAY, 22), "late", 99_999, agent="Plan")
    with Ledger().transaction() as ledger:
        ledger.commit(rec)  # type: ignore[arg-type]
    second = as_json(["dashboard"], capsys)
    assert second["totals"]["records"] == first["totals"]["records"] + 1
    assert Decimal(second["totals"]["cost"]) == Decimal(first["totals"]["cost"]) + Decimal(rec["cost_usd"])
    saved = json.loads(path.read_text())
    assert saved["covered"][TODAY] == (env / "daily" / f"{TODAY}.json").stat().st_size


def test_damaged_rollup_is_rebuilt(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    first = as_json(["dashboard"], capsys)
    path = env / "rollups" / "daily" / f"{TODAY}.json"
    path.write_text("{not json")
    again = as_json(["dashboard"], capsys)
    assert again["totals"] == first["totals"]
    assert any("rebuilt from the ledger" in w for w in again["warnings"])
    assert json.loads(path.read_text())["schema"] == daily.SCHEMA


def test_rollup_of_another_shape_is_rebuilt(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    first = as_json(["dashboard"], capsys)
    path = env / "rollups" / "daily" / f"{TODAY}.json"
    data = json.loads(path.read_text())
    data["data"]["cube"] = {k: v[:3] for k, v in data["data"]["cube"].items()}
    path.write_text(json.dumps(data))
    again = as_json(["dashboard"], capsys)
    assert again["totals"] == first["totals"]
    assert any("rebuilt from the ledger" in w for w in again["warnings"])


def test_incremental_rollups_equal_a_rebuild(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Caught up batch by batch (records appended between report runs, one cut-off line completed
    later) the roll-ups hold exactly what a rebuild from the whole ledger holds."""
    import random

    cat = catalog.load()
    rng = random.Random(9)
    ledger = Ledger()
    n = 0
    for batch in range(4):
        with ledger.transaction():
            for _ in range(5):
                rec = synthrecords.record(cat, rng, datetime_at(TODAY, 8 + batch) + timedelta(minutes=n), "inc", n)
                ledger.commit(synthrecords.vary(cat, rng, rec))  # type: ignore[arg-type]
                n += 1
        as_json(["dashboard"], capsys)
    day = env / "daily" / f"{TODAY}.json"
    line = json.dumps(synthrecords.record(cat, rng, datetime_at(TODAY, 20), "inc", n), separators=(",", ":"))
    with day.open("a") as fh:
        fh.write(line[:40])  # a writer cut off mid-line: not folded yet
    as_json(["dashboard"], capsys)
    with day.open("a") as fh:
        fh.write(line[40:] + "\n")
    incremental = as_json(["dashboard"], capsys)
    kept = {p.name: json.loads(p.read_text())["data"] for p in (env / "rollups" / "daily").iterdir()}
    import shutil

    shutil.rmtree(env / "rollups")
    rebuilt = as_json(["dashboard"], capsys)
    assert incremental["totals"] == rebuilt["totals"] and incremental["totals"]["records"] == n + 1
    fresh = {p.name: json.loads(p.read_text())["data"] for p in (env / "rollups" / "daily").iterdir()}
    for data in (*kept.values(), *fresh.values()):
        data.pop("top_floor")
        data["top"].sort()
    assert kept == fresh


def test_busy_lock_folds_in_memory(env: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from model_strategy.runtime.base import store

    _records()
    monkeypatch.setattr(daily, "LOCK_WAIT", 0.01)
    with store.locked(str(env / "archive.lock")):
        busy = as_json(["dashboard"], capsys)  # folded without the lock (a consistent snapshot may be saved)
    assert busy["totals"] == as_json(["dashboard"], capsys)["totals"]
    assert (env / "rollups" / "daily" / f"{TODAY}.json").exists()


def test_rollup_outlives_an_archived_day_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    first = as_json(["dashboard"], capsys)
    (env / "daily" / "2026-11-24.json").rename(env / "archived-2026-11-24.json")
    again = as_json(["dashboard"], capsys)
    assert again["totals"] == first["totals"] and again["by_day"] == first["by_day"]


def test_unreadable_record_is_skipped_with_a_warning(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    day = env / "daily" / f"{TODAY}.json"
    with day.open("a") as fh:
        fh.write(json.dumps({"schema": records.SCHEMA, "id": "broken", "kind": "subagent", "models": 3}) + "\n")
    d = as_json(["dashboard"], capsys)
    assert any("1 ledger record could not be read and was skipped" in w for w in d["warnings"])


# ---------------------------------------------------------------------- efficiency


def _run(n: int, agent: str, outcome: str | None, *, denied: bool = False, cost: str = "1",
         model: str = "claude-opus-5-5", complexity: float = 0.2, duration: int | None = 60_000) -> dict[str, Any]:
    ts = iso(datetime_at(TODAY, 9) + timedelta(minutes=n))
    tokens = {**records.zero_tokens(), "input": 1000, "cache_read": 3000, "output": 500}
    return {
        "schema": records.SCHEMA, "id": f"s:{n}", "kind": "subagent", "ts": ts, "recorded_at": ts, "session_id": "s",
        "project": "/p", "agent_id": f"a{n}", "agent_type": agent, "tool_use_id": None, "background": False,
        "model_requested": "opus", "model_actual": model, "model_mismatch": False, "tokens": tokens, "requests": 2,
        "cost_usd": cost, "unpriced_requests": 0,
        "models": {model: {**tokens, "requests": 2, "cost_usd": cost, "priced": True}}, "duration_ms": duration,
        "decision": {"requested": None, "chosen": "opus", "source": "agent", "complexity": complexity,
                     "denied": denied}, "source": "SubagentStop", "outcome": outcome, "request_keys": [],
        "flags": [], "price_source": "test",
    }


def test_completed_runs_and_score(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = [_run(0, "Scout", "completed"), _run(1, "Scout", "completed"), _run(2, "Scout", "error"),
            _run(3, "Scout", "interrupted"), _run(4, "Scout", "completed", denied=True, cost="0"),
            _run(5, "Scout", None, duration=None), _run(6, "Scout", "truncated")]
    with Ledger().transaction() as ledger:
        for r in runs:
            ledger.commit(r)  # type: ignore[arg-type]
    e = as_json(["efficiency", "scout"], capsys)
    (a,) = e["agents"]
    assert a["runs"] == 7 and a["completed"] == 2 and a["not_completed"] == 4
    assert a["outcomes"] == {"completed": 2, "error": 1, "interrupted": 1, "truncated": 1, "denied": 1,
                             "unknown": 1}
    assert Decimal(a["completion_rate"]) == Decimal(2) / 6
    assert Decimal(a["cost"]) == 6 and Decimal(a["cost_per_completed"]) == 3
    assert Decimal(a["avg_duration_s"]) == 60
    assert Decimal(a["cache_hit_rate"]) == Decimal("0.75")
    assert Decimal(a["right_sizing"]) == 0  # low complexity, all on opus
    expected = efficiency.score(Decimal(2) / 6, Decimal(0), Decimal("0.75"))
    assert a["score"] == expected == round((Decimal("0.4") * 2 / 6 + Decimal("0.3") * Decimal("0.75")) * 100)
    kinds = {o["kind"] for o in a["opportunities"]}
    assert kinds == {"downgrade", "completion"}


def test_score_leaves_out_missing_parts() -> None:
    assert efficiency.score(None, None, None) is None
    assert efficiency.score(Decimal(1), None, None) == 100
    assert efficiency.score(None, Decimal("0.5"), Decimal(1)) == 75


# ---------------------------------------------------------------------- roi


def test_roi_assumptions_and_figures(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    r = as_json(["roi", "--hourly-rate", "60"], capsys)
    a = r["assumptions"]
    assert a["hourly_rate"] == "60" and a["hourly_rate_source"] == "--hourly-rate"
    assert a["minutes_saved"] == {"Explore": "5", "*": "10"}
    t = r["totals"]
    minutes = sum(Decimal(x["minutes_per_run"]) * x["completed"] for x in r["agents"])
    assert Decimal(t["hours_saved"]) == minutes / 60
    assert Decimal(t["labour_saved"]) == minutes / 60 * 60
    cost = Decimal(t["cost"])
    assert Decimal(t["net"]) == Decimal(t["labour_saved"]) - cost
    assert Decimal(t["roi_pct"]) == (Decimal(t["labour_saved"]) - cost) / cost * 100
    assert Decimal(t["break_even_hours"]) == cost / 60
    assert Decimal(t["break_even_hourly_rate"]) == cost / Decimal(t["hours_saved"])
    explore = next(x for x in r["agents"] if x["agent_type"] == "Explore")
    assert explore["minutes_per_run"] == "5" and explore["minutes_key"] == "Explore"
    _, text, _ = run(["roi"], capsys)
    assert "Assumptions" in text and "hourly rate $75.00 (roi.hourly_rate)" in text


def test_roi_config_from_the_project_file(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "model-strategy.json").write_text(json.dumps(
        {"roi": {"hourly_rate": 100, "minutes_saved": {"*writer*": 20}}}))
    r = as_json(["roi"], capsys)
    assert r["assumptions"]["hourly_rate"] == "100"
    doc = next(x for x in r["agents"] if x["agent_type"] == "doc-writer")
    assert (doc["minutes_per_run"], doc["minutes_key"]) == ("20", "*writer*")


def test_minutes_for_prefers_exact_then_longest_pattern() -> None:
    m = {"Explore": Decimal(5), "*test*": Decimal(7), "*test-writer*": Decimal(9), "*": Decimal(10)}
    assert roi.minutes_for("Explore", m) == (Decimal(5), "Explore")
    assert roi.minutes_for("test-writer", m) == (Decimal(9), "*test-writer*")
    assert roi.minutes_for("unit-test", m) == (Decimal(7), "*test*")
    assert roi.minutes_for("other", m) == (Decimal(10), "*")
    assert roi.minutes_for("other", {}) == (Decimal(0), "(none)")


# ---------------------------------------------------------------------- recommendations


def test_recommendations_name_the_config_change(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    r = as_json(["recommendations"], capsys)
    kinds = [i["kind"] for i in r["items"]]
    assert kinds == ["routing", "quality", "prices"]
    routing = r["items"][0]
    assert routing["agent_type"] == "code-reviewer" and routing["to"] == "sonnet"
    assert Decimal(routing["saving_usd"]) == Decimal(routing["cost"]) - Decimal(routing["on_target"]) > 0
    assert 'add "code-reviewer": "sonnet" to "agents" in .claude/model-strategy.json' in routing["change"]
    assert routing["config"] == {"file": ".claude/model-strategy.json", "key": "agents",
                                 "set": {"code-reviewer": "sonnet"}}
    assert r["items"][1]["agent_type"] == "test-writer" and Decimal(r["items"][1]["extra_cost_usd"]) > 0
    assert synthrecords.UNKNOWN_MODEL in r["items"][2]["change"]
    # the saving is the same re-pricing the efficiency report does for the runs on opus
    cat = catalog.load()
    start, end = window(30)
    cost = on_sonnet = Decimal(0)
    for rec in ledger_records(start, end):
        if rec["agent_type"] != "code-reviewer" or not rec["models"]:
            continue
        (model, row), = rec["models"].items()
        if model != cat.aliases["opus"]:
            continue
        cost += Decimal(row["cost_usd"])
        per_req = sum(row[k] for k in ("input", "cache_read", "cache_write_5m", "cache_write_1h")) / row["requests"]
        band = daily.band_of(per_req, cat.tier_thresholds(TODAY))
        from model_strategy.runtime.money import rates

        on_sonnet += rates.cost(cat.prices(cat.aliases["sonnet"], rec["ts"][:10]), row,
                                insights.band_input(band, cat.tier_thresholds(TODAY)))
    assert Decimal(routing["cost"]) == cost and Decimal(routing["on_target"]) == on_sonnet


def test_recommendation_respects_the_configured_entry(env: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "model-strategy.json").write_text(json.dumps({"agents": {"code-reviewer": "sonnet"}}))
    r = as_json(["recommendations"], capsys)
    change = r["items"][0]["change"]
    assert change.startswith('"agents" already has "code-reviewer": "sonnet"') and "override_explicit_model" in change


def test_budget_recommendation(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "model-strategy.json").write_text(json.dumps({"budgets": {"monthly_usd": "50"}}))
    r = as_json(["recommendations"], capsys)
    b = next(i for i in r["items"] if i["kind"] == "budget")
    assert Decimal(b["monthly_usd"]) > 50 and '"budgets": {"monthly_usd": "' in b["change"]


# ---------------------------------------------------------------------- exports


def test_export_costs_csv(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    out = tmp_path / "costs.csv"
    code, text, err = run(["export", "costs", str(out)], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(out.open()))
    assert f"cost rows (every ledger day) to {out}" in text
    every = list(Ledger().iter_records())
    assert sum(Decimal(r["cost_usd"]) for r in rows) == sum((records.cost(r) for r in every), Decimal(0))
    assert sum(int(r["records"]) for r in rows) >= len(every) - sum(1 for r in every if not r["models"])
    assert sum(int(r["unpriced_requests"]) for r in rows) == sum(r["unpriced_requests"] for r in every)
    assert list(rows[0]) == list(cli_columns())
    code, _, _ = run(["export", "costs", str(out), "--days", "3"], capsys)
    days = {r["day"] for r in csv.DictReader(out.open())}
    assert days == {"2026-11-24", "2026-11-25", "2026-11-26"}


def cli_columns() -> tuple[str, ...]:
    from model_strategy.commands.usage import export

    return export.COST_COLUMNS


def test_export_analytics_json(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    out = tmp_path / "analytics.json"
    code, _, err = run(["export", "analytics", str(out), "--days", "14"], capsys)
    assert code == 0, err
    data = json.loads(out.read_text())
    assert set(data) >= {"dashboard", "efficiency", "roi", "recommendations", "schema", "days"}
    assert data["days"] == 14 and data["dashboard"]["window"]["days"] == 14
    assert data["dashboard"]["totals"]["cost"] == as_json(["dashboard", "--days", "14"], capsys)["totals"]["cost"]


def test_export_to_stdout(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    code, out, err = run(["export", "costs", "-", "--days", "1"], capsys)
    assert code == 0 and out.startswith("day,kind,project,") and "wrote" in err


def test_dashboard_html_and_svg(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    html, svg = tmp_path / "d.html", tmp_path / "d.svg"
    code, out, _ = run(["dashboard", "--html", str(html), "--svg", str(svg)], capsys)
    assert code == 0 and "Spend per day" in out
    assert "Spend per day" in html.read_text() and "<svg" in svg.read_text()
    assert "█" in html.read_text()


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize("argv, message", [
    (["dashboard", "--days", "0"], "--days must be between 1 and"),
    (["roi", "--hourly-rate", "-5"], "--hourly-rate must be a positive amount"),
    (["efficiency", "nobody"], "no runs of agent type 'nobody'"),
    (["export", "costs", "/nonexistent/dir/x.csv"], "folder /nonexistent/dir does not exist"),
    (["export", "everything", "x"], "invalid choice"),
    (["dashboard", "--svg", "/nonexistent/d.svg"], "its folder does not exist"),
])
def test_bad_input_is_one_line(argv: list[str], message: str, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    code, out, err = run(argv, capsys)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
    code, out, err = run(["--plugin-data", str(env), *argv], capsys)  # slash command: the line, exit 0
    assert code == 0 and message in out and len(out.strip().splitlines()) == 1


def test_slash_command_arguments_arrive_as_one_word(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _records()
    code, out, _ = run(["--plugin-data", str(env), "dashboard", "--days 3 --json"], capsys)
    assert code == 0 and json.loads(out)["window"]["days"] == 3
