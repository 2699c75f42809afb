"""Rate cards: a model's list prices (USD per million tokens), taken from ``genai-prices``.

``extract`` reads one model out of genai-prices (slow path: the package takes ~0.5 s to import)
and keeps its dated price options, long-context tiers and batch variant as plain JSON, so the
commands can cache the result and never import the package on a warm run.  ``at`` picks the
prices in force on a day; ``cost`` prices token counts with genai-prices' own rules (tests
compare it with ``genai_prices.calc_price``):

* a request whose total input (uncached + cache reads + cache writes) exceeds a tier's start is
  billed at that tier for every token kind ("cliff" tiers);
* a token kind without its own price is charged as its parent: 1-hour cache writes as cache
  writes, cache writes and cache reads as input.

Daily time-of-day windows (DeepSeek's peak hours) are left out: the cards show the standard
(off-peak) rate and flag the model.  Standard library only.
"""

from __future__ import annotations

from decimal import Decimal

from model_strategy.runtime.base.kinds import TOKEN_KINDS as KINDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TypeAlias, TypedDict

    class Tiered(TypedDict):
        """A long-context price: ``base`` below the first tier's start, a tier's price above it."""

        base: str
        tiers: list[tuple[int, str]]  # (start: total input tokens of a request, price); JSON pairs

    Price: TypeAlias = "str | Tiered"  # USD per million tokens (per thousand for web searches), as text
    Prices: TypeAlias = "dict[str, Price]"  # genai-prices' keys: input_mtok, output_mtok, cache_read_mtok…

    class Option(TypedDict):
        """Prices in force from ``start`` (ISO date; None: always)."""

        start: str | None
        prices: Prices

    Clause: TypeAlias = "dict[str, str | list[Clause]]"  # genai-prices' match: equals, starts_with, or, and…

    class Card(TypedDict):
        """One model's rate card (``extract``)."""

        options: list[Option]  # dated standard prices, later ones win
        batch: list[Option]  # the batch API's variant
        time_of_day: bool  # it also has daily peak-hour prices (left out)
        match: Clause
        gp_context_window: int | None


GP_KEYS = {"input": "input_mtok", "output": "output_mtok", "cache_read": "cache_read_mtok",
           "cache_write_5m": "cache_write_mtok", "cache_write_1h": "cache_write_1h_mtok"}
_MTOK = Decimal(1_000_000)


# ---------------------------------------------------------------- from genai-prices (slow path)


def _price_json(value: Any) -> Price | None:
    if value is None:
        return None
    if hasattr(value, "tiers"):
        pairs: Any = [[t.start, str(t.price)] for t in value.tiers]  # as JSON keeps them
        return {"base": str(value.base), "tiers": pairs}
    return str(value)


EXTRA_KEYS = ("web_searches_kcount",)  # kept on the card; priced by ``pricing`` (per 1000 searches)


def _prices_json(mp: Any) -> Prices:
    out: Prices = {}
    for key in (*GP_KEYS.values(), *EXTRA_KEYS):
        val = _price_json(getattr(mp, key, None))
        if val is not None:
            out[key] = val
    return out


def extract(provider_id: str, model_id: str, snapshot: Any = None) -> Card:
    """One model's price data from the installed genai-prices (``LookupError`` when absent)."""
    if snapshot is None:
        from genai_prices import data_snapshot

        snapshot = data_snapshot.get_snapshot()
    provider = next((p for p in snapshot.providers if p.id == provider_id), None)
    model = next((m for m in provider.models if m.id == model_id), None) if provider else None
    if model is None:
        raise LookupError(f"genai-prices has no model {provider_id}/{model_id}")
    options: list[Option] = []
    time_of_day = False
    raw = model.prices if isinstance(model.prices, list) else None
    if raw is None:
        options.append({"start": None, "prices": _prices_json(model.prices)})
    else:
        for cond in raw:
            c = cond.constraint
            if c is not None and not hasattr(c, "start_date"):
                time_of_day = True  # a daily window (peak hours): not part of the standard card
                continue
            start = c.start_date.isoformat() if c is not None else None
            options.append({"start": start, "prices": _prices_json(cond.prices)})
    batch: list[Option] = []
    for variant in model.price_variants or ():
        if variant.when != {"processing": "batch"}:
            continue
        c = variant.constraint
        if c is not None and not hasattr(c, "start_date"):
            continue
        batch.append({"start": c.start_date.isoformat() if c is not None else None,
                      "prices": _prices_json(variant.prices)})
    return {"options": options, "batch": batch, "time_of_day": time_of_day,
            "match": clause_json(model.match), "gp_context_window": model.context_window}


def clause_json(clause: Any) -> Clause:
    """A genai-prices match clause as JSON."""
    for attr in ("equals", "starts_with", "ends_with", "contains", "regex"):
        if hasattr(clause, attr):
            return {attr: getattr(clause, attr)}
    if hasattr(clause, "or_"):
        return {"or": [clause_json(c) for c in clause.or_]}
    if hasattr(clause, "and_"):
        return {"and": [clause_json(c) for c in clause.and_]}
    raise ValueError(f"unknown genai-prices clause {clause!r}")


