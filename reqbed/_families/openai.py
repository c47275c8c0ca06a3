"""OpenAI gpt-oss's native chat-completions body on InvokeModel (``/invoke``, ``/invoke-with-response-stream``).

Body (AWS: "OpenAI models", which defers to OpenAI's "Create chat completion"): ``messages``
(``system``; ``user`` text; ``assistant`` text and ``tool_calls`` in OpenAI's shape; one ``tool``
message per tool result, with its ``tool_call_id``), ``max_tokens``, ``temperature``, ``top_p``,
``stop``, ``tools`` / ``tool_choice``, and ``provider_options.additional_model_request_fields``
merged in (``reasoning_effort``, ``seed`` ...).

Decisions, checked against the real recordings in ../shared (see docs/families/openai.md):
- ``max_tokens``, not ``max_completion_tokens``: AWS's page maps ``max_completion_tokens`` to
  Converse's ``maxTokens``, but the recorded InvokeModel calls send ``max_tokens`` and Bedrock
  honours it (``usage`` shows exactly that many completion tokens, finish ``length``).
- no ``model`` and no ``stream``: AWS says both may be omitted and are filled in from the URL and
  the operation; no ``seed`` / ``stream_options``: reqbed has no seed option, and usage arrives in
  ``amazon-bedrock-invocationMetrics`` on every stream anyway.
- gpt-oss puts its reasoning inline, ``<reasoning>...</reasoning>``, before the answer (in a stream:
  inside each delta, with tags that may be split across deltas). ``ReasoningSplitter`` moves it to
  ``ThinkingPart`` / ``ThinkingChunk``; thinking is not sent back in later turns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

from .._accumulator import ToolCallBuilder, make_response, parse_tool_arguments
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
    Message,
    Response,
    TextChunk,
    TextPart,
    ThinkingChunk,
    ThinkingPart,
    ToolCall,
    ToolCallDeltaChunk,
    ToolResultPart,
    Usage,
    UsageChunk,
)
from . import _common
from ._base import Endpoint, StreamParser

__all__ = ["OpenAIFormatter", "OpenAIStreamParser", "ReasoningSplitter", "split_reasoning"]

OPEN_TAG, CLOSE_TAG = "<reasoning>", "</reasoning>"
REASONING_EFFORTS = ("low", "medium", "high")

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
_decode = msgspec.json.Decoder().decode


class _FunctionDelta(msgspec.Struct):
    name: str | None = None
    arguments: str | None = None


class _ToolCallDelta(msgspec.Struct):
    index: int = 0
    id: str | None = None
    function: _FunctionDelta | None = None


class _Delta(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[_ToolCallDelta] | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    finish_reason: str | None = None


class _ChunkEvent(msgspec.Struct):
    """One ``chat.completion.chunk``, decoded straight into typed Structs (types checked, unknown
    fields skipped) in one C call; the last one carries Bedrock's invocation metrics."""

    id: str | None = None
    choices: list[_Choice] | None = None
    usage: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = msgspec.field(default=None, name=_common.INVOCATION_METRICS)
    guardrail_action: str | None = msgspec.field(default=None, name="amazon-bedrock-guardrailAction")
    trace: dict[str, Any] | None = msgspec.field(default=None, name="amazon-bedrock-trace")


_decode_chunk = msgspec.json.Decoder(_ChunkEvent).decode
_encode = msgspec.json.Encoder().encode


def openai_finish_reason(reason: Any) -> FinishReason:
    return _FINISH.get(reason if isinstance(reason, str) else "", "stop")


def openai_usage(u: Any) -> Usage:
    """``usage`` of a chat completion. ``prompt_tokens_details.cached_tokens`` is the engine's
    prefix-cache hint, not a Bedrock prompt-cache read: it stays in ``.raw``."""
    if not isinstance(u, dict):
        return Usage()
    inp, out = _common.token_count(u.get("prompt_tokens")), _common.token_count(u.get("completion_tokens"))
    return Usage(
        input_tokens=inp, output_tokens=out, total_tokens=_common.token_count(u.get("total_tokens")) or inp + out
    )


def _partial_tag(buf: str, tag: str) -> int:
    """Length of the longest end of ``buf`` that is the start of ``tag`` (a tag cut by a chunk edge)."""
    if "<" not in buf[1 - len(tag) :]:  # both tags start with "<": no "<" near the end, no partial tag
        return 0
    for n in range(min(len(buf), len(tag) - 1), 0, -1):
        if buf.endswith(tag[:n]):
            return n
    return 0


