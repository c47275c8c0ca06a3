"""Claude's native Messages body on InvokeModel: request bodies, prompt caching, thinking, answers.

Oracles: the golden files in tests/golden/anthropic (each names the AWS / Anthropic page it follows:
request bodies for a conversation, and documented answers transcribed with their source).
Streams and the emulator end to end are in test_family_anthropic_stream.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

import reqbed
from reqbed._families import CONVERSE, choose_formatter
from reqbed._families._common import DEFAULT_MAX_TOKENS
from reqbed._families.anthropic import AnthropicFormatter
from reqbed._families.anthropic_parse import anthropic_finish_reason, anthropic_usage
from reqbed._pipeline import prepare
from reqbed._request import build_chat_request

GOLDEN = Path(__file__).parent / "golden" / "anthropic"
MODEL = "bedrock:us.anthropic.claude-3-7-sonnet-20250219-v1:0"
ENV = {"AWS_REGION": "us-east-1"}
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
LOOKUP = {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}


def golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / name).read_text())
    assert data["source"].startswith("https://docs.")
    return data


def body_of(prompt: Any, model: str = MODEL, **opts: Any) -> dict[str, Any]:
    """The native JSON body reqbed would send (the whole pure pipeline, ``use_converse=False``: with tools
    the endpoint rule would pick Converse)."""
    opts = {**opts, "provider_options": {"use_converse": False, **opts.get("provider_options", {})}}
    p = prepare(model, prompt, opts, environ=ENV)
    assert p.url.endswith("/invoke"), p.url
    body: dict[str, Any] = json.loads(p.body)
    return body


def cache_marks(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, cache_control) for every breakpoint, in prefix order."""
    out = [(f"tools[{i}]", t["cache_control"]) for i, t in enumerate(body.get("tools", [])) if "cache_control" in t]
    out += [(f"system[{i}]", b["cache_control"]) for i, b in enumerate(body.get("system", [])) if "cache_control" in b]
    for i, m in enumerate(body["messages"]):
        out += [(f"messages[{i}][{j}]", b["cache_control"]) for j, b in enumerate(m["content"]) if "cache_control" in b]
    return out


# -- golden request bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("request_*.json")))
def test_golden_request_body(name: str) -> None:
    g = golden(name)
    assert body_of(g["prompt"], g["model"], **g["options"]) == g["body"]


def test_goldens_cover_the_documented_features() -> None:
    names = {p.name for p in GOLDEN.glob("request_*.json")}
    assert len(names) >= 10


# -- documented answers ----------------------------------------------------------------------------


def check_expected(resp: reqbed.Response, expected: dict[str, Any]) -> None:
    assert resp.text == expected["text"]
    assert resp.thinking == expected["thinking"]
    assert [msgspec.to_builtins(c) for c in resp.tool_calls] == [
        {"type": "tool_call", **c} for c in expected["tool_calls"]
    ]
    assert resp.finish_reason == expected["finish_reason"]
    assert msgspec.to_builtins(resp.usage) == {"cache_write_by_ttl": {}, **expected["usage"]}
    if "message" in expected:
        assert msgspec.to_builtins(resp.message.content) == expected["message"]


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("response_*.json")))
def test_documented_response(name: str) -> None:
    g = golden(name)
    p = prepare(MODEL, "hi", {}, environ=ENV)
    resp = p.parse(200, {}, json.dumps(g["response"]).encode())
    check_expected(resp, g["expected"])
    assert resp.raw == g["response"]
    assert resp.served_by == MODEL
    assert resp.message.role == "assistant"


def test_a_documented_answer_replays_into_the_next_body() -> None:
    g = golden("response_thinking.json")
    resp = prepare(MODEL, "hi", {}, environ=ENV).parse(200, {}, json.dumps(g["response"]).encode())
    prompt = [{"role": "user", "content": "hi"}, resp.message, {"role": "user", "content": "and then?"}]
    body = body_of(prompt, thinking={"budget_tokens": 1024})
    assert body["messages"][1]["content"] == g["response"]["content"]


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("stop_sequence", "stop_sequence"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "length"),
        ("model_context_window_exceeded", "length"),
        (None, "stop"),
    ],
)
def test_stop_reasons(stop_reason: str | None, finish: str) -> None:
    assert anthropic_finish_reason(stop_reason) == finish


