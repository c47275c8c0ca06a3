"""Structured output end to end against the bundled emulator, over a real socket.

Until ``generate_object`` is wired onto the new core, a call here is its composition by hand:
``plan_object`` -> the chat pipeline (``Client.generate_text`` / ``stream_text`` and their async
twins, sync + asyncio + trio) -> ``plan.finish`` / ``ObjectStreamResponse``. Native structured
output needs body fields the current pipeline cannot add, so those calls are sent as a plain
``httpx`` request signed with reqbed's own SigV4 (``sign_for``), test-side only; their bodies are
also checked against botocore's service model. The emulator answers with ``_object_responder``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import msgspec
import pytest

import reqbed
from reqbed._object.result import AsyncObjectStreamResponse, ObjectStreamResponse
from reqbed._object.shape import ObjectPlan, plan_object
from reqbed._pipeline import prepare, sign_for
from reqbed._stream import StreamCore
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

#: (model, mode, use_converse) for the calls the chat pipeline can make today: tool and json modes.
CHAT_CASES = [
    ("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "tool", None),  # native /invoke, forced
    ("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "tool", True),  # Converse, forced
    ("bedrock:amazon.nova-pro-v1:0", "tool", None),
    ("bedrock:mistral.mistral-large-2407-v1:0", "tool", None),
    ("bedrock:cohere.command-r-plus-v1:0", "tool", True),  # unforced: the instruction names the tool
    ("bedrock:us.meta.llama3-3-70b-instruct-v1:0", "tool", None),
    ("bedrock:meta.llama3-70b-instruct-v1:0", "json", True),
    ("bedrock:amazon.titan-text-express-v1", "json", None),  # no system prompt: the instruction leads the prompt
    ("bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0", "json", True),
]
NATIVE_CASES = [
    ("bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0", True),  # Converse outputConfig
    ("bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0", False),  # /invoke output_config.format
    ("bedrock:openai.gpt-oss-120b-1:0", True),
    ("bedrock:openai.gpt-oss-120b-1:0", False),  # /invoke response_format
    ("bedrock:deepseek.v3-v1:0", True),
]


def _ids(case: tuple[Any, ...]) -> str:
    return "-".join(str(c).split(":")[-2 if "bedrock" in str(c) else -1] for c in case)


def _opts(emulator: Emulator, plan: ObjectPlan, use_converse: bool | None) -> dict[str, Any]:
    po = emulator.provider_options()
    if use_converse is not None:
        po["use_converse"] = use_converse
    return {**plan.chat_options, "provider_options": po}


@pytest.mark.parametrize("case", CHAT_CASES, ids=_ids)
def test_chat_modes_sync(emulator: Emulator, client: reqbed.Client, case: tuple[str, str, bool | None]) -> None:
    model, mode, use_converse = case
    plan = plan_object(model, PROMPT, Order, {"mode": mode, "max_tokens": 400})
    assert plan.mode == mode
    got = plan.finish(client.generate_text(model, plan.prompt, **_opts(emulator, plan, use_converse)))
    assert isinstance(got.object, Order)
    assert got.object.customer == "example"
    # the structured-output responder's value (the plain Anthropic /invoke responder's own guess,
    # ``items: []``, already fits the schema there)
    assert got.object in (ORDER, Order(customer="example", items=[], rush=True))

    plan = plan_object(model, PROMPT, Order, {"mode": mode, "max_tokens": 400}, stream=True)
    stream = client.stream_text(model, plan.prompt, **_opts(emulator, plan, use_converse))
    with ObjectStreamResponse[Order](stream, plan) as objects:
        snaps = [copy.deepcopy(s) for s in objects.partial_objects()]
        assert objects.response().object == got.object
    assert len(snaps) > 1
    assert snaps[-1] == msgspec.to_builtins(got.object)


@pytest.mark.anyio
@pytest.mark.parametrize("case", CHAT_CASES[:2] + CHAT_CASES[4:7], ids=_ids)
async def test_chat_modes_async(emulator: Emulator, case: tuple[str, str, bool | None]) -> None:
    model, mode, use_converse = case
    async with reqbed.Client() as client:
        plan = plan_object(model, PROMPT, Order, {"mode": mode, "max_tokens": 400})
        got = plan.finish(await client.agenerate_text(model, plan.prompt, **_opts(emulator, plan, use_converse)))
        assert got.object in (ORDER, Order(customer="example", items=[], rush=True))
        plan = plan_object(model, PROMPT, Order, {"mode": mode, "max_tokens": 400}, stream=True)
        stream = await client.astream_text(model, plan.prompt, **_opts(emulator, plan, use_converse))
        async with AsyncObjectStreamResponse[Order](stream, plan) as objects:
            snaps = [copy.deepcopy(s) async for s in objects.partial_objects()]
            assert (await objects.response()).object == got.object
        assert snaps[-1] == msgspec.to_builtins(got.object)


def _send_native(emulator: Emulator, plan: ObjectPlan, model: str, use_converse: bool, stream: bool) -> Any:
    p = prepare(model, plan.prompt, _opts(emulator, plan, use_converse), stream=stream, environ={})
    body = json.loads(p.body)
    body.update(plan.body_fields_for(p.formatter.name))
    if p.formatter.name == "converse":
        _botocore_accepts(body, "ConverseStream" if stream else "Converse")
    raw = json.dumps(body).encode()
    headers = {**p.headers, **sign_for(p.auth, "POST", p.url, p.headers, raw, p.region)}
    reply = httpx.post(p.url, content=raw, headers=headers)
    if not stream:
        return p.parse(reply.status_code, dict(reply.headers), reply.content)
    assert reply.status_code == 200, reply.text
    core = StreamCore(p)
    chunks = core.feed(reply.content) + core.close()
    return chunks, core.response()


class _Replay:
    def __init__(self, chunks: list[reqbed.Chunk], response: reqbed.Response) -> None:
        self._chunks, self._response = chunks, response

    def __iter__(self) -> Any:
        return iter(self._chunks)

    def response(self) -> reqbed.Response:
        return self._response

    def close(self) -> None:
        pass


@pytest.mark.parametrize("case", NATIVE_CASES, ids=_ids)
def test_native_mode(emulator: Emulator, case: tuple[str, bool]) -> None:
    model, use_converse = case
    plan = plan_object(model, PROMPT, Order, {"max_tokens": 400})
    assert plan.mode == "native"
    assert plan.finish(_send_native(emulator, plan, model, use_converse, False)).object == ORDER
    sent = json.loads(emulator.requests[-1]["body"])
    assert ("outputConfig" in sent) == use_converse
    native_field = "response_format" if "gpt-oss" in model else "output_config"
    assert (native_field in sent) == (not use_converse)

    plan = plan_object(model, PROMPT, Order, {"max_tokens": 400}, stream=True)
    chunks, response = _send_native(emulator, plan, model, use_converse, True)
    assert sum(isinstance(c, reqbed.TextChunk) for c in chunks) > 3  # the JSON arrived in pieces
    objects = ObjectStreamResponse[Order](_Replay(chunks, response), plan)
    snaps = [copy.deepcopy(s) for s in objects.partial_objects()]
    assert objects.response().object == ORDER
    assert len(snaps) > 2
    assert snaps[-1] == msgspec.to_builtins(ORDER)


@pytest.mark.parametrize("how", ["not_json", "mismatch"])
@pytest.mark.parametrize("case", [CHAT_CASES[1], CHAT_CASES[4], CHAT_CASES[6]], ids=_ids)
def test_bad_answers_are_object_generation_errors(
    emulator: Emulator, client: reqbed.Client, case: tuple[str, str, bool | None], how: str
) -> None:
    model, mode, use_converse = case
    plan = plan_object(model, PROMPT, Order, {"mode": mode})
    emulator.inject("bad_object", how=how)
    response = client.generate_text(model, plan.prompt, **_opts(emulator, plan, use_converse))
    with pytest.raises(reqbed.ObjectGenerationError) as info:
        plan.finish(response)
    err = info.value
    assert err.response is response
    if how == "not_json":
        assert err.text == BAD_OBJECT_TEXT
        assert "did not call" in str(err) or "no JSON" in str(err)
    else:
        assert "unexpected" in err.text
        assert err.errors[0] == "$.customer: is required"


@pytest.mark.parametrize("how", ["not_json", "mismatch"])
def test_bad_native_answers(emulator: Emulator, how: str) -> None:
    model = NATIVE_CASES[0][0]
    plan = plan_object(model, PROMPT, Order, {})
    emulator.inject("bad_object", how=how)
    with pytest.raises(reqbed.ObjectGenerationError) as info:
        plan.finish(_send_native(emulator, plan, model, True, False))
    assert info.value.text == (
        BAD_OBJECT_TEXT if how == "not_json" else '{"unexpected": "a value that misses the schema"}'
    )


def test_a_bad_stream_fails_at_response(emulator: Emulator, client: reqbed.Client) -> None:
    model, mode, use_converse = CHAT_CASES[6]
    plan = plan_object(model, PROMPT, Order, {"mode": mode}, stream=True)
    emulator.inject("bad_object", how="not_json")
    stream = client.stream_text(model, plan.prompt, **_opts(emulator, plan, use_converse))
    with ObjectStreamResponse[Order](stream, plan) as objects, pytest.raises(reqbed.ObjectGenerationError) as info:
        list(objects.partial_objects())
    assert info.value.text == BAD_OBJECT_TEXT


@pytest.mark.parametrize("use_converse", [True, None])
def test_thinking_claude_gets_the_tool_unforced(
    emulator: Emulator, client: reqbed.Client, use_converse: bool | None
) -> None:
    """A forced tool with thinking is a 400 on Bedrock (the emulator enforces it): never sent."""
    model = "bedrock:us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    opts = {"thinking": {"budget_tokens": 1024}, "max_tokens": 3000}
    plan = plan_object(model, PROMPT + " with the structured_output tool", Order, opts)
    assert (plan.mode, plan.forced) == ("tool", False)
    response = client.generate_text(model, plan.prompt, **_opts(emulator, plan, use_converse))
    assert response.thinking
    assert plan.finish(response).object.customer == "example"
    sent = json.loads(emulator.requests[-1]["body"])
    assert "toolChoice" not in sent.get("toolConfig", {})
    assert "tool_choice" not in sent