class ReasoningSplitter:
    """Splits gpt-oss content into thinking and text, whatever the chunk boundaries.

    ``feed`` returns ``(is_thinking, text)`` segments; a possible tag prefix at the end of a chunk
    is held back until the next chunk says whether it is a tag. ``finish`` flushes it.
    """

    __slots__ = ("_buf", "_inside")

    def __init__(self) -> None:
        self._buf = ""
        self._inside = False

    def feed(self, text: str) -> list[tuple[bool, str]]:
        if not self._buf and "<" not in text:  # nothing held back and no tag can start: as is
            return [(self._inside, text)] if text else []
        self._buf += text
        out: list[tuple[bool, str]] = []
        while True:
            tag = CLOSE_TAG if self._inside else OPEN_TAG
            at = self._buf.find(tag)
            if at < 0:
                break
            if at:
                out.append((self._inside, self._buf[:at]))
            self._buf = self._buf[at + len(tag) :]
            self._inside = not self._inside
        cut = len(self._buf) - _partial_tag(self._buf, tag)
        if cut:
            out.append((self._inside, self._buf[:cut]))
            self._buf = self._buf[cut:]
        return out

    def finish(self) -> list[tuple[bool, str]]:
        rest, self._buf = self._buf, ""
        return [(self._inside, rest)] if rest else []


def split_reasoning(content: str) -> list[ContentPart]:
    """A complete content string as parts: consecutive thinking (text) segments merged."""
    splitter = ReasoningSplitter()
    parts: list[ContentPart] = []
    for thinking, text in splitter.feed(content) + splitter.finish():
        last = parts[-1] if parts else None
        if thinking and isinstance(last, ThinkingPart):
            parts[-1] = ThinkingPart(text=last.text + text)
        elif not thinking and isinstance(last, TextPart):
            parts[-1] = TextPart(text=last.text + text)
        else:
            parts.append(ThinkingPart(text=text) if thinking else TextPart(text=text))
    return parts


def _parts(m: Message) -> list[ContentPart]:
    return [TextPart(text=m.content)] if isinstance(m.content, str) else list(m.content)


def _text(parts: list[ContentPart]) -> str:
    return "\n".join(p.text for p in parts if isinstance(p, (TextPart, CitationsPart)))


def _result_text(p: ToolResultPart) -> str:
    text = p.content if isinstance(p.content, str) else "\n".join(q.text for q in p.content if isinstance(q, TextPart))
    return f"Error: {text}" if p.is_error else text


def _messages(req: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if req.system:
        out.append({"role": "system", "content": "\n\n".join(p.text for p in req.system)})
    for i, m in enumerate(req.messages):
        parts = _parts(m)
        for j, p in enumerate(parts):
            inner = p.content if isinstance(p, ToolResultPart) and not isinstance(p.content, str) else [p]
            if any(isinstance(q, (ImagePart, DocumentPart)) for q in inner):
                raise ValidationError("gpt-oss takes text only", field=f"prompt[{i}].content[{j}]")
        if m.role == "assistant":
            text = _text(parts)
            calls = [
                {
                    "id": p.id,
                    "type": "function",
                    "function": {"name": p.name, "arguments": _encode(p.arguments).decode()},
                }
                for p in parts
                if isinstance(p, ToolCall)
            ]
            if not text and not calls:
                continue  # a turn of thinking only: gpt-oss's reasoning is not replayed
            msg: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else []}
            if calls:
                msg["tool_calls"] = calls
            out.append(msg)
            continue
        for p in parts:
            if isinstance(p, ToolResultPart):
                out.append({"role": "tool", "tool_call_id": p.tool_call_id, "content": _result_text(p)})
        text = _text(parts)
        if text:
            out.append({"role": "user", "content": text})
    return out


def _tool_choice(choice: str | None) -> Any:
    if choice is None:
        return None
    if choice in ("auto", "none"):
        return choice
    if choice == "any":
        return "required"
    return {"type": "function", "function": {"name": choice}}


#: GenerationOptions attribute -> chat-completions key (the tools and tool_choice go between the two)
_SAMPLING: _common.OptionTable = (
    ("max_tokens", "max_tokens"),
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("stop", "stop"),
)
_REASONING: _common.OptionTable = (("reasoning_effort", "reasoning_effort"),)


class OpenAIFormatter:
    """Formatter for gpt-oss's chat-completions body on ``/invoke`` and ``/invoke-with-response-stream``."""

    name = "openai"
    endpoint: Endpoint = "invoke"

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        opts, po = req.options, req.provider_options
        if opts.top_k is not None:
            raise ValidationError(
                "gpt-oss's chat-completions body has no top_k; pass it in "
                "provider_options.additional_model_request_fields if your deployment accepts it",
                field="top_k",
            )
        body = _common.copy_options({"messages": _messages(req)}, opts, _SAMPLING)
        if opts.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        **({"description": t.description} if t.description else {}),
                        "parameters": t.parameters,
                    },
                }
                for t in opts.tools
            ]
        choice = _tool_choice(opts.tool_choice)
        if choice is not None:
            body["tool_choice"] = choice
        _common.copy_options(body, opts, _REASONING)
        extra = po.additional_model_request_fields or {}
        effort = extra.get("reasoning_effort")
        if effort is not None and effort not in REASONING_EFFORTS:
            raise ValidationError(
                f"must be one of {list(REASONING_EFFORTS)}, got {effort!r}",
                field="provider_options.additional_model_request_fields.reasoning_effort",
            )
        body.update(extra)
        return body

    def parse_response(self, body: bytes, req: ChatRequest, headers: Mapping[str, str] | None = None) -> Response:
        """Parse the answer (the pipeline turns odd shapes into ``ModelStreamError``)."""
        data = _decode(body)
        if not isinstance(data, dict):
            raise _common.bad_body("chat completion is not a JSON object")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise _common.bad_body("chat completion has no choices")
        choice = choices[0]
        message = choice.get("message") or {}
        content: list[ContentPart] = []
        reasoning = message.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            content.append(ThinkingPart(text=reasoning))
        text = message.get("content")
        if isinstance(text, list):
            text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
        if isinstance(text, str):
            content.extend(split_reasoning(text))
        for k, tc in enumerate(message.get("tool_calls") or []):
            fn = tc.get("function") or {}
            name = fn.get("name") or ""
            args = parse_tool_arguments(fn.get("arguments") or "", name)
            content.append(ToolCall(id=tc.get("id") or _call_id(data, k, name), name=name, arguments=args))
        response = make_response(
            content=content,
            finish_reason=openai_finish_reason(choice.get("finish_reason")),
            usage=openai_usage(data.get("usage")),
            model=req.spec.model_id,
            raw=data,
        )
        return _common.native_answer(response, data, headers, req)

    def stream_parser(self, req: ChatRequest) -> StreamParser:
        return _common.guarded_parser(OpenAIStreamParser(), req)


