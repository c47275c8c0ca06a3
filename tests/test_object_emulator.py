"""Structured output end to end through the PUBLIC API, against the bundled emulator over a real socket.

Every family x every mode it supports (``mode=`` explicit, and ``auto``), on Converse and on the
family's native ``/invoke`` body where it has one: ``Client.generate_object`` / ``stream_object``
(sync) and ``agenerate_object`` / ``astream_object`` (asyncio and trio). Every Converse body the
emulator received is checked against botocore's service model; native mode's fields are checked
where they landed. The emulator answers with ``_object_responder``.
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import msgspec
import pytest

import reqbed
from reqbed.testing import Emulator
from reqbed.testing._object_responder import BAD_OBJECT_TEXT

from .test_object_shape import _botocore_accepts


class Item(msgspec.Struct):
    name: str
    qty: int


class Order(msgspec.Struct):
    customer: str
    items: list[Item]
    rush: bool = False


PROMPT = "Make up an order"
ORDER = Order(customer="example", items=[Item(name="example", qty=2)], rush=True)

HAIKU45 = "bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET35 = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
GPT_OSS = "bedrock:openai.gpt-oss-120b-1:0"
NOVA = "bedrock:amazon.nova-pro-v1:0"
TITAN = "bedrock:amazon.titan-text-express-v1"
MISTRAL_LARGE = "bedrock:mistral.mistral-large-2407-v1:0"
COHERE = "bedrock:cohere.command-r-plus-v1:0"
LLAMA33 = "bedrock:us.meta.llama3-3-70b-instruct-v1:0"
LLAMA3 = "bedrock:meta.llama3-70b-instruct-v1:0"
DEEPSEEK_V3 = "bedrock:deepseek.v3-v1:0"

#: (model, mode, use_converse, forced): every family x every mode it has, on each endpoint that
#: carries it (``use_converse`` None: reqbed's endpoint rule picks; True / False: forced).
CASES = [
    (HAIKU45, "native", True, False),  # Converse outputConfig.textFormat
    (HAIKU45, "native", False, False),  # /invoke output_config.format
    (HAIKU45, "tool", True, True),
    (HAIKU45, "tool", False, True),
    (HAIKU45, "json", True, False),
    (SONNET35, "tool", None, True),  # native /invoke, forced
    (SONNET35, "tool", True, True),  # Converse, forced
    (SONNET35, "json", None, False),
    (GPT_OSS, "native", True, False),
    (GPT_OSS, "native", False, False),  # /invoke response_format
    (GPT_OSS, "tool", None, True),
    (GPT_OSS, "tool", True, True),
    (GPT_OSS, "json", None, False),
    (NOVA, "tool", None, True),
    (NOVA, "json", None, False),
    (TITAN, "json", None, False),  # no system prompt: the instruction leads the prompt
    (MISTRAL_LARGE, "tool", None, True),
    (MISTRAL_LARGE, "json", None, False),
    (COHERE, "tool", True, False),  # unforced: the instruction names the tool
    (COHERE, "json", True, False),
    (LLAMA33, "tool", None, False),
    (LLAMA33, "json", True, False),  # the emulator's native Llama body answers no json-mode prompt
    (LLAMA3, "json", True, False),
    (DEEPSEEK_V3, "native", True, False),
    (DEEPSEEK_V3, "tool", True, False),
    (DEEPSEEK_V3, "json", True, False),
]


def _ids(case: tuple[Any, ...]) -> str:
    model, mode, use_converse, _ = case
    where = {True: "converse", False: "invoke", None: "rule"}[use_converse]
    return f"{model.rsplit('.', 1)[-1].split(':')[0] if '.' in model else model}-{mode}-{where}"


def _opts(emulator: Emulator, mode: str, use_converse: bool | None, **more: Any) -> dict[str, Any]:
    po = emulator.provider_options()
    if use_converse is not None:
        po["use_converse"] = use_converse
    return {"mode": mode, "max_tokens": 400, "provider_options": po, **more}


def _check_sent(emulator: Emulator, mode: str, use_converse: bool | None, forced: bool, *, stream: bool) -> None:
    """The body the emulator received: botocore accepts it (Converse), and it carries the mode."""
    sent = emulator.requests[-1]
    body = json.loads(sent["body"])
    converse = "/converse" in sent["path"]
    if use_converse is not None:
        assert converse == use_converse
    assert sent["path"].endswith(("-stream", "-with-response-stream") if stream else ("/converse", "/invoke"))
    if converse:
        _botocore_accepts(body, "ConverseStream" if stream else "Converse")
        assert ("outputConfig" in body) == (mode == "native")
        assert ("toolConfig" in body) == (mode == "tool")
        if mode == "tool":
            assert ("toolChoice" in body["toolConfig"]) == forced
        if mode == "native":
            structure = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
            assert json.loads(structure["schema"])["additionalProperties"] is False
    else:
        assert ("output_config" in body or "response_format" in body) == (mode == "native")
        assert ("tools" in body) == (mode == "tool")
        assert ("tool_choice" in body) == forced


def _check_snapshots(snaps: list[Any], final: Any) -> None:
    assert len(snaps) > 1
    assert snaps[-1] == msgspec.to_builtins(final)
    for before, after in itertools.pairwise(snaps):  # snapshots only grow
        if isinstance(before, dict):
            assert set(before) <= set(after)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_mode_sync(emulator: Emulator, client: reqbed.Client, case: tuple[str, str, bool | None, bool]) -> None:
    model, mode, use_converse, forced = case
    got = client.generate_object(model, PROMPT, Order, **_opts(emulator, mode, use_converse))
    _check_sent(emulator, mode, use_converse, forced, stream=False)
    assert isinstance(got.object, Order)
    assert got.object.customer == "example"
    # the structured-output responder's value (the plain Anthropic /invoke responder's own guess,
    # ``items: []``, already fits the schema there)
    assert got.object in (ORDER, Order(customer="example", items=[], rush=True))
    assert got.response.served_by == model
    assert got.usage == got.response.usage
    assert got.finish_reason == got.response.finish_reason

    with client.stream_object(model, PROMPT, Order, **_opts(emulator, mode, use_converse)) as stream:
        snaps = [copy.deepcopy(s) for s in stream.partial_objects()]
        assert stream.response().object == got.object
    _check_sent(emulator, mode, use_converse, forced, stream=True)
    _check_snapshots(snaps, got.object)


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=_ids)
async def test_every_mode_async(emulator: Emulator, case: tuple[str, str, bool | None, bool]) -> None:
    model, mode, use_converse, forced = case
    async with reqbed.Client() as client:
        got = await client.agenerate_object(model, PROMPT, Order, **_opts(emulator, mode, use_converse))
        _check_sent(emulator, mode, use_converse, forced, stream=False)
        assert got.object in (ORDER, Order(customer="example", items=[], rush=True))
        stream = await client.astream_object(model, PROMPT, Order, **_opts(emulator, mode, use_converse))
        async with stream:
            snaps = [copy.deepcopy(s) async for s in stream.partial_objects()]
            assert (await stream.response()).object == got.object
        _check_sent(emulator, mode, use_converse, forced, stream=True)
        _check_snapshots(snaps, got.object)


@pytest.mark.parametrize(
    ("model", "mode"),
    [(HAIKU45, "native"), (SONNET35, "tool"), (GPT_OSS, "native"), (NOVA, "tool"), (LLAMA33, "tool"),
     (TITAN, "json"), (DEEPSEEK_V3, "native")],
)  # fmt: skip
def test_auto_picks_from_the_table(emulator: Emulator, client: reqbed.Client, model: str, mode: str) -> None:
    got = client.generate_object(model, PROMPT, Order, max_tokens=400, provider_options=emulator.provider_options())
    assert got.object.customer == "example"
    sent = emulator.requests[-1]
    body = json.loads(sent["body"])
    native = "outputConfig" in body or "output_config" in body or "response_format" in body
    tool = "toolConfig" in body or "tools" in body
    assert (native, tool) == (mode == "native", mode == "tool")


def test_module_functions_and_schema_kinds(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """``reqbed.generate_object`` (the default client) with a dict schema, and a wrapped root."""
    person = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 1}},
        "required": ["name", "age"],
    }
    po = emulator.provider_options()
    got = reqbed.generate_object(HAIKU45, "Invent a person", person, provider_options=po)
    assert got.object == {"name": "example", "age": 2}
    primes = reqbed.generate_object(HAIKU45, "Three primes", list[int], provider_options=po)
    assert primes.object == [2]
    sent = json.loads(emulator.requests[-1]["body"])  # Claude's /invoke body (the endpoint rule's pick)
    assert sent["output_config"]["format"]["schema"]["required"] == ["value"]  # a non-object root, wrapped
    with reqbed.stream_object(HAIKU45, "Three primes", list[int], provider_options=po) as stream:
        assert list(stream.partial_objects())[-1] == [2]
        assert list(stream) == []  # partial_objects read every chunk


@pytest.mark.anyio
async def test_module_async_functions(emulator: Emulator) -> None:
    po = emulator.provider_options()
    got = await reqbed.agenerate_object(NOVA, PROMPT, Order, provider_options=po)
    assert got.object.customer == "example"
    async with await reqbed.astream_object(NOVA, PROMPT, Order, provider_options=po) as stream:
        chunks = [c async for c in stream]
        assert any(isinstance(c, reqbed.ToolCallDeltaChunk) for c in chunks)
        assert (await stream.response()).object == got.object


def test_iterating_yields_the_chunks(emulator: Emulator, client: reqbed.Client) -> None:
    with client.stream_object(HAIKU45, PROMPT, Order, provider_options=emulator.provider_options()) as stream:
        chunks = list(stream)
        text = "".join(c.text for c in chunks if isinstance(c, reqbed.TextChunk))
        assert msgspec.json.decode(text, type=Order) == ORDER
        assert stream.response().object == ORDER


def test_cost_on_an_object_response(emulator: Emulator, client: reqbed.Client) -> None:
    got = client.generate_object(HAIKU45, PROMPT, Order, provider_options=emulator.provider_options())
    assert got.cost == got.response.cost
    assert got.cost.total is not None
    assert got.cost.total > 0


# -- error paths: every one is an ObjectGenerationError carrying the raw text ------------------------

#: the emulator's bad_object fault reaches Converse, Claude's /invoke and gpt-oss's native
#: structured output and json mode (not gpt-oss's /invoke tool call)
BAD_CASES = [
    c for c in CASES if c[0] in (HAIKU45, SONNET35, GPT_OSS, COHERE, LLAMA3, NOVA) and c[:3] != (GPT_OSS, "tool", None)
]


@pytest.mark.parametrize("how", ["not_json", "mismatch"])
@pytest.mark.parametrize("case", BAD_CASES, ids=_ids)
def test_bad_answers_are_object_generation_errors(
    emulator: Emulator, client: reqbed.Client, case: tuple[str, str, bool | None, bool], how: str
) -> None:
    model, mode, use_converse, _ = case
    emulator.inject("bad_object", how=how)
    with pytest.raises(reqbed.ObjectGenerationError) as info:
        client.generate_object(model, PROMPT, Order, **_opts(emulator, mode, use_converse))
    err = info.value
    assert err.response is not None
    assert err.response.served_by == model
    if how == "not_json":
        assert err.text == BAD_OBJECT_TEXT
        assert "did not call" in str(err) or "no JSON" in str(err)
    else:
        assert "unexpected" in err.text
        assert err.errors[0] == "$.customer: is required"
        assert "$.customer: is required" in str(err)


@pytest.mark.parametrize("how", ["not_json", "mismatch"])
@pytest.mark.parametrize("case", [c for c in BAD_CASES if c[1] != "tool" or c[3]], ids=_ids)
def test_a_bad_stream_fails_with_the_raw_text(
    emulator: Emulator, client: reqbed.Client, case: tuple[str, str, bool | None, bool], how: str
) -> None:
    model, mode, use_converse, _ = case
    emulator.inject("bad_object", how=how)
    stream = client.stream_object(model, PROMPT, Order, **_opts(emulator, mode, use_converse))
    with stream, pytest.raises(reqbed.ObjectGenerationError) as info:
        list(stream.partial_objects())
    if how == "not_json":
        assert info.value.text == BAD_OBJECT_TEXT
    else:
        assert "unexpected" in info.value.text


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["not_json", "mismatch"])
async def test_bad_answers_async(emulator: Emulator, how: str) -> None:
    async with reqbed.Client() as client:
        emulator.inject("bad_object", how=how)
        with pytest.raises(reqbed.ObjectGenerationError) as info:
            await client.agenerate_object(HAIKU45, PROMPT, Order, **_opts(emulator, "native", True))
        assert (info.value.text == BAD_OBJECT_TEXT) == (how == "not_json")
        emulator.inject("bad_object", how=how)
        async with await client.astream_object(HAIKU45, PROMPT, Order, **_opts(emulator, "native", None)) as stream:
            with pytest.raises(reqbed.ObjectGenerationError) as info:
                await stream.response()
        assert (info.value.text == BAD_OBJECT_TEXT) == (how == "not_json")


def test_bad_input_fails_before_sending(emulator: Emulator, client: reqbed.Client) -> None:
    po = emulator.provider_options()
    for opts, field in [
        ({"mode": "native"}, "mode"),  # Llama has no native structured output
        ({"mode": "telepathy"}, "mode"),
        ({"schema_name": "has spaces"}, "schema_name"),
        ({"tools": []}, "tools"),
    ]:
        with pytest.raises(reqbed.ValidationError) as info:
            client.generate_object(LLAMA33, PROMPT, Order, provider_options=po, **opts)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(reqbed.ValidationError) as info:
        client.generate_object(HAIKU45, PROMPT, {"type": "object", "not": {}}, provider_options=po)
    assert info.value.field == "schema.not"
    with pytest.raises(reqbed.ValidationError) as info:  # the native field would be set twice
        client.generate_object(
            HAIKU45, PROMPT, Order,
            provider_options={**po, "use_converse": False, "additional_model_request_fields": {"output_config": {}}},
        )  # fmt: skip
    assert info.value.field == "provider_options.additional_model_request_fields.output_config"
    with pytest.raises(reqbed.ValidationError) as info:  # DeepSeek's /invoke body has no structured output field
        client.generate_object(DEEPSEEK_V3, PROMPT, Order, provider_options={**po, "use_converse": False})
    assert emulator.requests == []


def test_fallback_gets_its_own_plan(emulator: Emulator, client: reqbed.Client) -> None:
    """Each target is planned for its own model: a native Claude call falling back to Llama sends
    Llama a tool, not outputConfig."""
    po = emulator.provider_options()
    emulator.inject("throttling", times=10, match="outputConfig")  # Claude's native body only
    got = client.generate_object(
        HAIKU45, PROMPT, Order, provider_options={**po, "use_converse": True}, max_retries=0,
        fallbacks=[{"model": LLAMA33, "provider_options": {**po, "use_converse": True}}],
    )  # fmt: skip
    assert got.response.served_by == LLAMA33
    body = json.loads(emulator.requests[-1]["body"])
    assert "outputConfig" not in body
    assert body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "structured_output"


# -- extended thinking: never a request Bedrock rejects --------------------------------------------


@pytest.mark.parametrize("use_converse", [True, None])
@pytest.mark.parametrize("stream", [False, True])
def test_thinking_claude_gets_the_tool_unforced(
    emulator: Emulator, client: reqbed.Client, use_converse: bool | None, stream: bool
) -> None:
    """A forced tool with thinking is a 400 on Bedrock (the emulator enforces it): never sent."""
    model = "bedrock:us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    opts = _opts(emulator, "auto", use_converse, thinking={"budget_tokens": 1024}, max_tokens=3000)
    prompt = PROMPT + " with the structured_output tool"
    if stream:
        with client.stream_object(model, prompt, Order, **opts) as s:
            got = s.response()
    else:
        got = client.generate_object(model, prompt, Order, **opts)
    assert got.response.thinking
    assert got.object.customer == "example"
    sent = json.loads(emulator.requests[-1]["body"])
    assert "toolChoice" not in sent.get("toolConfig", {})
    assert "tool_choice" not in sent
    if "/converse" in emulator.requests[-1]["path"]:
        _botocore_accepts(sent, "ConverseStream" if stream else "Converse")


@pytest.mark.parametrize("use_converse", [True, False])
def test_thinking_with_native_claude_uses_native(
    emulator: Emulator, client: reqbed.Client, use_converse: bool
) -> None:
    opts = _opts(emulator, "auto", use_converse, thinking={"budget_tokens": 1024}, max_tokens=3000)
    got = client.generate_object(HAIKU45, PROMPT, Order, **opts)
    assert got.object == ORDER
    sent = json.loads(emulator.requests[-1]["body"])
    assert ("outputConfig" in sent) == use_converse
    assert ("output_config" in sent) == (not use_converse)
    assert "toolConfig" not in sent
    assert "tools" not in sent
