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
- unset: no native formatter -> Converse; tools present (given, or in the history) -> Converse,
  for every family (Converse carries tools, cache points with TTLs, thinking with signatures and
  full JSON Schema); a field only Converse carries (``converse_only``: documents with
  ``citations``), or cited answers in the history -> Converse; the family's ``native_accepts``
  says the native format cannot carry this request (another model of the family, images or
  documents ...) -> Converse; otherwise native.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import ValidationError
from .._features import invoke_headers
from .._types import (
    AudioPart,
    CitationsPart,
    DocumentPart,
    GuardContentPart,
    ImagePart,
    ToolResultPart,
    VideoPart,
)
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

__all__ = [
    "CONVERSE",
    "FAMILIES",
    "Capabilities",
    "Family",
    "Formatter",
    "choose_formatter",
    "converse_only",
    "family_for",
    "request_headers",
]

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


def converse_only(req: ChatRequest) -> str | None:
    """The first field of this request that only Converse carries (None: the native body may do)."""
    for i, m in enumerate(req.messages):
        for j, p in enumerate(m.content):
            if isinstance(p, DocumentPart) and (p.citations or p.context is not None):
                return f"prompt[{i}].content[{j}].{'citations' if p.citations else 'context'}"
            if isinstance(p, (GuardContentPart, VideoPart, AudioPart)):
                return f"prompt[{i}].content[{j}]"
            inner = p.content if isinstance(p, ToolResultPart) and not isinstance(p.content, str) else [p]
            for q in inner:
                if isinstance(q, (ImagePart, DocumentPart)) and q.s3 is not None:
                    return f"prompt[{i}].content[{j}].s3"
    if req.features.response_field_paths is not None:
        return "provider_options.additional_model_response_field_paths"
    return None


def request_headers(req: ChatRequest, formatter: Formatter) -> dict[str, str]:
    """The endpoint's extra request headers for this call (InvokeModel's ``X-Amzn-Bedrock-*``
    guardrail, tier, latency and metadata headers; Converse carries them in the body)."""
    return invoke_headers(req.features) if formatter.endpoint == "invoke" else {}


def _has_cited_answers(req: ChatRequest) -> bool:
    """Cited answers in the history: Converse re-sends their ``citationsContent`` (a native body,
    when forced, gets their text)."""
    return any(isinstance(p, CitationsPart) for m in req.messages for p in m.content)


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
        field = converse_only(req)
        if field:
            raise ValidationError(f"{field} is carried by Converse only; leave use_converse unset or True", field=field)
        return family.native
    if family.native is None:
        return CONVERSE
    if req.options.tools or req.has_tool_history or converse_only(req) or _has_cited_answers(req):
        return CONVERSE
    if family.native_accepts is not None and not family.native_accepts(req):
        return CONVERSE
    return family.native
