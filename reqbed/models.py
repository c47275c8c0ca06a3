"""reqbed's model catalog: look models up, find them, add aliases.

    import reqbed.models
    reqbed.models.get("claude-sonnet-4-5").context_window          # 200000
    reqbed.models.find("sonnet")                                     # [ModelInfo(...), ...]
    reqbed.models.list(provider="amazon", region="eu-west-1", capability="tools")
    reqbed.models.alias("fast", "bedrock:us.amazon.nova-micro-v1:0")
    reqbed.models.resolve_alias("bedrock:claude-sonnet-4-5", "eu-west-1")
        # 'bedrock:eu.anthropic.claude-sonnet-4-5-20250929-v1:0'

The catalog is data (``reqbed/_catalog/catalog.json``, dated ``as_of``) read on first use; docs/models.md
says where it comes from and how to rebuild it. A thin facade over ``reqbed._catalog``.
"""

from __future__ import annotations

import builtins

from ._catalog._cost import ModelTotals, UsageTotals, cost_of
from ._catalog._store import add_alias as _add_alias
from ._catalog._store import capabilities_for, catalog, find, get, resolve_alias
from ._catalog._store import list_models as _list_models
from ._catalog._types import Cost, ModelCapabilities, ModelInfo, ModelPrices, Price
from ._model_spec import parse_model_spec

__all__ = [
    "Cost",
    "ModelCapabilities",
    "ModelInfo",
    "ModelPrices",
    "ModelTotals",
    "Price",
    "UsageTotals",
    "alias",
    "as_of",
    "capabilities_for",
    "cost_of",
    "find",
    "get",
    "list",
    "resolve_alias",
    "sources",
]


def list(
    provider: str | None = None, region: str | None = None, capability: str | None = None
) -> builtins.list[ModelInfo]:
    """Catalog models, filtered by ``provider`` (``"anthropic"``), ``region`` (reachable from it on demand
    or through an inference profile) and ``capability`` (``"tools"``, ``"thinking"``, ``"embeddings"`` ...)."""
    return _list_models(provider, region, capability)


def alias(name: str, model_spec: str) -> None:
    """Make ``"bedrock:<name>"`` call ``model_spec``: ``alias("fast", "bedrock:us.amazon.nova-micro-v1:0")``."""
    _add_alias(name, model_spec, parse_model_spec)


def as_of() -> str:
    """The date the catalog's facts and prices were taken (``YYYY-MM-DD``)."""
    return catalog().as_of


def sources() -> tuple[str, ...]:
    """The AWS pages the catalog was built from."""
    return catalog().sources
