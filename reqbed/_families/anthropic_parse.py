"""Reading Claude's native answers: the InvokeModel JSON body and the streamed events.

A Messages answer is ``{"content": [blocks], "stop_reason", "usage": {...}}``; blocks are
``text``, ``tool_use``, ``thinking`` (with its ``signature``) and ``redacted_thinking``. A stream
is Anthropic's event sequence, each event the decoded ``bytes`` of one ``chunk``:
``message_start`` (input and cache usage), per block ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``input_json_delta``, ``thinking_delta``,
``signature_delta``) / ``content_block_stop``, ``message_delta`` (stop reason, output tokens) and
``message_stop``, to which Bedrock adds ``amazon-bedrock-invocationMetrics``. The stream is
complete only when ``message_stop`` arrived; then usage and the finish reason are emitted.

Usage: ``cache_read_input_tokens`` / ``cache_creation_input_tokens`` are reported apart, never
folded into ``input_tokens``; ``total_tokens`` = input + output + cache read + cache write.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._accumulator import ToolCallBuilder, make_response
from .._errors import ModelStreamError
from .._types import (
    Chunk,
    ContentPart,
    FinishChunk,
    FinishReason,
    GuardrailChunk,
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
from . import _common

__all__ = ["AnthropicStreamParser", "anthropic_finish_reason", "anthropic_usage", "parse_message"]

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop_sequence",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    # The turn is unfinished: send resp.message back to let Claude continue (like a cut-off answer).
    "pause_turn": "length",
    "model_context_window_exceeded": "length",
}
_decode = msgspec.json.Decoder().decode


def anthropic_finish_reason(stop_reason: Any) -> FinishReason:
    return _STOP_REASONS.get(stop_reason if isinstance(stop_reason, str) else "", "stop")


def anthropic_usage(u: Any) -> Usage:
    """Anthropic's ``usage`` object -> Usage (cache tokens apart from input tokens)."""
    if not isinstance(u, dict):
        return Usage()
    inp, out = _common.token_count(u.get("input_tokens")), _common.token_count(u.get("output_tokens"))
    read, write = (
        _common.token_count(u.get("cache_read_input_tokens")),
        _common.token_count(u.get("cache_creation_input_tokens")),
    )
    creation = u.get("cache_creation")
    by_ttl: dict[str, int] = {}
    if isinstance(creation, dict):  # {"ephemeral_5m_input_tokens": n, "ephemeral_1h_input_tokens": m}
        for ttl in ("5m", "1h"):
            n = _common.token_count(creation.get(f"ephemeral_{ttl}_input_tokens"))
            if n:
                by_ttl[ttl] = n
    return Usage(
        input_tokens=inp,
        output_tokens=out,
        total_tokens=inp + out + read + write,
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_by_ttl=by_ttl,
    )


def _parts(blocks: Any) -> list[ContentPart]:
    """Content blocks -> parts; adjacent text blocks join (as a stream's text does)."""
    parts: list[ContentPart] = []
    for b in blocks if isinstance(blocks, list) else []:
        if not isinstance(b, dict):
            continue
        kind = b.get("type")
        if kind == "text":
            text = b.get("text") or ""
            if not text:
                continue
            if parts and isinstance(parts[-1], TextPart):
                parts[-1] = TextPart(text=parts[-1].text + text)
            else:
                parts.append(TextPart(text=text))
        elif kind == "tool_use":
            args = b.get("input")
            parts.append(ToolCall(id=b["id"], name=b["name"], arguments=args if isinstance(args, dict) else {}))
        elif kind == "thinking":
            parts.append(ThinkingPart(text=b.get("thinking") or "", signature=b.get("signature")))
        elif kind == "redacted_thinking":
            parts.append(RedactedThinkingPart(data=b.get("data") or ""))
    return parts


def parse_message(data: dict[str, Any], model: str) -> Response:
    """A non-streamed Messages answer -> Response."""
    if data.get("type") == "error" or "content" not in data:
        raise _common.bad_body(f"Claude's answer has no content: {str(data)[:200]}")
    try:
        content = _parts(data.get("content"))
    except KeyError as e:
        raise _common.bad_body(f"a content block of Claude's answer lacks {e}") from None
    return make_response(
        content=content,
        finish_reason=anthropic_finish_reason(data.get("stop_reason")),
        usage=anthropic_usage(data.get("usage")),
        model=model,
        raw=data,
    )


