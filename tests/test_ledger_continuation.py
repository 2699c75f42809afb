"""Agents recorded in slices: a ``SendMessage`` continuation, a fork's copy of its parent's response,
requests across UTC days -- each API request counted once in the whole ledger (real 2.1.332 captures)."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from model_strategy.commands.cli import cli
from model_strategy.commands.usage import ledger_cli
from model_strategy.runtime.books import records
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording, spawns

SAMPLES = Path(__file__).parent / "fixtures" / "claude-code-2.1.332"
RESUME = SAMPLES / "resume"
AGENT = "a45db070bbc919144"


def call(handler: Any, payload: dict[str, Any]) -> str:
    out = io.StringIO()
    assert hooks.run(handler, io.StringIO(json.dumps(payload)), out) == 0
    return out.getvalue()


class Resume:
    """The resume capture laid out in a tmp dir, transcripts grown as they were when each hook ran."""

    def __init__(self, tmp: Path) -> None:
        self.sid = "7b158fd7-0f4a-4453-a86c-78d2e4b62fbf"
        base = tmp / "claude" / "projects" / "-project"
        (base / self.sid / "subagents").mkdir(parents=True)
        self.main = base / f"{self.sid}.jsonl"
        self.agent = base / self.sid / "subagents" / f"agent-{AGENT}.jsonl"
        (base / self.sid / "subagents" / f"agent-{AGENT}.meta.json").write_bytes(
            (RESUME / f"agent-{AGENT}.meta.json").read_bytes())
        self.main_lines = (RESUME / "transcript-main.jsonl").read_bytes().splitlines(keepends=True)
        self.agent_lines = (RESUME / f"agent-{AGENT}.jsonl").read_bytes().splitlines(keepends=True)
        self.project = tmp / "project"
        self.project.mkdir()

    def grow(self, main: int, agent: int) -> None:
        self.main.write_bytes(b"".join(self.main_lines[:main]))
        self.agent.write_bytes(b"".join(self.agent_lines[:agent]))

    def hook(self, name: str) -> dict[str, Any]:
        (path,) = RESUME.glob(f"hook-{name}*.json")
        data: dict[str, Any] = json.loads(path.read_text())
        data.pop("_env_seen_by_hook", None)
        data["transcript_path"] = str(self.main)
        data["cwd"] = str(self.project)
        if "agent_transcript_path" in data:
            data["agent_transcript_path"] = str(self.agent)
        return data


def session_total(sid: str) -> Decimal:
    return sum((records.cost(r) for r in Ledger().iter_records() if r["session_id"] == sid), Decimal(0))


def expected_total() -> Decimal:
    return Decimal(str(json.loads((RESUME / "print-mode-result.json").read_text())["total_cost_usd"]))


def replay(lab: Resume) -> list[str]:
    """The capture's hook sequence; returns the session messages."""
    out = []
    lab.grow(6, 0)
    out.append(call(spawns.pre_tool_use, lab.hook("00")))
    lab.grow(11, 4)
    out.append(call(recording.stop, lab.hook("04")))
    out.append(call(recording.subagent_stop, lab.hook("06")))
    lab.grow(20, 4)
    lab.grow(22, 6)  # SendMessage resumed the agent: one more request in the same transcript
    out.append(call(recording.stop, lab.hook("10")))
    out.append(call(recording.subagent_stop, lab.hook("11")))
    lab.grow(len(lab.main_lines), 6)
    out.append(call(recording.stop, lab.hook("12")))
    return out


@pytest.fixture
def lab(tmp_path: Path) -> Resume:
    return Resume(tmp_path)


def test_sendmessage_continuation_lands_in_the_same_agent(lab: Resume) -> None:
    replay(lab)
    agent = [r for r in Ledger().iter_records() if r["agent_id"] == AGENT]
    assert [r.get("continuation", False) for r in agent] == [False, True]
    first, cont = agent
    assert first["id"] == f"{lab.sid}:{AGENT}" and first["requests"] == 2
    assert cont["id"] == f"{lab.sid}:{AGENT}:{cont['request_keys'][0]}" and cont["requests"] == 1
    assert cont["agent_type"] == first["agent_type"] == "general-purpose"
    assert session_total(lab.sid) == expected_total()  # Claude Code's own total_cost_usd
    assert ledger_cli.check(Ledger())["ok"]


