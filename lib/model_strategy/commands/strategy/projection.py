"""Monthly cost projections from a use-case profile's volume (requests/day, tokens per request,
prompt-cache shares) or from recorded usage, at a day's list prices.

A month is 30 days.  Cost is linear in volume: a projection is requests per month times the price
of one request, and the price of one request does not depend on how many there are (tests check
this).  Long-context tiers are selected by the tokens of one request, as the APIs bill them.
"""

from __future__ import annotations

from decimal import Decimal

from model_strategy.commands.knowledge.catalog import Catalog
from model_strategy.commands.knowledge.usecases import Profile
from model_strategy.commands.usage.analytics import UseCaseUsage
from model_strategy.runtime.money import rates

DAYS_PER_MONTH = 30


def request_tokens(profile: Profile) -> dict[str, Decimal]:
    """Token counts of one request of the profile, split by kind (Anthropic's kinds)."""
    v = profile["volume"]
    total = Decimal(v["input_tokens"])
    read = total * Decimal(str(v["cached_share"]))
    write = total * Decimal(str(v["cache_write_share"]))
    return {"input": total - read - write, "cache_read": read, "cache_write_5m": write,
            "cache_write_1h": Decimal(0), "output": Decimal(v["output_tokens"])}


def monthly_requests(profile: Profile) -> Decimal:
    return Decimal(str(profile["volume"]["requests_per_day"])) * DAYS_PER_MONTH


def cost_per_request(catalog: Catalog, model_id: str, profile: Profile, day: str,
                     batch: bool = False) -> Decimal:
    prices = catalog.batch_prices(model_id, day) if batch else None
    prices = prices or catalog.prices(model_id, day)
    tokens = request_tokens(profile)
    return rates.cost(prices, tokens, int(profile["volume"]["input_tokens"]))


def monthly_cost(catalog: Catalog, model_id: str, profile: Profile, day: str,
                 batch: bool = False) -> Decimal:
    return cost_per_request(catalog, model_id, profile, day, batch) * monthly_requests(profile)


def profile_from_records(profile: Profile, uc_row: UseCaseUsage, days_covered: int) -> Profile:
    """The profile with its volume replaced by what the records show (per-request averages)."""
    reqs = uc_row["requests"]
    if not reqs or not days_covered:
        return profile
    cacheable = uc_row["input"] + uc_row["cache_read"] + uc_row["cache_write_5m"] + uc_row["cache_write_1h"]
    out = profile.copy()
    out["volume"] = {
        "requests_per_day": round(reqs / days_covered, 2),
        "input_tokens": max(1, round(cacheable / reqs)),
        "output_tokens": max(1, round(uc_row["output"] / reqs)),
        "cached_share": round(uc_row["cache_read"] / cacheable, 4) if cacheable else 0.0,
        "cache_write_share": round((uc_row["cache_write_5m"] + uc_row["cache_write_1h"]) / cacheable, 4)
        if cacheable else 0.0,
    }
    out["volume_source"] = "records"
    return out
