"""Output as data, never code: the cells of the CSV exports and the text of terminal reports.

CSV (``export records``, ``export costs``):
A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or a
carriage return) as a formula, so a name from the data -- an agent type, a project, a model, an id --
such as ``=HYPERLINK("http://x","y")`` would run when the export is opened.  As OWASP's guidance on CSV
injection recommends, such a text cell is written with a leading single quote (``'=HYPERLINK(…)``).
Numbers stay numbers: ints, Decimals and floats are left alone, and so is text that is exactly a
plain number (``-2``, ``-0.5``), which a spreadsheet reads as that number.

Terminal (``terminal_safe``): every report's text leaves with its control characters shown as U+FFFD.
Rich markup is off on the one console (``render.console``); this covers what markup does not: an ESC or
CSI sequence in a name would otherwise reach the terminal as it is.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` with every control character but newline and tab (ESC, CSI, BEL, a bare CR...) shown as
    U+FFFD: a name from the data cannot move the cursor, clear the screen, set a title or make a
    hyperlink.  The report console never emits one itself (no colour, not a terminal)."""
    return _CONTROL.sub("\ufffd", text)


def cell(value: Any) -> Any:
    """``value`` as a safe CSV cell: text starting with a formula trigger gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value


class Writer:
    """The one CSV writer of the exports: ``\\n`` line ends, every cell through ``cell``, and a row with a
    carriage return in a cell fully quoted (the csv module quotes only the line terminator's characters,
    so a bare ``\\r`` would end the row early in a reader)."""

    def __init__(self, fh: Any) -> None:
        self._plain = csv.writer(fh, lineterminator="\n")
        self._quoted = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, values: Iterable[Any]) -> None:
        row = [cell(v) for v in values]
        cr = any(isinstance(v, str) and "\r" in v for v in row)
        (self._quoted if cr else self._plain).writerow(row)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for values in rows:
            self.writerow(values)


DEFAULT_WIDTH = 100


def default_width(minimum: int = 40) -> int:
    """Columns for a report: the terminal's width when stdout is a terminal (``COLUMNS`` first, as rich
    does), never under ``minimum``; 100 when the output goes to a file, a pipe or a slash command."""
    import shutil
    import sys

    if not sys.stdout.isatty():
        return DEFAULT_WIDTH
    return max(minimum, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
