"""StreamCore (bytes -> chunks, no I/O) fed with frames from ``encode_frame``, split at every boundary.

The expected chunks are written out by hand from the ConverseStream event shapes AWS documents
(and that the recordings in ../shared show); the frames come from ``reqbed._aws.eventstream.encode_frame``,
which tests/aws/test_eventstream.py checks against an independent encoder.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

import reqbed
from reqbed._aws.eventstream import encode_frame
from reqbed._pipeline import Prepared, prepare
from reqbed._stream import AsyncStreamResponse, StreamCore, StreamResponse
from reqbed._types import (
    Chunk,
    FinishChunk,
    TextChunk,
    ThinkingChunk,
    ToolCall,
    ToolCallChunk,
    ToolCallDeltaChunk,
    Usage,
    UsageChunk,
)
from tests.support import network_pool

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
CREDS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


def prepared(model: str = MODEL) -> Prepared:
    po = {"use_converse": True, "region": "us-east-1", **CREDS}
    return prepare(model, "hi", {"provider_options": po}, stream=True, environ={})


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_frame(headers, json.dumps(payload).encode())


def exception_frame(exc: str, payload: dict[str, Any]) -> bytes:
    headers = {":message-type": "exception", ":exception-type": exc, ":content-type": "application/json"}
    return encode_frame(headers, json.dumps(payload).encode())


def delta(i: int, d: dict[str, Any]) -> bytes:
    return event("contentBlockDelta", {"contentBlockIndex": i, "delta": d, "p": "abcdef"})


USAGE = {"inputTokens": 25, "outputTokens": 15, "totalTokens": 40, "serverToolUsage": {}}
END = [
    event("messageStop", {"stopReason": "end_turn", "p": "ab"}),
    event("metadata", {"usage": USAGE, "metrics": {"latencyMs": 10}, "p": "abc"}),
]
TEXT_BODY = b"".join(
    [
        event("messageStart", {"role": "assistant", "p": "abcdefghij"}),
        delta(0, {"text": "Hello,"}),
        delta(0, {"text": " wanderer"}),
        delta(0, {"text": "!"}),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        *END,
    ]
)
TEXT_CHUNKS: list[Chunk] = [
    TextChunk(text="Hello,"),
    TextChunk(text=" wanderer"),
    TextChunk(text="!"),
    UsageChunk(usage=Usage(input_tokens=25, output_tokens=15, total_tokens=40)),
    FinishChunk(finish_reason="stop"),
]

TOOL_ID = "tooluse_abcdefghijklmnopqrstuv"
TOOL_BODY = b"".join(
    [
        event("messageStart", {"role": "assistant"}),
        delta(0, {"reasoningContent": {"text": "Need the "}}),
        delta(0, {"reasoningContent": {"text": "weather."}}),
        delta(0, {"reasoningContent": {"signature": "c2lnbmF0dXJl"}}),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        delta(1, {"text": "Checking."}),
        event("contentBlockStop", {"contentBlockIndex": 1}),
        event(
            "contentBlockStart", {"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": TOOL_ID, "name": "wx"}}}
        ),
        delta(2, {"toolUse": {"input": '{"city": "Par'}}),
        delta(2, {"toolUse": {"input": 'is", "days": 3}'}}),
        event("contentBlockStop", {"contentBlockIndex": 2}),
        event("messageStop", {"stopReason": "tool_use"}),
        event("metadata", {"usage": {"inputTokens": 5, "outputTokens": 9, "totalTokens": 14}}),
    ]
)
TOOL_CHUNKS: list[Chunk] = [
    ThinkingChunk(text="Need the "),
    ThinkingChunk(text="weather."),
    ThinkingChunk(text="", signature="c2lnbmF0dXJl"),
    TextChunk(text="Checking."),
    ToolCallDeltaChunk(index=2, id=TOOL_ID, name="wx"),
    ToolCallDeltaChunk(index=2, arguments_delta='{"city": "Par'),
    ToolCallDeltaChunk(index=2, arguments_delta='is", "days": 3}'),
    ToolCallChunk(index=2, tool_call=ToolCall(id=TOOL_ID, name="wx", arguments={"city": "Paris", "days": 3})),
    UsageChunk(usage=Usage(input_tokens=5, output_tokens=9, total_tokens=14)),
    FinishChunk(finish_reason="tool_calls"),
]


def run(body: bytes, pieces: list[int] | None = None) -> tuple[StreamCore, list[Chunk]]:
    """Feed ``body`` cut at the offsets in ``pieces`` (default: one byte at a time), then close."""
    core = StreamCore(prepared())
    cuts = list(range(1, len(body))) if pieces is None else pieces
    out: list[Chunk] = []
    start = 0
    for cut in [*cuts, len(body)]:
        out.extend(core.feed(body[start:cut]))
        start = cut
    out.extend(core.close())
    return core, out


@pytest.mark.parametrize(("body", "expected"), [(TEXT_BODY, TEXT_CHUNKS), (TOOL_BODY, TOOL_CHUNKS)])
def test_one_byte_feeds_give_the_events_chunks(body: bytes, expected: list[Chunk]) -> None:
    _, chunks = run(body)
    assert chunks == expected


@pytest.mark.parametrize(("body", "expected"), [(TEXT_BODY, TEXT_CHUNKS), (TOOL_BODY, TOOL_CHUNKS)])
def test_every_two_piece_split_gives_the_same_chunks(body: bytes, expected: list[Chunk]) -> None:
    for cut in range(len(body) + 1):
        _, chunks = run(body, [cut])
        assert chunks == expected, cut


def test_whole_body_in_one_feed() -> None:
    core, chunks = run(TEXT_BODY, [])
    assert chunks == TEXT_CHUNKS
    r = core.response()
    assert r.text == "Hello, wanderer!"
    assert r.finish_reason == "stop"
    assert r.usage == Usage(input_tokens=25, output_tokens=15, total_tokens=40)
    assert r.served_by == MODEL
    assert r.model == "anthropic.claude-3-5-sonnet-20240620-v1:0"
    assert [e["event"] for e in r.raw][:2] == ["messageStart", "contentBlockDelta"]


def test_tool_response_is_assembled_in_order() -> None:
    core, _ = run(TOOL_BODY)
    r = core.response()
    assert r.thinking == "Need the weather."
    assert r.text == "Checking."
    assert r.tool_calls == [ToolCall(id=TOOL_ID, name="wx", arguments={"city": "Paris", "days": 3})]
    assert [p.type for p in r.message.content] == ["thinking", "text", "tool_call"]
    assert r.message.content[0] == reqbed.ThinkingPart(text="Need the weather.", signature="c2lnbmF0dXJl")


def test_redacted_thinking_chunk() -> None:
    body = b"".join(
        [
            event("messageStart", {"role": "assistant"}),
            delta(0, {"reasoningContent": {"redactedContent": "ZW5jcnlwdGVk"}}),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            delta(1, {"text": "ok"}),
            *END,
        ]
    )
    core, chunks = run(body)
    assert chunks[0] == ThinkingChunk(text="", redacted="ZW5jcnlwdGVk")
    assert core.response().message.content == [
        reqbed.RedactedThinkingPart(data="ZW5jcnlwdGVk"),
        reqbed.TextPart(text="ok"),
    ]


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([], id="empty-body"),
        pytest.param([event("messageStart", {"role": "assistant"}), delta(0, {"text": "Hi"})], id="no-stop"),
        pytest.param(
            [event("messageStart", {"role": "assistant"}), delta(0, {"text": "Hi"}), END[0]], id="no-metadata"
        ),
    ],
)
def test_incomplete_stream_fails_at_close(events: list[bytes]) -> None:
    core = StreamCore(prepared())
    for b in b"".join(events):
        core.feed(bytes([b]))
    with pytest.raises(reqbed.EventStreamError, match="incomplete"):
        core.close()
    with pytest.raises(reqbed.EventStreamError):
        core.response()


def test_body_ending_inside_a_frame_is_truncated() -> None:
    core = StreamCore(prepared())
    assert core.feed(TEXT_BODY[:-7]) == TEXT_CHUNKS[:3]
    with pytest.raises(reqbed.EventStreamError, match="truncated"):
        core.close()


def test_corrupt_crc_is_an_event_stream_error() -> None:
    bad = bytearray(delta(0, {"text": "x"}))
    bad[-1] ^= 0xFF
    core = StreamCore(prepared())
    with pytest.raises(reqbed.EventStreamError, match=r"CRC|crc"):
        core.feed(bytes(bad))


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("InternalFailure", reqbed.ServerError),
        ("ThrottlingException", reqbed.ThrottlingError),
        ("SomethingNew", reqbed.APIError),
    ],
)
def test_error_message_type_frame_raises_the_mapped_error(code: str, cls: type[reqbed.APIError]) -> None:
    frame = encode_frame({":message-type": "error", ":error-code": code, ":error-message": "stream broke"}, b"")
    core = StreamCore(prepared(), request_id="0c1f6f2e-3f6b-4a4e-9d57-000000000001")
    for b in frame[:-1]:
        assert core.feed(bytes([b])) == []
    with pytest.raises(cls, match=rf"{code}.*stream broke") as info:
        core.feed(frame[-1:])
    assert isinstance(info.value, reqbed.ReqbedError)
    assert info.value.code == code
    assert info.value.aws_message == "stream broke"
    assert info.value.request_id == "0c1f6f2e-3f6b-4a4e-9d57-000000000001"


def test_unknown_message_type_is_refused() -> None:
    frame = encode_frame({":message-type": "surprise", ":event-type": "x"}, b"{}")
    with pytest.raises(reqbed.EventStreamError, match="surprise"):
        StreamCore(prepared()).feed(frame)


EXCEPTIONS = [
    ("throttlingException", reqbed.ThrottlingError),
    ("modelStreamErrorException", reqbed.ModelStreamError),
    ("validationException", reqbed.BadRequestError),
    ("internalServerException", reqbed.ServerError),
    ("serviceUnavailableException", reqbed.ServiceUnavailableError),
    ("modelTimeoutException", reqbed.ModelTimeoutError),
]


@pytest.mark.parametrize(("exc", "cls"), EXCEPTIONS)
def test_exception_frame_raises_the_mapped_error(exc: str, cls: type[reqbed.APIError]) -> None:
    payload: dict[str, Any] = {"message": "it broke"}
    if exc == "modelStreamErrorException":
        payload.update(originalStatusCode=424, originalMessage="the model failed")
    core = StreamCore(prepared())
    core.feed(event("messageStart", {"role": "assistant"}))
    with pytest.raises(cls) as info:
        core.feed(exception_frame(exc, payload))
    err = info.value
    assert err.code == exc[0].upper() + exc[1:]
    assert err.aws_message == "it broke"
    assert err.request_id is None  # no HTTP answer here; see the next test
    assert "it broke" in str(err)
    if isinstance(err, reqbed.ModelStreamError):
        assert err.original_status_code == 424
        assert err.original_message == "the model failed"


def test_stream_errors_carry_the_request_id_of_the_http_answer() -> None:
    core = StreamCore(prepared(), request_id="7d243dfd-6f43-4621-8425-7192436c60c1")
    with pytest.raises(reqbed.ThrottlingError) as info:
        core.feed(exception_frame("throttlingException", {"message": "slow down"}))
    assert info.value.request_id == "7d243dfd-6f43-4621-8425-7192436c60c1"
    assert "7d243dfd-6f43-4621-8425-7192436c60c1" in str(info.value)


def test_chunks_before_an_exception_frame_in_the_same_read_are_delivered_first() -> None:
    # One network read holding two deltas and then the exception: the deltas must not be lost.
    core = StreamCore(prepared())
    body = b"".join(
        [
            event("messageStart", {"role": "assistant"}),
            delta(0, {"text": "Hello"}),
            delta(0, {"text": " there"}),
            exception_frame("throttlingException", {"message": "Too many tokens"}),
        ]
    )
    assert core.feed(body) == [TextChunk(text="Hello"), TextChunk(text=" there")]
    assert isinstance(core.failed, reqbed.ThrottlingError)
    with pytest.raises(reqbed.ThrottlingError):
        core.close()
    with pytest.raises(reqbed.ThrottlingError):
        core.feed(b"")
    with pytest.raises(reqbed.EventStreamError):
        core.response()


def test_chunks_before_a_corrupt_frame_in_the_same_read_are_delivered_first() -> None:
    bad = bytearray(delta(0, {"text": "x"}))
    bad[-1] ^= 0xFF
    core = StreamCore(prepared())
    assert core.feed(delta(0, {"text": "ok"}) + bytes(bad)) == [TextChunk(text="ok")]
    assert isinstance(core.failed, reqbed.EventStreamError)
    with pytest.raises(reqbed.EventStreamError):
        core.close()


def test_invalid_streamed_tool_json_names_the_tool() -> None:
    body = b"".join(
        [
            event(
                "contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "wx"}}}
            ),
            delta(0, {"toolUse": {"input": '{"city": '}}),
            event("contentBlockStop", {"contentBlockIndex": 0}),
        ]
    )
    with pytest.raises(reqbed.ModelStreamError, match=r"'wx'.*invalid JSON"):
        run(body, [])
    with pytest.raises(reqbed.ModelStreamError, match=r"'wx'.*invalid JSON"):
        run(body)


def test_tool_arguments_that_are_not_an_object_are_refused() -> None:
    body = b"".join(
        [
            event(
                "contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "wx"}}}
            ),
            delta(0, {"toolUse": {"input": "[1, 2]"}}),
            event("contentBlockStop", {"contentBlockIndex": 0}),
        ]
    )
    with pytest.raises(reqbed.ModelStreamError, match=r"'wx'.*not a JSON object"):
        run(body, [])


def test_tool_call_with_no_argument_fragments_has_empty_arguments() -> None:
    body = b"".join(
        [
            event(
                "contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "now"}}}
            ),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event("messageStop", {"stopReason": "tool_use"}),
            event("metadata", {"usage": USAGE}),
        ]
    )
    core, _ = run(body, [])
    assert core.response().tool_calls == [ToolCall(id="t1", name="now", arguments={})]


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(
            encode_frame({":message-type": "event", ":event-type": "contentBlockDelta"}, b"{not json"), id="not-json"
        ),
        pytest.param(
            event("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {}}}), id="empty-tool-start"
        ),
        pytest.param(
            event("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"name": "wx"}}}), id="no-tool-id"
        ),
        pytest.param(delta(0, {"toolUse": {"input": "{}"}}), id="tool-delta-before-start"),
        pytest.param(event("metadata", {"usage": USAGE}), id="metadata-before-stop"),
        pytest.param(event("contentBlockDelta", {"contentBlockIndex": "x", "delta": {"text": "a"}}), id="bad-index"),
    ],
)
def test_unreadable_events_are_model_stream_errors(frame: bytes) -> None:
    with pytest.raises(reqbed.ModelStreamError):
        StreamCore(prepared()).feed(frame)


def test_unknown_events_and_fields_are_ignored() -> None:
    body = event("somethingNew", {"x": 1}) + TEXT_BODY
    _, chunks = run(body, [])
    assert chunks == TEXT_CHUNKS


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (429, "ThrottlingException", reqbed.ThrottlingError),
        (400, "ValidationException", reqbed.BadRequestError),
        (403, "AccessDeniedException", reqbed.AccessDeniedError),
        (500, "InternalServerException", reqbed.ServerError),
        (503, "ServiceUnavailableException", reqbed.ServiceUnavailableError),
    ],
)
def test_non_2xx_json_body_on_a_stream_endpoint_is_the_mapped_error(
    status: int, code: str, cls: type[reqbed.APIError]
) -> None:
    p = prepared()
    headers = {
        "content-type": "application/json",
        "x-amzn-errortype": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-requestid": "11111111-2222-3333-4444-555555555555",
    }
    body = json.dumps({"message": "nope"}).encode()
    http = httpx.Response(status, headers=headers, content=body, request=httpx.Request("POST", p.url))
    with pytest.raises(cls) as info:
        StreamResponse(p, http)
    assert info.value.status == status
    assert info.value.code == code
    assert info.value.request_id == "11111111-2222-3333-4444-555555555555"
    assert http.is_closed


@pytest.mark.anyio
async def test_non_2xx_json_body_on_an_async_stream_endpoint_is_the_mapped_error() -> None:
    p = prepared()
    headers = {"x-amzn-errortype": "ThrottlingException", "content-type": "application/json"}
    http = httpx.Response(
        429, headers=headers, content=b'{"message": "slow down"}', request=httpx.Request("POST", p.url)
    )
    with pytest.raises(reqbed.ThrottlingError, match="slow down"):
        await AsyncStreamResponse.open(p, http)


BAD_TOOL_STREAM = b"".join(
    [
        event("messageStart", {"role": "assistant"}),
        delta(0, {"text": "Calling wx."}),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("contentBlockStart", {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "wx"}}}),
        delta(1, {"toolUse": {"input": '{"city": "Par'}}),
        event("contentBlockStop", {"contentBlockIndex": 1}),
        *END,
    ]
)


def _stream_handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/vnd.amazon.eventstream"}, content=BAD_TOOL_STREAM)


def test_bad_tool_json_through_the_client_names_the_tool() -> None:
    got: list[Chunk] = []
    with reqbed.Client(transport=httpx.MockTransport(_stream_handler)) as client:
        s = client.stream_text(MODEL, "hi", tools=[{"name": "wx"}], provider_options={"use_converse": True, **CREDS})
        with pytest.raises(reqbed.ModelStreamError, match=r"'wx'.*invalid JSON"):
            got.extend(s)
        with pytest.raises(reqbed.ModelStreamError):
            s.response()
    assert got[0] == TextChunk(text="Calling wx.")
    assert not any(isinstance(c, ToolCallChunk) for c in got)


@pytest.mark.anyio
async def test_async_bad_tool_json_through_the_client_names_the_tool() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return _stream_handler(request)

    async with reqbed.Client(async_transport=httpx.MockTransport(handler)) as client:
        s = await client.astream_text(
            MODEL, "hi", tools=[{"name": "wx"}], provider_options={"use_converse": True, **CREDS}
        )
        with pytest.raises(reqbed.ModelStreamError, match=r"'wx'.*invalid JSON"):
            await s.response()


@pytest.mark.anyio
async def test_aclose_inside_a_cancelled_scope_still_releases_the_connection(emulator: Any) -> None:
    async with reqbed.Client() as client:
        s = await client.astream_text(
            MODEL, "close me while cancelled", provider_options={**emulator.provider_options(), "use_converse": True}
        )
        with anyio.CancelScope() as scope:
            scope.cancel()
            await s.aclose()
        transport = await client._async_transport_for_loop()
        pool = network_pool(transport)
        assert pool._requests == []
        assert all(c.is_idle() or c.is_closed() for c in pool.connections)
        with pytest.raises(reqbed.EventStreamError, match="closed"):
            await s.response()
