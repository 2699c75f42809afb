"""``model-strategy budget``: status, ``budget set …``, and the fast ``statusline`` entry.

Imports stay light at module level (the statusline runs as often as a hook); rich and pydantic
are imported only by the commands that render or validate.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal

from model_strategy.runtime.base import clock, paths, store
from model_strategy.runtime.books.ledger import Ledger
from model_strategy.runtime.limits import budget, windows
from model_strategy.runtime.settings import config, config_rules

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from model_strategy.runtime.settings.values import Config

USAGE = """usage: model-strategy budget [--json] [--width N]
       model-strategy budget set daily|weekly|monthly AMOUNT|none
       model-strategy budget set policy info|warning|critical|exceeded warn|downgrade|haiku_only|deny
       model-strategy budget set threshold info|warning|critical|exceeded PERCENT
       model-strategy budget set window five_hour|seven_day|spend_limit warn|downgrade|haiku_only|deny PERCENT|none
       model-strategy budget set timezone local|UTC|Area/City
       model-strategy budget set week-start monday..sunday"""

_PERIOD_KEYS = {"daily": "daily_usd", "weekly": "weekly_usd", "monthly": "monthly_usd"}


def _money(v: Decimal | None) -> str:
    return "—" if v is None else f"${v:,.2f}"


def report_data(cwd: str | None = None) -> dict[str, Any]:
    cfg, warnings = config.load(cwd)
    archive = Ledger()
    rows = budget.status(archive, cfg)
    out_rows = []
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


def window_rows(cfg: Config, root: str, now: float | None = None) -> list[dict[str, Any]]:
    """The current (not stale) subscription windows for the table and ``--json``."""
    from datetime import datetime, timezone

    now = clock.epoch() if now is None else now

    def stamp(ts: float | None) -> str | None:
        return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")

    out = []
    # in a slash command, the session's own windows; in a terminal, the windows as last reported
    for w in windows.status(cfg, now, root, os.environ.get("CLAUDE_CODE_SESSION_ID") or None):
        row = {"window": w["window"], "label": w["label"], "percent": w["pct"], "resets_at": stamp(w["resets_at"]),
               "resets_in": windows.until(w["resets_at"], now), "level": w["policy"] or "ok",
               "pace_percent_per_hour": None if w["pace_per_hour"] is None else round(w["pace_per_hour"], 2),
               "fills_at": stamp(w["fills_at"])}
        for k in ("used_usd", "limit_usd", "period"):
            if k in w:
                row[k] = w[k]
        out.append(row)
    return out


def render(data: dict[str, Any], width: int = 100) -> str:
    import io

    from rich import box

    from model_strategy.commands.base.cells import terminal_safe
    from model_strategy.commands.render.render import FitTable
    from model_strategy.commands.render.render import console as make_console

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


def window_table(data: dict[str, Any]) -> Any:
    from rich import box

    from model_strategy.commands.render.render import FitTable
    from model_strategy.runtime.entry.statusline import money

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


def window_policy_line(levels: dict[str, Any]) -> str:
    parts = []
    for name in windows.NAMES:
        th = levels.get(name) or {}
        rules = [f"≥{th[p]}% → {p}" for p in windows.POLICIES if th.get(p)]
        if rules:
            parts.append(f"{windows.LABELS[name]} " + ", ".join(rules))
    return "; ".join(parts) or "none"


def _set(args: list[str]) -> str:
    if len(args) < 2:
        raise ValueError("budget set needs a setting and a value")
    what, rest = args[0].lower(), args[1:]
    if what in _PERIOD_KEYS:
        raw = rest[0]
        if raw.lower() in ("none", "off", "0"):
            value: Any = None
        else:  # the one rule for amounts: finite, > 0, at most a billion, at most 6 decimal places
            value = str(config_rules.parse_amount(raw, f"{what} budget"))
        update: dict[str, Any] = {_PERIOD_KEYS[what]: value}
    elif what in ("policy", "threshold") and len(rest) == 2:
        key = "policy" if what == "policy" else "thresholds"
        try:
            value = rest[1] if what == "policy" else int(rest[1].rstrip("%"))
        except ValueError:
            raise ValueError(f"threshold must be a whole percent, got {rest[1]!r}") from None
        update = {key: {rest[0]: value}}
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


def write_global(update: dict[str, Any]) -> str:
    """Merge ``update`` into the global config file, validated first (with the defaults, by
    ``models.Config``), under its lock, replaced atomically; returns its path."""
    from model_strategy.models import Config

    path = paths.global_config_file()
    with store.locked(path + ".lock"):
        current = store.read_json(path, {}) or {}
        new = config.deep_merge(current, update)
        base = store.read_json(paths.defaults_file(), {}) or {}
        Config.model_validate(config.deep_merge(base, new))
        store.atomic_write_json(path, new, indent=2)
    return path


def main(argv: list[str] | None = None, slash: bool = False) -> int:
    """``slash``: run from a slash command, where Claude Code drops the output of a failing command,
    so errors go to stdout with exit 0 (the model then explains them)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    err = sys.stdout if slash else sys.stderr
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    unknown = [a for a in argv if a not in ("--json", "--width", "set") and not a.isdigit()]
    if argv and argv[0] != "set" and unknown:
        from model_strategy.commands.base.errors import command

        print(f"model-strategy: unknown budget argument {unknown[0]!r} (see {command('budget', '--help')})",
              file=err)
        return 0 if slash else 2
    if argv and argv[0] == "set":
        try:
            print(_set(argv[1:]))
        except (ValueError, IndexError) as exc:
            detail = _one_line(exc) if isinstance(exc, ValueError) else "budget set needs a value"
            print(f"model-strategy: {detail}", file=err)  # one line everywhere (the usage is `budget --help`)
            return 0 if slash else 2
        return 0
    as_json = "--json" in argv
    from model_strategy.commands.render.render import default_width

    width = default_width()
    if "--width" in argv:
        try:
            width = int(argv[argv.index("--width") + 1])
        except (IndexError, ValueError):
            print("model-strategy: --width needs a number", file=err)
            return 0 if slash else 2
    data = report_data(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    if as_json:
        import json

        print(json.dumps(data, indent=2))
    else:
        sys.stdout.write(render(data, width))
    return 0


def _one_line(exc: Exception) -> str:
    if isinstance(exc, OSError):
        from model_strategy.commands.base.errors import os_problem

        return os_problem(exc)
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc).splitlines()[0]


