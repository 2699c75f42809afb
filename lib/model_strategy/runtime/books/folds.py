"""Caches folded from the ledger, and the monthly roll-ups.

Every file besides the day files is a cache derived from them, rebuilt whenever it is missing, cut,
corrupt, of another schema or behind.  ``fold`` is the one way such a cache is kept: it remembers,
per day file, the offset it has folded in, catches up from there, and checks a checksum over the
bytes of the rest of its file (``store.atomic_write_sealed``, ``read_sealed``).
``monthly/YYYY-MM.json`` (``rollup``) is one: the totals of a month by model, agent type, day,
project and kind.  Months whose detail moved into an archive are folded whole from it and kept per
archive version (``fold_archived``, ``kept_rollup``).

Standard library only (hot path: budgets fold ``totals.json`` in PreToolUse).
"""

from __future__ import annotations

import os
import zlib

from model_strategy.runtime.base import fastjson, store
from model_strategy.runtime.base.clock import day_of
from model_strategy.runtime.money.amount import amount

from . import archived, records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from .journal import Journal
    from .records import Record

    T = TypeVar("T")  # what a cache holds (its ``data``): each cache's own type

ROLLUP_KEY = "{month}@archive"


def fold(ledger: Journal, name: str, since: str | None, until: str | None, fresh: Callable[[], T],
         add: Callable[[T, Record], None], schema: int, key: Any = None,
         prune: Callable[[T, str], None] | None = None,
         valid: Callable[[T], bool | str] | None = None) -> T:
    """A cache file ``name`` folded from the records of the day files in [since, until]: loaded,
    checked (schema, shape, ``key``, checksum, each day file's offset, then ``valid``, which may
    bring it up to date and answers True, "changed" or False to rebuild), caught up with what was
    appended since, rebuilt from the ledger when it cannot be trusted, and saved when it changed.
    When ``since`` moves forward, ``prune`` drops what fell out of the window."""
    months = ledger.archived_months(since, until)
    if months:  # archived detail has no offsets to fold by: folded whole, kept per archive version
        return fold_archived(ledger, name, since, until, months, fresh, add, schema, key)
    path = ledger.path(name)
    days = ledger.days(since, until)
    try:
        data, sealed = read_sealed(path)
    except store.StoreError as exc:
        ledger.warnings.append(f"{str(exc)[:160]}; rebuilt from the ledger")
        data, sealed = None, False
    ok = (sealed and isinstance(data, dict) and data.get("schema") == schema and data.get("key") == key
          and isinstance(data.get("covered"), dict) and isinstance(data.get("data"), dict)
          and (data.get("since") or "") <= (since or ""))
    changed = False
    if ok and valid is not None:
        try:
            verdict = valid(data["data"])
        except (ValueError, TypeError, KeyError, ArithmeticError, AttributeError):
            verdict = False
        ok = verdict is not False
        changed = verdict == "changed"
    if ok:
        assert isinstance(data, dict)
        if since and data.get("since") != since:
            if prune is None and data.get("since") is not None:
                ok = False
            else:
                try:
                    if prune is not None:
                        prune(data["data"], since)
                except (ValueError, TypeError, KeyError, AttributeError):
                    ok = False
                data["covered"] = {d: v for d, v in data["covered"].items() if d >= since}
                data["since"] = since
                changed = True
        if ok and set(data["covered"]) - set(days):  # a day file went away: start over
            ok = False
    if not ok:
        rekeyed = isinstance(data, dict) and data.get("key") != key  # e.g. another time zone: no damage
        if data is not None and not rekeyed:
            ledger.warnings.append(f"{path}: of another schema, shape or window; rebuilt from the ledger")
        data = {"schema": schema, "key": key, "since": since, "covered": {}, "data": fresh()}
        changed = True
    assert isinstance(data, dict)
    for attempt in range(2):
        covered = data["covered"]
        target = data["data"]
        try:
            for day in days:
                done = covered.get(day, 0)
                if not isinstance(done, int) or isinstance(done, bool):
                    raise ValueError(day)
                try:
                    size = os.path.getsize(ledger.day_file(day))
                except FileNotFoundError:
                    size = 0
                if size == done:
                    continue
                if size < done:
                    raise ValueError(day)  # cut or rewritten: fold again from scratch
                end = done
                for end, rec in ledger.scan(day, done, upto=size):  # noqa: B007 - end is used after
                    add(target, rec)
                if end != done:
                    covered[day] = end
                    changed = True
            break
        except (ValueError, TypeError, KeyError, ArithmeticError, AttributeError):
            if attempt:
                raise
            ledger.warnings.append(f"{path}: did not match the ledger; rebuilt from it")
            data = {"schema": schema, "key": key, "since": since, "covered": {}, "data": fresh()}
            changed = True
    if changed:  # a consistent snapshot (offsets match content), so saving needs no lock
        try:
            store.atomic_write_sealed(path, data)
        except store.LinkRefused as exc:  # a cache: the answer stands, the file is left alone
            ledger.warnings.append(f"{exc}; {name} is not saved")
        except OSError as exc:
            if ledger.locked:
                raise
            ledger.warnings.append(f"could not save {path} ({exc.strerror}); it is rebuilt next time")
    result: T = data["data"]
    return result


