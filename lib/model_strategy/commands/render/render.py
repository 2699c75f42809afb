"""Rich rendering of the strategy reports (report, cost, fallback) and the helpers every report renders
with (one console, ``FitTable``, ``Bar``).  Layout follows the terminal's width (100 columns when not a
terminal), never splits a word to fit, and is plain text.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any, Literal

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from model_strategy.commands.base.cells import terminal_safe
from model_strategy.commands.base.errors import command

BLOCKS = " ▏▎▍▌▋▊▉█"


def console(width: int, record: bool = False, file: IO[str] | None = None,
            color_system: Literal["truecolor"] | None = None) -> Console:
    """The one console every report renders on.  Names from the data (agent types, projects, models,
    session ids, use cases) are data, never markup: with ``markup=False`` and ``emoji=False`` a string
    such as ``reviewer[/strict]`` or ``[link=https://evil.example]x`` prints as it is, in a table cell as
    in a line; styles come only from ``Text`` objects built here."""
    return Console(width=width, file=file, force_terminal=False, color_system=color_system, record=record,
                   highlight=False, soft_wrap=False, emoji=False, markup=False)


def usd(x: Decimal | float | None, places: int = 2) -> str:
    if x is None:
        return "n/a"
    d = Decimal(str(x))
    sign = "-" if d < 0 else ""
    return f"{sign}${abs(d):,.{places}f}"


def usd_small(x: Decimal | None) -> str:
    if x is None:
        return "n/a"
    return usd(x, 4) if abs(x) < 1 else usd(x, 2)


def saving_range(low: Decimal, high: Decimal) -> str:
    """A monthly saving range in whole dollars: ``$2–$3``; ``$2`` when both ends round alike; ``under $1``
    when the top of the range is below a dollar (never ``$0–$0``)."""
    lo, hi = (Decimal(x).quantize(Decimal(1)) for x in (low, high))
    if hi < 1:
        return "under $1"
    return usd(hi, 0) if lo == hi else f"{usd(max(lo, Decimal(0)), 0)}–{usd(hi, 0)}"


def per_unit(price: Decimal, count: Decimal | float | int, total: Decimal) -> str:
    """The unit price of a ``count`` x price = ``total`` line, with as many places as it takes for the
    shown count times the shown price to give the shown total (``1,800 x $0.00128 = $2.30``, never
    ``1,800 x $0.0013 = $2.30``).  Where the count is shown rounded, the price is the total's average
    over the shown count."""
    shown_total = usd(total)
    n = Decimal(num(count).replace(",", ""))
    unit = Decimal(total) / n if n else Decimal(price)
    for places in range(2 if abs(unit) >= 1 else 4, 13):
        if usd(n * unit.quantize(Decimal(1).scaleb(-places)), 2) == shown_total:
            return usd(unit, places)
    return usd(unit, 12)


def pct(x: Decimal | float | None, places: int = 0) -> str:
    return "n/a" if x is None else f"{Decimal(str(x)) * 100:.{places}f}%"


def tok(n: Decimal | int | float | None) -> str:
    if n is None:
        return "n/a"
    v = float(n)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.{0 if abs(v) >= 100 * size else 1}f}{suffix}".replace(".0" + suffix, suffix)
    return f"{v:.0f}"


def num(n: Decimal | float | int) -> str:
    v = float(n)
    return f"{v:,.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def bar(value: Decimal | float, top: Decimal | float, width: int = 20) -> str:
    if not top or value <= 0:
        return ""
    eighths = round(float(value) / float(top) * width * 8)
    full, rest = divmod(min(eighths, width * 8), 8)
    return "█" * full + (BLOCKS[rest] if rest else "")


class FitTable(Table):
    """A table that narrows its columns without splitting a word: an identifier (``claude-sonnet-5-5``), a
    header (``Recorded/mo``) or a number stays on one line.  When the natural widths are too wide, the widest
    column that can still wrap loses a column at a time, never below its longest word (if need be with one
    blank between columns instead of two); only when even the longest words do not fit does rich's own
    folding take over."""

    EMPTY = "no data."

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.rows:  # never a header with nothing under it: one line instead
            yield self._empty_line()
            return
        yield from super().__rich_console__(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        if not self.rows:
            return Measurement.get(console, options, self._empty_line())
        return super().__rich_measure__(console, options)

    def _empty_line(self) -> Text:
        title = self.title.plain if isinstance(self.title, Text) else str(self.title or "")
        return Text(f"{title}: {self.EMPTY}" if title else self.EMPTY.capitalize())

    def _calculate_column_widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        budget = options.max_width
        widths, floors = self._natural(console, options)
        if self.expand or sum(widths) <= budget:
            return super()._calculate_column_widths(console, options)
        if sum(floors) > budget and not self.collapse_padding:  # tighter: one blank between columns, not two
            self.collapse_padding = True
            widths, floors = self._natural(console, options)
            if sum(widths) <= budget:
                return widths
        if sum(floors) > budget:
            return super()._calculate_column_widths(console, options)
        excess = sum(widths) - budget
        while excess > 0:
            i = max((i for i in range(len(widths)) if widths[i] > floors[i]), key=lambda i: widths[i])
            widths[i] -= 1
            excess -= 1
        return widths

    def _natural(self, console: Console, options: ConsoleOptions) -> tuple[list[int], list[int]]:
        """Each column's natural width and the narrowest it gets without splitting a word."""
        ranges = [self._measure_column(console, options, c) for c in self.columns]
        widths = [r.maximum or 1 for r in ranges]
        floors = [min(r.minimum or 1, w) if c.width is None and not c.no_wrap else w
                  for r, w, c in zip(ranges, widths, self.columns, strict=True)]
        return widths, floors


class Bar:
    """A bar of at most ``width`` cells (``bar``) that draws shorter when its column is narrower, down to
    ``MIN_BAR`` cells: bars in one column share the column's width, so they stay comparable, and a bar
    never wraps or pushes a table past the terminal's width."""

    MIN_BAR = 4

    def __init__(self, value: Decimal | float, top: Decimal | float, width: int = 20, suffix: str = "") -> None:
        self.value, self.top, self.width, self.suffix = value, top, width, suffix

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        extra = len(self.suffix)
        return Measurement(min(self.MIN_BAR, self.width) + extra, self.width + extra).with_maximum(options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cells = max(0, min(self.width, options.max_width - len(self.suffix)))
        yield Text(bar(self.value, self.top, cells) + self.suffix, no_wrap=True, overflow="crop")


def table(title: str | None = None, empty: str | None = None, **kw: Any) -> Table:
    """A report table; ``empty``: the line shown instead when it gets no rows (default ``no data.``)."""
    t = FitTable(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                 show_edge=False, **kw)
    if empty:
        t.EMPTY = empty
    return t


def header(r: dict[str, Any]) -> RenderableType:
    lines = Text()
    lines.append(r["title"], style="bold")
    if r.get("query"):
        lines.append(f" — {r['query']}")
    lines.append(f"\nPrices: {r['prices']} at {r['as_of']} list prices · catalog {r['catalog_as_of']}")
    if r.get("basis"):
        lines.append(f"\nBasis: {r['basis']}")
    return lines


def bullets(items: Iterable[str], indent: int = 2) -> Table:
    """A bullet list with a hanging indent."""
    grid = Table.grid(padding=(0, 1), pad_edge=False)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for item in items:
        grid.add_row(" " * (indent - 1) + "•", item)
    return grid


def to_text(parts: Iterable[RenderableType], width: int) -> str:
    """Render to plain text without the trailing blanks rich pads lines with."""
    con = console(width)
    with con.capture() as cap:
        for part in parts:
            con.print(part)
    return terminal_safe("\n".join(line.rstrip() for line in cap.get().splitlines()) + "\n")


def notes(r: dict[str, Any], warnings: list[str] | None = None) -> RenderableType:
    lines = list(r.get("notes", [])) + [f"warning: {w}" for w in warnings or []]
    return Group(Text("Notes", style="bold"), bullets(lines)) if lines else Text("")


def model_label(model: str | None, alias: str | None = None) -> str:
    if not model:
        return "-"
    return f"{alias} ({model})" if alias else model


def budget_line(total: Decimal, budget: Decimal | None, source: str = "") -> Text:
    if budget is None:
        return Text(f"No monthly budget set (budgets.monthly_usd, or pass one: {command('cost', '300')}).")
    share = total / budget if budget else Decimal(0)
    verdict = "within budget" if total <= budget else f"over by {usd(total - budget)}"
    src = f" ({source})" if source else ""
    return Text(f"Budget {usd(budget)}/month{src}: projected {usd(total)} = {pct(share)} — {verdict}",
                style="bold")


def usecase_table(rows: list[dict[str, Any]]) -> Table:
    t = table("Recommendations")
    for col, kw in (("Use case", {"ratio": 4}), ("Primary", {"ratio": 5}), ("Fallback", {"ratio": 4}),
                    ("Routing", {"ratio": 3}), ("Conf.", {"justify": "right"})):
        t.add_column(col, overflow="fold", **kw)
    for r in rows:
        primary = r["primary"] + (f" ({r['alias']})" if r["alias"] else "")
        t.add_row(r["name"], primary, r["fallback"] or "-", r["routing"], pct(r["confidence"]))
    return t


DETAILS = 4


def usecase_details(rows: list[dict[str, Any]]) -> RenderableType:
    """Why, for the use cases that cost the most (all of them when there are few)."""
    shown = sorted(rows, key=lambda r: -r["monthly_cost"])[:DETAILS]
    parts: list[RenderableType] = []
    for r in [r for r in rows if r in shown]:
        v = r["volume"]
        head = Text(f"{r['name']}: ", style="bold")
        head.append(f"{r['workload']}, {r['latency']} latency need, {r['cost_sensitivity']} cost "
                    f"sensitivity, {r['complexity']} work")
        if r["matched_by"] == "keywords":
            head.append(f" (matched '{r['query']}', {pct(r['match_confidence'])})")
        elif r["matched_by"] == "default":
            head.append(f" (no known use case in '{r['query']}': general profile, low confidence)")
        items = [f"volume ({r['volume_source']}): {num(v['requests_per_day'])} requests/day, "
                 f"{tok(v['input_tokens'])} in / {tok(v['output_tokens'])} out per request, "
                 f"{pct(v['cached_share'])} read from cache"]
        items += [f"{k.replace('_', ' ')}: {why}" for k, why in r["overrides"].items() if k != "volume"]
        items += r["reasons"]
        items.append(f"routing: {r['routing']} — {r['routing_why']}")
        parts += [head, bullets(items)]
    if len(rows) > len(shown):
        rest = ", ".join(r["name"] for r in rows if r not in shown)
        parts.append(Text(f"Details for the other use cases ({rest}): {command('report', '<use case>')}."))
    return Group(*parts)


def cost_summary(rows: list[dict[str, Any]], total: Decimal, budget: Decimal | None) -> RenderableType:
    t = table("Monthly cost on the recommended primary (30-day month)")
    for col, kw in (("Use case", {"ratio": 4}), ("Requests", {"justify": "right"}),
                    ("Per request", {"justify": "right"}), ("Per month", {"justify": "right"}),
                    ("Recorded", {"justify": "right"}), ("", {"ratio": 2})):
        t.add_column(col, overflow="fold", **kw)
    t.columns[4].header = "Recorded/mo"
    top = max((r["monthly_cost"] for r in rows), default=Decimal(0))
    for r in rows:
        t.add_row(r["name"], num(r["monthly_requests"]),
                  per_unit(r["cost_per_request"], r["monthly_requests"], r["monthly_cost"]), usd(r["monthly_cost"]),
                  usd(r["recorded_monthly_cost"]) if r["recorded_monthly_cost"] is not None else "-",
                  Bar(r["monthly_cost"], top, 16))
    t.add_section()
    recorded = [r["recorded_monthly_cost"] for r in rows if r["recorded_monthly_cost"] is not None]
    t.add_row("Total", "", "", usd(total), usd(sum(recorded, Decimal(0))) if recorded else "", "")
    return Group(t, budget_line(total, budget, "config budgets.monthly_usd"))


def vendor_risk(v: dict[str, Any]) -> RenderableType:
    shares = ", ".join(f"{row['vendor']} {pct(row['share'])}" for row in v["vendors"]) or "no spend"
    head = Text(f"Vendor risk: {v['risk']}", style="bold")
    head.append(f" — {shares} of {v['basis']} ({usd(v['total_usd'])}); top model {v['top_model']} "
                f"{pct(v['top_model_share'])}")
    return Group(head, bullets(v["mitigations"]))


def roadmap(rm: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    if rm["items"]:
        t = table("Upgrade roadmap")
        for col, kw in (("When", {}), ("What", {"ratio": 3}), ("Move", {"ratio": 4}),
                        ("Saves/mo", {"justify": "right"}), ("Why", {"ratio": 5})):
            t.add_column(col, overflow="fold", **kw)
        for i in rm["items"]:
            t.add_row(i["urgency"], i["what"], f"{i['from']} → {i['to']}", usd(i["saving_usd"]), i["why"])
        parts += [t, Text("")] if rm["gaps"] else [t]
    if rm["gaps"]:
        t = table("Capability gaps")
        t.add_column("Severity", no_wrap=True)
        t.add_column("Area", ratio=2, overflow="fold")
        t.add_column("Gap", ratio=6, overflow="fold")
        order = ("high", "medium", "low")
        for g in sorted(rm["gaps"], key=lambda g: order.index(g["severity"])):
            t.add_row(g["severity"], g["area"], g["gap"])
        parts.append(t)
    return Group(*parts) if parts else Text("No gaps or upgrades found.")


def strategy(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    return [header(r), Text(""), usecase_table(r["usecases"]), Text(""), usecase_details(r["usecases"]),
            Text(""), cost_summary(r["usecases"], r["total_monthly"], r["budget"]), Text(""),
            vendor_risk(r["vendor_risk"]), Text(""), roadmap(r["roadmap"]), Text(""), notes(r, warnings)]


def cost(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    t = table("Monthly cost per use case (30-day month)")
    for col, kw in (("Use case", {"ratio": 4}), ("Model", {"ratio": 3}), ("Requests", {"justify": "right"}),
                    ("Tokens", {"justify": "right"}), ("Per month", {"justify": "right"}),
                    ("", {"ratio": 2})):
        t.add_column(col, overflow="fold", **kw)
    top = max((row["cost"] for row in r["rows"]), default=Decimal(0))
    for row in r["rows"]:
        tokens = sum(row["tokens"].values(), Decimal(0))
        src = "" if row["volume_source"] == "records" else " *"
        t.add_row(row["name"] + src, row["model"], num(row["requests"]), tok(tokens), usd(row["cost"]),
                  Bar(row["cost"], top, 16))
    t.add_section()
    t.add_row("Total", "", "", "", usd(r["total"]), "")
    parts: list[RenderableType] = [header(r), Text(""), t]
    if any(row["volume_source"] != "records" for row in r["rows"]):
        parts.append(Text("* assumed volume (no records for this use case)"))
    parts.append(budget_line(r["total"], r["budget"], r["budget_source"]))
    if r.get("recorded_monthly") is not None:
        parts.append(Text(f"Recorded spend scaled to a month: {usd(r['recorded_monthly'])}; cache hit rate "
                          f"{pct(r.get('cache_hit_rate'))}"))
    o = table("Optimisations (estimated monthly saving)")
    cols: list[tuple[str, dict[str, Any]]] = [
        ("Optimisation", {"ratio": 2}), ("Saves/mo", {"justify": "right", "no_wrap": True}),
        ("Effort", {"no_wrap": True}), ("How / prerequisites", {"ratio": 6})]
    for col, kw in cols:
        o.add_column(col, overflow="fold", **kw)
    for opt in r["optimisations"]:
        applies = opt["applies_to"]
        shown = ", ".join(applies[:3]) + (f" +{len(applies) - 3} more" if len(applies) > 3 else "")
        o.add_row(opt["name"], saving_range(opt["low"], opt["high"]), opt["complexity"],
                  f"{opt['how']}. For: {shown}. Needs: {opt['prerequisites']}.")
    parts += [Text(""), o if r["optimisations"] else Text("No optimisation applies.")]
    if r["not_applicable"]:
        parts.append(bullets(r["not_applicable"]))
    return [*parts, Text(""), notes(r, warnings)]


def fallback(r: dict[str, Any], warnings: list[str]) -> list[RenderableType]:
    parts: list[RenderableType] = [header(r), Text("")]
    t = table("Fallback chains")
    t.add_column("Use case", ratio=3, overflow="fold")
    t.add_column("Chain (in order)", ratio=8, overflow="fold")
    for c in r["chains"]:
        steps = []
        for i, s in enumerate(c["steps"]):
            where = "" if s["claude_code"] or not c["claude_code"] else " [API/gateway only]"
            steps.append(f"{i + 1}. {model_label(s['model'], s['alias'])} — {s['kind']}{where}")
        t.add_row(c["name"], "\n".join(steps))
    parts.append(t)
    seen: list[str] = []
    lines = []
    for c in r["chains"]:
        if c["workload"] in seen:
            continue
        seen.append(c["workload"])
        pol = c["policy"]
        lines.append(f"{c['workload']}: {pol['retries']} retries, backoff {pol['backoff']}; timeout "
                     f"{pol['timeout']}; breaker: {pol['breaker']}; switch {pol['switch']}")
    p = Group(Text("Retry and circuit-breaker settings", style="bold"), bullets(lines))
    retry_on = r["chains"][0]["policy"]["retry_on"] if r["chains"] else ""
    parts += [Text(""), p, Text(f"Retry on: {retry_on}."), Text(""), vendor_risk(r["vendor_risk"]), Text(""),
              notes(r, warnings)]
    return parts
