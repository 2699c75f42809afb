"""Audit and repair of the ledger: ``export records`` and ``doctor [--repair]``.

``export records`` writes one row per record with stable, documented columns (``EXPORT_COLUMNS``);
``doctor`` checks every cache (id indexes, the request-key index, totals, monthly roll-ups, session
files, notices) and the spool against the ledger, and with ``--repair`` rebuilds what does not match.
A line of the ledger that is not a record (a fragment a short write left, e.g. on a full disk) is
moved by ``--repair`` to ``quarantine/<day>.jsonl`` with its exact bytes and offset, the day file is
rewritten without it (atomically), the caches of that day are rebuilt, and the sessions' transcripts
are reconciled so that whatever the fragment held is recorded again from Claude Code's own truth.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, NotRequired, TypedDict

from model_strategy.commands.base.cells import Writer
from model_strategy.commands.base.errors import BadInput
from model_strategy.runtime.base import clock, store
from model_strategy.runtime.base.clock import day_of
from model_strategy.runtime.base.fastjson import jsonl
from model_strategy.runtime.books import records
from model_strategy.runtime.books.dayfiles import index_entries
from model_strategy.runtime.books.keys import KEY_LEN
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.limits import budget
from model_strategy.runtime.settings import config


class ExportRow(TypedDict):
    """A row of ``export records``; its fields are the columns, in order.  Stable: new columns are only
    ever added at the end."""
    id: str
    kind: str
    session_id: str
    agent_id: str
    agent_type: str
    project: str
    requested_model: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: str  # empty when none of its requests had a price
    priced: bool
    ts: str
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    web_search_requests: int
    requests: int
    unpriced_requests: int
    duration_ms: int | None
    outcome: str
    source: str
    recorded_at: str
    tool_use_id: str
    model_mismatch: bool
    flags: str
    continuation: bool


EXPORT_COLUMNS = tuple(ExportRow.__annotations__)
_cells = operator.itemgetter(*EXPORT_COLUMNS)


def export_row(rec: records.Record) -> ExportRow:
    """A record as one flat export row (``cost_usd`` empty when none of its requests had a price)."""
    t = rec["tokens"]
    fully_unpriced = rec["requests"] > 0 and rec["unpriced_requests"] >= rec["requests"]
    return {
        "id": rec["id"], "kind": rec["kind"], "session_id": rec["session_id"], "agent_id": rec["agent_id"],
        "agent_type": rec["agent_type"], "project": rec.get("project") or "",
        "requested_model": rec.get("model_requested") or "", "model": rec.get("model_actual") or "",
        "input_tokens": t["input"], "output_tokens": t["output"], "cache_read_tokens": t["cache_read"],
        "cache_write_tokens": t["cache_write_5m"] + t["cache_write_1h"],
        "cost_usd": "" if fully_unpriced else rec["cost_usd"], "priced": rec["unpriced_requests"] == 0,
        "ts": rec["ts"], "cache_write_5m_tokens": t["cache_write_5m"], "cache_write_1h_tokens": t["cache_write_1h"],
        "web_search_requests": t["web_search"], "requests": rec["requests"],
        "unpriced_requests": rec["unpriced_requests"], "duration_ms": rec.get("duration_ms"),
        "outcome": rec.get("outcome") or "", "source": rec.get("source") or "",
        "recorded_at": rec.get("recorded_at") or "", "tool_use_id": rec.get("tool_use_id") or "",
        "model_mismatch": bool(rec.get("model_mismatch")), "flags": ",".join(rec.get("flags") or ()),
        "continuation": records.is_continuation(rec),
    }


def _records_since(ledger: Ledger, since: str | None, errors: list[str]) -> Iterator[records.Record]:
    if not since:
        yield from ledger.iter_records(None, None, errors)
        return
    start = date.fromisoformat(since) - timedelta(days=1)  # a schema-1 record may sit in the day file before
    for rec in ledger.iter_records(start, None, errors):
        if rec["ts"][:10] >= since:
            yield rec


def export_records(fh: Any, fmt: str = "csv", since: str | None = None) -> tuple[int, list[str]]:
    """``export records``: every record since ``since`` (a UTC day) as CSV or JSONL rows written to ``fh``;
    returns how many, and the problems met (the ledger's warnings, unreadable lines)."""
    if fmt not in ("csv", "jsonl"):
        raise BadInput(f"--format must be csv or jsonl (got {fmt!r})")
    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise BadInput(f"--since must be a date YYYY-MM-DD (got {since!r})") from None
    ledger = Ledger()
    ledger.settle()
    errors: list[str] = []
    count = _write(fh, fmt, _records_since(ledger, since, errors))
    problems = [*ledger.warnings, *errors[:20]]
    if len(errors) > 20:
        problems.append(f"… and {len(errors) - 20} more unreadable lines (see doctor)")
    return count, problems


def _write(fh: Any, fmt: str, recs: Iterator[records.Record]) -> int:
    n = 0
    if fmt == "csv":
        writer = Writer(fh)
        writer.writerow(EXPORT_COLUMNS)
        for rec in recs:
            writer.writerow(_cells(export_row(rec)))
            n += 1
    else:
        for rec in recs:
            fh.write(json.dumps(export_row(rec), ensure_ascii=False) + "\n")
            n += 1
    return n


# ------------------------------------------------------------------ doctor


def _index_entries(ledger: Ledger, day: str) -> set[bytes]:
    """What the index of ``day`` must hold, from a full read of its day file."""
    return {line for _, rec in ledger.scan(day) for line in index_entries(rec).split(b"\n") if line}


class Check(TypedDict):
    name: str
    ok: bool
    detail: str
    repaired: bool
    repairable: NotRequired[bool]  # False: a problem --repair does not change


class Doctor(TypedDict):
    """``doctor --json``: every check and the ledger's figures."""
    data_home: str
    records: int
    unpriced_requests: int
    checks: list[Check]
    warnings: list[str]
    ok: bool


def check(ledger: Ledger, repair: bool = False) -> Doctor:
    """Every check (name, ok, detail, repaired) plus ledger figures."""
    out: list[Check] = []

    def note(name: str, ok: bool, detail: str, repaired: bool = False, repairable: bool = True) -> None:
        out.append({"name": name, "ok": ok, "detail": detail, "repaired": repaired})
        if not ok and not repairable:  # a problem --repair does not change
            out[-1]["repairable"] = False

    spooled = ledger.spool_names()
    if spooled and repair:
        with ledger.transaction(wait=10):
            pass
        left = ledger.spool_names()
        note("spool", not left, f"{len(spooled)} parked records merged" + (f", {len(left)} left" if left else ""),
             True)
    else:
        note("spool", not spooled, f"{len(spooled)} parked records waiting for the lock" if spooled else "empty")

    moved: list[str] = []
    derived: list[records.Record] = []
    if repair:
        with ledger.transaction(wait=10):
            for day in ledger.days():
                moved += quarantine_fragments(ledger, day)
            derived = reconcile_sessions(ledger, full=bool(moved))
    if moved or derived:
        from model_strategy.runtime.books import recorder

        line = recorder.describe(derived, "reconciled from the transcripts")
        note("fragments", True, (f"{len(moved)} unreadable ledger lines moved to quarantine/ ({moved[0]})"
                                 if moved else "no unreadable ledger lines") + (f"; {line}" if line else ""),
             True)

    ids: dict[str, str] = {}
    keys: dict[str, str] = {}
    n = unpriced = 0
    bad: list[str] = []
    dup_ids: list[str] = []
    dup_keys = 0
    misfiled = 0
    unterminated: list[str] = []
    days = ledger.days()
    for day in days:
        for _, rec in ledger.scan(day, errors=bad):
            n += 1
            unpriced += rec["unpriced_requests"]
            if rec["id"] in ids:
                dup_ids.append(rec["id"])
            ids[rec["id"]] = day
            for k in rec.get("request_keys") or ():
                if k in keys:
                    dup_keys += 1
                keys[k] = day
            if day_of(rec["ts"]) != day:
                misfiled += 1
        path = ledger.day_file(day)
        with open(path, "rb") as fh:
            data = fh.read()
        if data and not data.endswith(b"\n"):
            tail = data.rfind(b"\n") + 1
            try:
                json.loads(data[tail:])
            except ValueError:  # not a lost newline but a cut record (a short write, a full disk)
                bad.append(f"{os.path.basename(path)} at byte {tail}: a cut line at the end")
            else:
                unterminated.append(day)
                if repair:  # an append: the ledger is never rewritten
                    with ledger.transaction(wait=10):
                        store.append_bytes(path, b"")
    note("ledger", not bad and not dup_ids and not dup_keys,
         f"{n} records in {len(days)} day files, {unpriced} unpriced requests"
         + (f"; {len(bad)} unreadable lines ({bad[0]})" if bad else "")
         + (f"; {len(dup_ids)} duplicate ids ({dup_ids[0]})" if dup_ids else "")
         + (f"; {dup_keys} requests counted in two records (written before the ledger-wide request index;"
            " the ledger is append-only, so they stay)" if dup_keys else "")
         + (f"; {misfiled} records filed under another day" if misfiled else "")
         + (f"; {len(unterminated)} day files lost their last newline"
            + (" (added)" if repair else " (harmless: the next append starts a new line)") if unterminated else ""),
         repairable=bool(bad))  # lines that are not records are quarantined; records are never changed

    healed: list[str] = []
    broken: list[str] = []
    with ledger.transaction(wait=10):
        for day in days:  # reading an index under the lock catches it up, or rebuilds it when damaged
            want = _index_entries(ledger, day)
            noted = len(ledger.warnings)
            ledger.forget()
            have = {line for line in bytes(ledger.index(day)).split(b"\n") if line[:1] in (b"i", b"k")}
            if len(ledger.warnings) > noted:
                healed.append(day)
                del ledger.warnings[noted:]
            if have != want:
                broken.append(day)
                if repair:
                    _rebuild_index(ledger, day)
    detail = f"{len(days)} day indexes match their day files"
    if healed:
        detail += f"; {len(healed)} damaged or ahead of their day file were rebuilt ({healed[0]})"
    if broken:
        detail = f"{len(broken)} day indexes do not match their day file ({broken[0]})" + (
            "; rebuilt" if repair else "")
    note("id index", not broken or repair, detail, bool(healed or (broken and repair)))

    note(*_check_key_index(ledger, keys, repair))

    cfg, warnings = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    now = clock.now()
    caches: list[tuple[str, str, Any]] = [("totals", "totals.json", lambda led: budget.spend(led, cfg, now))]
    for month in sorted({d[:7] for d in days}):
        caches.append((f"monthly {month}", os.path.join("monthly", f"{month}.json"),
                       (lambda m: lambda led: led.rollup(m))(month)))
    with ledger.transaction(wait=10):
        for name, rel, build in caches:
            ok, detail = _check_cache(ledger, rel, build, repair)
            note(name, ok or repair, detail, not ok and repair)

    bad_sessions = []
    for name in sorted(os.listdir(ledger.path("sessions"))) if os.path.isdir(ledger.path("sessions")) else []:
        if not name.endswith(".json"):
            continue
        try:
            state = store.read_json(ledger.path("sessions", name))
        except store.StoreError:
            state = None
        if not (isinstance(state, dict) and isinstance(state.get("decisions"), dict)):
            bad_sessions.append(name)
            if repair:
                store.quarantine(ledger.path("sessions", name))
    note("sessions", not bad_sessions or repair, f"{len(bad_sessions)} unreadable session files"
         + ("; moved aside" if bad_sessions and repair else "") if bad_sessions else "readable",
         bool(bad_sessions and repair))
    links = data_home_links(ledger.root)
    note("links", not links, f"{len(links)} symbolic links in the data home, never written through "
         f"(replace each with the file it points to): {', '.join(links[:5])}" if links else "none",
         repairable=False)
    quarantined = sorted(os.path.relpath(os.path.join(d, f), ledger.root) for d, _, fs in os.walk(ledger.root)
                         for f in fs if ".corrupt-" in f or f.endswith(".bad"))
    note("quarantine", True, f"{len(quarantined)} files kept aside: {', '.join(quarantined[:5])}"
         if quarantined else "nothing kept aside")
    return {"data_home": ledger.root, "records": n, "unpriced_requests": unpriced, "checks": out,
            "warnings": [*warnings, *ledger.warnings], "ok": all(c["ok"] for c in out)}


def data_home_links(root: str) -> list[str]:
    """Symbolic links inside the data home (relative paths), which the plugin refuses to write
    through; the Python environments (``venv*``) are made of links by design and left out."""
    out = []
    for folder, dirs, files in os.walk(root):
        if folder == root:
            dirs[:] = [d for d in dirs if not d.startswith("venv")]
            files = [f for f in files if not f.startswith("venv")]
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                out.append(os.path.relpath(path, root))
    return sorted(out)


def _check_cache(ledger: Ledger, rel: str, build: Any, repair: bool) -> tuple[bool, str]:
    """Compare a cache, caught up, with one folded from the ledger alone (lock held)."""
    path = ledger.path(rel)
    try:
        before = store.read_json(path)
        state = "missing" if before is None else "ok"
    except store.StoreError:
        before, state = None, "unreadable"
    if state == "ok" and not (isinstance(before, dict) and isinstance(before.get("covered"), dict)
                              and isinstance(before.get("data"), dict)):
        state = "of another shape or schema"
    aside = f"{path}.doctor-{os.getpid()}"
    if os.path.exists(path):
        os.replace(path, aside)
    try:
        fresh = build(Ledger(ledger.root))
    finally:
        if os.path.exists(aside):
            os.replace(aside, path)
    if state == "ok":
        probe = Ledger(ledger.root)
        caught_up = build(probe)  # catches the cache up (rebuilds it, with a warning, when it is wrong)
        if probe.warnings or caught_up != fresh:
            state = "does not match the ledger"
    if state == "ok":
        return True, "matches the ledger"
    if repair:
        if os.path.exists(path):
            os.unlink(path)
        build(Ledger(ledger.root))
        return False, f"{state}; rebuilt from the ledger"
    return state == "missing", f"{state} (rebuilt from the ledger when next needed)"


def _check_key_index(ledger: Ledger, day_keys: dict[str, str], repair: bool) -> tuple[str, bool, str, bool]:
    """The ledger-wide request-key index against the keys of every record (day files and archives)."""
    from model_strategy.runtime.books import archived

    want = set(day_keys)
    for month in ledger.archived_months():
        with contextlib.suppress(archived.ArchiveError):  # reported by the ledger check
            want.update(str(k) for r in archived.read_archive(ledger.archive_file(month))
                        for k in r.get("request_keys") or ())
    want = {k for k in want if len(k) == KEY_LEN}
    with ledger.transaction(wait=10):
        ledger.forget()
        noted = len(ledger.warnings)
        ledger.load_key_index()  # caught up, every shard checked (rebuilt when one does not fit the ledger)
        healed = len(ledger.warnings) > noted
        del ledger.warnings[noted:]
        folder = ledger.path("index", "keys")
        have: set[str] = set()
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            if name.endswith(".keys"):
                with open(os.path.join(folder, name), "rb") as fh:
                    have.update(k[:KEY_LEN] for k in fh.read().decode("ascii", "replace").split("\n")
                                if len(k) == KEY_LEN or (len(k) > KEY_LEN and k[KEY_LEN] == "="))
        missing, extra = len(want - have), len(have - want)
        if (missing or extra) and repair:
            for name in os.listdir(folder):
                os.unlink(os.path.join(folder, name))
            ledger.forget()
            ledger.stored_keys(())
    detail = f"{len(want)} request keys, each once" + ("; damaged or behind, rebuilt" if healed else "")
    if missing or extra:
        detail = (f"does not match the ledger ({missing} keys missing, {extra} not in the ledger)"
                  + ("; rebuilt" if repair else ""))
    return "request index", not (missing or extra) or repair, detail, healed or bool((missing or extra) and repair)


def quarantine_fragments(ledger: Ledger, day: str) -> list[str]:
    """Move the lines of a day file that are not records (cut by a short write, damaged) to
    ``quarantine/<day>.jsonl`` -- each with its offset and exact bytes (base64) -- and rewrite the day
    file without them (atomically); the caches of that day are dropped, to be rebuilt.  Lock held."""
    import base64

    path = ledger.day_file(day)
    with open(path, "rb") as fh:
        data = fh.read()
    keep = bytearray()
    out: list[str] = []
    moved = bytearray()
    prev = 0
    for pos, end, obj in jsonl(data):
        keep += data[prev:pos]  # blank lines stay
        line, prev = data[pos:end], end
        if isinstance(obj, dict) and records.upgrade(obj) is not None:
            keep += line if line.endswith(b"\n") else line + b"\n"
        else:
            moved += json.dumps({"day": day, "offset": pos, "length": len(line),
                                 "bytes_base64": base64.b64encode(line).decode("ascii")}).encode() + b"\n"
            out.append(f"{day} at byte {pos}")
    keep += data[prev:]
    if not out:
        return []
    store.append_bytes(ledger.path("quarantine", f"{day}.jsonl"), bytes(moved))  # first: never lose a byte
    store.atomic_write_bytes(path, bytes(keep))
    for rel in (os.path.join("index", f"{day}.ids"), os.path.join("index", "keys", "state.json"), "totals.json",
                os.path.join("monthly", f"{day[:7]}.json"), os.path.join("rollups", "daily", f"{day}.json")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(ledger.path(rel))
    ledger.forget()
    return out


def reconcile_sessions(ledger: Ledger, full: bool = False) -> list[records.Record]:
    """Record what the transcripts of every session the plugin saw hold and the ledger lacks (lock
    held).  ``full`` reads each from its start (request keys keep that from counting anything twice)."""
    from model_strategy.runtime.books import recorder

    out: list[records.Record] = []
    folder = ledger.path("sessions")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not name.endswith(".json"):
            continue
        try:
            saved = store.read_json(os.path.join(folder, name))
        except store.StoreError:
            continue
        if not isinstance(saved, dict) or not isinstance(saved.get("session_id"), str):
            continue
        state = ledger.session(saved["session_id"], None)
        main = state["main"].get("path")
        if not isinstance(main, str) or not os.path.exists(main):
            continue
        if full:
            state["main"]["offset"] = 0
            state["agents"] = {}
        out += recorder.reconcile(ledger, state, main, "doctor", budget=1 << 40)
        ledger.save_session(state)
    return out


def _rebuild_index(ledger: Ledger, day: str) -> None:
    """Drop the index of ``day``: the ledger rebuilds it from the day file on the next read (lock held)."""
    os.unlink(ledger.path("index", f"{day}.ids"))
    ledger.forget()
    ledger.index(day)
