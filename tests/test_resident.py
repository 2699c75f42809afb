"""The resident hook worker (runtime/entry/resident.py) and its client (hooks/resident_client.py), with
real hook processes: hooks it answers do exactly what hooks in their own process do, each with its
own environment; it refuses what it may not run, and the hook then runs on its own with its stdin
intact; killed children lose nothing; it stops when told, replaced or its socket is gone."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fleet import Fleet, assert_exactly_once, finish, hook_env, start
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.entry import resident
from sessionlab import AGENT_A, AGENT_B, ROOT, SAMPLE_NOW, Session, plugin_copy, venv_python

RUN = str(ROOT / "hooks" / "run")


def client_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("resident_client", ROOT / "hooks" / "resident_client.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def env_with(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (resident.ENV, "MODEL_STRATEGY_CRASH_AT")}
    env.update(MODEL_STRATEGY_DATA_DIR=str(data), MODEL_STRATEGY_PYTHON=venv_python(), **extra)
    return env


def hook(event: str, payload: dict[str, Any] | str, env: dict[str, str], run: str = RUN,
         timeout: float = 60) -> tuple[int, dict[str, Any] | None]:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    proc = subprocess.run([run, event], input=text, capture_output=True, text=True, env=env, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else None


def listening(data: Path, other_than: int | None = None, within: float = 20) -> int:
    """The resident's pid once it listens (and a spare has had a moment to fork)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        pid = resident.pid(str(data))
        if pid and pid != other_than and (data / "cache" / resident.SOCKET).exists():
            time.sleep(0.3)
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no resident listening for {data}")


