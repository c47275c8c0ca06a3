"""What each family's models can do, as data. Used to refuse impossible requests before sending.

Sources: AWS's "Supported models and model features" table for the Converse API.

Unknown means permissive: a model the rules below do not know (a new Claude, a new Llama, a
family reqbed has never heard of) may try anything and Bedrock answers; only what is known to be
impossible (a text-only model given an image, tools for a model without tool use ...) is refused.
"""

from __future__ import annotations

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


def _any(base: str, names: tuple[str, ...]) -> bool:
    return any(n in base for n in names)


#: Claude models known to lack a feature (AWS's feature table and prompt-caching page). A Claude
#: model not listed here (a newer one) is assumed to have it: Bedrock answers if it does not.
_OLD_CLAUDE = ("claude-v2", "claude-instant")
_NO_CACHING_CLAUDE = (*_OLD_CLAUDE, "claude-3-haiku", "claude-3-sonnet", "claude-3-opus", "claude-3-5-sonnet-20240620")
_NO_THINKING_CLAUDE = (*_NO_CACHING_CLAUDE, "claude-3-5-")


def anthropic(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    old = _any(base, _OLD_CLAUDE)
    return Capabilities(
        tools=not old,
        streaming_tools=not old,
        images=not old,
        documents=not old,
        caching=not _any(base, _NO_CACHING_CLAUDE),
        thinking=not _any(base, _NO_THINKING_CLAUDE),
        system_only_prompt=True,
    )


#: Llama models known to be text only, and those known to have no tool use.
_TEXT_LLAMA = ("llama2", "llama3-8b", "llama3-70b", "llama3-1-", "llama3-2-1b", "llama3-2-3b", "llama3-3-")
_NO_TOOLS_LLAMA = ("llama2", "llama3-8b", "llama3-70b")


def meta(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    tools = not _any(base, _NO_TOOLS_LLAMA)
    return Capabilities(tools=tools, streaming_tools=tools, images=not _any(base, _TEXT_LLAMA), documents=True)


def amazon(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    titan = "titan" in base  # Titan Text: no tools, images, documents, caching or system prompt
    return Capabilities(
        tools=not titan,
        streaming_tools=not titan,
        images=not titan and "micro" not in base,
        documents=not titan,
        video=not titan and "micro" not in base,
        caching=not titan,
        system_prompt=not titan,
    )


#: The older Command models (not Command R / R+ or later): no tools, no documents.
_OLD_COMMAND = ("command-text", "command-light")


def cohere(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    tools = not _any(base, _OLD_COMMAND)
    return Capabilities(tools=tools, streaming_tools=tools, documents=tools, images=not _any(base, ("command-r",)))


def openai(spec: ModelSpec) -> Capabilities:
    text_only = "gpt-oss" in _base(spec)
    return Capabilities(
        tools=True, streaming_tools=True, reasoning_effort=True, max_temperature=2.0, images=not text_only
    )


#: Mistral models known to lack tool use, streamed tool use, or image input.
_NO_TOOLS_MISTRAL = ("mistral-7b", "mixtral-8x7b")
_NO_STREAM_TOOLS_MISTRAL = (*_NO_TOOLS_MISTRAL, "mistral-small")
_TEXT_MISTRAL = ("mistral-7b", "mixtral-8x7b", "mistral-large-2402", "mistral-large-2407", "mistral-small-2402")


def mistral(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    return Capabilities(
        tools=not _any(base, _NO_TOOLS_MISTRAL),
        streaming_tools=not _any(base, _NO_STREAM_TOOLS_MISTRAL),
        images=not _any(base, _TEXT_MISTRAL),
        documents=True,
    )


def deepseek(spec: ModelSpec) -> Capabilities:
    base = _base(spec)
    return Capabilities(tools="r1" not in base, documents=True, images=not _any(base, ("r1", "v3")))


def default(spec: ModelSpec) -> Capabilities:
    """A model reqbed knows nothing about (a new family, a bare ARN): permissive, Bedrock decides."""
    return Capabilities(
        tools=True,
        streaming_tools=True,
        images=True,
        documents=True,
        video=True,
        audio=True,
        caching=True,
        thinking=True,
        max_temperature=2.0,
    )


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
