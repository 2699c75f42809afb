"""Routing that learns from its own outcomes (runtime/routing/learning.py, commands/usage/routing.py)."""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_strategy.models import Decision
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import hooks, recording, spawns
from model_strategy.runtime.routing import learning, outcomes, selector
from test_hook_processes import run_hook

NOW = "2026-12-07T12:00:00Z"
SEARCH = {"subagent_type": "Explore", "description": "Find config loaders",
          "prompt": "find every place the config files are read and list them"}
BUCKET = "Explore\x1fsimple\x1fBALANCED"


@pytest.fixture(autouse=True)
def _replayed_at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs below are stamped NOW: the clock is set there, whatever MODEL_STRATEGY_TEST_NOW the suite runs at
    (the learning window is the last 90 days of the clock)."""
    monkeypatch.setenv("MODEL_STRATEGY_NOW", NOW)


class Lab:
    """A session on disk: PreToolUse / SubagentStop payloads and agent transcripts."""

    def __init__(self, tmp: Path, sid: str = "sess-learn") -> None:
        self.tmp, self.sid, self.n = tmp, sid, 0
        self.dir = tmp / "claude" / sid / "subagents"
        self.dir.mkdir(parents=True)
        self.main = tmp / "claude" / f"{sid}.jsonl"
        self.main.write_text("")
        self.project = tmp / "project"
        self.project.mkdir()

    def pre(self, tool_input: dict[str, Any], tuid: str | None = None) -> dict[str, Any]:
        self.n += 1
        return {"session_id": self.sid, "transcript_path": str(self.main), "cwd": str(self.project),
                "hook_event_name": "PreToolUse", "tool_name": "Agent", "tool_input": dict(tool_input),
                "tool_use_id": tuid or f"toolu_{self.n:04d}"}

    def agent(self, tuid: str, model: str, ok: bool = True, ts: str = NOW) -> dict[str, Any]:
        """Write the agent's transcript (outcome completed, or an API error) and its SubagentStop payload."""
        self.n += 1
        agent_id = f"a{self.n:012x}"
        path = self.dir / f"agent-{agent_id}.jsonl"
        msg = {"id": f"msg_{agent_id}", "role": "assistant", "model": f"claude-{model}-5-5",
               "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn" if ok else None,
               "usage": {"input_tokens": 1000, "output_tokens": 100}}
        lines = [{"type": "user", "isSidechain": True, "agentId": agent_id, "timestamp": ts,
                  "message": {"role": "user", "content": "task"}},
                 {"type": "assistant", "isSidechain": True, "agentId": agent_id, "timestamp": ts,
                  "requestId": f"req_{agent_id}", "message": msg}]
        if not ok:
            lines.append({"type": "assistant", "isSidechain": True, "agentId": agent_id, "timestamp": ts,
                          "isApiErrorMessage": True, "message": {"role": "assistant", "content": "API Error"}})
        path.write_text("".join(json.dumps(x) + "\n" for x in lines))
        (self.dir / f"agent-{agent_id}.meta.json").write_text(json.dumps({"toolUseId": tuid}))
        return {"session_id": self.sid, "transcript_path": str(self.main), "cwd": str(self.project),
                "hook_event_name": "SubagentStop", "agent_id": agent_id, "agent_type": "Explore",
                "agent_transcript_path": str(path), "stop_hook_active": False}


def call(handler: Any, payload: dict[str, Any]) -> dict[str, Any]:
    out = io.StringIO()
    hooks.run(handler, io.StringIO(json.dumps(payload)), out)
    return json.loads(out.getvalue()) if out.getvalue().strip() else {}


def model_of(out: dict[str, Any]) -> str | None:
    return out.get("hookSpecificOutput", {}).get("updatedInput", {}).get("model")


def config(data_dir: Path, **learning_cfg: Any) -> None:
    cfg = {"budgets": {"daily_usd": None, "weekly_usd": None, "monthly_usd": None}, "learning": learning_cfg}
    (data_dir / "config.json").write_text(json.dumps(cfg))


def run_once(lab: Lab, tool_input: dict[str, Any], ok: bool, ts: str = NOW) -> tuple[str | None, dict[str, Any]]:
    payload = lab.pre(tool_input)
    out = call(spawns.pre_tool_use, payload)
    model = model_of(out) or tool_input.get("model")
    call(recording.subagent_stop, lab.agent(payload["tool_use_id"], str(model), ok, ts))
    return model, out