def test_replayed_hooks_add_nothing(lab: Resume) -> None:
    replay(lab)
    before = sorted(r["id"] for r in Ledger().iter_records())
    replay(lab)  # every hook again, transcripts as they were: nothing new, nothing twice
    assert sorted(r["id"] for r in Ledger().iter_records()) == before
    assert session_total(lab.sid) == expected_total()


def test_a_continuation_is_not_another_run(lab: Resume) -> None:
    from datetime import date

    from model_strategy.commands.usage import daily

    replay(lab)
    led = Ledger()
    month = led.rollup("2026-12")
    agent = month["by_agent_type"]["general-purpose"]
    assert agent["records"] == 1 and agent["requests"] == 3  # one run, all of its requests
    assert Decimal(month["total"]["cost_usd"]) == expected_total()
    win = daily.load(led, date(2026, 12, 7), date(2026, 12, 7), [32_000, 200_000], 0.35, 0.7, [])
    day = win.days["2026-12-07"]
    assert day["agents"]["general-purpose"]["records"] == 1
    assert [t[3] for t in day["top"]] == ["general-purpose"]
    assert sum(Decimal(r[daily.COST]) for _, _, r in win.rows()) == expected_total()


# ------------------------------------------------------------------ one request, once in the whole ledger


def entry(msg: str, ts: str, out: int = 10, model: str = "claude-opus-5-5", sidechain: bool = False) -> bytes:
    return json.dumps({"type": "assistant", "timestamp": ts, "requestId": f"req_{msg}", "isSidechain": sidechain,
                       "message": {"id": msg, "model": model, "stop_reason": "end_turn",
                                   "usage": {"input_tokens": 100, "output_tokens": out}}}).encode() + b"\n"


def user(ts: str, text: str = "go") -> bytes:
    return json.dumps({"type": "user", "timestamp": ts, "message": {"role": "user", "content": text}}).encode() + b"\n"


def stop_payload(tmp: Path, sid: str, main: Path) -> dict[str, Any]:
    return {"session_id": sid, "transcript_path": str(main), "cwd": str(tmp), "hook_event_name": "Stop"}


def all_keys() -> list[str]:
    return [k for r in Ledger().iter_records() for k in r["request_keys"]]


def test_one_response_on_both_sides_of_midnight_counts_once(tmp_path: Path) -> None:
    main = tmp_path / "s1.jsonl"
    main.write_bytes(user("2026-12-06T23:59:50.000Z") + entry("m1", "2026-12-06T23:59:59.000Z", out=5))
    call(recording.stop, stop_payload(tmp_path, "s1", main))
    with open(main, "ab") as fh:  # the same response's next content block, stamped after midnight
        fh.write(entry("m1", "2026-12-07T00:00:30.000Z", out=5) + entry("m2", "2026-12-07T00:01:00.000Z"))
    call(recording.stop, stop_payload(tmp_path, "s1", main))
    keys = all_keys()
    assert len(keys) == len(set(keys)) == 2
    assert ledger_cli.check(Ledger())["ok"]


def test_a_copy_stamped_days_later_counts_once(tmp_path: Path) -> None:
    first = tmp_path / "s1.jsonl"
    first.write_bytes(user("2026-12-01T10:00:00.000Z") + entry("m1", "2026-12-01T10:00:01.000Z"))
    call(recording.stop, stop_payload(tmp_path, "s1", first))
    resumed = tmp_path / "s2.jsonl"  # a resumed session copies the history, stamped days later
    resumed.write_bytes(user("2026-12-05T09:00:00.000Z") + entry("m1", "2026-12-05T09:00:00.500Z")
                        + entry("m9", "2026-12-05T09:00:02.000Z"))
    call(recording.stop, stop_payload(tmp_path, "s2", resumed))
    keys = all_keys()
    assert len(keys) == len(set(keys)) == 2
    Path(Ledger().path("index", "keys", "state.json")).unlink()  # the key index is a cache: rebuilt
    for shard in Path(Ledger().path("index", "keys")).glob("*.keys"):
        shard.unlink()
    call(recording.stop, stop_payload(tmp_path, "s2", resumed))
    Path(Ledger().session_path("s1")).unlink()  # its read offset lost: read again from the start
    call(recording.stop, stop_payload(tmp_path, "s1", first))
    assert sorted(all_keys()) == sorted(keys)


