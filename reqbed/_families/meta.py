"""Meta Llama 3.x's native body on InvokeModel (``/invoke``, ``/invoke-with-response-stream``).

Body (AWS: "Meta Llama models", request and response): ``prompt`` in Llama 3's chat template,
``max_gen_len``, ``temperature``, ``top_p``, and ``provider_options.additional_model_request_fields``
merged in. The template (Meta's Llama 3 prompt format)::

    <|begin_of_text|><|start_header_id|>system<|end_header_id|>\\n\\n{system}<|eot_id|>
    <|start_header_id|>user<|end_header_id|>\\n\\n{text}<|eot_id|>
    <|start_header_id|>assistant<|end_header_id|>\\n\\n

(no line breaks between turns; text trimmed; a conversation that ends with an assistant turn
leaves that turn open, so the model continues it). Text holding one of the template's special
tokens is refused: it would forge turns.

What the native prompt cannot carry goes to Converse (the endpoint rule, docs/endpoints.md):
tools and tool history, images and documents, stop sequences, and models other than Llama 3.x
(Llama 2's and Llama 4's templates differ). Forced onto /invoke with ``use_converse=False``,
those are ``ValidationError``\\ s.

Response: ``generation``, ``prompt_token_count``, ``generation_token_count``, ``stop_reason``
(``stop`` / ``length``). Stream chunks carry ``generation`` pieces; the last one has
``stop_reason`` and ``amazon-bedrock-invocationMetrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .._accumulator import make_response
from .._errors import ValidationError
from .._request import ChatRequest
from .._types import (
    Chunk,
    CitationsPart,
    ContentPart,
    DocumentPart,
    FinishChunk,
    FinishReason,
    GuardrailChunk,
    ImagePart,
    Response,
    TextChunk,
    TextPart,
    ToolCall,
    ToolResultPart,
    Usage,
    UsageChunk,
)
from . import _common
from ._base import Endpoint, StreamParser

__all__ = ["MetaFormatter", "MetaStreamParser", "accepts", "llama3_prompt"]

BEGIN, EOT = "<|begin_of_text|>", "<|eot_id|>"
SPECIAL_TOKENS = (BEGIN, "<|start_header_id|>", "<|end_header_id|>", EOT, "<|end_of_text|>")
_STOP: dict[str, FinishReason] = {"stop": "stop", "length": "length"}
_decode = msgspec.json.Decoder().decode


def _header(role: str) -> str:
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n"


def _is_llama3(req: ChatRequest) -> bool:
    return (req.spec.base_model or req.spec.model_id).lower().startswith("meta.llama3")


def _has_media(req: ChatRequest) -> bool:
    for m in req.messages:
        for p in m.content:
            inner = p.content if isinstance(p, ToolResultPart) and not isinstance(p.content, str) else [p]
            if any(isinstance(q, (ImagePart, DocumentPart)) for q in inner):
                return True
    return False


def accepts(req: ChatRequest) -> bool:
    """Whether the native body can carry this request (the endpoint rule asks; tools aside)."""
    return _is_llama3(req) and not _has_media(req) and not req.options.stop


def _checked(text: str, field: str) -> str:
    for token in SPECIAL_TOKENS:
        if token in text:
            raise ValidationError(f"text holds Llama's special token {token!r}", field=field)
    return text.strip()


def llama3_prompt(req: ChatRequest) -> str:
    """The conversation in Llama 3's chat template, ending with an (open) assistant turn."""
    out = [BEGIN]
    if req.system:
        system = "\n\n".join(_checked(p.text, "system") for p in req.system)
        out.append(_header("system") + system + EOT)
    last = len(req.messages) - 1
    for i, m in enumerate(req.messages):
        texts: list[str] = []
        for j, p in enumerate(m.content):
            field = f"prompt[{i}].content[{j}]"
            if isinstance(p, (ImagePart, DocumentPart)):
                raise ValidationError(
                    "Llama's native prompt carries text only; leave use_converse unset to send images "
                    "and documents through Converse",
                    field=field,
                )
            if isinstance(p, (ToolCall, ToolResultPart)):
                raise ValidationError(
                    "Llama's native prompt cannot carry tool calls or results; leave use_converse unset", field=field
                )
            if isinstance(p, (TextPart, CitationsPart)):
                texts.append(_checked(p.text, field))
        text = "\n".join(t for t in texts if t)
        if m.role == "assistant" and i == last:
            out.append(_header("assistant") + text)  # left open: the model continues this turn
            return "".join(out)
        if not text:
            continue  # a turn of thinking only
        out.append(_header(m.role) + text + EOT)
    out.append(_header("assistant"))
    return "".join(out)