def state() -> dict[str, Any]:
    from model_strategy.runtime.base import clock

    return learning.load(Ledger(), clock.now())


# ------------------------------------------------------------------ the posterior and the pick


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 2), st.integers(0, 2))
def test_posterior_is_a_proper_beta(s: int, f: int, static: int, tier: int) -> None:
    m, v = learning.posterior(s, f, static, tier)
    assert 0 < m < 1 and 0 < v < 0.25
    m2, _ = learning.posterior(s + 1, f, static, tier)
    m3, _ = learning.posterior(s, f + 1, static, tier)
    assert m3 < m < m2  # a success raises the mean, a failure lowers it


@given(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.floats(0, 0.5))
def test_no_evidence_keeps_the_static_pick(static: int, lo: int, hi: int, loss: float) -> None:
    if lo > hi:
        lo, hi = hi, lo
    t, _ = learning.pick({}, static, lo, hi, loss)
    assert t == max(lo, min(hi, static))


def test_evidence_moves_the_pick_down_and_up() -> None:
    as_good = {"haiku": [40, 0], "sonnet": [60, 1]}
    assert learning.pick(as_good, 1, 0, 2, 0.02)[0] == 0  # haiku as good as sonnet: the cheaper one
    worse = {"haiku": [30, 10], "sonnet": [60, 1]}
    assert learning.pick(worse, 1, 0, 2, 0.02)[0] == 1
    too_weak = {"haiku": [20, 12], "sonnet": [15, 0]}
    assert learning.pick(too_weak, 0, 0, 2, 0.02)[0] == 1  # static haiku fails: up to sonnet
    assert learning.pick(too_weak, 0, 0, 0, 0.02)[0] == 0  # never above max_tier
    assert learning.pick(as_good, 1, 1, 2, 0.02)[0] == 1  # never below min_tier


def test_one_run_on_a_cheaper_tier_does_not_move_the_bucket() -> None:
    """Seen in the real client: one spawn a 5-hour window moved from opus to sonnet succeeded, and the next
    spawn of that bucket was routed to sonnet ("learned: 1 runs").  A cheaper tier needs runs of its own."""
    for n in range(learning.MIN_RUNS_DOWN):
        assert learning.pick({"sonnet": [n, 0]}, 2, 0, 2, 0.02)[0] == 2
    assert learning.pick({"sonnet": [learning.MIN_RUNS_DOWN, 0]}, 2, 0, 2, 0.02)[0] == 1


@given(st.lists(st.tuples(st.integers(0, 2), st.booleans()), max_size=60), st.integers(0, 2))
def test_pick_stays_within_bounds(obs: list[tuple[int, bool]], static: int) -> None:
    counts: dict[str, list[int]] = {}
    for t, ok in obs:
        row = counts.setdefault(("haiku", "sonnet", "opus")[t], [0, 0])
        row[0 if ok else 1] += 1
    for lo, hi in ((0, 2), (1, 2), (0, 1), (1, 1)):
        assert lo <= learning.pick(counts, static, lo, hi, 0.02)[0] <= hi


# ------------------------------------------------------------------ decisions


def test_decision_records_bucket_static_and_probability(tmp_path: Path, data_dir: Path) -> None:
    config(data_dir)
    lab = Lab(tmp_path)
    model, _ = run_once(lab, SEARCH, True)
    assert model == "haiku"
    (rec,) = [r for r in Ledger().iter_records() if r["kind"] == "subagent"]
    d = rec["decision"]
    assert d["bucket"] == ["Explore", "simple", "BALANCED"] and d["static"] == "haiku" and d["p"] == 1.0
    Decision.model_validate(d)  # the schema the hot path must satisfy
    explicit = lab.pre({**SEARCH, "model": "opus"})
    call(spawns.pre_tool_use, explicit)
    kept = Ledger().session(lab.sid, None)["decisions"][explicit["tool_use_id"]]
    assert kept["chosen"] == "opus" and kept["p"] == 1.0 and "_match" not in kept
    Decision.model_validate(kept)


