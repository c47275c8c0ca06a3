"""Nothing lost from real answers (issue 11, defects 1-3): cited text, native guardrail
interventions, and token counts from InvokeModel's headers.

Each test parses an answer in the shape AWS documents through the whole step 9
(``Prepared.parse`` / ``StreamCore``), streamed and not.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import msgspec
import pytest

from reqbed import Citation, CitationChunk, CitationsPart, GuardrailResult, TextPart, Usage
from reqbed._aws.eventstream import encode_frame
from reqbed._pipeline import Prepared
from reqbed._stream import StreamCore
from reqbed._types import Chunk, Response
from tests.support.native import prepared

CONVERSE = {"provider_options": {"use_converse": True}}
NATIVE = {"provider_options": {"use_converse": False}}
MODELS = {
    "anthropic": "bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0",
    "cohere": "bedrock:cohere.command-r-v1:0",
    "meta": "bedrock:meta.llama3-3-70b-instruct-v1:0",
    "openai": "bedrock:openai.gpt-oss-20b-1:0",
}
GUARDRAIL = {"amazon-bedrock-guardrailAction": "INTERVENED"}
BLOCKED = "Sorry, I cannot answer that."


def frames(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    return b"".join(
        encode_frame(
            {":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
            json.dumps(payload).encode(),
        )
        for kind, payload in events
    )


def invoke_frames(events: list[dict[str, Any]]) -> bytes:
    return frames([("chunk", {"bytes": base64.b64encode(json.dumps(e).encode()).decode()}) for e in events])


def replay(body: bytes, p: Prepared) -> tuple[Response, list[Chunk]]:
    core = StreamCore(p)
    chunks = core.feed(body) + core.close()
    return core.response(), chunks


def plain(resp: Response) -> Response:
    return msgspec.structs.replace(resp, raw=None, served_by=None)


# -- defect 1: cited text (Converse citationsContent) -------------------------------------------

LOCATION = {"documentChar": {"documentIndex": 0, "start": 0, "end": 38}}
CITED = {
    "citationsContent": {
        "content": [{"text": "Emperor penguins are the tallest."}],
        "citations": [
            {
                "title": "penguins",
                "sourceContent": [{"text": "Emperor penguins are the tallest penguins."}],
                "location": LOCATION,
            }
        ],
    }
}
ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "From the report: "}, CITED, {"text": " Ok."}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 10, "outputTokens": 7, "totalTokens": 17},
    "metrics": {"latencyMs": 5},
}
CITATION = Citation(text="Emperor penguins are the tallest penguins.", title="penguins", location=LOCATION)


def test_cited_text_is_kept_in_text_message_and_citations() -> None:
    resp = prepared(MODELS["anthropic"], "hi", **CONVERSE).parse(200, {}, json.dumps(ANSWER).encode())
    assert resp.text == "From the report: Emperor penguins are the tallest. Ok."
    assert resp.message.content == [
        TextPart(text="From the report: "),
        CitationsPart(text="Emperor penguins are the tallest.", citations=[CITATION]),
        TextPart(text=" Ok."),
    ]
    assert resp.citations == [CITATION]


def test_a_later_turn_resends_the_citations_content_unchanged() -> None:
    resp = prepared(MODELS["anthropic"], "hi", **CONVERSE).parse(200, {}, json.dumps(ANSWER).encode())
    p = prepared(
        MODELS["anthropic"], [{"role": "user", "content": "q"}, resp.message, {"role": "user", "content": "more"}]
    )
    sent = json.loads(p.body)["messages"][1]["content"]
    assert sent == ANSWER["output"]["message"]["content"]  # type: ignore[index]


def test_the_streamed_answer_gives_the_same_message_and_a_citation_chunk() -> None:
    delta = "contentBlockDelta"
    events = [
        ("messageStart", {"role": "assistant"}),
        (delta, {"contentBlockIndex": 0, "delta": {"text": "From the report: "}}),
        ("contentBlockStop", {"contentBlockIndex": 0}),
        (delta, {"contentBlockIndex": 1, "delta": {"text": "Emperor penguins "}}),
        (delta, {"contentBlockIndex": 1, "delta": {"text": "are the tallest."}}),
        (delta, {"contentBlockIndex": 1, "delta": {"citation": CITED["citationsContent"]["citations"][0]}}),
        ("contentBlockStop", {"contentBlockIndex": 1}),
        (delta, {"contentBlockIndex": 2, "delta": {"text": " Ok."}}),
        ("contentBlockStop", {"contentBlockIndex": 2}),
        ("messageStop", {"stopReason": "end_turn"}),
        ("metadata", {"usage": ANSWER["usage"], "metrics": {"latencyMs": 5}}),
    ]
    p = prepared(MODELS["anthropic"], "hi", stream=True, **CONVERSE)
    streamed, chunks = replay(frames(events), p)
    assert [c for c in chunks if isinstance(c, CitationChunk)] == [
        CitationChunk(citation=CITATION, text="Emperor penguins are the tallest.")
    ]
    whole = prepared(MODELS["anthropic"], "hi", **CONVERSE).parse(200, {}, json.dumps(ANSWER).encode())
    assert plain(streamed) == plain(whole)


# -- defect 2: native guardrail interventions -> content_filter ------------------------------------

NATIVE_BLOCKED: dict[str, dict[str, Any]] = {
    "anthropic": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": BLOCKED}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 0, "output_tokens": 0},
    },
    "cohere": {"text": BLOCKED, "generation_id": "g", "finish_reason": "COMPLETE"},
    "meta": {"generation": BLOCKED, "prompt_token_count": None, "generation_token_count": None, "stop_reason": "stop"},
    "openai": {
        "id": "c1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": BLOCKED}, "finish_reason": "stop"}],
    },
}


@pytest.mark.parametrize("family", sorted(NATIVE_BLOCKED))
def test_a_native_guardrail_intervention_is_a_content_filter(family: str) -> None:
    p = prepared(MODELS[family], "hi", **NATIVE)
    assert p.formatter.endpoint == "invoke"
    body = {**NATIVE_BLOCKED[family], **GUARDRAIL}
    resp = p.parse(200, {}, json.dumps(body).encode())
    assert (resp.text, resp.finish_reason) == (BLOCKED, "content_filter")
    # without the mark, the same answer is a normal stop
    assert p.parse(200, {}, json.dumps(NATIVE_BLOCKED[family]).encode()).finish_reason == "stop"


METRICS = {"inputTokenCount": 12, "outputTokenCount": 6, "invocationLatency": 50, "firstByteLatency": 20}
NATIVE_STREAMS: dict[str, list[dict[str, Any]]] = {
    "anthropic": [
        {"type": "message_start", "message": {"usage": {"input_tokens": 0, "output_tokens": 0}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": BLOCKED}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 0}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": METRICS},
    ],
    "cohere": [
        {"event_type": "stream-start", "generation_id": "g"},
        {"event_type": "text-generation", "text": BLOCKED},
        {
            "event_type": "stream-end",
            "finish_reason": "COMPLETE",
            "response": {"text": BLOCKED},
            "amazon-bedrock-invocationMetrics": METRICS,
        },
    ],
    "meta": [
        {"generation": BLOCKED, "stop_reason": None},
        {"generation": "", "stop_reason": "stop", "amazon-bedrock-invocationMetrics": METRICS},
    ],
    "openai": [
        {"id": "c1", "choices": [{"index": 0, "delta": {"content": BLOCKED}}]},
        {
            "id": "c1",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "amazon-bedrock-invocationMetrics": METRICS,
        },
    ],
}


@pytest.mark.parametrize("family", sorted(NATIVE_STREAMS))
def test_a_native_stream_whose_last_chunk_says_intervened_is_a_content_filter(family: str) -> None:
    events = [dict(e) for e in NATIVE_STREAMS[family]]
    p = prepared(MODELS[family], "hi", stream=True, **NATIVE)
    assert replay(invoke_frames(events), p)[0].finish_reason == "stop"
    events[-1].update(GUARDRAIL)
    resp, _ = replay(invoke_frames(events), prepared(MODELS[family], "hi", stream=True, **NATIVE))
    assert (resp.text, resp.finish_reason) == (BLOCKED, "content_filter")
    # and the final invocation metrics are its usage (the body's own counts are zero or absent)
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (12, 6)


def test_an_intervened_claude_stream_without_a_stop_reason_still_completes() -> None:
    events = [
        NATIVE_STREAMS["anthropic"][0],
        {"type": "message_stop", **GUARDRAIL, "amazon-bedrock-invocationMetrics": METRICS},
    ]
    resp, _ = replay(invoke_frames(events), prepared(MODELS["anthropic"], "hi", stream=True, **NATIVE))
    assert resp.finish_reason == "content_filter"


# -- defect 3: usage from X-Amzn-Bedrock-*-Token-Count headers ----------------------------------

HEADERS = {
    "X-Amzn-Bedrock-Input-Token-Count": "21",
    "X-Amzn-Bedrock-Output-Token-Count": "8",
    "x-amzn-bedrock-cache-read-input-token-count": "5",
    "X-Amzn-Bedrock-Cache-Write-Input-Token-Count": "3",
}


@pytest.mark.parametrize("family", sorted(NATIVE_BLOCKED))
def test_usage_comes_from_the_headers_when_the_body_has_none(family: str) -> None:
    p = prepared(MODELS[family], "hi", **NATIVE)
    body = json.dumps(NATIVE_BLOCKED[family]).encode()
    assert p.parse(200, {}, body).usage == Usage()
    assert p.parse(200, HEADERS, body).usage == Usage(
        input_tokens=21, output_tokens=8, total_tokens=37, cache_read_tokens=5, cache_write_tokens=3
    )


def test_the_body_counts_win_over_the_headers() -> None:
    p = prepared(MODELS["cohere"], "hi", **NATIVE)
    body = {
        "text": "hi",
        "finish_reason": "COMPLETE",
        "meta": {"billed_units": {"input_tokens": 2, "output_tokens": 1}},
    }
    assert p.parse(200, HEADERS, json.dumps(body).encode()).usage == Usage(
        input_tokens=2, output_tokens=1, total_tokens=3
    )


def test_odd_header_values_are_ignored() -> None:
    p = prepared(MODELS["meta"], "hi", **NATIVE)
    body = json.dumps(NATIVE_BLOCKED["meta"]).encode()
    assert p.parse(200, {"X-Amzn-Bedrock-Input-Token-Count": "lots"}, body).usage == Usage()


@pytest.mark.parametrize("family", sorted(NATIVE_STREAMS))
def test_a_configured_guardrail_is_reported_on_native_streams_even_without_bedrocks_mark(family: str) -> None:
    guard = {"guardrail": {"id": "gr1abc", "version": "1"}}
    events = [dict(e) for e in NATIVE_STREAMS[family]]
    resp, chunks = replay(invoke_frames(events), prepared(MODELS[family], "hi", stream=True, **NATIVE, **guard))
    assert resp.guardrail == GuardrailResult(action="NONE")
    assert [c.type for c in chunks][-3:] == ["guardrail", "usage", "finish"]
    assert replay(invoke_frames(events), prepared(MODELS[family], "hi", stream=True, **NATIVE))[0].guardrail is None
    events[-1].update(GUARDRAIL)  # Bedrock's own mark wins, once
    resp, chunks = replay(invoke_frames(events), prepared(MODELS[family], "hi", stream=True, **NATIVE, **guard))
    assert resp.guardrail == GuardrailResult(action="INTERVENED")
    assert [c.type for c in chunks].count("guardrail") == 1
