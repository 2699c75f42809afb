"""Each subagent becomes exactly one record, whatever order and number of hooks report it."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from model_strategy.models import AgentRecord, Decision, MonthlyRollup
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording, spawns
from sessionlab import AGENT_A, AGENT_B, Session


def call(handler: Any, payload: dict[str, Any] | str) -> dict[str, Any] | None:
    out = io.StringIO()
    text = payload if isinstance(payload, str) else json.dumps(payload)
    assert hooks.run(handler, io.StringIO(text), out) == 0
    return json.loads(out.getvalue()) if out.getvalue() else None


def records(kind: str = "subagent") -> list[dict[str, Any]]:
    return [r for r in Ledger().iter_records() if r["kind"] == kind]


@pytest.fixture
def lab(samples: Path, tmp_path: Path) -> Session:
    return Session(samples, tmp_path)


def test_foreground_agent_stop_then_post(lab: Session) -> None:
    call(spawns.pre_tool_use, lab.pre("A"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    call(recording.post_tool_use, lab.payload("PostToolUse-foreground"))
    (rec,) = records()
    AgentRecord.model_validate(rec)
    assert rec["agent_id"] == AGENT_A and rec["requests"] == 3
    # the whole transcript, not PostToolUse's last-turn usage (1000/200/3000/100)
    assert rec["tokens"] == {"input": 3000, "output": 600, "cache_read": 9000, "cache_write_5m": 300,
                             "cache_write_1h": 0, "web_search": 0}
    assert rec["tool_use_id"] == "toolu_00000_0"
    assert rec["decision"]["chosen"] == "haiku" and rec["model_requested"] == "haiku"
    assert rec["model_actual"] == "claude-haiku-5-5" and rec["model_mismatch"] is False


def test_foreground_agent_post_only(lab: Session) -> None:
    call(spawns.pre_tool_use, lab.pre("A"))
    call(recording.post_tool_use, lab.payload("PostToolUse-foreground"))
    call(recording.post_tool_use, lab.payload("PostToolUse-foreground"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    (rec,) = records()
    assert rec["source"] == "PostToolUse" and rec["duration_ms"] == 417


def test_background_agent_joins_decision_via_link(lab: Session) -> None:
    call(spawns.pre_tool_use, lab.pre("B"))
    out = call(recording.post_tool_use, lab.payload("PostToolUse-background"))
    assert out is None  # async launch: nothing to say, nothing recorded yet
    assert records() == []
    call(recording.subagent_stop, lab.subagent_stop(AGENT_B))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_B))
    (rec,) = records()
    assert rec["tool_use_id"] == "toolu_00000_1" and rec["decision"]["tool_use_id"] == "toolu_00000_1"
    assert rec["requests"] == 2 and rec["tokens"]["input"] == 4000 and rec["tokens"]["output"] == 600


def test_both_agents_cost_what_claude_code_charged(lab: Session, samples: Path) -> None:
    call(spawns.pre_tool_use, lab.pre("A"))
    call(spawns.pre_tool_use, lab.pre("B"))
    call(recording.post_tool_use, lab.payload("PostToolUse-background"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    call(recording.post_tool_use, lab.payload("PostToolUse-foreground"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_B))
    recs = records()
    assert len(recs) == 2
    expected = json.loads((samples / "print-mode-result.json").read_text())["modelUsage"]["claude-haiku-5-5"]
    total = sum(Decimal(r["cost_usd"]) for r in recs)
    assert abs(total - Decimal(str(expected["costUSD"]))) <= Decimal("0.000001")
    assert sum(r["tokens"]["input"] for r in recs) == expected["inputTokens"]
    assert sum(r["tokens"]["cache_read"] for r in recs) == expected["cacheReadInputTokens"]
    month = Ledger().monthly(recs[0]["ts"][:7])
    assert month is not None
    MonthlyRollup.model_validate_json(Path(Ledger().path("monthly", recs[0]["ts"][:7] + ".json")).read_text())
    main = records("main")  # PreToolUse brought the main thread's spend in first
    assert len(main) == 1
    assert Decimal(month["total"]["cost_usd"]) == total + Decimal(main[0]["cost_usd"])
    assert month["total"]["records"] == 3
    assert Decimal(month["by_agent_type"]["general-purpose"]["cost_usd"]) == total
    assert set(month["by_model"]) == {"claude-haiku-5-5", "claude-opus-5-5"}


def test_join_by_prompt_digest_without_tool_use_id(lab: Session) -> None:
    call(spawns.pre_tool_use, lab.pre("B"))
    call(spawns.pre_tool_use, lab.pre("A"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_B))  # no PostToolUse link yet
    (rec,) = records()
    assert rec["decision"]["tool_use_id"] == "toolu_00000_1"


def test_decisions_are_stored_per_session_and_valid(lab: Session) -> None:
    call(spawns.pre_tool_use, lab.pre("A"))
    state = json.loads((Path(Ledger().session_path(lab.sid))).read_text())
    decision = state["decisions"]["toolu_00000_0"]
    Decision.model_validate(decision)
    assert "prompt" not in json.dumps(state).replace("prompt_hash", "")  # no prompt text stored


def test_main_thread_usage_recorded_incrementally_on_stop(lab: Session, samples: Path) -> None:
    call(recording.stop, lab.payload("Stop"))
    call(recording.stop, lab.payload("Stop"))  # nothing new: no second record
    (rec,) = records("main")
    AgentRecord.model_validate(rec)
    assert rec["kind"] == "main" and rec["requests"] == 2  # msg_mock_00000 appears twice, counted once
    expected = json.loads((samples / "print-mode-result.json").read_text())["modelUsage"]["claude-opus-5-5"]
    assert rec["tokens"]["input"] == expected["inputTokens"]
    assert abs(Decimal(rec["cost_usd"]) - Decimal(str(expected["costUSD"]))) <= Decimal("0.000001")
    with open(lab.transcript, "a") as fh:  # the session goes on
        entry = json.loads(lab.transcript.read_text().splitlines()[5])
        entry["message"]["id"], entry["requestId"] = "msg_new", "req_new"
        fh.write(json.dumps(entry) + "\n")
    call(recording.stop, lab.payload("Stop"))
    assert [r["requests"] for r in records("main")] == [2, 1]


def test_missing_transcript_is_one_line_not_a_crash(lab: Session) -> None:
    payload = lab.subagent_stop(AGENT_A)
    payload["agent_transcript_path"] = "/nonexistent/agent.jsonl"
    out = call(recording.subagent_stop, payload)
    assert out is not None and "no transcript for agent" in out["systemMessage"]
    assert records() == []


def test_record_mismatch_is_flagged(lab: Session) -> None:
    pre = lab.pre("A")
    pre["tool_input"]["model"] = "opus"
    call(spawns.pre_tool_use, pre)  # explicit model kept: requested opus
    out = call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    (rec,) = records()
    assert rec["model_requested"] == "opus" and rec["model_mismatch"] is True
    assert out is not None and "asked for opus but ran on claude-haiku-5-5" in out["systemMessage"]
