"""Odd input the hooks must record, not die on: provider model ids, unknown models, absurd token
counts, bytes that are not UTF-8, ids that collide once made file-safe, a ledger lock held too long."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fleet import Fleet, finish, hook_env, start
from model_strategy.commands.usage import ledger_cli
from model_strategy.runtime.base import clock
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording, spawns
from model_strategy.runtime.limits import budget
from model_strategy.runtime.money import pricing
from model_strategy.runtime.settings import config
from sessionlab import AGENT_A, AGENT_B, ROOT, Session, venv_python
from test_recording import call, records


@pytest.fixture
def lab(samples: Path, tmp_path: Path) -> Session:
    return Session(samples, tmp_path)


def _set_model(path: Path, model: str, **usage: int) -> None:
    lines = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("type") == "assistant":
            entry["message"]["model"] = model
            entry["message"]["usage"].update(usage)
        lines.append(json.dumps(entry))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(("model", "priced_as"), [
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),  # Bedrock, regional
    ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),  # Vertex
    ("anthropic/claude-haiku-4-5", "claude-haiku-4-5"),  # a gateway's spelling
    ("claude-unknown-9-9", None),
    ("glm-4.6", None),
])
def test_provider_and_unknown_models_are_recorded(lab: Session, model: str, priced_as: str | None) -> None:
    _set_model(lab.agent_paths[AGENT_A], model)
    _set_model(lab.transcript, model)  # the main thread too: routing must go on
    call(spawns.pre_tool_use, lab.pre("A"))
    out = call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    (rec,) = records()
    assert rec["model_actual"] == model and rec["requests"] == 3 and rec["tokens"]["input"] == 3000
    table = pricing.table()
    if priced_as:
        assert table.find(model)["id"] == priced_as  # type: ignore[index]
        assert rec["unpriced_requests"] == 0 and Decimal(rec["cost_usd"]) > 0
    else:
        assert rec["unpriced_requests"] == 3 and rec["cost_usd"] == "0" and "unpriced" in rec["flags"]
        assert rec["models"][model]["priced"] is False and rec["models"][model]["cost_usd"] is None
        assert out is not None and "recorded without a price" in out["systemMessage"]
    # later spawns of the session are still routed
    again = call(spawns.pre_tool_use, lab.pre("B"))
    assert again is not None and "→" in again["systemMessage"] and "internal error" not in again["systemMessage"]
    assert call(recording.stop, lab.payload("Stop")) is None or True
    main = records("main")
    assert len(main) == 1 and main[0]["requests"] == 2


def test_unpriced_usage_is_named_in_the_budget_line(lab: Session) -> None:
    _set_model(lab.agent_paths[AGENT_A], "glm-4.6")
    call(spawns.pre_tool_use, lab.pre("A"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    cfg, _ = config.load(None)
    cfg["budgets"] = {**cfg.get("budgets", {}), "monthly_usd": 100}
    month = budget.status(Ledger(), cfg, datetime(2026, 11, 26, 12, tzinfo=timezone.utc))[2]
    assert month["unpriced_requests"] == 3
    assert " + 3 unpriced requests of $100.00)" in budget.where(month)


def test_absurd_token_counts_are_clamped_flagged_and_never_priced(lab: Session) -> None:
    _set_model(lab.agent_paths[AGENT_A], "claude-haiku-5-5", input_tokens=10**30)
    call(spawns.pre_tool_use, lab.pre("A"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    (rec,) = records()
    assert "clamped_tokens" in rec["flags"] and rec["unpriced_requests"] == 3
    assert rec["tokens"]["input"] == 3 * 10_000_000 and rec["cost_usd"] == "0"
    cfg, _ = config.load(None)
    assert all(st["level"] == "ok" for st in budget.status(Ledger(), cfg))  # budgets untouched


def test_bad_bytes_on_stdin_and_in_ids(lab: Session) -> None:
    payload = lab.subagent_stop(AGENT_A)
    payload["agent_type"] = "rev\udc80iewer"  # a lone surrogate
    raw = json.dumps(payload).replace("\\udc80", "\\udc80")
    code = hooks.run(recording.subagent_stop, _Bytes(raw.encode() + b""), _Sink())
    assert code == 0
    (rec,) = records()
    assert rec["agent_type"] == "rev\udc80iewer"
    # invalid UTF-8 in the payload (the project path): decoded losslessly, still recorded
    other = lab.subagent_stop(AGENT_B)  # another agent (the same one's requests are in the ledger already)
    other["session_id"] = "second-session"
    text = json.dumps(other).encode().replace(b'"cwd": "', b'"cwd": "\xff')
    sink = _Sink()
    assert hooks.run(recording.subagent_stop, _Bytes(text), sink) == 0
    assert len(records()) == 2, sink.text
    assert ledger_cli.check(Ledger())["ok"]


def test_session_files_do_not_collide(data_dir: Path) -> None:
    led = Ledger()
    names = {led.session_path(s) for s in ("a/b", "a_b", "x" * 200 + "1", "x" * 200 + "2", "..", ".")}
    assert len(names) == 6
    assert all(Path(n).resolve().is_relative_to(data_dir.resolve() / "sessions") for n in names)


def test_busy_lock_spools_then_the_next_hook_merges(samples: Path, tmp_path: Path, data_dir: Path) -> None:
    fleet = Fleet(samples, tmp_path, 2)
    lock = os.open(data_dir / "archive.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)  # another process holds the ledger for too long
    try:
        code, out, err = finish(start("subagent_stop", fleet.subagent_stop(fleet.ids[0])))
        assert code == 0 and not err
        assert "parked in the spool" in json.loads(out)["systemMessage"]
        assert Ledger().spool_names() and list(Ledger().iter_records()) == []
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
    code, _, _ = finish(start("subagent_stop", fleet.subagent_stop(fleet.ids[1])))
    assert code == 0 and Ledger().spool_names() == []
    assert sorted(r["agent_id"] for r in Ledger().iter_records()) == sorted(fleet.ids)
    # re-delivery of the spooled agent changes nothing
    finish(start("post_tool_use", fleet.post_tool_use(fleet.ids[0])))
    assert len(list(Ledger().iter_records())) == 2


def test_doctor_and_export_from_the_command_line(lab: Session, tmp_path: Path) -> None:
    call(spawns.pre_tool_use, lab.pre("A"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    env = {**hook_env(), "MODEL_STRATEGY_PYTHON": venv_python()}
    bin_ = str(ROOT / "bin" / "model-strategy")
    doc = subprocess.run([bin_, "doctor", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert doc.returncode == 0 and json.loads(doc.stdout)["records"] == 2
    out = tmp_path / "records.csv"
    exp = subprocess.run([bin_, "export", "records", "--output", str(out)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert exp.returncode == 0, exp.stderr
    header, *rows = out.read_text().splitlines()
    assert header.split(",")[:15] == list(ledger_cli.EXPORT_COLUMNS[:15]) and len(rows) == 2
    jl = subprocess.run([bin_, "export", "records", "--format", "jsonl", "--since", "2026-11-26"],
                        capture_output=True, text=True, env=env, timeout=120)
    assert [json.loads(line)["kind"] for line in jl.stdout.splitlines()] == ["main", "subagent"]
    bad = subprocess.run([bin_, "export", "records", "--format", "xml"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "csv or jsonl" in bad.stderr


class _Bytes:
    """A stdin whose ``buffer`` yields raw bytes, as a hook process gets them."""

    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)

    def read(self) -> Any:
        return self.buffer.read()


class _Sink:
    text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)


def test_budget_table_names_unpriced_requests(lab: Session) -> None:
    from model_strategy.commands.cli import budget_cli
    from model_strategy.commands.render import render_budget

    now = clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    path = lab.agent_paths[AGENT_A]
    _set_model(path, "glm-4.6")
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({**e, "timestamp": now}) + "\n" for e in entries))  # spent today
    call(spawns.pre_tool_use, lab.pre("A"))
    call(recording.subagent_stop, lab.subagent_stop(AGENT_A))
    data = budget_cli.report_data()
    assert [p["unpriced_requests"] for p in data["periods"]] == [3, 3, 3]
    assert render_budget.text(data).count("+ 3 unpriced") == 3


def test_export_columns_are_stable() -> None:
    """The columns come from ``ExportRow``'s fields: pinned here, so a reordered field cannot move one."""
    assert ledger_cli.EXPORT_COLUMNS == (
        "id", "kind", "session_id", "agent_id", "agent_type", "project", "requested_model", "model",
        "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "priced", "ts",
        "cache_write_5m_tokens", "cache_write_1h_tokens", "web_search_requests", "requests", "unpriced_requests",
        "duration_ms", "outcome", "source", "recorded_at", "tool_use_id", "model_mismatch", "flags", "continuation")
