"""Rich rendering of ``model-strategy budget``: the periods, the subscription windows, the policy."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from rich import box

from model_strategy.commands.base.cells import terminal_safe
from model_strategy.runtime.entry.statusline import money
from model_strategy.runtime.limits import windows

from .render import FitTable
from .render import console as make_console

if TYPE_CHECKING:
    from model_strategy.runtime.settings.values import Policy, Thresholds, Windows


class PeriodRow(TypedDict):
    """A budget period (``budget --json``'s ``periods``): amounts as Decimal strings."""
    period: str
    key: str
    spent_usd: str
    budget_usd: str | None
    percent: float | None
    level: str
    forecast_usd: str
    runs_out_at: str | None
    policy: str
    records: int
    burn_per_active_hour_usd: str
    active_share: float
    unpriced_requests: int


class WindowRow(TypedDict):
    """A subscription window as Claude Code last reported it (``budget --json``'s ``windows``)."""
    window: str
    label: str
    percent: float
    resets_at: str | None
    resets_in: str
    level: str
    pace_percent_per_hour: float | None
    fills_at: str | None
    used_usd: NotRequired[float]
    limit_usd: NotRequired[float]
    period: NotRequired[str]


class BudgetStatus(TypedDict):
    """``model-strategy budget``: what it shows (and prints with ``--json``)."""
    generated: str
    timezone: str
    week_start: str
    thresholds: Thresholds
    policy: Policy
    periods: list[PeriodRow]
    windows: list[WindowRow]
    window_levels: Windows
    warnings: list[str]
    method: str
    window_method: str


def _money(v: Decimal | None) -> str:
    return "—" if v is None else f"${v:,.2f}"


def text(data: BudgetStatus, width: int = 100) -> str:
    """The budgets' table, the subscription windows' table, the policy and the forecast method."""
    console = make_console(width, record=True, file=io.StringIO())
    # a FitTable narrows columns without splitting a word, so the table (and its rule) fits the width
    table = FitTable(title=f"Budgets ({data['timezone']} time, weeks start {data['week_start']})", expand=False,
                     box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col, justify in [("Period", "left"), ("Spent", "right"), ("Budget", "right"), ("Used", "right"),
                         ("Level", "left"), ("Forecast", "right"), ("Runs out", "left"), ("Policy", "left")]:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in data["periods"]:
        pct = "—" if r["percent"] is None else f"{r['percent']:.0f}%"
        if r["level"] == "exceeded":
            out = "spent"
        else:
            out = r["runs_out_at"][5:16].replace("T", " ") + "Z" if r["runs_out_at"] else "—"
        label = r["key"].replace("week-of-", "")
        spent = _money(Decimal(r["spent_usd"]))
        if r.get("unpriced_requests"):  # requests on models without a price: counted, never costed
            spent += f" + {r['unpriced_requests']} unpriced"
        table.add_row(f"{r['period']} {label}", spent,
                      _money(None if r["budget_usd"] is None else Decimal(r["budget_usd"])), pct, r["level"],
                      _money(Decimal(r["forecast_usd"])), out, r["policy"])
    console.print(table)
    if data.get("windows"):
        console.print(window_table(data))
    pol = data["policy"]
    th = data["thresholds"]
    console.print("Policy: " + ", ".join(f"{k} ≥{th[k]}% → {pol[k]}" for k in ("info", "warning", "critical",
                                                                              "exceeded")))
    console.print(f"Forecast: {data['method']}")
    if data.get("windows"):
        console.print("Window policy: " + window_policy_line(data["window_levels"]))
    for w in data["warnings"]:
        console.print(f"warning: {w}")
    return terminal_safe("\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n")


def window_table(data: BudgetStatus) -> FitTable:
    table = FitTable(title="Subscription windows (from Claude Code's status line)", expand=False,
                     box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col, justify in [("Window", "left"), ("Used", "right"), ("Resets in", "right"),
                         ("Fills at this pace", "left"), ("Level", "left")]:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for w in data["windows"]:
        used = f"{w['percent']:.0f}%"
        if "used_usd" in w and "limit_usd" in w:
            used += f" ({money(w['used_usd'])} of {money(w['limit_usd'])})"
        if w["percent"] >= 100:
            fills = "full"
        elif w["fills_at"]:
            fills = w["fills_at"][5:16].replace("T", " ") + "Z"
        else:
            fills = "not before reset" if w["pace_percent_per_hour"] else "— (no growth seen)"
        table.add_row(w["label"], used, w["resets_in"], fills, w["level"])
    return table


def window_policy_line(levels: Windows) -> str:
    parts = []
    for name in windows.NAMES:
        th = cast("dict[str, int | None]", levels.get(name) or {})
        rules = [f"≥{th[p]}% → {p}" for p in windows.POLICIES if th.get(p)]
        if rules:
            parts.append(f"{windows.LABELS[name]} " + ", ".join(rules))
    return "; ".join(parts) or "none"
