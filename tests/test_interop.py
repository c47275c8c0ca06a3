"""``reqbed.from_openai`` / ``from_anthropic`` and ``Response.to_openai`` / ``to_anthropic``: every
part kind converts, unknown keys are refused by name, the outputs validate against the ``openai`` and
``anthropic`` SDKs' own types, and answers round-trip back into reqbed prompts."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

import reqbed
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00"
PDF = b"%PDF-1.4 tiny"
B64 = base64.b64encode(PNG).decode()
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _response(**overrides: Any) -> reqbed.Response:
    call = reqbed.ToolCall(id="toolu_1", name="get_weather", arguments={"city": "Paris"})
    content: list[Any] = [
        reqbed.ThinkingPart(text="let me think", signature="sig"),
        reqbed.RedactedThinkingPart(data="opaque"),
        reqbed.TextPart(text="Checking."),
        call,
    ]
    values: dict[str, Any] = {
        "text": "Checking.",
        "thinking": "let me think",
        "tool_calls": [call],
        "finish_reason": "tool_calls",
        "usage": reqbed.Usage(input_tokens=10, output_tokens=5, total_tokens=15, cache_read_tokens=2),
        "model": "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "message": reqbed.Message(role="assistant", content=content),
        "request_id": "abc",
    }
    values.update(overrides)
    return reqbed.Response(**values)


# -- OpenAI in ---------------------------------------------------------------------------------------------


OPENAI_MESSAGES: list[dict[str, Any]] = [
    {"role": "developer", "content": "Be brief."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this and the weather?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64}", "detail": "auto"}},
            {
                "type": "file",
                "file": {
                    "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
                    "filename": "spec.pdf",
                },
            },
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}},
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "18C"},
    {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "21C"}]},
]
OPENAI_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": SCHEMA}}
]


def test_from_openai_converts_every_kind() -> None:
    prompt, tools = reqbed.from_openai(OPENAI_MESSAGES, tools=OPENAI_TOOLS)
    assert tools == [reqbed.Tool(name="get_weather", description="Weather", parameters=SCHEMA)]
    assert prompt == [
        reqbed.Message(role="system", content=[reqbed.TextPart(text="Be brief.")]),
        reqbed.Message(
            role="user",
            content=[
                reqbed.TextPart(text="What is this and the weather?"),
                reqbed.ImagePart(data=PNG, media_type="image/png"),
                reqbed.DocumentPart(data=PDF, format="pdf", name="spec"),
            ],
        ),
        reqbed.Message(
            role="assistant",
            content=[
                reqbed.ToolCall(id="c1", name="get_weather", arguments={"city": "Paris"}),
                reqbed.ToolCall(id="c2", name="get_weather", arguments={"city": "Rome"}),
            ],
        ),
        # two OpenAI tool messages -> ONE tool turn answering both calls
        reqbed.Message(
            role="tool",
            content=[
                reqbed.ToolResultPart(tool_call_id="c1", content="18C"),
                reqbed.ToolResultPart(tool_call_id="c2", content=[reqbed.TextPart(text="21C")]),
            ],
        ),
    ]


@pytest.mark.parametrize(
    ("messages", "tools", "field"),
    [
        ([{"role": "user", "content": "hi", "name": "bob"}], None, "messages[0].name"),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
            None,
            "messages[0].content[0].image_url.url",
        ),
        (
            [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
            None,
            "messages[0].content[0].type",
        ),
        ([{"role": "function", "content": "x"}], None, "messages[0].role"),
        (
            [{"role": "user", "content": "hi"}],
            [{"type": "function", "function": {"name": "w", "parameters": SCHEMA, "strict": True}}],
            "tools[0].function.strict",
        ),
        (
            [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c", "type": "function", "function": {"name": "w", "arguments": "not json"}}],
                }
            ],
            None,
            "messages[0].tool_calls[0].function.arguments",
        ),
    ],
)
def test_from_openai_refuses_what_it_cannot_carry(messages: Any, tools: Any, field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        reqbed.from_openai(messages, tools=tools)
    assert e.value.field == field


# -- Anthropic in ------------------------------------------------------------------------------------------


def test_from_anthropic_converts_every_kind() -> None:
    prompt, tools = reqbed.from_anthropic(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look", "cache_control": {"type": "ephemeral"}},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64}},
                    {
                        "type": "document",
                        "title": "spec",
                        "source": {
                            "type": "base64",
                            "media_type": "application/pdf",
                            "data": base64.b64encode(PDF).decode(),
                        },
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [{"type": "text", "text": "18C"}],
                        "is_error": True,
                    },
                ],
            },
        ],
        system="Be brief.",
        tools=[{"name": "get_weather", "description": "Weather", "input_schema": SCHEMA}],
    )
    assert tools == [reqbed.Tool(name="get_weather", description="Weather", parameters=SCHEMA)]
    assert prompt == [
        reqbed.Message(role="system", content=[reqbed.TextPart(text="Be brief.")]),
        reqbed.Message(
            role="user",
            content=[
                reqbed.TextPart(text="Look", cache_control={"type": "ephemeral"}),
                reqbed.ImagePart(data=PNG, media_type="image/png"),
                reqbed.DocumentPart(data=PDF, format="pdf", name="spec"),
            ],
        ),
        reqbed.Message(
            role="assistant",
            content=[
                reqbed.ThinkingPart(text="hmm", signature="sig"),
                reqbed.RedactedThinkingPart(data="opaque"),
                reqbed.ToolCall(id="t1", name="get_weather", arguments={"city": "Paris"}),
            ],
        ),
        reqbed.Message(
            role="user",
            content=[
                reqbed.ToolResultPart(tool_call_id="t1", content=[reqbed.TextPart(text="18C")], is_error=True),
            ],
        ),
    ]


def test_from_anthropic_refuses_what_it_cannot_carry() -> None:
    cases: list[tuple[Any, dict[str, Any], str]] = [
        ([{"role": "user", "content": "hi", "name": "x"}], {}, "messages[0].name"),
        (
            [{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://x"}}]}],
            {},
            "messages[0].content[0].source.url",
        ),
        ([{"role": "user", "content": [{"type": "server_tool_use"}]}], {}, "messages[0].content[0].type"),
        (
            [{"role": "user", "content": "hi"}],
            {"tools": [{"type": "web_search_20250305", "name": "web_search"}]},
            "tools[0].type",
        ),
    ]
    for messages, kwargs, field in cases:
        with pytest.raises(reqbed.ValidationError) as e:
            reqbed.from_anthropic(messages, **kwargs)
        assert e.value.field == field


# -- out, checked by the SDKs' own types ---------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["stop", "length", "tool_calls", "content_filter", "stop_sequence", "error"])
def test_to_openai_is_a_valid_chat_completion(reason: str) -> None:
    from openai.types.chat import ChatCompletion

    data = _response(finish_reason=reason).to_openai()
    parsed = ChatCompletion.model_validate(json.loads(json.dumps(data)))
    assert parsed.object == "chat.completion"
    choice = parsed.choices[0]
    assert choice.message.content == "Checking."
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.id == "toolu_1"
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert parsed.usage is not None
    assert (parsed.usage.prompt_tokens, parsed.usage.completion_tokens, parsed.usage.total_tokens) == (12, 5, 17)
    assert parsed.usage.prompt_tokens_details is not None
    assert parsed.usage.prompt_tokens_details.cached_tokens == 2
    assert data["choices"][0]["message"]["reasoning_content"] == "let me think"


@pytest.mark.parametrize("reason", ["stop", "length", "tool_calls", "content_filter", "stop_sequence", "error"])
def test_to_anthropic_is_a_valid_message(reason: str) -> None:
    from anthropic.types import Message as AnthropicMessage

    data = _response(finish_reason=reason).to_anthropic()
    parsed = AnthropicMessage.model_validate(json.loads(json.dumps(data)))
    assert [b.type for b in parsed.content] == ["thinking", "redacted_thinking", "text", "tool_use"]
    assert parsed.usage.input_tokens == 10
    assert parsed.usage.cache_read_input_tokens == 2
    assert parsed.id == "msg_abc"


def test_answers_round_trip_through_both_shapes() -> None:
    resp = _response()
    oa = resp.to_openai()["choices"][0]["message"]
    oa = {k: v for k, v in oa.items() if k != "reasoning_content"}  # OpenAI has no thinking in requests
    prompt, _ = reqbed.from_openai([{"role": "user", "content": "hi"}, oa])
    assert prompt[1] == reqbed.Message(role="assistant", content=[reqbed.TextPart(text="Checking."), *resp.tool_calls])
    an = resp.to_anthropic()
    prompt, _ = reqbed.from_anthropic(
        [{"role": "user", "content": "hi"}, {"role": an["role"], "content": an["content"]}]
    )
    assert prompt[1] == resp.message  # thinking, signature and all


def test_converted_prompts_run_against_the_emulator(emulator: Emulator) -> None:
    po: Any = {**emulator.provider_options(), "use_converse": True}
    prompt, tools = reqbed.from_openai(OPENAI_MESSAGES, tools=OPENAI_TOOLS)
    resp = reqbed.generate_text(MODEL, prompt, tools=tools, provider_options=po)
    assert resp.text == "Tool results: 18C; 21C"
    body = json.loads(emulator.requests[-1]["body"])
    assert [len(m["content"]) for m in body["messages"]] == [3, 2, 2]  # both results in one turn
    again = reqbed.from_openai([*OPENAI_MESSAGES, resp.to_openai()["choices"][0]["message"]], tools=OPENAI_TOOLS)
    assert again[0][-1] == resp.message
