"""Helpers shared by the formatters: capability checks, thinking rules, tool-history names, token
counts and Bedrock's invocation metrics, and copying set options onto a body.

Nothing here imports the registry (``reqbed._families``): the registry imports the formatters,
which import this module, so data flows down only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from .._errors import ModelStreamError, ReqbedError, ValidationError
from .._features import native_guardrail, read_back_headers
from .._types import (
    AudioPart,
    Chunk,
    ContentPart,
    DocumentPart,
    FinishChunk,
    FinishReason,
    GuardrailChunk,
    GuardrailResult,
    ImagePart,
    Response,
    TextPart,
    ToolCall,
    ToolResultPart,
    Usage,
    UsageChunk,
    VideoPart,
)
from ._base import Capabilities, StreamParser

if TYPE_CHECKING:
    from .._request import ChatRequest, GenerationOptions

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "GUARDRAIL_ACTION",
    "INVOCATION_METRICS",
    "SHAPE_ERRORS",
    "bad_body",
    "check_capabilities",
    "check_thinking",
    "copy_options",
    "guarded_parser",
    "guardrail_intervened",
    "header_usage",
    "history_tool_names",
    "invocation_metrics_usage",
    "native_answer",
    "native_finish",
    "shape_error",
    "stream_guardrail",
    "token_count",
    "unexpected_shapes",
    "usage_or_headers",
]

#: ``max_tokens`` sent when a family's API requires one and the caller gave none.
DEFAULT_MAX_TOKENS = 4096


def _refuse(what: str, req: ChatRequest, field: str) -> ValidationError:
    return ValidationError(f"{req.spec.base_model or req.spec.model_id} does not support {what}", field=field)


def check_capabilities(req: ChatRequest, caps: Capabilities) -> None:
    """Refuse, before sending, what this model cannot do (naming the capability and the model)."""
    opts = req.options
    if opts.tools and not caps.tools:
        raise _refuse("tools", req, "tools")
    if opts.tools and req.stream and not caps.streaming_tools:
        raise _refuse("tools while streaming", req, "tools")
    if opts.temperature is not None and opts.temperature > caps.max_temperature:
        raise ValidationError(
            f"{req.spec.base_model or req.spec.model_id} takes a temperature between 0 and {caps.max_temperature}, "
            f"got {opts.temperature}",
            field="temperature",
        )
    native_effort = opts.reasoning_effort is not None and caps.reasoning_effort
    if opts.thinking_budget is not None and not caps.thinking and not native_effort:
        what = "reasoning_effort" if opts.reasoning_effort else "extended thinking"
        raise _refuse(what, req, "reasoning_effort" if opts.reasoning_effort else "thinking")
    if req.provider_options.anthropic_prompt_cache and not caps.caching:
        raise _refuse("prompt caching", req, "provider_options.anthropic_prompt_cache")
    if req.system and not caps.system_prompt:
        raise _refuse("a system prompt", req, "system")
    if not req.messages and not caps.system_only_prompt:
        raise ValidationError(
            f"{req.spec.base_model or req.spec.model_id} rejects a prompt with only a system turn; add a user turn",
            field="prompt",
        )
    if not caps.caching and any(
        isinstance(p, TextPart) and p.cache_control is not None for p in [*req.system, *_parts(req)]
    ):
        raise _refuse("prompt caching (a cache_control mark)", req, "prompt")
    if not caps.caching and any(t.cache_control is not None for t in opts.tools):
        raise _refuse("prompt caching (a tool's cache_control)", req, "tools")
    for m in req.messages:
        for p in m.content:
            inner = p.content if isinstance(p, ToolResultPart) and not isinstance(p.content, str) else [p]
            for q in inner:
                if isinstance(q, ImagePart) and not caps.images:
                    raise _refuse("image input", req, "prompt")
                if isinstance(q, DocumentPart) and not caps.documents:
                    raise _refuse("document input", req, "prompt")
                if isinstance(q, VideoPart) and not caps.video:
                    raise _refuse("video input", req, "prompt")
                if isinstance(q, AudioPart) and not caps.audio:
                    raise _refuse("audio input", req, "prompt")
    if caps.max_output_tokens and opts.max_tokens and opts.max_tokens > caps.max_output_tokens:
        raise ValidationError(
            f"{opts.max_tokens} exceeds {req.spec.base_model}'s output limit of {caps.max_output_tokens}",
            field="max_tokens",
        )


def _parts(req: ChatRequest) -> list[ContentPart]:
    return [p for m in req.messages for p in m.content if not isinstance(p, str)]


def check_thinking(req: ChatRequest, max_tokens: int | None) -> None:
    """Anthropic's extended-thinking rules, checked before sending."""
    budget = req.options.thinking_budget
    if budget is None:
        return
    if budget < 1024:
        raise ValidationError(f"thinking budget_tokens must be at least 1024, got {budget}", field="thinking")
    if max_tokens is not None and budget >= max_tokens:
        raise ValidationError(
            f"thinking budget_tokens ({budget}) must be less than max_tokens ({max_tokens})", field="thinking"
        )
    t = req.options.temperature
    if t is not None and t != 1.0:
        raise ValidationError("extended thinking requires temperature unset or 1", field="temperature")
    if req.options.top_k is not None:
        raise ValidationError("extended thinking does not allow top_k", field="top_k")
    if req.options.tool_choice not in (None, "auto", "none"):
        raise ValidationError("extended thinking does not allow a forced tool_choice", field="tool_choice")
    top_p = req.options.top_p
    if top_p is not None and not 0.95 <= top_p <= 1:
        raise ValidationError(f"extended thinking allows top_p between 0.95 and 1, got {top_p}", field="top_p")


