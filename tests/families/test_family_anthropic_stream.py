"""Claude's native streams (InvokeModelWithResponseStream) and the emulator end to end.

Oracles: Anthropic's documented stream events (tests/golden/anthropic/stream_*.json, with their
source), the non-streamed parse of the same answer, and the real Bedrock recordings' shape of
``amazon-bedrock-invocationMetrics``. Frames are built with ``encode_frame``; each event travels as
the base64 ``bytes`` of one ``chunk`` event, as Bedrock sends it.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

import reqbed
from reqbed._aws.eventstream import EventStreamDecoder, encode_frame
from reqbed._pipeline import prepare
from reqbed._stream import StreamCore
from reqbed.testing import Emulator
from reqbed.testing import _anthropic_responder as responder
from reqbed.testing._converse_responder import BadRequest
from tests.families.test_family_anthropic import ENV, MODEL, WEATHER, check_expected, golden

CHUNK_HEADERS = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}


def chunk_frames(events: list[dict[str, Any]]) -> bytes:
    """The wire bytes of a native stream: one ``chunk`` event per Anthropic event."""
    out = b""
    for e in events:
        inner = base64.b64encode(json.dumps(e).encode()).decode()
        out += encode_frame(CHUNK_HEADERS, json.dumps({"bytes": inner, "p": "abcdefgh"}).encode())
    return out


def core() -> StreamCore:
    return StreamCore(prepare(MODEL, "hi", {}, stream=True, environ=ENV))


def streamed(data: bytes, cuts: list[int] | None = None) -> tuple[reqbed.Response, list[reqbed.Chunk]]:
    """Feed ``data`` split at ``cuts`` (or whole) and return the Response and every chunk."""
    c = core()
    chunks: list[reqbed.Chunk] = []
    bounds = [0, *(cuts or []), len(data)]
    for a, b in itertools.pairwise(bounds):
        chunks += c.feed(data[a:b])
    chunks += c.close()
    return c.response(), chunks


def parsed(body: dict[str, Any]) -> reqbed.Response:
    return prepare(MODEL, "hi", {}, environ=ENV).parse(200, {}, json.dumps(body).encode())


def same_answer(a: reqbed.Response, b: reqbed.Response) -> None:
    # raw, and what differs per request (request id, timings), apart
    apart = {"raw": None, "request_id": None, "elapsed": None, "time_to_first_token": None}
    assert msgspec.structs.replace(a, **apart) == msgspec.structs.replace(b, **apart)


# -- documented streams ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["stream_tool_use.json", "stream_thinking.json"])
def test_documented_stream(name: str) -> None:
    g = golden(name)
    resp, chunks = streamed(chunk_frames(g["events"]))
    check_expected(resp, g["expected"])
    assert isinstance(chunks[-1], reqbed.FinishChunk)
    assert [e["payload"] for e in resp.raw] == g["events"]
    if "equivalent_response" in g:
        same_answer(resp, parsed(g["equivalent_response"]))


def test_documented_tool_stream_chunks() -> None:
    _, chunks = streamed(chunk_frames(golden("stream_tool_use.json")["events"]))
    tool_chunks = [c for c in chunks if isinstance(c, (reqbed.ToolCallDeltaChunk, reqbed.ToolCallChunk))]
    assert tool_chunks[0] == reqbed.ToolCallDeltaChunk(index=1, id="toolu_01T1x1fJ34qAmk2tNTrN7Up6", name="get_weather")
    deltas = "".join(c.arguments_delta for c in tool_chunks if isinstance(c, reqbed.ToolCallDeltaChunk))
    assert json.loads(deltas) == {"location": "San Francisco, CA", "unit": "fahrenheit"}
    assert isinstance(tool_chunks[-1], reqbed.ToolCallChunk)
    assert [type(c).__name__ for c in chunks[-2:]] == ["UsageChunk", "FinishChunk"]


def test_documented_stream_split_at_every_byte_boundary() -> None:
    data = chunk_frames(golden("stream_tool_use.json")["events"])
    whole, whole_chunks = streamed(data)
    for cut in range(1, len(data)):
        resp, chunks = streamed(data, [cut])
        assert resp == whole, cut
        assert chunks == whole_chunks, cut
    resp, _ = streamed(data, list(range(1, len(data))))  # one byte per read
    assert resp == whole


def emulator_answer(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return responder.handle("anthropic.claude-3-7-sonnet-20250219-v1:0", body)


def test_streamed_equals_non_streamed_for_thinking_redacted_and_tools() -> None:
    text = f"Use get_weather please {responder.REDACTED_THINKING_TRIGGER}"
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 5000,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        "tools": [{"name": "get_weather", "input_schema": WEATHER["parameters"]}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    answer, events = emulator_answer(body)
    assert [b["type"] for b in answer["content"]] == ["thinking", "redacted_thinking", "text", "tool_use"]
    data = chunk_frames(events)
    whole = parsed(answer)
    for cuts in ([], list(range(1, len(data), 1)), list(range(7, len(data), 13))):
        resp, _ = streamed(data, cuts)
        same_answer(resp, whole)
    assert [p.type for p in whole.message.content] == ["thinking", "redacted_thinking", "text", "tool_call"]


def test_a_stream_without_message_stop_is_incomplete() -> None:
    events = golden("stream_thinking.json")["events"][:-1]
    c = core()
    chunks = c.feed(chunk_frames(events))
    assert not any(isinstance(x, reqbed.FinishChunk) for x in chunks)
    with pytest.raises(reqbed.EventStreamError, match="incomplete"):
        c.close()


def test_a_stream_error_event_and_bad_tool_json_raise() -> None:
    with pytest.raises(reqbed.ModelStreamError, match="overloaded_error"):
        core().feed(chunk_frames([{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]))
    events = golden("stream_tool_use.json")["events"]
    broken = [e for e in events if e.get("delta", {}).get("partial_json") != 'renheit"}']
    with pytest.raises(reqbed.ModelStreamError, match="get_weather"):
        streamed(chunk_frames(broken))


def test_invocation_metrics_fill_what_the_events_leave_out() -> None:
    events = [dict(e) for e in golden("stream_thinking.json")["events"]]
    metrics = {
        "inputTokenCount": 20,
        "outputTokenCount": 70,
        "invocationLatency": 900,
        "firstByteLatency": 300,
        "cacheReadInputTokenCount": 1000,
        "cacheWriteInputTokenCount": 5,
    }
    events[-1] = {"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics}
    resp, _ = streamed(chunk_frames(events))
    assert resp.usage == reqbed.Usage(
        input_tokens=20, output_tokens=70, total_tokens=1095, cache_read_tokens=1000, cache_write_tokens=5
    )


def test_real_bedrock_invocation_metrics_shape(recordings_dir: Path) -> None:
    """The recordings hold no native Claude stream (Claude was recorded through Converse only), but
    gpt-oss's native stream shows Bedrock's real ``amazon-bedrock-invocationMetrics``: read it here."""
    path = recordings_dir / "amazon_bedrock" / "openai_gpt_oss_20b_1_0" / "streaming.json"
    rec = json.loads(path.read_text())
    decoder = EventStreamDecoder()
    frames = [f for c in rec["chunks"] for f in decoder.feed(base64.b64decode(c["b64"]))]
    last = json.loads(base64.b64decode(json.loads(frames[-1].payload)["bytes"]))
    metrics = last["amazon-bedrock-invocationMetrics"]
    events = [
        {"type": "message_start", "message": {"id": "m", "content": [], "usage": {}}},
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics},
    ]
    resp, _ = streamed(chunk_frames(events))
    assert resp.usage.input_tokens == metrics["inputTokenCount"] > 0
    assert resp.usage.output_tokens == metrics["outputTokenCount"] > 0
    assert resp.finish_reason == "length"
    claude_native = [
        p
        for p in (recordings_dir / "amazon_bedrock").glob("anthropic_*/*.json")
        if "/invoke" in json.loads(p.read_text())["request"]["url"]
    ]
    assert claude_native == []  # if this changes, parse those recordings here


# -- the emulator end to end -----------------------------------------------------------------------


def test_generate_and_stream_through_the_emulator(emulator: Emulator, client: reqbed.Client) -> None:
    po = emulator.provider_options()
    whole = client.generate_text(MODEL, "Hello native Claude", system="Be brief", provider_options=po)
    assert emulator.requests[-1]["path"].endswith("/invoke")
    sent = json.loads(emulator.requests[-1]["body"])
    assert sent["anthropic_version"] == "bedrock-2023-05-31"
    assert whole.text == "You said: Hello native Claude"
    assert whole.finish_reason == "stop"
    with client.stream_text(MODEL, "Hello native Claude", system="Be brief", provider_options=po) as s:
        texts = list(s.text_stream())
        resp = s.response()
    assert emulator.requests[-1]["path"].endswith("/invoke-with-response-stream")
    assert "".join(texts) == whole.text
    same_answer(resp, whole)


@pytest.mark.anyio
async def test_async_generate_and_stream_through_the_emulator(emulator: Emulator) -> None:
    po = emulator.provider_options(bearer=True)
    opts = {"tools": [WEATHER], "tool_choice": "get_weather", "max_tokens": 300}
    async with reqbed.Client() as client:
        whole = await client.agenerate_text(MODEL, "Weather in Paris?", provider_options=po, **opts)
        async with await client.astream_text(MODEL, "Weather in Paris?", provider_options=po, **opts) as s:
            chunks = [c async for c in s]
            resp = await s.response()
    assert whole.finish_reason == "tool_calls"
    assert whole.tool_calls[0].arguments == {"city": "example"}
    assert any(isinstance(c, reqbed.ToolCallChunk) for c in chunks)
    same_answer(resp, whole)


@pytest.mark.parametrize("stream", [False, True])
def test_thinking_and_tools_round_trip(emulator: Emulator, client: reqbed.Client, stream: bool) -> None:
    po = {**emulator.provider_options(), "use_converse": False}  # Claude's native body (tools default to Converse)
    opts: dict[str, Any] = {"tools": [WEATHER], "thinking": {"budget_tokens": 1024}, "provider_options": po}

    def call(prompt: Any) -> reqbed.Response:
        if not stream:
            return client.generate_text(MODEL, prompt, **opts)
        with client.stream_text(MODEL, prompt, **opts) as s:
            return s.response()

    prompt: list[Any] = [{"role": "user", "content": "Please call get_weather for Paris"}]
    first = call(prompt)
    assert first.finish_reason == "tool_calls"
    assert first.thinking
    thought = first.message.content[0]
    assert isinstance(thought, reqbed.ThinkingPart)
    assert thought.signature
    call_id = first.tool_calls[0].id
    prompt += [
        first.message,
        {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": call_id, "content": "14C"}]},
    ]
    second = call(prompt)
    assert second.text == "Tool results: 14C"
    replayed = json.loads(emulator.requests[-1]["body"])["messages"][1]["content"]
    assert replayed[0] == {"type": "thinking", "thinking": thought.text, "signature": thought.signature}
    assert [b["type"] for b in replayed] == ["thinking", "text", "tool_use"]
    # Leaving the thinking out is what Claude refuses: the emulator answers 400 like Bedrock.
    stripped = {"role": "assistant", "content": [p for p in first.message.content if p.type != "thinking"]}
    with pytest.raises(reqbed.BadRequestError, match="must start with a thinking block"):
        call([prompt[0], stripped, prompt[2]])


def test_prompt_cache_write_then_read(emulator: Emulator, client: reqbed.Client) -> None:
    po = {**emulator.provider_options(), "anthropic_prompt_cache": True, "anthropic_prompt_cache_ttl": "1h"}
    system = f"A long system prompt for the cache test {uuid.uuid4()} " * 3  # the emulator's cache is per process
    first = client.generate_text(MODEL, "question one", system=system, provider_options=po)
    with client.stream_text(MODEL, "question one", system=system, provider_options=po) as s:
        second = s.response()
    assert first.usage.cache_write_tokens > 0
    assert first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert second.usage.cache_write_tokens == 0
    assert second.usage.input_tokens == first.usage.input_tokens  # cache tokens never folded in
    sent = json.loads(emulator.requests[-1]["body"])
    assert sent["system"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


def test_the_emulator_refuses_a_bad_native_body_like_bedrock(emulator: Emulator, client: reqbed.Client) -> None:
    po = {**emulator.provider_options(), "additional_model_request_fields": {"anthropic_version": "2023-06-01"}}
    with pytest.raises(reqbed.BadRequestError, match="bedrock-2023-05-31") as info:
        client.generate_text(MODEL, "hi", provider_options=po)
    assert info.value.status == 400


# -- the emulator's validation ---------------------------------------------------------------------


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 2000,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


USE = {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}
TOOLS = [{"name": "get_weather", "input_schema": {"type": "object"}}]


def _turns(*contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": c} for i, c in enumerate(contents)]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (_body(anthropic_version=None), r"anthropic_version"),
        (_body(max_tokens=None), r"max_tokens"),
        (_body(max_tokens="10"), r"max_tokens"),
        (_body(messages=[{"role": "assistant", "content": "hi"}]), "first message"),
        (_body(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]), "alternate"),
        (_body(messages=[{"role": "user", "content": [{"type": "text", "text": " "}]}]), "non-empty"),
        (_body(messages=_turns([{"type": "text", "text": "q"}], [USE], [RESULT])), "must define tools"),
        (
            _body(
                messages=_turns([{"type": "text", "text": "q"}], [USE], [{**RESULT, "tool_use_id": "t9"}]), tools=TOOLS
            ),
            "tool_use_id",
        ),
        (
            _body(
                messages=_turns([{"type": "text", "text": "q"}], [USE], [{"type": "text", "text": "x"}]), tools=TOOLS
            ),
            "without `tool_result`",
        ),
        (
            _body(
                messages=_turns([{"type": "text", "text": "q"}], [USE], [{"type": "text", "text": "x"}, RESULT]),
                tools=TOOLS,
            ),
            "come first",
        ),
        (
            _body(system=[{"type": "text", "text": str(i), "cache_control": {"type": "ephemeral"}} for i in range(5)]),
            "maximum of 4",
        ),
        (
            _body(
                system=[
                    {"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": "b", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                ]
            ),
            "ttl='1h'",
        ),
        (_body(thinking={"type": "enabled", "budget_tokens": 1000}), "greater than or equal to 1024"),
        (_body(thinking={"type": "enabled", "budget_tokens": 2000}), "max_tokens"),
        (_body(thinking={"type": "enabled", "budget_tokens": 1024}, temperature=0.5), "temperature"),
        (_body(thinking={"type": "enabled", "budget_tokens": 1024}, top_k=5), "top_k"),
        (
            _body(thinking={"type": "enabled", "budget_tokens": 1024}, tools=TOOLS, tool_choice={"type": "any"}),
            "forces tool use",
        ),
        (
            _body(
                messages=_turns(
                    [{"type": "text", "text": "q"}], [{"type": "thinking", "thinking": "x", "signature": "forged"}]
                )
            ),
            "Invalid `signature`",
        ),
        (_body(temperature=1.5), "temperature"),
    ],
)
def test_emulator_validation(body: dict[str, Any], match: str) -> None:
    with pytest.raises(BadRequest, match=match):
        emulator_answer(body)


def test_emulator_accepts_what_reqbed_sends() -> None:
    """Every golden body reqbed sends for a conversation passes the emulator's checks (signed thinking aside)."""
    for path in sorted((Path(__file__).parent / "golden" / "anthropic").glob("request_*.json")):
        body = json.loads(path.read_text())["body"]
        if "thinking_tool_loop" in path.name:
            continue  # its signatures are Anthropic's examples, which only Claude can verify
        answer, events = emulator_answer(body)
        assert answer["content"], path.name
        assert events[-1]["type"] == "message_stop"
