"""The model catalog: capability metadata (``data/catalog.json``) joined with genai-prices rate cards,
plus the use-case profiles (``data/usecases.json``).

Building it validates both files with pydantic and reads genai-prices -- together ~1 s of imports --
so the result is cached in ``<data dir>/cache/catalog.json`` and rebuilt only when either data file
or the installed genai-prices changes.  A warm load is one JSON read (standard library only).
"""

from __future__ import annotations

import os
import typing
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from model_strategy.runtime.base import paths, store
from model_strategy.runtime.money import rates

if TYPE_CHECKING:  # the data files' vocabularies (``specs`` imports pydantic: only to validate the files)
    from .specs import Category, Complexity, Latency, Need, Sensitivity, Strength, Workload

CACHE_SCHEMA = 1
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")
CATALOG_FILE = os.path.join(DATA_DIR, "catalog.json")
USECASES_FILE = os.path.join(DATA_DIR, "usecases.json")
CATEGORIES = ("frontier-reasoning", "balanced", "fast-economy", "specialised")  # = specs.Category


class DatedNote(TypedDict):
    text: str
    until: str  # YYYY-MM-DD


class ModelInfo(TypedDict):
    """A model of ``data/catalog.json`` as cached (its schema: ``specs.ModelSpec``)."""

    id: str
    provider: str  # genai-prices provider id
    vendor: str
    name: str
    family: str
    tier: str
    status: Literal["current", "previous"]
    category: Category
    context_window: int
    max_output_tokens: int | None
    latency: Latency
    quality: int  # 1-10
    strengths: list[Strength]
    released: str | None
    successor: str | None
    claude_code: bool
    notes: str | None
    dated_notes: list[DatedNote]
    ref: str


class CatalogJson(TypedDict):
    schema: int
    as_of: str
    source: str
    claude_code_aliases: dict[str, str]
    models: list[ModelInfo]


class Volume(TypedDict):
    """A use case's typical volume: requests per day and the tokens of one request."""

    requests_per_day: float
    input_tokens: int  # total input per request, cached or not
    output_tokens: int
    cached_share: float  # share of input read from the prompt cache
    cache_write_share: float  # share of input written to the cache


class UseCase(TypedDict):
    """A use case of ``data/usecases.json`` as cached (its schema: ``specs.UseCaseSpec``)."""

    id: str
    name: str
    claude_code: bool
    keywords: list[str]
    agent_patterns: list[str]
    workload: Workload
    latency: Need
    cost_sensitivity: Sensitivity
    complexity: Complexity
    needs: list[Strength]
    volume: Volume


class UseCasesJson(TypedDict):
    schema: int
    as_of: str
    source: str
    usecases: list[UseCase]


class CatalogData(TypedDict):
    """The cache file: both data files validated, and genai-prices' rate card of every catalog model."""

    schema: int
    sig: list[Any]
    genai_prices_version: str
    catalog: CatalogJson
    usecases: UseCasesJson
    cards: dict[str, rates.Card]  # model id -> ``rates.extract``'s card


_MEMO: dict[str, CatalogData] = {}


class CatalogError(ValueError):
    """A data file or the price source is unusable; the message is one line."""


def _sig(path: str | None) -> list[Any]:
    if not path:
        return [None]
    try:
        st = os.stat(path)
    except OSError:
        return [path, None, None]
    return [path, st.st_size, st.st_mtime_ns]


def _genai_prices_data() -> str | None:
    """Path of genai-prices' price data module, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("genai_prices")
    if spec is None or not spec.origin:
        return None
    return os.path.join(os.path.dirname(spec.origin), "data.py")


def cache_path() -> str:
    return os.path.join(paths.data_dir(), "cache", "catalog.json")


def signature() -> list[Any]:
    return [CACHE_SCHEMA, _sig(CATALOG_FILE), _sig(USECASES_FILE), _sig(_genai_prices_data())]


def build() -> CatalogData:
    """Validate the data files and attach genai-prices' rate cards (slow path)."""
    import json

    import genai_prices
    from genai_prices import data_snapshot
    from pydantic import ValidationError

    from .specs import CatalogFile, UseCaseFile

    loaded = []
    for path, schema in ((CATALOG_FILE, CatalogFile), (USECASES_FILE, UseCaseFile)):
        try:
            with open(path, encoding="utf-8") as fh:
                loaded.append(schema.model_validate(json.load(fh)))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
            raise CatalogError(f"{path}: {loc}: {first.get('msg', 'invalid')}") from None
        except (OSError, ValueError) as exc:
            raise CatalogError(f"{path}: {str(exc).splitlines()[0]}") from None
    cat, ucs = typing.cast("CatalogFile", loaded[0]), typing.cast("UseCaseFile", loaded[1])
    snapshot = data_snapshot.get_snapshot()
    cards = {}
    for m in cat.models:
        try:
            cards[m.id] = rates.extract(m.provider, m.id, snapshot)
        except LookupError as exc:
            raise CatalogError(f"catalog model {m.id}: {exc}") from None
    return {
        "schema": CACHE_SCHEMA,
        "sig": signature(),
        "genai_prices_version": genai_prices.__version__,
        "catalog": typing.cast("CatalogJson", cat.model_dump(mode="json", by_alias=True)),
        "usecases": typing.cast("UseCasesJson", ucs.model_dump(mode="json", by_alias=True)),
        "cards": cards,
    }


