"""End to end over a real loopback socket: streaming against the local emulator (sync, asyncio, trio).

The emulator writes each stream in pieces cut at random offsets, so these tests also cover frames split
across network reads. Connection hygiene is checked on httpx's own pool: after a stream ends, breaks,
fails or is cancelled, no request may still hold a connection.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

import reqbed
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}


def po(emu: Emulator, **extra: Any) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True, **extra}


def words_of(text: str) -> list[str]:
    """How the emulator splits text into deltas: the first word, then " word" pieces."""
    ws = text.split(" ")
    return [ws[0], *(" " + w for w in ws[1:])]


def sync_pool(client: reqbed.Client) -> Any:
    """httpcore's connection pool behind the client's sync transport."""
    return client._sync_transport()._inner._pool  # type: ignore[attr-defined]


async def async_pool(client: reqbed.Client) -> Any:
    """httpcore's connection pool behind the client's transport for the running event loop."""
    return (await client._async_transport_for_loop())._inner._pool  # type: ignore[attr-defined]


def in_flight(pool: Any) -> int:
    """Requests still holding a connection (httpcore keeps one entry per response not yet closed)."""
    busy = [c for c in pool.connections if not c.is_idle() and not c.is_closed()]
    return max(len(pool._requests), len(busy))


def wait_until(condition: Any, what: str, limit: float = 10.0) -> None:
    """Poll for a condition another thread brings about (not a timing assertion: the limit is generous)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def collect(stream: reqbed.StreamResponse, into: list[reqbed.Chunk]) -> None:
    """Iterate to the end (or the error), keeping every chunk that arrived."""
    for chunk in stream:
        into.append(chunk)


async def acollect(stream: reqbed.AsyncStreamResponse, into: list[reqbed.Chunk]) -> None:
    async for chunk in stream:
        into.append(chunk)


def fail_while_consuming(stream: reqbed.StreamResponse) -> None:
    with stream:
        for _chunk in stream:
            raise ZeroDivisionError


async def afail_while_consuming(stream: reqbed.AsyncStreamResponse) -> None:
    async with stream:
        async for _chunk in stream:
            raise ZeroDivisionError


@pytest.fixture
def fresh_emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


# -- the happy path -------------------------------------------------------------------------------


def test_stream_chunks_arrive_in_order(emulator: Emulator, client: reqbed.Client) -> None:
    prompt = "Tell me about the quiet northern lakes"
    with client.stream_text(MODEL, prompt, provider_options=po(emulator)) as s:
        chunks = list(s)
    texts = [c.text for c in chunks if isinstance(c, reqbed.TextChunk)]
    assert texts == words_of(f"You said: {prompt}")
    assert [c.type for c in chunks[-2:]] == ["usage", "finish"]
    assert chunks[-1] == reqbed.FinishChunk(finish_reason="stop")
    usage = chunks[-2]
    assert isinstance(usage, reqbed.UsageChunk)
    assert usage.usage.output_tokens == len(f"You said: {prompt}".split())
    assert emulator.requests[-1]["path"].endswith("/converse-stream")
    assert emulator.requests[-1]["headers"]["accept"] == "application/vnd.amazon.eventstream"


def test_text_stream_yields_only_text(emulator: Emulator, client: reqbed.Client) -> None:
    with client.stream_text(MODEL, "Hello stream", provider_options=po(emulator)) as s:
        assert "".join(s.text_stream()) == "You said: Hello stream"
        assert s.response().text == "You said: Hello stream"  # the finished stream still answers


@pytest.mark.anyio
async def test_async_text_stream_yields_only_text(emulator: Emulator) -> None:
    async with reqbed.Client() as client:
        s = await client.astream_text(MODEL, "Hello async stream", provider_options=po(emulator))
        async with s:
            assert [t async for t in s.text_stream()] == words_of("You said: Hello async stream")


SCENARIOS: dict[str, dict[str, Any]] = {
    "text": {"prompt": "Plain question here"},
    "system": {"prompt": "With a system", "system": "Be brief."},
    "tool": {"prompt": "What is the weather? use get_weather", "tools": [WEATHER]},
    "forced_tool": {"prompt": "Anything", "tools": [WEATHER], "tool_choice": "get_weather"},
    "thinking": {"prompt": "Think about this", "thinking": {"budget_tokens": 1024}},
    "thinking_tool": {"prompt": "Think then use get_weather", "tools": [WEATHER], "reasoning_effort": "low"},
    "length": {"prompt": "one two three four five six", "max_tokens": 3},
    "stop": {"prompt": "alpha beta STOP gamma", "stop": ["STOP"]},
}