def install_statusline(settings_path: str | None = None) -> str:
    """Point Claude Code's ``statusLine`` at ``hooks/run statusline``, keeping the user's own status
    line (it runs first); see ``statusline_install``."""
    from .statusline_install import install

    return install(settings_path)


def uninstall_statusline(settings_path: str | None = None) -> str:
    from .statusline_install import uninstall

    return uninstall(settings_path)


def install_statusline_main(argv: list[str], slash: bool = False) -> int:
    settings = None
    err = sys.stdout if slash else sys.stderr
    if argv[:1] == ["--settings"] and len(argv) == 2:
        settings = argv[1]
    elif argv:
        print("usage: model-strategy install-statusline [--settings FILE]", file=err)
        return 0 if slash else 2
    try:
        print(install_statusline(settings))
    except (ValueError, OSError) as exc:
        print(f"model-strategy: {_one_line(exc)}", file=err)
        return 0 if slash else 1
    return 0


def statusline(stdin: Any = None) -> int:
    """Claude Code's ``statusLine`` (see ``runtime/entry/statusline.py``)."""
    from model_strategy.runtime.entry.statusline import main as run

    return run(stdin)


def uninstall_statusline_main(argv: list[str], slash: bool = False) -> int:
    err = sys.stdout if slash else sys.stderr
    if argv:
        print("usage: model-strategy uninstall-statusline", file=err)
        return 0 if slash else 2
    try:
        print(uninstall_statusline())
    except (ValueError, OSError) as exc:
        print(f"model-strategy: {_one_line(exc)}", file=err)
        return 0 if slash else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
