"""The ledger's own commands: ``export records``, ``doctor``, ``status``, ``routing`` and ``feedback``
(the data from ``usage/``, printed here; ``routing``'s table by ``render/render_routing``)."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys

from model_strategy.commands.base.cells import terminal_safe
from model_strategy.commands.base.errors import BadInput


def export_records(args: argparse.Namespace) -> int:
    """``export records [--format csv|jsonl] [--since D] [--output FILE|-]``: to stdout, or a file replaced
    whole (0600); the count and any problem on stderr."""
    from model_strategy.commands.usage import ledger_cli
    from model_strategy.runtime.base import store

    if args.output == "-":
        count, problems = ledger_cli.export_records(sys.stdout, args.format, args.since)
    else:
        buf = io.StringIO(newline="")
        count, problems = ledger_cli.export_records(buf, args.format, args.since)
        store.atomic_write_bytes(args.output, buf.getvalue().encode("utf-8"))  # whole or not at all
        print(f"model-strategy: exported {count} records to {args.output}", file=sys.stderr)
    for line in problems:
        print(f"model-strategy: {line}", file=sys.stderr)
    return 0


def doctor(args: argparse.Namespace) -> int:
    """``doctor [--repair] [--json]``: exit 1 when a check fails (``--json``: 0, the document says)."""
    from model_strategy.commands.render import render_status
    from model_strategy.commands.usage import ledger_cli
    from model_strategy.runtime.books.ledger import Ledger

    result = ledger_cli.check(Ledger(), args.repair)
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return 0
    sys.stdout.write(render_status.doctor(result))
    return 0 if result["ok"] else 1


def status(args: argparse.Namespace) -> int:
    from model_strategy.commands.render import render_status
    from model_strategy.commands.usage import status as st

    d = st.status_data(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    if args.json:
        print(json.dumps(d, indent=1, ensure_ascii=False))
    else:
        print(terminal_safe(render_status.status(d)), end="")
    return 0


def routing(args: argparse.Namespace) -> int:
    """``model-strategy routing [--json] [--days N] [--width N]``."""
    from model_strategy.commands.usage import routing as learned
    from model_strategy.runtime.settings import config

    if not 1 <= args.days <= 36500:
        raise BadInput(f"--days must be between 1 and 36500 (got {args.days})")
    if args.width < 40:
        raise BadInput(f"--width must be at least 40 (got {args.width})")
    cfg, cwarn = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    doc, warnings = learned.build(args.days, cfg)
    warnings = [*cwarn, *warnings]
    if args.json:
        print(json.dumps({**doc, "warnings": warnings}, indent=1, ensure_ascii=False))
        return 0
    from model_strategy.commands.render.render_routing import text

    sys.stdout.write(text(doc, warnings, args.width))
    return 0


def feedback(args: argparse.Namespace) -> int:
    """``model-strategy feedback good|bad [AGENT_ID|last]``: mark a run; the learning counts it so."""
    from model_strategy.commands.usage.routing import mark

    print(f"model-strategy: {mark(args.verdict, args.agent)}")
    return 0
