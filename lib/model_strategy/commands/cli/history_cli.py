"""``model-strategy history`` (import Claude Code's transcripts, then report) and ``model-strategy
archive`` (retention of daily detail): their options checked, the import run, the report printed.
The import is ``usage/history``, the report's data ``usage/history_report``, its table
``render/render_history``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TypedDict, cast

from model_strategy.commands.base.cells import default_width
from model_strategy.commands.base.errors import BadInput
from model_strategy.commands.usage import history
from model_strategy.commands.usage.history_report import HistoryDoc, ImportDone, Totals, report
from model_strategy.runtime.base import clock, store
from model_strategy.runtime.base.clock import iso
from model_strategy.runtime.books import archive as retention
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.settings import config

JSON_SCHEMA = 1


def claude_dirs(explicit: list[str] | None = None) -> list[str]:
    """Claude Code's config dirs: ``--claude-dir`` when given, else ``$CLAUDE_CONFIG_DIR`` (comma
    separated), ``$XDG_CONFIG_HOME/claude`` (``~/.config/claude``) and ``~/.claude``; each once."""
    cands = list(explicit or ())
    if not cands:
        env = os.environ.get("CLAUDE_CONFIG_DIR", "")
        cands = [p.strip() for p in env.split(",") if p.strip()]
        home = os.path.expanduser("~")
        cands.append(os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "claude"))
        cands.append(os.path.join(home, ".claude"))
    out: list[str] = []
    seen: set[str] = set()
    for c in cands:
        real = os.path.realpath(os.path.expanduser(c))
        if real not in seen:
            seen.add(real)
            out.append(real)
    return out


def _check(args: argparse.Namespace) -> None:
    for name in ("since", "until"):
        value = getattr(args, name)
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise BadInput(f"--{name} must be a date YYYY-MM-DD (got {value!r})") from None
            if len(value) != 10:
                raise BadInput(f"--{name} must be a date YYYY-MM-DD (got {value!r})")
    if args.since and args.until and args.since > args.until:
        raise BadInput(f"--since {args.since} is after --until {args.until}")
    if args.width is None and args.json:
        args.width = 100  # no table drawn (and rich, which render imports, not loaded)
    elif args.width is None:
        args.width = default_width(60)
    if args.width < 60:
        raise BadInput(f"--width must be at least 60 (got {args.width})")


def build(args: argparse.Namespace, progress: Callable[[int], history.Progress | None] | None = None
          ) -> tuple[HistoryDoc, list[str]]:
    """The history document (imports first unless ``--no-import``) and the warnings."""
    cfg, warnings = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    ledger = Ledger()
    stats = None
    roots: list[str] = []
    started = time.monotonic()
    if not args.no_import:
        roots = claude_dirs(args.claude_dir)
        stats = history.import_history(ledger, roots, warnings, progress=progress)
        warnings += retention.maybe_run(ledger, cfg)  # history older than the retention goes on into the archive
    errors: list[str] = []
    week_start = str(cfg.get("budgets", {}).get("week_start", "monday"))
    try:  # under the lock the monthly roll-ups it folds are saved, so the next report starts from them
        with ledger.transaction(wait=1.0):
            rep = report(ledger, args.group, args.since, args.until, week_start, errors)
    except store.LockTimeout:
        rep = report(ledger, args.group, args.since, args.until, week_start, errors)
    doc: HistoryDoc = {
        "schema": JSON_SCHEMA, **rep, "days": "UTC",
        "import": None if stats is None else {"claude_dirs": roots, **stats.as_json(),
                                              "seconds": round(time.monotonic() - started, 3)},
        "generated_at": iso(clock.now())}
    warnings += errors + ledger.warnings
    return doc, warnings


#: a row of ``history --json``: the counts, the cost as a Decimal string, the key (and a session's project)
JsonRow = dict[str, int | str | None]
HistoryJson = TypedDict("HistoryJson", {
    "schema": int, "group": str, "since": "str | None", "until": "str | None", "rows": "list[JsonRow]",
    "totals": JsonRow, "days": str, "import": "ImportDone | None", "generated_at": str, "warnings": "list[str]"})


def jsonable(doc: HistoryDoc, warnings: list[str]) -> HistoryJson:
    """``history --json``: the document with its amounts as Decimal strings, and the warnings."""
    def conv(row: Totals) -> JsonRow:
        return {k: str(v) if isinstance(v, Decimal) else cast("int | str | None", v) for k, v in row.items()}

    return {**doc, "rows": [conv(r) for r in doc["rows"]], "totals": conv(doc["totals"]), "warnings": warnings}


def run(args: argparse.Namespace) -> int:
    """``model-strategy history [GROUP] [--since D] [--until D] [--claude-dir DIR] [--no-import] [--json]``."""
    _check(args)
    if args.json:
        doc, warnings = build(args)
        print(json.dumps(jsonable(doc, warnings), indent=1, ensure_ascii=False))
        return 0
    from model_strategy.commands.render import render_history

    doc, warnings = build(args, render_history.progress_bar)
    sys.stdout.write(render_history.text(doc, warnings, args.width))
    return 0


def archive(args: argparse.Namespace) -> int:
    """``model-strategy archive [--now] [--delete-archived-before YYYY-MM] [--json]``: without
    ``--now`` it shows what is archived and what is due."""
    month = args.delete_archived_before
    if month is not None and (len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit()
                              or not 1 <= int(month[5:]) <= 12):
        raise BadInput(f"--delete-archived-before must be a month YYYY-MM (got {month!r})")
    cfg, warnings = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    ledger = Ledger()
    keep = retention.retention_of(cfg)
    ran = retention.run(ledger, keep) if args.now else None
    deleted = retention.delete_before(ledger, month) if month else None
    st = retention.status(ledger, keep)
    warnings += ledger.warnings
    if args.json:
        print(json.dumps({"schema": 1, **({"run": ran} if ran is not None else {}),
                          **({"deleted": deleted} if deleted is not None else {}), "status": st,
                          "warnings": warnings}, indent=1))
        return 0
    for m in ran["archived"] if ran else []:
        print(f"archived {m['month']}: {m['records']:,} records from {m['days']} day file(s) into {m['file']}")
    for line in ran["problems"] if ran else []:
        print(f"! {line}")
    for gone in deleted or []:
        print(f"deleted the archive of {gone} (its monthly roll-up stays)")
    print(f"retention: {st['retention_days']} days of daily detail (whole months); "
          f"{len(st['archived'])} archived month(s): {', '.join(a['month'] for a in st['archived']) or 'none'}")
    print(f"day files: {st['day_files']:,} (oldest {st['oldest_day_file'] or '-'}); due for archiving: "
          f"{', '.join(st['due']) or 'nothing'}; last run {st['last_run'] or 'never'}")
    for line in warnings:
        print(f"! {line}")
    return 0