def _call(scenario: str) -> tuple[str, dict[str, Any]]:
    opts = dict(SCENARIOS[scenario])
    return opts.pop("prompt"), opts


def _assert_same(streamed: reqbed.Response, whole: reqbed.Response) -> None:
    assert streamed.text == whole.text
    assert streamed.thinking == whole.thinking
    assert streamed.tool_calls == whole.tool_calls
    assert streamed.finish_reason == whole.finish_reason
    assert streamed.usage == whole.usage
    assert streamed.message == whole.message
    assert streamed.model == whole.model
    assert streamed.served_by == whole.served_by == MODEL


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_stream_response_equals_generate_text(emulator: Emulator, client: reqbed.Client, scenario: str) -> None:
    prompt, opts = _call(scenario)
    whole = client.generate_text(MODEL, prompt, provider_options=po(emulator), **opts)
    with client.stream_text(MODEL, prompt, provider_options=po(emulator), **opts) as s:
        streamed = s.response()
    _assert_same(streamed, whole)
    expected_finish = {"tool": "tool_calls", "forced_tool": "tool_calls", "thinking_tool": "tool_calls"}
    assert whole.finish_reason == expected_finish.get(
        scenario, {"length": "length", "stop": "stop_sequence"}.get(scenario, "stop")
    )


@pytest.mark.anyio
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_async_stream_response_equals_agenerate_text(emulator: Emulator, scenario: str) -> None:
    prompt, opts = _call(scenario)
    async with reqbed.Client() as client:
        whole = await client.agenerate_text(MODEL, prompt, provider_options=po(emulator), **opts)
        async with await client.astream_text(MODEL, prompt, provider_options=po(emulator), **opts) as s:
            streamed = await s.response()
    _assert_same(streamed, whole)


def test_tool_call_streams_deltas_then_a_completed_call(emulator: Emulator, client: reqbed.Client) -> None:
    with client.stream_text(
        MODEL, "Weather please", tools=[WEATHER], tool_choice="get_weather", provider_options=po(emulator)
    ) as s:
        chunks = list(s)
    deltas = [c for c in chunks if isinstance(c, reqbed.ToolCallDeltaChunk)]
    done = [c for c in chunks if isinstance(c, reqbed.ToolCallChunk)]
    assert deltas[0].name == "get_weather"
    assert deltas[0].id is not None
    assert deltas[0].id.startswith("tooluse_")
    assert len(deltas) > 2  # the arguments arrive in several fragments
    assert len(done) == 1
    call = done[0].tool_call
    assert call.arguments == {"city": "example", "days": 2}
    assert isinstance(call.arguments, dict)
    assert "".join(d.arguments_delta for d in deltas) != ""
    assert chunks.index(done[0]) > chunks.index(deltas[-1])  # completed after its last fragment
    assert chunks[-1] == reqbed.FinishChunk(finish_reason="tool_calls")
    assert call.id == deltas[0].id


def test_thinking_streams_thinking_chunks(emulator: Emulator, client: reqbed.Client) -> None:
    with client.stream_text(MODEL, "Ponder", thinking={"budget_tokens": 2048}, provider_options=po(emulator)) as s:
        chunks = list(s)
        r = s.response()
    thinking = [c for c in chunks if isinstance(c, reqbed.ThinkingChunk)]
    assert "".join(c.text for c in thinking) == "The user asked: Ponder. I will answer directly."
    assert thinking[-1].signature  # the signature arrives on its own chunk
    first_text = next(i for i, c in enumerate(chunks) if isinstance(c, reqbed.TextChunk))
    assert chunks.index(thinking[-1]) < first_text
    assert r.thinking == "The user asked: Ponder. I will answer directly."
    part = r.message.content[0]
    assert isinstance(part, reqbed.ThinkingPart)
    assert part.signature == thinking[-1].signature
    body = emulator.requests[-1]["body"]
    assert b'"thinking":{"type":"enabled","budget_tokens":2048}' in body


# -- faults -----------------------------------------------------------------------------------------


