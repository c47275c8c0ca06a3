"""Secrets never show: not in str/repr of reqbed's objects, not in exceptions, not in log records.

Distinctive, obviously fake secrets are used as needles. An emulator configured to ACCEPT them
runs the successful paths (SigV4 with a session token, bearer key, streams) so that the secrets
really travel through signing and sending; the shared emulator (which does not know them) gives
the refused paths. Every log record of every logger (reqbed, httpx, httpcore, asyncio ...) is
captured at DEBUG and searched.

Finding recorded here: httpcore logs *response* headers at DEBUG and never request headers; reqbed
drives httpx's transport directly (no ``httpx.Client`` "HTTP Request" line) and logs no header.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import reqbed
from reqbed._aws.credentials_types import AwsCredentials, BearerToken
from reqbed._pipeline import prepare
from reqbed._request import ProviderOptions, build_chat_request
from reqbed.testing import Emulator

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "FAKE-secret-REDACTION-probe-0001"
TOKEN = "FAKE-token-REDACTION-probe-0002"
API_KEY = "FAKE-apikey-REDACTION-probe-0003"
NEEDLES = (SECRET, TOKEN, API_KEY, "REDACTION-probe")
MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
LOGGERS = ("", "reqbed", "httpx", "httpcore", "httpcore.http11", "httpcore.connection", "asyncio", "h11")


def clean(*texts: Any) -> None:
    for text in texts:
        s = text if isinstance(text, str) else repr(text)
        for needle in NEEDLES:
            assert needle not in s, f"secret leaked into: {s[:300]}"


def clean_error(err: BaseException) -> None:
    clean(str(err), repr(err), "".join(traceback.format_exception(type(err), err, err.__traceback__)))
    for value in vars(err).values():
        clean(repr(value))


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    yield caplog
    fmt = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert records, "nothing was logged at all: the capture is not working"
    for record in records:
        text = fmt.format(record)
        clean(text, repr(record.args))
        assert "authorization" not in text.lower(), text
        assert "x-amz-security-token" not in text.lower(), text


@pytest.fixture(scope="module")
def trusting() -> Iterator[Emulator]:
    """An emulator that accepts the fake secrets above."""
    with Emulator(credentials={AKID: (SECRET, TOKEN)}, api_keys={API_KEY}) as emu:
        yield emu


def sigv4(emu: Emulator) -> dict[str, Any]:
    return {"endpoint_url": emu.endpoint_url, "region": "us-east-1", "access_key_id": AKID,
            "secret_access_key": SECRET, "session_token": TOKEN}  # fmt: skip


def bearer(emu: Emulator) -> dict[str, Any]:
    return {"endpoint_url": emu.endpoint_url, "region": "us-east-1", "api_key": API_KEY}


# -- value types ---------------------------------------------------------------------------------


def test_credentials_types() -> None:
    creds = AwsCredentials(AKID, SECRET, TOKEN, source="provider_options")
    token = BearerToken(API_KEY, source="env")
    for obj in (creds, token):
        clean(str(obj), repr(obj), f"{obj}", f"{obj!r}", f"{[obj]}", f"{ {'k': obj} }")
    assert "<redacted:" in repr(creds)
    assert "<redacted:" in repr(token)


def test_provider_options_and_chat_request() -> None:
    po = ProviderOptions(api_key=API_KEY, access_key_id=AKID, secret_access_key=SECRET, session_token=TOKEN)
    clean(str(po), repr(po), po.__rich_repr__())
    assert repr(po).count("<redacted>") == 3
    assert dict(po.__rich_repr__())["access_key_id"] == AKID
    secrets = {"api_key": API_KEY, "secret_access_key": SECRET, "access_key_id": AKID, "session_token": TOKEN}
    req = build_chat_request(MODEL, "hi", {"provider_options": secrets})
    clean(str(req), repr(req), req.__rich_repr__(), req.messages, req.options)


def test_prepared() -> None:
    for po in ({"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN}, {"api_key": API_KEY}):
        p = prepare(MODEL, "hi", {"provider_options": po}, environ={})
        clean(str(p), repr(p), p.headers, p.body.decode(), p.url, p.request, p.auth)


def test_client() -> None:
    env = {"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN, "AWS_BEARER_TOKEN_BEDROCK": API_KEY}
    with reqbed.Client(environ=env) as client:
        clean(str(client), repr(client))


# -- successful calls: secrets travel, and still never show ---------------------------------------


@pytest.mark.parametrize("auth", [sigv4, bearer])
def test_successful_calls_log_no_secret(auth: Any, trusting: Emulator, logs: pytest.LogCaptureFixture) -> None:
    with reqbed.Client() as client:
        response = client.generate_text(MODEL, "hello", provider_options=auth(trusting))
        clean(repr(response))
        with client.stream_text(MODEL, "hello", provider_options=auth(trusting)) as stream:
            clean(repr(stream))
            assert stream.response().text
    sent = trusting.requests[-1]["headers"]
    assert any(v == f"Bearer {API_KEY}" or TOKEN in v for k, v in _pairs(sent))  # the secret did travel


def _pairs(headers: Any) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, dict) else headers
    return [(k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v) for k, v in items]


@pytest.mark.anyio
async def test_async_calls_log_no_secret(trusting: Emulator, logs: pytest.LogCaptureFixture) -> None:
    async with reqbed.Client() as client:
        response = await client.agenerate_text(MODEL, "hello", provider_options=sigv4(trusting))
        clean(repr(response))
        stream = await client.astream_text(MODEL, "hello", provider_options=bearer(trusting))
        async with stream:
            clean(repr(stream))
            assert (await stream.response()).text


# -- error paths ---------------------------------------------------------------------------------


def test_wrong_secret_and_wrong_key(emulator: Emulator, logs: pytest.LogCaptureFixture) -> None:
    """The shared emulator knows only AWS's example pair: our fake secret is wrong there."""
    wrong = [
        {**emulator.provider_options(), "secret_access_key": SECRET},
        {**emulator.provider_options(), "secret_access_key": SECRET, "session_token": TOKEN},
        {"endpoint_url": emulator.endpoint_url, "region": "us-east-1", "api_key": API_KEY},
    ]
    with reqbed.Client() as client:
        for po in wrong:
            with pytest.raises(reqbed.AuthenticationError) as info:
                client.generate_text(MODEL, "hi", provider_options=po, max_retries=0)
            clean_error(info.value)
            with pytest.raises(reqbed.AuthenticationError) as info:
                client.stream_text(MODEL, "hi", provider_options=po, max_retries=0)
            clean_error(info.value)