def rollup(ledger: Journal, month: str) -> dict[str, Any]:
    """The roll-up of a month (``YYYY-MM``): totals by model, agent type, day and project."""
    if ledger.archived_months(month, month) or (not ledger.days(f"{month}-01", f"{month}-31")
                                                and os.path.exists(ledger.path("monthly", f"{month}.json"))):
        kept = kept_rollup(ledger, month)  # detail moved to archive/: the roll-up is kept from there
        if kept is not None:
            return kept

    def fresh() -> dict[str, Any]:
        return rollup_fresh(month)

    return fold(ledger, os.path.join("monthly", f"{month}.json"), f"{month}-01", f"{month}-31",
                fresh, rollup_add, schema=records.SCHEMA, key=month)


def rollup_fresh(month: str) -> dict[str, Any]:
    return {"month": month, "total": {}, "by_model": {}, "by_agent_type": {}, "by_day": {},
            "by_project": {}, "by_kind": {}}


def rollup_add(data: dict[str, Any], rec: Record) -> None:
    """Fold a record into a month's roll-up; a continuation slice adds its usage, not a record (run)."""
    run = 0 if rec.get("continuation") is True else 1
    add_to_bucket(data["total"], rec, records=run)
    for name, row in rec["models"].items():
        add_to_bucket(data["by_model"].setdefault(name, {}), row, records=run)
    add_to_bucket(data["by_agent_type"].setdefault(rec["agent_type"], {}), rec, records=run)
    add_to_bucket(data["by_day"].setdefault(day_of(rec["ts"]), {}), rec, records=run)
    add_to_bucket(data["by_project"].setdefault(rec.get("project") or "(none)", {}), rec, records=run)
    add_to_bucket(data["by_kind"].setdefault(rec["kind"], {}), rec, records=run)


def add_to_bucket(bucket: dict[str, Any], row: Any, records: int | None = None) -> None:
    """Add a record (or a per-model row) into a roll-up bucket; money stays Decimal-as-string."""
    from model_strategy.runtime.base.kinds import RECORD_KINDS

    bucket["cost_usd"] = str(amount(bucket.get("cost_usd", "0")) + amount(row.get("cost_usd") or "0"))
    bucket["records"] = bucket.get("records", 0) + (records if records is not None else 1)
    bucket["requests"] = bucket.get("requests", 0) + int(row.get("requests", 0))
    unpriced = row.get("unpriced_requests")
    if unpriced is None and row.get("priced") is False:
        unpriced = row.get("requests", 0)
    bucket["unpriced_requests"] = bucket.get("unpriced_requests", 0) + int(unpriced or 0)
    tokens = bucket.setdefault("tokens", {})
    src = row.get("tokens", row)
    for kind in RECORD_KINDS:
        tokens[kind] = tokens.get(kind, 0) + int(src.get(kind, 0))