def history_tool_names(req: ChatRequest) -> list[str]:
    """Names of tools called earlier in the conversation, in first-seen order."""
    names: dict[str, None] = {}
    for m in req.messages:
        for p in m.content:
            if isinstance(p, ToolCall):
                names.setdefault(p.name, None)
    if not names and any(isinstance(p, ToolResultPart) for m in req.messages for p in m.content):
        names["tool"] = None
    return list(names)


#: What a parser that trusts an answer's shape raises when the shape is odd (msgspec.DecodeError
#: is a ValueError; RecursionError is JSON nested deeper than ~1,000 levels, which msgspec refuses
#: that way); ``unexpected_shapes`` turns them into ``ModelStreamError``.
SHAPE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


@contextlib.contextmanager
def unexpected_shapes(what: str) -> Iterator[None]:
    """Where the pipeline hands an answer to a formatter: a body or event of an unexpected shape
    (not JSON, a missing key, a list where an object was due) becomes ``ModelStreamError`` naming
    ``what``, never a raw ``KeyError``. Formatters can therefore read answers plainly."""
    try:
        yield
    except ReqbedError:
        raise
    except SHAPE_ERRORS as e:
        raise shape_error(what, e) from None


def shape_error(what: str, error: BaseException) -> ModelStreamError:
    """The error for an answer of unexpected shape (hot paths catch ``SHAPE_ERRORS`` inline)."""
    if isinstance(error, RecursionError):
        return bad_body(f"{what} is JSON nested too deeply to read ({error})")
    return bad_body(f"{what} has an unexpected shape ({type(error).__name__}: {error})")


def token_count(value: object) -> int:
    """A token count from a provider's JSON: a non-negative int, else 0 (never a bool, a float,
    a string or a crash). Every family's usage parsing reads counts through this one function."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


#: The object Bedrock appends to the last chunk of every ``/invoke`` stream (every family).
INVOCATION_METRICS = "amazon-bedrock-invocationMetrics"


def invocation_metrics_usage(metrics: object) -> Usage | None:
    """``amazon-bedrock-invocationMetrics`` -> ``Usage``; ``None`` when it is absent or not an object.

    Its cache counts (``cacheRead``/``cacheWriteInputTokenCount``, Claude only) are kept apart from
    ``input_tokens``, as everywhere in reqbed; ``total_tokens`` counts all four.
    """
    if not isinstance(metrics, dict):
        return None
    inp, out = token_count(metrics.get("inputTokenCount")), token_count(metrics.get("outputTokenCount"))
    read = token_count(metrics.get("cacheReadInputTokenCount"))
    write = token_count(metrics.get("cacheWriteInputTokenCount"))
    return Usage(
        input_tokens=inp,
        output_tokens=out,
        total_tokens=inp + out + read + write,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


#: A family's ``(GenerationOptions attribute, body key)`` pairs, in body order.
OptionTable = Sequence[tuple[str, str]]


def copy_options(body: dict[str, Any], opts: GenerationOptions, table: OptionTable) -> dict[str, Any]:
    """Copy each option the caller set (not ``None``, not an empty list) onto ``body`` under the
    family's own key; lists are copied. Returns ``body``."""
    for attr, key in table:
        value = getattr(opts, attr)
        if value is None or (isinstance(value, list) and not value):
            continue
        body[key] = list(value) if isinstance(value, list) else value
    return body


def bad_body(what: str) -> ModelStreamError:
    """An answer reqbed cannot read (not AWS's error shape): never silently ignored."""
    return ModelStreamError(f"unexpected answer from Bedrock: {what}")


