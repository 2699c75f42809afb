"""Per-session working state: ``sessions/<id>.json``, a cache beside the ledger.

The PreToolUse decisions of a session (joined into its agents' records), its background agents'
links (agent id -> tool_use_id), the agents recorded, how far the main transcript was read and
which agent transcripts were reconciled at what size.  Records never depend on it being there: a
lost or unreadable state is restarted empty (the ledger's request keys keep anything from being
counted twice).  Standard library only (hot path).
"""

from __future__ import annotations

import os

from model_strategy.runtime.base import clock, paths, store

from .dayfiles import digest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .dayfiles import DayFiles

SESSION_SCHEMA = 2
SESSION_KEEP_DECISIONS = 400


def session_path(files: DayFiles, session_id: str) -> str:
    return files.path("sessions", f"{paths.safe_id(session_id, 48)}-{digest(session_id)[:10]}.json")


def load(files: DayFiles, session_id: str, project: str | None) -> dict[str, Any]:
    """The working state of a session (created when new; rebuilt empty when unreadable)."""
    path = session_path(files, session_id)
    state = store.read_json_or_quarantine(path, None, files.warnings)
    if not _valid(state):
        if state is not None:
            dest = store.quarantine(path) if os.path.exists(path) else path
            files.warnings.append(f"{path}: unexpected content; kept as {os.path.basename(dest)}, "
                                  "session state restarted (records are safe in the ledger)")
        now = clock.iso(clock.now())
        state = {"schema": SESSION_SCHEMA, "session_id": session_id, "project": project, "started": now,
                 "updated": now, "decisions": {}, "links": {}, "recorded": {}, "main": {}, "notified": []}
    assert isinstance(state, dict)
    state["updated"] = clock.iso(clock.now())
    if project and not state.get("project"):
        state["project"] = project
    out: dict[str, Any] = state
    return out


def save(files: DayFiles, state: dict[str, Any]) -> None:
    decisions = state["decisions"]
    if len(decisions) > SESSION_KEEP_DECISIONS:
        for key in sorted(decisions, key=lambda k: str(decisions[k].get("ts", "")))[:-SESSION_KEEP_DECISIONS]:
            del decisions[key]
    store.atomic_write_json(session_path(files, state["session_id"]), state)


def migrate_v1(files: DayFiles) -> None:
    """Schema 1 kept every session in ``current_session.json``: split it into session files."""
    legacy = files.path("current_session.json")
    if not os.path.exists(legacy):
        return
    try:
        data = store.read_json(legacy)
    except store.StoreError:
        data = None
    sessions = data.get("sessions") if isinstance(data, dict) else None
    for sid, old in (sessions or {}).items():
        if not isinstance(old, dict) or os.path.exists(session_path(files, str(sid))):
            continue
        state = load(files, str(sid), old.get("project") if isinstance(old.get("project"), str) else None)
        if isinstance(old.get("decisions"), dict):
            state["decisions"] = old["decisions"]
        if isinstance(old.get("links"), dict):
            state["links"] = old["links"]
        if isinstance(old.get("recorded"), dict):
            state["recorded"] = {a: (v.get("id") if isinstance(v, dict) else None)
                                 for a, v in old["recorded"].items()}
        main = old.get("main")
        if isinstance(main, dict) and isinstance(main.get("offset"), int):
            state["main"] = {"path": main.get("path"), "offset": main["offset"]}
        save(files, state)
    os.replace(legacy, legacy + ".v1-migrated")


def _valid(state: object) -> bool:
    return (isinstance(state, dict) and state.get("schema") == SESSION_SCHEMA
            and isinstance(state.get("session_id"), str)
            and all(isinstance(state.get(k), dict) for k in ("decisions", "links", "recorded", "main"))
            and isinstance(state.get("notified", []), list))