def _seed_counts(data_dir: Path, counts: dict[str, list[int]], bucket: str = BUCKET) -> None:
    """A learning state that says ``counts`` for ``bucket`` (written as the cache would be)."""
    from model_strategy.runtime.base import clock

    learning.load(Ledger(), clock.now())
    path = data_dir / learning.CACHE
    cache = json.loads(path.read_text())
    cache["data"]["total"][bucket] = counts
    cache["data"]["days"].setdefault("2026-12-07", {})[bucket] = counts
    from model_strategy.runtime.books.folds import crc

    cache["crc"] = crc(cache)
    path.write_text(json.dumps(cache))


def test_learning_off_restores_the_static_rule_exactly(tmp_path: Path, data_dir: Path) -> None:
    corpus = [SEARCH, {"subagent_type": "general-purpose", "prompt": "refactor the parser and review it"},
              {"subagent_type": "Plan", "prompt": "design the architecture"},
              {"subagent_type": "general-purpose", "description": "grep", "prompt": "find foo"},
              {"subagent_type": "code-reviewer", "prompt": "review the security of the login"},
              {**SEARCH, "model": "sonnet"}]
    lab = Lab(tmp_path)
    for bucket in ("Explore\x1fsimple\x1fBALANCED", "general-purpose\x1fmoderate\x1fBALANCED",
                   "general-purpose\x1fsimple\x1fBALANCED"):
        config(data_dir)
        _seed_counts(data_dir, {"haiku": [200, 0], "sonnet": [1, 40], "opus": [1, 40]}, bucket)
    config(data_dir, enabled=False)
    from model_strategy.runtime.settings import config as config_mod

    cfg = config_mod.load(str(lab.project))[0]
    for tool_input in corpus:
        expect = selector.decide(dict(tool_input), cfg)["chosen"]
        out = call(spawns.pre_tool_use, lab.pre(tool_input))
        assert (model_of(out) or tool_input.get("model")) == expect
        assert "learned" not in out.get("systemMessage", "")