class AnthropicStreamParser:
    """Claude's stream events -> chunks. Usage and finish are emitted at ``message_stop``."""

    def __init__(self) -> None:
        self._tools: dict[int, ToolCallBuilder] = {}
        self._prefilled: dict[int, dict[str, Any]] = {}
        self._usage: dict[str, Any] = {}
        self._stop: FinishReason | None = None
        self._intervened = False
        self._guard: GuardrailChunk | None = None

    def feed(self, event_type: str, payload: bytes) -> list[Chunk]:
        data = _decode(payload) if payload else {}
        if not isinstance(data, dict):
            return []
        guard = _common.stream_guardrail(data)
        if guard is not None:
            self._guard, self._intervened = guard, guard.result.action == "INTERVENED"
        kind = data.get("type")
        if kind == "content_block_delta":
            return self._delta(_common.token_count(data.get("index")), data.get("delta") or {})
        if kind == "content_block_start":
            return self._start(_common.token_count(data.get("index")), data.get("content_block") or {})
        if kind == "content_block_stop":
            index = _common.token_count(data.get("index"))
            builder = self._tools.pop(index, None)
            if builder is None:
                return []
            prefilled = self._prefilled.pop(index, None)
            if prefilled and not builder.fragments:
                call = ToolCall(id=builder.id, name=builder.name, arguments=prefilled)
                return [ToolCallChunk(index=index, tool_call=call)]
            return [builder.complete()]
        if kind == "message_start":
            self._take_usage((data.get("message") or {}).get("usage"))
            return []
        if kind == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            if reason is not None:
                self._stop = anthropic_finish_reason(reason)
            self._take_usage(data.get("usage"))
            return []
        if kind == "message_stop":
            return self._message_stop(data)
        if kind == "error":
            err = data.get("error") or {}
            raise ModelStreamError(f"Claude stream error {err.get('type', '')}: {err.get('message', '')}".strip())
        return []  # ping and events reqbed does not use

    def _start(self, index: int, block: dict[str, Any]) -> list[Chunk]:
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            return [TextChunk(text=block["text"])]
        if kind == "tool_use":
            self._tools[index] = ToolCallBuilder(index, block["id"], block["name"])
            if isinstance(block.get("input"), dict) and block["input"]:
                self._prefilled[index] = block["input"]
            return [ToolCallDeltaChunk(index=index, id=block["id"], name=block["name"])]
        if kind == "thinking" and (block.get("thinking") or block.get("signature")):
            return [ThinkingChunk(text=block.get("thinking") or "", signature=block.get("signature"))]
        if kind == "redacted_thinking":
            return [ThinkingChunk(text="", redacted=block.get("data") or "")]
        return []

    def _delta(self, index: int, delta: dict[str, Any]) -> list[Chunk]:
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text") or ""
            return [TextChunk(text=text)] if text else []
        if kind == "input_json_delta":
            fragment = delta.get("partial_json") or ""
            builder = self._tools.get(index)
            if builder is None:
                raise _common.bad_body(f"tool input for block {index} arrived before its start")
            if not fragment:
                return []
            builder.fragments.append(fragment)
            return [ToolCallDeltaChunk(index=index, arguments_delta=fragment)]
        if kind == "thinking_delta":
            text = delta.get("thinking") or ""
            return [ThinkingChunk(text=text)] if text else []
        if kind == "signature_delta":
            return [ThinkingChunk(text="", signature=delta.get("signature") or "")]
        return []  # citations_delta and future delta types

    def _take_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            if isinstance(usage.get("cache_creation"), dict):
                self._usage["cache_creation"] = usage["cache_creation"]
            for key, value in usage.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    self._usage[key] = value

    def _message_stop(self, data: dict[str, Any]) -> list[Chunk]:
        if self._stop is None and not self._intervened:
            raise _common.bad_body("message_stop arrived before a message_delta with the stop reason")
        usage = dict(self._usage)
        metrics = _common.invocation_metrics_usage(data.get(_common.INVOCATION_METRICS))
        if metrics is not None:
            # Bedrock's own counts fill whatever Anthropic's events left out.
            for ours, count in (
                ("input_tokens", metrics.input_tokens),
                ("output_tokens", metrics.output_tokens),
                ("cache_read_input_tokens", metrics.cache_read_tokens),
                ("cache_creation_input_tokens", metrics.cache_write_tokens),
            ):
                if not usage.get(ours) and count:
                    usage[ours] = count
        finish = _common.native_finish(self._stop or "stop", self._intervened)
        guard: list[Chunk] = [self._guard] if self._guard else []
        return [*guard, UsageChunk(usage=anthropic_usage(usage)), FinishChunk(finish_reason=finish)]

    def finish(self) -> list[Chunk]:
        return []
