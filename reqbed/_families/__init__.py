"""The family registry and the endpoint rule.

Adding a family:
1. write ``reqbed/_families/<vendor>.py`` with a formatter implementing ``Formatter``
   (``build_body``, ``parse_response``, ``stream_parser``), if the vendor has a native
   ``/invoke`` body worth using;
2. add a capabilities function in ``capabilities.py``;
3. register it with one line in ``FAMILIES`` below.
Vendors absent from ``FAMILIES`` are served through Converse with default capabilities.

The endpoint rule (``choose_formatter``), documented in docs/endpoints.md:
- ``use_converse=True`` -> Converse.
- ``use_converse=False`` -> native (``ValidationError`` if the family has none).
- unset: no native formatter -> Converse; tools present (given, or in the history) -> Converse,
  for every family (Converse carries tools, cache points with TTLs, thinking with signatures and
  full JSON Schema); the family's ``native_accepts`` says the native format cannot carry this
  request (another model of the family, images or documents ...) -> Converse; otherwise native.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

FAMILIES: dict[str, Family] = {
    "anthropic": Family(
        name="anthropic",
        capabilities=caps.anthropic,
        native=AnthropicFormatter(),
        native_tools=True,
        native_stream_tools=True,
        native_accepts=anthropic.accepts,
    ),
    "meta": Family(
        name="meta",
        capabilities=caps.meta,
        native=MetaFormatter(),
        native_tools=False,
        native_stream_tools=False,
        native_accepts=meta.accepts,
    ),
    "cohere": Family(
        name="cohere",
        capabilities=caps.cohere,
        native=CohereFormatter(),
        native_tools=True,
        native_stream_tools=True,
        native_accepts=cohere.accepts,
    ),
    "openai": Family(
        name="openai",
        capabilities=caps.openai,
        native=OpenAIFormatter(),
        native_tools=True,
        native_stream_tools=False,
    ),
    "amazon": Family(name="amazon", capabilities=caps.amazon),
    "mistral": Family(name="mistral", capabilities=caps.mistral),
    "deepseek": Family(name="deepseek", capabilities=caps.deepseek),
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
    if req.options.tools or req.has_tool_history:
        return CONVERSE
    if family.native_accepts is not None and not family.native_accepts(req):
        return CONVERSE
    return family.native
