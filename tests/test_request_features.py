"""Bedrock's request features (issue 11): guardrails and guard content, citations, service tier,
latency, request metadata, additional response field paths.

Converse bodies are checked against botocore's own ``bedrock-runtime`` model (``Converse`` and
``ConverseStream`` input shapes), InvokeModel's headers against its ``InvokeModel`` input shape;
then the whole call runs against the emulator, sync, asyncio and trio, streamed and not.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

import reqbed
from reqbed import Citation, CitationsPart, GuardrailResult
from reqbed._pipeline import Prepared
from reqbed.testing import Emulator
from reqbed.testing._features_responder import GUARDRAIL_MESSAGE, TRIGGER
from tests.families.test_converse_body import _limits
from tests.support.native import prepared

SERVICE = botocore.session.get_session().get_service_model("bedrock-runtime")
CLAUDE = "bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0"
NOVA = "bedrock:us.amazon.nova-pro-v1:0"
COHERE = "bedrock:cohere.command-r-v1:0"
GUARD = {"id": "gr1abc", "version": "1", "trace": "enabled"}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
DOC = {"type": "document", "data": b"Emperor penguins are the tallest. They live in Antarctica.", "format": "txt"}


def _unblob(blocks: list[dict[str, Any]]) -> None:
    for b in blocks:
        for holder in (b, b.get("guardContent", {})):
            for key in ("image", "document"):
                src = holder.get(key, {}).get("source", {})
                if "bytes" in src:
                    src["bytes"] = base64.b64decode(src["bytes"], validate=True)


def converse_valid(p: Prepared) -> dict[str, Any]:
    """The body of ``p`` is a valid Converse / ConverseStream input (botocore's model)."""
    body: dict[str, Any] = json.loads(p.body)
    params = {"modelId": p.request.spec.model_id, **copy.deepcopy(body)}
    for m in params["messages"]:
        _unblob(m["content"])
    shape = SERVICE.operation_model("ConverseStream" if p.request.stream else "Converse").input_shape
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()
    assert _limits(shape, params) == []
    return body


def invoke_valid(p: Prepared) -> dict[str, str]:
    """The headers of ``p`` map onto valid InvokeModel header members (botocore's model)."""
    op = SERVICE.operation_model("InvokeModelWithResponseStream" if p.request.stream else "InvokeModel")
    by_header = {m.serialization.get("name", "").lower(): k for k, m in op.input_shape.members.items()}
    params: dict[str, Any] = {"modelId": p.request.spec.model_id, "body": p.body}
    extra = {k: v for k, v in p.headers.items() if k.lower().startswith("x-amzn-bedrock-")}
    for name, value in extra.items():
        assert name.lower() in by_header, name
        params[by_header[name.lower()]] = value
    report = ParamValidator().validate(params, op.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert _limits(op.input_shape, {k: v for k, v in params.items() if k != "body"}) == []
    return extra


def converse(model: str, prompt: Any, *, stream: bool = False, **opts: Any) -> Prepared:
    po = {"use_converse": True, **opts.pop("provider_options", {})}
    return prepared(model, prompt, stream=stream, provider_options=po, **opts)


def native(model: str, prompt: Any, *, stream: bool = False, **opts: Any) -> Prepared:
    po = {"use_converse": False, **opts.pop("provider_options", {})}
    return prepared(model, prompt, stream=stream, provider_options=po, **opts)


def refused_here(field: str, make: Any, *args: Any, **opts: Any) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        make(*args, **opts)
    assert info.value.field == field, str(info.value)


# -- Converse bodies (botocore's model is the oracle) ---------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_every_feature_in_one_converse_body(stream: bool) -> None:
    guard = {**GUARD, "stream_mode": "async"} if stream else GUARD
    prompt = [
        {
            "role": "user",
            "content": [
                {**DOC, "name": "penguins", "citations": True, "context": "a field guide"},
                {"type": "guard_content", "text": "Is it cold?", "qualifiers": ["query"]},
                {"type": "guard_content", "data": PNG, "media_type": "image/png"},
            ],
        }
    ]
    p = converse(
        CLAUDE,
        prompt,
        stream=stream,
        guardrail=guard,
        service_tier="priority",
        latency="optimized",
        request_metadata={"team": "search", "cost-center": "42"},
        provider_options={"additional_model_response_field_paths": ["/stop_sequence"]},
    )
    body = converse_valid(p)
    expected_guard = {"guardrailIdentifier": "gr1abc", "guardrailVersion": "1", "trace": "enabled"}
    if stream:
        expected_guard["streamProcessingMode"] = "async"
    assert body["guardrailConfig"] == expected_guard
    assert body["serviceTier"] == {"type": "priority"}
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["requestMetadata"] == {"team": "search", "cost-center": "42"}
    assert body["additionalModelResponseFieldPaths"] == ["/stop_sequence"]
    doc, text, image = body["messages"][0]["content"]
    assert (doc["document"]["citations"], doc["document"]["context"]) == ({"enabled": True}, "a field guide")
    assert text == {"guardContent": {"text": {"text": "Is it cold?", "qualifiers": ["query"]}}}
    assert image["guardContent"]["image"]["format"] == "png"


def test_reqbed_guardrail_is_the_same_as_the_dict() -> None:
    a = converse(NOVA, "hi", guardrail=reqbed.Guardrail(id="gr1abc", version="DRAFT"))
    b = converse(NOVA, "hi", guardrail={"id": "gr1abc", "version": "DRAFT"})
    assert converse_valid(a) == converse_valid(b)
    arn = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123"
    assert converse_valid(converse(NOVA, "hi", guardrail={"id": arn, "version": 2}))["guardrailConfig"] == {
        "guardrailIdentifier": arn,
        "guardrailVersion": "2",
    }


def test_a_cited_answer_is_resent_as_citations_content() -> None:
    page = {"documentPage": {"documentIndex": 0, "start": 1, "end": 1}}
    cited = CitationsPart(
        text="Tall.",
        citations=[Citation(text="Emperors are tall.", title="doc", location=page), Citation(text="x", location={})],
    )
    prompt = [
        {"role": "user", "content": "How tall?"},
        {"role": "assistant", "content": [cited]},
        {"role": "user", "content": "And?"},
    ]
    p = prepared(CLAUDE, prompt)  # a cited answer in the history goes to Converse by default
    body = converse_valid(p)
    assert body["messages"][1]["content"] == [
        {
            "citationsContent": {
                "content": [{"text": "Tall."}],
                "citations": [
                    {"title": "doc", "sourceContent": [{"text": "Emperors are tall."}], "location": page},
                    {"sourceContent": [{"text": "x"}]},  # an empty location is left out (a union)
                ],
            }
        }
    ]
    assert "Tall." in json.loads(native(CLAUDE, prompt).body)["messages"][1]["content"][0]["text"]


# -- refused before sending, naming the field ----------------------------------------------------

BAD: list[tuple[str, dict[str, Any]]] = [
    ("guardrail", {"guardrail": "gr1"}),
    ("guardrail.id", {"guardrail": {"id": "Not Valid", "version": "1"}}),
    ("guardrail.version", {"guardrail": {"id": "gr1", "version": "latest"}}),
    ("guardrail.version", {"guardrail": {"id": "gr1", "version": "0"}}),
    ("guardrail.trace", {"guardrail": {**GUARD, "trace": "ENABLED"}}),
    ("guardrail.stream_mode", {"guardrail": {**GUARD, "stream_mode": "fast"}}),
    ("guardrail.stream_mode", {"guardrail": {**GUARD, "stream_mode": "sync"}}),  # not streaming
    ("guardrail.colour", {"guardrail": {**GUARD, "colour": "red"}}),
    ("service_tier", {"service_tier": "gold"}),
    ("latency", {"latency": "fast"}),
    ("request_metadata", {"request_metadata": {}}),
    ("request_metadata", {"request_metadata": {f"k{i}": "v" for i in range(17)}}),
    ("request_metadata", {"request_metadata": {"bad key!": "v"}}),
    ("request_metadata.team", {"request_metadata": {"team": "x" * 257}}),
    ("request_metadata.team", {"request_metadata": {"team": 3}}),
    (
        "provider_options.additional_model_response_field_paths",
        {"provider_options": {"additional_model_response_field_paths": ["stop"]}},
    ),
    (
        "provider_options.additional_model_response_field_paths",
        {"provider_options": {"additional_model_response_field_paths": ["/a"] * 11}},
    ),
]


@pytest.mark.parametrize(("field", "opts"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)])
def test_bad_feature_options_are_refused_before_sending(field: str, opts: dict[str, Any]) -> None:
    refused_here(field, converse, CLAUDE, "hi", **copy.deepcopy(opts))


def test_guard_content_is_checked() -> None:
    def prompt(part: dict[str, Any], role: str = "user") -> list[dict[str, Any]]:
        return (
            [{"role": "user", "content": "q"}, {"role": role, "content": [part]}]
            if role != "user"
            else [{"role": "user", "content": [part]}]
        )

    where = "prompt[0].content[0]"
    refused_here(where, converse, NOVA, prompt({"type": "guard_content"}))
    refused_here(
        where, converse, NOVA, prompt({"type": "guard_content", "text": "a", "data": PNG, "media_type": "image/png"})
    )
    refused_here(
        f"{where}.qualifiers[0]", converse, NOVA, prompt({"type": "guard_content", "text": "a", "qualifiers": ["x"]})
    )
    refused_here(
        f"{where}.media_type", converse, NOVA, prompt({"type": "guard_content", "data": PNG, "media_type": "image/gif"})
    )
    refused_here("prompt[1].content[0]", converse, NOVA, prompt({"type": "guard_content", "text": "a"}, "assistant"))


def test_what_invoke_cannot_carry_is_refused_on_the_native_body_and_sent_to_converse_by_default() -> None:
    guard = [{"role": "user", "content": [{"type": "guard_content", "text": "a"}]}]
    cited = [{"role": "user", "content": [{**DOC, "name": "d", "citations": True}, {"type": "text", "text": "q"}]}]
    refused_here("prompt[0].content[0]", native, CLAUDE, guard)
    refused_here("prompt[0].content[0].citations", native, CLAUDE, cited)
    paths = {"additional_model_response_field_paths": ["/x"]}
    refused_here("provider_options.additional_model_response_field_paths", native, CLAUDE, "hi", provider_options=paths)
    refused_here("guardrail.stream_mode", native, CLAUDE, "hi", stream=True, guardrail={**GUARD, "stream_mode": "sync"})
    for prompt in (guard, cited):
        assert prepared(CLAUDE, prompt).formatter.endpoint == "converse"


# -- InvokeModel headers (botocore's InvokeModel input shape is the oracle) -----------------------


@pytest.mark.parametrize("stream", [False, True])
def test_native_calls_carry_the_features_as_headers(stream: bool) -> None:
    p = native(
        COHERE,
        "hi",
        stream=stream,
        guardrail={**GUARD, "trace": "enabled_full"},
        service_tier="flex",
        latency="standard",
        request_metadata={"team": "search"},
    )
    assert invoke_valid(p) == {
        "X-Amzn-Bedrock-GuardrailIdentifier": "gr1abc",
        "X-Amzn-Bedrock-GuardrailVersion": "1",
        "X-Amzn-Bedrock-Trace": "ENABLED_FULL",
        "X-Amzn-Bedrock-Service-Tier": "flex",
        "X-Amzn-Bedrock-PerformanceConfig-Latency": "standard",
        "X-Amzn-Bedrock-Request-Metadata": '{"team":"search"}',
    }
    assert "guardrail" not in json.loads(p.body)  # headers only: the body stays the model's


def test_converse_calls_carry_no_feature_headers() -> None:
    p = converse(CLAUDE, "hi", guardrail=GUARD, service_tier="flex")
    assert not [k for k in p.headers if k.lower().startswith("x-amzn-bedrock-")]


# -- end to end against the emulator ---------------------------------------------------------------

CASES = [
    pytest.param(CLAUDE, True, id="claude-converse"),
    pytest.param(CLAUDE, False, id="claude-native"),
    pytest.param(COHERE, False, id="cohere-native"),
    pytest.param(NOVA, True, id="nova-converse"),
]


def _opts(emulator: Emulator, use_converse: bool, **opts: Any) -> dict[str, Any]:
    return {**opts, "provider_options": {**emulator.provider_options(), "use_converse": use_converse}}


def _check_blocked(resp: reqbed.Response, use_converse: bool) -> None:
    assert resp.finish_reason == "content_filter"
    assert resp.guardrail is not None
    assert resp.guardrail.action == "INTERVENED"
    assert resp.guardrail.trace  # a trace was asked for
    if use_converse:
        assert resp.text == GUARDRAIL_MESSAGE


@pytest.mark.parametrize(("model", "use_converse"), CASES)
def test_guardrails_end_to_end_sync(emulator: Emulator, model: str, use_converse: bool) -> None:
    opts = _opts(emulator, use_converse, guardrail=GUARD)
    blocked = reqbed.generate_text(model, f"tell me {TRIGGER}", **opts)
    _check_blocked(blocked, use_converse)
    with reqbed.stream_text(model, f"tell me {TRIGGER}", **opts) as s:
        chunks = list(s)
        streamed = s.response()
    _check_blocked(streamed, use_converse)
    assert [c for c in chunks if isinstance(c, reqbed.GuardrailChunk)] == [
        reqbed.GuardrailChunk(result=streamed.guardrail)
    ]  # type: ignore[arg-type]
    allowed = reqbed.generate_text(model, "tell me", **opts)
    assert allowed.finish_reason == "stop"
    assert allowed.guardrail is not None
    assert allowed.guardrail.action == "NONE"
    sent = emulator.requests[-1]
    if use_converse:
        assert json.loads(sent["body"])["guardrailConfig"]["guardrailIdentifier"] == "gr1abc"
    else:
        assert sent["headers"]["x-amzn-bedrock-guardrailidentifier"] == "gr1abc"
    assert reqbed.generate_text(model, "tell me", **_opts(emulator, use_converse)).guardrail is None


@pytest.mark.anyio
@pytest.mark.parametrize(("model", "use_converse"), CASES)
async def test_guardrails_end_to_end_async(emulator: Emulator, model: str, use_converse: bool) -> None:
    opts = _opts(emulator, use_converse, guardrail=GUARD)
    _check_blocked(await reqbed.agenerate_text(model, f"say {TRIGGER}", **opts), use_converse)
    stream = await reqbed.astream_text(model, f"say {TRIGGER}", **opts)
    async with stream:
        _check_blocked(await stream.response(), use_converse)


def test_citations_end_to_end_sync(emulator: Emulator) -> None:
    prompt = [
        {"role": "user", "content": [{**DOC, "name": "penguins", "citations": True}, {"type": "text", "text": "Who?"}]}
    ]
    opts = _opts(emulator, True)
    resp = reqbed.generate_text(CLAUDE, prompt, **opts)
    cite = Citation(
        text="Emperor penguins are the tallest.",
        title="penguins",
        location={"documentChar": {"documentIndex": 0, "start": 0, "end": 33}},
    )
    assert resp.citations == [cite]
    assert resp.text == "According to the document: Emperor penguins are the tallest."
    with reqbed.stream_text(CLAUDE, prompt, **opts) as s:
        chunks = list(s)
        streamed = s.response()
    assert [c for c in chunks if isinstance(c, reqbed.CitationChunk)] == [
        reqbed.CitationChunk(citation=cite, text=" Emperor penguins are the tallest.")
    ]
    assert (streamed.text, streamed.message, streamed.citations) == (resp.text, resp.message, resp.citations)
    # the next turn re-sends the citationsContent block
    reqbed.generate_text(CLAUDE, [*prompt, resp.message, {"role": "user", "content": "More?"}], **opts)
    assert "citationsContent" in json.loads(emulator.requests[-1]["body"])["messages"][1]["content"][1]


@pytest.mark.anyio
async def test_citations_end_to_end_async(emulator: Emulator) -> None:
    prompt = [
        {"role": "user", "content": [{**DOC, "name": "penguins", "citations": True}, {"type": "text", "text": "Who?"}]}
    ]
    opts = _opts(emulator, True)
    resp = await reqbed.agenerate_text(NOVA, prompt, **opts)
    stream = await reqbed.astream_text(NOVA, prompt, **opts)
    async with stream:
        streamed = await stream.response()
    assert resp.citations
    assert streamed.citations == resp.citations
    assert streamed.message == resp.message


@pytest.mark.parametrize(("model", "use_converse"), CASES)
def test_tier_latency_and_metadata_end_to_end(emulator: Emulator, model: str, use_converse: bool) -> None:
    opts = _opts(emulator, use_converse, service_tier="priority", latency="optimized", request_metadata={"app": "a1"})
    resp = reqbed.generate_text(model, "hi", **opts)
    assert (resp.service_tier, resp.latency) == ("priority", "optimized")
    sent = emulator.requests[-1]
    if use_converse:
        assert json.loads(sent["body"])["requestMetadata"] == {"app": "a1"}
    else:
        assert json.loads(sent["headers"]["x-amzn-bedrock-request-metadata"]) == {"app": "a1"}
        # and the answer's token-count headers agree with its body
        assert resp.usage.input_tokens > 0


@pytest.mark.anyio
async def test_tier_and_latency_end_to_end_async(emulator: Emulator) -> None:
    opts = _opts(emulator, False, service_tier="flex", latency="standard")
    resp = await reqbed.agenerate_text(COHERE, "hi", **opts)
    assert (resp.service_tier, resp.latency) == ("flex", "standard")


def test_guardrail_result_is_public() -> None:
    assert reqbed.GuardrailResult(action="NONE") == GuardrailResult(action="NONE", trace=None)