def test_cache_usage_is_reported_apart_and_counted_in_the_total() -> None:
    u = anthropic_usage(
        {"input_tokens": 12, "output_tokens": 30, "cache_creation_input_tokens": 1500, "cache_read_input_tokens": 200}
    )
    assert (u.input_tokens, u.output_tokens, u.cache_write_tokens, u.cache_read_tokens) == (12, 30, 1500, 200)
    assert u.total_tokens == 12 + 30 + 1500 + 200


def test_an_answer_without_content_is_an_error() -> None:
    p = prepare(MODEL, "hi", {}, environ=ENV)
    with pytest.raises(reqbed.ModelStreamError):
        p.parse(200, {}, b'{"type": "error", "error": {"type": "overloaded_error"}}')
    with pytest.raises(reqbed.ModelStreamError):
        p.parse(200, {}, b"[1, 2]")
    with pytest.raises(reqbed.ModelStreamError, match="'id'"):
        p.parse(200, {}, b'{"content": [{"type": "tool_use", "name": "x", "input": {}}]}')


# -- endpoint choice -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_claude_goes_to_converse_with_tools_and_tool_history_unless_forced_native(stream: bool) -> None:
    history = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": [{"type": "tool_call", "id": "t1", "name": "get_weather"}]},
        {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "t1", "content": "sunny"}]},
    ]
    for prompt, opts in (("Weather in Paris?", {"tools": [WEATHER]}), (history, {})):
        p = prepare(MODEL, prompt, opts, stream=stream, environ=ENV)
        assert p.formatter is CONVERSE
        assert p.url.endswith("/converse-stream" if stream else "/converse")
        forced = {**opts, "provider_options": {"use_converse": False}}
        native = prepare(MODEL, prompt, forced, stream=stream, environ=ENV)
        assert isinstance(native.formatter, AnthropicFormatter)
        assert native.url.endswith("/invoke-with-response-stream" if stream else "/invoke")


def test_use_converse_forces_converse_and_false_forces_native() -> None:
    p = prepare(MODEL, "hi", {"tools": [WEATHER], "provider_options": {"use_converse": True}}, environ=ENV)
    assert p.formatter is CONVERSE
    assert p.url.endswith("/converse")
    req = build_chat_request(MODEL, "hi", {"provider_options": {"use_converse": False}})
    assert isinstance(choose_formatter(req), AnthropicFormatter)


def test_documents_the_native_body_cannot_carry_go_through_converse() -> None:
    doc = {"type": "document", "data": "UEsDBA==", "format": "docx", "name": "memo"}
    prompt = [{"role": "user", "content": [doc, {"type": "text", "text": "Summarize"}]}]
    p = prepare(MODEL, prompt, {}, environ=ENV)
    assert p.formatter is CONVERSE
    with pytest.raises(reqbed.ValidationError) as info:
        prepare(MODEL, prompt, {"provider_options": {"use_converse": False}}, environ=ENV)
    assert info.value.field == "prompt.document.format"


# -- body details ----------------------------------------------------------------------------------


def test_max_tokens_is_always_sent() -> None:
    assert body_of("hi")["max_tokens"] == DEFAULT_MAX_TOKENS
    assert body_of("hi", max_tokens=7)["max_tokens"] == 7
    assert body_of("hi", thinking={"budget_tokens": 3000})["max_tokens"] == 3000 + DEFAULT_MAX_TOKENS


def test_turns_are_merged_and_results_lead_their_turn() -> None:
    prompt = [
        {"role": "user", "content": "one"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": [{"type": "tool_call", "id": "a", "name": "lookup", "arguments": {"q": "x"}}]},
        {"role": "user", "content": "(before the result)"},
        {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "a", "content": "found"}]},
    ]
    body = body_of(prompt, tools=[LOOKUP])
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert [b["text"] for b in body["messages"][0]["content"]] == ["one", "two"]
    assert [b["type"] for b in body["messages"][2]["content"]] == ["tool_result", "text"]


def test_tool_choice_mapping_and_tool_results_with_images() -> None:
    for choice, sent in (("auto", {"type": "auto"}), ("any", {"type": "any"}), ("none", {"type": "none"})):
        assert body_of("hi", tools=[WEATHER], tool_choice=choice)["tool_choice"] == sent
    assert "tool_choice" not in body_of("hi", tools=[WEATHER])
    assert "tool_choice" not in body_of("hi", tool_choice="none")  # no tools: nothing to choose from
    image = {"type": "image", "data": "R0lGOD==", "media_type": "image/jpg"}
    prompt = [
        {"role": "user", "content": "chart?"},
        {"role": "assistant", "content": [{"type": "tool_call", "id": "c", "name": "lookup"}]},
        {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "c", "content": [image]}]},
    ]
    result = body_of(prompt, tools=[LOOKUP])["messages"][2]["content"][0]
    assert result["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "R0lGOA=="}}
    ]


