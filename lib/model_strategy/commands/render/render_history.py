"""Rich rendering of ``model-strategy history``: the usage table and the import's progress bar."""

from __future__ import annotations

import os
import sys

from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

from model_strategy.commands.base.cells import terminal_safe
from model_strategy.commands.usage.history_report import HistoryDoc, Totals

from .render import console, table, tok, usd


class ProgressBar:
    """A rich progress bar on stderr for a long import (``history.Progress``)."""

    def __init__(self, total: int) -> None:
        self.bar = Progress(TextColumn("importing transcripts"), BarColumn(), DownloadColumn(),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.start()
        self.task: TaskID = self.bar.add_task("import", total=total)

    def advance(self, n: int) -> None:
        self.bar.advance(self.task, n)

    def close(self) -> None:
        self.bar.stop()


def progress_bar(total: int) -> ProgressBar | None:
    """A progress bar for an import of ``total`` bytes -- only on a terminal."""
    return ProgressBar(total) if sys.stderr.isatty() else None


def text(doc: HistoryDoc, warnings: list[str], width: int = 100) -> str:
    """The history report as the terminal shows it: the rows in a table that fits ``width`` (exact
    token counts when they fit beside the names, else ``6.9M``), the import's summary, the warnings."""
    group = doc["group"]
    label = {"daily": "Day (UTC)", "weekly": "Week of", "monthly": "Month", "session": "Session",
             "project": "Project", "model": "Model", "agent-type": "Agent type"}[group]
    head = Text()
    head.append(f"Usage history — {group}", style="bold")
    span = f"{doc['since'] or 'first record'} to {doc['until'] or 'today'}"
    head.append(f"\nFrom the ledger (hooks + imported transcripts), {span}; days are UTC.")

    def cells(row: Totals, short: bool = False) -> list[str]:
        cost = usd(row["cost_usd"])
        if row["unpriced_requests"]:
            cost += "*"
        n = tok if short else (lambda v: f"{v:,}")
        return [n(row["input_tokens"]), n(row["output_tokens"]), n(row["cache_write_tokens"]),
                n(row["cache_read_tokens"]), f"{row['requests']:,}", cost]

    names = []
    for row in doc["rows"]:
        name = row["key"]
        if group == "session":
            name = f"{name[:8]} {os.path.basename(str(row.get('project') or '').rstrip('/')) or '-'}"
        names.append(name)
    room = max(len(label), *(min(len(n), 24) for n in names)) if names else len(label)
    for short in (False, True):  # exact token counts when they fit beside the names, else 6.9M
        heads = ("Input", "Output", *(("Cache\nwrite", "Cache\nread") if short else ("Cache write", "Cache read")),
                 "Requests", "Cost")
        body = [[name, *cells(row, short)] for name, row in zip(names, doc["rows"], strict=True)]
        total = ["Total", *cells(doc["totals"], short)]
        widths = [max(*(len(x) for x in h.split("\n")), *(len(r[i + 1]) for r in [*body, total]))
                  for i, h in enumerate(heads)]
        if sum(widths) + 3 * len(heads) + room <= width:
            break
    t = table(None)  # numbers are never cut; a long name is (with an ellipsis)
    t.add_column(label, no_wrap=True, overflow="ellipsis", max_width=max(8, width - sum(widths) - 3 * len(heads)))
    for h, w in zip(heads, widths, strict=True):
        t.add_column(h, justify="right", no_wrap=True, min_width=w)
    for cols in body:
        t.add_row(*cols)
    t.add_section()
    t.add_row(*total, style="bold")
    parts: list[RenderableType] = [head, Text(""), t if doc["rows"] else Text("No usage recorded in this range.")]
    notes = Text()
    if doc["totals"]["unpriced_requests"]:
        notes.append(f"\n* {doc['totals']['unpriced_requests']:,} request(s) on models without a known price are "
                     "counted in tokens and requests but not in cost (add a price in prices.override.json).")
    imp = doc.get("import")
    if imp and not imp["files"]:
        notes.append(f"\nNo Claude Code transcripts found under {', '.join(imp['claude_dirs'])} "
                     "(projects/); use --claude-dir DIR or set CLAUDE_CONFIG_DIR.")
    elif imp:
        notes.append(f"\nImport: {imp['files_read']:,} of {imp['files']:,} transcript files read "
                     f"({imp['bytes_read'] / 1e6:,.1f} MB), {imp['records_added']:,} records with "
                     f"{imp['requests_added']:,} requests added")
        if imp["already_recorded_agents"]:
            notes.append(f"; {imp['already_recorded_agents']:,} agent(s) were recorded by the hooks already")
        if imp["running_agents"]:
            notes.append(f"; {imp['running_agents']:,} agent(s) still running (imported once finished)")
        notes.append(".")
        for line in imp["problems"]:
            notes.append(f"\n! {line}")
    for line in warnings:
        notes.append(f"\n! {line}")
    if notes:
        parts.append(notes)
    c = console(width, record=True)
    with c.capture() as cap:
        c.print(Group(*parts))
    return terminal_safe("\n".join(line.rstrip() for line in cap.get().splitlines()) + "\n")
