"""The family-agnostic stream accumulator: chunks -> the Response a non-streamed call gives."""

from __future__ import annotations

import pytest

import reqbed
from reqbed._accumulator import StreamAccumulator
from reqbed._types import (
    FinishChunk,
    RedactedThinkingPart,
    TextChunk,
    TextPart,
    ThinkingChunk,
    ThinkingPart,
    ToolCall,
    ToolCallChunk,
    Usage,
    UsageChunk,
)


def _feed(*chunks: object) -> reqbed.Response:
    acc = StreamAccumulator("m")
    for c in chunks:
        acc.add(c)  # type: ignore[arg-type]
    return acc.response()


def test_two_signed_thinking_blocks_stay_apart() -> None:
    resp = _feed(
        ThinkingChunk(text="first "),
        ThinkingChunk(text="block"),
        ThinkingChunk(text="", signature="sig-1"),
        ThinkingChunk(text="second"),
        ThinkingChunk(text="", signature="sig-2"),
        TextChunk(text="answer"),
        FinishChunk(finish_reason="stop"),
    )
    assert resp.message.content == [
        ThinkingPart(text="first block", signature="sig-1"),
        ThinkingPart(text="second", signature="sig-2"),
        TextPart(text="answer"),
    ]
    assert resp.thinking == "first blocksecond"


def test_content_order_is_kept_across_kinds() -> None:
    call = ToolCall(id="t1", name="add", arguments={"a": 1})
    resp = _feed(
        ThinkingChunk(text="hmm", signature="s"),
        ThinkingChunk(text="", redacted="ZW5jcnlwdGVk"),
        TextChunk(text="Calling "),
        TextChunk(text="add."),
        ToolCallChunk(index=2, tool_call=call),
        UsageChunk(usage=Usage(input_tokens=3, output_tokens=4, total_tokens=7)),
        FinishChunk(finish_reason="tool_calls"),
    )
    assert resp.message.content == [
        ThinkingPart(text="hmm", signature="s"),
        RedactedThinkingPart(data="ZW5jcnlwdGVk"),
        TextPart(text="Calling add."),
        call,
    ]
    assert resp.text == "Calling add."
    assert resp.tool_calls == [call]
    assert resp.finish_reason == "tool_calls"
    assert resp.usage.total_tokens == 7


def test_no_finish_chunk_means_incomplete() -> None:
    acc = StreamAccumulator("m")
    acc.add(TextChunk(text="half an ans"))
    with pytest.raises(reqbed.EventStreamError, match="incomplete"):
        acc.response()
