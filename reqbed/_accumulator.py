"""Assemble a ``Response``: from parsed parts (non-streaming) or from a stream's chunks.

``StreamAccumulator`` is family-agnostic: every stream parser emits the same chunk types, and
the accumulator turns them into exactly the ``Response`` a non-streaming call would give. A stream
whose parser never produced a ``FinishChunk`` is incomplete: ``response()`` raises.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._errors import EventStreamError, ModelStreamError
from ._types import (
    Chunk,
    CitationChunk,
    CitationsPart,
    ContentPart,
    FinishChunk,
    FinishReason,
    GuardrailChunk,
    GuardrailResult,
    Message,
    RedactedThinkingPart,
    Response,
    TextChunk,
    TextPart,
    ThinkingChunk,
    ThinkingPart,
    ToolCall,
    ToolCallChunk,
    ToolCallDeltaChunk,
    Usage,
    UsageChunk,
)

__all__ = ["StreamAccumulator", "ToolCallBuilder", "make_response", "parse_tool_arguments"]

_json_decode = msgspec.json.Decoder().decode


def make_response(
    *,
    content: list[ContentPart],
    finish_reason: FinishReason,
    usage: Usage,
    model: str,
    raw: Any,
) -> Response:
    """Build a Response from the assistant's content parts (thinking, text, cited text, tool calls)."""
    text = "".join(p.text for p in content if isinstance(p, (TextPart, CitationsPart)))
    thinking_parts = [p.text for p in content if isinstance(p, ThinkingPart)]
    tool_calls = [p for p in content if isinstance(p, ToolCall)]
    return Response(
        text=text,
        thinking="".join(thinking_parts) if thinking_parts else None,
        tool_calls=tool_calls,
        finish_reason=finish_reason,
        usage=usage,
        model=model,
        message=Message(role="assistant", content=content),
        raw=raw,
        citations=[c for p in content if isinstance(p, CitationsPart) for c in p.citations],
    )


def parse_tool_arguments(raw: str, name: str) -> dict[str, Any]:
    """Parse streamed tool-call JSON; bad JSON is an error naming the tool, never a silent {}."""
    if not raw.strip():
        return {}
    try:
        value = _json_decode(raw)
    except msgspec.DecodeError as e:
        raise ModelStreamError(f"tool call {name!r} streamed invalid JSON arguments: {e}") from None
    except RecursionError:  # nested deeper than ~1,000 levels (a model steered into it, say)
        raise ModelStreamError(f"tool call {name!r} streamed JSON arguments nested too deeply to read") from None
    if not isinstance(value, dict):
        raise ModelStreamError(f"tool call {name!r} streamed arguments that are not a JSON object")
    return value


class ToolCallBuilder:
    """Collects one streamed tool call's id, name and argument fragments."""

    __slots__ = ("fragments", "id", "index", "name")

    def __init__(self, index: int, id: str, name: str) -> None:
        self.index, self.id, self.name = index, id, name
        self.fragments: list[str] = []

    def complete(self) -> ToolCallChunk:
        args = parse_tool_arguments("".join(self.fragments), self.name)
        return ToolCallChunk(index=self.index, tool_call=ToolCall(id=self.id, name=self.name, arguments=args))


class StreamAccumulator:
    """Feeds on chunks; ``response()`` returns the assembled Response or raises if incomplete."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._content: list[ContentPart] = []
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._signature: str | None = None
        self._usage = Usage()
        self._finish: FinishReason | None = None
        self._guardrail: GuardrailResult | None = None
        self.raw_events: list[Any] = []

    @property
    def finished(self) -> bool:
        return self._finish is not None

    def _flush_text(self) -> None:
        if self._text:
            self._content.append(TextPart(text="".join(self._text)))
            self._text = []

    def _flush_thinking(self) -> None:
        if self._thinking or self._signature:
            self._content.append(ThinkingPart(text="".join(self._thinking), signature=self._signature))
            self._thinking, self._signature = [], None

    def add(self, chunk: Chunk) -> None:
        if isinstance(chunk, TextChunk):
            self._flush_thinking()
            self._text.append(chunk.text)
        elif isinstance(chunk, ThinkingChunk) and chunk.redacted is not None:
            self._flush_text()
            self._flush_thinking()
            self._content.append(RedactedThinkingPart(data=chunk.redacted))
        elif isinstance(chunk, ThinkingChunk):
            self._flush_text()
            if self._signature is not None and chunk.text:
                self._flush_thinking()  # a signature closes its block: this text starts the next one
            self._thinking.append(chunk.text)
            if chunk.signature:
                self._signature = chunk.signature
        elif isinstance(chunk, ToolCallChunk):
            self._flush_thinking()
            self._flush_text()
            self._content.append(chunk.tool_call)
        elif isinstance(chunk, UsageChunk):
            self._usage = chunk.usage
        elif isinstance(chunk, FinishChunk):
            self._finish = chunk.finish_reason
        elif isinstance(chunk, CitationChunk):
            self._cite(chunk)
        elif isinstance(chunk, GuardrailChunk):
            self._guardrail = chunk.result
        elif isinstance(chunk, ToolCallDeltaChunk):
            pass  # the completed ToolCallChunk carries the call

    def _cite(self, chunk: CitationChunk) -> None:
        """The cited block's text was streamed as text: the tail of the pending text becomes a
        ``CitationsPart`` (as in the non-streamed answer); further citations of it join it."""
        last = self._content[-1] if self._content else None
        if not self._text and isinstance(last, CitationsPart) and last.text == chunk.text:
            self._content[-1] = CitationsPart(text=last.text, citations=[*last.citations, chunk.citation])
            return
        pending = "".join(self._text)
        if not chunk.text or not pending.endswith(chunk.text):
            raise ModelStreamError("a citation arrived for text the stream did not send")
        self._flush_thinking()
        self._text = [pending[: len(pending) - len(chunk.text)]] if len(pending) > len(chunk.text) else []
        self._flush_text()
        self._content.append(CitationsPart(text=chunk.text, citations=[chunk.citation]))

    def response(self) -> Response:
        if self._finish is None:
            raise EventStreamError("the stream ended before its final events; the answer is incomplete")
        self._flush_thinking()
        self._flush_text()
        response = make_response(
            content=self._content,
            finish_reason=self._finish,
            usage=self._usage,
            model=self.model,
            raw=self.raw_events,
        )
        if self._guardrail is not None:
            response = msgspec.structs.replace(response, guardrail=self._guardrail)
        return response
