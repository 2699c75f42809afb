"""``model-strategy status``: data home and why, environment, hook health, records, config files."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from model_strategy.commands.render import render_status
from model_strategy.commands.usage import status
from model_strategy.runtime.base import clock, paths

_N = iter(range(1000))


def record(model_priced: dict[str, bool]) -> str:
    from model_strategy.runtime.books.records import SCHEMA

    return json.dumps({"schema": SCHEMA, "id": f"s:{next(_N)}", "kind": "subagent", "models": {
        m: {"requests": 1, "cost_usd": "0", **({} if ok else {"priced": False})} for m, ok in model_priced.items()}})


def test_status_of_a_used_data_home(data_dir: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".claude" / "plugins" / "data" / "model-strategy" / "daily").mkdir(parents=True)
    (data_dir / "daily").mkdir()
    (data_dir / "daily" / "2026-11-26.json").write_text(
        record({"claude-haiku-5-5": True}) + "\n" + record({"my-proxy-1": False, "claude-opus-5-5": True}) + "\n\n")
    (data_dir / "daily" / "2026-11-27.json").write_text(record({"my-proxy-1": False}) + "\n"
                                                        + record({"gpt-x": False}) + "\n")
    now = clock.now()
    old, recent = (now - timedelta(days=3)).isoformat(), (now - timedelta(hours=1)).isoformat()
    (data_dir / "errors.log").write_text(
        f"--- {old} pre_tool_use\nTraceback (most recent call last):\n  File x\nKeyError: 'a'\n"
        f"--- {recent} subagent_stop\nTraceback (most recent call last):\n  File y\n"
        "store.LockTimeout: could not lock archive.lock within 5s\n")
    proj = tmp_path / "proj"
    (proj / ".claude").mkdir(parents=True)
    (proj / ".claude" / "model-strategy.json").write_text('{"budgets": {"thresholds": {"warning": 500}}}')
    d = status.status_data(str(proj))
    assert d["data_home"] == {"path": str(data_dir), "why": "MODEL_STRATEGY_DATA_DIR (explicit override)",
                              "other_candidates": [],
                              "legacy_dir": str(tmp_path / ".claude" / "plugins" / "data" / "model-strategy")}
    assert d["records"] == 4
    assert d["unpriced_models"] == {"my-proxy-1": 2, "gpt-x": 1}
    assert d["hooks"]["errors_24h"] == 1
    assert d["hooks"]["last_error"] == {"time": recent, "hook": "subagent_stop",
                                        "error": "store.LockTimeout: could not lock archive.lock within 5s"}
    states = {c["layer"]: (c["state"], c["reason"]) for c in d["config"]}
    assert states["defaults"] == ("ok", None) and states["global"] == ("missing", None)
    assert states["project"][0] == "invalid" and "thresholds must be ordered" in states["project"][1]
    assert d["plugin"]["version"] == json.loads(
        (Path(paths.plugin_root()) / ".claude-plugin" / "plugin.json").read_text())["version"]
    assert d["environment"]["venv"] == "missing"
    text = render_status.status(d)
    assert "1 error in the last 24 h; last " in text and "my-proxy-1 (2 records)" in text
    assert "project  " in text and "invalid" in text


def test_status_names_the_interpreter_the_hooks_use(data_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MODEL_STRATEGY_PYTHON", raising=False)
    assert status.interpreter(str(data_dir), "missing")["path"] is None
    (data_dir / "cache" / "python").write_text("/usr/bin/python3.11\n3.11.2\n")
    assert status.interpreter(str(data_dir), "missing") == {
        "path": "/usr/bin/python3.11", "version": "3.11.2",
        "why": "system python (resolved once, cached in cache/python) until the venv is ready"}
    assert status.interpreter(str(data_dir), "ready")["path"] == str(data_dir / "venv" / "bin" / "python")