@pytest.mark.parametrize(
    ("opts", "field"),
    [
        ({"temperature": 1.5}, "temperature"),
        ({"thinking": {"budget_tokens": 1000}}, "thinking"),
        ({"thinking": {"budget_tokens": 2048}, "max_tokens": 2048}, "thinking"),
        ({"thinking": {"budget_tokens": 2048}, "temperature": 0.2}, "temperature"),
        ({"thinking": {"budget_tokens": 2048}, "top_k": 5}, "top_k"),
        ({"thinking": {"budget_tokens": 2048}, "tools": [WEATHER], "tool_choice": "any"}, "tool_choice"),
        ({"thinking": {"budget_tokens": 2048}, "tools": [WEATHER], "tool_choice": "get_weather"}, "tool_choice"),
    ],
)
def test_bad_options_fail_before_sending(opts: dict[str, Any], field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        body_of("hi", **opts)
    assert info.value.field == field


def test_a_large_thinking_answer_needs_streaming() -> None:
    opts = {"thinking": {"budget_tokens": 16384}, "max_tokens": 21_334}
    with pytest.raises(reqbed.ValidationError, match="needs streaming") as info:
        body_of("hi", **opts)
    assert info.value.field == "max_tokens"
    p = prepare(MODEL, "hi", opts, stream=True, environ=ENV)
    assert json.loads(p.body)["max_tokens"] == 21_334
    assert body_of("hi", thinking={"budget_tokens": 16384}, max_tokens=21_333)["max_tokens"] == 21_333
    assert body_of("hi", reasoning_effort="high")["max_tokens"] == 16384 + DEFAULT_MAX_TOKENS


def test_thinking_that_follows_the_rules_is_sent() -> None:
    body = body_of("hi", reasoning_effort="low", temperature=1, tools=[WEATHER], tool_choice="auto")
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["temperature"] == 1


def test_a_model_without_extended_thinking_is_refused() -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        body_of("hi", "bedrock:anthropic.claude-3-haiku-20240307-v1:0", thinking={"budget_tokens": 2048})
    assert info.value.field == "thinking"


def test_bad_media_fail_before_sending() -> None:
    bad_image = [{"role": "user", "content": [{"type": "image", "data": "AAAA", "media_type": "image/tiff"}]}]
    with pytest.raises(reqbed.ValidationError, match="image/tiff"):
        body_of(bad_image)
    bad_text = [{"role": "user", "content": [{"type": "document", "data": "/w==", "format": "txt", "name": "x"}]}]
    with pytest.raises(reqbed.ValidationError, match="UTF-8"):
        body_of(bad_text)


def test_additional_fields_are_merged_into_the_body() -> None:
    extra = {"top_k": 3, "metadata": {"user_id": "u-1"}}
    body = body_of("hi", provider_options={"additional_model_request_fields": extra, "anthropic_beta": ["b-1"]})
    assert body["top_k"] == 3
    assert body["metadata"] == {"user_id": "u-1"}
    assert body["anthropic_beta"] == ["b-1"]


# -- prompt caching --------------------------------------------------------------------------------

CACHE = {"anthropic_prompt_cache": True}
PROMPT = [
    {"role": "system", "content": "Long instructions"},
    {"role": "user", "content": "first"},
    {"role": "assistant", "content": "ok"},
    {"role": "user", "content": "second"},
]


def test_default_breakpoints_are_5m_on_last_tool_system_and_last_message() -> None:
    body = body_of(PROMPT, tools=[WEATHER, LOOKUP], provider_options=CACHE)
    assert cache_marks(body) == [
        ("tools[1]", {"type": "ephemeral"}),
        ("system[0]", {"type": "ephemeral"}),
        ("messages[2][0]", {"type": "ephemeral"}),
    ]


def test_cache_messages_picks_another_message_and_negative_indexes_count_from_the_end() -> None:
    for index, where in ((0, "messages[0][0]"), (-2, "messages[1][0]"), (2, "messages[2][0]")):
        body = body_of(PROMPT, provider_options={**CACHE, "anthropic_cache_messages": index})
        assert [w for w, _ in cache_marks(body)] == ["system[0]", where]
    with pytest.raises(reqbed.ValidationError) as info:
        body_of(PROMPT, provider_options={**CACHE, "anthropic_cache_messages": 3})
    assert info.value.field == "provider_options.anthropic_cache_messages"


def test_stub_tools_get_no_breakpoint_and_thinking_blocks_never_do() -> None:
    prompt = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_call", "id": "t1", "name": "get_weather"},
                {"type": "thinking", "text": "hm", "signature": "sig"},
            ],
        },
        {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "t1", "content": "sunny"}]},
    ]
    body = body_of(prompt, provider_options={**CACHE, "anthropic_cache_messages": 1})
    assert body["tools"][0]["description"].startswith("(tool used earlier")
    assert cache_marks(body) == [("messages[1][1]", {"type": "ephemeral"})]  # the tool_use, not the thinking