@pytest.mark.parametrize("order", ["main first", "fork first"])
def test_a_fork_does_not_count_its_parents_response_again(tmp_path: Path, order: str) -> None:
    sid = "fork-session"
    main = tmp_path / f"{sid}.jsonl"
    agent = tmp_path / sid / "subagents" / "agent-afork.jsonl"
    agent.parent.mkdir(parents=True)
    main.write_bytes(user("2026-12-07T10:00:00.000Z") + entry("parent", "2026-12-07T10:00:01.000Z", out=50))
    # the fork's transcript starts with its parent's context: the same response, same ids
    agent.write_bytes(entry("parent", "2026-12-07T10:00:01.000Z", out=50) + user("2026-12-07T10:00:02.000Z", "fork")
                      + entry("child", "2026-12-07T10:00:03.000Z", out=20))
    sub = {"session_id": sid, "transcript_path": str(main), "cwd": str(tmp_path), "agent_id": "afork",
           "agent_type": "fork", "hook_event_name": "SubagentStop", "agent_transcript_path": str(agent)}
    steps = [(recording.stop, stop_payload(tmp_path, sid, main)), (recording.subagent_stop, sub)]
    for handler, payload in steps if order == "main first" else steps[::-1]:
        call(handler, payload)
    recs = list(Ledger().iter_records())
    assert sum(r["requests"] for r in recs) == 2
    assert sum(r["tokens"]["output"] for r in recs) == 70
    (fork,) = [r for r in recs if r["agent_id"] == "afork"]
    assert fork["requests"] == (1 if order == "main first" else 2)


# ------------------------------------------------------------------ reconciliation from the transcripts


def test_stop_records_an_agent_whose_hooks_were_lost(lab: Resume) -> None:
    lab.grow(len(lab.main_lines), len(lab.agent_lines))  # every SubagentStop lost (disk full, timeout)
    out = call(recording.stop, lab.hook("12"))
    assert "agents missed by earlier hooks: recorded 3 request(s) of 1 agent(s) ($0.0240)" in out, out
    assert session_total(lab.sid) == expected_total()
    assert call(recording.stop, lab.hook("12")) == ""  # nothing new: nothing said


def test_stop_leaves_running_background_agents_to_their_subagent_stop(lab: Resume) -> None:
    lab.grow(11, 4)
    call(recording.stop, lab.hook("04"))  # lists the agent as running
    assert [r["kind"] for r in Ledger().iter_records()] == ["main"]
    call(recording.subagent_stop, lab.hook("06"))
    (agent,) = [r for r in Ledger().iter_records() if r["kind"] == "subagent"]
    assert agent["source"] == "SubagentStop" and agent["requests"] == 2


def test_session_start_reconciles_the_previous_session(lab: Resume, tmp_path: Path) -> None:
    lab.grow(6, 0)
    call(spawns.pre_tool_use, lab.hook("00"))  # the plugin saw the session; every later hook was lost
    lab.grow(len(lab.main_lines), len(lab.agent_lines))
    start = {"session_id": "next-session", "transcript_path": str(lab.main.parent / "next-session.jsonl"),
             "cwd": str(lab.project), "hook_event_name": "SessionStart", "source": "startup"}
    out = call(recording.session_start, start)
    assert "from earlier sessions' transcripts: recorded 3 request(s) of 1 agent(s) and 4 main-thread" in out, out
    assert session_total(lab.sid) == expected_total()


