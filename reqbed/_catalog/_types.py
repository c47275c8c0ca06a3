"""The catalog's public data types (msgspec Structs, frozen)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

__all__ = ["Cost", "Lifecycle", "ModelCapabilities", "ModelInfo", "ModelPrices", "Price", "PriceScope"]

Lifecycle = Literal["ACTIVE", "LEGACY"]
#: Which calls a price applies to: ``global`` (``global.`` profiles), ``regional`` (geo profiles such as
#: ``us.``/``eu.``/``apac.`` and in-region calls) or ``any``.
PriceScope = Literal["global", "regional", "any"]


class ModelCapabilities(msgspec.Struct, kw_only=True, frozen=True):
    """What a model can do. Unknown models get the permissive defaults."""

    tools: bool = True
    streaming_tools: bool = True
    images: bool = False
    documents: bool = False
    video: bool = False
    caching: bool = False
    #: prompt-cache TTLs the model takes (``"5m"``, ``"1h"``)
    cache_ttls: tuple[str, ...] = ()
    #: takes an extended-thinking budget (Claude 3.7 and 4+); models that always reason (DeepSeek-R1) or
    #: take ``reasoning_effort`` instead (gpt-oss) say False here, as ``_families/capabilities.py`` does
    thinking: bool = False
    #: takes ``reasoning_effort`` as its own field (gpt-oss)
    reasoning_effort: bool = False
    #: how structured output can be had: ``"tool"`` (a forced tool call), ``"json_schema"`` (native)
    structured_output: tuple[str, ...] = ("tool",)
    #: output sizes of an embeddings model (empty for chat models)
    embedding_dimensions: tuple[int, ...] = ()
    #: Bedrock's ``CountTokens`` API serves this model
    count_tokens: bool = False
    system_prompt: bool = True
    system_only_prompt: bool = False
    max_temperature: float = 1.0


class Price(msgspec.Struct, kw_only=True, frozen=True):
    """USD per million tokens. ``None``: AWS publishes no such price (the model has no such tokens)."""

    scope: PriceScope = "any"
    #: regions this entry is limited to (empty: every region)
    regions: tuple[str, ...] = ()
    input: Decimal
    output: Decimal | None = None
    cache_read: Decimal | None = None
    cache_write_5m: Decimal | None = None
    cache_write_1h: Decimal | None = None


class ModelPrices(msgspec.Struct, kw_only=True, frozen=True):
    """A model's prices: standard on-demand entries by scope and region; batch and service tiers as
    multipliers of them (``batch=0.5``: half price; ``service_tiers={"priority": 1.75, "flex": 0.5}``)."""

    entries: tuple[Price, ...] = ()
    batch: Decimal | None = None
    service_tiers: dict[str, Decimal] = msgspec.field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def for_call(self, scope: PriceScope, region: str | None) -> Price | None:
        """The standard price for a call of ``scope`` in ``region`` (the most specific entry wins)."""
        best: tuple[int, Price] | None = None
        for p in self.entries:
            if p.scope not in (scope, "any"):
                continue
            if p.regions and (region is None or region not in p.regions):
                continue
            rank = (p.scope == scope) * 2 + bool(p.regions)
            if best is None or rank > best[0]:
                best = (rank, p)
        return None if best is None else best[1]


class ModelInfo(msgspec.Struct, kw_only=True, frozen=True):
    """One catalog entry. ``regions``: where the bare id is served on demand; ``profiles``: the
    inference-profile prefixes it is offered under (``us``, ``eu``, ``apac``, ``jp``, ``au``, ``global`` ...)."""

    id: str
    provider: str
    name: str
    aliases: tuple[str, ...] = ()
    context_window: int | None = None
    max_output_tokens: int | None = None
    input_modalities: tuple[str, ...] = ("TEXT",)
    output_modalities: tuple[str, ...] = ("TEXT",)
    capabilities: ModelCapabilities = ModelCapabilities()
    regions: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    lifecycle: Lifecycle = "ACTIVE"
    prices: ModelPrices = ModelPrices()

    @property
    def family(self) -> str:
        """The vendor before the first ``.`` (what picks reqbed's formatter)."""
        return self.provider

    @property
    def is_embedding(self) -> bool:
        return "EMBEDDING" in self.output_modalities


class Cost(msgspec.Struct, kw_only=True, frozen=True):
    """What a call cost, in USD. ``total`` is ``None`` (and ``reason`` says why) when a price is unknown:
    an unknown price is never reported as 0."""

    input: Decimal | None = None
    output: Decimal | None = None
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    total: Decimal | None = None
    reason: str | None = None
    currency: str = "USD"

    @property
    def known(self) -> bool:
        return self.total is not None
