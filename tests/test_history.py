"""History import: Claude Code's transcript tree → the ledger, each API response once; the report.

The frozen tree (tests/fixtures/history/claude, written by make_tree.py) holds the real 2.1.332
session (main + two subagents with meta files), an old-layout session with sidechain entries in
the main file, streamed duplicates with growing counts, a cut-off and a non-UTF-8 line, a Bedrock
model id, a model without a price, an API error stub, and a resumed session that copies two of the
old session's responses.

Regenerate the goldens after an intended change with ``MODEL_STRATEGY_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.commands.cli import cli, history_cli
from model_strategy.commands.usage import history, history_report
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording, spawns
from sessionlab import AGENT_A, AGENT_B, ROOT, Session

FIX = Path(__file__).parent / "fixtures" / "history" / "claude"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MODEL_STRATEGY_UPDATE_GOLDEN") == "1"
LEGACY = "projects/-home-user-legacy/0f3e9a52-1111-4c2b-9d0e-5a1b2c3d4e5f.jsonl"
RESUMED = "projects/-home-user-legacy/9c1d2e3f-2222-4a5b-8c7d-6e5f4a3b2c1d.jsonl"
MAIN = "projects/-home-user-project/7b7c13c2-e534-4f35-abe3-ef1dc3f6e990.jsonl"
TOTALS = {"input_tokens": 8500, "output_tokens": 4370, "cache_write_tokens": 6800, "cache_read_tokens": 121000,
          "requests": 14, "unpriced_requests": 1}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    dest = tmp_path / "claude"
    shutil.copytree(FIX, dest)
    return dest


def hist(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = cli.main(["history", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def ledger_bytes(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data_dir / "daily").glob("*.json"))}


def totals_of(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc["totals"][k] for k in TOTALS}


def test_import_counts_each_response_once(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = hist(capsys, "--claude-dir", str(tree))
    assert totals_of(doc) == TOTALS
    assert [r["key"] for r in doc["rows"]] == ["2026-11-24", "2026-11-25", "2026-11-26"]
    day24 = doc["rows"][0]
    # msg_L1 streamed in three entries with output 1, 40, 120: counted once, with its final count
    assert day24["output_tokens"] == 120 + 300 + 150 + 500 + 700 and day24["requests"] == 5
    assert doc["import"]["records_added"] == 7 and doc["import"]["requests_added"] == 14
    # the resumed session's copies of msg_L1 and msg_L4 are not counted again
    assert doc["import"]["duplicate_requests"] == 2
    assert doc["import"]["problems"] == [f"{LEGACY}: 2 unreadable line(s) skipped"]
    assert all(rec["source"] == "import" for rec in Ledger().iter_records())


def test_agents_get_the_hooks_ids_and_meta(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hist(capsys, "--claude-dir", str(tree))
    recs = {r["id"]: r for r in Ledger().iter_records()}
    sid = "7b7c13c2-e534-4f35-abe3-ef1dc3f6e990"
    a = recs[f"{sid}:{AGENT_A}"]
    assert a["agent_type"] == "Explore" and a["tool_use_id"] == "toolu_00000_0" and a["requests"] == 3
    assert a["tokens"]["input"] == 3000 and a["model_requested"] == "haiku" and a["model_mismatch"] is False
    assert a["project"] == "/home/user/project" and a["background"] is False
    b = recs[f"{sid}:{AGENT_B}"]
    assert b["agent_type"] == "general-purpose" and b["background"] is True and b["requests"] == 2
    side = [r for r in recs.values() if r["agent_type"] == "sidechain"]
    assert len(side) == 1 and side[0]["requests"] == 2 and side[0]["kind"] == "subagent"


def test_unknown_model_unpriced_and_bedrock_priced(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = hist(capsys, "model", "--claude-dir", str(tree))
    rows = {r["key"]: r for r in doc["rows"]}
    assert rows["claude-nova-9-experimental"]["unpriced_requests"] == 1
    assert Decimal(rows["claude-nova-9-experimental"]["cost_usd"]) == 0
    bedrock = rows["us.anthropic.claude-sonnet-4-5-20250929-v1:0"]
    assert bedrock["unpriced_requests"] == 0 and Decimal(bedrock["cost_usd"]) > 0
    assert "<synthetic>" not in rows
    assert doc["totals"]["unpriced_requests"] == 1


def test_json_schema_is_stable(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = hist(capsys, "--claude-dir", str(tree))
    assert set(doc) == {"schema", "group", "since", "until", "rows", "totals", "days", "import", "generated_at",
                        "warnings"}
    assert set(doc["totals"]) == {*TOTALS, "cost_usd", "records"}
    assert set(doc["rows"][0]) == {"key", *TOTALS, "cost_usd", "records"}
    assert isinstance(doc["totals"]["cost_usd"], str) and Decimal(doc["totals"]["cost_usd"]) > 0
    assert doc["import"]["claude_dirs"] == [str(tree)]
    assert set(doc["import"]) == {"claude_dirs", "files", "files_read", "bytes_read", "records_added", "requests_added",
                                  "already_recorded_agents", "duplicate_requests", "running_agents",
                                  "unpriced_requests_added", "problems", "seconds"}


@pytest.mark.parametrize("group", history_report.GROUPS)
def test_every_grouping_adds_up(group: str, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = hist(capsys, group, "--claude-dir", str(tree))
    assert totals_of(doc) == TOTALS
    for key in ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens", "requests"):
        assert sum(r[key] for r in doc["rows"]) == TOTALS[key]
    assert sum(Decimal(r["cost_usd"]) for r in doc["rows"]) == Decimal(doc["totals"]["cost_usd"])


def test_since_until_filter_the_report_not_the_import(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = hist(capsys, "--claude-dir", str(tree), "--since", "2026-11-25", "--until", "2026-11-25")
    assert [r["key"] for r in doc["rows"]] == ["2026-11-25"] and doc["totals"]["requests"] == 2
    assert doc["import"]["requests_added"] == 14
    weekly = hist(capsys, "weekly", "--no-import")
    assert [r["key"] for r in weekly["rows"]] == ["2026-11-23"]  # weeks start on Monday (budgets.week_start)


def test_import_twice_same_ledger(tree: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hist(capsys, "--claude-dir", str(tree))
    first = ledger_bytes(data_dir)
    again = hist(capsys, "--claude-dir", str(tree))
    assert again["import"]["files_read"] == 0 and again["import"]["bytes_read"] == 0
    assert ledger_bytes(data_dir) == first
    (data_dir / "history" / "state.json").unlink()  # the state is a cache: losing it reads all again
    third = hist(capsys, "--claude-dir", str(tree))
    assert third["import"]["files_read"] == 5 and third["import"]["records_added"] == 0
    assert third["import"]["already_recorded_agents"] == 2
    assert ledger_bytes(data_dir) == first and totals_of(third) == TOTALS


def _response(mid: str, ts: str, out: int = 10, model: str = "claude-opus-4-5-20251101") -> bytes:
    entry = {"type": "assistant", "isSidechain": False, "sessionId": "s", "cwd": "/home/user/project",
             "timestamp": ts, "requestId": f"req_{mid}", "uuid": f"u-{mid}",
             "message": {"id": mid, "model": model, "role": "assistant",
                         "usage": {"input_tokens": 1, "output_tokens": out}}}
    return json.dumps(entry, separators=(",", ":")).encode() + b"\n"


def test_second_run_reads_only_new_bytes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hist(capsys, "--claude-dir", str(tree))
    new = _response("msg_new1", "2026-11-26T12:00:00.000Z") + _response("msg_new2", "2026-11-27T12:00:00.000Z")
    with open(tree / MAIN, "ab") as fh:
        fh.write(new + b'{"type":"assistant","message":{"usage"')  # the last line is still being written
    doc = hist(capsys, "--claude-dir", str(tree))
    assert doc["import"]["files_read"] == 1 and doc["import"]["bytes_read"] == len(new)
    assert doc["import"]["requests_added"] == 2 and doc["totals"]["requests"] == TOTALS["requests"] + 2
    assert doc["rows"][-1]["key"] == "2026-11-27"


def test_streamed_copies_across_midnight_count_once(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hist(capsys, "--claude-dir", str(tree))
    with open(tree / MAIN, "ab") as fh:
        fh.write(_response("msg_mid", "2026-11-26T23:59:59.900Z", out=5))
    doc = hist(capsys, "--claude-dir", str(tree))
    with open(tree / MAIN, "ab") as fh:  # the same response's next entry, read by a later run
        fh.write(_response("msg_mid", "2026-11-27T00:00:00.100Z", out=5))
    doc = hist(capsys, "--claude-dir", str(tree))
    assert doc["import"]["requests_added"] == 0 and doc["totals"]["requests"] == TOTALS["requests"] + 1


def test_rewritten_and_truncated_files_are_read_again(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hist(capsys, "--claude-dir", str(tree))
    path = tree / LEGACY
    data = path.read_bytes()
    path.write_bytes(b'{"type":"summary","summary":"compacted"}\n' + data)  # rewritten, same inode, longer
    doc = hist(capsys, "--claude-dir", str(tree))
    assert doc["import"]["bytes_read"] >= len(data) and doc["import"]["records_added"] == 0
    assert totals_of(doc) == TOTALS
    resumed = tree / RESUMED
    lines = resumed.read_bytes().splitlines(keepends=True)
    os.replace(resumed, tree / "gone")  # a new inode: truncated to its first line, then one new response
    resumed.write_bytes(lines[0] + _response("msg_R9", "2026-11-25T11:00:00.000Z", out=7))
    doc = hist(capsys, "--claude-dir", str(tree))
    assert doc["import"]["requests_added"] == 1 and doc["totals"]["output_tokens"] == TOTALS["output_tokens"] + 7


def test_small_read_chunks_change_nothing(tree: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "READ_CHUNK", 97)
    doc = hist(capsys, "--claude-dir", str(tree))
    assert totals_of(doc) == TOTALS and doc["import"]["problems"] == [f"{LEGACY}: 2 unreadable line(s) skipped"]


def test_rewritten_in_place_with_the_same_start(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Same inode, same first bytes, longer than before -- but not the file that was read: from the start."""
    hist(capsys, "--claude-dir", str(tree))
    path = tree / RESUMED
    lines = path.read_bytes().splitlines(keepends=True)
    with open(path, "r+b") as fh:  # in place: keep the first line, replace the rest with other responses
        fh.seek(len(lines[0]))
        fh.truncate()
        fh.write(_response("msg_X1", "2026-11-25T12:00:00.000Z", out=11) * 2
                 + _response("msg_X2", "2026-11-25T12:01:00.000Z", out=13) * 3)
    doc = hist(capsys, "--claude-dir", str(tree))
    assert doc["import"]["requests_added"] == 2 and doc["totals"]["output_tokens"] == TOTALS["output_tokens"] + 24


