"""Cache control (issue 11): explicit marks on tools, system parts and message parts; the TTL
ordering rule checked before sending; cache points only where the model takes them;
``Usage.cache_write_by_ttl`` from Converse ``usage.cacheDetails`` and Claude's native counts."""

from __future__ import annotations

import json
from typing import Any

import pytest

import reqbed
from reqbed import Tool, Usage
from reqbed.testing import Emulator
from tests.support.native import prepared
from tests.test_request_features import converse, converse_valid, native, refused_here

CLAUDE = "bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0"
NOVA = "bedrock:us.amazon.nova-pro-v1:0"
HOUR = {"type": "ephemeral", "ttl": "1h"}
FIVE = {"type": "ephemeral", "ttl": "5m"}
LOOKUP = Tool(name="lookup", parameters={"type": "object", "properties": {"q": {"type": "string"}}}, cache_control=HOUR)
LONG = "You answer questions about the shop. " * 30


def marked_prompt(system_mark: dict[str, Any], message_mark: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": [{"type": "text", "text": LONG, "cache_control": system_mark}]},
        {"role": "user", "content": [{"type": "text", "text": "Opening hours?", "cache_control": message_mark}]},
    ]


@pytest.mark.parametrize("stream", [False, True])
def test_explicit_marks_on_tools_system_and_messages_in_converse(stream: bool) -> None:
    p = converse(CLAUDE, marked_prompt(HOUR, FIVE), stream=stream, tools=[LOOKUP])
    body = converse_valid(p)
    assert body["toolConfig"]["tools"][1] == {"cachePoint": {"type": "default", "ttl": "1h"}}
    assert body["system"][-1] == {"cachePoint": {"type": "default", "ttl": "1h"}}
    assert body["messages"][0]["content"][-1] == {"cachePoint": {"type": "default", "ttl": "5m"}}


def test_explicit_marks_in_claudes_native_body() -> None:
    body = json.loads(native(CLAUDE, marked_prompt(HOUR, FIVE), tools=[LOOKUP]).body)
    assert body["tools"][0]["cache_control"] == HOUR
    assert body["system"][-1]["cache_control"] == HOUR
    assert body["messages"][0]["content"][-1]["cache_control"] == FIVE


@pytest.mark.parametrize("make", [converse, native])
def test_a_1h_point_after_a_5m_one_is_refused_before_sending(make: Any) -> None:
    short_tool = Tool(name="lookup", cache_control=FIVE)
    refused_here("prompt.cache_control", make, CLAUDE, marked_prompt(HOUR, HOUR), tools=[short_tool])
    refused_here("prompt.cache_control", make, CLAUDE, marked_prompt(FIVE, HOUR))


def test_nova_gets_no_cache_point_in_its_tools() -> None:
    # AWS's prompt-caching page: Amazon Nova takes cache points in system and messages, not tools
    refused_here("tools[0].cache_control", converse, NOVA, "hi", tools=[LOOKUP])
    plain_tool = Tool(name="lookup")
    body = converse_valid(
        converse(NOVA, "hi", system=LONG, tools=[plain_tool], provider_options={"anthropic_prompt_cache": True})
    )
    assert all("cachePoint" not in t for t in body["toolConfig"]["tools"])
    assert "cachePoint" in body["system"][-1]
    # Claude keeps its tools point
    body = converse_valid(converse(CLAUDE, "hi", tools=[plain_tool], provider_options={"anthropic_prompt_cache": True}))
    assert "cachePoint" in body["toolConfig"]["tools"][-1]


def test_bad_tool_marks_and_models_without_caching_are_refused() -> None:
    refused_here(
        "tools[0].cache_control.ttl", converse, CLAUDE, "hi", tools=[Tool(name="t", cache_control={"ttl": "2h"})]
    )
    refused_here("tools", converse, "bedrock:anthropic.claude-3-haiku-20240307-v1:0", "hi", tools=[LOOKUP])


def test_cache_writes_by_ttl_from_converse_cache_details() -> None:
    answer = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": 3,
            "outputTokens": 1,
            "totalTokens": 54,
            "cacheWriteInputTokens": 50,
            "cacheDetails": [{"ttl": "1h", "inputTokens": 30}, {"ttl": "5m", "inputTokens": 20}],
        },
        "metrics": {"latencyMs": 1},
    }
    usage = converse(CLAUDE, "hi").parse(200, {}, json.dumps(answer).encode()).usage
    assert usage == Usage(
        input_tokens=3, output_tokens=1, total_tokens=54, cache_write_tokens=50, cache_write_by_ttl={"1h": 30, "5m": 20}
    )


def test_cache_writes_by_ttl_from_claudes_native_usage() -> None:
    answer = {
        "type": "message",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 3,
            "output_tokens": 1,
            "cache_creation_input_tokens": 50,
            "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 30},
        },
    }
    usage = native(CLAUDE, "hi").parse(200, {}, json.dumps(answer).encode()).usage
    assert usage.cache_write_by_ttl == {"5m": 20, "1h": 30}


# -- end to end against the emulator --------------------------------------------------------------


@pytest.mark.parametrize("use_converse", [True, False])
@pytest.mark.parametrize("stream", [False, True])
def test_hour_long_cache_writes_are_reported_end_to_end(emulator: Emulator, use_converse: bool, stream: bool) -> None:
    po = {**emulator.provider_options(), "use_converse": use_converse}
    prompt = marked_prompt(HOUR, HOUR)
    prompt[0]["content"][0]["text"] += f" ({use_converse}, {stream})"  # a prefix of its own

    def call() -> reqbed.Response:
        if not stream:
            return reqbed.generate_text(CLAUDE, prompt, provider_options=po)
        with reqbed.stream_text(CLAUDE, prompt, provider_options=po) as s:
            return s.response()

    first = call()
    assert first.usage.cache_write_tokens > 0
    assert first.usage.cache_write_by_ttl == {"1h": first.usage.cache_write_tokens}
    second = call()
    assert (second.usage.cache_read_tokens, second.usage.cache_write_by_ttl) == (first.usage.cache_write_tokens, {})


@pytest.mark.anyio
async def test_cache_writes_by_ttl_end_to_end_async(emulator: Emulator, anyio_backend: str) -> None:
    po = {**emulator.provider_options(), "use_converse": True}
    prompt = marked_prompt(FIVE, FIVE)
    prompt[0]["content"][0]["text"] += f" ({anyio_backend})"  # a prefix of its own
    first = await reqbed.agenerate_text(CLAUDE, prompt, provider_options=po)
    assert first.usage.cache_write_tokens > 0
    assert first.usage.cache_write_by_ttl == {"5m": first.usage.cache_write_tokens}
    stream = await reqbed.astream_text(CLAUDE, prompt, provider_options=po)
    async with stream:
        again = await stream.response()
    assert again.usage.cache_read_tokens == first.usage.cache_write_tokens


def test_the_tool_mark_reaches_the_emulator(emulator: Emulator) -> None:
    po = {**emulator.provider_options(), "use_converse": True}
    reqbed.generate_text(CLAUDE, "hi", tools=[LOOKUP], provider_options=po)
    sent = json.loads(emulator.requests[-1]["body"])
    assert sent["toolConfig"]["tools"][1] == {"cachePoint": {"type": "default", "ttl": "1h"}}
    assert prepared(CLAUDE, "hi", tools=[LOOKUP]).formatter.endpoint == "converse"
