"""The report commands (``report``, ``compare``, ``cost``, ``fallback``, ``catalog``, ``dashboard``,
``efficiency``, ``roi``, ``recommendations``) and ``export costs|analytics``: the data built by
``strategy/`` and ``usage/``, printed as JSON or rendered by ``render/`` (rich is loaded only then)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from model_strategy.commands.base.cells import default_width
from model_strategy.commands.base.errors import BadInput
from model_strategy.commands.base.words import last_days
from model_strategy.runtime.base import clock, store
from model_strategy.runtime.settings import config

if TYPE_CHECKING:
    from model_strategy.commands.knowledge.catalog import Catalog
    from model_strategy.commands.usage.insights import Insights
    from model_strategy.runtime.settings.values import Config

USAGE = ("dashboard", "efficiency", "roi", "recommendations")


def _budget_arg(words: list[str]) -> tuple[Decimal | None, list[str]]:
    """``cost [monthly budget] [use case]``: a first word that looks like a number (a digit, sign, ``$``
    or ``.`` followed by a digit: ``300``, ``$300``, ``-5``, ``12abc``) must be a positive amount; any
    other word starts the use case (``cost abc`` is the use case "abc")."""
    if not words:
        return None, words
    raw = words[0].replace(",", "").removesuffix("/month").removesuffix("/mo")
    if not _looks_numeric(raw):
        return None, words
    from model_strategy.runtime.settings.config_rules import parse_amount

    try:
        value = parse_amount(raw, "monthly budget", "300")
    except ValueError as exc:
        raise BadInput(str(exc).replace(repr(raw), repr(words[0]))) from None
    return value, words[1:]


def _looks_numeric(word: str) -> bool:
    rest = word.lstrip("+-$")
    return rest[:1].isdigit() or (rest[:1] == "." and rest[1:2].isdigit())


def jsonable(obj: Any) -> Any:
    """A report as JSON values: Decimals as strings, sets sorted, keys as strings."""
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(jsonable(v) for v in obj)
    return obj


def _days(value: int | None) -> int | None:
    from model_strategy.commands.usage.insights import MAX_DAYS

    if value is not None and not 1 <= value <= MAX_DAYS:
        raise BadInput(f"--days must be between 1 and {MAX_DAYS} (got {value})")
    return value


def _rate(raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    from model_strategy.runtime.settings.config_rules import parse_amount

    try:
        return parse_amount(raw.removesuffix("/h"), "--hourly-rate", "75")
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def insights_for(args: argparse.Namespace, cat: Catalog, cfg: Config, warnings: list[str]) -> Insights:
    from model_strategy.commands.usage import insights
    from model_strategy.runtime.books.ledger import Ledger

    days = _days(args.days) or 30
    return insights.Insights(cat, cfg, Ledger(), clock.today_utc(), days, warnings)


def build(args: argparse.Namespace) -> tuple[str, dict[str, Any], list[str]]:
    """(renderer name, report data, warnings) for a report command."""
    from model_strategy.commands.knowledge import catalog
    from model_strategy.commands.strategy import comparison, reports
    from model_strategy.runtime.books.ledger import Ledger

    cat = catalog.load(refresh=bool(getattr(args, "refresh", False)))
    cfg, warnings = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    if args.command in USAGE:
        from model_strategy.commands.usage import dashboard, efficiency, recommend, roi

        rate = _rate(getattr(args, "hourly_rate", None))
        ins = insights_for(args, cat, cfg, warnings)
        if args.command == "dashboard":
            usage = dashboard.dashboard_report(ins)
        elif args.command == "efficiency":
            usage = efficiency.efficiency_report(ins, " ".join(args.words).strip() or None)
        elif args.command == "roi":
            usage = roi.roi_report(ins, rate)
        else:
            usage = recommend.recommendations_report(ins)
        return args.command, usage, ins.warnings
    ledger = Ledger()
    ledger.settle()
    ctx = reports.Context(cat, cfg, ledger, clock.today_utc(), [*warnings, *ledger.warnings])
    words = list(getattr(args, "words", []) or [])
    if args.command == "report":
        data = reports.strategy_report(ctx, " ".join(words))
    elif args.command == "cost":
        budget, rest = _budget_arg(words)
        data = reports.cost_report(ctx, budget, " ".join(rest))
    elif args.command == "fallback":
        data = reports.fallback_report(ctx, " ".join(words))
    elif args.command == "compare":
        data = comparison.compare_report(ctx, words)
    elif args.command == "catalog":
        vendor, category = comparison.catalog_filters(ctx, words, args.vendor, args.category)
        data = comparison.catalog_report(ctx, vendor, category)
    else:
        raise BadInput(f"unknown command {args.command!r}")
    return args.command, data, ctx.warnings


def render(name: str, data: dict[str, Any], warnings: list[str], width: int, html: str | None = None,
           svg: str | None = None) -> None:
    from model_strategy.commands.render import render as r
    from model_strategy.commands.render import render_insights as ri
    from model_strategy.commands.render import render_usage as ru

    fn = {"report": r.strategy, "cost": r.cost, "fallback": r.fallback, "compare": ru.compare,
          "catalog": ru.catalog, "dashboard": ri.dashboard, "efficiency": ri.efficiency, "roi": ri.roi,
          "recommendations": ri.recommendations}[name]
    parts = fn(data, warnings)
    sys.stdout.write(r.to_text(parts, width))
    if html or svg:
        ri.save(parts, width, html, svg, data.get("title", "model-strategy"))


def run(args: argparse.Namespace) -> int:
    """A report command: its data as JSON (``--json``) or rendered to the width."""
    if args.width is None:
        args.width = default_width()
    if args.width < 40:
        raise BadInput(f"--width must be at least 40 (got {args.width})")
    for path in (getattr(args, "html", None), getattr(args, "svg", None)):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise BadInput(f"cannot write {path}: its folder does not exist")
    name, data, warnings = build(args)
    if args.json:
        print(json.dumps(jsonable({**data, "warnings": warnings}), indent=1, ensure_ascii=False))
    else:
        render(name, data, warnings, args.width, getattr(args, "html", None), getattr(args, "svg", None))
    return 0


def export(args: argparse.Namespace) -> int:
    """``export costs FILE`` (CSV, every ledger day unless ``--days``) or ``export analytics FILE`` (JSON of
    the four usage reports); ``-`` writes to stdout.  The line that says what was written goes to stdout,
    or to stderr when the export itself does."""
    from model_strategy.commands.knowledge import catalog
    from model_strategy.commands.usage import export as ex

    cat = catalog.load()
    cfg, warnings = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    ins = insights_for(args, cat, cfg, warnings)
    if args.what == "costs":
        text, n = ex.costs_csv(ins, all_days=args.days is None)
        span = last_days(ins.days) if args.days is not None else "every ledger day"
        done = f"wrote {n:,} cost rows ({span}) to {args.file}"
    else:
        text = json.dumps(jsonable(ex.analytics(ins)), indent=1, ensure_ascii=False) + "\n"
        done = f"wrote the analytics of {last_days(ins.days)} to {args.file}"
    write(args.file, text)
    print(done, file=sys.stderr if args.file == "-" else sys.stdout)
    return 0


def write(path: str, text: str) -> None:
    """``text`` to ``path`` (replaced whole, 0600) or, for ``-``, to stdout."""
    if path == "-":
        sys.stdout.write(text)
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise BadInput(f"cannot write {path}: folder {folder} does not exist")
    store.atomic_write_bytes(os.path.abspath(path), text.encode())
