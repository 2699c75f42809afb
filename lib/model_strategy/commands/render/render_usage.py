"""Rich rendering of the catalog and compare reports (see ``render`` for the helpers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from .render import Bar, bullets, header, notes, table, tok, usd

SHORT_CATEGORY = {"frontier-reasoning": "frontier", "balanced": "balanced", "fast-economy": "economy",
                  "specialised": "special"}


def _mtok(p: dict[str, Any], key: str) -> str:
    v = p.get(key)
    return "-" if v is None else f"{v.normalize():f}"


def _limits(m: dict[str, Any]) -> str:
    out = tok(m["max_output_tokens"]) if m["max_output_tokens"] else "-"
    return f"{tok(m['context_window'])}/{out}"


def _in_out(p: dict[str, Any]) -> str:
    marks = ("*" if p["long_context_from"] else "") + ("p" if p["time_of_day"] else "")
    return f"{_mtok(p, 'input')}/{_mtok(p, 'output')}{marks}"


def _spec_table(title: str, models: list[dict[str, Any]], strengths: int) -> Any:
    t = table(title)
    t.add_column("Model", no_wrap=True)
    t.add_column("Category", no_wrap=True)
    t.add_column("Ctx/out", no_wrap=True)
    t.add_column("Speed", no_wrap=True)
    t.add_column("Q", justify="right")
    t.add_column("$ in/out", justify="right", no_wrap=True)
    t.add_column("Cache", justify="right", no_wrap=True)
    if strengths:
        t.add_column("Strengths", ratio=1)
    vendor = None
    for m in models:
        if strengths and m["vendor"] != vendor:
            if vendor is not None:
                t.add_section()
            vendor = m["vendor"]
        mark = "" if m.get("status", "current") == "current" else "†"
        row = [m["id"] + mark, SHORT_CATEGORY[m["category"]], _limits(m), m["latency"], str(m["quality"]),
               _in_out(m["prices"]), _mtok(m["prices"], "cache_read")]
        t.add_row(*row, *([", ".join(m["strengths"][:strengths])] if strengths else []))
    return t


LEGEND = ("Q: quality class 1-10 (editorial). Prices: USD per million tokens, short prompts; * higher rate "
          "above a prompt size; p peak-hour rate is higher. Categories: frontier reasoning, balanced, fast "
          "economy, specialised.")


def _aliases(models: list[dict[str, Any]]) -> str:
    pairs = [f"{m['alias']} = {m['id']}" for m in models if m.get("alias")]
    return "Claude Code aliases: " + ", ".join(pairs) + "." if pairs else ""


def catalog(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    f = r["filters"]
    title = "Models" + "".join(f" · {k} {v}" for k, v in f.items() if v) + " († previous generation)"
    t = _spec_table(title, r["models"], 3)
    notes_ = [n for n in (m.get("notes") for m in r["models"]) if n]
    extra = [f"{m['id']}: {m['notes']}" for m in r["models"] if m.get("notes")]
    parts: list[RenderableType] = [header(r), Text(""), t, Text(LEGEND), Text(_aliases(r["models"]))]
    if notes_:
        parts += [Text("Model notes", style="bold"), bullets(extra)]
    return [*parts, Text(""), Text(f"Capability data: {r['source']}"), notes(r, warnings)]


def compare(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    t = _spec_table("Side by side", r["models"], 0)
    strengths = bullets(f"{m['id']} ({m['vendor']}): {', '.join(m['strengths'])}" for m in r["models"])
    title = (f"Your last 30 days ({r['window']}) re-priced" if r["from_records"]
             else "A typical month of the default portfolio on each model")
    c = table(title)
    c.add_column("Model", no_wrap=True)
    c.add_column("Cost", justify="right")
    c.add_column("vs actual" if r["from_records"] else "vs cheapest", justify="right")
    c.add_column("")
    costs = [x["cost"] for x in r["repriced"]]
    top = max(costs, default=Decimal(0))
    ref = r.get("actual") if r["from_records"] else min(costs, default=Decimal(0))
    for x in sorted(r["repriced"], key=lambda x: x["cost"]):
        rel = f"{x['cost'] / ref:.2f}x" if ref else "-"
        c.add_row(x["id"], usd(x["cost"]), rel, Bar(x["cost"], top, 40))
    parts: list[RenderableType] = [header(r), Text(""), t, Text(LEGEND), Text(_aliases(r["models"])), Text(""),
                                   Text("Strengths", style="bold"), strengths, Text(""), c]
    if r["from_records"]:
        parts.append(Text(f"Actual recorded cost in the window: {usd(r['actual'])}", style="bold"))
    else:
        parts.append(Text("Portfolio: " + ", ".join(r["portfolio"])))
    return [*parts, Text(""), notes(r, warnings)]
