"""``model-strategy`` command line (what the slash commands run).

    model-strategy [--plugin-data DIR] report [use case ...]     the /model-strategy report
    model-strategy compare [model ...]                            side by side + last 30 days re-priced
    model-strategy cost [monthly budget] [use case ...]           monthly cost and optimisations
    model-strategy fallback [use case ...]                        chains, retries, vendor risk
    model-strategy catalog [--vendor V] [--category C]            the model catalog
    model-strategy dashboard [--days N] [--html F] [--svg F]      usage, spend, trend, routing savings
    model-strategy efficiency [AGENT_TYPE] [--days N]             per agent type: cost, completion, score
    model-strategy roi [--hourly-rate R] [--days N]               cost against labour saved
    model-strategy recommendations [--days N]                     data-backed config changes
    model-strategy export costs|analytics FILE [--days N]         CSV of costs / JSON of all four reports
    model-strategy install-shortcut [--project DIR] [--force]     make plain /model-strategy work
    model-strategy budget ... | statusline                        budgets (budget_cli)
    model-strategy install-statusline [--settings FILE]           point Claude Code's statusLine here
    model-strategy uninstall-statusline                           put the previous statusLine back
    model-strategy status [--json]                                data home and why, environment, hook health
    model-strategy doctor [--repair] [--json]                     check the ledger's caches against it (and rebuild)
    model-strategy export records [--format csv|jsonl] [--since D] [--output F]   one row per record
    model-strategy history [daily|weekly|monthly|session|project|model|agent-type] [--since D] [--until D]
                           [--claude-dir DIR] [--json]             import Claude Code transcripts, report usage
    model-strategy archive [--now] [--delete-archived-before YYYY-MM]   retention of daily detail

Each report takes ``--json`` and ``--width N`` (default: the terminal's width on a terminal, else 100).
Messages name commands the way the user runs them there (``base/errors.command``). Exit codes: 0 ok, 1 internal
problem, 2 bad input (one line on stderr). ``--plugin-data`` is the ``${CLAUDE_PLUGIN_DATA}`` Claude Code
gives the hooks; slash commands pass it because their shell does not have it (``runtime/base/paths.py`` has the
whole rule for the data home: ``MODEL_STRATEGY_DATA_DIR`` > ``--plugin-data`` > ``CLAUDE_PLUGIN_DATA`` > the
installed plugin's dir > the default). It also marks a slash-command run: Claude Code aborts a command whose
``!`` script exits non-zero (the model never sees why), so there a problem is printed on stdout as the same
one line, with exit 0, for Claude to explain.
"""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from model_strategy.commands.knowledge.catalog import Catalog
    from model_strategy.commands.usage.insights import Insights
    from model_strategy.runtime.settings.values import Config

PROG = "model-strategy"
REPORTS = ("report", "compare", "cost", "fallback", "catalog", "dashboard", "efficiency", "roi", "recommendations",
           "export")