def _call_id(data: dict[str, Any], index: int, name: str) -> str:
    """An id for a tool call that came without one: stable for the same completion."""
    seed = f"{data.get('id', '')}\x00{index}\x00{name}".encode()
    return "call_" + hashlib.sha256(seed).hexdigest()[:24]


class OpenAIStreamParser:
    """``chat.completion.chunk`` objects -> chunks.

    Text and reasoning are split by ``ReasoningSplitter``; tool-call fragments are collected per
    ``index``; ``finish_reason`` is kept from its chunk. The stream is complete when the chunk with
    ``amazon-bedrock-invocationMetrics`` arrives (Bedrock appends it to the last chunk, which may
    come after the ``finish_reason`` chunk, e.g. a usage-only chunk): then the buffered text is
    flushed, the tool calls completed, usage (``usage`` if sent, else the metrics) and the finish
    emitted.
    """

    def __init__(self) -> None:
        self._splitter = ReasoningSplitter()
        self._tools: dict[int, ToolCallBuilder] = {}
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._id = ""
        self._done = False
        self._intervened = False
        self._guard: GuardrailChunk | None = None

    @staticmethod
    def _segments(segments: list[tuple[bool, str]]) -> list[Chunk]:
        return [ThinkingChunk(text=t) if thinking else TextChunk(text=t) for thinking, t in segments if t]

    def feed(self, event_type: str, payload: bytes) -> list[Chunk]:
        if self._done:
            return []
        data = _decode_chunk(payload)
        self._id = self._id or (data.id or "")
        if data.guardrail_action is not None:
            self._intervened = data.guardrail_action == "INTERVENED"
            self._guard = _common.stream_guardrail(
                {"amazon-bedrock-guardrailAction": data.guardrail_action, "amazon-bedrock-trace": data.trace}
            )
        out: list[Chunk] = []
        for choice in data.choices or ():
            delta = choice.delta
            if delta is not None:
                if delta.reasoning_content:
                    out.append(ThinkingChunk(text=delta.reasoning_content))
                if delta.content:
                    out.extend(self._segments(self._splitter.feed(delta.content)))
                for tc in delta.tool_calls or ():
                    out.append(self._tool_delta(tc))
            if choice.finish_reason:
                self._finish = openai_finish_reason(choice.finish_reason)
        if data.usage is not None:
            self._usage = openai_usage(data.usage)
        if data.metrics is not None:
            out.extend(self._end(data.metrics))
        return out

    def _tool_delta(self, tc: _ToolCallDelta) -> ToolCallDeltaChunk:
        index = tc.index
        fn = tc.function or _FunctionDelta()
        frag = fn.arguments or ""
        builder = self._tools.get(index)
        if builder is None:
            name = fn.name or ""
            call_id = tc.id or _call_id({"id": self._id}, index, name)
            builder = self._tools[index] = ToolCallBuilder(index, call_id, name)
            builder.fragments.append(frag)
            return ToolCallDeltaChunk(index=index, id=call_id, name=name, arguments_delta=frag)
        builder.fragments.append(frag)
        return ToolCallDeltaChunk(index=index, arguments_delta=frag)

    def _end(self, metrics: dict[str, Any]) -> list[Chunk]:
        if self._finish is None and not self._intervened:
            raise _common.bad_body("the gpt-oss stream ended without a finish_reason")
        self._done = True
        out = self._segments(self._splitter.finish())
        out.extend(self._tools[i].complete() for i in sorted(self._tools))
        if self._guard is not None:
            out.append(self._guard)
        out.append(UsageChunk(usage=self._usage or _common.invocation_metrics_usage(metrics) or Usage()))
        out.append(FinishChunk(finish_reason=_common.native_finish(self._finish or "stop", self._intervened)))
        return out

    def finish(self) -> list[Chunk]:
        return []  # complete only through the metrics chunk (see the class docstring)
