"""Rich rendering of ``model-strategy routing`` (80 columns; every name from the ledger escaped)."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from model_strategy.commands.usage.routing import RoutingDoc

from .render import to_text


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.0f} %"


def _ci(ci: list[float] | None, money: bool = False) -> str:
    if not ci:
        return ""
    if money:
        return f"${ci[0]:.4f}–${ci[1]:.4f}"
    return f"{ci[0] * 100:.0f}–{ci[1] * 100:.0f} %"


def _clean(text: str, limit: int = 60) -> str:
    """A name from the ledger as plain, printable, escaped markup (no control characters)."""
    shown = "".join(c if c.isprintable() else "?" for c in str(text))
    return escape(shown if len(shown) <= limit else shown[: limit - 1] + "…")


def parts(doc: RoutingDoc, warnings: list[str]) -> list[RenderableType]:
    opts = doc["learning"]
    out: list[RenderableType] = [
        Text.from_markup(f"[bold]Routing[/bold] — {doc['runs']} runs, {doc['since']} … {doc['until']} "
                         f"({doc['days']} days)"),
        Text(f"learning {'on' if opts['enabled'] else 'off'} · explore {float(opts['explore']) * 100:g} % · "
             f"loss ≤ {float(opts['max_success_loss']) * 100:g} pts · {doc['escalations']} escalated · "
             f"{doc['feedback']} marked · {doc['explored']} explored", overflow="fold"),
        Text(""),
    ]
    if not doc["buckets"]:
        out.append(Text("No routed agent runs with an outcome yet: the static rule routes every spawn."))
    for b in doc["buckets"]:
        moved = b["learned"] != b["static"]
        n = f"{b['runs']} run{'' if b['runs'] == 1 else 's'}"
        out.append(Text.from_markup(
            f"[bold]{_clean(b['bucket'])}[/bold] · {n} · static {b['static']} → "
            f"{'[bold]' if moved else ''}learned {b['learned']}{'[/bold]' if moved else ''}"))
        out.append(Text(f"  {b['why']}", overflow="fold"))
        t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1))
        t.add_column("  Tier")
        t.add_column("Runs", justify="right")
        t.add_column("Success", justify="right")
        t.add_column("95 % interval", justify="right")
        for tier, row in b["tiers"].items():
            t.add_row(f"  {tier}", str(row["runs"]), _pct(row["success"]), _ci(row["ci"]))
        out += [t, Text("")]
    r = Table(title="Replay on your runs (self-normalised inverse propensity)", title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1))
    r.add_column("Policy")
    r.add_column("Support", justify="right")
    r.add_column("Cost/run", justify="right")
    r.add_column("95 %", justify="right")
    r.add_column("Success", justify="right")
    r.add_column("95 %", justify="right")
    for rp in doc["replay"]:
        cost = ("no support" if not rp["support"] else "partial") if rp["cost"] is None else f"${rp['cost']:.4f}"
        r.add_row(rp["policy"], f"{rp['support']}/{rp['runs']}", cost, _ci(rp["cost_ci"], money=True),
                  _pct(rp["success"]), _ci(rp["success_ci"]))
    out += [r, Text("Support: the runs that ran the tier the policy would pick; the others tell nothing "
                    "about it (partial: a bucket never ran it, so no estimate). Method and assumptions: "
                    "README, \"Routing that learns\".", overflow="fold")]
    for w in warnings:
        out.append(Text(f"note: {w}", overflow="fold"))
    return out


def text(doc: RoutingDoc, warnings: list[str], width: int = 80) -> str:
    return to_text([Group(*parts(doc, warnings))], width)
