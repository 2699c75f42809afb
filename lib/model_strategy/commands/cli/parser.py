"""The one parser tree of ``model-strategy``: every command and subcommand, its options, its help and
the function that runs it (``args.run``).  ``model-strategy --help`` and ``model-strategy <command>
--help`` come from here; ``cli.main`` parses, then calls ``args.run(args)``.

Imports stay light (``argparse`` only): a command's module is imported when it runs (the ``statusline``
entry prints its line without loading the report modules, rich or pydantic).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from model_strategy.commands.base.errors import BadInput, command

PROG = "model-strategy"
#: commands whose words arrive as one quoted ``"$ARGUMENTS"`` word: split into words before parsing
SPLIT_WORDS = ("report", "compare", "cost", "fallback", "catalog", "dashboard", "efficiency", "roi",
               "recommendations", "export", "budget")
Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """Bad input is ``BadInput`` (one line, exit 2; ``cli.main`` reports it), never argparse's usage
    and exit.  ``unknown``: the message for a word a command does not take (``budget bogus``)."""

    def __init__(self, *args: Any, unknown: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unknown = unknown

    def error(self, message: str) -> NoReturn:
        raise BadInput(message)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if self.unknown and isinstance(action, argparse._SubParsersAction) and value not in (action.choices or ()):
            self.unrecognized([value])
        super()._check_value(action, value)

    def unrecognized(self, words: list[str]) -> NoReturn:
        if self.unknown:
            raise BadInput(self.unknown.format(word=words[0], help=command(self.prog.split()[-1], "--help")))
        self.error(f"unrecognized arguments: {' '.join(words)}")


def split_words(argv: list[str], slash: bool) -> list[str]:
    """Slash commands pass ``"$ARGUMENTS"`` as one quoted word: the words of text commands (and, in a
    slash command, of history, archive, routing and feedback) are split on white space."""
    if not argv or argv[:2] == ["export", "records"]:
        return argv
    if argv[0] in SPLIT_WORDS or (slash and argv[0] in ("history", "archive", "routing", "feedback")):
        return [argv[0], *(w for a in argv[1:] for w in a.split())]
    return argv


# ------------------------------------------------------------------ handlers (the command's module on demand)


def _report(args: argparse.Namespace) -> int:
    from . import reports_cli

    return reports_cli.run(args)


def _export(args: argparse.Namespace) -> int:
    from . import reports_cli

    return reports_cli.export(args)


def _export_records(args: argparse.Namespace) -> int:
    from . import usage_cli

    return usage_cli.export_records(args)


def _doctor(args: argparse.Namespace) -> int:
    from . import usage_cli

    return usage_cli.doctor(args)


def _status(args: argparse.Namespace) -> int:
    from . import usage_cli

    return usage_cli.status(args)


def _routing(args: argparse.Namespace) -> int:
    from . import usage_cli

    return usage_cli.routing(args)


def _feedback(args: argparse.Namespace) -> int:
    from . import usage_cli

    return usage_cli.feedback(args)


def _history(args: argparse.Namespace) -> int:
    from . import history_cli

    return history_cli.run(args)


def _archive(args: argparse.Namespace) -> int:
    from . import history_cli

    return history_cli.archive(args)


def _budget(args: argparse.Namespace) -> int:
    from . import budget_cli

    return budget_cli.status(args)


def _budget_set(args: argparse.Namespace) -> int:
    from . import budget_cli

    return budget_cli.set_(args)


def _statusline(args: argparse.Namespace) -> int:
    from model_strategy.runtime.entry.statusline import main as statusline

    return int(statusline())


def _install_statusline(args: argparse.Namespace) -> int:
    from . import statusline_install

    return statusline_install.install_command(args)


def _uninstall_statusline(args: argparse.Namespace) -> int:
    from . import statusline_install

    return statusline_install.uninstall_command(args)


def _install_shortcut(args: argparse.Namespace) -> int:
    from . import shortcut

    return shortcut.install_command(args)


def _uninstall_shortcut(args: argparse.Namespace) -> int:
    from . import shortcut

    return shortcut.uninstall_command(args)


# ------------------------------------------------------------------ the tree


def tree() -> Parser:
    """Every command line ``model-strategy`` takes."""
    top = Parser(prog=PROG, description="Model strategy for Claude Code work.",
                 epilog="Exit codes: 0 ok, 1 internal problem, 2 bad input (one line on stderr).  "
                        "`model-strategy COMMAND --help` for a command's options.")
    top.add_argument("--plugin-data", metavar="DIR", help="the plugin's data dir (slash commands pass "
                     "${CLAUDE_PLUGIN_DATA}; problems then print on stdout with exit 0)")
    sub = top.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")

    def leaf(into: Any, name: str, run: Handler, help_: str, **kw: Any) -> Parser:
        p: Parser = into.add_parser(name, help=help_, description=kw.pop("description", help_), **kw)
        p.set_defaults(run=run, parser=p)
        return p

    def report(name: str, help_: str, words: str | None) -> Parser:
        p = leaf(sub, name, _report, help_)
        if words:
            p.add_argument("words", nargs="*", help=words)
        p.add_argument("--json", action="store_true", help="print the report as JSON")
        p.add_argument("--width", type=int, help="columns (default: the terminal's width; 100 when not a terminal)")
        return p

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
                         "analytics (JSON)", description="export the ledger's records, costs or analytics")
    what = exp.add_subparsers(dest="what", required=True, parser_class=Parser, metavar="WHAT")
    from model_strategy.commands.usage.ledger_cli import EXPORT_COLUMNS  # a tuple; the module imports lightly

    records = leaf(what, "records", _export_records, "one row per record, stable columns (CSV or JSONL)",
                   epilog=f"columns: {', '.join(EXPORT_COLUMNS)}")
    records.add_argument("--format", metavar="csv|jsonl", default="csv")
    records.add_argument("--since", metavar="YYYY-MM-DD", help="records from this UTC day on")
    records.add_argument("--output", metavar="FILE", default="-", help="the file to write (default -: stdout)")
    for name, help_, days in (("costs", "CSV per day, kind, project, agent type and model", "every day"),
                              ("analytics", "dashboard + efficiency + roi + recommendations as JSON", "30")):
        p = leaf(what, name, _export, help_)
        p.add_argument("file", help="output file, - for stdout")
        p.add_argument("--days", type=int, help=f"the last N days (default: {days})")

    inst = leaf(sub, "install-shortcut", _install_shortcut, "write a /model-strategy command into ~/.claude/commands")
    inst.add_argument("--project", help="write into PROJECT/.claude/commands instead (this machine's paths)")
    inst.add_argument("--force", action="store_true", help="replace a model-strategy.md not written by us")
    uninst = leaf(sub, "uninstall-shortcut", _uninstall_shortcut, "remove the shortcut written by install-shortcut")
    uninst.add_argument("--project")

    budget = leaf(sub, "budget", _budget, "budget status and settings (budget set …)",
                  unknown="unknown budget argument {word!r} (see {help})")
    budget.add_argument("--json", action="store_true", help="print the status as JSON")
    budget.add_argument("--width", type=int, help="columns (default: the terminal's width)")
    sets = budget.add_subparsers(dest="budget_command", parser_class=Parser, metavar="set SETTING VALUE",
                                 help="change a setting (`budget set --help` lists them)")
    bset = leaf(sets, "set", _budget_set, "change a budget setting in the global config", epilog=SET_USAGE,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    bset.add_argument("words", nargs=argparse.REMAINDER, metavar="SETTING VALUE", help="see below (a value may "
                      "start with -: it is checked as a value)")

    leaf(sub, "statusline", _statusline, "one-line budget status for the status line",
         description="Prints one line for Claude Code's statusLine (status-line JSON on stdin): today's spend, "
                     "budget percent and level.  Install it with: model-strategy install-statusline [--settings FILE]")
    ist = leaf(sub, "install-statusline", _install_statusline, "point Claude Code's statusLine at this plugin")
    ist.add_argument("--settings", metavar="FILE", help="the settings file (default ~/.claude/settings.json)")
    leaf(sub, "uninstall-statusline", _uninstall_statusline, "put the previous statusLine back")

    routing = leaf(sub, "routing", _routing, "what the learning router learned per bucket, and a replay of the "
                   "policies")
    routing.add_argument("--days", type=int, default=90, help="runs of the last N days (default 90)")
    routing.add_argument("--json", action="store_true")
    routing.add_argument("--width", type=int, default=80)
    fb = leaf(sub, "feedback", _feedback, "mark an agent run good or bad for the learning router")
    fb.add_argument("verdict", choices=("good", "bad"))
    fb.add_argument("agent", nargs="?", default="last", help="an agent id (or its start), or last (default)")

    doc = leaf(sub, "doctor", _doctor, "check (--repair) the ledger and its caches")
    doc.add_argument("--repair", action="store_true", help="rebuild what does not match the ledger")
    doc.add_argument("--json", action="store_true")
    st = leaf(sub, "status", _status, "data home and why, environment, hook health, records, config files")
    st.add_argument("--json", action="store_true", help="print the status as JSON")

    from model_strategy.commands.usage.history_report import GROUPS  # a tuple; the module imports lightly

    hist = leaf(sub, "history", _history, "import Claude Code's transcripts and report usage")
    hist.add_argument("group", nargs="?", default="daily", choices=GROUPS)
    hist.add_argument("--since", help="first UTC day, YYYY-MM-DD")
    hist.add_argument("--until", help="last UTC day, YYYY-MM-DD")
    hist.add_argument("--json", action="store_true")
    hist.add_argument("--claude-dir", action="append", help="Claude Code config dir (repeatable; default "
                      "$CLAUDE_CONFIG_DIR and ~/.claude)")
    hist.add_argument("--no-import", action="store_true", help="report from the ledger only")
    hist.add_argument("--width", type=int)
    arch = leaf(sub, "archive", _archive, "move old daily detail into monthly archives")
    arch.add_argument("--now", action="store_true", help="archive every due month now")
    arch.add_argument("--delete-archived-before", metavar="YYYY-MM",
                      help="delete the archive files of months before this one (their roll-ups stay)")
    arch.add_argument("--json", action="store_true")
    return top


SET_USAGE = """settings:
  budget set daily|weekly|monthly AMOUNT|none
  budget set policy info|warning|critical|exceeded warn|downgrade|haiku_only|deny
  budget set threshold info|warning|critical|exceeded PERCENT
  budget set window five_hour|seven_day|spend_limit warn|downgrade|haiku_only|deny PERCENT|none
  budget set timezone local|UTC|Area/City
  budget set week-start monday..sunday"""
