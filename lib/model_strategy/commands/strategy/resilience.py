"""Resilience: fallback chains per use case, retry and circuit-breaker settings per workload type,
and how concentrated the spend is on one vendor.

Claude Code runs Claude models only, so for Claude Code workloads the practical fallbacks are a
lower Claude tier (``claude --fallback-model``) and another *platform* serving the same models
(Amazon Bedrock, Google Vertex AI); other vendors' models apply to API workloads or gateways.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from model_strategy.commands.knowledge.catalog import Catalog
from model_strategy.commands.knowledge.usecases import Profile

from .strategy import ChainStep, Recommendation

RETRY_ON = "429 (honour retry-after), 500, 502, 503, 504, 529 overloaded; never 400/401/403/413"

# workload -> (retries, backoff, request timeout, circuit breaker)
POLICIES: dict[str, dict[str, str]] = {
    "real-time interactive": {
        "retries": "2", "backoff": "0.5 s doubling to 4 s, full jitter", "timeout": "30 s (10 s to first token)",
        "breaker": "open after 5 straight failures or 50% of 20 calls in 60 s; retry after 30 s",
        "switch": "to the fallback at once on 529 or an open breaker"},
    "near-real-time": {
        "retries": "3", "backoff": "1 s doubling to 16 s, full jitter", "timeout": "120 s",
        "breaker": "open at 50% errors over 20 calls in 2 min; half-open after 60 s",
        "switch": "to the fallback after the retries"},
    "async": {
        "retries": "5", "backoff": "2 s doubling to 60 s, full jitter", "timeout": "600 s",
        "breaker": "open at 50% errors over 50 calls in 5 min; half-open after 5 min",
        "switch": "requeue first; fall back only past the job deadline"},
    "batch": {
        "retries": "8", "backoff": "5 s doubling to 5 min", "timeout": "batch API window (24 h)",
        "breaker": "pause the queue for 10 min at 20% failed items",
        "switch": "resubmit failed items; fall back only for items past their deadline"},
}


class VendorShare(TypedDict):
    vendor: str
    usd: Decimal
    share: Decimal


class VendorRisk(TypedDict):
    """How concentrated spend is on one vendor and one model, and what to do about it."""

    basis: str
    total_usd: Decimal
    vendors: list[VendorShare]
    top_vendor: str
    concentration: Decimal
    risk: str  # high | medium | low | unknown
    top_model: str
    top_model_share: Decimal
    mitigations: list[str]


class ChainLink(TypedDict):
    model: str
    kind: str  # primary, or the fallback's kind (``strategy.ChainStep``)
    vendor: str
    claude_code: bool
    alias: str | None


class Chain(TypedDict):
    """A use case's primary and fallbacks, with the retry and circuit-breaker settings of its workload."""

    usecase: str
    name: str
    workload: str
    claude_code: bool
    steps: list[ChainLink]
    policy: dict[str, str]


def policy(workload: str) -> dict[str, str]:
    return {**POLICIES[workload], "retry_on": RETRY_ON}


def level(share: Decimal) -> str:
    return "high" if share >= Decimal("0.9") else "medium" if share >= Decimal("0.6") else "low"


def vendor_risk(catalog: Catalog, spend: dict[str, Decimal], basis: str) -> VendorRisk:
    """Concentration of ``spend`` (model id -> USD) by vendor, with a risk level and mitigations."""
    by_vendor: dict[str, Decimal] = {}
    by_model: dict[str, Decimal] = {}
    for model_id, usd in spend.items():
        mid = catalog.resolve(model_id)
        vendor = catalog.models[mid]["vendor"] if mid else _vendor_guess(model_id)
        by_vendor[vendor] = by_vendor.get(vendor, Decimal(0)) + usd
        by_model[mid or model_id] = by_model.get(mid or model_id, Decimal(0)) + usd
    total = sum(by_vendor.values(), Decimal(0))
    rows: list[VendorShare] = [{"vendor": v, "usd": usd, "share": (usd / total) if total else Decimal(0)}
                               for v, usd in sorted(by_vendor.items(), key=lambda kv: -kv[1])]
    top: VendorShare = rows[0] if rows else {"vendor": "-", "usd": Decimal(0), "share": Decimal(0)}
    top_model = max(by_model.items(), key=lambda kv: kv[1]) if by_model else ("-", Decimal(0))
    risk = level(top["share"]) if total else "unknown"
    mitigations = []
    if top["vendor"] == "Anthropic" and top["share"] >= Decimal("0.6"):
        mitigations.append("Same Claude models on a second platform: configure Amazon Bedrock or Google "
                           "Vertex AI access (CLAUDE_CODE_USE_BEDROCK=1 / CLAUDE_CODE_USE_VERTEX=1) and test it.")
        mitigations.append("Headless runs: claude -p --fallback-model sonnet,haiku (tried when the main "
                           "model is busy or unavailable).")
    if top["share"] >= Decimal("0.6"):
        mitigations.append("API workloads: keep a tested path to another vendor's model behind the same "
                           "prompts and evals.")
    if top_model[1] and total and top_model[1] / total >= Decimal("0.7"):
        mitigations.append(f"{top_model[0]} carries {top_model[1] / total:.0%} of spend: a price change or "
                           "outage there moves everything; route simple work to a smaller tier.")
    if not mitigations:
        mitigations.append("Spend is spread across vendors; keep each path tested.")
    return {"basis": basis, "total_usd": total, "vendors": rows, "top_vendor": top["vendor"],
            "concentration": top["share"], "risk": risk, "top_model": top_model[0],
            "top_model_share": (top_model[1] / total) if total else Decimal(0), "mitigations": mitigations}


def _vendor_guess(model_id: str) -> str:
    low = model_id.lower()
    for prefix, vendor in (("claude", "Anthropic"), ("gpt", "OpenAI"), ("o", "OpenAI"), ("gemini", "Google"),
                           ("grok", "xAI"), ("mistral", "Mistral"), ("deepseek", "DeepSeek")):
        if low.startswith(prefix):
            return vendor
    return "other"


def chains(catalog: Catalog, recommendations: list[Recommendation], profiles: list[Profile]) -> list[Chain]:
    """Per use case: primary then its fallbacks, each with vendor, price ratio and where it applies."""
    out: list[Chain] = []
    for rec, prof in zip(recommendations, profiles, strict=True):
        steps: list[ChainLink] = []
        for step in (ChainStep(rec.primary, "primary"), *rec.chain):
            m = catalog.models[step.model]
            steps.append({"model": step.model, "kind": step.kind, "vendor": m["vendor"],
                          "claude_code": bool(m["claude_code"]), "alias": catalog.alias_of(step.model)})
        out.append({"usecase": rec.usecase, "name": rec.name, "workload": prof["workload"],
                    "claude_code": prof["claude_code"], "steps": steps, "policy": policy(prof["workload"])})
    return out
