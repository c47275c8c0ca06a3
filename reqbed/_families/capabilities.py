"""What each family's models can do, as data. Used to refuse impossible requests before sending.

Sources: AWS's "Supported models and model features" table for the Converse API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._base import Capabilities

if TYPE_CHECKING:
    from .._model_spec import ModelSpec

__all__ = [
    "BY_FAMILY",
    "amazon",
    "anthropic",
    "capabilities_of",
    "cohere",
    "deepseek",
    "default",
    "meta",
    "mistral",
    "openai",
]


def _base(spec: ModelSpec) -> str:
    return (spec.base_model or spec.model_id).lower()


#: Claude generations named ``claude-<tier>-<major>`` (4 and later).
_MODERN_CLAUDE = re.compile(r"claude-(?:sonnet|opus|haiku)-\d")
#: Prompt caching on Bedrock (AWS's prompt-caching page): Claude 3.7 Sonnet, 3.5 Haiku, every Claude 4+;
#: 3.5 Sonnet v2 only for accounts from the preview. Not Claude 3 Haiku/Sonnet/Opus nor 3.5 Sonnet v1.
_CACHING_CLAUDE = ("claude-3-7", "claude-3-5-haiku", "claude-3-5-sonnet-20241022")


def anthropic(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    old = any(x in base for x in ("claude-v2", "claude-instant"))
    modern = _MODERN_CLAUDE.search(base) is not None
    thinking = modern or "claude-3-7" in base
    caching = modern or any(x in base for x in _CACHING_CLAUDE)
    return Capabilities(
        tools=not old,
        streaming_tools=not old,
        images=not old,
        documents=not old,
        caching=caching,
        thinking=thinking,
        system_only_prompt=True,
    )


def meta(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    vision = "llama3-2-11b" in base or "llama3-2-90b" in base or "llama4" in base
    tools = not base.startswith("meta.llama2") and "llama3-8b" not in base and "llama3-70b" not in base
    return Capabilities(tools=tools, streaming_tools=tools, images=vision, documents=True)


def amazon(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    nova = ".nova" in base
    return Capabilities(
        tools=nova,
        streaming_tools=nova,
        images=nova and "micro" not in base,
        documents=nova,
        caching=nova,
        system_prompt=nova,
    )


def cohere(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    tools = "command-r" in base
    return Capabilities(tools=tools, streaming_tools=tools, documents=tools)


def openai(spec: ModelSpec) -> Capabilities:
    return Capabilities(tools=True, streaming_tools=True, reasoning_effort=True, max_temperature=2.0)


def mistral(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    return Capabilities(
        tools="large" in base or "small" in base or "pixtral" in base,
        streaming_tools="large" in base or "pixtral" in base,
        images="pixtral" in base,
        documents=True,
    )


def deepseek(spec: ModelSpec) -> Capabilities:
    return Capabilities(tools="r1" not in _base(spec), documents=True)


def default(spec: ModelSpec) -> Capabilities:
    return Capabilities(tools=True, streaming_tools=True, images=False, documents=False)


#: Family name (``ModelSpec.family``) -> its capabilities function; other families get ``default``.
#: The registry (``reqbed._families.FAMILIES``) takes each family's function from here.
BY_FAMILY: dict[str, Callable[[ModelSpec], Capabilities]] = {
    "anthropic": anthropic,
    "meta": meta,
    "cohere": cohere,
    "openai": openai,
    "amazon": amazon,
    "mistral": mistral,
    "deepseek": deepseek,
}


def capabilities_of(spec: ModelSpec) -> Capabilities:
    """What the model named by ``spec`` can do."""
    return BY_FAMILY.get(spec.family or "", default)(spec)
