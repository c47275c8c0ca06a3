"""Token counts in every family's usage parsing: a JSON ``true`` (or a string, a float, a
negative number) is not a count, and Bedrock's ``amazon-bedrock-invocationMetrics`` is read by
one shared helper (``_families._common.invocation_metrics_usage``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from reqbed._families import FAMILIES, _common
from reqbed._families import capabilities as caps
from reqbed._families.anthropic_parse import AnthropicStreamParser, anthropic_usage
from reqbed._families.cohere import CohereStreamParser, meta_usage
from reqbed._families.converse import converse_usage
from reqbed._families.meta import MetaFormatter, MetaStreamParser
from reqbed._families.openai import OpenAIStreamParser, openai_usage
from reqbed._request import build_chat_request
from reqbed._types import Usage, UsageChunk

NOT_COUNTS = [True, False, "7", 7.0, -3, None, [1], {"n": 1}]


def usage(inp: int = 0, out: int = 0, total: int | None = None, read: int = 0, write: int = 0) -> Usage:
    total = inp + out + read + write if total is None else total
    return Usage(
        input_tokens=inp, output_tokens=out, total_tokens=total, cache_read_tokens=read, cache_write_tokens=write
    )


@pytest.mark.parametrize("bad", NOT_COUNTS, ids=repr)
def test_token_count_takes_only_non_negative_ints(bad: object) -> None:
    assert _common.token_count(bad) == 0
    assert _common.token_count(5) == 5


# (family, parser of its usage object, the object with ``bad`` in the input count, expected Usage)
USAGE_PARSERS: list[tuple[str, Callable[[Any], Usage], Callable[[object], dict[str, Any]]]] = [
    ("converse", converse_usage, lambda bad: {"inputTokens": bad, "outputTokens": 2}),
    ("anthropic", anthropic_usage, lambda bad: {"input_tokens": bad, "output_tokens": 2}),
    ("openai", openai_usage, lambda bad: {"prompt_tokens": bad, "completion_tokens": 2}),
    ("cohere", meta_usage, lambda bad: {"billed_units": {"input_tokens": bad, "output_tokens": 2}}),
    ("metrics", _common.invocation_metrics_usage, lambda bad: {"inputTokenCount": bad, "outputTokenCount": 2}),
]


@pytest.mark.parametrize("bad", [True, "7", 7.5], ids=repr)
@pytest.mark.parametrize(("family", "parse", "make"), USAGE_PARSERS, ids=[u[0] for u in USAGE_PARSERS])
def test_a_bool_or_string_is_not_a_count_in_any_usage_parser(
    family: str, parse: Callable[[Any], Usage], make: Callable[[object], dict[str, Any]], bad: object
) -> None:
    assert parse(make(bad)) == usage(0, 2)
    assert parse(make(5)) == usage(5, 2)


def llama_request(stream: bool = False) -> Any:
    return build_chat_request("bedrock:meta.llama3-3-70b-instruct-v1:0", "hi", {}, stream=stream)


def test_meta_response_does_not_count_true_as_a_token() -> None:
    body = {"generation": "hi", "prompt_token_count": True, "generation_token_count": 3, "stop_reason": "stop"}
    resp = MetaFormatter().parse_response(json.dumps(body).encode(), llama_request())
    assert resp.usage == usage(0, 3)


def _usage_chunks(parser: Any, events: list[dict[str, Any]]) -> list[Usage]:
    out = [c for e in events for c in parser.feed("chunk", json.dumps(e).encode())] + parser.finish()
    return [c.usage for c in out if isinstance(c, UsageChunk)]


def test_meta_stream_does_not_count_true_as_a_token() -> None:
    events: list[dict[str, Any]] = [
        {"generation": "hi", "prompt_token_count": True, "generation_token_count": True},
        {"generation": "", "generation_token_count": 4, "stop_reason": "stop"},
    ]
    assert _usage_chunks(MetaStreamParser(), events) == [usage(0, 4)]
    metrics = {"inputTokenCount": True, "outputTokenCount": 4}
    events[-1]["amazon-bedrock-invocationMetrics"] = metrics
    assert _usage_chunks(MetaStreamParser(), events) == [usage(0, 4)]


def test_every_native_stream_reads_invocation_metrics_alike() -> None:
    """The metrics Bedrock appends to the last chunk give the same Usage in every family that uses them."""
    metrics = {"inputTokenCount": 11, "outputTokenCount": True, "invocationLatency": 5}
    expected = usage(11, 0)
    llama = [{"generation": "hi", "stop_reason": "stop", "amazon-bedrock-invocationMetrics": metrics}]
    assert _usage_chunks(MetaStreamParser(), llama) == [expected]
    cohere = [
        {"event_type": "stream-end", "finish_reason": "COMPLETE", "response": {}, _common.INVOCATION_METRICS: metrics}
    ]
    assert _usage_chunks(CohereStreamParser(), cohere) == [expected]
    gpt = [
        {"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]},
        {"choices": [], _common.INVOCATION_METRICS: metrics},
    ]
    assert _usage_chunks(OpenAIStreamParser(), gpt) == [expected]
    claude = [
        {"type": "message_start", "message": {"usage": {}}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {}},
        {"type": "message_stop", _common.INVOCATION_METRICS: {**metrics, "cacheReadInputTokenCount": 3}},
    ]
    assert _usage_chunks(AnthropicStreamParser(), claude) == [usage(11, 0, read=3)]


def test_copy_options_copies_only_what_was_set_under_the_familys_keys() -> None:
    req = build_chat_request("bedrock:cohere.command-r-v1:0", "hi", {"top_p": 0.5, "stop": ["x"]})
    table = (("max_tokens", "max_tokens"), ("top_p", "p"), ("stop", "stop_sequences"), ("tools", "tools"))
    body = _common.copy_options({"message": "hi"}, req.options, table)
    assert body == {"message": "hi", "p": 0.5, "stop_sequences": ["x"]}
    assert body["stop_sequences"] is not req.options.stop


def test_every_family_with_capabilities_is_registered() -> None:
    assert set(caps.BY_FAMILY) <= set(FAMILIES)
    for name, family in FAMILIES.items():
        assert family.capabilities is caps.BY_FAMILY[name]
