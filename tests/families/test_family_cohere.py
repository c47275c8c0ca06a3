"""Cohere Command R / R+'s native /invoke body: golden bodies from AWS's documented request format,
AWS-shaped responses and stream events, refusals before I/O, and the emulator end to end."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

import reqbed
from reqbed._aws.eventstream import encode_frame
from reqbed._pipeline import Prepared
from reqbed._stream import StreamCore
from reqbed._types import (
    Chunk,
    FinishChunk,
    ImagePart,
    TextChunk,
    ToolCall,
    ToolCallChunk,
    ToolCallDeltaChunk,
    Usage,
    UsageChunk,
)
from reqbed.testing import Emulator
from reqbed.testing._converse_responder import BadRequest
from reqbed.testing._native_responders import handle_cohere
from tests.support.native import body_of, prepared, refused

R = "bedrock:cohere.command-r-v1:0"
R_PLUS = "bedrock:us.cohere.command-r-plus-v1:0"
GOLDEN = Path(__file__).parent / "golden" / "cohere"
WEATHER = {
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}},
}
#: Force the native body (with tools, the endpoint rule picks Converse).
NATIVE = {"use_converse": False}





# -- golden request bodies (tests/golden/cohere) -------------------------------------------------


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("request_*.json")), ids=lambda p: p.stem)
def test_golden_request_bodies(path: Path) -> None:
    case = json.loads(path.read_text())
    assert case["source"].startswith("https://docs.aws.amazon.com/")
    for stream in (False, True):
        opts = json.loads(json.dumps(case["options"]))
        if opts.get("tools"):  # tools go to Converse by default: force the native body
            opts["provider_options"] = {**opts.get("provider_options", {}), "use_converse": False}
        p = prepared(case["model"], case["prompt"], stream=stream, **opts)
        assert p.formatter.name == "cohere"
        assert p.url.endswith("/invoke-with-response-stream" if stream else "/invoke")
        assert body_of(p) == case["body"]  # the same body streaming or not: the operation decides


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("response_*.json")), ids=lambda p: p.stem)
def test_golden_responses(path: Path) -> None:
    case = json.loads(path.read_text())
    exp = case["expected"]
    resp = prepared(R, "hi").parse(200, {}, json.dumps(case["response"]).encode())
    assert resp.text == exp["text"]
    assert resp.finish_reason == exp["finish_reason"]
    assert resp.usage == Usage(
        input_tokens=exp["input_tokens"],
        output_tokens=exp["output_tokens"],
        total_tokens=exp["input_tokens"] + exp["output_tokens"],
    )
    assert [(c.name, c.arguments) for c in resp.tool_calls] == [(c["name"], c["arguments"]) for c in exp["tool_calls"]]
    assert resp.raw == case["response"]  # citations and the rest stay available
    again = prepared(R, "hi").parse(200, {}, json.dumps(case["response"]).encode())
    assert [c.id for c in again.tool_calls] == [c.id for c in resp.tool_calls]  # stable ids


def test_tool_call_ids_differ_per_generation_and_position() -> None:
    def ids(gen: str) -> list[str]:
        calls = [{"name": "f", "parameters": {}}, {"name": "f", "parameters": {}}]
        data = {"text": "", "generation_id": gen, "finish_reason": "COMPLETE", "tool_calls": calls}
        return [c.id for c in prepared(R, "hi").parse(200, {}, json.dumps(data).encode()).tool_calls]

    first, second = ids("g1"), ids("g2")
    assert len(set(first + second)) == 4


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("COMPLETE", "stop"),
        ("MAX_TOKENS", "length"),
        ("STOP_SEQUENCE", "stop_sequence"),
        ("ERROR_TOXIC", "content_filter"),
        ("ERROR_LIMIT", "length"),
        ("ERROR", "error"),
        ("USER_CANCEL", "stop"),
    ],
)
def test_finish_reasons(reason: str, expected: str) -> None:
    data = {"text": "x", "generation_id": "g", "finish_reason": reason}
    assert prepared(R, "hi").parse(200, {}, json.dumps(data).encode()).finish_reason == expected


def test_usage_is_zero_without_meta() -> None:
    resp = prepared(R, "hi").parse(200, {}, b'{"text": "x", "finish_reason": "COMPLETE"}')
    assert resp.usage == Usage()


def test_an_unreadable_body_is_an_error() -> None:
    with pytest.raises(reqbed.ModelStreamError):
        prepared(R, "hi").parse(200, {}, b'["not", "a", "response"]')


# -- body rules ----------------------------------------------------------------------------------


def test_tool_history_without_tools_sends_stub_definitions() -> None:
    prompt = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {}}]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_call_id": "c1", "content": "sunny"},
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
    ]
    body = body_of(prepared(R, prompt, provider_options=NATIVE))
    assert body["tools"] == [
        {"name": "get_weather", "description": "(tool used earlier in this conversation)", "parameter_definitions": {}}
    ]
    # a user turn holding results and text: both go, the text as the message
    assert body["message"] == "And tomorrow?"
    assert body["tool_results"] == [{"call": {"name": "get_weather", "parameters": {}}, "outputs": [{"text": "sunny"}]}]


def test_earlier_tool_results_go_in_the_history_as_tool_turns() -> None:
    prompt = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {}}]},
        {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "c1", "content": "x", "is_error": True}]},
        {"role": "assistant", "content": "It failed."},
        {"role": "user", "content": "Try again"},
    ]
    body = body_of(prepared(R, prompt, tools=[WEATHER], provider_options=NATIVE))
    assert body["message"] == "Try again"
    assert body["chat_history"] == [
        {"role": "USER", "message": "weather?"},
        {"role": "CHATBOT", "message": "", "tool_calls": [{"name": "get_weather", "parameters": {}}]},
        {
            "role": "TOOL",
            "tool_results": [
                {"call": {"name": "get_weather", "parameters": {}}, "outputs": [{"text": "x", "is_error": True}]}
            ],
        },
        {"role": "CHATBOT", "message": "It failed."},
    ]
    assert "tool_results" not in body


def test_tool_choice_none_omits_tools_and_forcing_a_tool_is_refused() -> None:
    native = {"tools": [WEATHER], "provider_options": NATIVE}
    assert "tools" not in body_of(prepared(R, "hi", tool_choice="none", **native))
    assert "tools" in body_of(prepared(R, "hi", tool_choice="auto", **native))
    refused("tool_choice", R, "hi", tool_choice="any", **native)
    refused("tool_choice", R, "hi", tool_choice="get_weather", **native)


def test_additional_fields_are_merged() -> None:
    body = body_of(prepared(R, "hi", provider_options={"additional_model_request_fields": {"seed": 7}}))
    assert body == {"message": "hi", "seed": 7}


def test_refusals_before_any_io() -> None:
    refused("temperature", R, "hi", temperature=1.5)
    refused("top_p", R, "hi", top_p=1.0)
    refused("prompt[1]", R, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure"}])
    native = {"use_converse": False}
    pdf = {"type": "document", "data": base64.b64encode(b"%PDF-1.4").decode(), "format": "pdf", "name": "doc"}
    # RAG documents pin the native body, which cannot carry a file: refused, not silently dropped
    refused(
        "prompt[0].content[1]",
        R,
        [{"role": "user", "content": [{"type": "text", "text": "see"}, pdf]}],
        provider_options={"cohere_documents": [{"title": "t", "snippet": "s"}]},
    )
    refused("provider_options.use_converse", "bedrock:cohere.command-text-v14", "hi", provider_options=native)
    docs = "provider_options.cohere_documents"
    refused(docs, R, "hi", provider_options={"cohere_documents": []})
    refused(f"{docs}[0]", R, "hi", provider_options={"cohere_documents": [{"title": 3}]})
    refused(docs, R, "hi", provider_options={"cohere_documents": [{"title": "t"}], "use_converse": True})
    refused(docs, "bedrock:meta.llama3-8b-instruct-v1:0", "hi", provider_options={"cohere_documents": [{"t": "t"}]})


def test_images_documents_and_older_models_route_to_converse() -> None:
    png = ImagePart(data=b"\x89PNG", media_type="image/png")
    pdf = {"type": "document", "data": base64.b64encode(b"%PDF-1.4").decode(), "format": "pdf", "name": "doc"}
    assert prepared(R, [{"role": "user", "content": [{"type": "text", "text": "x"}, pdf]}]).formatter.name == "converse"
    with pytest.raises(reqbed.ValidationError):  # Command R takes no images, on either endpoint
        prepared(R, [{"role": "user", "content": [png]}])
    assert prepared("bedrock:cohere.command-light-text-v14", "hi").formatter.name == "converse"
    assert prepared(R_PLUS, "hi").formatter.name == "cohere"


# -- stream events ------------------------------------------------------------------------------


def invoke_stream(events: list[dict[str, Any]]) -> bytes:
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    return b"".join(
        encode_frame(headers, json.dumps({"bytes": base64.b64encode(json.dumps(e).encode()).decode()}).encode())
        for e in events
    )


def replay(body: bytes, p: Prepared) -> tuple[StreamCore, list[Chunk]]:
    core = StreamCore(p)
    out: list[Chunk] = []
    for i in range(len(body)):  # one byte per read: every frame boundary is crossed
        out.extend(core.feed(body[i : i + 1]))
    out.extend(core.close())
    return core, out


FULL_RESPONSE = {
    "response_id": "r-1",
    "text": "I will check.",
    "generation_id": "gen-1",
    "finish_reason": "COMPLETE",
    "tool_calls": [{"name": "get_weather", "parameters": {"city": "Paris"}}],
    "meta": {"billed_units": {"input_tokens": 30, "output_tokens": 9}},
}
EVENTS = [
    {"is_finished": False, "event_type": "stream-start", "generation_id": "gen-1"},
    {"is_finished": False, "event_type": "text-generation", "text": "I will"},
    {"is_finished": False, "event_type": "text-generation", "text": " check."},
    {
        "is_finished": False,
        "event_type": "tool-calls-generation",
        "text": "I will check.",
        "tool_calls": FULL_RESPONSE["tool_calls"],
    },
    {
        "is_finished": True,
        "event_type": "stream-end",
        "finish_reason": "COMPLETE",
        "response": FULL_RESPONSE,
        "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": 30,
            "outputTokenCount": 9,
            "invocationLatency": 5,
            "firstByteLatency": 2,
        },
    },
]


def test_stream_events_give_the_non_streamed_answer() -> None:
    p = prepared(R, "weather in Paris?", stream=True, tools=[WEATHER], provider_options=NATIVE)
    core, chunks = replay(invoke_stream(EVENTS), p)
    call = prepared(R, "hi").parse(200, {}, json.dumps(FULL_RESPONSE).encode()).tool_calls[0]
    assert call.arguments == {"city": "Paris"}
    assert chunks == [
        TextChunk(text="I will"),
        TextChunk(text=" check."),
        ToolCallDeltaChunk(index=0, id=call.id, name="get_weather", arguments_delta='{"city": "Paris"}'),
        ToolCallChunk(index=0, tool_call=call),
        UsageChunk(usage=Usage(input_tokens=30, output_tokens=9, total_tokens=39)),
        FinishChunk(finish_reason="tool_calls"),
    ]
    whole = prepared(R, "hi").parse(200, {}, json.dumps(FULL_RESPONSE).encode())
    assert msgspec.structs.replace(core.response(), raw=None) == msgspec.structs.replace(
        whole, raw=None, served_by=p.request.spec.spec
    )


def test_stream_end_without_metrics_uses_billed_units_and_its_own_tool_calls() -> None:
    events = [EVENTS[0], EVENTS[1], {k: v for k, v in EVENTS[4].items() if k != "amazon-bedrock-invocationMetrics"}]
    _, chunks = replay(invoke_stream(events), prepared(R, "hi", stream=True))
    assert chunks[-2:] == [
        UsageChunk(usage=Usage(input_tokens=30, output_tokens=9, total_tokens=39)),
        FinishChunk(finish_reason="tool_calls"),
    ]
    assert [c.tool_call.name for c in chunks if isinstance(c, ToolCallChunk)] == ["get_weather"]


def test_a_stream_without_stream_end_is_incomplete() -> None:
    with pytest.raises(reqbed.EventStreamError):
        replay(invoke_stream(EVENTS[:3]), prepared(R, "hi", stream=True))


# -- the emulator, end to end -----------------------------------------------------------------


def plain(resp: reqbed.Response) -> reqbed.Response:
    # raw, and what differs per request (request id, timings), apart
    return msgspec.structs.replace(resp, raw=None, request_id=None, elapsed=None, time_to_first_token=None)


def test_emulator_end_to_end_sync(emulator: Emulator) -> None:
    po = emulator.provider_options()
    resp = reqbed.generate_text(R, "Hello there", system="Be brief", provider_options=po)
    assert (resp.text, resp.finish_reason) == ("You said: Hello there", "stop")
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (4, 4)
    sent = json.loads(emulator.requests[-1]["body"])
    assert emulator.requests[-1]["path"].endswith("/invoke")
    assert sent["preamble"] == "Be brief"
    with reqbed.stream_text(R, "Hello there", system="Be brief", provider_options=po) as s:
        streamed = s.response()
    assert emulator.requests[-1]["path"].endswith("/invoke-with-response-stream")
    assert plain(streamed) == plain(resp)

    # a tool round trip, streamed and not
    first = reqbed.generate_text(R, "use get_weather", tools=[WEATHER], provider_options=po)
    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == [
        ToolCall(id=first.tool_calls[0].id, name="get_weather", arguments={"city": "example", "days": 2})
    ]
    result = {"type": "tool_result", "tool_call_id": first.tool_calls[0].id, "content": "sunny"}
    prompt = [{"role": "user", "content": "use get_weather"}, first.message, {"role": "tool", "content": [result]}]
    final = reqbed.generate_text(R, prompt, tools=[WEATHER], provider_options=po)
    assert final.text == "Tool results: sunny"
    with reqbed.stream_text(R, "use get_weather", tools=[WEATHER], provider_options=po) as s:
        assert plain(s.response()) == plain(first)

    limited = reqbed.generate_text(R, "one two three four", max_tokens=2, provider_options=po)
    assert (limited.text, limited.finish_reason) == ("You said:", "length")
    rag = reqbed.generate_text(R, "penguins?", provider_options={**po, "cohere_documents": [{"snippet": "tall"}]})
    assert rag.raw["citations"][0]["document_ids"] == ["doc_0"]


@pytest.mark.anyio
async def test_emulator_end_to_end_async(emulator: Emulator) -> None:
    po = emulator.provider_options(bearer=True)
    resp = await reqbed.agenerate_text(R_PLUS, "Hi async", provider_options=po, temperature=0.2)
    assert resp.text == "You said: Hi async"
    stream = await reqbed.astream_text(R_PLUS, "Hi async", provider_options=po, temperature=0.2)
    async with stream:
        streamed = await stream.response()
    assert plain(streamed) == plain(resp)


def test_emulator_refuses_malformed_native_bodies(emulator: Emulator) -> None:
    po = {**emulator.provider_options(), "additional_model_request_fields": {"bogus": 1}}
    with pytest.raises(reqbed.BadRequestError, match="extraneous key"):
        reqbed.generate_text(R, "hi", provider_options=po)
    bad: list[dict[str, Any]] = [
        {},
        {"message": 3},
        {"message": ""},
        {"message": "hi", "chat_history": [{"role": "BOT", "message": "x"}]},
        {"message": "hi", "tools": [{"name": "f", "description": "d", "parameter_definitions": {"a": {}}}]},
        {"message": "", "tool_results": [{"call": {"name": "f", "parameters": {}}, "outputs": [{"text": "x"}]}]},
        {"message": "hi", "temperature": 3},
        {"message": "hi", "p": 1.0},
        {"message": "hi", "documents": [{"title": 1}]},
    ]
    for body in bad:
        with pytest.raises(BadRequest):
            handle_cohere("cohere.command-r-v1:0", body)