@pytest.mark.parametrize("where", ["mid-file", "at the end"])
def test_doctor_repair_quarantines_a_cut_line_and_rederives_it(lab: Resume, where: str) -> None:
    import base64
    import shutil

    replay(lab)
    led = Ledger()
    (day,) = led.days()
    path = Path(led.day_file(day))
    lines = path.read_bytes().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if b'"continuation":true' in line.replace(b" ", b""))
    fragment = lines[cut][: len(lines[cut]) // 2]  # a short write (disk full) left half the record ...
    if where == "mid-file":  # ... and the next append started a new line
        path.write_bytes(b"".join(lines[:cut]) + fragment + b"\n" + b"".join(lines[cut + 1:]))
    else:  # ... and nothing came after it
        path.write_bytes(b"".join(lines[:cut]) + b"".join(lines[cut + 1:]) + fragment)
        fragment = fragment[:-1] if fragment.endswith(b"\n") else fragment
    shutil.rmtree(led.path("index"))  # the record never reached the indexes
    assert session_total(lab.sid) < expected_total()
    before = ledger_cli.check(Ledger())
    assert not before["ok"] and "1 unreadable lines" in json.dumps(before["checks"]), before
    repaired = ledger_cli.check(Ledger(), repair=True)
    (frag,) = [c for c in repaired["checks"] if c["name"] == "fragments"]
    assert frag["detail"].startswith(f"1 unreadable ledger lines moved to quarantine/ ({day} at byte ")
    assert "reconciled from the transcripts: recorded 1 request(s) of 1 agent(s)" in frag["detail"]
    (kept,) = [json.loads(x) for x in Path(led.path("quarantine", f"{day}.jsonl")).read_text().splitlines()]
    assert base64.b64decode(kept["bytes_base64"]) == fragment + (b"\n" if where == "mid-file" else b"")
    after = ledger_cli.check(Ledger())
    assert after["ok"], after
    assert session_total(lab.sid) == expected_total()  # re-derived from Claude Code's transcripts


def test_doctor_checks_and_rebuilds_the_request_index(lab: Resume) -> None:
    replay(lab)
    led = Ledger()
    shard = next(Path(led.path("index", "keys")).glob("*.keys"))
    shard.write_text("")  # keys lost from the cache, offsets still claiming them: seen, rebuilt
    result = ledger_cli.check(Ledger())
    (idx,) = [c for c in result["checks"] if c["name"] == "request index"]
    assert result["ok"] and idx["repaired"] and "rebuilt" in idx["detail"], idx
    with open(shard, "a") as fh:  # a key the ledger does not hold: that request would never be recorded
        fh.write(shard.name[:2] + "0" * 18 + "\n")
    result = ledger_cli.check(Ledger())
    (idx,) = [c for c in result["checks"] if c["name"] == "request index"]
    assert not result["ok"] and "1 not in the ledger" in idx["detail"], idx
    ledger_cli.check(Ledger(), repair=True)
    assert ledger_cli.check(Ledger())["ok"]
    replay(lab)  # with the rebuilt index: still nothing twice
    assert session_total(lab.sid) == expected_total()


@pytest.mark.parametrize("damage", ["cut by a byte", "last line gone", "emptied", "state lost"])
def test_a_damaged_request_index_never_lets_a_request_count_twice(lab: Resume, damage: str) -> None:
    replay(lab)
    led = Ledger()
    shards = sorted(Path(led.path("index", "keys")).glob("*.keys"))
    for shard in shards:
        data = shard.read_bytes()
        if damage == "cut by a byte":
            shard.write_bytes(data[:-1])
        elif damage == "last line gone":
            shard.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 1])
        elif damage == "emptied":
            shard.write_bytes(b"")
    if damage == "state lost":
        Path(led.path("index", "keys", "state.json")).unlink()
    for sess in Path(led.path("sessions")).glob("*.json"):
        sess.unlink()  # read offsets lost too: every transcript is read again from its start
    replay(lab)
    assert session_total(lab.sid) == expected_total()
    keys = all_keys()
    assert len(keys) == len(set(keys))
    assert ledger_cli.check(Ledger())["ok"]


# ------------------------------------------------------------------ partial, then complete


def streaming(msg: str, ts: str, out: int, stop: str | None) -> bytes:
    return json.dumps({"type": "assistant", "timestamp": ts, "requestId": f"req_{msg}",
                       "message": {"id": msg, "model": "claude-opus-5-5", "stop_reason": stop,
                                   "usage": {"input_tokens": 1000, "output_tokens": out}}}).encode() + b"\n"


def test_within_one_read_the_complete_counts_win(tmp_path: Path) -> None:
    main = tmp_path / "s1.jsonl"
    main.write_bytes(user("2026-12-07T10:00:00.000Z") + streaming("m1", "2026-12-07T10:00:01.000Z", 3, None)
                     + streaming("m1", "2026-12-07T10:00:09.000Z", 8000, "end_turn"))
    call(recording.stop, stop_payload(tmp_path, "s1", main))
    (rec,) = Ledger().iter_records()
    assert rec["tokens"]["output"] == 8000 and rec["requests"] == 1 and "partial" not in rec