def load(refresh: bool = False) -> Catalog:
    """The catalog, from the cache when it is current."""
    sig = signature()
    key = repr(sig)
    if not refresh and key in _MEMO:
        return Catalog(_MEMO[key])
    path = cache_path()
    data = None
    if not refresh:
        try:
            data = store.read_json(path)
        except store.StoreError:
            data = None
        if not (isinstance(data, dict) and data.get("schema") == CACHE_SCHEMA and data.get("sig") == sig):
            data = None
    if data is None:
        data = build()
        with store.locked(path + ".lock"):
            store.atomic_write_json(path, data)
    _MEMO[key] = data
    return Catalog(data)


class Catalog:
    """Read-only view over the cached catalog."""

    def __init__(self, data: CatalogData) -> None:
        self.data = data
        cat = data["catalog"]
        self.as_of: str = cat["as_of"]
        self.source: str = cat["source"]
        self.aliases: dict[str, str] = cat["claude_code_aliases"]
        self.models: dict[str, ModelInfo] = {m["id"]: m for m in cat["models"]}
        self.cards: dict[str, rates.Card] = data["cards"]
        self.usecases: list[UseCase] = data["usecases"]["usecases"]
        self.usecases_source: str = data["usecases"]["source"]

    @property
    def price_source(self) -> str:
        return f"genai-prices {self.data['genai_prices_version']}"

    def ids(self, vendor: str | None = None, category: str | None = None) -> list[str]:
        out = []
        for mid, m in self.models.items():
            if vendor and vendor.lower() not in (m["vendor"].lower(), m["provider"].lower()):
                continue
            if category and m["category"] != category:
                continue
            out.append(mid)
        return out

    def vendors(self) -> list[str]:
        return sorted({m["vendor"] for m in self.models.values()})

    def resolve(self, name: str) -> str | None:
        """A catalog id from an id, a Claude Code alias, a display name or a recorded model id."""
        low = name.strip().lower()
        if low in self.models:
            return low
        if low in self.aliases:
            return self.aliases[low]
        for mid, m in self.models.items():
            if m["name"].lower() == low:
                return mid
        return self.match(low)

    def match(self, model_ref: str) -> str | None:
        """The catalog model a recorded model id (e.g. a dated snapshot id) belongs to."""
        ref = model_ref.lower()
        for mid, card in self.cards.items():
            if rates.matches(card["match"], ref):
                return mid
        return None

    def prices(self, model_id: str, day: str) -> dict[str, Any]:
        return rates.at(self.cards[model_id], day)

    def batch_prices(self, model_id: str, day: str) -> dict[str, Any] | None:
        return rates.batch_at(self.cards[model_id], day)

    def notes(self, model_id: str, day: str) -> str | None:
        """The model's notes on ``day``: a dated note (an introductory price) expires after its ``until``."""
        m = self.models[model_id]
        note = m.get("notes")
        parts = [note] if note else []
        parts += [n["text"] for n in m.get("dated_notes") or () if day <= n["until"]]
        return "; ".join(parts) or None

    def alias_of(self, model_id: str) -> str | None:
        return next((a for a, t in self.aliases.items() if t == model_id), None)

    def tier_thresholds(self, day: str) -> list[int]:
        """Every long-context tier start across the catalog (bands for aggregating usage)."""
        starts: set[int] = set()
        for mid in self.cards:
            starts |= rates.tier_starts(self.prices(mid, day))
        return sorted(starts)
