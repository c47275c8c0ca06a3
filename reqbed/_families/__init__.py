"""The family registry and the endpoint rule.

Adding a family:
1. write ``reqbed/_families/<vendor>.py`` with a formatter implementing ``Formatter``
   (``build_body``, ``parse_response``, ``stream_parser``), if the vendor has a native
   ``/invoke`` body worth using;
2. add a capabilities function in ``capabilities.py`` and its line in ``capabilities.BY_FAMILY``;
3. register it with one line in ``FAMILIES`` below.
The family modules never import this registry back (data flows down: ``capabilities_of`` lives
in ``capabilities.py``).
Vendors absent from ``FAMILIES`` are served through Converse with default capabilities.

The endpoint rule (``choose_formatter``), documented in docs/endpoints.md:
- ``use_converse=True`` -> Converse.
- ``use_converse=False`` -> native (``ValidationError`` if the family has none).
- unset: no native formatter -> Converse; tools present (given, or in the history) and the
  native format cannot carry them (for this call's streaming mode) -> Converse; the family's
  ``native_accepts`` says the native format cannot carry this request (another model of the
  family, images or documents ...) -> Converse; otherwise native.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import ValidationError
from . import anthropic, cohere, meta
from . import capabilities as caps
from ._base import Capabilities, Family, Formatter
from .anthropic import AnthropicFormatter
from .cohere import CohereFormatter
from .converse import ConverseFormatter
from .meta import MetaFormatter
from .openai import OpenAIFormatter

if TYPE_CHECKING:
    from .._model_spec import ModelSpec
    from .._request import ChatRequest

__all__ = ["CONVERSE", "FAMILIES", "Capabilities", "Family", "Formatter", "choose_formatter", "family_for"]

CONVERSE = ConverseFormatter()


def _family(name: str, **native: Any) -> Family:
    return Family(name=name, capabilities=caps.BY_FAMILY.get(name, caps.default), **native)


FAMILIES: dict[str, Family] = {
    "anthropic": _family(
        "anthropic",
        native=AnthropicFormatter(),
        native_tools=True,
        native_stream_tools=True,
        native_accepts=anthropic.accepts,
    ),
    "meta": _family(
        "meta",
        native=MetaFormatter(),
        native_tools=False,
        native_stream_tools=False,
        native_accepts=meta.accepts,
    ),
    "cohere": _family(
        "cohere",
        native=CohereFormatter(),
        native_tools=True,
        native_stream_tools=True,
        native_accepts=cohere.accepts,
    ),
    "openai": _family(
        "openai",
        native=OpenAIFormatter(),
        native_tools=True,
        native_stream_tools=False,
    ),
    "amazon": _family("amazon"),
    "mistral": _family("mistral"),
    "deepseek": _family("deepseek"),
}

_DEFAULT = Family(name="other", capabilities=caps.default)


def family_for(spec: ModelSpec) -> Family:
    return FAMILIES.get(spec.family or "", _DEFAULT)


def choose_formatter(req: ChatRequest) -> Formatter:
    """The endpoint rule (see the module docstring)."""
    family = family_for(req.spec)
    use_converse = req.provider_options.use_converse
    if use_converse is True:
        return CONVERSE
    if use_converse is False:
        if family.native is None:
            raise ValidationError(
                f"{req.spec.family or req.spec.model_id} has no native /invoke formatter in reqbed; "
                "leave use_converse unset or True",
                field="provider_options.use_converse",
            )
        return family.native
    if family.native is None:
        return CONVERSE
    wants_tools = bool(req.options.tools) or req.has_tool_history
    carries = family.native_stream_tools if req.stream else family.native_tools
    if wants_tools and not carries:
        return CONVERSE
    if family.native_accepts is not None and not family.native_accepts(req):
        return CONVERSE
    return family.native
