"""Cells of the CSV exports (``export records``, ``export costs``): data, never a formula.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or a
carriage return) as a formula, so a name from the data -- an agent type, a project, a model, an id --
such as ``=HYPERLINK("http://x","y")`` would run when the export is opened.  As OWASP's guidance on CSV
injection recommends, such a text cell is written with a leading single quote (``'=HYPERLINK(…)``).
Numbers stay numbers: ints, Decimals and floats are left alone, and so is text that is exactly a
plain number (``-2``, ``-0.5``), which a spreadsheet reads as that number.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")


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
