"""The ledger under load and under kill -9, with real hook processes (``hooks/run``) as Claude Code
starts them: every agent recorded exactly once, tokens exact, every cache equal to the records."""

from __future__ import annotations

import json
import random
import subprocess
import threading
from pathlib import Path

import pytest

from fleet import Fleet, assert_exactly_once, finish, hook_env, kill_after, start
from sessionlab import ROOT, venv_python

pytestmark = pytest.mark.slow


def test_400_parallel_hook_processes_record_each_agent_once(samples: Path, tmp_path: Path) -> None:
    fleet = Fleet(samples, tmp_path, 200)
    jobs = [("subagent_stop", fleet.subagent_stop(a)) for a in fleet.ids]
    jobs += [("post_tool_use", fleet.post_tool_use(a)) for a in fleet.ids]
    random.Random(4).shuffle(jobs)
    procs = [start(event, payload) for event, payload in jobs]
    results = [finish(p) for p in procs]
    assert all(code == 0 for code, _, _ in results)
    assert not any(err for _, _, err in results), next(err for _, _, err in results if err)
    for _, out, _ in results:  # every hook printed nothing or one JSON object
        assert not out.strip() or isinstance(json.loads(out), dict)
    assert_exactly_once(fleet)


@pytest.mark.parametrize("point", ["after-append", "after-index", "before-session-save", "before-notices"])
def test_killed_at_each_commit_step_then_redelivered(samples: Path, tmp_path: Path, point: str) -> None:
    fleet = Fleet(samples, tmp_path, 6)
    for agent in fleet.ids:
        code, _, _ = finish(start("subagent_stop", fleet.subagent_stop(agent),
                                  hook_env({"MODEL_STRATEGY_CRASH_AT": point})))
        assert code == -9 or (point == "before-notices" and code == 0)  # no notice due: no crash there
        # Claude Code delivers the other hook of the same agent; then a retry of the first
        for event, payload in (("post_tool_use", fleet.post_tool_use(agent)),
                               ("subagent_stop", fleet.subagent_stop(agent))):
            code, _, err = finish(start(event, payload))
            assert code == 0 and not err
    assert_exactly_once(fleet)


def test_200_random_kills_then_redelivery(samples: Path, tmp_path: Path) -> None:
    """kill -9 at random moments while hooks of many agents run concurrently, then re-deliver."""
    rng = random.Random(11)
    fleet = Fleet(samples, tmp_path, 50)
    trials = 0
    while trials < 200:
        batch = [rng.choice(fleet.ids) for _ in range(8)]
        procs = []
        killers = []
        for agent in batch:
            event, payload = rng.choice([("subagent_stop", fleet.subagent_stop(agent)),
                                         ("post_tool_use", fleet.post_tool_use(agent))])
            p = start(event, payload)
            t = threading.Thread(target=kill_after, args=(p, rng.uniform(0.0, 0.12)))
            t.start()
            procs.append(p)
            killers.append(t)
        for p, t in zip(procs, killers, strict=True):
            t.join()
            finish(p)
        trials += len(batch)
    for agent in fleet.ids:  # re-delivery: every agent reported again, to the end
        code, _, err = finish(start("subagent_stop", fleet.subagent_stop(agent)))
        assert code == 0 and not err, err
    assert_exactly_once(fleet)
    doctor = subprocess.run([str(ROOT / "bin" / "model-strategy"), "doctor"], capture_output=True, text=True,
                            env={**hook_env(), "MODEL_STRATEGY_PYTHON": venv_python()}, timeout=120)
    print(doctor.stdout)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
