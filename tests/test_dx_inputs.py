"""Developer experience (issue 18): nothing a user writes is silently dropped, and the messages a
user meets say what to do. Pure checks first, then the same over a real socket (the emulator)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

import reqbed
from reqbed._request import build_chat_request
from reqbed._transport import translate_transport_errors
from reqbed.testing import Emulator
from reqbed.testing.fixtures import FixtureError, FixtureMissingError, replay_client

MODEL_ID = "anthropic.claude-3-7-sonnet-20250219-v1:0"
MODEL = f"bedrock:{MODEL_ID}"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _field(prompt: Any = "hi", model: str = MODEL, **opts: Any) -> str | None:
    with pytest.raises(reqbed.ValidationError) as e:
        build_chat_request(model, prompt, opts)
    return e.value.field


# -- silent data loss ------------------------------------------------------------------------------------


def test_unknown_keys_on_tools_messages_and_parts_are_refused_by_name() -> None:
    assert _field(tools=[{"name": "w", "parameters": SCHEMA, "strict": True}]) == "tools[0].strict"
    assert _field([{"role": "user", "content": "hi", "name": "bob"}]) == "prompt[0].name"
    part = {"type": "text", "text": "x", "foo": 1}
    assert _field([{"role": "user", "content": [part]}]) == "prompt[0].content[0].foo"
    with pytest.raises(reqbed.ValidationError, match="unknown key 'strict'"):
        build_chat_request(MODEL, "hi", {"tools": [{"name": "w", "strict": True}]})


def test_input_schema_is_an_alias_of_parameters() -> None:
    tool = {"name": "w", "description": "Weather", "input_schema": SCHEMA}
    req = build_chat_request(MODEL, "hi", {"tools": [tool]})
    assert req.options.tools == [reqbed.Tool(name="w", description="Weather", parameters=SCHEMA)]
    both = {"name": "w", "input_schema": SCHEMA, "parameters": SCHEMA}
    assert _field(tools=[both]) == "tools[0]"


def test_anthropic_style_tool_dict_reaches_the_wire_with_its_schema(emulator: Emulator) -> None:
    tool = {"name": "get_weather", "description": "Weather", "input_schema": SCHEMA}
    po = {**emulator.provider_options(), "use_converse": True}
    reqbed.generate_text(MODEL, "hi", tools=[tool], provider_options=po)  # type: ignore[list-item]
    body = json.loads(emulator.requests[-1]["body"])
    assert body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"] == SCHEMA


# -- messages users meet ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        (MODEL_ID, f"write 'bedrock:{MODEL_ID}'"),
        (f"us.{MODEL_ID}", f"write 'bedrock:us.{MODEL_ID}'"),
        (f"bedrock/{MODEL_ID}", f"LiteLLM's spelling; reqbed writes 'bedrock:{MODEL_ID}'"),
        ("arn:aws:bedrock:us-east-1::foundation-model/x", "write 'bedrock:arn:aws:bedrock"),
    ],
)
def test_a_model_id_without_bedrock_prefix_says_what_to_write(spec: str, hint: str) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        reqbed.parse_model_spec(spec)
    assert hint in str(e.value)
    assert "unknown provider" not in str(e.value)


def test_tool_choice_required_is_any_and_without_tools_says_tools_are_missing() -> None:
    with pytest.raises(reqbed.ValidationError, match=r"'required' needs tools: give tools=\[\.\.\.\]"):
        build_chat_request(MODEL, "hi", {"tool_choice": "required"})
    req = build_chat_request(MODEL, "hi", {"tool_choice": "required", "tools": [{"name": "w"}]})
    assert req.options.tool_choice == "any"
    with pytest.raises(reqbed.ValidationError, match=r"tools: 'w'"):
        build_chat_request(MODEL, "hi", {"tool_choice": "x", "tools": [{"name": "w"}]})


def test_messages_keyword_and_a_missing_prompt_are_validation_errors() -> None:
    with pytest.raises(reqbed.ValidationError, match="pass the conversation as prompt") as e:
        reqbed.generate_text(MODEL, messages=[{"role": "user", "content": "hi"}])  # type: ignore[call-arg]
    assert e.value.field == "messages"
    with pytest.raises(reqbed.ValidationError, match="is required") as e2:
        reqbed.Client().generate_text(MODEL)
    assert e2.value.field == "prompt"


def _dns_error(cause: BaseException | None, text: str) -> httpx.ConnectError:
    e = httpx.ConnectError(text)
    e.__cause__ = cause
    return e


@pytest.mark.parametrize(
    "error",
    [
        _dns_error(socket.gaierror(-2, "Name or service not known"), "[Errno -2] Name or service not known"),
        _dns_error(None, "[Errno 8] nodename nor servname provided, or not known"),
    ],
)
def test_a_dns_failure_names_the_host_and_the_region(error: httpx.ConnectError) -> None:
    url = "https://bedrock-runtime.us-eest-1.amazonaws.com/model/x/converse"
    with pytest.raises(reqbed.APIConnectionError) as e, translate_transport_errors(url):
        raise error
    assert "could not resolve bedrock-runtime.us-eest-1.amazonaws.com" in str(e.value)
    assert "check the region" in str(e.value)


def test_a_refused_connection_is_not_called_dns() -> None:
    with pytest.raises(reqbed.APIConnectionError) as e, translate_transport_errors("http://127.0.0.1:1/x"):
        raise httpx.ConnectError("[Errno 111] Connection refused")
    assert "resolve" not in str(e.value)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_endpoint_says_how_many_attempts(emulator: Emulator) -> None:
    po = {**emulator.provider_options(), "endpoint_url": f"http://127.0.0.1:{_closed_port()}"}
    with reqbed.Client(retry_policy=reqbed.RetryPolicy(base=0.0, cap=0.0)) as client:
        with pytest.raises(reqbed.APIConnectionError, match=r"gave up after 3 attempts: 2 retries"):
            client.generate_text(MODEL, "hi", max_retries=2, provider_options=po)  # type: ignore[arg-type]
        with pytest.raises(reqbed.APIConnectionError) as e:
            client.generate_text(MODEL, "hi", max_retries=0, provider_options=po)  # type: ignore[arg-type]
    assert "attempts" not in str(e.value)


def test_fixture_replay_errors_are_reqbed_errors(tmp_path: Path) -> None:
    assert issubclass(FixtureError, reqbed.ReqbedError)
    with pytest.raises(FixtureMissingError) as e:
        replay_client(tmp_path / "missing.json").generate_text(MODEL, "hi")
    assert isinstance(e.value, reqbed.ReqbedError)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(FixtureError, match="unreadable reqbed fixture"):
        replay_client(broken).generate_text(MODEL, "hi")


def test_a_finished_stream_cannot_be_iterated_again(emulator: Emulator) -> None:
    po = {**emulator.provider_options(), "use_converse": True}
    with reqbed.stream_text(MODEL, "hello", provider_options=po) as s:  # type: ignore[arg-type]
        first = list(s)
        assert first
        with pytest.raises(reqbed.ReqbedError, match="already read to the end"):
            list(s)
        assert s.response().text == "You said: hello"  # the assembled answer stays available


@pytest.mark.anyio
async def test_a_finished_async_stream_cannot_be_iterated_again(emulator: Emulator) -> None:
    po = {**emulator.provider_options(), "use_converse": True}
    async with await reqbed.astream_text(MODEL, "hello", provider_options=po) as s:  # type: ignore[arg-type]
        texts = [t async for t in s.text_stream()]
        assert "".join(texts) == "You said: hello"
        with pytest.raises(reqbed.ReqbedError, match="already read to the end"):
            [c async for c in s]
        assert (await s.response()).text == "You said: hello"


# -- conveniences ------------------------------------------------------------------------------------


def test_usage_adds_and_sums() -> None:
    a = reqbed.Usage(input_tokens=1, output_tokens=2, total_tokens=3, cache_read_tokens=4, cache_write_tokens=5)
    b = reqbed.Usage(input_tokens=10, output_tokens=20, total_tokens=30)
    assert a + b == reqbed.Usage(
        input_tokens=11, output_tokens=22, total_tokens=33, cache_read_tokens=4, cache_write_tokens=5
    )
    assert sum([a, b, b]) == a + b + b
    assert sum([], reqbed.Usage()) == reqbed.Usage()
    with pytest.raises(TypeError):
        a + 1  # type: ignore[operator]


def test_client_defaults_apply_and_the_call_wins(emulator: Emulator) -> None:
    creds = {k: v for k, v in emulator.provider_options().items() if k not in ("region", "endpoint_url")}
    with reqbed.Client(
        region=emulator.region,
        endpoint_url=emulator.endpoint_url,
        provider_options={**creds, "use_converse": True},  # type: ignore[typeddict-item]
        defaults={"max_tokens": 7, "temperature": 0.5},
    ) as client:
        client.generate_text(MODEL, "hi")
        body = json.loads(emulator.requests[-1]["body"])
        assert body["inferenceConfig"] == {"maxTokens": 7, "temperature": 0.5}
        client.generate_text(MODEL, "hi", max_tokens=3, provider_options={"region": emulator.region})
    body = json.loads(emulator.requests[-1]["body"])
    assert body["inferenceConfig"] == {"maxTokens": 3, "temperature": 0.5}  # credentials still the client's


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"defaults": {"temperature": 5}}, "defaults.temperature"),
        ({"defaults": {"max_token": 5}}, "defaults.max_token"),
        ({"region": "us east 1"}, "defaults.provider_options.region"),
        ({"provider_options": {"regoin": "us-east-1"}}, "defaults.provider_options.regoin"),
        ({"defaults": {"tools": [{"name": "w", "strict": True}]}}, "defaults.tools[0].strict"),
    ],
)
def test_bad_client_defaults_fail_at_construction(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        reqbed.Client(**kwargs)
    assert e.value.field == field