def test_learned_pick_is_said_and_budget_still_applies(tmp_path: Path, data_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.99")  # no exploration
    config(data_dir)
    _seed_counts(data_dir, {"haiku": [10, 9], "sonnet": [30, 0]})
    lab = Lab(tmp_path)
    out = call(spawns.pre_tool_use, lab.pre(SEARCH))
    assert model_of(out) == "sonnet"
    assert "Explore → sonnet, low effort (learned: 49 runs, sonnet" in out["systemMessage"]
    assert "% vs haiku" in out["systemMessage"]
    # a budget policy still acts after learning: past the daily budget, haiku only
    cfg = {"budgets": {"daily_usd": "0.000001", "weekly_usd": None, "monthly_usd": None}}
    (data_dir / "config.json").write_text(json.dumps(cfg))
    run_once(lab, {"subagent_type": "Plan", "prompt": "design the architecture"}, True)
    out = call(spawns.pre_tool_use, lab.pre(SEARCH))
    assert model_of(out) == "haiku"
    assert out["systemMessage"].startswith("model-strategy: Explore → sonnet → haiku (daily budget ")
    assert "picked for learned: " in out["systemMessage"]


def test_pinned_agent_is_neither_learned_nor_explored(tmp_path: Path, data_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.0")  # would always explore
    cfg = {"budgets": {"daily_usd": None, "weekly_usd": None, "monthly_usd": None}, "agents": {"Explore": "sonnet"}}
    (data_dir / "config.json").write_text(json.dumps(cfg))
    _seed_counts(data_dir, {"haiku": [0, 50], "sonnet": [100, 0]}, "Explore\x1fsimple\x1fBALANCED")
    lab = Lab(tmp_path)
    out = call(spawns.pre_tool_use, lab.pre(SEARCH))  # pinned to sonnet; the static rule takes a trivial search down
    assert model_of(out) == "haiku"
    assert "learned" not in out["systemMessage"] and "exploring" not in out["systemMessage"]


def test_exploration_one_tier_down_with_its_probability(tmp_path: Path, data_dir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config(data_dir, explore=0.1)
    lab = Lab(tmp_path)
    gp = {"subagent_type": "general-purpose", "prompt": "implement the retry logic in the network client and its tests"}
    _seed_counts(data_dir, {"sonnet": [5, 0]}, "general-purpose\x1fmoderate\x1fBALANCED")
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.05")
    p1 = lab.pre(gp)
    out = call(spawns.pre_tool_use, p1)
    assert model_of(out) == "haiku" and "exploring" in out["systemMessage"]
    kept = Ledger().session(lab.sid, None)["decisions"][p1["tool_use_id"]]
    assert kept["explored"] is True and kept["p"] == 0.1 and kept["static"] == "sonnet"
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.5")
    p2 = lab.pre(gp)
    assert model_of(call(spawns.pre_tool_use, p2)) == "sonnet"
    assert Ledger().session(lab.sid, None)["decisions"][p2["tool_use_id"]]["p"] == 0.9
    # a fresh bucket (fewer than EXPLORE_AFTER runs) is routed as always
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.0")
    out = call(spawns.pre_tool_use, lab.pre({"subagent_type": "Plan", "prompt": "design the architecture"}))
    assert model_of(out) == "opus"


def test_no_exploration_while_a_budget_policy_acts(tmp_path: Path, data_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.0")
    cfg = {"budgets": {"daily_usd": "0.000001"}}  # any spend puts the day past its budget
    (data_dir / "config.json").write_text(json.dumps(cfg))
    lab = Lab(tmp_path)
    gp = {"subagent_type": "general-purpose", "prompt": "implement the retry logic in the network client and its tests"}
    for _ in range(4):
        run_once(lab, gp, True)
    p = lab.pre(gp)
    call(spawns.pre_tool_use, p)
    kept = Ledger().session(lab.sid, None)["decisions"][p["tool_use_id"]]
    assert kept["p"] == 1.0 and not kept.get("explored") and kept["budget_level"] != "ok"


# ------------------------------------------------------------------ escalation


def test_escalation_marks_the_earlier_run_failed(tmp_path: Path, data_dir: Path) -> None:
    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    run_once(lab, SEARCH, True)
    assert state()["total"][BUCKET] == {"haiku": [1, 0]}
    out = call(spawns.pre_tool_use, lab.pre({**SEARCH, "description": "find the config loaders!", "model": "sonnet"}))
    assert "escalation: Explore again on sonnet after haiku" in out["systemMessage"]
    assert state()["total"][BUCKET] == {"haiku": [0, 1]}
    events = [json.loads(x) for x in (data_dir / outcomes.EVENTS).read_text().splitlines()]
    assert [(e["kind"], e["from"], e["to"]) for e in events] == [("escalated", True, False)]
    # once: the same re-spawn again does not count the run twice
    call(spawns.pre_tool_use, lab.pre({**SEARCH, "model": "opus"}))
    assert state()["total"][BUCKET] == {"haiku": [0, 1]}


def test_escalation_before_the_record_is_carried_by_it(tmp_path: Path, data_dir: Path) -> None:
    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    first = lab.pre(SEARCH)
    call(spawns.pre_tool_use, first)
    call(spawns.pre_tool_use, lab.pre({**SEARCH, "model": "opus"}))  # while the first still runs
    call(recording.subagent_stop, lab.agent(first["tool_use_id"], "haiku", True))
    (rec,) = [r for r in Ledger().iter_records() if r["kind"] == "subagent"]
    assert rec["decision"]["escalated"] is True
    assert state()["total"][BUCKET] == {"haiku": [0, 1]}


@pytest.mark.parametrize("change", ["same tier", "lower tier", "other task", "too late", "other type"])
def test_not_an_escalation(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    gp = {"subagent_type": "general-purpose", "prompt": "implement the retry logic in the network client and its tests"}
    run_once(lab, gp, True)  # sonnet
    again: dict[str, Any] = {**gp, "model": "opus"}
    if change == "same tier":
        again["model"] = "sonnet"
    elif change == "lower tier":
        again["model"] = "haiku"
    elif change == "other task":
        again["prompt"] = "write the changelog entry for the release of version two"
    elif change == "too late":
        monkeypatch.setenv("MODEL_STRATEGY_NOW", "2026-12-07T12:31:00Z")
    else:
        again["subagent_type"] = "code-writer"
    out = call(spawns.pre_tool_use, lab.pre(again))
    assert "escalation" not in out.get("systemMessage", "")
    assert state()["total"]["general-purpose\x1fmoderate\x1fBALANCED"] == {"sonnet": [1, 0]}


def test_escalation_in_real_hook_processes(tmp_path: Path, data_dir: Path) -> None:
    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    first = lab.pre(SEARCH)
    code, out, err = run_hook("pre_tool_use", first)
    assert code == 0 and err == "" and out is not None
    assert out["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    code, _, err = run_hook("subagent_stop", lab.agent(first["tool_use_id"], "haiku", True))
    assert code == 0 and err == ""
    code, out, err = run_hook("pre_tool_use", lab.pre({**SEARCH, "model": "sonnet"}))
    assert code == 0 and err == "" and out is not None
    assert "escalation: Explore again on sonnet after haiku" in out["systemMessage"]
    assert state()["total"][BUCKET] == {"haiku": [0, 1]}


def test_similar_matches_prefix_or_overlap() -> None:
    a = outcomes.match_info({"description": "Fix the flaky test", "prompt": "the retry test fails now and then; fix"})
    assert outcomes.similar(a, outcomes.match_info({"description": "fix the FLAKY test!", "prompt": "x"}))
    assert outcomes.similar(a, outcomes.match_info({"prompt": "the retry test fails now and then; please fix it"}))
    assert not outcomes.similar(a, outcomes.match_info({"description": "write docs", "prompt": "document the api"}))


# ------------------------------------------------------------------ the cache


def test_cache_counts_each_agent_once_and_rebuilds(tmp_path: Path, data_dir: Path) -> None:
    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    for ok in (True, True, False):
        run_once(lab, SEARCH, ok)
    assert state()["total"][BUCKET] == {"haiku": [2, 1]}
    # a continuation slice of the first agent (same agent id, another record id) is not counted again
    rec = next(r for r in Ledger().iter_records() if r["kind"] == "subagent")
    slice_ = {**rec, "id": f"{rec['id']}:k123", "continuation": True, "request_keys": ["k123"]}
    led = Ledger()
    with led.transaction():
        led.commit(slice_)  # type: ignore[arg-type]
    assert state()["total"][BUCKET] == {"haiku": [2, 1]}
    (data_dir / learning.CACHE).write_text("{broken")
    assert state()["total"][BUCKET] == {"haiku": [2, 1]}
    cache = json.loads((data_dir / learning.CACHE).read_text())
    cache["data"]["total"][BUCKET]["haiku"] = [99, 0]  # edited: the checksum no longer matches
    (data_dir / learning.CACHE).write_text(json.dumps(cache))
    assert state()["total"][BUCKET] == {"haiku": [2, 1]}


# ------------------------------------------------------------------ feedback and the report


def test_feedback_marks_the_last_run(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from model_strategy.commands.cli import cli

    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    run_once(lab, SEARCH, True)
    assert cli.main(["feedback", "bad", "last"]) == 0
    line = capsys.readouterr().out
    assert line.startswith("model-strategy: marked agent a") and "bad" in line and "was a success" in line
    assert state()["total"][BUCKET] == {"haiku": [0, 1]}
    agent = next(r for r in Ledger().iter_records() if r["kind"] == "subagent")["agent_id"]
    assert cli.main(["feedback", "good", agent[:6]]) == 0
    assert "was a failure" in capsys.readouterr().out
    assert state()["total"][BUCKET] == {"haiku": [1, 0]}
    assert cli.main(["feedback", "bad", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "model-strategy: no agent 'nope' in the last 30 days"
    assert cli.main(["feedback", "meh"]) == 2


def test_feedback_through_the_slash_command(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from model_strategy.commands.cli import cli
    from model_strategy.runtime.entry import slashargs

    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    run_once(lab, SEARCH, True)
    monkeypatch.setenv("CLAUDE_CODE_SESSION_ID", lab.sid)
    assert slashargs.stash(lab.sid, "model-strategy:feedback", "bad last; rm -rf ~")
    assert cli.main(["--plugin-data", "", "feedback", "--slash-args"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model-strategy: ") and "unrecognized arguments" in out  # words are data, one line
    assert slashargs.stash(lab.sid, "model-strategy:feedback", "bad")
    assert cli.main(["--plugin-data", "", "feedback", "--slash-args"]) == 0
    assert "marked agent" in capsys.readouterr().out


def test_replay_ips_is_unbiased_on_a_synthetic_log() -> None:
    """Log a stochastic policy with known propensities; the IPS estimate of a deterministic target
    policy averages to its true value (and the self-normalised one comes close)."""
    rng = random.Random(7)
    truth = {"haiku": 0.6, "sonnet": 0.9, "opus": 0.95}
    logging = {"haiku": 0.2, "sonnet": 0.7, "opus": 0.1}
    from model_strategy.commands.usage.routing import replay

    estimates, snips = [], []
    for _ in range(400):
        rows = []
        for _ in range(200):
            tier = rng.choices(list(logging), weights=list(logging.values()))[0]
            rows.append({"tier": tier, "p": logging[tier], "ok": rng.random() < truth[tier], "cost": 1.0})
        r = replay(rows, ["opus"] * len(rows))
        estimates.append(r["ips_success"])
        snips.append(r["success"])
    mean = sum(estimates) / len(estimates)
    assert abs(mean - truth["opus"]) < 0.02
    assert abs(sum(snips) / len(snips) - truth["opus"]) < 0.02
    assert replay([{"tier": "haiku", "p": 1.0, "ok": True, "cost": 1.0}], ["opus"])["success"] is None


def test_replay_is_stratified_by_bucket() -> None:
    """A policy's tier ran often in one bucket and rarely in another: each bucket counts by its share of
    the runs, not by how often the policy's tier happened to run there; no support somewhere, no estimate."""
    from model_strategy.commands.usage.routing import replay

    rows = ([{"bucket": "a", "tier": "opus", "p": 1.0, "ok": True, "cost": 10.0}] * 90
            + [{"bucket": "b", "tier": "opus", "p": 1.0, "ok": True, "cost": 1.0}] * 10
            + [{"bucket": "b", "tier": "haiku", "p": 1.0, "ok": True, "cost": 0.1}] * 90)
    r = replay(rows, ["opus"] * len(rows))
    assert r["cost"] == pytest.approx(90 / 190 * 10 + 100 / 190 * 1)  # not (900 + 10) / 100
    assert r["support"] == 100
    assert replay(rows, ["haiku"] * len(rows))["cost"] is None  # bucket a never ran haiku


def test_wilson_interval_contains_the_rate() -> None:
    from model_strategy.commands.usage.routing import wilson

    for s, n in ((0, 1), (1, 1), (5, 10), (97, 100)):
        lo, hi = wilson(s, n)
        assert 0 <= lo <= s / n <= hi <= 1


def _seed_report(tmp_path: Path, data_dir: Path) -> None:
    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    for ok in [True] * 6 + [False] * 4:
        model, _ = run_once(lab, SEARCH, ok)
        if not ok:  # Claude re-spawns it one tier up
            run_once(lab, {**SEARCH, "model": "opus" if model == "sonnet" else "sonnet"}, True)
    evil = {"subagent_type": "[bold red]x\x1b[2J", "prompt": "count the lines of the readme file now"}
    run_once(lab, evil, True)


def test_routing_report_golden_at_80_columns(tmp_path: Path, data_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from model_strategy.commands.cli import cli

    _seed_report(tmp_path, data_dir)
    assert cli.main(["routing", "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "[bold red]x?[2J" in out and "\x1b" not in out  # a name is shown as text, never as markup
    golden = Path(__file__).parent / "golden" / "routing_records.txt"
    if os.environ.get("MODEL_STRATEGY_UPDATE_GOLDEN") == "1":
        golden.write_text(out)
    assert out == golden.read_text()


def test_routing_report_json(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from model_strategy.commands.cli import cli

    _seed_report(tmp_path, data_dir)
    assert cli.main(["routing", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (b,) = [b for b in doc["buckets"] if b["bucket"] == "Explore/simple/BALANCED"]
    assert b["static"] == "haiku" and b["learned"] == "haiku" and "why" in b
    assert b["runs"] == 14 and doc["escalations"] == 4
    assert b["tiers"]["haiku"]["runs"] + b["tiers"]["sonnet"]["runs"] + b["tiers"].get("opus", {}).get("runs", 0) == 14
    assert [r["policy"] for r in doc["replay"]] == ["static", "learned", "always-haiku", "always-sonnet",
                                                    "always-opus"]
    assert cli.main(["routing", "--days", "0"]) == 2


def test_config_keys_validated(data_dir: Path) -> None:
    from model_strategy.models import Config
    from model_strategy.runtime.settings import config_rules

    for bad in ({"explore": 0.9}, {"max_success_loss": -1}, {"enabled": "yes"}, {"other": 1}):
        with pytest.raises(ValueError):
            config_rules.validate({"learning": bad})
        with pytest.raises(ValueError):
            Config.model_validate({"learning": bad})
    assert config_rules.validate({})["learning"] == {"enabled": True, "explore": 0.05, "max_success_loss": 0.02}
    assert Config.model_validate({}).model_dump()["learning"] == {"enabled": True, "explore": 0.05,
                                                                  "max_success_loss": 0.02}


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_match_info_total(desc: str, prompt: str) -> None:
    info = outcomes.match_info({"description": desc, "prompt": prompt})
    assert len(info["d"]) <= 60 and len(info["h"]) <= 60 and len(info["w"]) <= 64
    assert outcomes.similar(info, info) == bool(info["d"] or info["h"] or info["w"])


def test_no_exploration_into_a_hopeless_tier(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert learning.hopeless({"haiku": [14, 16], "sonnet": [60, 1]}, 1, 0, 0, 2, 0.02)
    assert not learning.hopeless({"haiku": [3, 1], "sonnet": [60, 1]}, 1, 0, 0, 2, 0.02)
    config(data_dir, explore=0.5)
    _seed_counts(data_dir, {"haiku": [14, 16], "sonnet": [60, 1]}, "general-purpose\x1fmoderate\x1fBALANCED")
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.0")
    lab = Lab(tmp_path)
    p = lab.pre({"subagent_type": "general-purpose", "prompt": "implement the retry logic in the network client"})
    assert model_of(call(spawns.pre_tool_use, p)) == "sonnet"
    assert Ledger().session(lab.sid, None)["decisions"][p["tool_use_id"]]["p"] == 1.0


def test_routing_through_the_slash_command(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from model_strategy.commands.cli import cli
    from model_strategy.runtime.entry import slashargs

    _seed_report(tmp_path, data_dir)
    monkeypatch.setenv("CLAUDE_CODE_SESSION_ID", "sess-learn")
    assert slashargs.stash("sess-learn", "model-strategy:routing", "--days 7")
    assert cli.main(["--plugin-data", "", "routing", "--slash-args"]) == 0
    assert capsys.readouterr().out.startswith("Routing — 15 runs")
    assert slashargs.stash("sess-learn", "model-strategy:routing", "--days x; echo hi")
    assert cli.main(["--plugin-data", "", "routing", "--slash-args"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model-strategy: ") and len(out.splitlines()) == 1


def test_window_never_reaches_archived_detail(tmp_path: Path, data_dir: Path) -> None:
    from model_strategy.runtime.base import clock

    config(data_dir, explore=0.0)
    lab = Lab(tmp_path)
    run_once(lab, SEARCH, True, ts="2026-11-20T12:00:00Z")  # 17 days ago
    run_once(lab, SEARCH, False)
    assert learning.load(Ledger(), clock.now())["total"][BUCKET] == {"haiku": [1, 1]}
    assert learning.load(Ledger(), clock.now(), retention_days=7)["total"][BUCKET] == {"haiku": [0, 1]}


# ------------------------------------------------------------------ directed exploration


def _exact_tail(n: int, k: int, rate: float) -> float:
    """P(at least k failures in n runs of success rate ``rate``), term by term in log space."""
    from math import exp, lgamma, log

    return sum(exp(lgamma(n + 1) - lgamma(i + 1) - lgamma(n - i + 1) + i * log(1 - rate) + (n - i) * log(rate))
               for i in range(k, n + 1))


@given(st.integers(0, 300), st.integers(0, 40), st.floats(0.5, 0.999))
def test_surprise_is_the_binomial_tail(s: int, f: int, rate: float) -> None:
    got = learning.surprise({"haiku": [s, f]}, 0, rate)
    assert got == pytest.approx(_exact_tail(s + f, f, rate) if f else 1.0, abs=1e-9)


def test_surprise_for_many_runs_is_close_to_the_tail() -> None:
    for s, f in ((1900, 100), (2900, 120)):
        assert learning.surprise({"sonnet": [s, f]}, 1, 0.96) == pytest.approx(_exact_tail(s + f, f, 0.96), abs=0.01)


def test_a_tier_is_ruled_out_by_its_failures_not_by_one_unlucky_run() -> None:
    best = {"opus": [120, 1]}
    assert not learning.hopeless({**best, "sonnet": [0, 1]}, 2, 1, 0, 2, 0.02)  # fewer than 3 runs of its own
    assert not learning.hopeless({**best, "sonnet": [3, 1]}, 2, 1, 0, 2, 0.02)  # 1 failure in 4: 11 % at 97 %
    assert not learning.hopeless({**best, "sonnet": [9, 1]}, 2, 1, 0, 2, 0.02)
    assert learning.hopeless({**best, "sonnet": [8, 3]}, 2, 1, 0, 2, 0.02)  # 3 in 11: under 1 % at 96 %
    assert learning.hopeless({**best, "haiku": [5, 3]}, 2, 0, 0, 2, 0.02)


def _decision(agent_type: str, chosen: str) -> dict[str, Any]:
    return {"agent_type": agent_type, "chosen": chosen, "source": "agent", "complexity": 0.5,
            "profile": "BALANCED", "reasons": []}


def _key(agent_type: str) -> str:
    return f"{agent_type}\x1fmoderate\x1fBALANCED"


def test_exploration_goes_where_there_is_something_to_learn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three buckets of equal size: one whose cheaper tier is already ruled out, one at the cheapest tier
    (nothing below to try: the tier above is sampled by the re-spawns after failures), one still open.
    The open one explores at 3 × learning.explore, so the spawns explore 5 % on average; the others do not,
    and the decision records the probability it used."""
    state = {"total": {_key("gp"): {"sonnet": [56, 2], "haiku": [2, 6]},
                       _key("Explore"): {"haiku": [64, 2]},
                       _key("Plan"): {"opus": [60, 1], "sonnet": [4, 1]}},
             "pick": {_key("gp"): ["t", "sonnet"], _key("Explore"): ["t", "haiku"], _key("Plan"): ["t", "opus"]},
             "static": {_key("gp"): "sonnet", _key("Explore"): "haiku", _key("Plan"): "opus"}}
    cfg: dict[str, Any] = {"learning": {"explore": 0.05}}
    assert learning.informative(state, 0, 2, 0.02) == pytest.approx(1 / 3)
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.1")
    for agent_type, static in (("gp", "sonnet"), ("Explore", "haiku")):
        d = _decision(agent_type, static)
        learning.route(d, cfg, state, False)
        assert d["chosen"] == static and d["p"] == 1.0 and not d["explored"]
    rate = 0.15
    d = _decision("Plan", "opus")
    learning.route(d, cfg, state, False)
    assert d["chosen"] == "sonnet" and d["explored"] and d["p"] == rate
    monkeypatch.setenv("MODEL_STRATEGY_DRAW", "0.2")
    d = _decision("Plan", "opus")
    learning.route(d, cfg, state, False)
    assert d["chosen"] == "opus" and d["p"] == round(1 - rate, 6)
    # explore: 0 still turns it off; a budget or window policy acting too
    for c, acting in (({"learning": {"explore": 0}}, False), (cfg, True)):
        d = _decision("Plan", "opus")
        learning.route(d, c, state, acting)
        assert d["chosen"] == "opus" and d["p"] == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 80), st.integers(0, 8),
                          st.integers(0, 80), st.integers(0, 8)), min_size=1, max_size=8),
       st.sampled_from([0.01, 0.05, 0.2, 0.5]))
def test_exploration_averages_at_most_the_configured_rate(buckets: list[tuple[int, ...]], explore: float) -> None:
    """Weighted by the buckets' runs, the probability of exploring never exceeds learning.explore."""
    tiers = ("haiku", "sonnet", "opus")
    state: dict[str, Any] = {"total": {}, "pick": {}, "static": {}}
    for i, (static, below, s0, f0, s1, f1) in enumerate(buckets):
        key = _key(f"t{i}")
        counts = {tiers[static]: [s1, f1]}
        if static:
            counts[tiers[max(0, static - 1 - below % 2)]] = [s0, f0]
        state["total"][key], state["static"][key] = counts, tiers[static]
    expected = 0.0
    for i, (static, *_rest) in enumerate(buckets):
        key = _key(f"t{i}")
        t, _ = learning.pick(state["total"][key], static, 0, 2, 0.02)
        state["pick"][key] = ["t", tiers[t]]
    total = sum(learning.runs(c) for c in state["total"].values())
    for i, (static, *_rest) in enumerate(buckets):
        key = _key(f"t{i}")
        d = _decision(f"t{i}", tiers[static])
        os.environ["MODEL_STRATEGY_DRAW"] = "0.999"
        try:
            learning.route(d, {"learning": {"explore": explore}}, state, False)
        finally:
            del os.environ["MODEL_STRATEGY_DRAW"]
        expected += learning.runs(state["total"][key]) * (1 - d["p"])
    if total:
        assert expected / total <= explore + 1e-6
