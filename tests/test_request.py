"""``build_chat_request``: every validation rule, each failing with a ``ValidationError`` naming the field.

Also: the rules run before any I/O (a ``Client`` whose transport fails the test if it is ever
called), and the pipeline's capability step refuses a system-only prompt except for Anthropic.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import reqbed
from reqbed import (
    DocumentPart,
    ImagePart,
    Message,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCall,
    ToolResultPart,
)
from reqbed._pipeline import prepare
from reqbed._request import REASONING_EFFORT_BUDGETS, ChatRequest, ProviderOptions, build_chat_request

CLAUDE = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
LLAMA = "bedrock:meta.llama3-3-70b-instruct-v1:0"
CREDS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
CALL = {"type": "tool_call", "id": "call_1", "name": "add", "arguments": {"a": 1}}
RESULT = {"type": "tool_result", "tool_call_id": "call_1", "content": "2"}


def build(prompt: Any = "hi", model: str = CLAUDE, **opts: Any) -> ChatRequest:
    return build_chat_request(model, prompt, opts)


def refused(field: str, prompt: Any = "hi", model: str = CLAUDE, **opts: Any) -> reqbed.ValidationError:
    with pytest.raises(reqbed.ValidationError) as info:
        build_chat_request(model, prompt, opts)
    assert info.value.field == field, str(info.value)
    assert str(info.value).startswith(f"{field}: ")
    return info.value


# -- the prompt -----------------------------------------------------------------------------------

PROMPT_CASES: list[tuple[Any, str]] = [
    ("", "prompt"),
    ("   \n", "prompt"),
    ([], "prompt"),
    (None, "prompt"),
    (42, "prompt"),
    (b"hi", "prompt"),
    ({"role": "user", "content": "hi"}, "prompt"),  # a dict is not a list of messages
    (["hi"], "prompt[0]"),
    ([{"content": "hi"}], "prompt[0]"),
    ([{"role": "user"}], "prompt[0]"),
    ([{"role": "narrator", "content": "hi"}], "prompt[0].role"),
    ([{"role": "user", "content": "hi"}, {"role": "robot", "content": "x"}], "prompt[1].role"),
    ([{"role": "user", "content": [{"type": "hologram", "data": "AA=="}]}], "prompt[0].content[0].type"),
    ([{"role": "user", "content": [{"text": "no type tag"}]}], "prompt[0].content[0]"),
    ([{"role": "user", "content": [{"type": "text"}]}], "prompt[0].content[0]"),
    ([{"role": "user", "content": [{"type": "text", "text": 5}]}], "prompt[0].content[0].text"),
    ([{"role": "user", "content": [42]}], "prompt[0].content[0]"),
    (
        [{"role": "user", "content": [{"type": "image", "data": "not base64!", "media_type": "image/png"}]}],
        "prompt[0].content[0].data",
    ),
    # images and documents hold bytes, also inside tool results
    (
        [{"role": "user", "content": [{"type": "image", "data": "", "media_type": "image/png"}]}],
        "prompt[0].content[0].data",
    ),
    (
        [{"role": "user", "content": [{"type": "document", "data": b"", "format": "pdf", "name": "d"}]}],
        "prompt[0].content[0].data",
    ),
    (
        [
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": [CALL]},
            {
                "role": "tool",
                "content": [{**RESULT, "content": [{"type": "image", "data": b"", "media_type": "image/png"}]}],
            },
        ],
        "prompt[2].content[0].content[0].data",
    ),
    # tool results need an earlier call with the same id
    ([{"role": "user", "content": [RESULT]}], "prompt[0].content[0]"),
    ([{"role": "user", "content": "x"}, {"role": "tool", "content": [RESULT]}], "prompt[1].content[0]"),
    (
        [
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": [{**CALL, "id": "other"}]},
            {"role": "tool", "content": [RESULT]},
        ],
        "prompt[2].content[0]",
    ),
    # a result BEFORE its call does not count
    (
        [{"role": "user", "content": [RESULT]}, {"role": "assistant", "content": [CALL]}],
        "prompt[0].content[0]",
    ),
    # tool calls only in assistant turns; results only in user/tool turns
    ([{"role": "user", "content": [CALL]}], "prompt[0].content[0]"),
    (
        [
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": [CALL]},
            {"role": "tool", "content": [CALL]},
        ],
        "prompt[2].content[0]",
    ),
    (
        [{"role": "user", "content": "x"}, {"role": "assistant", "content": [CALL, RESULT]}],
        "prompt[1].content[1]",
    ),
    ([{"role": "user", "content": "x"}, {"role": "tool", "content": "plain text"}], "prompt[1].content[0]"),
    # thinking (visible or redacted) only in assistant turns
    ([{"role": "user", "content": [{"type": "thinking", "text": "hm"}]}], "prompt[0].content[0]"),
    ([{"role": "user", "content": [{"type": "redacted_thinking", "data": "b3BhcXVl"}]}], "prompt[0].content[0]"),
    # system turns hold text only
    (
        [{"role": "system", "content": [{"type": "image", "data": "AA==", "media_type": "image/png"}]}],
        "prompt[0].content[0]",
    ),
    # the conversation starts with a user turn (system turns do not count; the index is the real one)
    ([{"role": "assistant", "content": "hello"}], "prompt[0]"),
    ([{"role": "system", "content": "be brief"}, {"role": "assistant", "content": "hello"}], "prompt[1]"),
    ([{"role": "user", "content": "  "}, {"role": "assistant", "content": "hello"}], "prompt[1]"),
    # every turn empty
    ([{"role": "user", "content": ""}, {"role": "system", "content": " "}], "prompt"),
]


@pytest.mark.parametrize(("prompt", "field"), PROMPT_CASES)
def test_prompt_rules(prompt: Any, field: str) -> None:
    refused(field, prompt)


HAND_BUILT: list[tuple[Any, str]] = [
    # Structs are not validated by their constructors: reqbed must check them like dicts
    ([Message(role="narrator", content="x")], "prompt[0].role"),  # type: ignore[arg-type]
    ([Message(role="user", content=[42])], "prompt[0].content[0]"),  # type: ignore[list-item]
    ([Message(role="user", content=[TextPart(text=5)])], "prompt[0].content[0].text"),  # type: ignore[arg-type]
    ([{"role": "user", "content": [TextPart(text=None)]}], "prompt[0].content[0].text"),  # type: ignore[arg-type]
    ([Message(role="user", content=[RedactedThinkingPart(data="x")])], "prompt[0].content[0]"),
    ([Message(role="user", content=[object()])], "prompt[0]"),  # type: ignore[list-item]
]


@pytest.mark.parametrize(("prompt", "field"), HAND_BUILT)
def test_hand_built_structs_are_validated(prompt: Any, field: str) -> None:
    refused(field, prompt)


def test_string_prompt_becomes_one_user_turn() -> None:
    req = build("Hello")
    assert req.system == []
    assert req.messages == [Message(role="user", content=[TextPart(text="Hello")])]


def test_single_message_is_accepted() -> None:
    assert build(Message(role="user", content="hi")).messages == [Message(role="user", content=[TextPart(text="hi")])]


def test_system_turns_are_merged_in_order_with_the_option_first() -> None:
    req = build(
        [
            {"role": "system", "content": "A"},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "B"}, {"type": "text", "text": " "}]},
        ],
        system="S",
    )
    assert [p.text for p in req.system] == ["S", "A", "B"]
    assert [m.role for m in req.messages] == ["user"]


def test_empty_text_is_dropped_and_empty_turns_vanish() -> None:
    req = build(
        [
            {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "x"}]},
            {"role": "assistant", "content": "   "},
            {"role": "user", "content": "y"},
        ]
    )
    assert req.messages == [
        Message(role="user", content=[TextPart(text="x")]),
        Message(role="user", content=[TextPart(text="y")]),
    ]


def test_empty_text_with_cache_control_is_kept() -> None:
    mark = {"type": "ephemeral"}
    req = build(
        [
            {
                "role": "user",
                "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "", "cache_control": mark}],
            }
        ]
    )
    assert req.messages[0].content[1] == TextPart(text="", cache_control=mark)


def test_a_valid_tool_round_trip_with_every_part_type() -> None:
    req = build(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image", "data": "iVBORw0KGgo=", "media_type": "image/png"},
                    {"type": "document", "data": "JVBERi0=", "format": "pdf", "name": "doc"},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "text": "hm", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "b3BhcXVl"},
                    CALL,
                ],
            },
            {"role": "tool", "content": [{**RESULT, "is_error": True}]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_call_id": "call_1", "content": [{"type": "text", "text": "again"}]}
                ],
            },
        ]
    )
    user, assistant, tool, user2 = req.messages
    assert isinstance(user.content[1], ImagePart)
    assert user.content[1].data == b"\x89PNG\r\n\x1a\n"
    assert isinstance(user.content[2], DocumentPart)
    assert user.content[2].data == b"%PDF-"
    assert assistant.content == [
        ThinkingPart(text="hm", signature="sig"),
        RedactedThinkingPart(data="b3BhcXVl"),
        ToolCall(id="call_1", name="add", arguments={"a": 1}),
    ]
    assert tool.content == [ToolResultPart(tool_call_id="call_1", content="2", is_error=True)]
    assert req.has_tool_history
    assert isinstance(user2.content[0], ToolResultPart)


# -- options -------------------------------------------------------------------------------------

OPTION_CASES: list[tuple[dict[str, Any], str]] = [
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": -5}, "max_tokens"),
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"max_tokens": "100"}, "max_tokens"),
    ({"max_tokens": True}, "max_tokens"),
    ({"max_tokens": 10**7}, "max_tokens"),
    ({"temperature": -0.01}, "temperature"),
    ({"temperature": 2.01}, "temperature"),
    ({"temperature": "0.5"}, "temperature"),
    ({"temperature": False}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"top_p": 1.5}, "top_p"),
    ({"top_p": -1}, "top_p"),
    ({"top_p": float("nan")}, "top_p"),
    ({"top_p": [0.5]}, "top_p"),
    ({"top_k": 0}, "top_k"),
    ({"top_k": 10_001}, "top_k"),
    ({"top_k": 2.0}, "top_k"),
    ({"stop": ""}, "stop"),
    ({"stop": [""]}, "stop"),
    ({"stop": [1]}, "stop"),
    ({"stop": 5}, "stop"),
    ({"stop": {"a": 1}}, "stop"),
    ({"tools": "add"}, "tools"),
    ({"tools": {"name": "add"}}, "tools"),
    ({"tools": [{"description": "no name"}]}, "tools[0]"),
    ({"tools": [{"name": "a b"}]}, "tools[0].name"),
    ({"tools": [{"name": ""}]}, "tools[0].name"),
    ({"tools": [{"name": "x" * 65}]}, "tools[0].name"),
    ({"tools": [{"name": "tool.name"}]}, "tools[0].name"),
    ({"tools": [{"name": "ok"}, {"name": "dup"}, {"name": "dup"}]}, "tools[2].name"),
    ({"tools": [{"name": "f", "parameters": {"type": "array"}}]}, "tools[0].parameters"),
    ({"tools": [{"name": "f", "parameters": "schema"}]}, "tools[0].parameters"),
    ({"tool_choice": 1}, "tool_choice"),
    ({"tool_choice": "any"}, "tool_choice"),
    ({"tool_choice": "missing", "tools": [{"name": "f"}]}, "tool_choice"),
    ({"thinking": 4096}, "thinking"),
    ({"thinking": {"budget_tokens": 2048, "extra": 1}}, "thinking"),
    ({"thinking": {"budget_tokens": 0}}, "thinking.budget_tokens"),
    ({"thinking": {"budget_tokens": "2048"}}, "thinking.budget_tokens"),
    ({"thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
    ({"thinking": {}}, "thinking.budget_tokens"),
    ({"thinking": {"type": "adaptive", "budget_tokens": 2048}}, "thinking.type"),
    ({"thinking": {"type": "disabled", "budget_tokens": 2048}}, "thinking.budget_tokens"),
    ({"thinking": {"budget_tokens": 2048}, "reasoning_effort": "low"}, "thinking"),
    ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ({"reasoning_effort": 3}, "reasoning_effort"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": -1}, "timeout"),
    ({"timeout": "10"}, "timeout"),
    ({"timeout": float("inf")}, "timeout"),
    ({"timeout": True}, "timeout"),
    ({"max_retries": -1}, "max_retries"),
    ({"max_retries": 1.0}, "max_retries"),
    ({"max_retries": True}, "max_retries"),
    ({"system": 5}, "system"),
    ({"temprature": 0.5}, "temprature"),
    ({"max_tokens": 5, "zz_unknown": 1, "aa_unknown": 2}, "aa_unknown"),
    ({"provider_options": 5}, "provider_options"),
    ({"provider_options": ["region"]}, "provider_options"),
    ({"provider_options": {"regoin": "us-east-1"}}, "provider_options.regoin"),
    ({"provider_options": {"region": "moon-base-1a"}}, "provider_options.region"),
    ({"provider_options": {"region": "US-EAST-1"}}, "provider_options.region"),
    ({"provider_options": {"region": 5}}, "provider_options.region"),
    ({"provider_options": {"duration_seconds": 899}}, "provider_options.duration_seconds"),
    ({"provider_options": {"duration_seconds": 43201}}, "provider_options.duration_seconds"),
    ({"provider_options": {"duration_seconds": "900"}}, "provider_options.duration_seconds"),
    ({"provider_options": {"use_converse": "yes"}}, "provider_options.use_converse"),
    ({"provider_options": {"anthropic_prompt_cache_ttl": "2h"}}, "provider_options.anthropic_prompt_cache_ttl"),
    ({"provider_options": {"anthropic_beta": "one-beta"}}, "provider_options.anthropic_beta"),
    ({"provider_options": {"base_model": ""}}, "provider_options.base_model"),
    (
        {"provider_options": {"additional_model_request_fields": [1]}},
        "provider_options.additional_model_request_fields",
    ),
]


@pytest.mark.parametrize(("opts", "field"), OPTION_CASES)
def test_option_rules(opts: dict[str, Any], field: str) -> None:
    refused(field, **opts)


def test_option_values_are_normalized() -> None:
    req = build(
        max_tokens=100,
        temperature=1,
        top_p=0.5,
        top_k=40,
        stop="END",
        tools=[Tool(name="add"), {"name": "sub", "description": "minus"}],
        tool_choice="sub",
        reasoning_effort="medium",
        timeout=5,
        max_retries=0,
        provider_options={"region": "eu-west-3", "duration_seconds": 900},
    )
    o = req.options
    assert (o.max_tokens, o.temperature, o.top_p, o.top_k, o.stop) == (100, 1.0, 0.5, 40, ["END"])
    assert isinstance(o.temperature, float)
    assert [t.name for t in o.tools] == ["add", "sub"]
    assert o.tools[1].description == "minus"
    assert o.tools[0].parameters == {"type": "object", "properties": {}}
    assert o.tool_choice == "sub"
    assert o.thinking_budget == REASONING_EFFORT_BUDGETS["medium"] == 4096
    assert (req.timeout, req.max_retries) == (5.0, 0)
    assert req.provider_options.region == "eu-west-3"


@pytest.mark.parametrize(
    ("opts", "budget"),
    [
        ({"thinking": {"budget_tokens": 2048}}, 2048),
        ({"thinking": {"type": "enabled", "budget_tokens": 3000}}, 3000),
        ({"thinking": {"type": "disabled"}}, None),
        ({"reasoning_effort": "low"}, 1024),
        ({"reasoning_effort": "high"}, 16384),
        ({}, None),
    ],
)
def test_thinking_budget(opts: dict[str, Any], budget: int | None) -> None:
    assert build(**opts).options.thinking_budget == budget


@pytest.mark.parametrize("choice", ["auto", "none"])
def test_tool_choice_auto_and_none_need_no_tools(choice: str) -> None:
    assert build(tool_choice=choice).options.tool_choice == choice


@pytest.mark.parametrize("name", ["a", "get_weather", "Tool-1", "x" * 64])
def test_good_tool_names(name: str) -> None:
    assert build(tools=[{"name": name}]).options.tools[0].name == name


def test_provider_options_instance_is_accepted_and_still_checked() -> None:
    po = ProviderOptions(region="ap-south-1")
    assert build(provider_options=po).provider_options is po
    refused("provider_options.region", provider_options=ProviderOptions(region="nowhere"))


def test_provider_options_error_does_not_echo_a_secret_value() -> None:
    secret = ["SECRET-VALUE-XYZZY-0001"]
    err = refused("provider_options.api_key", provider_options={"api_key": secret})
    assert "XYZZY" not in str(err)
    assert "XYZZY" not in repr(err)


# -- the pipeline's capability step: system-only prompts -----------------------------------------

SYSTEM_ONLY = [{"role": "system", "content": "You are terse. Say hi."}]


def _prepare(model: str, prompt: Any, **opts: Any) -> Any:
    return prepare(
        model, prompt, {**opts, "provider_options": {**CREDS, **opts.get("provider_options", {})}}, environ={}
    )


@pytest.mark.parametrize(
    "model",
    [
        LLAMA,
        "bedrock:amazon.nova-pro-v1:0",
        "bedrock:cohere.command-r-v1:0",
        "bedrock:mistral.mistral-large-2407-v1:0",
        "bedrock:openai.gpt-oss-20b-1:0",
        "bedrock:newvendor.some-model-v1:0",
    ],
)
def test_system_only_prompt_is_refused_for_non_anthropic(model: str) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        _prepare(model, SYSTEM_ONLY)
    assert info.value.field == "prompt"
    # the same through the ``system`` option and an empty user turn
    with pytest.raises(reqbed.ValidationError) as info:
        _prepare(model, [{"role": "user", "content": " "}], system="only a system text")
    assert info.value.field == "prompt"


@pytest.mark.parametrize("model", [CLAUDE, "bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0"])
def test_system_only_prompt_is_accepted_for_anthropic(model: str) -> None:
    p = _prepare(model, SYSTEM_ONLY, provider_options={"use_converse": True})
    assert p.request.messages == []
    assert p.request.system == [TextPart(text="You are terse. Say hi.")]
    assert p.url.endswith("/converse")


# -- before any I/O ------------------------------------------------------------------------------


def _forbidden(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"reqbed sent a request despite invalid input: {request.method} {request.url}")


async def _aforbidden(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"reqbed sent a request despite invalid input: {request.method} {request.url}")


BAD_CALLS: list[tuple[str, Any, dict[str, Any], str]] = [
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", "hi", {}, "model"),
    (CLAUDE, "", {}, "prompt"),
    (CLAUDE, "hi", {"temperature": 9}, "temperature"),
    (CLAUDE, "hi", {"provider_options": {"region": "atlantis"}}, "provider_options.region"),
    (CLAUDE, "hi", {"provider_options": {"endpoint_url": "http://example.com"}}, "provider_options.endpoint_url"),
    (CLAUDE, "hi", {"provider_options": {"endpoint_url": "ftp://127.0.0.1"}}, "provider_options.endpoint_url"),
    (LLAMA, SYSTEM_ONLY, {}, "prompt"),
    (LLAMA, "hi", {"thinking": {"budget_tokens": 2048}}, "thinking"),
    (LLAMA, "hi", {"top_k": 5, "provider_options": {"use_converse": True}}, "top_k"),
    ("bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0", "hi", {"thinking": {"budget_tokens": 512}}, "thinking"),
]


@pytest.mark.parametrize(("model", "prompt", "opts", "field"), BAD_CALLS)
def test_validation_happens_before_any_io(model: str, prompt: Any, opts: dict[str, Any], field: str) -> None:
    po = {**CREDS, **opts.get("provider_options", {})}
    with reqbed.Client(transport=httpx.MockTransport(_forbidden), environ={}) as client:
        with pytest.raises(reqbed.ValidationError) as info:
            client.generate_text(model, prompt, **{**opts, "provider_options": po})
        assert info.value.field == field
        with pytest.raises(reqbed.ValidationError):
            client.stream_text(model, prompt, **{**opts, "provider_options": po})


@pytest.mark.anyio
@pytest.mark.parametrize(("model", "prompt", "opts", "field"), BAD_CALLS[:4])
async def test_validation_happens_before_any_io_async(
    model: str, prompt: Any, opts: dict[str, Any], field: str
) -> None:
    po = {**CREDS, **opts.get("provider_options", {})}
    async with reqbed.Client(async_transport=httpx.MockTransport(_aforbidden), environ={}) as client:
        with pytest.raises(reqbed.ValidationError) as info:
            await client.agenerate_text(model, prompt, **{**opts, "provider_options": po})
        assert info.value.field == field
        with pytest.raises(reqbed.ValidationError):
            await client.astream_text(model, prompt, **{**opts, "provider_options": po})


def test_the_forbidden_transport_really_fails_when_called() -> None:
    """Guard against a vacuous proof: a valid call does reach the transport."""
    with (
        reqbed.Client(transport=httpx.MockTransport(_forbidden), environ={}) as client,
        pytest.raises(pytest.fail.Exception),
    ):
        client.generate_text(CLAUDE, "hi", provider_options=CREDS)