@pytest.mark.anyio
async def test_wrong_secret_async(emulator: Emulator, logs: pytest.LogCaptureFixture) -> None:
    async with reqbed.Client() as client:
        po = {**emulator.provider_options(), "secret_access_key": SECRET, "session_token": TOKEN}
        with pytest.raises(reqbed.AuthenticationError) as info:
            await client.agenerate_text(MODEL, "hi", provider_options=po, max_retries=0)
        clean_error(info.value)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint(logs: pytest.LogCaptureFixture) -> None:
    po = {"endpoint_url": f"http://127.0.0.1:{_closed_port()}", "access_key_id": AKID, "secret_access_key": SECRET,
          "session_token": TOKEN}  # fmt: skip
    with reqbed.Client() as client, pytest.raises(reqbed.APIConnectionError) as info:
        client.generate_text(MODEL, "hi", provider_options=po, max_retries=0)
    clean_error(info.value)
    logging.getLogger("reqbed").debug("capture check")  # the fixture insists something was logged


SECRETS = {"access_key_id": AKID, "secret_access_key": SECRET, "session_token": TOKEN, "api_key": API_KEY}
BAD_CALLS: list[tuple[str, Any, dict[str, Any]]] = [
    (MODEL, "hi", {"provider_options": {**SECRETS, "regoin": "us-east-1"}}),
    (MODEL, "hi", {"provider_options": {**SECRETS, "region": "moon"}}),
    (MODEL, "hi", {"provider_options": {**SECRETS, "endpoint_url": "http://example.com"}}),
    (MODEL, "hi", {"provider_options": {**SECRETS, "endpoint_url": "ftp://127.0.0.1/x"}}),
    (MODEL, "hi", {"provider_options": {**SECRETS, "endpoint_url": "https://127.0.0.1/?q=1"}}),
    (MODEL, "hi", {"provider_options": {"access_key_id": AKID, "secret_access_key": [SECRET]}}),
    (MODEL, "hi", {"provider_options": {"api_key": {"nested": API_KEY}}}),
    (MODEL, "hi", {"provider_options": {"session_token": 5, "secret_access_key": SECRET}}),
    (MODEL, "hi", {"provider_options": {"secret_access_key": SECRET}}),  # no access key id
    (MODEL, "hi", {"provider_options": {**SECRETS, "duration_seconds": 5}}),
    (MODEL, "", {"provider_options": SECRETS}),
    ("not-a-spec", "hi", {"provider_options": SECRETS}),
    (MODEL, "hi", {"temperature": 7, "provider_options": SECRETS}),
    (MODEL, "hi", {"api_key": API_KEY}),  # a secret given as an unknown top-level option
    (MODEL, "hi", {"provider_options": {**SECRETS, "base_model": ""}}),
]


@pytest.mark.parametrize(("model", "prompt", "opts"), BAD_CALLS)
def test_refused_calls(model: str, prompt: Any, opts: dict[str, Any], logs: pytest.LogCaptureFixture) -> None:
    def forbidden(request: httpx.Request) -> httpx.Response:
        pytest.fail("sent despite bad input")

    with reqbed.Client(transport=httpx.MockTransport(forbidden), environ={}) as client:
        with pytest.raises(reqbed.ReqbedError) as info:
            client.generate_text(model, prompt, **opts)
        clean_error(info.value)
    logging.getLogger("reqbed").debug("capture check")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("aws_bedrock", {"secret_access_key": SECRET}),
        ("aws_bedrock", {"bogus": SECRET}),
        ("aws_bedrock", {"secret_access_key": [SECRET], "access_key_id": AKID}),
        ("aws_bedrock_api_key", {"api_key": API_KEY}),
        ("no_such_key", API_KEY),
    ],
)
def test_put_key_errors(name: str, value: Any) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.put_key(name, value)
    clean_error(info.value)


def test_the_search_can_fail() -> None:
    with pytest.raises(AssertionError):
        clean(f"header: Bearer {API_KEY}")
    with pytest.raises(AssertionError):
        clean_error(reqbed.ReqbedError(f"oops {SECRET}"))