USAGE = ("dashboard", "efficiency", "roi", "recommendations")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        from model_strategy.commands.base.errors import BadInput

        raise BadInput(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Model strategy for Claude Code work.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    def report(name: str, help_: str, words: str | None) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        if words:
            sp.add_argument("words", nargs="*", help=words)
        sp.add_argument("--json", action="store_true", help="print the report as JSON")
        sp.add_argument("--width", type=int, help="columns (default: the terminal's width; 100 when not a terminal)")
        return sp

    report("report", "use-case analysis, recommendation, cost, resilience, roadmap", "use case, free text")
    report("compare", "compare models; re-price your last 30 days on each", "model ids or aliases")
    report("cost", "monthly cost vs budget, and optimisations", "[monthly budget in USD] [use case]")
    report("fallback", "fallback chains, retry settings, vendor risk", "use case, free text")
    cat = report("catalog", "list the model catalog", "vendor and/or category, e.g. openai fast-economy")
    cat.add_argument("--vendor")
    cat.add_argument("--category")
    cat.add_argument("--refresh", action="store_true", help="rebuild the cached catalog and prices")
    dash = report("dashboard", "spend, trend, routing savings and cache use of the last N days", None)
    dash.add_argument("--days", type=int, default=7, help="days to show, ending today (default 7)")
    dash.add_argument("--html", metavar="FILE", help="also write the view as HTML")
    dash.add_argument("--svg", metavar="FILE", help="also write the view as SVG")
    eff = report("efficiency", "per agent type: runs, cost, completion, cache, score, opportunities",
                 "agent type (default: all)")
    eff.add_argument("--days", type=int, default=30, help="days, ending today (default 30)")
    roi = report("roi", "cost against the labour the agents saved, with the assumptions", None)
    roi.add_argument("--days", type=int, default=30, help="days, ending today (default 30)")
    roi.add_argument("--hourly-rate", help="USD per hour of the work saved (default: roi.hourly_rate)")
    rec = report("recommendations", "data-backed configuration changes", None)
    rec.add_argument("--days", type=int, default=30, help="days, ending today (default 30)")
    exp = sub.add_parser("export", help="export records (CSV/JSONL, one row per record), costs (CSV) or "
                         "analytics (JSON)")
    exp.add_argument("what", choices=("records", "costs", "analytics"),
                     help="records: see `export records --help`; costs: CSV per day/project/agent/model; "
                     "analytics: dashboard + efficiency + roi + recommendations as JSON")
    exp.add_argument("file", help="output file, - for stdout")
    exp.add_argument("--days", type=int, help="last N days (costs: every day by default; analytics: 30)")
    inst = sub.add_parser("install-shortcut", help="write a /model-strategy command into ~/.claude/commands")
    inst.add_argument("--project", help="write into PROJECT/.claude/commands instead (this machine's paths)")
    inst.add_argument("--force", action="store_true", help="replace a model-strategy.md not written by us")
    uninst = sub.add_parser("uninstall-shortcut", help="remove the shortcut written by install-shortcut")
    uninst.add_argument("--project")
    sub.add_parser("budget", help="budget status and settings (budget --help for more)", add_help=False)
    sub.add_parser("statusline", help="one-line budget status for the status line", add_help=False)
    sub.add_parser("install-statusline", help="point Claude Code's statusLine at this plugin "
                   "([--settings FILE], default ~/.claude/settings.json)", add_help=False)
    sub.add_parser("routing", help="what the learning router learned per bucket, and a replay of the policies "
                   "[--days N] [--json]", add_help=False)
    sub.add_parser("feedback", help="mark an agent run good or bad for the learning router: "
                   "feedback good|bad [AGENT_ID|last]", add_help=False)
    sub.add_parser("doctor", help="check (--repair) the ledger and its caches [--json]", add_help=False)
    st = sub.add_parser("status", help="data home and why, environment, hook health, records, config files")
    st.add_argument("--json", action="store_true", help="print the status as JSON")
    return p


STATUSLINE_USAGE = """usage: model-strategy statusline < status-line JSON
Prints one line for Claude Code's statusLine: today's spend, budget percent and level.
Install it with: model-strategy install-statusline [--settings FILE]"""


def _split(argv: list[str]) -> list[str]:
    """Slash commands pass ``"$ARGUMENTS"`` as one quoted word: split the words of text commands."""
    if argv and argv[0] in REPORTS:
        return [argv[0], *(w for a in argv[1:] for w in a.split())]
    return argv


def _slash_argv(argv: list[str]) -> tuple[list[str], str]:
    """A slash command's argv (after ``--plugin-data DIR``): its words come from the hook that saw the
    command's arguments (``<subcommand> --slash-args``, see ``runtime/entry/slashargs.py``), never from the shell
    line.  Options that write where the caller chooses are refused here.  Returns (argv, note)."""
    from model_strategy.commands.base.errors import BadInput
    from model_strategy.runtime.entry import slashargs

    if slashargs.FLAG in argv:
        if len(argv) != 2 or argv[1] != slashargs.FLAG or argv[0] not in slashargs.TAKES_WORDS:
            raise BadInput(f"{slashargs.FLAG} goes right after one of: {', '.join(slashargs.TAKES_WORDS)}")
        sub = argv[0]
        text = slashargs.take(sub)
        if text is None:
            return [sub], ("the arguments of this command did not reach model-strategy (its slash_args hook did not "
                           "run: is the plugin enabled in this session?); this is the output without them")
        if len(text) > slashargs.MAX_CHARS:
            raise BadInput(f"the arguments are too long ({len(text):,} characters; at most "
                           f"{slashargs.MAX_CHARS:,}): describe the use case in a sentence or two")
        words = slashargs.words(text)
        refused = [w for w in words if w.split("=", 1)[0] in slashargs.REFUSED]
        if refused and sub in slashargs.OPTION_WORDS:
            raise BadInput(f"{refused[0].split('=', 1)[0]} is not available in a slash command; run "
                           f"`model-strategy {sub}` in a terminal for it")
        if sub == "catalog":  # `/model-strategy:catalog --vendor openai`: the filters are found among the words
            words = [w for w in words if w not in ("--vendor", "--category")]
        return ([sub, *words] if sub in slashargs.OPTION_WORDS else [sub, "--", *words]), ""
    if argv[:1] in (["install-statusline"], ["uninstall-statusline"]) and argv[1:]:
        raise BadInput(f"{argv[0]} takes no options in a slash command; run it from a terminal for --settings")
    if argv[:1] in (["install-shortcut"], ["uninstall-shortcut"]) and argv[1:]:
        raise BadInput(f"{argv[0]} takes no options in a slash command; run it from a terminal for --project/--force")
    return argv, ""


def _budget_arg(words: list[str]) -> tuple[Decimal | None, list[str]]:
    """``cost [monthly budget] [use case]``: a first word that looks like a number (a digit, sign, ``$``
    or ``.`` followed by a digit: ``300``, ``$300``, ``-5``, ``12abc``) must be a positive amount; any
    other word starts the use case (``cost abc`` is the use case "abc")."""
    from model_strategy.commands.base.errors import BadInput

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


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(_jsonable(v) for v in obj)
    return obj


def _days(value: int | None) -> int | None:
    from model_strategy.commands.base.errors import BadInput
    from model_strategy.commands.usage.insights import MAX_DAYS

    if value is not None and not 1 <= value <= MAX_DAYS:
        raise BadInput(f"--days must be between 1 and {MAX_DAYS} (got {value})")
    return value


def _rate(raw: str | None) -> Decimal | None:
    from model_strategy.commands.base.errors import BadInput

    if raw is None:
        return None
    from model_strategy.runtime.settings.config_rules import parse_amount

    try:
        return parse_amount(raw.removesuffix("/h"), "--hourly-rate", "75")
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def insights_for(args: argparse.Namespace, cat: Catalog, cfg: Config, warnings: list[str]) -> Insights:
    from model_strategy.commands.usage import insights
    from model_strategy.runtime.base import clock
    from model_strategy.runtime.books.ledger import Ledger

    days = _days(args.days) or 30
    return insights.Insights(cat, cfg, Ledger(), clock.today_utc(), days, warnings)


def build(args: argparse.Namespace) -> tuple[str, dict[str, Any], list[str]]:
    """(renderer name, report data, warnings) for a report command."""
    from model_strategy.commands.base.errors import BadInput
    from model_strategy.commands.knowledge import catalog
    from model_strategy.commands.strategy import comparison, reports
    from model_strategy.runtime.base import clock
    from model_strategy.runtime.books.ledger import Ledger
    from model_strategy.runtime.settings import config

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
        ri.save(parts, width, html, svg, data.get("title", PROG))


def export(args: argparse.Namespace) -> str:
    from model_strategy.commands.knowledge import catalog
    from model_strategy.commands.usage import export as ex
    from model_strategy.runtime.settings import config

    cat = catalog.load()
    cfg, warnings = config.load(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    ins = insights_for(args, cat, cfg, warnings)
    return str(ex.run(ins, args.what, args.file, args.days is not None))


def _remember_root() -> None:
    import contextlib

    from model_strategy.runtime.base import paths

    from . import shortcut

    with contextlib.suppress(OSError):  # best effort: the shortcut falls back to its install-time root
        shortcut.remember_root(paths.data_dir())
    with contextlib.suppress(Exception):  # best effort: replace an old shortcut that passed $ARGUMENTS to a shell
        shortcut.upgrade_old()


def main(argv: list[str] | None = None) -> int:
    """Every command, with one error path for the file system: a full, read-only or inaccessible data
    home (or any other file a command needs) is one line naming the path and what failed, exit 1."""
    from model_strategy.commands.base.errors import fail
    from model_strategy.runtime.base.store import LockTimeout

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except (OSError, LockTimeout) as exc:
        return fail(exc, argv[:1] == ["--plugin-data"], 1)


def _main(argv: list[str]) -> int:
    from model_strategy.commands.base.errors import BadInput, fail, set_slash
    from model_strategy.commands.knowledge.catalog import CatalogError

    os.umask(0o077)  # the data home is private: files 0600, directories 0700
    slash = argv[:1] == ["--plugin-data"]
    set_slash(slash)  # messages name the command the way the user runs it there
    if len(argv) >= 2 and slash:
        if argv[1]:
            from model_strategy.runtime.base import paths

            paths.use_plugin_data(argv[1])
            _remember_root()
        argv = argv[2:]
    if slash:
        try:
            argv, note = _slash_argv(argv)
        except BadInput as exc:
            print(f"{PROG}: {exc}")
            return 0
        if note:
            print(f"{PROG}: {note}")
    if argv[:1] == ["budget"]:
        from .budget_cli import main as budget_main  # type: ignore[import-not-found,unused-ignore]

        return int(budget_main([w for a in argv[1:] for w in a.split()], slash=slash))
    if argv[:1] == ["statusline"]:
        if argv[1:2] in (["-h"], ["--help"]):
            print(STATUSLINE_USAGE)
            return 0
        from .budget_cli import statusline  # type: ignore[import-not-found,unused-ignore]

        return int(statusline())
    if argv[:1] in (["history"], ["archive"]):
        from model_strategy.commands.usage import history

        words = [w for a in argv[1:] for w in (a.split() if slash else [a])]
        return history.main(words, slash) if argv[0] == "history" else history.archive_main(words, slash)
    if argv[:1] in (["routing"], ["feedback"]):
        from model_strategy.commands.usage import routing

        words = [w for a in argv[1:] for w in (a.split() if slash else [a])]
        return routing.main(words, slash) if argv[0] == "routing" else routing.feedback_main(words, slash)
    if argv[:1] == ["doctor"] or argv[:2] == ["export", "records"]:
        from model_strategy.commands.usage.ledger_cli import UsageError, doctor, export_records

        try:
            if argv[0] == "doctor":
                return doctor(argv[1:])
            return export_records(argv[2:])
        except UsageError as exc:
            return fail(exc, slash, 2)
    if argv[:1] == ["install-statusline"]:
        from .budget_cli import install_statusline_main

        return install_statusline_main(argv[1:], slash=slash)
    if argv[:1] == ["uninstall-statusline"]:
        from .budget_cli import uninstall_statusline_main

        return uninstall_statusline_main(argv[1:], slash=slash)
    try:
        args = _parser().parse_args(_split(argv))
        if args.command in ("install-shortcut", "uninstall-shortcut"):
            from . import shortcut

            done = shortcut.install(args.project, args.force) if args.command == "install-shortcut" \
                else shortcut.uninstall(args.project)
            print(done)
            return 0
        if args.command == "export":
            done = export(args)
            print(done, file=sys.stderr if args.file == "-" else sys.stdout)
            return 0
        if args.command == "status":
            from model_strategy.commands.usage import status

            return status.main(as_json=args.json)
        if args.width is None:
            from model_strategy.commands.render.render import default_width

            args.width = default_width()
        if args.width < 40:
            raise BadInput(f"--width must be at least 40 (got {args.width})")
        for path in (getattr(args, "html", None), getattr(args, "svg", None)):
            if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
                raise BadInput(f"cannot write {path}: its folder does not exist")
        name, data, warnings = build(args)
    except (BadInput, CatalogError, OSError) as exc:  # one line, never a traceback in the user's prompt
        return fail(exc, slash)
    if args.json:
        import json

        print(json.dumps(_jsonable({**data, "warnings": warnings}), indent=1, ensure_ascii=False))
    else:
        render(name, data, warnings, args.width, getattr(args, "html", None), getattr(args, "svg", None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