def test_throttling_before_the_stream_fails_at_open(emulator: Emulator, client: reqbed.Client) -> None:
    emulator.inject("throttling")
    with pytest.raises(reqbed.ThrottlingError) as info:
        client.stream_text(MODEL, "Hi", provider_options=po(emulator), max_retries=0)
    assert info.value.status == 429
    assert info.value.code == "ThrottlingException"
    assert info.value.request_id
    assert in_flight(sync_pool(client)) == 0
    assert client.stream_text(MODEL, "Hi", provider_options=po(emulator)).response().text == "You said: Hi"


@pytest.mark.anyio
async def test_async_throttling_before_the_stream_fails_at_open(emulator: Emulator) -> None:
    emulator.inject("throttling")
    async with reqbed.Client() as client:
        with pytest.raises(reqbed.ThrottlingError) as info:
            await client.astream_text(MODEL, "Hi", provider_options=po(emulator), max_retries=0)
        assert info.value.status == 429
        assert in_flight(await async_pool(client)) == 0


EXCEPTIONS = [
    ("throttlingException", reqbed.ThrottlingError),
    ("modelStreamErrorException", reqbed.ModelStreamError),
    ("validationException", reqbed.BadRequestError),
    ("internalServerException", reqbed.ServerError),
    ("serviceUnavailableException", reqbed.ServiceUnavailableError),
    ("modelTimeoutException", reqbed.ModelTimeoutError),
]


def _check_stream_error(err: reqbed.APIError, exc: str) -> None:
    assert err.code == exc[0].upper() + exc[1:]
    assert err.request_id  # the stream's HTTP answer's x-amzn-RequestId
    assert re.fullmatch(r"[0-9a-f-]{36}", err.request_id)
    assert err.aws_message == "Too many tokens, please wait."
    if isinstance(err, reqbed.ModelStreamError):
        assert err.original_status_code == 500
        assert err.original_message == "model failed"


@pytest.mark.parametrize(("exc", "cls"), EXCEPTIONS)
def test_exception_frame_mid_stream_raises_after_the_earlier_chunks(
    emulator: Emulator, client: reqbed.Client, exc: str, cls: type[reqbed.APIError]
) -> None:
    emulator.inject("exception_frame", exception=exc, after=3)  # messageStart + two deltas, then the exception
    got: list[reqbed.Chunk] = []
    with client.stream_text(MODEL, "Hello there friend", provider_options=po(emulator)) as s:
        with pytest.raises(cls) as info:
            collect(s, got)
        assert got == [reqbed.TextChunk(text="You"), reqbed.TextChunk(text=" said:")]
        _check_stream_error(info.value, exc)
        with pytest.raises(cls):  # a broken stream never yields a Response
            s.response()
    assert in_flight(sync_pool(client)) == 0


@pytest.mark.anyio
@pytest.mark.parametrize(("exc", "cls"), EXCEPTIONS)
async def test_async_exception_frame_mid_stream(emulator: Emulator, exc: str, cls: type[reqbed.APIError]) -> None:
    emulator.inject("exception_frame", exception=exc, after=3)
    got: list[reqbed.Chunk] = []
    async with reqbed.Client() as client:
        async with await client.astream_text(MODEL, "Hello there friend", provider_options=po(emulator)) as s:
            with pytest.raises(cls) as info:
                await acollect(s, got)
            with pytest.raises(cls):
                await s.response()
        assert got == [reqbed.TextChunk(text="You"), reqbed.TextChunk(text=" said:")]
        _check_stream_error(info.value, exc)
        assert in_flight(await async_pool(client)) == 0


@pytest.mark.parametrize(("kind", "match"), [("bad_crc", r"CRC|crc"), ("truncate", "truncated")])
def test_corrupt_streams_are_event_stream_errors(
    emulator: Emulator, client: reqbed.Client, kind: str, match: str
) -> None:
    emulator.inject(kind, after=3)
    got: list[reqbed.Chunk] = []
    s = client.stream_text(MODEL, "Hello there friend", provider_options=po(emulator))
    with pytest.raises(reqbed.EventStreamError, match=match):
        collect(s, got)
    assert got == [reqbed.TextChunk(text="You"), reqbed.TextChunk(text=" said:")]
    with pytest.raises(reqbed.EventStreamError):
        s.response()
    assert in_flight(sync_pool(client)) == 0
    assert client.generate_text(MODEL, "after", provider_options=po(emulator)).text == "You said: after"


