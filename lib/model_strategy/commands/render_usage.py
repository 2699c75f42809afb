"""Rich rendering of the catalog, compare and dashboard reports (see ``render`` for the helpers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from .render import bar, bullets, header, notes, num, pct, table, tok, usd, usd_small

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
    c.add_column("", no_wrap=True)
    costs = [x["cost"] for x in r["repriced"]]
    top = max(costs, default=Decimal(0))
    ref = r.get("actual") if r["from_records"] else min(costs, default=Decimal(0))
    for x in sorted(r["repriced"], key=lambda x: x["cost"]):
        rel = f"{x['cost'] / ref:.2f}x" if ref else "-"
        c.add_row(x["id"], usd(x["cost"]), rel, bar(x["cost"], top, 40))
    parts: list[RenderableType] = [header(r), Text(""), t, Text(LEGEND), Text(_aliases(r["models"])), Text(""),
                                   Text("Strengths", style="bold"), strengths, Text(""), c]
    if r["from_records"]:
        parts.append(Text(f"Actual recorded cost in the window: {usd(r['actual'])}", style="bold"))
    else:
        parts.append(Text("Portfolio: " + ", ".join(r["portfolio"])))
    return [*parts, Text(""), notes(r, warnings)]


def dashboard(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    w = r["window"]
    parts: list[RenderableType] = [header(r), Text("")]
    if not w["records"]:
        parts.append(Text("No agent records yet. They appear after Claude Code runs subagents with the "
                          "model-strategy hooks active."))
        return [*parts, Text(""), _budgets(r), notes(r, warnings)]
    from .reports import plural, records_phrase

    parts.append(Text(f"Last 30 days: {usd(w['cost'])} over {records_phrase(w)}, {plural(w['requests'], 'request')} "
                      f"({tok(sum(w['tokens'].values()))} tokens, {pct(w['cache_hit_rate'])} of input "
                      f"from cache). Month to date: {usd(r['month_to_date'])}.", style="bold"))
    m = table("Spend by model (last 30 days)")
    for col, kw in (("Model", {"ratio": 3}), ("Agents", {"justify": "right"}),
                    ("Requests", {"justify": "right"}), ("Cost", {"justify": "right"}),
                    ("Share", {"justify": "right"}), ("", {"ratio": 3, "no_wrap": True})):
        m.add_column(col, overflow="fold", **kw)
    for row in r["by_model"]:
        m.add_row(row["model"], num(row["records"]), num(row["requests"]), usd(row["cost"]), pct(row["share"]),
                  bar(row["share"], 1, 24))
    a = table("Spend by agent type (last 30 days)")
    for col, kw in (("Agent type", {"ratio": 3}), ("Use case", {"ratio": 3}), ("Agents", {"justify": "right"}),
                    ("Cost", {"justify": "right"}), ("Per agent", {"justify": "right"})):
        a.add_column(col, overflow="fold", **kw)
    for row in r["by_agent"][:10]:
        a.add_row(row["agent_type"], row["usecase"], num(row["records"]), usd(row["cost"]),
                  usd_small(row["per_agent"]))
    d = table("Spend by day (UTC)")
    d.add_column("Day", no_wrap=True)
    d.add_column("Cost", justify="right")
    d.add_column("", ratio=1, no_wrap=True)
    top = max((x["cost"] for x in r["by_day"]), default=Decimal(0))
    for x in r["by_day"]:
        d.add_row(x["day"], usd(x["cost"]), bar(x["cost"], top, 50))
    h = table("Monthly history (roll-ups)")
    h.add_column("Month")
    h.add_column("Agents", justify="right")
    h.add_column("Cost", justify="right")
    h.add_column("", ratio=1, no_wrap=True)
    htop = max((x["cost"] for x in r["history"]), default=Decimal(0))
    for x in r["history"]:
        h.add_row(x["month"], num(x["records"]), usd(x["cost"]), bar(x["cost"], htop, 50))
    parts += [Text(""), m, Text(""), a, Text(""), d, Text(""), h, Text(""), _recent(r), Text(""), _routing(r),
              _budgets(r), Text(""), notes(r, warnings)]
    return parts


def _recent(r: dict[str, Any]) -> RenderableType:
    t = table("Recent agents")
    for col, kw in (("When (UTC)", {"no_wrap": True}), ("Agent type", {"ratio": 3}), ("Model", {"ratio": 3}),
                    ("Tokens", {"justify": "right"}), ("Cost", {"justify": "right"}), ("Routing", {"ratio": 2})):
        t.add_column(col, overflow="fold", **kw)
    for x in r["recent"]:
        how = f"{x['chosen']} ({x['source']})" if x["chosen"] else ("main thread" if x["kind"] == "main" else "-")
        t.add_row(x["ts"], x["agent_type"] or "?", (x["model"] or "?") + (" !" if x["mismatch"] else ""),
                  tok(x["tokens"]), usd_small(x["cost"]), how)
    return t


def _routing(r: dict[str, Any]) -> RenderableType:
    rt = r.get("routing")
    if not rt:
        return Text("")
    line = Text("Routing decisions: ", style="bold")
    line.append(", ".join(f"{k} {v:,}" for k, v in rt["decisions"].items()) or "none recorded")
    saved = Text(f"Subagents cost {usd(rt['subagent_cost'])}; on {rt['main_model']} ({rt['main_model_how']}) "
                 f"they would have cost {usd(rt['on_main_model'])}: routing saved {usd(rt['saved'])} "
                 f"({pct(rt['saved'] / rt['on_main_model'] if rt['on_main_model'] else None)}).")
    parts: list[RenderableType] = [line, saved]
    if rt["mismatches"]:
        parts.append(Text(f"{rt['mismatches']} agents ran on a different model than chosen (marked !)."))
    return Group(*parts)


def _budgets(r: dict[str, Any]) -> RenderableType:
    rows = r.get("budgets") or []
    if not rows:
        return Text("")
    lines = [f"{b['period']}: {usd(b['spent_usd'])} of {usd(b['budget_usd']) if b['budget_usd'] else 'no limit'}"
             + (f" ({pct(Decimal(b['percent']) / 100)}, {b['level']})" if b["percent"] is not None else "")
             + f", forecast {usd(b['forecast_usd'])}" for b in rows]
    return Group(Text("Budgets", style="bold"), bullets(lines))
