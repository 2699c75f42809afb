"""Prices for Claude requests, from the ``genai-prices`` package.

genai-prices takes ~0.45 s to import, longer than a hook may run, so the hot path uses a compact
snapshot derived from it (``build_snapshot``) and cached in the data dir.  The snapshot keeps
genai-prices' own matching clauses, tiers and dated prices, and ``price_request`` follows the
package's arithmetic; tests compare the two on generated usage.  A user override file
(``<data dir>/prices.override.json``) replaces prices per model.

Standard library only at import time.
"""

from __future__ import annotations

import os
from decimal import Decimal

from . import paths, rates, store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SNAPSHOT_SCHEMA = 2
PRICE_KEYS = (
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "cache_write_1h_mtok",
    "web_searches_kcount",
)
PROVIDER = "anthropic"
_K = Decimal(1000)


class UnknownModel(LookupError):
    pass


def model_candidates(ref: str) -> list[str]:
    """A model id as written, then the Claude id inside provider spellings: Bedrock
    (``us.anthropic.claude-sonnet-4-5-20250929-v1:0``, ARNs), Vertex (``claude-sonnet-4-5@20250929``),
    gateways (``anthropic/claude-…``), and the ``[1m]`` context suffix."""
    out = [ref]
    cand = ref.strip()
    if cand.endswith("]") and "[" in cand:
        cand = cand[: cand.rindex("[")]
    cand = cand.rsplit("/", 1)[-1]  # ARNs, "anthropic/claude-…", "models/claude-…"
    if "anthropic." in cand:
        cand = cand.rsplit("anthropic.", 1)[-1]
    if ":" in cand:
        cand = cand.split(":", 1)[0]
    head, sep, tail = cand.rpartition("-v")
    if sep and tail.isdigit():
        cand = head
    if "@" in cand:
        base, _, version = cand.partition("@")
        cand = f"{base}-{version}" if version[:1].isdigit() else base
    if cand and cand not in out:
        out.append(cand)
    return out


def build_snapshot(provider_id: str = PROVIDER) -> dict[str, Any]:
    """Derive the compact snapshot (one ``rates`` card per model) from the installed genai-prices."""
    import genai_prices
    from genai_prices import data_snapshot

    snap = data_snapshot.get_snapshot()
    provider = next(p for p in snap.providers if p.id == provider_id)
    models = [{"id": m.id, "name": m.name, "context_window": m.context_window,
               **rates.extract(provider_id, m.id, snap)} for m in provider.models]
    return {
        "schema": SNAPSHOT_SCHEMA,
        "source": "genai-prices",
        "genai_prices_version": genai_prices.__version__,
        "provider": provider_id,
        "models": models,
    }


def snapshot_path() -> str:
    return os.path.join(paths.data_dir(), "cache", "prices.json")


def ensure_snapshot(force: bool = False) -> dict[str, Any]:
    """Load the cached snapshot, (re)building it when missing, broken or from another genai-prices."""
    path = snapshot_path()
    if not force:
        try:
            data = store.read_json(path)
        except store.StoreError:
            data = None
        fresh = isinstance(data, dict) and data.get("schema") == SNAPSHOT_SCHEMA
        if fresh and not _installed_version_differs(data.get("genai_prices_version")):
            return data  # type: ignore[no-any-return]
    data = build_snapshot()
    with store.locked(path + ".lock"):
        store.atomic_write_json(path, data)
    return data


def _installed_version_differs(version: Any) -> bool:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return str(dist_version("genai-prices")) != str(version)
    except PackageNotFoundError:
        return False


# ---------------------------------------------------------------- lookup and arithmetic (hot path)


