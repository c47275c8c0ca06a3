"""End to end over a real loopback socket: ``generate_text`` / ``agenerate_text`` against the emulator.

The emulator verifies SigV4 from the bytes it received (tests/testing/test_emulator.py proves that verifier
against botocore's own signer), so every passing call here is a correctly signed request.
Credential and region precedence have their own file (tests/aws/test_credentials_precedence.py).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import re
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import pytest
import trio

import reqbed
from reqbed._aws.clock import Clock, endpoint_of
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_API_KEY, EXAMPLE_SECRET_ACCESS_KEY, Emulator
from tests.support import network_pool

MODEL_ID = "anthropic.claude-3-7-sonnet-20250219-v1:0"
MODEL = f"bedrock:{MODEL_ID}"
REPO = Path(__file__).resolve().parents[1]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}


def po(emu: Emulator, *, bearer: bool = False, **extra: Any) -> dict[str, Any]:
    return {**emu.provider_options(bearer=bearer), "use_converse": True, **extra}


def last(emu: Emulator) -> dict[str, Any]:
    return emu.requests[-1]


def last_body(emu: Emulator) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(last(emu)["body"])
    return body


def sigv4_fields(authorization: str) -> dict[str, str]:
    m = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
        r"/aws4_request, SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})",
        authorization,
    )
    assert m, authorization
    return m.groupdict()


# -- the basic call, sync and async -----------------------------------------------------------------


def test_generate_text_with_static_keys(emulator: Emulator, client: reqbed.Client) -> None:
    r = client.generate_text(MODEL, "Hello there", provider_options=po(emulator))
    assert r.text == "You said: Hello there"
    assert r.finish_reason == "stop"
    assert r.usage == reqbed.Usage(input_tokens=2, output_tokens=4, total_tokens=6)
    assert r.model == MODEL_ID
    assert r.served_by == MODEL
    assert r.message == reqbed.Message(role="assistant", content=[reqbed.TextPart(text="You said: Hello there")])
    req = last(emulator)
    assert req["path"] == "/model/anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse"
    fields = sigv4_fields(req["headers"]["authorization"])
    assert fields["akid"] == EXAMPLE_ACCESS_KEY_ID
    assert fields["region"] == "us-east-1"
    assert fields["service"] == "bedrock"
    assert set(fields["signed"].split(";")) >= {"host", "x-amz-date", "content-type"}
    assert "x-amz-security-token" not in req["headers"]
    assert req["headers"]["content-type"] == "application/json"
    assert last_body(emulator)["messages"] == [{"role": "user", "content": [{"text": "Hello there"}]}]


def test_module_level_generate_text(emulator: Emulator) -> None:
    r = reqbed.generate_text(MODEL, "via the default client", provider_options=po(emulator))
    assert r.text == "You said: via the default client"


@pytest.mark.anyio
@pytest.mark.parametrize("bearer", [False, True], ids=["sigv4", "bearer"])
async def test_agenerate_text(emulator: Emulator, bearer: bool) -> None:
    async with reqbed.Client() as client:
        r = await client.agenerate_text(MODEL, "Hello async", provider_options=po(emulator, bearer=bearer))
    assert r.text == "You said: Hello async"
    auth = last(emulator)["headers"]["authorization"]
    assert auth == f"Bearer {EXAMPLE_API_KEY}" if bearer else auth.startswith("AWS4-HMAC-SHA256 ")


def test_session_token_is_sent_and_signed() -> None:
    token = "example-session-token-for-tests"
    with Emulator(credentials={"AKIDEXAMPLE": (EXAMPLE_SECRET_ACCESS_KEY, token)}) as emu, reqbed.Client() as c:
        r = c.generate_text(MODEL, "with a token", provider_options=po(emu))
        assert r.text == "You said: with a token"
        headers = last(emu)["headers"]
        assert headers["x-amz-security-token"] == token
        assert "x-amz-security-token" in sigv4_fields(headers["authorization"])["signed"].split(";")
        # the same keys without the token are refused
        opts = po(emu)
        del opts["session_token"]
        with pytest.raises(reqbed.AuthenticationError):
            c.generate_text(MODEL, "no token", provider_options=opts, max_retries=0)


def test_bearer_api_key(emulator: Emulator, client: reqbed.Client) -> None:
    r = client.generate_text(MODEL, "Hi bearer", provider_options=po(emulator, bearer=True))
    assert r.text == "You said: Hi bearer"
    headers = last(emulator)["headers"]
    assert headers["authorization"] == f"Bearer {EXAMPLE_API_KEY}"
    assert "x-amz-date" not in headers


# -- what the call carries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model_id",
    [
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
    ],
)
def test_model_ids_travel_as_one_encoded_path_segment(emulator: Emulator, client: reqbed.Client, model_id: str) -> None:
    extra = {"base_model": MODEL_ID} if "application-inference-profile" in model_id else {}
    r = client.generate_text(f"bedrock:{model_id}", "route me", provider_options=po(emulator, **extra))
    assert r.text == "You said: route me"
    assert last(emulator)["path"] == f"/model/{quote(model_id, safe='')}/converse"
    assert last(emulator)["path"].count("/") == 3  # ':' and '/' inside the id are percent-encoded


def test_tool_call_and_round_trip(emulator: Emulator, client: reqbed.Client) -> None:
    prompt = "What is the weather in Paris? use get_weather"
    first = client.generate_text(MODEL, prompt, tools=[WEATHER], provider_options=po(emulator))
    assert first.finish_reason == "tool_calls"
    assert first.text == "Calling get_weather."
    [call] = first.tool_calls
    assert call.name == "get_weather"
    assert call.arguments == {"city": "example", "days": 2}
    assert call.id.startswith("tooluse_")
    assert last_body(emulator)["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"

    history = [
        {"role": "user", "content": prompt},
        first.message,
        {"role": "tool", "content": [reqbed.ToolResultPart(tool_call_id=call.id, content="Sunny, 21 C")]},
    ]
    second = client.generate_text(MODEL, history, tools=[WEATHER], provider_options=po(emulator))
    assert second.text == "Tool results: Sunny, 21 C"
    assert second.finish_reason == "stop"
    assert second.tool_calls == []
    sent = last_body(emulator)["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"][1] == {"toolUse": {"toolUseId": call.id, "name": "get_weather", "input": call.arguments}}
    assert sent[2]["content"] == [{"toolResult": {"toolUseId": call.id, "content": [{"text": "Sunny, 21 C"}]}}]


def test_thinking_through_converse(emulator: Emulator, client: reqbed.Client) -> None:
    r = client.generate_text(
        MODEL, "Why is the sky blue", thinking={"budget_tokens": 1024}, provider_options=po(emulator)
    )
    assert r.thinking == "The user asked: Why is the sky blue. I will answer directly."
    assert r.text == "You said: Why is the sky blue"
    thinking = r.message.content[0]
    assert isinstance(thinking, reqbed.ThinkingPart)
    assert thinking.signature
    assert len(thinking.signature) == 64
    body = last_body(emulator)
    assert body["additionalModelRequestFields"]["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["inferenceConfig"]["maxTokens"] > 1024
    # the signed thinking is replayed unchanged in the next turn
    history = [{"role": "user", "content": "Why is the sky blue"}, r.message, {"role": "user", "content": "More"}]
    client.generate_text(MODEL, history, thinking={"budget_tokens": 1024}, provider_options=po(emulator))
    replayed = last_body(emulator)["messages"][1]["content"][0]
    assert replayed == {"reasoningContent": {"reasoningText": {"text": r.thinking, "signature": thinking.signature}}}


def test_prompt_caching_reports_cache_reads(client: reqbed.Client) -> None:
    system = "You are a careful assistant who answers in one short sentence " * 3
    opts = {"system": system, "provider_options": {"anthropic_prompt_cache": True}}
    with Emulator() as emu:  # a fresh cache
        first = client.generate_text(
            MODEL, "Cache me", **{**opts, "provider_options": po(emu, anthropic_prompt_cache=True)}
        )
        assert any("cachePoint" in b for b in last_body(emu)["system"])
        second = client.generate_text(
            MODEL, "Cache me", **{**opts, "provider_options": po(emu, anthropic_prompt_cache=True)}
        )
    assert first.usage.cache_write_tokens > 0
    assert first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert second.usage.cache_write_tokens == 0
    assert second.usage.input_tokens == first.usage.input_tokens  # cache tokens are never folded in


def test_max_tokens_gives_finish_reason_length(emulator: Emulator, client: reqbed.Client) -> None:
    r = client.generate_text(MODEL, "one two three four five six", max_tokens=3, provider_options=po(emulator))
    assert r.finish_reason == "length"
    assert r.text == "You said: one"
    assert r.usage.output_tokens == 3
    assert last_body(emulator)["inferenceConfig"]["maxTokens"] == 3


def test_stop_sequences(emulator: Emulator, client: reqbed.Client) -> None:
    r = client.generate_text(MODEL, "alpha beta STOP gamma", stop=["STOP", "never"], provider_options=po(emulator))
    assert r.finish_reason == "stop_sequence"
    assert r.text == "You said: alpha beta "
    assert last_body(emulator)["inferenceConfig"]["stopSequences"] == ["STOP", "never"]


# -- errors ---------------------------------------------------------------------------------------------

FAULTS = [
    ("throttling", reqbed.ThrottlingError, 429, "ThrottlingException"),
    ("model_not_ready", reqbed.ModelNotReadyError, 429, "ModelNotReadyException"),
    ("unavailable", reqbed.ServiceUnavailableError, 503, "ServiceUnavailableException"),
    ("internal", reqbed.ServerError, 500, "InternalServerException"),
    ("access_denied", reqbed.AccessDeniedError, 403, "AccessDeniedException"),
    ("not_found", reqbed.ResourceNotFoundError, 404, "ResourceNotFoundException"),
    ("model_timeout", reqbed.ModelTimeoutError, 408, "ModelTimeoutException"),
]


@pytest.mark.parametrize(("fault", "cls", "status", "code"), FAULTS)
def test_aws_errors_are_mapped(
    emulator: Emulator, client: reqbed.Client, fault: str, cls: type[reqbed.APIError], status: int, code: str
) -> None:
    emulator.inject(fault)
    with pytest.raises(cls) as info:
        client.generate_text(MODEL, "fail please", provider_options=po(emulator), max_retries=0)
    err = info.value
    assert err.status == status
    assert err.code == code
    assert err.request_id
    assert UUID_RE.match(err.request_id)
    assert err.request_id in str(err)
    assert err.aws_message
    assert err.aws_message in str(err)
    # the fault was used up: the next call succeeds
    assert client.generate_text(MODEL, "ok now", provider_options=po(emulator)).text == "You said: ok now"


@pytest.mark.anyio
@pytest.mark.parametrize(("fault", "cls", "status", "code"), FAULTS[:4])
async def test_async_aws_errors_are_mapped(
    emulator: Emulator, fault: str, cls: type[reqbed.APIError], status: int, code: str
) -> None:
    emulator.inject(fault)
    async with reqbed.Client() as client:
        with pytest.raises(cls) as info:
            await client.agenerate_text(MODEL, "fail please", provider_options=po(emulator), max_retries=0)
    assert (info.value.status, info.value.code) == (status, code)


def test_bad_request_from_aws_is_a_bad_request_error(emulator: Emulator, client: reqbed.Client) -> None:
    with pytest.raises(reqbed.BadRequestError) as info:
        _send_raw_bad_body(client, emulator)
    assert info.value.status == 400
    assert info.value.code == "ValidationException"


def _send_raw_bad_body(client: reqbed.Client, emu: Emulator) -> None:
    """A body reqbed would never build (a conversation starting with the assistant), sent signed."""
    from reqbed._pipeline import prepare

    p = prepare(MODEL, "hi", {"provider_options": po(emu)}, environ={})
    p.body = json.dumps({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}).encode()
    transport = client._sync_transport()
    request = client._request(p, p.auth)  # type: ignore[arg-type]
    response = transport.handle_request(request)
    body = response.read()
    response.close()
    p.parse(response.status_code, response.headers, body)


def test_wrong_secret_is_an_authentication_error(emulator: Emulator, client: reqbed.Client) -> None:
    opts = po(emulator, secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY")
    with pytest.raises(reqbed.AuthenticationError) as info:
        client.generate_text(MODEL, "hi", provider_options=opts, max_retries=0)
    assert not isinstance(info.value, reqbed.SignatureExpiredError)
    assert info.value.status == 403
    assert info.value.code == "InvalidSignatureException"
    assert "WRONGKEY" not in str(info.value)


@pytest.mark.parametrize(
    ("opts", "code"),
    [
        ({"access_key_id": "AKIAI44QH8DHBEXAMPLE"}, "UnrecognizedClientException"),
        ({"api_key": "ABSK-not-a-key-the-emulator-knows", "access_key_id": None}, "UnrecognizedClientException"),
    ],
)
def test_unknown_credentials_are_authentication_errors(
    emulator: Emulator, client: reqbed.Client, opts: dict[str, Any], code: str
) -> None:
    options = {k: v for k, v in {**po(emulator), **opts}.items() if v is not None}
    if "api_key" in opts:
        options.pop("secret_access_key")
    with pytest.raises(reqbed.AuthenticationError) as info:
        client.generate_text(MODEL, "hi", provider_options=options, max_retries=0)
    assert info.value.code == code
    assert "not-a-key" not in str(info.value)


def test_stale_clock_is_corrected_by_one_retry() -> None:
    # The emulator's clock runs 10 minutes ahead: AWS's 403 "Signature expired". reqbed learns the
    # offset from the answer's Date header and signs the retry (and later calls) with it.
    clock = Clock()  # a private clock: the learned offset must not leak into other tests
    with Emulator(clock=lambda: time.time() + 600) as emu, reqbed.Client(clock=clock) as client:
        r = client.generate_text(MODEL, "late", provider_options=po(emu), max_retries=0)
        assert r.text == "You said: late"
        first, second = (req["headers"]["x-amz-date"] for req in emu.requests)
        signed = [datetime.strptime(d, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) for d in (first, second)]
        assert 590 <= (signed[1] - signed[0]).total_seconds() <= 610
        assert 590 <= clock.skew(endpoint_of(emu.endpoint_url)) <= 610
        client.generate_text(MODEL, "again", provider_options=po(emu))
        assert len(emu.requests) == 3  # signed right the first time now


def test_a_clock_that_cannot_be_corrected_is_a_signature_expired_error() -> None:
    # Every reading of this server clock is 10 more minutes ahead, so the learned offset is always stale.
    readings = itertools.count(1)
    with (
        Emulator(clock=lambda: time.time() + 600 * next(readings)) as emu,
        reqbed.Client(clock=Clock()) as client,
        pytest.raises(reqbed.SignatureExpiredError) as info,
    ):
        client.generate_text(MODEL, "late", provider_options=po(emu), max_retries=0)
    err = info.value
    assert len(emu.requests) == 2  # the first try and one corrected retry
    assert err.status == 403
    assert err.code == "InvalidSignatureException"
    assert err.aws_message is not None
    assert re.fullmatch(
        r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)", err.aws_message
    )
    assert err.skew is not None
    assert err.skew > 300


def test_no_credentials_anywhere_names_every_source(emulator: Emulator, client: reqbed.Client) -> None:
    with pytest.raises(reqbed.CredentialsError) as info:
        client.generate_text(MODEL, "hi", provider_options={"endpoint_url": emulator.endpoint_url}, max_retries=0)
    _check_names_every_source(str(info.value))
    assert emulator.requests == []


@pytest.mark.anyio
async def test_async_no_credentials_anywhere_names_every_source(emulator: Emulator) -> None:
    async with reqbed.Client() as client:
        with pytest.raises(reqbed.CredentialsError) as info:
            await client.agenerate_text(MODEL, "hi", provider_options={"endpoint_url": emulator.endpoint_url})
    _check_names_every_source(str(info.value))
    assert emulator.requests == []


def _check_names_every_source(message: str) -> None:
    for source in (
        "provider_options",
        "put_key",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "instance metadata",
    ):
        assert source in message, source


# -- botocore stays out; threads and event loops ---------------------------------------------------------

_NO_BOTOCORE = """
import sys
import reqbed
url = sys.argv[1]
for po in (
    {"endpoint_url": url, "access_key_id": sys.argv[2], "secret_access_key": sys.argv[3]},
    {"endpoint_url": url, "api_key": sys.argv[4]},
):
    r = reqbed.generate_text("bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0", "subprocess", provider_options=po)
    assert r.text == "You said: subprocess", r.text
    with reqbed.stream_text("bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0", "s", provider_options=po) as s:
        assert s.response().text == "You said: s"
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("botocore", "boto3", "aiobotocore"))
assert not leaked, leaked
print("ok")
"""


def test_import_and_static_or_bearer_calls_never_import_botocore(emulator: Emulator) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            _NO_BOTOCORE,
            emulator.endpoint_url,
            EXAMPLE_ACCESS_KEY_ID,
            EXAMPLE_SECRET_ACCESS_KEY,
            EXAMPLE_API_KEY,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_one_client_from_many_threads(emulator: Emulator) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with reqbed.Client(max_connections=8) as client:

            def call(i: int) -> str:
                prompt = f"thread call number {i}"
                if i % 5 == 0:
                    with client.stream_text(MODEL, prompt, provider_options=po(emulator, bearer=i % 2 == 0)) as s:
                        return s.response().text
                return client.generate_text(MODEL, prompt, provider_options=po(emulator, bearer=i % 2 == 0)).text

            with ThreadPoolExecutor(max_workers=10) as pool:
                texts = list(pool.map(call, range(50)))
            pool_state = network_pool(client._sync_transport())
            assert len(pool_state.connections) <= 8
        assert pool_state.connections == []  # closed with the client
        gc.collect()
    assert texts == [f"You said: thread call number {i}" for i in range(50)]
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_one_client_from_several_event_loops_in_turn(emulator: Emulator) -> None:
    closed_pools: list[Any] = []

    async def use(tag: str) -> list[str]:
        transport = await client._async_transport_for_loop()
        closed_pools.append(network_pool(transport))
        r = await client.agenerate_text(MODEL, f"loop {tag}", provider_options=po(emulator))
        async with await client.astream_text(MODEL, f"stream {tag}", provider_options=po(emulator)) as s:
            streamed = await s.response()
        async with anyio.create_task_group() as tg:  # concurrent calls inside one loop share its pool
            results: list[str] = []

            async def one(i: int) -> None:
                results.append((await client.agenerate_text(MODEL, f"{tag} {i}", provider_options=po(emulator))).text)

            for i in range(5):
                tg.start_soon(one, i)
        return [r.text, streamed.text, *sorted(results)]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = reqbed.Client()
        try:
            got = [
                asyncio.run(use("a")),
                trio.run(use, "b"),
                asyncio.run(use("c")),
                anyio.run(use, "d", backend="trio"),
            ]
            sync_text = client.generate_text(MODEL, "sync too", provider_options=po(emulator)).text
        finally:
            client.close()
        gc.collect()
    for tag, texts in zip("abcd", got, strict=True):
        assert texts == [
            f"You said: loop {tag}",
            f"You said: stream {tag}",
            *(f"You said: {tag} {i}" for i in range(5)),
        ]
    assert sync_text == "You said: sync too"
    assert len(closed_pools) == 4
    assert len({id(p) for p in closed_pools}) == 4  # one pool per event loop
    assert all(p.connections == [] for p in closed_pools)  # each closed when its loop ended
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