@pytest.mark.anyio
@pytest.mark.parametrize(("kind", "match"), [("bad_crc", r"CRC|crc"), ("truncate", "truncated")])
async def test_async_corrupt_streams_are_event_stream_errors(emulator: Emulator, kind: str, match: str) -> None:
    emulator.inject(kind, after=3)
    got: list[reqbed.Chunk] = []
    async with reqbed.Client() as client:
        s = await client.astream_text(MODEL, "Hello there friend", provider_options=po(emulator))
        with pytest.raises(reqbed.EventStreamError, match=match):
            await acollect(s, got)
        assert got == [reqbed.TextChunk(text="You"), reqbed.TextChunk(text=" said:")]
        with pytest.raises(reqbed.EventStreamError):
            await s.response()
        assert in_flight(await async_pool(client)) == 0


@pytest.mark.anyio
@pytest.mark.parametrize(("kind", "match"), [("bad_crc", r"CRC|crc"), ("truncate", "truncated")])
async def test_async_stream_corrupt_before_its_first_chunk(emulator: Emulator, kind: str, match: str) -> None:
    # Whether this surfaces when the stream opens or on the first read, it is never a Response.
    emulator.inject(kind, after=1)

    async def open_and_read(client: reqbed.Client) -> reqbed.Response:
        s = await client.astream_text(MODEL, "Hello there", provider_options=po(emulator), max_retries=0)
        return await s.response()

    async with reqbed.Client() as client:
        with pytest.raises(reqbed.EventStreamError, match=match):
            await open_and_read(client)
        assert in_flight(await async_pool(client)) == 0


@pytest.mark.parametrize(("kind", "match"), [("bad_crc", r"CRC|crc"), ("truncate", "truncated")])
def test_stream_corrupt_before_its_first_chunk(
    emulator: Emulator, client: reqbed.Client, kind: str, match: str
) -> None:
    emulator.inject(kind, after=1)
    with pytest.raises(reqbed.EventStreamError, match=match):
        client.stream_text(MODEL, "Hello there", provider_options=po(emulator), max_retries=0).response()
    assert in_flight(sync_pool(client)) == 0


def test_slow_stream_still_completes(emulator: Emulator, client: reqbed.Client) -> None:
    emulator.inject("slow", delay=0.01)
    with client.stream_text(MODEL, "slow and steady", provider_options=po(emulator)) as s:
        assert s.response().text == "You said: slow and steady"


@pytest.mark.anyio
async def test_async_slow_stream_still_completes(emulator: Emulator) -> None:
    emulator.inject("slow", delay=0.01)
    async with reqbed.Client() as client:
        s = await client.astream_text(MODEL, "slow and steady", provider_options=po(emulator))
        assert (await s.response()).text == "You said: slow and steady"


# -- releasing the connection -------------------------------------------------------------------------


def test_breaking_out_early_releases_the_connection(fresh_emulator: Emulator) -> None:
    emu = fresh_emulator
    with reqbed.Client() as client:
        for _ in range(20):
            with client.stream_text(MODEL, "a long answer " * 20, provider_options=po(emu)) as s:
                for _chunk in s:
                    break
            assert in_flight(sync_pool(client)) == 0
        with client.stream_text(MODEL, "x y", provider_options=po(emu)) as s:
            for _text in s.text_stream():
                break
        assert in_flight(sync_pool(client)) == 0
        assert client.generate_text(MODEL, "still fine", provider_options=po(emu)).text == "You said: still fine"
        # The server sees the abandoned connections close; they do not pile up.
        wait_until(lambda: emu.open_connections <= 2, "the emulator's connections closing")
    wait_until(lambda: emu.open_connections == 0, "every connection closing with the client")


def test_close_without_with_releases_the_connection(emulator: Emulator, client: reqbed.Client) -> None:
    s = client.stream_text(MODEL, "close me", provider_options=po(emulator))
    next(iter(s))
    assert in_flight(sync_pool(client)) == 1
    s.close()
    s.close()  # idempotent
    assert in_flight(sync_pool(client)) == 0
    with pytest.raises(reqbed.EventStreamError, match="closed"):
        s.response()


def test_an_error_in_the_consumer_inside_with_releases_the_connection(
    emulator: Emulator, client: reqbed.Client
) -> None:
    s = client.stream_text(MODEL, "oops", provider_options=po(emulator))
    with pytest.raises(ZeroDivisionError):
        fail_while_consuming(s)
    assert in_flight(sync_pool(client)) == 0
    with pytest.raises(reqbed.EventStreamError):
        s.response()


