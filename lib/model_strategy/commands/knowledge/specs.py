"""Strict pydantic schemas of the strategy engine's data files (``data/catalog.json`` and
``data/usecases.json``).  Imported only when the files are (re)validated -- the commands read the
validated copy cached in the data dir -- and by the tests."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Category = Literal["frontier-reasoning", "balanced", "fast-economy", "specialised"]
Latency = Literal["fastest", "fast", "moderate", "slow"]
Strength = Literal[
    "reasoning", "agentic", "coding", "long-context", "research", "vision", "writing", "tool-use",
    "extraction", "classification", "routing", "high-volume", "low-latency", "computer-use", "security",
    "multilingual", "fim", "cost",
]
Workload = Literal["real-time interactive", "near-real-time", "batch", "async"]
Need = Literal["critical", "important", "relaxed"]
Sensitivity = Literal["low", "medium", "high"]
Complexity = Literal["simple", "moderate", "complex"]



class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DatedNote(Strict):
    """A note that holds until a day (an introductory price): shown through ``until``, never after."""

    text: str = Field(min_length=1)
    until: date


class ModelSpec(Strict):
    id: str = Field(min_length=1)
    provider: str = Field(min_length=1, description="genai-prices provider id")
    vendor: str = Field(min_length=1)
    name: str = Field(min_length=1)
    family: str
    tier: str
    status: Literal["current", "previous"]
    category: Category
    context_window: int = Field(gt=0)
    max_output_tokens: int | None = Field(None, gt=0)
    latency: Latency
    quality: int = Field(ge=1, le=10)
    strengths: list[Strength] = Field(min_length=1)
    released: date | None = None
    successor: str | None = None
    claude_code: bool = False
    notes: str | None = None
    dated_notes: list[DatedNote] = Field(default_factory=list)
    ref: str = Field(pattern=r"^https://")


class CatalogFile(Strict):
    schema_: Literal[1] = Field(alias="schema")
    as_of: date
    source: str = Field(min_length=20)
    claude_code_aliases: dict[str, str]
    models: list[ModelSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> CatalogFile:
        ids = [m.id for m in self.models]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate model ids: {', '.join(dupes)}")
        by_id = {m.id: m for m in self.models}
        for m in self.models:
            if m.successor is not None and m.successor not in by_id:
                raise ValueError(f"{m.id}: successor {m.successor!r} is not in the catalog")
        for alias, target in self.claude_code_aliases.items():
            if target not in by_id or not by_id[target].claude_code:
                raise ValueError(f"alias {alias!r} must name a Claude Code model in the catalog")
        return self


class Volume(Strict):
    requests_per_day: float = Field(gt=0)
    input_tokens: int = Field(gt=0, description="total input per request, cached or not")
    output_tokens: int = Field(gt=0)
    cached_share: float = Field(ge=0, le=1, description="share of input read from the prompt cache")
    cache_write_share: float = Field(ge=0, le=1, description="share of input written to the cache")

    @model_validator(mode="after")
    def _shares(self) -> Volume:
        if self.cached_share + self.cache_write_share > 1:
            raise ValueError("cached_share + cache_write_share must not exceed 1")
        return self


class UseCaseSpec(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    claude_code: bool
    keywords: list[str] = Field(min_length=1)
    agent_patterns: list[str]
    workload: Workload
    latency: Need
    cost_sensitivity: Sensitivity
    complexity: Complexity
    needs: list[Strength] = Field(min_length=1)
    volume: Volume


class UseCaseFile(Strict):
    schema_: Literal[1] = Field(alias="schema")
    as_of: date
    source: str = Field(min_length=20)
    usecases: list[UseCaseSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> UseCaseFile:
        ids = [u.id for u in self.usecases]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate use-case ids")
        return self
