"""Report data for ``/model-strategy:compare`` and ``/model-strategy:catalog``.

Compare puts models side by side (list price, context, speed class, strengths) and re-prices the
user's last 30 days on each: the same token counts and cache pattern at today's list prices.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from model_strategy.commands.base.errors import BadInput, command
from model_strategy.commands.knowledge import usecases
from model_strategy.commands.knowledge.catalog import CATEGORIES
from model_strategy.commands.usage import analytics
from model_strategy.runtime.base.kinds import TIERS
from model_strategy.runtime.money import rates

from . import projection
from .reports import Context, Report


class PriceRow(TypedDict):
    """A model's list prices per million tokens today (None: no such price) and how it is billed."""

    input: Decimal | None
    output: Decimal | None
    cache_read: Decimal | None
    cache_write: Decimal | None
    long_context_from: int | None  # the first long-context tier's start, in input tokens
    batch: bool  # a batch price exists
    time_of_day: bool  # prices vary by the time of day


def _price_row(ctx: Context, mid: str) -> PriceRow:
    p = ctx.catalog.prices(mid, ctx.day)
    card = ctx.catalog.cards[mid]
    tiers = sorted(rates.tier_starts(p))
    return {"input": rates.base(p, "input"), "output": rates.base(p, "output"),
            "cache_read": rates.base(p, "cache_read"), "cache_write": rates.base(p, "cache_write_5m"),
            "long_context_from": tiers[0] if tiers else None,
            "batch": ctx.catalog.batch_prices(mid, ctx.day) is not None, "time_of_day": card["time_of_day"]}


def _categories(word: str) -> list[str]:
    """Categories a word names: the full name, a prefix, or a part ("economy", "frontier")."""
    return [c for c in CATEGORIES if c.startswith(word) or any(p.startswith(word) for p in c.split("-"))]


def catalog_filters(ctx: Context, words: list[str], vendor: str | None,
                    category: str | None) -> tuple[str | None, str | None]:
    """Free words ("openai fast") as a vendor and/or category filter."""
    vendors = {m["vendor"].lower() for m in ctx.catalog.models.values()} | \
        {m["provider"] for m in ctx.catalog.models.values()}
    for word in words:
        low = word.lower()
        if low in vendors and vendor is None:
            vendor = word
        elif category is None and len(_categories(low)) == 1:
            category = word
        else:
            raise BadInput(f"{word!r} is neither a vendor ({', '.join(ctx.catalog.vendors())}) "
                           f"nor a category ({', '.join(CATEGORIES)})")
    return vendor, category


def catalog_report(ctx: Context, vendor: str | None, category: str | None) -> Report:
    cat = ctx.catalog
    if vendor:
        known = {m["vendor"].lower() for m in cat.models.values()} | {m["provider"] for m in cat.models.values()}
        if vendor.lower() not in known:
            raise BadInput(f"unknown vendor {vendor!r}; known: {', '.join(cat.vendors())}")
    if category:
        hits = _categories(category.lower())
        if len(hits) != 1:
            raise BadInput(f"unknown category {category!r}; known: {', '.join(CATEGORIES)}")
        category = hits[0]
    ids = sorted(cat.ids(vendor, category),
                 key=lambda m: (cat.models[m]["vendor"] != "Anthropic", cat.models[m]["vendor"],
                                cat.models[m]["status"] != "current", -cat.models[m]["quality"]))
    out = ctx.header("Model catalog")
    out["basis"] = None  # the catalog does not depend on the records
    out["filters"] = {"vendor": vendor, "category": category}
    out["source"] = cat.source
    out["models"] = [{**{k: cat.models[m][k] for k in ("id", "vendor", "name", "category", "status", "context_window",
                                                    "max_output_tokens", "latency", "quality", "strengths",
                                                    "claude_code", "successor")},
                      "notes": cat.notes(m, ctx.day), "alias": cat.alias_of(m), "prices": _price_row(ctx, m)}
                     for m in ids]
    return out


def resolve_models(ctx: Context, names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        for part in (p for p in name.replace(",", " ").split() if p):
            mid = ctx.catalog.resolve(part)
            if mid is None:
                raise BadInput(f"unknown model {part!r}; see {command('catalog')} for ids and aliases")
            if mid not in out:
                out.append(mid)
    return out


def default_models(ctx: Context) -> list[str]:
    cat = ctx.catalog
    ids = [cat.aliases[a] for a in TIERS if a in cat.aliases]
    if ctx.has_records:
        used = sorted(ctx.summary["by_model"], key=lambda m: -ctx.summary["by_model"][m]["cost"])
        ids += [mid for mid in (cat.match(m) for m in used) if mid and mid not in ids]
    for vendor in cat.vendors():
        if vendor == "Anthropic":
            continue
        best = max((m for m in cat.ids(vendor) if cat.models[m]["status"] == "current"),
                   key=lambda m: cat.models[m]["quality"], default=None)
        if best and best not in ids:
            ids.append(best)
    return ids


def compare_report(ctx: Context, names: list[str]) -> Report:
    ids = resolve_models(ctx, names) if names else default_models(ctx)
    if len(ids) < 1:
        raise BadInput("name at least one model")
    cat = ctx.catalog
    out = ctx.header("Model comparison")
    out["models"] = [{"id": m, "alias": cat.alias_of(m), "vendor": cat.models[m]["vendor"],
                      "category": cat.models[m]["category"], "context_window": cat.models[m]["context_window"],
                      "max_output_tokens": cat.models[m]["max_output_tokens"], "latency": cat.models[m]["latency"],
                      "quality": cat.models[m]["quality"], "strengths": cat.models[m]["strengths"],
                      "claude_code": cat.models[m]["claude_code"], "prices": _price_row(ctx, m)} for m in ids]
    if ctx.has_records:
        s = ctx.summary
        out["actual"] = s["cost"]
        out["window"] = f"{s['start']} to {s['end']}"
        out["repriced"] = [{"id": m, "cost": analytics.reprice(s, cat, m, ctx.day)} for m in ids]
        out["notes"].append("Re-priced: your last 30 days' token counts and cache pattern at today's list "
                            "prices; other vendors tokenise differently (counts can differ by ~30%).")
    else:
        profs = usecases.portfolio(usecases.DEFAULT_PORTFOLIO, cat.usecases, "portfolio")
        out["portfolio"] = [p["name"] for p in profs]
        out["repriced"] = [{"id": m, "cost": sum((projection.monthly_cost(cat, m, p, ctx.day) for p in profs),
                                                 Decimal(0))} for m in ids]
        out["notes"].append("No records yet: the cost column is a typical month of the default portfolio "
                            "(assumed volumes) run entirely on each model.")
    return out