def _usage(prompt_tokens: Any, generation_tokens: Any) -> Usage:
    inp, out = _common.token_count(prompt_tokens), _common.token_count(generation_tokens)
    return Usage(input_tokens=inp, output_tokens=out, total_tokens=inp + out)


#: GenerationOptions attribute -> Llama body key
_OPTIONS: _common.OptionTable = (("max_tokens", "max_gen_len"), ("temperature", "temperature"), ("top_p", "top_p"))


def meta_finish_reason(reason: Any) -> FinishReason:
    return _STOP.get(reason if isinstance(reason, str) else "", "stop")


class MetaFormatter:
    """Formatter for Llama 3.x's native body on ``/invoke`` and ``/invoke-with-response-stream``."""

    name = "meta"
    endpoint: Endpoint = "invoke"

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        opts, po = req.options, req.provider_options
        if not _is_llama3(req):
            raise ValidationError(
                f"reqbed's native Llama body is Llama 3.x's template; {req.spec.base_model} needs Converse "
                "(leave use_converse unset)",
                field="provider_options.use_converse",
            )
        if opts.tools:
            raise ValidationError("Llama's native body cannot carry tools; leave use_converse unset", field="tools")
        if opts.stop:
            raise ValidationError("Llama's native body has no stop sequences; leave use_converse unset", field="stop")
        if opts.top_k is not None:
            raise ValidationError("Llama's native body has no top_k", field="top_k")
        body = _common.copy_options({"prompt": llama3_prompt(req)}, opts, _OPTIONS)
        body.update(po.additional_model_request_fields or {})
        return body

    def parse_response(self, body: bytes, req: ChatRequest, headers: Mapping[str, str] | None = None) -> Response:
        """Parse the answer (the pipeline turns odd shapes into ``ModelStreamError``)."""
        data = _decode(body)
        if not isinstance(data, dict) or not isinstance(data.get("generation"), str):
            raise _common.bad_body("Llama answer has no generation")
        text = data["generation"]
        content: list[ContentPart] = [TextPart(text=text)] if text else []
        response = make_response(
            content=content,
            finish_reason=meta_finish_reason(data.get("stop_reason")),
            usage=_usage(data.get("prompt_token_count"), data.get("generation_token_count")),
            model=req.spec.model_id,
            raw=data,
        )
        return _common.native_answer(response, data, headers, req)

    def stream_parser(self, req: ChatRequest) -> StreamParser:
        return _common.guarded_parser(MetaStreamParser(), req)


class MetaStreamParser:
    """Llama stream chunks -> chunks. The chunk with a ``stop_reason`` ends the answer; usage is
    its ``amazon-bedrock-invocationMetrics`` if present, else the chunks' own token counts."""

    def __init__(self) -> None:
        self._prompt_tokens: Any = None
        self._generation_tokens: Any = None
        self._done = False
        self._intervened = False
        self._guard: GuardrailChunk | None = None

    def feed(self, event_type: str, payload: bytes) -> list[Chunk]:
        data = _decode(payload)
        if not isinstance(data, dict) or self._done:
            return []
        guard = _common.stream_guardrail(data)
        if guard is not None:
            self._guard, self._intervened = guard, guard.result.action == "INTERVENED"
        out: list[Chunk] = []
        piece = data.get("generation")
        if isinstance(piece, str) and piece:
            out.append(TextChunk(text=piece))
        if _common.token_count(data.get("prompt_token_count")):
            self._prompt_tokens = data["prompt_token_count"]
        if _common.token_count(data.get("generation_token_count")):
            self._generation_tokens = data["generation_token_count"]
        if data.get("stop_reason"):
            self._done = True
            usage = _common.invocation_metrics_usage(data.get(_common.INVOCATION_METRICS))
            out.append(UsageChunk(usage=usage or _usage(self._prompt_tokens, self._generation_tokens)))
            finish = meta_finish_reason(data["stop_reason"])
            if self._guard is not None:
                out.append(self._guard)
            out.append(FinishChunk(finish_reason=_common.native_finish(finish, self._intervened)))
        return out

    def finish(self) -> list[Chunk]:
        return []