class PriceTable:
    """Model lookup plus per-request pricing over a snapshot and optional overrides."""

    def __init__(self, snapshot: dict[str, Any], overrides: dict[str, Any] | None = None) -> None:
        self.snapshot = snapshot
        self.overrides = {k.lower(): v for k, v in (overrides or {}).items()}
        self._cache: dict[str, dict[str, Any] | None] = {}

    @property
    def version(self) -> str:
        return f"genai-prices {self.snapshot.get('genai_prices_version', '?')}"

    def find(self, model_ref: str) -> dict[str, Any] | None:
        """The rate card of a model id, trying Bedrock/Vertex/gateway spellings of Claude ids too."""
        ref = model_ref.lower()
        if ref not in self._cache:
            found = None
            for cand in model_candidates(ref):
                found = next((m for m in self.snapshot["models"] if rates.matches(m["match"], cand)), None)
                if found is not None:
                    break
            self._cache[ref] = found
        return self._cache[ref]

    def prices_for(self, model_ref: str, date_iso: str | None = None) -> dict[str, Any]:
        ref = model_ref.lower()
        override = self.overrides.get(ref)
        if override is None:
            override = next((v for k, v in self.overrides.items() if k.endswith("*") and ref.startswith(k[:-1])), None)
        model = self.find(ref)
        if model is None and override is None:
            raise UnknownModel(f"no price for model {model_ref!r} in {self.version} or the override file")
        chosen: dict[str, Any] = {}
        if model is not None:
            chosen = rates.at(model, (date_iso or "9999-12-31")[:10])
        if override:
            chosen = {**chosen, **override}
        return chosen

    def price_request(self, model_ref: str, usage: dict[str, int], date_iso: str | None = None) -> Decimal:
        """Price one API request.  ``usage`` holds Anthropic's counts: ``input`` (uncached),
        ``output``, ``cache_read``, ``cache_write_5m``, ``cache_write_1h``, ``web_search``."""
        p = self.prices_for(model_ref, date_iso)
        cost = rates.cost(p, usage)
        if "web_searches_kcount" in p and usage.get("web_search"):
            cost += Decimal(p["web_searches_kcount"]) * usage["web_search"] / _K
        return cost


def override_path() -> str:
    return os.path.join(paths.data_dir(), "prices.override.json")


def load_overrides(warnings: list[str]) -> dict[str, Any]:
    """The user's price overrides: ``{"models": {"<model id or prefix*>": {"input_mtok": "3", ...}}}``."""
    path = override_path()
    try:
        data = store.read_json(path, {})
    except store.StoreError as exc:
        warnings.append(f"{exc}; price overrides ignored")
        return {}
    models = data.get("models", {}) if isinstance(data, dict) else None
    if not isinstance(models, dict):
        warnings.append(f"{path}: expected {{\"models\": {{...}}}}; price overrides ignored")
        return {}
    clean: dict[str, Any] = {}
    for model, prices in models.items():
        if not isinstance(prices, dict):
            warnings.append(f"{path}: models.{model} must be an object; ignored")
            continue
        bad = [k for k, v in prices.items() if k not in PRICE_KEYS or not _is_price(v)]
        if bad:
            warnings.append(f"{path}: models.{model}.{bad[0]} is not a known price key with a number; ignored")
            continue
        clean[model] = {k: str(v) for k, v in prices.items()}
    return clean


def _is_price(value: Any) -> bool:
    try:
        return Decimal(str(value)) >= 0
    except ArithmeticError:
        return False


_TABLE: PriceTable | None = None


def table(warnings: list[str] | None = None) -> PriceTable:
    """The process-wide price table (snapshot + overrides)."""
    global _TABLE
    if _TABLE is None:
        sink: list[str] = [] if warnings is None else warnings
        path = snapshot_path()
        try:
            snap = store.read_json(path)
        except store.StoreError:
            snap = None
        if not isinstance(snap, dict) or snap.get("schema") != SNAPSHOT_SCHEMA:
            snap = ensure_snapshot(force=True)
        _TABLE = PriceTable(snap, load_overrides(sink) if os.path.exists(override_path()) else {})
    return _TABLE


def reset() -> None:
    global _TABLE
    _TABLE = None


