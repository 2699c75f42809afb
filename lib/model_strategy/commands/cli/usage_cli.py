"""The ledger's own commands: ``export records``, ``doctor``, ``status``, ``routing`` and ``feedback``
(the data from ``usage/``, printed here; ``routing``'s table by ``render/render_routing``)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from model_strategy.commands.base.cells import terminal_safe
from model_strategy.commands.base.errors import BadInput


def export_records(args: argparse.Namespace) -> int:
    from model_strategy.commands.usage import ledger_cli

    return ledger_cli.export_records(args.format, args.since, args.output)


def doctor(args: argparse.Namespace) -> int:
    from model_strategy.commands.usage import ledger_cli

    return ledger_cli.doctor(args.repair, args.json)


def status(args: argparse.Namespace) -> int:
    from model_strategy.commands.usage import status as st

    d = st.status_data(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    if args.json:
        print(json.dumps(d, indent=1, ensure_ascii=False))
    else:
        print(terminal_safe(st.render(d)), end="")
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