# -- what Bedrock adds to every native (/invoke) answer ------------------------------------------

#: Bedrock's mark of a guardrail's verdict in a native body or the last chunk of a native stream.
GUARDRAIL_ACTION = "amazon-bedrock-guardrailAction"

#: InvokeModel's token-count headers -> the Usage field each fills.
_COUNT_HEADERS = (
    ("x-amzn-bedrock-input-token-count", "input_tokens"),
    ("x-amzn-bedrock-output-token-count", "output_tokens"),
    ("x-amzn-bedrock-cache-read-input-token-count", "cache_read_tokens"),
    ("x-amzn-bedrock-cache-write-input-token-count", "cache_write_tokens"),
)


def guardrail_intervened(data: Any) -> bool:
    """Whether a native body (or stream chunk) says a guardrail blocked or masked the answer."""
    return isinstance(data, dict) and data.get(GUARDRAIL_ACTION) == "INTERVENED"


def native_finish(reason: FinishReason, intervened: bool) -> FinishReason:
    """A guardrail intervention wins over the model's own stop reason (as Converse's
    ``guardrail_intervened`` does)."""
    return "content_filter" if intervened else reason


def header_usage(headers: Mapping[str, str] | None) -> Usage | None:
    """Usage from InvokeModel's ``X-Amzn-Bedrock-*-Token-Count`` headers (None: no such header).
    Header names are compared case-insensitively."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    counts: dict[str, int] = {}
    for name, field in _COUNT_HEADERS:
        value = lower.get(name)
        if value is not None and value.strip().isdigit():
            counts[field] = int(value)
    if not counts:
        return None
    return Usage(
        input_tokens=counts.get("input_tokens", 0),
        output_tokens=counts.get("output_tokens", 0),
        total_tokens=sum(counts.values()),
        cache_read_tokens=counts.get("cache_read_tokens", 0),
        cache_write_tokens=counts.get("cache_write_tokens", 0),
    )


def usage_or_headers(usage: Usage, headers: Mapping[str, str] | None) -> Usage:
    """The body's usage when it has token counts, else the headers' (Cohere Command R's body and
    guardrail-blocked answers carry none)."""
    if usage.input_tokens or usage.output_tokens:
        return usage
    return header_usage(headers) or usage


def native_answer(
    response: Response, data: Any, headers: Mapping[str, str] | None, req: ChatRequest | None = None
) -> Response:
    """What every native formatter's ``parse_response`` does last: a guardrail intervention in the
    body becomes ``finish_reason="content_filter"`` (and ``Response.guardrail`` is set when a
    guardrail was configured or reported); usage the body lacks comes from the headers, and so do
    the service tier and latency Bedrock applied."""
    intervened = guardrail_intervened(data)
    tier, latency = read_back_headers(headers)
    return msgspec.structs.replace(
        response,
        finish_reason=native_finish(response.finish_reason, intervened),
        usage=usage_or_headers(response.usage, headers),
        guardrail=native_guardrail(req.features if req else None, data),
        service_tier=tier,
        latency=latency,
    )


def stream_guardrail(data: Any) -> GuardrailChunk | None:
    """A native stream chunk's guardrail verdict (``amazon-bedrock-guardrailAction``), if it has one."""
    result = native_guardrail(None, data)
    return GuardrailChunk(result=result) if result is not None else None


class _GuardedParser:
    """A native stream parser for a call with a guardrail configured: if the stream ends without
    Bedrock's ``amazon-bedrock-guardrailAction``, a ``GuardrailChunk`` with action ``"NONE"`` comes
    before the usage and finish chunks, so ``Response.guardrail`` is set whenever one was configured."""

    def __init__(self, inner: StreamParser) -> None:
        self._inner = inner
        self._seen = False

    def feed(self, event_type: str, payload: bytes) -> list[Chunk]:
        return self._check(self._inner.feed(event_type, payload))

    def finish(self) -> list[Chunk]:
        return self._check(self._inner.finish())

    def _check(self, chunks: list[Chunk]) -> list[Chunk]:
        if not chunks or self._seen:
            return chunks
        if any(isinstance(c, GuardrailChunk) for c in chunks):
            self._seen = True
            return chunks
        for i, c in enumerate(chunks):
            if isinstance(c, (UsageChunk, FinishChunk)):
                self._seen = True
                return [*chunks[:i], GuardrailChunk(result=GuardrailResult(action="NONE")), *chunks[i:]]
        return chunks


def guarded_parser(parser: StreamParser, req: ChatRequest) -> StreamParser:
    """``parser``, made to report a guardrail verdict when the call configured a guardrail."""
    return _GuardedParser(parser) if req.features.guardrail is not None else parser
