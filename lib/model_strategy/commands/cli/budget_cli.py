"""``model-strategy budget`` (the budgets' status: the table is ``render/render_budget``) and
``budget set …`` (validated with ``models.Config``, written into the global config).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal
from typing import TypedDict, cast

from model_strategy.commands.base.cells import default_width
from model_strategy.commands.base.errors import BadInput
from model_strategy.runtime.base import clock, paths, store
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.limits import budget, windows
from model_strategy.runtime.settings import config, config_rules

TYPE_CHECKING = False
if TYPE_CHECKING:

    from model_strategy.commands.render.render_budget import BudgetStatus, PeriodRow, WindowRow
    from model_strategy.runtime.settings.values import Config

_PERIOD_KEYS = {"daily": "daily_usd", "weekly": "weekly_usd", "monthly": "monthly_usd"}


class BudgetsUpdate(TypedDict, total=False):
    """What ``budget set`` changes in ``budgets`` (merged into the global config)."""
    daily_usd: str | None
    weekly_usd: str | None
    monthly_usd: str | None
    policy: dict[str, str]
    thresholds: dict[str, int]
    windows: dict[str, dict[str, int | None]]
    timezone: str
    week_start: str


class ConfigUpdate(TypedDict, total=False):
    budgets: BudgetsUpdate


def report_data(cwd: str | None = None) -> BudgetStatus:
    """Every budget period's spend, level and forecast, the subscription windows and the policy."""
    cfg, warnings = config.load(cwd)
    archive = Ledger()
    rows = budget.status(archive, cfg)
    out_rows: list[PeriodRow] = []
    for r in rows:
        out_rows.append({
            "period": r["period"], "key": r["key"], "spent_usd": str(r["spent_usd"].quantize(Decimal("0.0001"))),
            "budget_usd": None if r["budget_usd"] is None else str(r["budget_usd"]),
            "percent": None if r["percent"] is None else float(round(r["percent"], 1)),
            "level": r["level"], "forecast_usd": str(r["forecast_usd"].quantize(Decimal("0.01"))),
            "runs_out_at": r["runs_out_at"], "policy": r["policy"], "records": r["records"],
            "burn_per_active_hour_usd": str(r["burn_per_active_hour_usd"].quantize(Decimal("0.0001"))),
            "active_share": float(round(r["active_share"], 3)), "unpriced_requests": r["unpriced_requests"],
        })
    b = cfg["budgets"]
    return {"generated": clock.now().isoformat(timespec="seconds"), "timezone": b["timezone"],
            "week_start": b["week_start"], "thresholds": b["thresholds"], "policy": b["policy"],
            "periods": out_rows, "windows": window_rows(cfg, archive.root),
            "window_levels": b.get("windows", windows.DEFAULTS), "warnings": warnings + archive.warnings,
            "method": budget.FORECAST_METHOD, "window_method": WINDOW_METHOD}


WINDOW_METHOD = ("subscription windows as Claude Code last reported them in the status line; pace = growth "
                 "since the window's first sample ÷ time since then")


def window_rows(cfg: Config, root: str, now: float | None = None) -> list[WindowRow]:
    """The current (not stale) subscription windows for the table and ``--json``."""
    from datetime import datetime, timezone

    now = clock.epoch() if now is None else now

    def stamp(ts: float | None) -> str | None:
        return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")

    out: list[WindowRow] = []
    # in a slash command, the session's own windows; in a terminal, the windows as last reported
    for w in windows.status(cfg, now, root, os.environ.get("CLAUDE_CODE_SESSION_ID") or None):
        row: WindowRow = {
               "window": w["window"], "label": w["label"], "percent": w["pct"], "resets_at": stamp(w["resets_at"]),
               "resets_in": windows.until(w["resets_at"], now), "level": w["policy"] or "ok",
               "pace_percent_per_hour": None if w["pace_per_hour"] is None else round(w["pace_per_hour"], 2),
               "fills_at": stamp(w["fills_at"])}
        if "used_usd" in w:
            row["used_usd"] = w["used_usd"]
        if "limit_usd" in w:
            row["limit_usd"] = w["limit_usd"]
        if "period" in w:
            row["period"] = w["period"]
        out.append(row)
    return out


def _set(args: list[str]) -> str:
    if len(args) < 2:
        raise ValueError("budget set needs a setting and a value")
    what, rest = args[0].lower(), args[1:]
    if what in _PERIOD_KEYS:
        raw = rest[0]
        # the one rule for amounts: finite, > 0, at most a billion, at most 6 decimal places
        amount = None if raw.lower() in ("none", "off", "0") else str(config_rules.parse_amount(raw, f"{what} budget"))
        update = cast(BudgetsUpdate, {_PERIOD_KEYS[what]: amount})
    elif what == "policy" and len(rest) == 2:
        update = {"policy": {rest[0]: rest[1]}}
    elif what == "threshold" and len(rest) == 2:
        try:
            update = {"thresholds": {rest[0]: int(rest[1].rstrip("%"))}}
        except ValueError:
            raise ValueError(f"threshold must be a whole percent, got {rest[1]!r}") from None
    elif what == "window" and len(rest) == 3:
        if rest[0] not in windows.NAMES or rest[1] not in windows.POLICIES:
            raise ValueError(f"budget set window needs {'|'.join(windows.NAMES)} {'|'.join(windows.POLICIES)} "
                             "PERCENT|none")
        pct = None if rest[2].lower() in ("none", "off") else int(rest[2].rstrip("%"))
        update = {"windows": {rest[0]: {rest[1]: pct}}}
    elif what == "timezone":
        update = {"timezone": rest[0]}
    elif what in ("week-start", "week_start"):
        update = {"week_start": rest[0].lower()}
    else:
        raise ValueError(f"unknown budget setting {args[0]!r}")
    path = write_global({"budgets": update})
    return f"model-strategy: saved {' '.join(args)} in {path}"


def write_global(update: ConfigUpdate) -> str:
    """Merge ``update`` into the global config file, validated first (with the defaults, by
    ``models.Config``), under its lock, replaced atomically; returns its path."""
    from model_strategy.models import Config

    path = paths.global_config_file()
    with store.locked(path + ".lock"):
        current = store.read_json(path, {}) or {}
        new = config.deep_merge(current, dict(update))
        base = store.read_json(paths.defaults_file(), {}) or {}
        Config.model_validate(config.deep_merge(base, new))
        store.atomic_write_json(path, new, indent=2)
    return path


def _one_line(exc: Exception) -> str:
    """A bad setting in one line: pydantic's first error as ``budgets.thresholds: …``."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc).splitlines()[0]


def status(args: argparse.Namespace) -> int:
    """``model-strategy budget [--json] [--width N]``."""
    data = report_data(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    from model_strategy.commands.render import render_budget

    sys.stdout.write(render_budget.text(data, args.width or default_width()))
    return 0


def set_(args: argparse.Namespace) -> int:
    """``model-strategy budget set SETTING VALUE…``: one line, saved or why not (bad input)."""
    try:
        print(_set(args.words))
    except IndexError:
        raise BadInput("budget set needs a value") from None
    except ValueError as exc:  # pydantic's ValidationError is one
        raise BadInput(_one_line(exc)) from None
    return 0