@pytest.mark.anyio
async def test_async_break_and_consumer_error_release_the_connection(emulator: Emulator) -> None:
    async with reqbed.Client() as client:
        for _ in range(5):
            async with await client.astream_text(MODEL, "many words " * 10, provider_options=po(emulator)) as s:
                async for _chunk in s:
                    break
            assert in_flight(await async_pool(client)) == 0
        s = await client.astream_text(MODEL, "oops", provider_options=po(emulator))
        with pytest.raises(ZeroDivisionError):
            await afail_while_consuming(s)
        assert in_flight(await async_pool(client)) == 0
        with pytest.raises(reqbed.EventStreamError):
            await s.response()
        async with await client.astream_text(MODEL, "text then leave", provider_options=po(emulator)) as s:
            async for _text in s.text_stream():
                break
        assert in_flight(await async_pool(client)) == 0
        assert (await client.agenerate_text(MODEL, "fine", provider_options=po(emulator))).text == "You said: fine"


@pytest.mark.anyio
async def test_move_on_after_around_a_slow_stream_releases_the_connection(emulator: Emulator) -> None:
    emulator.inject("slow", delay=0.2)  # 11 events: the whole stream needs well over two seconds
    got: list[reqbed.Chunk] = []
    async with reqbed.Client() as client:
        s = await client.astream_text(MODEL, "one two three four five", provider_options=po(emulator))
        with anyio.move_on_after(0.3) as scope:
            async with s:
                await acollect(s, got)
        assert scope.cancelled_caught
        assert not any(isinstance(c, reqbed.FinishChunk) for c in got)
        assert in_flight(await async_pool(client)) == 0
        with pytest.raises(reqbed.EventStreamError):
            await s.response()
        assert (await client.agenerate_text(MODEL, "again", provider_options=po(emulator))).text == "You said: again"


@pytest.mark.anyio
async def test_cancelled_while_opening_a_slow_stream_releases_the_connection(emulator: Emulator) -> None:
    emulator.inject("slow", delay=0.5)
    async with reqbed.Client() as client:
        with anyio.move_on_after(0.1) as scope:
            await client.astream_text(MODEL, "never opened", provider_options=po(emulator))
        assert scope.cancelled_caught
        assert in_flight(await async_pool(client)) == 0
        assert (await client.agenerate_text(MODEL, "after", provider_options=po(emulator))).text == "You said: after"


@pytest.mark.anyio
async def test_cancel_scope_inside_iteration_releases_the_connection(emulator: Emulator) -> None:
    emulator.inject("slow", delay=0.01)
    async with reqbed.Client() as client:
        with anyio.CancelScope() as scope:
            async with await client.astream_text(MODEL, "a b c d e f", provider_options=po(emulator)) as s:
                async for _chunk in s:
                    scope.cancel()
                    await anyio.sleep(0)  # cancelled here, in the consumer: __aexit__ closes under cancellation
        assert scope.cancelled_caught
        assert in_flight(await async_pool(client)) == 0
        assert (await client.agenerate_text(MODEL, "next", provider_options=po(emulator))).text == "You said: next"


@pytest.mark.anyio
async def test_cancel_while_waiting_for_bytes_releases_the_connection(emulator: Emulator) -> None:
    emulator.inject("slow", delay=0.05)
    async with reqbed.Client() as client:
        s = await client.astream_text(MODEL, "p q r s t u", provider_options=po(emulator))
        with anyio.CancelScope() as scope:
            async for chunk in s:
                if isinstance(chunk, reqbed.TextChunk):
                    scope.cancel()  # the next pull awaits the network inside a cancelled scope
        assert scope.cancelled_caught
        assert in_flight(await async_pool(client)) == 0
        with pytest.raises(reqbed.EventStreamError):
            await s.response()


def test_stream_connection_errors_are_reqbed_errors(emulator: Emulator, client: reqbed.Client) -> None:
    emulator.inject("drop")
    with pytest.raises(reqbed.APIConnectionError):
        client.stream_text(MODEL, "dropped", provider_options=po(emulator), max_retries=0)
    assert in_flight(sync_pool(client)) == 0


def test_stream_read_timeout_is_a_request_timeout(emulator: Emulator) -> None:
    emulator.inject("stall")
    with reqbed.Client(timeout=httpx.Timeout(5.0, read=0.2)) as client:
        with pytest.raises(reqbed.RequestTimeoutError):
            client.stream_text(MODEL, "stalled", provider_options=po(emulator), max_retries=0).response()
        assert in_flight(sync_pool(client)) == 0