def test_running_agent_counts_now_and_its_later_requests_later(tree: Path, data_dir: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    meta = tree / "projects/-home-user-project/7b7c13c2-e534-4f35-abe3-ef1dc3f6e990/subagents" \
        / f"agent-{AGENT_A}.meta.json"
    data = json.loads(meta.read_text())
    del data["finished"]
    meta.write_text(json.dumps(data))
    agent = meta.with_suffix("").with_suffix(".jsonl")
    full = agent.read_bytes()
    lines = full.splitlines(keepends=True)
    cut = next(i for i in range(len(lines), 0, -1)  # the transcript as it was before its last request
               if b'"usage"' in lines[i - 1]) - 1
    while cut and b'"usage"' in lines[cut - 1]:
        cut -= 1
    agent.write_bytes(b"".join(lines[:cut]))
    doc = hist(capsys, "--claude-dir", str(tree))
    assert doc["import"]["running_agents"] == 1
    first = doc["totals"]["requests"]
    assert 0 < TOTALS["requests"] - first < 3  # the running agent's requests so far are counted now
    data["finished"] = True
    meta.write_text(json.dumps(data))
    agent.write_bytes(full)  # it went on and finished
    doc = hist(capsys, "--claude-dir", str(tree))
    assert doc["import"]["running_agents"] == 0 and totals_of(doc) == TOTALS
    recs: list[dict[str, Any]] = list(Ledger().iter_records())  # day files and archives (by the clock)
    mine = [r for r in recs if r["agent_id"] == AGENT_A]
    assert [r.get("continuation", False) for r in mine] == [False, True]
    assert mine[1]["id"] == f"{mine[0]['id']}:{mine[1]['request_keys'][0]}"
    doc = hist(capsys, "--claude-dir", str(tree))  # nothing new: nothing added
    assert doc["import"]["records_added"] == 0 and totals_of(doc) == TOTALS
    runs = doc["totals"]["records"]
    assert runs == len(recs) - 1  # the continuation is not another run ...
    assert hist(capsys, "session", "--no-import")["totals"]["records"] == runs  # ... from roll-ups or records


def test_workflow_agents_are_found_with_their_type(tmp_path: Path, data_dir: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sample = ROOT / "tests/fixtures/claude-code-2.1.332/workflow"
    session = "63769f81-8529-4c43-b4e4-866046da3c0d"
    proj = tmp_path / "claude/projects/-home-user-project"
    run = proj / session / "subagents/workflows/wf_888be8d5-265"
    run.mkdir(parents=True)
    shutil.copy(sample / "transcript-main.jsonl", proj / f"{session}.jsonl")
    for name in ("a420f38f6adc02353", "acb2b1357d525975a"):
        for ext in ("jsonl", "meta.json"):
            shutil.copy(sample / f"workflow-agent-{name}.{ext}", run / f"agent-{name}.{ext}")
    doc = hist(capsys, "agent-type", "--claude-dir", str(tmp_path / "claude"))
    keys = {r["key"] for r in doc["rows"]}
    assert {"Explore", "workflow-subagent", "main-thread"} <= keys, keys
    assert doc["import"]["running_agents"] == 0  # workflow agents' meta files never say finished
    expected = json.loads((sample / "print-mode-result.json").read_text())["total_cost_usd"]
    assert abs(float(doc["totals"]["cost_usd"]) - expected) < 1e-9


def test_unreadable_file_is_one_line(tree: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real = history.read_main

    def deny(f: history.TFile, start: int, stats: history.Stats) -> Any:
        if f.path.endswith(RESUMED.rsplit("/", 1)[1]):
            raise PermissionError(13, "Permission denied")
        return real(f, start, stats)

    monkeypatch.setattr(history, "read_main", deny)
    doc = hist(capsys, "--claude-dir", str(tree))
    assert f"{RESUMED}: cannot read (Permission denied); skipped" in doc["import"]["problems"]
    assert doc["totals"]["requests"] == TOTALS["requests"] - 1  # msg_R1 (its copies are counted once anyway)


def test_progress_bar_on_a_terminal_only(tree: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "PROGRESS_FROM_BYTES", 1)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    doc = hist(capsys, "--claude-dir", str(tree))
    assert totals_of(doc) == TOTALS


def test_no_transcripts_found_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["history", "--claude-dir", str(tmp_path / "nothing")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "No usage recorded in this range." in out and f"No Claude Code transcripts found under {tmp_path}" in out


def test_bad_arguments_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--since", "2026-13-01"], ["--since", "2026-11-02", "--until", "2026-11-01"], ["hourly"]):
        code = cli.main(["history", *argv])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("model-strategy: ")
    assert cli.main(["--plugin-data", "", "history", "--since", "nope"]) == 0  # slash: exit 0, one line
    assert capsys.readouterr().out.startswith("model-strategy: --since must be a date")


def test_a_projects_folder_works_as_claude_dir(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert totals_of(hist(capsys, "--claude-dir", str(tree / "projects"))) == TOTALS


def test_claude_dirs_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tmp_path / 'a'},{tmp_path / 'b'}")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    home = tmp_path / "home"
    assert history_cli.claude_dirs() == [str(tmp_path / "a"), str(tmp_path / "b"), str(home / ".config" / "claude"),
                                     str(home / ".claude")]
    assert history_cli.claude_dirs([str(tmp_path / "x")]) == [str(tmp_path / "x")]


# ------------------------------------------------------------------ with the hooks


def call(handler: Any, payload: dict[str, Any]) -> None:
    assert hooks.run(handler, io.StringIO(json.dumps(payload)), io.StringIO()) == 0


def _finish_metas(lab: Session) -> None:
    for agent, path in lab.agent_paths.items():
        path.with_suffix("").with_suffix(".meta.json").write_text(json.dumps(
            {"agentType": "general-purpose", "toolUseId": "toolu_x", "finished": True, "agentId": agent}))


def _hooks(lab: Session) -> None:
    call(spawns.pre_tool_use, lab.pre("A"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    call(recording.post_tool_use, lab.payload("PostToolUse-foreground"))
    call(spawns.pre_tool_use, lab.pre("B"))
    call(recording.post_tool_use, lab.payload("PostToolUse-background"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_B))
    call(recording.stop, lab.payload("Stop"))


def _sums() -> tuple[int, int, Decimal, int]:
    recs = list(Ledger().iter_records())
    ids = [r["id"] for r in recs]
    assert len(ids) == len(set(ids))
    return (sum(r["requests"] for r in recs), sum(r["tokens"]["input"] for r in recs),
            sum((Decimal(r["cost_usd"]) for r in recs), Decimal(0)), len(recs))


def test_hooks_then_import_counts_nothing_twice(samples: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    lab = Session(samples, tmp_path)
    _finish_metas(lab)
    _hooks(lab)
    before = _sums()
    assert before[0] == 7
    doc = hist(capsys, "--claude-dir", str(tmp_path / "claude"))
    assert doc["import"]["records_added"] == 0 and doc["import"]["already_recorded_agents"] == 2
    assert _sums() == before


def test_import_then_hooks_counts_nothing_twice(samples: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    lab = Session(samples, tmp_path)
    _finish_metas(lab)
    doc = hist(capsys, "--claude-dir", str(tmp_path / "claude"))
    assert doc["import"]["records_added"] == 3
    imported = _sums()
    _hooks(lab)
    assert _sums() == imported


def test_hooks_and_import_agree(samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                data_dir: Path) -> None:
    lab = Session(samples, tmp_path)
    _finish_metas(lab)
    _hooks(lab)
    by_hooks = _sums()
    shutil.rmtree(data_dir / "daily")
    shutil.rmtree(data_dir / "index")
    shutil.rmtree(data_dir / "sessions", ignore_errors=True)
    hist(capsys, "--claude-dir", str(tmp_path / "claude"))
    assert _sums()[:3] == by_hooks[:3]


# ------------------------------------------------------------------ goldens


@pytest.mark.parametrize("group", ["daily", "agent-type", "model", "session"])
def test_golden(group: str, tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["history", group, "--claude-dir", str(tree), "--width", "100"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 100
    path = GOLDEN / f"history_{group}.txt"
    if UPDATE:
        path.write_text(out)
    assert out == path.read_text(), f"{path} differs (MODEL_STRATEGY_UPDATE_GOLDEN=1 to regenerate)"


# ------------------------------------------------------------------ incremental = one shot (property)


@settings(max_examples=40)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=30), st.lists(st.integers(1, 4000), max_size=6))
def test_importing_in_pieces_equals_importing_once(tmp_path_factory: pytest.TempPathFactory,
                                                   responses: list[int], cuts: list[int]) -> None:
    """A transcript imported while it is written -- cut anywhere, even inside a line -- ends up counted
    exactly like the finished file imported in one go, each response once (a repeated id is a streamed
    copy or a resumed session's copy: same usage)."""
    base = tmp_path_factory.mktemp("pieces")
    data = b"".join(_response(f"msg_{m}", f"2026-11-{20 + m % 3}T10:00:{m % 60:02d}.000Z", out=1 + 37 * m)
                    for m in responses)
    first = {m: 1 + 37 * m for m in responses}
    old = os.environ["MODEL_STRATEGY_DATA_DIR"]
    try:
        results = []
        for mode in ("pieces", "once"):
            root = base / mode / "claude"
            path = root / "projects" / "-p" / "s.jsonl"
            path.parent.mkdir(parents=True)
            os.environ["MODEL_STRATEGY_DATA_DIR"] = str(base / mode / "data")
            points = sorted({c % (len(data) + 1) for c in cuts}) if mode == "pieces" else []
            written = 0
            for point in [*points, len(data)]:
                with open(path, "ab") as fh:
                    fh.write(data[written:point])
                written = point
                os.utime(path, ns=(time.time_ns(), time.time_ns() + written))  # a new mtime even within a tick
                history.import_history(Ledger(), [str(root)], [])
            doc = history_report.report(Ledger(), "daily", None, None)
            results.append(({r["key"]: (r["requests"], r["output_tokens"]) for r in doc["rows"]},
                            sorted(r["id"] for r in Ledger().iter_records())))
        assert results[0][0] == results[1][0]
        assert sum(n for n, _ in results[0][0].values()) == len(first)
        assert sum(o for _, o in results[0][0].values()) == sum(first.values())
    finally:
        os.environ["MODEL_STRATEGY_DATA_DIR"] = old


def test_report_from_rollups_equals_report_from_records(data_dir: Path) -> None:
    """The roll-up path (months, archived ones too) and the record path give the same rows, whatever the range."""
    from datetime import date

    import synthrecords
    from model_strategy.commands.knowledge import catalog
    from model_strategy.runtime.books import archive

    synthrecords.generate(Ledger(), catalog.load(), date(2026, 11, 26), days=150, per_day=(2, 5), seed=4)
    archive.run(Ledger(), 90, date(2026, 11, 28))
    assert Ledger().archived_months()
    ranges = [(None, None), ("2026-07-15", None), (None, "2026-09-10"), ("2026-08-03", "2026-08-20"),
              ("2026-09-01", "2026-10-31")]
    for group in history_report.GROUPS:
        for since, until in ranges:
            ledger = Ledger()
            with ledger.transaction():
                fast = history_report.report(ledger, group, since, until)
            slow = history_report.report(Ledger(), group, since, until, rollups=False)
            assert fast == slow, (group, since, until)
            again = history_report.report(Ledger(), group, since, until)  # from the saved roll-ups
            assert again == slow, (group, since, until)
