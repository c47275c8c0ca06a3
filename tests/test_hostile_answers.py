"""Hostile or broken answers over a real loopback socket (issue 19, items 3 and 5).

JSON nested thousands of levels deep (in a 200 answer, an error body, a stream event, streamed tool
arguments) and a megabytes-long error message: every path ends in a typed reqbed error naming the
cause, retries still see a typed error, and no error text grows with the answer.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import reqbed
from reqbed._accumulator import parse_tool_arguments
from reqbed._aws.eventstream import encode_frame
from reqbed._errors import MAX_ERROR_MESSAGE, map_api_error
from tests.support.hostile_server import HostileServer, Reply, deep_json

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
NATIVE = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
TOOL = {"name": "lookup", "description": "look up", "parameters": {"type": "object", "properties": {}}}
DEPTH = 5000


def po(srv: HostileServer, **extra: Any) -> dict[str, Any]:
    return {
        "endpoint_url": srv.endpoint_url,
        "region": "us-east-1",
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "use_converse": True,
        **extra,
    }


def json_reply(status: int, body: bytes) -> Reply:
    return Reply(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", "req-1")], body)


def frame(event_type: str, payload: bytes) -> bytes:
    headers = {":message-type": "event", ":event-type": event_type, ":content-type": "application/json"}
    return encode_frame(headers, payload)


def stream_reply(events: list[tuple[str, bytes]]) -> Reply:
    body = b"".join(frame(et, p) for et, p in events)
    return Reply(200, [("Content-Type", "application/vnd.amazon.eventstream")], body)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


START = ("messageStart", dumps({"role": "assistant"}))
TEXT = ("contentBlockDelta", dumps({"contentBlockIndex": 0, "delta": {"text": "Hi"}}))
STOP = ("contentBlockStop", dumps({"contentBlockIndex": 0}))
END = [
    ("messageStop", dumps({"stopReason": "end_turn"})),
    (
        "metadata",
        dumps({"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}),
    ),
]


@pytest.fixture
def server() -> Iterator[HostileServer]:
    replies: list[Reply] = []

    def respond(method: str, path: str, body: bytes) -> Reply:
        return replies[0] if len(replies) == 1 else replies.pop(0)

    with HostileServer(respond) as srv:
        srv.replies = replies  # type: ignore[attr-defined]
        yield srv


@pytest.fixture
async def aclient() -> Any:
    async with reqbed.Client() as c:
        yield c


def serve(srv: HostileServer, *replies: Reply) -> None:
    srv.replies[:] = list(replies)  # type: ignore[attr-defined]


# -- pure parts ----------------------------------------------------------------------------------


def test_map_api_error_survives_a_deeply_nested_error_body() -> None:
    e = map_api_error(500, {"x-amzn-RequestId": "r1"}, deep_json(DEPTH, key="message"))
    assert isinstance(e, reqbed.ServerError)
    assert "nested too deeply" in str(e)
    assert "r1" in str(e)


def test_map_api_error_survives_a_deep_model_stream_error_body() -> None:
    e = map_api_error(None, {"x-amzn-errortype": "modelStreamErrorException"}, deep_json(DEPTH, key="x"))
    assert isinstance(e, reqbed.ModelStreamError)
    assert e.original_status_code is None


def test_map_api_error_caps_a_huge_message() -> None:
    message = "A" * 5_000_000
    e = map_api_error(400, {}, dumps({"__type": "ValidationException", "message": message}))
    assert isinstance(e, reqbed.BadRequestError)
    assert len(str(e)) < MAX_ERROR_MESSAGE + 200
    assert str(e).startswith("ValidationException (HTTP 400): AAAA")
    assert f"[{5_000_000 - MAX_ERROR_MESSAGE:,} more characters cut]" in str(e)
    assert e.aws_message is not None
    assert len(e.aws_message) < MAX_ERROR_MESSAGE + 100


def test_map_api_error_caps_a_huge_code_and_original_message() -> None:
    body = dumps({"__type": "X" * 1_000_000, "originalMessage": "m" * 1_000_000, "message": "boom"})
    e = map_api_error(None, {"x-amzn-errortype": "modelStreamErrorException"}, body)
    assert isinstance(e, reqbed.ModelStreamError)
    assert e.original_message is not None
    assert len(e.original_message) < MAX_ERROR_MESSAGE + 100
    e2 = map_api_error(400, {}, body)
    assert e2.code is not None
    assert len(e2.code) < 300
    assert len(str(e2)) < 1000


def test_deep_streamed_tool_arguments_are_a_model_stream_error() -> None:
    with pytest.raises(reqbed.ModelStreamError, match=r"lookup.*nested too deeply"):
        parse_tool_arguments(deep_json(DEPTH, key="q").decode(), "lookup")


# -- over a socket: 200 answers, error bodies, retries ------------------------------------------


def test_deep_200_answer_is_a_model_stream_error(server: HostileServer, client: reqbed.Client) -> None:
    serve(server, json_reply(200, deep_json(DEPTH, key="output")))
    with pytest.raises(reqbed.ModelStreamError, match="nested too deeply"):
        client.generate_text(MODEL, "hi", provider_options=po(server), max_retries=0)


def test_deep_200_native_answer_is_a_model_stream_error(server: HostileServer, client: reqbed.Client) -> None:
    serve(server, json_reply(200, deep_json(1200, key="content")))
    with pytest.raises(reqbed.ModelStreamError, match="nested too deeply"):
        client.generate_text(NATIVE, "hi", provider_options=po(server, use_converse=False), max_retries=0)


@pytest.mark.anyio
async def test_deep_200_answer_async(server: HostileServer, aclient: reqbed.Client) -> None:
    serve(server, json_reply(200, deep_json(DEPTH, key="output")))
    with pytest.raises(reqbed.ModelStreamError, match="nested too deeply"):
        await aclient.agenerate_text(MODEL, "hi", provider_options=po(server), max_retries=0)


def test_deep_error_body_is_retried_as_a_typed_error(server: HostileServer, client: reqbed.Client) -> None:
    serve(server, json_reply(500, deep_json(DEPTH, key="message")))
    with pytest.raises(reqbed.ServerError, match="nested too deeply") as info:
        client.generate_text(MODEL, "hi", provider_options=po(server), max_retries=2)
    assert info.value.status == 500
    assert server.requests == 3  # the retry loop saw a ServerError each time, not a RecursionError


def test_deep_error_body_moves_on_to_a_fallback(server: HostileServer, client: reqbed.Client) -> None:
    ok = json_reply(
        200,
        dumps(
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "fine"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            }
        ),
    )
    serve(server, json_reply(503, deep_json(DEPTH, key="message")), ok)
    resp = client.generate_text(
        MODEL,
        "hi",
        provider_options=po(server),
        max_retries=0,
        fallbacks=[{"model": "bedrock:us.amazon.nova-pro-v1:0"}],
    )
    assert resp.text == "fine"
    assert resp.served_by == "bedrock:us.amazon.nova-pro-v1:0"


@pytest.mark.anyio
async def test_deep_error_body_async(server: HostileServer, aclient: reqbed.Client) -> None:
    serve(server, json_reply(400, deep_json(DEPTH, key="message")))
    with pytest.raises(reqbed.BadRequestError, match="nested too deeply"):
        await aclient.agenerate_text(MODEL, "hi", provider_options=po(server), max_retries=0)


def test_huge_error_message_is_capped_in_the_error_and_the_retry_log(
    server: HostileServer, client: reqbed.Client, caplog: pytest.LogCaptureFixture
) -> None:
    huge = "overloaded " * 500_000  # 5.5 MB
    serve(server, json_reply(500, dumps({"__type": "InternalServerException", "message": huge})))
    with caplog.at_level(logging.DEBUG, logger="reqbed"), pytest.raises(reqbed.ServerError) as info:
        client.generate_text(MODEL, "hi", provider_options=po(server), max_retries=1)
    assert len(str(info.value)) < MAX_ERROR_MESSAGE + 200
    assert "more characters cut" in str(info.value)
    retries = [r.getMessage() for r in caplog.records if "retry 1" in r.getMessage()]
    assert len(retries) == 1
    assert len(retries[0]) < MAX_ERROR_MESSAGE + 400
    assert "more characters cut" in retries[0]


# -- over a socket: streams ---------------------------------------------------------------------


def test_deep_stream_event_is_a_model_stream_error(server: HostileServer, client: reqbed.Client) -> None:
    deep = ("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"x"},"p":' + deep_json(DEPTH) + b"}")
    serve(server, stream_reply([START, deep, STOP, *END]))
    with pytest.raises(reqbed.ModelStreamError, match=r"contentBlockDelta.*nested too deeply"):
        client.stream_text(MODEL, "hi", provider_options=po(server), max_retries=0)


def test_deep_stream_event_after_the_first_chunk(server: HostileServer, client: reqbed.Client) -> None:
    deep = ("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"x"},"p":' + deep_json(DEPTH) + b"}")
    serve(server, stream_reply([START, TEXT, deep, STOP, *END]))
    stream = client.stream_text(MODEL, "hi", provider_options=po(server), max_retries=0)
    with pytest.raises(reqbed.ModelStreamError, match="nested too deeply"):
        list(stream)


def test_deep_unknown_stream_event_is_a_model_stream_error(server: HostileServer, client: reqbed.Client) -> None:
    serve(server, stream_reply([START, TEXT, ("someFutureEvent", deep_json(DEPTH, key="x")), STOP, *END]))
    stream = client.stream_text(MODEL, "hi", provider_options=po(server), max_retries=0)
    with pytest.raises(reqbed.ModelStreamError, match="nested too deeply"):
        list(stream)


def deep_tool_stream() -> Reply:
    args = deep_json(DEPTH, key="q").decode()
    pieces = [args[i : i + 4096] for i in range(0, len(args), 4096)]
    return stream_reply(
        [
            START,
            (
                "contentBlockStart",
                dumps({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t1", "name": "lookup"}}}),
            ),
            *[
                ("contentBlockDelta", dumps({"contentBlockIndex": 0, "delta": {"toolUse": {"input": p}}}))
                for p in pieces
            ],
            STOP,
            ("messageStop", dumps({"stopReason": "tool_use"})),
            END[1],
        ]
    )


def test_deep_streamed_tool_arguments_over_a_socket(server: HostileServer, client: reqbed.Client) -> None:
    serve(server, deep_tool_stream())
    stream = client.stream_text(MODEL, "hi", provider_options=po(server), tools=[TOOL], max_retries=0)
    with pytest.raises(reqbed.ModelStreamError, match=r"lookup.*nested too deeply"):
        list(stream)


@pytest.mark.anyio
async def test_deep_streamed_tool_arguments_async(server: HostileServer, aclient: reqbed.Client) -> None:
    serve(server, deep_tool_stream())
    stream = await aclient.astream_text(MODEL, "hi", provider_options=po(server), tools=[TOOL], max_retries=0)
    with pytest.raises(reqbed.ModelStreamError, match=r"lookup.*nested too deeply"):
        async for _ in stream:
            pass


def test_deep_stream_error_frame_is_mapped(server: HostileServer, client: reqbed.Client) -> None:
    headers = {":message-type": "exception", ":exception-type": "throttlingException"}
    body = encode_frame(headers, deep_json(DEPTH, key="message"))
    serve(server, Reply(200, [("Content-Type", "application/vnd.amazon.eventstream")], body))
    with pytest.raises(reqbed.ThrottlingError, match="nested too deeply"):
        client.stream_text(MODEL, "hi", provider_options=po(server), max_retries=0)


def test_deep_invoke_chunk_wrapper_is_a_model_stream_error(server: HostileServer, client: reqbed.Client) -> None:
    inner = base64.b64encode(dumps({"type": "message_start"})).decode()
    wrapper = b'{"bytes":"' + inner.encode() + b'","p":' + deep_json(DEPTH) + b"}"
    serve(server, stream_reply([("chunk", wrapper)]))
    with pytest.raises(reqbed.ModelStreamError):
        client.stream_text(NATIVE, "hi", provider_options=po(server, use_converse=False), max_retries=0)
