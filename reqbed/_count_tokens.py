"""CountTokens, planned and parsed without I/O: the body of ``POST /model/{id}/count-tokens``.

AWS's API (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html,
user guide https://docs.aws.amazon.com/bedrock/latest/userguide/count-tokens.html) counts the input
tokens of an InvokeModel or Converse request without running it:

    {"input": {"converse": {"messages", "system", "toolConfig", "additionalModelRequestFields"}}}
    {"input": {"invokeModel": {"body": "<base64 of the native /invoke body>"}}}
    -> {"inputTokens": n}

``plan_count_tokens`` runs reqbed's own pipeline (``_pipeline.prepare``: validation, capabilities,
the endpoint rule, the body) on exactly what ``generate_text`` would take, so the count is of the
request reqbed would send; then wraps that body in the CountTokens input above (Converse: only the
members CountTokens' ``ConverseTokensRequest`` has; inference settings do not count).

CountTokens takes foundation-model ids only: the geo prefix of a cross-region profile is stripped
(``us.anthropic.claude-...`` -> ``anthropic.claude-...``), an ARN resolves to its foundation model,
an application inference profile needs ``provider_options={"base_model": ...}``. Models CountTokens
does not serve (``COUNT_TOKENS_MODELS``) get a ``ValidationError`` - or, with ``estimate=True``, a
local estimate (``estimate_tokens``), returned as a ``TokenCount`` whose ``estimated`` is True.
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import msgspec

from ._errors import ValidationError, map_api_error
from ._fallback import Target
from ._families._common import unexpected_shapes
from ._operation import WholeAnswer
from ._pipeline import ChatPrepared, Prepared, prepare
from ._request import ChatRequest
from ._types import DocumentPart, ImagePart, RedactedThinkingPart, TextPart, ThinkingPart, ToolCall, ToolResultPart

__all__ = [
    "COUNT_TOKENS_MODELS",
    "CountTokens",
    "CountTokensPlan",
    "TokenCount",
    "estimate_tokens",
    "parse_count_tokens",
    "plan_count_tokens",
]

#: Foundation models CountTokens serves (id prefixes), per AWS's count-tokens page: Anthropic Claude
#: 3.5 Haiku, 3.5 Sonnet (v1, v2), 3.7 Sonnet and the Claude 4 generation (Sonnet, Opus, Haiku).
#: Amazon Nova and other vendors' models are refused by AWS ("doesn't support counting tokens").
COUNT_TOKENS_MODELS = (
    "anthropic.claude-3-5-haiku-",
    "anthropic.claude-3-5-sonnet-",
    "anthropic.claude-3-7-sonnet-",
    "anthropic.claude-sonnet-4",
    "anthropic.claude-opus-4",
    "anthropic.claude-haiku-4",
)

#: Members of CountTokens' ``ConverseTokensRequest`` (botocore's bedrock-runtime model).
_CONVERSE_MEMBERS = ("messages", "system", "toolConfig", "additionalModelRequestFields")

#: The local estimate's constants (documented in docs/count-tokens.md).
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
TOKENS_PER_MEDIA_PART = 1600

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class TokenCount(int):
    """An ``int`` token count; ``estimated`` is True for a local estimate (``estimate=True``)."""

    estimated: bool

    def __new__(cls, value: int, *, estimated: bool = False) -> TokenCount:
        self = super().__new__(cls, value)
        self.estimated = estimated
        return self

    def __str__(self) -> str:  # print(n) shows the number, as for an int
        return int.__repr__(self)

    def __repr__(self) -> str:
        return f"TokenCount({int(self)}, estimated=True)" if self.estimated else f"TokenCount({int(self)})"


class CountTokensPlan:
    """One count: either a request to send (``url``, ``body``) or a local ``estimate``."""

    __slots__ = ("body", "estimate", "foundation_model", "prepared", "url")

    def __init__(
        self, prepared: ChatPrepared, foundation_model: str, url: str | None, body: bytes | None, estimate: int | None
    ) -> None:
        self.prepared = prepared  # region, headers and auth (as generate_text would use them)
        self.foundation_model = foundation_model
        self.url = url
        self.body = body
        self.estimate = estimate

    def __repr__(self) -> str:
        what = f"estimate={self.estimate}" if self.estimate is not None else f"url={self.url!r}"
        return f"CountTokensPlan({self.foundation_model!r}, {what})"

    def parse(self, status: int, headers: Mapping[str, str], body: bytes) -> TokenCount:
        return parse_count_tokens(status, headers, body)


def foundation_model(request: ChatRequest) -> str:
    """The foundation-model id CountTokens takes, or a ``ValidationError`` naming what to give."""
    spec = request.spec
    if not spec.base_model:
        raise ValidationError(
            f"CountTokens takes foundation-model ids only and {spec.model_id!r} names none; "
            "give provider_options base_model (e.g. 'anthropic.claude-sonnet-4-20250514-v1:0')",
            field="provider_options.base_model",
        )
    return spec.base_model


def supported(model_id: str) -> bool:
    return model_id.startswith(COUNT_TOKENS_MODELS)


def plan_count_tokens(
    model: str, prompt: Any, opts: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
) -> CountTokensPlan:
    """Validate as ``generate_text`` would; return the CountTokens request (or the local estimate)."""
    estimate = opts.get("estimate", False)
    if not isinstance(estimate, bool):
        raise ValidationError(f"must be True or False, got {estimate!r}", field="estimate")
    chat_opts = {k: v for k, v in opts.items() if k != "estimate"}
    prepared = prepare(model, prompt, chat_opts, environ=os.environ if environ is None else environ)
    base = foundation_model(prepared.request)
    if not supported(base):
        if estimate:
            return CountTokensPlan(prepared, base, None, None, estimate_tokens(prepared.request))
        raise ValidationError(
            f"Bedrock's CountTokens does not serve {base} (it counts for Anthropic Claude models: "
            f"{', '.join(p.rstrip('-') for p in COUNT_TOKENS_MODELS)}); pass estimate=True for a local estimate",
            field="model",
        )
    marker = f"/model/{prepared.request.spec.path_segment}/"
    root = prepared.url[: prepared.url.rindex(marker)]
    url = f"{root}/model/{quote(base, safe='-_.~')}/count-tokens"
    return CountTokensPlan(prepared, base, url, _encode(count_tokens_input(prepared)), None)


def count_tokens_input(prepared: ChatPrepared) -> dict[str, Any]:
    """The CountTokens body for the request ``prepared`` would send (same endpoint choice)."""
    if prepared.formatter.endpoint == "converse":
        sent = _decode(prepared.body)
        return {"input": {"converse": {k: sent[k] for k in _CONVERSE_MEMBERS if k in sent}}}
    return {"input": {"invokeModel": {"body": base64.b64encode(prepared.body).decode()}}}


def parse_count_tokens(status: int, headers: Mapping[str, str], body: bytes) -> TokenCount:
    """``{"inputTokens": n}`` -> ``TokenCount(n)``; an error answer -> the mapped ``APIError``."""
    if status >= 300:
        raise map_api_error(status, headers, body)
    with unexpected_shapes("the CountTokens answer"):
        n = _decode(body)["inputTokens"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise TypeError(f"inputTokens is {n!r}")
    return TokenCount(n)


def estimate_tokens(request: ChatRequest) -> int:
    """A local estimate, not a count: ceil(characters / 4) over every text reqbed would send (system,
    messages, tool calls' names and arguments as JSON, tool results, thinking, and each tool's name,
    description and JSON schema), plus 4 tokens per message and 1,600 per image or document."""
    chars = 0
    media = 0

    def part(p: Any) -> None:
        nonlocal chars, media
        if isinstance(p, (TextPart, ThinkingPart)):
            chars += len(p.text)
        elif isinstance(p, ToolCall):
            chars += len(p.name) + len(_encode(p.arguments).decode())
        elif isinstance(p, ToolResultPart):
            if isinstance(p.content, str):
                chars += len(p.content)
            else:
                for q in p.content:
                    part(q)
        elif isinstance(p, (ImagePart, DocumentPart)):
            media += 1
        elif isinstance(p, RedactedThinkingPart):
            chars += len(p.data)

    for s in request.system:
        part(s)
    for m in request.messages:
        for p in m.content:
            part(p)
    for t in request.options.tools:
        chars += len(t.name) + len(t.description) + len(_encode(t.parameters).decode())
    return (
        math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(request.messages) + TOKENS_PER_MEDIA_PART * media
    )


class CountTokens(WholeAnswer[TokenCount]):
    """``count_tokens`` on the operations core: one ``POST /model/{foundation id}/count-tokens``,
    through the one send path (retries, deadline, re-signing as for ``generate_text``).

    ``local(environ)`` plans the count (pure; raises ``ValidationError`` for bad input) and returns
    the local estimate when that is the answer (``estimate=True`` on a model CountTokens does not
    serve): then nothing is sent. Otherwise ``Client._call`` sends the planned request.
    """

    __slots__ = ("_plan", "model", "opts", "prompt")

    def __init__(self, model: str, prompt: Any, opts: Mapping[str, Any]) -> None:
        self.model = model
        self.prompt = prompt
        self.opts = opts
        self._plan: CountTokensPlan | None = None

    def _planned(self, environ: Mapping[str, str]) -> CountTokensPlan:
        if self._plan is None:
            self._plan = plan_count_tokens(self.model, self.prompt, self.opts, environ=environ)
        return self._plan

    def local(self, environ: Mapping[str, str]) -> TokenCount | None:
        """The local estimate (marked ``estimated``) when no request is to be sent, else None."""
        plan = self._planned(environ)
        return None if plan.estimate is None else TokenCount(plan.estimate, estimated=True)

    def plan(self, environ: Mapping[str, str]) -> list[Target]:
        plan = self._planned(environ)
        assert plan.url is not None
        assert plan.body is not None
        return [Target(count_tokens_prepared(plan.prepared, plan.url, plan.body), plan.prepared.label)]

    def parse(self, target: Target, status: int, headers: Mapping[str, str], body: bytes) -> TokenCount:
        return parse_count_tokens(status, headers, body)


def count_tokens_prepared(chat: ChatPrepared, url: str, body: bytes) -> Prepared:
    """The CountTokens target: the chat call's region, endpoint and credentials, its own path and body."""
    root = chat.url[: len(chat.url) - len(chat.path)]
    path = url[len(root) :]
    return Prepared(
        method="POST",
        site=chat.site,
        path=path,
        url=url,
        body=body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        region=chat.region,
        region_explicit=chat.region_explicit,
        provider_options=chat.provider_options,
        auth=chat.auth,
        label=chat.label,
        environ=chat.environ,
        timeout=chat.timeout,
        max_retries=chat.max_retries,
    )