def matches(clause: Clause, ref: str) -> bool:
    """genai-prices' matching of a model reference (lower-cased) against a clause."""
    if "equals" in clause:
        return ref == str(clause["equals"]).lower()
    if "starts_with" in clause:
        return ref.startswith(str(clause["starts_with"]).lower())
    if "ends_with" in clause:
        return ref.endswith(str(clause["ends_with"]).lower())
    if "contains" in clause:
        return str(clause["contains"]).lower() in ref
    if "or" in clause:
        either = clause["or"]
        return isinstance(either, list) and any(matches(c, ref) for c in either)
    if "and" in clause:
        every = clause["and"]
        return isinstance(every, list) and all(matches(c, ref) for c in every)
    if "regex" in clause:
        import re

        return re.search(str(clause["regex"]), ref) is not None
    return False


# ---------------------------------------------------------------- resolution and arithmetic


def at(card: Card, day: str) -> Prices:
    """The standard prices in force on ``day`` (ISO date): the last option whose start has come
    (genai-prices' order: later entries win)."""
    options = card["options"]
    chosen = options[0]["prices"]
    for option in reversed(options):
        if option["start"] is None or option["start"] <= day:
            chosen = option["prices"]
            break
    return chosen


def batch_at(card: Card, day: str) -> Prices | None:
    """Standard prices overlaid with the batch variant active on ``day`` (None: no batch API)."""
    active = [v for v in card.get("batch", []) if v["start"] is None or v["start"] <= day]
    if not active:
        return None
    merged = dict(at(card, day))
    seen: set[str] = set()
    for variant in active:  # genai-prices: the first listed active variant wins per price key
        for key, value in variant["prices"].items():
            if key not in seen:
                merged[key] = value
                seen.add(key)
    return merged


def upcoming(card: Card, day: str, horizon: str) -> list[tuple[str, Prices]]:
    """Dated price changes after ``day`` up to ``horizon`` (ISO dates)."""
    return [(o["start"], o["prices"]) for o in card["options"] if o["start"] and day < o["start"] <= horizon]


def unit(price: Price, total_input: int | Decimal) -> Decimal:
    """A per-MTok price; tiered prices pick the highest tier whose start ``total_input`` exceeds."""
    if isinstance(price, dict):
        chosen = price["base"]
        for start, tier_price in reversed(price["tiers"]):
            if total_input > start:
                chosen = tier_price
                break
        return Decimal(chosen)
    return Decimal(price)


def base(prices: Prices, kind: str) -> Decimal | None:
    """The untiered (short-prompt) price of ``kind``, following the parent rule."""
    key = _effective_key(prices, kind)
    return unit(prices[key], 0) if key else None


_CHAINS = {"cache_write_1h": ("cache_write_1h_mtok", "cache_write_mtok", "input_mtok"),
           "cache_write_5m": ("cache_write_mtok", "input_mtok"),
           "cache_read": ("cache_read_mtok", "input_mtok"),
           "input": ("input_mtok",), "output": ("output_mtok",)}
_INPUT_KINDS = tuple(k for k in KINDS if k != "output")


def _effective_key(prices: Prices, kind: str) -> str | None:
    for key in _CHAINS[kind]:
        if key in prices:
            return key
    return None


def plan(prices: Prices) -> tuple[tuple[str, Decimal | Tiered], ...]:
    """What ``cost`` works out from the prices alone: each token kind that has a price (its own or
    its parent's), in ``KINDS`` order, with that price (a ``Decimal``, or a tiered price)."""
    out: list[tuple[str, Decimal | Tiered]] = []
    for kind in KINDS:
        key = _effective_key(prices, kind)
        if key is not None:
            price = prices[key]
            out.append((kind, Decimal(price) if isinstance(price, str) else price))
    return tuple(out)


def cost(prices: Prices, tokens: Mapping[str, Any], per_request_input: int | Decimal | None = None,
         planned: tuple[tuple[str, Decimal | Tiered], ...] | None = None) -> Decimal:
    """Price token counts.  ``tokens`` uses Anthropic's kinds (``input`` = uncached input).
    ``per_request_input`` is the total input of one request, which selects long-context tiers;
    by default the counts are taken to be a single request.  ``planned``: ``plan(prices)``, worked
    out before (a price table keeps it per model and day)."""
    get = tokens.get
    total_input = 0
    for k in _INPUT_KINDS:
        total_input += get(k, 0)
    tier_basis = total_input if per_request_input is None else per_request_input
    out = Decimal(0)
    for kind, price in plan(prices) if planned is None else planned:
        count = get(kind, 0)
        if count:
            out += (price if isinstance(price, Decimal) else unit(price, tier_basis)) * count / _MTOK
    return out


def tier_starts(prices: Prices) -> set[int]:
    """Every long-context tier threshold in a price set."""
    return {start for p in prices.values() if isinstance(p, dict) for start, _ in p["tiers"]}