def test_the_1h_ttl_goes_on_every_breakpoint_reqbed_places() -> None:
    body = body_of(PROMPT, tools=[WEATHER], provider_options={**CACHE, "anthropic_prompt_cache_ttl": "1h"})
    assert [cc for _, cc in cache_marks(body)] == [{"type": "ephemeral", "ttl": "1h"}] * 3


def test_an_explicit_1h_mark_is_never_dropped_or_shortened() -> None:
    hour = {"type": "ephemeral", "ttl": "1h"}
    prompt = [
        {"role": "system", "content": "Long instructions"},
        {"role": "user", "content": [{"type": "text", "text": "question", "cache_control": hour}]},
    ]
    # reqbed's 5m breakpoint lands on the same block: the 1h stays; its own earlier ones become 1h
    # (Claude refuses a 5m breakpoint before a 1h one).
    body = body_of(prompt, tools=[WEATHER], provider_options=CACHE)
    assert cache_marks(body) == [("tools[0]", hour), ("system[0]", hour), ("messages[0][0]", hour)]
    # ... and with caching off the explicit mark is still sent as given.
    assert cache_marks(body_of(prompt)) == [("messages[0][0]", hour)]
    # A 1h TTL asked through the option lengthens an explicit 5m mark on the same block.
    five = [{"role": "user", "content": [{"type": "text", "text": "q", "cache_control": {"type": "ephemeral"}}]}]
    body = body_of(five, provider_options={**CACHE, "anthropic_prompt_cache_ttl": "1h"})
    assert cache_marks(body) == [("messages[0][0]", hour)]


def test_an_explicit_5m_mark_before_a_1h_one_is_refused() -> None:
    prompt = [
        {"role": "user", "content": [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}]},
        {"role": "assistant", "content": "b"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "c", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        },
    ]
    with pytest.raises(reqbed.ValidationError) as info:
        body_of(prompt)
    assert info.value.field == "prompt.cache_control"


def test_explicit_marks_are_kept_counted_and_limited_to_4() -> None:
    mark = {"type": "ephemeral"}
    parts = [{"type": "text", "text": f"doc {i}", "cache_control": mark} for i in range(2)]
    prompt = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": [*parts, {"type": "text", "text": "q"}]},
    ]
    body = body_of(prompt, provider_options=CACHE)  # 2 explicit + system + last message = 4
    assert [w for w, _ in cache_marks(body)] == ["system[0]", "messages[0][0]", "messages[0][1]", "messages[0][2]"]
    with pytest.raises(reqbed.ValidationError, match="5 cache_control breakpoints") as info:
        body_of(prompt, tools=[WEATHER], provider_options=CACHE)  # + the last tool = 5
    assert info.value.field == "prompt"


def test_an_empty_marked_text_part_marks_the_block_before_it() -> None:
    prompt = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "big document"},
                {"type": "text", "text": "", "cache_control": {"type": "ephemeral"}},
            ],
        }
    ]
    assert body_of(prompt)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "big document", "cache_control": {"type": "ephemeral"}}]}
    ]


def test_a_cache_control_claude_would_refuse_fails_before_sending() -> None:
    prompt = [{"role": "user", "content": [{"type": "text", "text": "q", "cache_control": {"type": "forever"}}]}]
    with pytest.raises(reqbed.ValidationError) as info:
        body_of(prompt)
    assert info.value.field == "prompt.cache_control"


def test_caching_on_a_model_without_it_is_refused() -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        body_of("hi", "bedrock:anthropic.claude-3-opus-20240229-v1:0", provider_options=CACHE)
    assert info.value.field == "provider_options.anthropic_prompt_cache"
