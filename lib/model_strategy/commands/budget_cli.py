"""``model-strategy budget``: status, ``budget set …``, and the fast ``statusline`` entry.

Imports stay light at module level (the statusline runs as often as a hook); rich and pydantic
are imported only by the commands that render or validate.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal, InvalidOperation

from ..runtime import budget, config, paths
from ..runtime.ledger import Ledger, utcnow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

USAGE = """usage: model-strategy budget [--json] [--width N]
       model-strategy budget set daily|weekly|monthly AMOUNT|none
       model-strategy budget set policy info|warning|critical|exceeded warn|downgrade|haiku_only|deny
       model-strategy budget set threshold info|warning|critical|exceeded PERCENT
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
            "active_share": float(round(r["active_share"], 3)),
        })
    b = cfg["budgets"]
    return {"generated": utcnow().isoformat(timespec="seconds"), "timezone": b["timezone"],
            "week_start": b["week_start"], "thresholds": b["thresholds"], "policy": b["policy"],
            "periods": out_rows, "warnings": warnings + archive.warnings,
            "method": budget.FORECAST_METHOD}


def render(data: dict[str, Any], width: int = 100) -> str:
    import io

    from rich.console import Console
    from rich.table import Table

    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=False, color_system=None)
    from rich import box

    table = Table(title=f"Budgets ({data['timezone']} time, weeks start {data['week_start']})", expand=False,
                  box=box.SIMPLE_HEAD)
    for col, justify in [("Period", "left"), ("Spent", "right"), ("Budget", "right"), ("Used", "right"),
                         ("Level", "left"), ("Forecast", "right"), ("Runs out", "left"), ("Policy", "left")]:
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in data["periods"]:
        pct = "—" if r["percent"] is None else f"{r['percent']:.0f}%"
        if r["level"] == "exceeded":
            out = "spent"
        else:
            out = r["runs_out_at"][5:16].replace("T", " ") + "Z" if r["runs_out_at"] else "—"
        label = r["key"].replace("week-of-", "")
        table.add_row(f"{r['period']} {label}", _money(Decimal(r["spent_usd"])),
                      _money(None if r["budget_usd"] is None else Decimal(r["budget_usd"])), pct, r["level"],
                      _money(Decimal(r["forecast_usd"])), out, r["policy"])
    console.print(table)
    pol = data["policy"]
    th = data["thresholds"]
    console.print("Policy: " + ", ".join(f"{k} ≥{th[k]}% → {pol[k]}" for k in ("info", "warning", "critical",
                                                                              "exceeded")))
    console.print(f"Forecast: {data['method']}")
    for w in data["warnings"]:
        console.print(f"warning: {w}")
    return console.export_text()


def _set(args: list[str]) -> str:
    if len(args) < 2:
        raise ValueError("budget set needs a setting and a value")
    what, rest = args[0].lower(), args[1:]
    if what in _PERIOD_KEYS:
        raw = rest[0]
        if raw.lower() in ("none", "off", "0"):
            value: Any = None
        else:
            try:
                amount = Decimal(raw.lstrip("$"))
            except InvalidOperation:
                raise ValueError(f"budget amount must be a number of dollars, got {raw!r}") from None
            if amount <= 0:
                raise ValueError("budget amount must be positive (use 'none' to switch it off)")
            value = str(amount)
        update: dict[str, Any] = {_PERIOD_KEYS[what]: value}
    elif what in ("policy", "threshold") and len(rest) == 2:
        key = "policy" if what == "policy" else "thresholds"
        try:
            value = rest[1] if what == "policy" else int(rest[1].rstrip("%"))
        except ValueError:
            raise ValueError(f"threshold must be a whole percent, got {rest[1]!r}") from None
        update = {key: {rest[0]: value}}
    elif what == "timezone":
        update = {"timezone": rest[0]}
    elif what in ("week-start", "week_start"):
        update = {"week_start": rest[0].lower()}
    else:
        raise ValueError(f"unknown budget setting {args[0]!r}")
    path = config.write_global({"budgets": update})
    return f"model-strategy: saved {' '.join(args)} in {path}"


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
        print(f"model-strategy: unknown budget argument {unknown[0]!r} (see budget --help)", file=err)
        return 0 if slash else 2
    if argv and argv[0] == "set":
        try:
            print(_set(argv[1:]))
        except (ValueError, IndexError) as exc:
            print(f"model-strategy: {_one_line(exc)}", file=err)
            print(USAGE, file=err)
            return 0 if slash else 2
        return 0
    as_json = "--json" in argv
    width = 100
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
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc).splitlines()[0]


def install_statusline(settings_path: str | None = None) -> str:
    """Point Claude Code's ``statusLine`` at ``hooks/run statusline`` (absolute paths, this data dir)."""
    import json
    import shlex

    from ..runtime import store

    settings_path = settings_path or os.path.join(os.path.expanduser("~"), ".claude", "settings.json")
    data, why = paths.locate()
    data = paths.data_dir()
    command = (f"MODEL_STRATEGY_DATA_DIR={shlex.quote(data)} "
               f"{shlex.quote(os.path.join(paths.plugin_root(), 'hooks', 'run'))} statusline")
    with store.locked(settings_path + ".lock"):
        try:
            settings = store.read_json(settings_path, {}) or {}
        except store.StoreError as exc:
            raise ValueError(f"{exc}; fix it first, nothing was changed") from None
        if not isinstance(settings, dict):
            raise ValueError(f"{settings_path}: expected a JSON object; nothing was changed")
        previous = settings.get("statusLine")
        settings["statusLine"] = {"type": "command", "command": command}
        os.makedirs(os.path.dirname(settings_path), exist_ok=True)
        try:
            mode = os.stat(settings_path).st_mode & 0o777  # keep the user's mode for their own file
        except OSError:
            mode = 0o600
        fd = os.open(settings_path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(settings, fh, indent=2)
            fh.write("\n")
        os.chmod(settings_path + ".tmp", mode)
        os.replace(settings_path + ".tmp", settings_path)
    note = f" (replaced {json.dumps(previous)})" if previous and previous != settings["statusLine"] else ""
    return (f"model-strategy: statusLine set in {settings_path}{note}; it shows from the next session; "
            f"data home {data} ({why})")


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
    """One short line for Claude Code's ``statusLine``: today's spend, budget %, level."""
    import json

    try:
        raw = (stdin or sys.stdin).read()
        cwd = None
        try:
            info = json.loads(raw) if raw.strip() else {}
            cwd = (info.get("workspace") or {}).get("project_dir") or info.get("cwd")
        except ValueError:
            pass
        cfg, _ = config.load(cwd)
        day, week, month = budget.status(Ledger(), cfg)
        parts = [f"${day['spent_usd']:.2f} today"]
        if day["budget_usd"]:
            parts.append(f"{day['percent']:.0f}% of ${day['budget_usd']:.0f}")
        worst = max((day, week, month), key=lambda s: budget.LEVELS.index(s["level"]) if s["level"] != "ok" else -1)
        if worst["level"] != "ok":
            parts.append(f"{worst['period']} {worst['level']} {worst['percent']:.0f}%")
        else:
            parts.append("ok")
        print("model-strategy " + " · ".join(parts))
    except Exception as exc:  # a status line must never show a traceback
        print(f"model-strategy: status unavailable ({type(exc).__name__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