def gone(pid: int, within: float = 15) -> bool:
    """Whether ``pid`` exits within ``within`` seconds (a zombie waiting for its reaper has)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def by_resident(event: str, payload: dict[str, Any], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``hook.py`` run with ``-X importtime``: its stderr shows whether it loaded the package itself."""
    return subprocess.run([venv_python(), "-E", "-S", "-X", "importtime", str(ROOT / "hooks" / "hook.py"), event],
                          input=json.dumps(payload), capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def lab(samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    monkeypatch.setenv("MODEL_STRATEGY_NOW", SAMPLE_NOW)
    yield Session(samples, tmp_path)
    for lock in tmp_path.rglob(resident.LOCK):
        resident.stop(str(lock.parent.parent))


def test_the_client_speaks_the_residents_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_module()
    assert (client.MAGIC, client.SOCKET, client.LOCK, client.RETRY_S, client.ENV, client.OFF, client.FDS) == (
        resident.MAGIC, resident.SOCKET, resident.LOCK, resident.RETRY_S, resident.ENV, resident.OFF, resident.FDS)
    assert (client.ACCEPTED, client.GO) == (resident.ACCEPTED, resident.GO)
    monkeypatch.setenv("MS_TEST_VALUE", "a=b c\té")  # "=" and any byte but NUL in a value
    raw = client.request("pre_tool_use", str(ROOT), str(tmp_path))
    assert int.from_bytes(raw[:4], "big") == len(raw) - 4
    fields = resident.parse(raw[4:])
    assert fields is not None
    assert fields["root"] == os.fsencode(ROOT) == os.fsencode(resident.root())
    assert (fields["event"], fields["cwd"]) == (b"pre_tool_use", os.fsencode(tmp_path))
    assert resident.environ(fields["environ"]) == dict(os.environb)
    assert resident.parse(b"nope") is None and resident.parse(raw[4:].replace(resident.MAGIC, b"msr0", 1)) is None


def test_hooks_it_answers_record_exactly_what_their_own_processes_do(lab: Session, tmp_path: Path) -> None:
    """The same session replayed twice: each hook in its own process, then each answered by the
    resident (started by a first hook beforehand): the ledgers and answers are identical."""
    sequence = [("pre_tool_use", lab.pre("A")), ("pre_tool_use", lab.pre("B")),
                ("post_tool_use", lab.payload("PostToolUse-background")),
                ("subagent_stop", lab.subagent_stop(AGENT_A)), ("post_tool_use", lab.payload("PostToolUse-foreground")),
                ("subagent_stop", lab.subagent_stop(AGENT_B)), ("stop", lab.payload("Stop"))]
    own, warm = tmp_path / "own", tmp_path / "warm"
    answers: dict[Path, list[Any]] = {}
    for data, extra in ((own, {resident.ENV: "off"}), (warm, {})):
        data.mkdir()
        env = env_with(data, **extra)
        if not extra:
            hook("unknown_event", "{}", env)  # starts the resident
            listening(data)
        answers[data] = [hook(event, payload, env) for event, payload in sequence]
    assert answers[own] == answers[warm] and answers[own][0][1]["hookSpecificOutput"]["updatedInput"]["model"]
    assert not (own / "cache" / resident.LOCK).exists()  # off: no resident was started
    own_days, warm_days = sorted((own / "daily").glob("*.json")), sorted((warm / "daily").glob("*.json"))
    assert [p.name for p in own_days] == [p.name for p in warm_days] and own_days
    for a, b in zip(own_days, warm_days, strict=True):
        assert a.read_text() == b.read_text()
    # and it was the resident that answered: hook.py loaded none of the package
    proc = by_resident("pre_tool_use", lab.pre("A"), env_with(warm))
    assert "resident_client" in proc.stderr and "model_strategy" not in proc.stderr
    assert json.loads(proc.stdout) == answers[warm][0][1]


def test_each_hook_brings_its_own_environment_and_directory(lab: Session, tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    env = env_with(data)
    hook("unknown_event", "{}", env)
    listening(data)
    for n, now in enumerate(("2026-12-01T08:00:00Z", "2026-12-03T09:30:00Z")):
        payload = lab.pre("A")
        payload["tool_use_id"] = f"toolu_env_{n}"
        where = tmp_path / f"cwd{n}"
        where.mkdir()
        proc = subprocess.run([RUN, "pre_tool_use"], input=json.dumps(payload), capture_output=True, text=True,
                              env={**env, "MODEL_STRATEGY_NOW": now}, cwd=where, timeout=60)
        assert proc.returncode == 0 and "updatedInput" in proc.stdout
        state = json.loads(Path(Ledger(str(data)).session_path(lab.sid)).read_text())
        assert state["decisions"][f"toolu_env_{n}"]["ts"].startswith(now[:16])  # the hook's clock, not the resident's


def test_a_child_killed_mid_hook_loses_nothing(samples: Path, tmp_path: Path) -> None:
    """kill -9 inside the resident's child at each commit step (the hook's own environment asks
    for it), then Claude Code's other hook and a retry: every agent recorded exactly once, and the
    resident answers on."""
    fleet = Fleet(samples, tmp_path, 4)
    env = {k: v for k, v in hook_env().items() if k != resident.ENV}
    data = Path(env["MODEL_STRATEGY_DATA_DIR"])
    finish(start("unknown_event", {}, env))
    pid = listening(data)
    try:
        for agent, point in zip(fleet.ids, ("after-append", "after-index", "before-session-save", "after-append"),
                                strict=True):
            code, out, _ = finish(start("subagent_stop", fleet.subagent_stop(agent),
                                        {**env, "MODEL_STRATEGY_CRASH_AT": point}))
            assert code == 0 and not out.strip()  # the child died: its hook exits 0 and says nothing
            for event, payload in (("post_tool_use", fleet.post_tool_use(agent)),
                                   ("subagent_stop", fleet.subagent_stop(agent))):
                code, _, err = finish(start(event, payload, env))
                assert code == 0 and not err
        assert_exactly_once(fleet)
        assert resident.pid(str(data)) == pid
    finally:
        resident.stop(str(data))


def test_parallel_hooks_through_it_are_each_answered_once(samples: Path, tmp_path: Path) -> None:
    fleet = Fleet(samples, tmp_path, 12)
    env = {k: v for k, v in hook_env().items() if k != resident.ENV}
    data = Path(env["MODEL_STRATEGY_DATA_DIR"])
    finish(start("unknown_event", {}, env))
    listening(data)
    try:
        procs = [start("pre_tool_use", fleet.pre_tool_use(n), env) for n in range(12)]
        procs += [start("subagent_stop", fleet.subagent_stop(agent), env) for agent in fleet.ids]
        for proc in procs:
            code, out, err = finish(proc)
            assert code == 0 and not err
            assert not out.strip() or isinstance(json.loads(out), dict)
        state = json.loads(Path(Ledger(str(data)).session_path(fleet.base_payload("Stop")["session_id"])).read_text())
        assert {f"toolu_fleet_{n}" for n in range(12)} <= set(state["decisions"])
        assert_exactly_once(fleet)
    finally:
        resident.stop(str(data))


def test_another_plugin_root_is_refused_runs_on_its_own_and_replaces_it(lab: Session, tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    env = env_with(data)
    hook("unknown_event", "{}", env)
    first = listening(data)
    other = plugin_copy(tmp_path / "plugin")  # an update installed elsewhere: another root
    code, out = hook("pre_tool_use", lab.pre("A"), {**env, "CLAUDE_PLUGIN_ROOT": str(other)},
                     run=str(other / "hooks" / "run"))
    assert code == 0 and out is not None and out["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    assert gone(first)  # the refusing child stopped it
    hook("unknown_event", "{}", {**env, "CLAUDE_PLUGIN_ROOT": str(other)}, run=str(other / "hooks" / "run"))
    second = listening(data, other_than=first)
    assert f"{other}/hooks/hook.py" in Path(f"/proc/{second}/cmdline").read_bytes().decode().replace("\0", " ")


def test_a_resident_that_does_not_take_the_hook_leaves_it_its_stdin(lab: Session, tmp_path: Path) -> None:
    """Something listens on the socket but never says A: after 2 s the hook runs on its own, with the
    whole payload (the other side never had it), and the answer is the usual one."""
    data = tmp_path / "d"
    (data / "cache").mkdir(parents=True)
    here = os.getcwd()
    os.chdir(data / "cache")
    try:
        mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        mute.bind(resident.SOCKET)
    finally:
        os.chdir(here)
    mute.listen(4)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(mute.accept()[0]), daemon=True).start()
    t0 = time.monotonic()
    code, out = hook("pre_tool_use", lab.pre("A"), env_with(data))
    assert time.monotonic() - t0 >= 2
    assert code == 0 and out is not None and out["systemMessage"] == \
        "model-strategy: general-purpose → haiku, low effort (simple search, 0.90)"
    mute.close()


def test_off_and_manual_runs_start_none(lab: Session, tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    for value in ("off", "0", "false", "no", " OFF "):
        assert hook("pre_tool_use", lab.pre("A"), env_with(data, **{resident.ENV: value}))[0] == 0
    assert not (data / "cache" / resident.LOCK).exists()
    client = client_module()
    with pytest.MonkeyPatch.context() as mp:
        for key in ("MODEL_STRATEGY_DATA_DIR", "CLAUDE_PLUGIN_DATA", resident.ENV):
            mp.delenv(key, raising=False)
        assert client.ask("pre_tool_use", str(ROOT)) is None  # no data home in the environment: the package finds it


def test_it_stops_when_told_or_when_its_socket_is_gone(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    env = env_with(data)
    hook("unknown_event", "{}", env)
    pid = listening(data)
    assert resident.stop(str(data)) and gone(pid) and resident.pid(str(data)) is None
    hook("unknown_event", "{}", env)  # a resident that got as far as listening does not hold the next back
    pid = listening(data, other_than=pid)
    (data / "cache" / resident.SOCKET).unlink()  # a data home being deleted
    assert gone(pid, within=resident.TICK_S * 3)
    assert not resident.stop(str(data))


def test_a_relative_data_home_is_the_hooks_own(lab: Session, tmp_path: Path) -> None:
    """``MODEL_STRATEGY_DATA_DIR=rel/data`` is relative to where the hook runs, for the resident too."""
    env = {**env_with(tmp_path / "unused"), "MODEL_STRATEGY_DATA_DIR": "rel/data"}
    where = tmp_path / "work"
    where.mkdir()
    for _ in range(2):
        proc = subprocess.run([RUN, "unknown_event"], input="{}", capture_output=True, text=True, env=env, cwd=where,
                              timeout=60)
        assert proc.returncode == 0
    data = where / "rel" / "data"
    first = listening(data)
    resident.stop(str(data))  # its socket stays behind: the next hook connects in vain from inside cache/
    assert gone(first)
    subprocess.run([RUN, "unknown_event"], input=b"{}", capture_output=True, env=env, cwd=where, timeout=60)
    second = listening(data, other_than=first)
    assert Path(f"/proc/{second}/cwd").resolve() == (data / "cache").resolve()
    proc = subprocess.run([venv_python(), "-E", "-S", "-X", "importtime", str(ROOT / "hooks" / "hook.py"),
                           "pre_tool_use"], input=json.dumps(lab.pre("A")), capture_output=True, text=True,
                          env=env, cwd=where, timeout=60)
    assert "updatedInput" in proc.stdout and "model_strategy" not in proc.stderr
    assert not (where / "rel" / "data" / "cache" / "rel").exists()
