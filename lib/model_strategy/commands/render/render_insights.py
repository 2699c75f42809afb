"""Rich rendering of the usage reports: dashboard, efficiency, roi, recommendations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from model_strategy.commands.base.words import last_days, plural

from .render import Bar, bullets, header, notes, num, pct, table, tok, usd, usd_small

FLAG = "!"


def _cost(cost: Decimal, unpriced: int, requests: int | None = None) -> str:
    """A cost that says when requests are not in it: never an unpriced model as $0."""
    if unpriced and (requests is None or unpriced >= requests) and not cost:
        return "unpriced"
    return usd(cost) + (" +?" if unpriced else "")


def _secs(value: Decimal | float | None) -> str:
    if value is None:
        return "n/a"
    s = float(value)
    return f"{s:.0f}s" if s < 120 else f"{s / 60:.1f}m"


def _share_table(title: str, first: str, rows: list[dict[str, Any]], key: str, records: str, limit: int = 10,
                 requests: bool = True) -> RenderableType:
    t = table(title)
    t.add_column(first, ratio=3, overflow="fold")
    t.add_column(records, justify="right")
    if requests:
        t.add_column("Requests", justify="right")
    t.add_column("Cost", justify="right", no_wrap=True)
    t.add_column("Share", justify="right")
    t.add_column("", ratio=2)
    for row in rows[:limit]:
        share = row["share"]
        cells: list[RenderableType] = [str(row[key]), num(row["records"])]
        if requests:
            cells.append(num(row["requests"]))
        cells += [_cost(row["cost"], row["unpriced_requests"], row["requests"]), pct(share),
                  Bar(share or 0, 1, 24)]
        t.add_row(*cells)
    if len(rows) > limit:
        rest = rows[limit:]
        t.add_row(f"(+{len(rest)} more)", num(sum(r["records"] for r in rest)),
                  *([num(sum(r["requests"] for r in rest))] if requests else []),
                  usd(sum((r["cost"] for r in rest), Decimal(0))), "", "")
    return t


def dashboard_parts(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    w = r["window"]
    t = r["totals"]
    parts: list[RenderableType] = [header(r), Text("")]
    if not t["records"]:
        parts.append(Text(f"No usage records in {last_days(w['days'])}. They appear after Claude Code runs "
                          "with the model-strategy hooks active."))
        return [*parts, Text(""), notes(r, warnings)]
    tr = r["trend"]
    change = (f"{'+' if tr['change'] >= 0 else ''}{pct(tr['change_pct'])}" if tr["change_pct"] is not None
              else "no spend before")
    last, previous = ("Today", "The day before") if w["days"] == 1 else (f"Last {w['days']:,} days",
                                                                         f"Previous {w['days']:,} days")
    head = Text(f"{last}: {usd(t['cost'])} over {plural(t['records'], 'record')} and "
                f"{plural(t['requests'], 'request')} ({tok(sum(t['tokens'].values()))} tokens); cache hit rate "
                f"{pct(t['cache_hit_rate'])}. {previous}: {usd(tr['previous'])} ({change}).", style="bold")
    parts.append(head)
    up = r["unpriced"]
    if up["requests"]:
        parts.append(Text(f"Unpriced: {plural(up['requests'], 'request')} on "
                          f"{', '.join(m['model'] for m in up['models'])} {'has' if up['requests'] == 1 else 'have'}"
                          " no known price; they are not in any $ figure (marked +? or 'unpriced')."))
    d = table("Spend per day (UTC)")
    d.add_column("Day", no_wrap=True)
    d.add_column("Records", justify="right")
    d.add_column("Cost", justify="right", no_wrap=True)
    d.add_column("", ratio=1)
    top = max((x["cost"] for x in r["by_day"]), default=Decimal(0))
    for x in r["by_day"]:
        flag = f" {FLAG}" if x["flagged"] else ""
        d.add_row(x["day"], num(x["records"]), usd(x["cost"]), Bar(x["cost"], top, 50, flag))
    flagged = tr["flagged"]
    trend = (f"Median day {usd(tr['median_day'])}; {FLAG} = at least {tr['spike_factor']}x the median"
             + (f" ({', '.join(flagged)})." if flagged else " (no day)."))
    parts += [Text(""), d, Text(trend)]
    parts += [Text(""), _share_table("By model", "Model", r["by_model"], "model", "Records")]
    parts += [Text(""), _share_table("By agent type", "Agent type", r["by_agent_type"], "agent_type", "Runs")]
    parts += [Text(""), _share_table("By project", "Project", r["by_project"], "project", "Records", 5, False)]
    s = table(f"Top sessions ({r['sessions']:,} in all)")
    for col, kw in (("Session", {"ratio": 3}), ("Project", {"ratio": 3}), ("Records", {"justify": "right"}),
                    ("Cost", {"justify": "right"}), ("Share", {"justify": "right"}),
                    ("First (UTC)", {"no_wrap": True})):
        s.add_column(col, overflow="fold", **kw)
    for x in r["by_session"][:5]:
        s.add_row(x["session_id"], x["project"], num(x["records"]), usd(x["cost"]), pct(x["share"]),
                  x["first"][:16].replace("T", " "))
    parts += [Text(""), s, Text(""), _top(r["top_agents"]), Text(""), _routing(r), Text(""), _mismatches(r)]
    if up["models"]:
        u = table("Unpriced usage (counted, never costed)")
        u.add_column("Model", ratio=3, overflow="fold")
        u.add_column("Requests", justify="right")
        u.add_column("Records", justify="right")
        u.add_column("Tokens", justify="right")
        for m in up["models"]:
            u.add_row(m["model"], num(m["requests"]), num(m["records"]), tok(m["tokens"]))
        parts += [Text(""), u]
    return [*parts, Text(""), notes(r, warnings)]


def _top(rows: list[dict[str, Any]]) -> RenderableType:
    t = table("Most expensive agents", empty="no subagent runs in the window.")
    for col, kw in (("When (UTC)", {}), ("Agent type", {"ratio": 3}), ("Model", {"ratio": 3}),
                    ("Tokens", {"justify": "right"}), ("Time", {"justify": "right"}), ("Outcome", {}),
                    ("Cost", {"justify": "right"})):
        t.add_column(col, overflow="fold", **kw)
    for x in rows:
        dur = x["duration_ms"]
        t.add_row(x["ts"][:16].replace("T", " "), x["agent_type"], x["model"] or "?", tok(x["tokens"]),
                  _secs(dur / 1000 if dur is not None else None), x["outcome"], usd_small(x["cost"]))
    return t


def _duration(hours: Decimal) -> str:
    """``1.6 h``, ``25 min``, ``under a minute``: a break-even time that never reads ``0.0 h``."""
    minutes = Decimal(hours) * 60
    if minutes < 1:
        return "under a minute"
    return f"{minutes:.0f} min" if minutes < 60 else f"{Decimal(hours):.1f} h"


def _routing(r: dict[str, Any]) -> RenderableType:
    rt = r.get("routing")
    if not rt:
        return Text("")
    line = Text("Routing savings", style="bold")
    dec = ", ".join(f"{k} {v:,}" for k, v in rt["decisions"].items()) or "none recorded"
    items = [
        f"subagents cost {usd(rt['subagent_cost'])} as routed",
        f"as requested by their callers: {usd(rt['on_requested'])}, routing saved {usd(rt['saved_vs_requested'])}",
        f"all on the main thread's model {rt['main_model']} ({rt['main_model_how']}): {usd(rt['on_main_model'])}, "
        f"routing saved {usd(rt['saved_vs_main'])} "
        f"({pct(rt['saved_vs_main'] / rt['on_main_model'] if rt['on_main_model'] else None)})",
        f"routing decisions by source: {dec}",
    ]
    if rt["unpriced_requests_excluded"]:
        items.append(f"{rt['unpriced_requests_excluded']:,} unpriced requests left out (their cost is unknown)")
    return Group(line, bullets(items))


def _mismatches(r: dict[str, Any]) -> RenderableType:
    mm = r["mismatches"]
    if not mm["records"]:
        return Text("Requested vs actual model: every run used the model chosen for it.")
    t = table("Requested vs actual model")
    t.add_column("Chosen", ratio=2, overflow="fold")
    t.add_column("Ran on", ratio=3, overflow="fold")
    t.add_column("Runs", justify="right")
    t.add_column("Cost", justify="right")
    for p in mm["pairs"][:8]:
        t.add_row(p["chosen"], p["actual"], num(p["records"]), _cost(p["cost"], p["unpriced_requests"], 1))
    return Group(t, Text(f"{plural(mm['records'], 'run')} ran on another model than the one chosen for them "
                         f"({_cost(mm['cost'], mm['unpriced_requests'])})."))


def dashboard(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    return dashboard_parts(r, warnings)


def save(parts: list[RenderableType], width: int, html: str | None, svg: str | None, title: str) -> None:
    """Write the same view as HTML and/or SVG (rich's recorded console export)."""
    import io

    from .render import console

    con = console(width, record=True, file=io.StringIO(), color_system="truecolor")
    for part in parts:
        con.print(part)
    if html:
        con.save_html(html, clear=False)
    if svg:
        con.save_svg(svg, title=title, clear=False)


def efficiency(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    parts: list[RenderableType] = [header(r), Text("")]
    if not r["agents"]:
        parts.append(Text(f"No subagent runs in {last_days(r['window']['days'])}."))
        return [*parts, Text(""), notes(r, warnings)]
    t = table("Per agent type")
    for col, kw in (("Agent type", {"ratio": 3}), ("Runs", {"justify": "right"}), ("Done", {"justify": "right"}),
                    ("Avg tok", {"justify": "right"}), ("Avg $", {"justify": "right"}),
                    ("Avg time", {"justify": "right"}), ("$/done", {"justify": "right"}),
                    ("Cache", {"justify": "right"}), ("Model", {"ratio": 2}), ("Score", {"justify": "right"})):
        t.add_column(col, overflow="fold", **kw)
    for a in r["agents"]:
        t.add_row(a["agent_type"], num(a["runs"]), pct(a["completion_rate"]), tok(a["avg_tokens"]),
                  usd_small(a["avg_cost"]) + (" +?" if a["unpriced_requests"] else ""),
                  _secs(a["avg_duration_s"]), usd_small(a["cost_per_completed"]), pct(a["cache_hit_rate"]),
                  a["model_label"] or "?", "n/a" if a["score"] is None else str(a["score"]))
    parts += [t, Text("Done: completed runs / runs with a known outcome. $/done: cost per completed run.")]
    ops = [(a["agent_type"], o["text"]) for a in r["agents"] for o in a["opportunities"]]
    parts += [Text(""), Text("Opportunities", style="bold")]
    parts.append(bullets(f"{text}" for _, text in ops) if ops else Text(r["none_found"]))
    return [*parts, Text(""), notes(r, warnings)]


def roi(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    t = r["totals"]
    a = r["assumptions"]
    parts: list[RenderableType] = [header(r), Text("")]
    if not r["from_records"]:
        parts += [Text(f"No usage records in {last_days(r['window']['days'])}: nothing to weigh yet."), Text(""),
                  Text("Assumptions", style="bold"), bullets(a["lines"])]
        return [*parts, Text(""), notes(r, warnings)]
    roi_pct = "n/a" if t["roi_pct"] is None else f"{t['roi_pct']:,.0f}%"
    parts.append(Text(f"Cost {usd(t['cost'])} → labour saved {usd(t['labour_saved'])} ({num(t['hours_saved'])} h at "
                      f"{usd(a['hourly_rate'])}/h): net {usd(t['net'])}, ROI {roi_pct}.", style="bold"))
    be = []
    if t["break_even_hours"] is not None:
        runs = ""
        if t["break_even_runs"] is not None:
            n, each = t["break_even_runs"], num(t["avg_minutes_per_completed_run"])
            runs = (f" = {n:,} completed runs at {each} min each" if n > 1
                    else f", less than one completed run ({each} min)")
        be.append(f"{_duration(t['break_even_hours'])} of saved time{runs}")
    if t["break_even_hourly_rate"] is not None:
        be.append(f"an hourly rate of {usd(t['break_even_hourly_rate'])}")
    if be:
        parts.append(Text("Break-even: " + "; or ".join(be) + "."))
    parts.append(Text(f"Cost: subagents {usd(t['subagent_cost'])}, main thread {usd(t['main_thread_cost'])}"
                      + (f"; {t['unpriced_requests']:,} unpriced requests not in it" if t["unpriced_requests"]
                         else "") + "."))
    g = table("Per agent type", empty="no subagent runs in the window (the main thread saves no time here).")
    for col, kw in (("Agent type", {"ratio": 3}), ("Runs", {"justify": "right"}),
                    ("Completed", {"justify": "right"}), ("Min/run", {"justify": "right"}),
                    ("Hours saved", {"justify": "right"}), ("Labour saved", {"justify": "right"}),
                    ("Cost", {"justify": "right"})):
        g.add_column(col, overflow="fold", **kw)
    for x in r["agents"]:
        key = "" if x["minutes_key"] == x["agent_type"] else f" ({x['minutes_key']})"
        g.add_row(x["agent_type"], num(x["runs"]), num(x["completed"]), f"{num(x['minutes_per_run'])}{key}",
                  f"{x['hours_saved']:.1f}", usd(x["labour_saved"]), usd(x["cost"]))
    parts += [Text(""), g, Text(""), Text("Assumptions", style="bold"), bullets(a["lines"])]
    return [*parts, Text(""), notes(r, warnings)]


def recommendations(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    parts: list[RenderableType] = [header(r), Text("")]
    items = r["items"]
    if not items:
        parts.append(Text("No change recommended: routing matches the work's complexity, runs complete, and "
                          "spend is within budget."))
        return [*parts, Text(""), notes(r, warnings)]
    if r["total_monthly_saving_usd"]:
        parts.append(Text(f"Routing changes below save {usd(r['total_saving_usd'])} over the window, about "
                          f"{usd(r['total_monthly_saving_usd'])} a month.", style="bold"))
    grid = bullets([])
    grid.columns[0].no_wrap = True
    for i, item in enumerate(items, 1):
        grid.add_row(f"{i}.", Text(item["text"]))
        grid.add_row("", Text("→ " + item["change"]))
    parts.append(grid)
    return [*parts, Text(""), notes(r, warnings)]