def read_sealed(path: str) -> tuple[Any, bool]:
    """A cache document and whether its checksum holds: ``store.read_sealed``, or, for a file an
    earlier version wrote, over its re-encoded offsets and content (``crc``)."""
    doc, sealed = store.read_sealed(path)
    return doc, sealed or (isinstance(doc, dict) and doc.get("crc") == crc(doc))


def crc(cache: dict[str, Any]) -> int:
    """The checksum caches carried before ``store.atomic_write_sealed`` (over their re-encoded offsets
    and content): still accepted, so that an upgrade rebuilds nothing."""
    body = {"covered": cache.get("covered"), "data": cache.get("data"), "since": cache.get("since")}
    return zlib.crc32(fastjson.encode(body))


# ------------------------------------------------------------------ archived months


def _rollup_path(ledger: Journal, month: str) -> str:
    return ledger.path("monthly", f"{month}.json")


def _signature(ledger: Journal, month: str) -> list[Any]:
    try:
        st = os.stat(ledger.archive_file(month))
        sig: list[Any] = [st.st_size, st.st_mtime_ns]
    except FileNotFoundError:
        sig = [None, None]
    for day in ledger.days(f"{month}-01", f"{month}-31"):
        try:
            sig.append([day, os.path.getsize(ledger.day_file(day))])
        except FileNotFoundError:
            continue
    return sig


def fold_archived(ledger: Journal, name: str, since: str | None, until: str | None, months: list[str],
                  fresh: Callable[[], T], add: Callable[[T, Record], None], schema: int, key: Any) -> T:
    """``Ledger.fold`` over a range that reaches into archived months: the records folded whole, and
    the result kept in ``name`` with the versions of the archives and day files it came from."""
    sig = [[m, *_signature(ledger, m)] for m in months]
    sig += [[d, os.path.getsize(ledger.day_file(d))] for d in ledger.days(since, until)
            if os.path.exists(ledger.day_file(d))]
    path = ledger.path(name)
    try:
        doc, sealed = read_sealed(path)
    except store.StoreError:
        doc, sealed = None, False
    if (sealed and isinstance(doc, dict) and doc.get("schema") == schema and doc.get("key") == key
            and doc.get("archived") == sig and isinstance(doc.get("data"), dict)):
        kept: T = doc["data"]
        return kept
    data = fresh()
    for rec in ledger.iter_records(since, until, ledger.warnings):
        add(data, rec)
    doc = {"schema": schema, "key": key, "since": since, "covered": {}, "archived": sig, "data": data}
    try:  # noqa: SIM105 - contextlib is not imported on the hot path
        store.atomic_write_sealed(path, doc)
    except OSError:
        pass  # folded again next time
    return data


def save_rollup(ledger: Journal, month: str, recs: list[Record]) -> dict[str, Any]:
    data = rollup_fresh(month)
    for rec in recs:
        rollup_add(data, rec)
    doc = {"schema": records.SCHEMA, "key": ROLLUP_KEY.format(month=month), "since": f"{month}-01",
           "covered": {}, "archive": _signature(ledger, month), "data": data}
    try:
        store.atomic_write_json(_rollup_path(ledger, month), doc)
    except OSError as exc:
        ledger.warnings.append(f"could not save the roll-up of {month} ({exc.strerror}); rebuilt next time")
    return data


def kept_rollup(ledger: Journal, month: str) -> dict[str, Any] | None:
    """The roll-up of an archived month (from the archive plus any day files left or added), or of a
    month whose archive the user deleted (the roll-up stays); None for a month that is not archived."""
    try:
        doc = store.read_json(_rollup_path(ledger, month))
    except store.StoreError:
        doc = None
    ours = isinstance(doc, dict) and doc.get("key") == ROLLUP_KEY.format(month=month) \
        and doc.get("schema") == records.SCHEMA and isinstance(doc.get("data"), dict)
    if archived.has_archive(ledger, month):
        if ours and doc["archive"] == _signature(ledger, month):
            kept: dict[str, Any] = doc["data"]
            return kept
        return save_rollup(ledger, month, archived.month_records(ledger, month, None, None, ledger.warnings))
    if ours and not ledger.days(f"{month}-01", f"{month}-31"):
        deleted: dict[str, Any] = doc["data"]
        return deleted
    return None