@pytest.mark.parametrize("where", ["main", "agent"])
def test_a_streamed_response_read_partial_then_complete_is_corrected_once(tmp_path: Path, where: str) -> None:
    sid = "stream-session"
    main = tmp_path / f"{sid}.jsonl"
    agent = tmp_path / sid / "subagents" / "agent-astream.jsonl"
    agent.parent.mkdir(parents=True)
    target = main if where == "main" else agent
    main.write_bytes(user("2026-12-07T10:00:00.000Z"))
    target.write_bytes((user("2026-12-07T10:00:00.000Z") if where == "agent" else main.read_bytes())
                       + streaming("m1", "2026-12-07T10:00:01.000Z", 3, None))
    sub = {"session_id": sid, "transcript_path": str(main), "cwd": str(tmp_path), "agent_id": "astream",
           "agent_type": "Explore", "hook_event_name": "SubagentStop", "agent_transcript_path": str(agent)}

    def hook() -> None:
        if where == "main":
            call(recording.stop, stop_payload(tmp_path, sid, main))
        else:
            call(recording.subagent_stop, sub)

    hook()  # read while it streamed: output 3
    with open(target, "ab") as fh:
        fh.write(streaming("m1", "2026-12-07T10:00:09.000Z", 8000, "end_turn"))
    hook()
    hook()  # again: nothing twice
    recs = list(Ledger().iter_records())
    assert sum(r["tokens"]["output"] for r in recs) == 8000  # the complete count, once
    assert sum(r["requests"] for r in recs) == 1
    fix = [r for r in recs if r.get("corrects")]
    assert len(fix) == 1 and fix[0]["continuation"] is True and fix[0]["tokens"]["output"] == 7997
    assert Decimal(fix[0]["cost_usd"]) > 0
    one = Decimal(0)
    for r in recs:
        one += records.cost(r)
    from model_strategy.runtime.money import pricing
    whole = pricing.table([]).price_request("claude-opus-5-5", {**records.zero_tokens(), "input": 1000,
                                                               "output": 8000}, "2026-12-07T10:00:01.000Z")
    assert one == whole
    with open(target, "ab") as fh:  # a copy of an earlier, smaller entry: never lower
        fh.write(streaming("m1", "2026-12-07T10:00:10.000Z", 5, None))
    hook()
    assert sum(r["tokens"]["output"] for r in Ledger().iter_records()) == 8000
    Path(Ledger().path("index", "keys", "state.json")).unlink()  # rebuilt from the records: same answer
    for s in Path(Ledger().path("sessions")).glob("*.json"):
        s.unlink()
    hook()
    assert sum(r["tokens"]["output"] for r in Ledger().iter_records()) == 8000
    assert ledger_cli.check(Ledger())["ok"]


# ------------------------------------------------------------------ a Workflow run (real 2.1.332 capture)

WORKFLOW = SAMPLES / "workflow"
WF_AGENTS = {"a420f38f6adc02353": "Explore", "acb2b1357d525975a": "workflow-subagent"}


def workflow_lab(tmp: Path) -> tuple[Path, dict[str, Path], Path]:
    sid = "63769f81-8529-4c43-b4e4-866046da3c0d"
    base = tmp / "claude" / "projects" / "-project"
    run = base / sid / "subagents" / "workflows" / "wf_888be8d5-265"
    run.mkdir(parents=True)
    main = base / f"{sid}.jsonl"
    main.write_bytes((WORKFLOW / "transcript-main.jsonl").read_bytes())
    agents = {}
    for aid in WF_AGENTS:
        agents[aid] = run / f"agent-{aid}.jsonl"
        agents[aid].write_bytes((WORKFLOW / f"workflow-agent-{aid}.jsonl").read_bytes())
        (run / f"agent-{aid}.meta.json").write_bytes((WORKFLOW / f"workflow-agent-{aid}.meta.json").read_bytes())
    (tmp / "project").mkdir()
    return main, agents, tmp / "project"


def wf_hook(name: str, main: Path, agents: dict[str, Path], project: Path) -> dict[str, Any]:
    (path,) = WORKFLOW.glob(f"hook-{name}*.json")
    data: dict[str, Any] = json.loads(path.read_text())
    data.pop("_env_seen_by_hook", None)
    data.update(transcript_path=str(main), cwd=str(project))
    if "agent_transcript_path" in data:
        data["agent_transcript_path"] = str(agents[data["agent_id"]])
    return data


