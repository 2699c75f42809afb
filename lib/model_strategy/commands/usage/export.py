"""``model-strategy export costs|analytics FILE [--days N]``.

* ``export costs FILE.csv`` -- spend per day, kind, project, agent type and model (one CSV row each,
  from the daily roll-ups): records, requests, unpriced requests, tokens by kind and cost in USD
  (a Decimal string; the priced requests only).  Every ledger day by default, ``--days N`` for the
  last N.  Text cells that a spreadsheet would run as a formula are quoted (``cells.py``).
* ``export analytics FILE.json`` -- the dashboard, efficiency, ROI and recommendations reports of
  the last ``--days`` days (30 by default) in one JSON document.

This module builds the data; ``cli/reports_cli.export`` writes it (``FILE`` ``-``: stdout; a file is
replaced whole).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from model_strategy.commands.base.cells import Writer
from model_strategy.runtime.base import clock
from model_strategy.runtime.base.kinds import RECORD_KINDS

from . import daily, dashboard, efficiency, recommend, roi
from .daily import COST, RECORDS, REQUESTS, TOKENS, UNPRICED
from .insights import Insights

WHAT = ("costs", "analytics")
COST_COLUMNS = ("day", "kind", "project", "agent_type", "model", "records", "requests", "unpriced_requests",
                *RECORD_KINDS, "cost_usd")
SCHEMA = 1


def cost_rows(ins: Insights, all_days: bool) -> list[list[Any]]:
    win = ins.everything() if all_days else ins.window()
    rows: list[list[Any]] = []
    groups: dict[tuple[str, str, str, str, str], list[Any]] = {}
    for day, key, row in win.rows():
        group = (day, key["kind"], key["project"], key["agent_type"], key["model"])
        into = groups.get(group)
        if into is None:
            into = groups[group] = daily.new_row()
        daily.add_row(into, row)
    for group, r in sorted(groups.items()):
        rows.append([*group, r[RECORDS], r[REQUESTS], r[UNPRICED], *r[TOKENS:TOKENS + len(RECORD_KINDS)],
                     f"{r[COST]:f}"])
    return rows


def costs_csv(ins: Insights, all_days: bool) -> tuple[str, int]:
    buf = io.StringIO()
    w = Writer(buf)
    w.writerow(COST_COLUMNS)
    rows = cost_rows(ins, all_days)
    w.writerows(rows)
    return buf.getvalue(), len(rows)


def analytics(ins: Insights, hourly_rate: Decimal | None = None) -> dict[str, Any]:
    """The four usage reports in one document (Decimals as they are: the command writes it as JSON)."""
    return {
        "schema": SCHEMA, "generated": clock.now().isoformat(timespec="seconds"),
        "as_of": ins.day, "days": ins.days, "prices": ins.catalog.price_source,
        "dashboard": dashboard.dashboard_report(ins), "efficiency": efficiency.efficiency_report(ins),
        "roi": roi.roi_report(ins, hourly_rate), "recommendations": recommend.recommendations_report(ins),
        "warnings": ins.warnings,
    }
