"""OpenAI gpt-oss's native /invoke body: golden bodies (AWS's "OpenAI models" page, which defers to
OpenAI's Create chat completion), chat completion objects, the inline ``<reasoning>`` split (checked
against a regex over the whole text, for any chunking), stream chunks, and the emulator end to end.
The real recordings are replayed in test_native_recordings.py."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reqbed
from reqbed._aws.eventstream import encode_frame
from reqbed._families.openai import ReasoningSplitter, split_reasoning
from reqbed._pipeline import Prepared
from reqbed._stream import StreamCore
from reqbed._types import (
    Chunk,
    FinishChunk,
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
from reqbed.testing import Emulator
from reqbed.testing._converse_responder import BadRequest
from reqbed.testing._native_responders import handle_openai
from tests.support.native import body_of, prepared

OSS = "bedrock:openai.gpt-oss-20b-1:0"
OSS_120 = "bedrock:openai.gpt-oss-120b-1:0"
GOLDEN = Path(__file__).parent / "golden" / "openai"
ADD = {
    "name": "add",
    "description": "Add two integers",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}},
}




# -- golden request bodies and responses ----------------------------------------------------------


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("request_*.json")), ids=lambda p: p.stem)
def test_golden_request_bodies(path: Path) -> None:
    case = json.loads(path.read_text())
    assert case["source"].startswith("https://")
    # forced onto the native body (with tools the endpoint rule picks Converse); streamed, the body is
    # the same (no "stream" field: the operation decides)
    opts = json.loads(json.dumps(case["options"]))
    opts["provider_options"] = {**opts.get("provider_options", {}), "use_converse": False}
    p = prepared(case["model"], case["prompt"], **json.loads(json.dumps(opts)))
    assert (p.formatter.name, p.url.rsplit("/", 1)[1]) == ("openai", "invoke")
    assert body_of(p) == case["body"]
    streamed = prepared(case["model"], case["prompt"], stream=True, **opts)
    assert streamed.url.endswith("/invoke-with-response-stream")
    assert body_of(streamed) == case["body"]


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("response_*.json")), ids=lambda p: p.stem)
def test_golden_responses(path: Path) -> None:
    case = json.loads(path.read_text())
    exp = case["expected"]
    resp = prepared(OSS, "hi").parse(200, {}, json.dumps(case["response"]).encode())
    assert (resp.text, resp.thinking, resp.finish_reason) == (exp["text"], exp["thinking"], exp["finish_reason"])
    total = exp["input_tokens"] + exp["output_tokens"]
    assert resp.usage == Usage(input_tokens=exp["input_tokens"], output_tokens=exp["output_tokens"], total_tokens=total)
    assert resp.tool_calls == [ToolCall(**c) for c in exp["tool_calls"]]
    assert resp.raw == case["response"]


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("stop", "stop"), ("length", "length"), ("tool_calls", "tool_calls"), ("content_filter", "content_filter")],
)
def test_finish_reasons(reason: str, expected: str) -> None:
    data = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": reason}]}
    assert prepared(OSS, "hi").parse(200, {}, json.dumps(data).encode()).finish_reason == expected


def test_unreadable_answers_are_errors() -> None:
    for body in (b"[]", b'{"choices": []}'):
        with pytest.raises(reqbed.ModelStreamError):
            prepared(OSS, "hi").parse(200, {}, body)
    bad_args = {"choices": [{"message": {"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{"}}]}}]}
    with pytest.raises(reqbed.ModelStreamError, match="'f'"):
        prepared(OSS, "hi").parse(200, {}, json.dumps(bad_args).encode())


def test_refusals_and_options() -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        prepared(OSS, "hi", top_k=5)
    assert info.value.field == "top_k"
    with pytest.raises(reqbed.ValidationError) as info:
        prepared(OSS, "hi", provider_options={"additional_model_request_fields": {"reasoning_effort": "max"}})
    assert info.value.field == "provider_options.additional_model_request_fields.reasoning_effort"
    assert body_of(prepared(OSS, "hi", reasoning_effort="low"))["reasoning_effort"] == "low"
    with pytest.raises(reqbed.ValidationError) as info:  # a thinking budget is Claude's, not gpt-oss's
        prepared(OSS, "hi", thinking={"budget_tokens": 2048})
    assert info.value.field == "thinking"
    native = {"tools": [ADD], "provider_options": {"use_converse": False}}
    assert body_of(prepared(OSS, "hi", tool_choice="none", **native))["tool_choice"] == "none"
    assert body_of(prepared(OSS, "hi", tool_choice="auto", **native))["tool_choice"] == "auto"


def test_results_and_text_in_one_user_turn_and_error_results() -> None:
    prompt = [
        {"role": "user", "content": "add"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Adding."},
                {"type": "tool_call", "id": "c1", "name": "add", "arguments": {"a": 1, "b": 2}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_call_id": "c1",
                    "content": [{"type": "text", "text": "overflow"}],
                    "is_error": True,
                },
                {"type": "text", "text": "What happened?"},
            ],
        },
    ]
    assert body_of(prepared(OSS, prompt, provider_options={"use_converse": False}))["messages"] == [
        {"role": "user", "content": "add"},
        {
            "role": "assistant",
            "content": "Adding.",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a":1,"b":2}'}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Error: overflow"},
        {"role": "user", "content": "What happened?"},
    ]


# -- the <reasoning> split -----------------------------------------------------------------------


def oracle(content: str) -> tuple[str, str]:
    """(thinking, text) of a complete gpt-oss content string, by regex (closed tags only)."""
    thinking = "".join(re.findall(r"<reasoning>(.*?)</reasoning>", content, flags=re.S))
    return thinking, re.sub(r"<reasoning>.*?</reasoning>", "", content, flags=re.S)


SEGMENT = st.tuples(st.booleans(), st.text(alphabet="<>/aegnorsi x\n", min_size=1, max_size=12))


@given(st.lists(SEGMENT, max_size=8), st.data())
def test_split_matches_the_regex_for_any_chunking(segments: list[tuple[bool, str]], data: st.DataObject) -> None:
    segments = [(t, s) for t, s in segments if "<reasoning>" not in s and "</reasoning>" not in s]
    content = "".join(f"<reasoning>{s}</reasoning>" if t else s for t, s in segments)
    if "<reasoning>" in re.sub(r"<reasoning>.*?</reasoning>", "", content, flags=re.S):
        return  # text that itself opens a tag: not a closed-tags string the oracle can read
    cuts = sorted(data.draw(st.lists(st.integers(0, len(content)), max_size=10)))
    pieces = [content[a:b] for a, b in zip([0, *cuts], [*cuts, len(content)], strict=True)]
    splitter = ReasoningSplitter()
    out = [seg for piece in pieces for seg in splitter.feed(piece)] + splitter.finish()
    thinking = "".join(s for t, s in out if t)
    text = "".join(s for t, s in out if not t)
    assert (thinking, text) == oracle(content)
    assert all(s for _, s in out)
    whole = split_reasoning(content)
    assert "".join(p.text for p in whole if isinstance(p, ThinkingPart)) == thinking
    assert "".join(p.text for p in whole if isinstance(p, TextPart)) == text


def test_a_tag_split_across_deltas() -> None:
    splitter = ReasoningSplitter()
    out = []
    for piece in ["<reas", "oning>think", "ing</reaso", "ning>He", "llo <", "b>"]:
        out.extend(splitter.feed(piece))
    out.extend(splitter.finish())
    assert out == [(True, "think"), (True, "ing"), (False, "He"), (False, "llo "), (False, "<b>")]


def test_an_unclosed_reasoning_is_thinking() -> None:
    assert split_reasoning("<reasoning>cut off by max_tok") == [ThinkingPart(text="cut off by max_tok")]
    assert split_reasoning("a<reasoning>b</reasoning>c<reasoning>d</reasoning>") == [
        TextPart(text="a"),
        ThinkingPart(text="b"),
        TextPart(text="c"),
        ThinkingPart(text="d"),
    ]


# -- stream chunks ------------------------------------------------------------------------------


def invoke_stream(events: list[dict[str, Any]]) -> bytes:
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    return b"".join(
        encode_frame(headers, json.dumps({"bytes": base64.b64encode(json.dumps(e).encode()).decode()}).encode())
        for e in events
    )


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [choice], **extra}


def replay(events: list[dict[str, Any]], p: Prepared) -> tuple[StreamCore, list[Chunk]]:
    body = invoke_stream(events)
    core = StreamCore(p)
    out: list[Chunk] = []
    for i in range(0, len(body), 7):
        out.extend(core.feed(body[i : i + 7]))
    out.extend(core.close())
    return core, out


METRICS = {"amazon-bedrock-invocationMetrics": {"inputTokenCount": 12, "outputTokenCount": 8}}


def test_stream_with_tags_split_tool_fragments_and_a_usage_chunk() -> None:
    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "<reasoning>Need to ad"}),
        chunk({"content": "d.</reas"}),
        chunk({"content": "oning>"}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_9",
                        "type": "function",
                        "function": {"name": "add", "arguments": '{"a": 2, '},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "type": "function", "function": {"arguments": '"b": 3}'}}]}),
        chunk({"content": "Adding."}),
        chunk({}, "tool_calls"),
        {
            "id": "chatcmpl-1",
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
            **METRICS,
        },
    ]
    p = prepared(OSS, "add 2 and 3", stream=True, tools=[ADD], provider_options={"use_converse": False})
    core, chunks = replay(events, p)
    call = ToolCall(id="call_9", name="add", arguments={"a": 2, "b": 3})
    assert chunks == [
        ThinkingChunk(text="Need to ad"),
        ThinkingChunk(text="d."),
        ToolCallDeltaChunk(index=0, id="call_9", name="add", arguments_delta='{"a": 2, '),
        ToolCallDeltaChunk(index=0, arguments_delta='"b": 3}'),
        TextChunk(text="Adding."),
        ToolCallChunk(index=0, tool_call=call),
        UsageChunk(usage=Usage(input_tokens=12, output_tokens=8, total_tokens=20)),
        FinishChunk(finish_reason="tool_calls"),
    ]
    whole = {
        "id": "chatcmpl-1",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "<reasoning>Need to add.</reasoning>Adding.",
                    "tool_calls": [
                        {"id": "call_9", "type": "function", "function": {"name": "add", "arguments": '{"a":2,"b":3}'}}
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
    }
    parsed = p.parse(200, {}, json.dumps(whole).encode())
    assert msgspec.structs.replace(core.response(), raw=None) == msgspec.structs.replace(parsed, raw=None)


def test_usage_from_metrics_and_a_stream_without_them_is_incomplete() -> None:
    p = prepared(OSS, "hi", stream=True)
    _, chunks = replay([chunk({"content": "<reasoning>x</reasoning>hi"}), chunk({}, "length", **METRICS)], p)
    assert chunks[-2:] == [
        UsageChunk(usage=Usage(input_tokens=12, output_tokens=8, total_tokens=20)),
        FinishChunk(finish_reason="length"),
    ]
    with pytest.raises(reqbed.EventStreamError):
        replay([chunk({"content": "hi"}), chunk({}, "stop")], p)
    with pytest.raises(reqbed.ModelStreamError, match="finish_reason"):
        replay([chunk({"content": "hi"}, **METRICS)], p)


# -- the emulator, end to end -----------------------------------------------------------------


def plain(resp: reqbed.Response) -> reqbed.Response:
    # raw, and what differs per request (request id, timings), apart
    return msgspec.structs.replace(resp, raw=None, request_id=None, elapsed=None, time_to_first_token=None)


def test_emulator_end_to_end_sync(emulator: Emulator) -> None:
    po = emulator.provider_options()
    resp = reqbed.generate_text(OSS, "Hello there", system="Be brief", provider_options=po)
    assert (resp.text, resp.thinking, resp.finish_reason) == (
        "You said: Hello there",
        "The user said: Hello there",
        "stop",
    )
    assert emulator.requests[-1]["path"].endswith("/invoke")
    with reqbed.stream_text(OSS, "Hello there", system="Be brief", provider_options=po) as s:
        streamed = s.response()
    assert emulator.requests[-1]["path"].endswith("/invoke-with-response-stream")
    assert plain(streamed) == plain(resp)

    # tool calls: Converse by default, the native body when asked for
    native = {**po, "use_converse": False}
    first = reqbed.generate_text(OSS, "please add", tools=[ADD], tool_choice="add", provider_options=native)
    assert emulator.requests[-1]["path"].endswith("/invoke")
    assert (first.finish_reason, first.tool_calls[0].arguments) == ("tool_calls", {"a": 2, "b": 3})
    result = {"type": "tool_result", "tool_call_id": first.tool_calls[0].id, "content": "5"}
    prompt = [{"role": "user", "content": "please add"}, first.message, {"role": "tool", "content": [result]}]
    assert reqbed.generate_text(OSS, prompt, tools=[ADD], provider_options=native).text == "Tool results: 5"
    with reqbed.stream_text(OSS, "please add", tools=[ADD], tool_choice="add", provider_options=po) as s:
        s.response()
    assert emulator.requests[-1]["path"].endswith("/converse-stream")
    with reqbed.stream_text(OSS, "please add", tools=[ADD], tool_choice="add", provider_options=native) as s:
        assert plain(s.response()) == plain(first)

    short = reqbed.generate_text(OSS, "one two three", max_tokens=2, provider_options=po)
    assert (short.text, short.thinking, short.finish_reason) == ("", "The user", "length")


@pytest.mark.anyio
async def test_emulator_end_to_end_async(emulator: Emulator) -> None:
    po = emulator.provider_options(bearer=True)
    opts = {"stop": ["there"], "provider_options": po}
    resp = await reqbed.agenerate_text(OSS_120, "Hello there", **opts)
    assert (resp.text, resp.finish_reason) == ("You said: Hello ", "stop")
    stream = await reqbed.astream_text(OSS_120, "Hello there", **opts)
    async with stream:
        assert plain(await stream.response()) == plain(resp)


def test_emulator_refuses_malformed_native_bodies(emulator: Emulator) -> None:
    po = {**emulator.provider_options(), "additional_model_request_fields": {"model": "openai.gpt-oss-120b-1:0"}}
    with pytest.raises(reqbed.BadRequestError, match="model"):
        reqbed.generate_text(OSS, "hi", provider_options=po)
    bad: list[dict[str, Any]] = [
        {},
        {"messages": []},
        {"messages": [{"role": "robot", "content": "x"}]},
        {"messages": [{"role": "user", "content": ""}]},
        {"messages": [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "5"}]},
        {"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"},
        {"messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
        {"messages": [{"role": "user", "content": "x"}], "stream": "yes"},
        {"messages": [{"role": "user", "content": "x"}], "reasoning_effort": "max"},
    ]
    for body in bad:
        with pytest.raises(BadRequest):
            handle_openai("openai.gpt-oss-20b-1:0", body)


def test_temperature_range_is_the_models_and_the_endpoints() -> None:
    """gpt-oss takes temperatures up to 2 natively; Converse caps every model at 1; Claude stops at 1."""
    assert body_of(prepared(OSS, "hi", temperature=1.5))["temperature"] == 1.5
    with pytest.raises(reqbed.ValidationError) as info:
        prepared(OSS, "hi", temperature=1.5, provider_options={"use_converse": True})
    assert info.value.field == "temperature"
    with pytest.raises(reqbed.ValidationError) as info:
        prepared("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "hi", temperature=1.5)
    assert info.value.field == "temperature"
    assert "between 0 and 1.0" in str(info.value)