@pytest.mark.parametrize("lost", [False, True])
def test_workflow_agents_recorded_once_each_with_their_type(tmp_path: Path, lost: bool) -> None:
    main, agents, project = workflow_lab(tmp_path)
    call(recording.stop, wf_hook("04", main, agents, project))  # the workflow still runs: its agents are left
    assert not [r for r in Ledger().iter_records() if r["kind"] == "subagent"]
    if not lost:
        call(recording.subagent_stop, wf_hook("06", main, agents, project))
        call(recording.subagent_stop, wf_hook("08", main, agents, project))
    out = call(recording.stop, wf_hook("09", main, agents, project))
    assert ("recorded 3 request(s) of 2 agent(s)" in out) == lost, out
    subs = [r for r in Ledger().iter_records() if r["kind"] == "subagent"]
    assert {r["agent_id"]: r["agent_type"] for r in subs} == WF_AGENTS
    assert not any(r.get("continuation") for r in subs)
    total = sum((records.cost(r) for r in Ledger().iter_records()), Decimal(0))
    assert total == Decimal(str(json.loads((WORKFLOW / "print-mode-result.json").read_text())["total_cost_usd"]))


# ------------------------------------------------------------------ schema-2 ledgers written before request keys


def test_an_agent_recorded_by_an_older_version_is_continued_from_its_request_count(lab: Resume) -> None:
    lab.grow(6, 0)
    call(spawns.pre_tool_use, lab.hook("00"))
    lab.grow(11, 4)
    call(recording.subagent_stop, lab.hook("06"))
    led = Ledger()
    (day,) = led.days()
    path = Path(led.day_file(day))
    old = []
    for line in path.read_text().splitlines():  # as the earlier version wrote it: no request keys
        rec = json.loads(line)
        if rec["kind"] == "subagent":
            rec["request_keys"] = []
        old.append(json.dumps(rec))
    path.write_text("\n".join(old) + "\n")
    import shutil

    shutil.rmtree(led.path("index"))
    for s in Path(led.path("sessions")).glob("*.json"):
        s.unlink()
    lab.grow(22, 6)
    call(recording.subagent_stop, lab.hook("11"))
    lab.grow(len(lab.main_lines), 6)
    call(recording.stop, lab.hook("12"))
    agent = [r for r in Ledger().iter_records() if r["agent_id"] == AGENT]
    assert [(r["requests"], r.get("continuation", False)) for r in agent] == [(2, False), (1, True)]
    assert session_total(lab.sid) == expected_total()


def test_doctor_does_not_send_the_user_to_a_repair_that_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "s1.jsonl"
    first.write_bytes(user("2026-12-01T10:00:00.000Z") + entry("m1", "2026-12-01T10:00:01.000Z"))
    call(recording.stop, stop_payload(tmp_path, "s1", first))
    led = Ledger()
    assert len(led.days()) == 1
    (rec,) = led.iter_records()
    twice = {**rec, "id": "s0:main:older-version", "ts": "2026-12-02T10:00:01.000Z"}  # an older version's copy
    with open(led.day_file("2026-12-02"), "w") as fh:
        fh.write(json.dumps(twice) + "\n")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "1 requests counted in two records" in out
    assert "problems found that --repair does not change" in out and "run `model-strategy doctor --repair`" not in out


def test_archiving_a_month_keeps_its_keys_without_reading_the_archive_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from model_strategy.runtime.books import archive

    old = tmp_path / "s1.jsonl"
    old.write_bytes(user("2026-10-01T10:00:00.000Z") + entry("m1", "2026-10-01T10:00:01.000Z")
                    + entry("m2", "2026-10-02T10:00:01.000Z"))
    call(recording.stop, stop_payload(tmp_path, "s1", old))
    led = Ledger()
    with led.transaction():
        assert archive.archive_month(led, "2026-10") is not None
    assert not led.days() and led.archived_months() == ["2026-10"]

    def no_read(path: str) -> Any:
        raise AssertionError(f"read {path} back")

    with monkeypatch.context() as patch:
        patch.setattr(archive, "read_archive", no_read)
        Path(Ledger().session_path("s1")).unlink()  # read again from its start: the requests are in the archive
        assert call(recording.stop, stop_payload(tmp_path, "s1", old)) == ""
    assert sorted(all_keys()) == sorted(set(all_keys())) and len(all_keys()) == 2
    assert ledger_cli.check(Ledger())["ok"]
