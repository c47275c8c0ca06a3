"""Bedrock API keys: short-term keys decoded and checked before sending, long-term keys used as
given, and ``reqbed.bedrock_api_key`` minting keys byte-identical to AWS's generator recipe
(``aws-bedrock-token-generator``: botocore ``SigV4QueryAuth`` over ``POST
https://bedrock.amazonaws.com/?Action=CallWithBearerToken``, scheme dropped, ``&Version=1``,
base64, ``bedrock-api-key-`` prefix), rebuilt here with botocore as the independent oracle.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta, timezone
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given
from hypothesis import strategies as st

import reqbed
from reqbed._aws import api_keys as _api_keys
from reqbed._aws import clock as _clock
from reqbed._aws.api_keys import decode_short_term_key, make_short_term_key
from reqbed._aws.clock import Clock
from reqbed._aws.credentials_types import AwsCredentials
from reqbed.testing import EXAMPLE_API_KEY, Emulator

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
EXAMPLE_TOKEN = "AQoDYXdzEJr...<remainder of security token>"  # AWS's documented placeholder


def aws_recipe(creds: AwsCredentials, region: str, expires: int, now: datetime) -> str:
    """What AWS's Python generator does, with botocore, at a fixed time."""
    request = AWSRequest(
        method="POST",
        url="https://bedrock.amazonaws.com/",
        headers={"host": "bedrock.amazonaws.com"},
        params={"Action": "CallWithBearerToken"},
    )
    bc = Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    naive = now.astimezone(timezone.utc).replace(tzinfo=None)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=naive):
        SigV4QueryAuth(bc, "bedrock", region, expires=expires).add_auth(request)
    presigned = str(request.url).replace("https://", "") + "&Version=1"
    return "bedrock-api-key-" + base64.b64encode(presigned.encode()).decode()


def short_key(region: str = "us-east-1", issued: datetime = NOW, expires: int = 43200) -> str:
    return make_short_term_key(AwsCredentials(AKID, SECRET), region, expires, issued)


@pytest.fixture
def at_now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(lambda: NOW.timestamp())
    monkeypatch.setattr(_clock, "SYSTEM_CLOCK", clock)
    return clock


# -- minting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "expires", "token"),
    [("us-east-1", 43200, None), ("us-west-2", 900, EXAMPLE_TOKEN), ("eu-central-1", 1, "tok/en+=")],
)
def test_minted_key_is_byte_identical_to_awss_recipe(region: str, expires: int, token: str | None) -> None:
    creds = AwsCredentials(AKID, SECRET, token)
    assert make_short_term_key(creds, region, expires, NOW) == aws_recipe(creds, region, expires, NOW)


def test_bedrock_api_key_round_trip(at_now: Clock) -> None:
    key = reqbed.bedrock_api_key({"access_key_id": AKID, "secret_access_key": SECRET}, region="ap-southeast-2")
    info = decode_short_term_key(key)
    assert info is not None
    assert info.region == "ap-southeast-2"
    assert info.issued_at == NOW
    assert info.expires_at == NOW + timedelta(hours=12)
    assert key == aws_recipe(AwsCredentials(AKID, SECRET), "ap-southeast-2", 43200, NOW)
    short = reqbed.bedrock_api_key(AwsCredentials(AKID, SECRET), region="us-east-1", expires_in=timedelta(minutes=15))
    assert decode_short_term_key(short).expires_at == NOW + timedelta(minutes=15)  # type: ignore[union-attr]


def test_bedrock_api_key_resolves_credentials_and_region_like_a_call(
    at_now: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", EXAMPLE_API_KEY)  # an API key cannot sign: skipped
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    key = reqbed.bedrock_api_key()
    assert key == aws_recipe(AwsCredentials(AKID, SECRET), "eu-west-1", 43200, NOW)


def test_bedrock_api_key_from_botocore_credentials_and_profile(
    at_now: Clock, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    key = reqbed.bedrock_api_key(Credentials(AKID, SECRET, EXAMPLE_TOKEN), region="us-west-2")
    assert key == aws_recipe(AwsCredentials(AKID, SECRET, EXAMPLE_TOKEN), "us-west-2", 43200, NOW)
    (tmp_path / "aws-config").write_text("[profile dev]\nregion = ca-central-1\n")
    (tmp_path / "aws-credentials").write_text(f"[dev]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n")
    from reqbed._aws.credential_chain import clear_cache

    clear_cache()
    try:
        key = reqbed.bedrock_api_key(profile="dev")
    finally:
        clear_cache()
    assert decode_short_term_key(key).region == "ca-central-1"  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_abedrock_api_key(at_now: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AKID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    key = await reqbed.abedrock_api_key(region="us-east-2", expires_in=3600)
    assert key == aws_recipe(AwsCredentials(AKID, SECRET), "us-east-2", 3600, NOW)


def test_key_never_outlives_its_credentials(at_now: Clock) -> None:
    creds = AwsCredentials(AKID, SECRET, EXAMPLE_TOKEN, expiration=NOW + timedelta(minutes=40))
    info = decode_short_term_key(reqbed.bedrock_api_key(creds, region="us-east-1"))
    assert info is not None
    assert info.expires_at == NOW + timedelta(minutes=40)
    expired = AwsCredentials(AKID, SECRET, EXAMPLE_TOKEN, expiration=NOW - timedelta(seconds=1))
    with pytest.raises(reqbed.CredentialsError):
        reqbed.bedrock_api_key(expired, region="us-east-1")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"expires_in": 0}, "expires_in"),
        ({"expires_in": timedelta(hours=12, seconds=1)}, "expires_in"),
        ({"expires_in": "1h"}, "expires_in"),
        ({"region": "Mars"}, "region"),
    ],
)
def test_bedrock_api_key_validates(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.bedrock_api_key(
            {"access_key_id": AKID, "secret_access_key": SECRET}, **{"region": "us-east-1", **kwargs}
        )
    assert info.value.field == field


def test_bedrock_api_key_refuses_bad_credentials() -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.bedrock_api_key({"access_key_id": AKID}, region="us-east-1")
    assert info.value.field == "credentials"
    with pytest.raises(reqbed.ValidationError):
        reqbed.bedrock_api_key(object(), region="us-east-1")


# -- decoding --------------------------------------------------------------------------------------


def test_decode_reads_region_and_lifetime() -> None:
    info = decode_short_term_key(short_key("eu-west-3", NOW, 3600))
    assert info is not None
    assert (info.region, info.issued_at, info.expires_at) == ("eu-west-3", NOW, NOW + timedelta(hours=1))
    assert "SECRET" not in repr(info)
    assert AKID not in repr(info)


def _encode(url: str) -> str:
    return "bedrock-api-key-" + base64.b64encode(url.encode()).decode()


@pytest.mark.parametrize(
    "key",
    [
        EXAMPLE_API_KEY,
        "bedrock-api-key-",
        "bedrock-api-key-!!!not base64!!!",
        "bedrock-api-key-" + base64.b64encode(b"\xff\xfe\x00").decode(),
        _encode("bedrock.amazonaws.com/no-query"),
        _encode("bedrock.amazonaws.com/?Action=Other&X-Amz-Credential=A/20260101/us-east-1/bedrock/aws4_request"),
        _encode("bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Credential=A/x/us-east-1/s3/aws4_request"),
        _encode(
            "bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Credential=A/20260101/us-east-1/bedrock/"
            "aws4_request&X-Amz-Date=yesterday&X-Amz-Expires=60"
        ),
        _encode(
            "bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Credential=A/20260101/us-east-1/bedrock/"
            "aws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=-5"
        ),
    ],
)
def test_malformed_keys_are_opaque(key: str) -> None:
    assert decode_short_term_key(key) is None


@given(st.text())
def test_decode_never_raises(text: str) -> None:
    decode_short_term_key(text)
    decode_short_term_key("bedrock-api-key-" + text)
    decode_short_term_key("bedrock-api-key-" + base64.b64encode(text.encode()).decode())


def test_unpadded_base64_still_decodes() -> None:
    key = short_key("us-west-2").rstrip("=")
    assert decode_short_term_key(key) is not None


# -- checks before sending, end to end -------------------------------------------------------------


def _po(emu: Emulator, key: str, **extra: Any) -> dict[str, Any]:
    return {"provider_options": {"endpoint_url": emu.endpoint_url, "api_key": key, "use_converse": True, **extra}}


def test_short_term_key_is_sent_as_bearer(emulator: Emulator) -> None:
    key = reqbed.bedrock_api_key({"access_key_id": AKID, "secret_access_key": SECRET}, region="us-east-1")
    emulator.api_keys.add(key)
    try:
        with reqbed.Client() as client:
            assert client.generate_text(MODEL, "hi", **_po(emulator, key, region="us-east-1")).text
    finally:
        emulator.api_keys.discard(key)
    assert emulator.requests[-1]["headers"]["authorization"] == f"Bearer {key}"


def test_expired_short_term_key_is_refused_before_sending(emulator: Emulator) -> None:
    key = short_key("us-east-1", NOW, 3600)
    clock = Clock(lambda: (NOW + timedelta(hours=1, seconds=1)).timestamp())
    with reqbed.Client(clock=clock) as client, pytest.raises(reqbed.CredentialsError) as info:
        client.generate_text(MODEL, "hi", **_po(emulator, key, region="us-east-1"))
    assert emulator.requests == []
    assert "expired" in str(info.value)
    assert key not in str(info.value)
    assert key[16:40] not in str(info.value)


def test_nearly_expired_key_warns_once(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    issued = NOW - timedelta(hours=11, minutes=57)  # 3 minutes left at NOW
    key = short_key("us-east-1", issued, 43200)
    emulator.api_keys.add(key)
    try:
        with reqbed.Client(clock=Clock(lambda: NOW.timestamp())) as client, caplog.at_level(logging.WARNING, "reqbed"):
            client.generate_text(MODEL, "hi", **_po(emulator, key, region="us-east-1"))
            client.generate_text(MODEL, "hi", **_po(emulator, key, region="us-east-1"))
    finally:
        emulator.api_keys.discard(key)
    warnings = [r for r in caplog.records if r.name == "reqbed" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "expires in 3 min" in warnings[0].getMessage()
    assert key[16:] not in warnings[0].getMessage()
    assert len(emulator.requests) == 2


def test_fresh_key_does_not_warn(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    key = short_key("us-east-1", NOW, 3600)
    emulator.api_keys.add(key)
    try:
        with reqbed.Client(clock=Clock(lambda: NOW.timestamp())) as client, caplog.at_level(logging.WARNING, "reqbed"):
            client.generate_text(MODEL, "hi", **_po(emulator, key, region="us-east-1"))
    finally:
        emulator.api_keys.discard(key)
    assert not [r for r in caplog.records if r.name == "reqbed"]


def test_region_mismatch_is_a_validation_error(emulator: Emulator) -> None:
    key = short_key("us-west-2", NOW, 3600)
    with reqbed.Client(clock=Clock(lambda: NOW.timestamp())) as client, pytest.raises(reqbed.ValidationError) as info:
        client.generate_text(MODEL, "hi", **_po(emulator, key, region="eu-west-1"))
    assert info.value.field == "region"
    assert "us-west-2" in str(info.value)
    assert "eu-west-1" in str(info.value)
    assert emulator.requests == []


def test_env_region_is_explicit_too(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with reqbed.Client(clock=Clock(lambda: NOW.timestamp())) as client, pytest.raises(reqbed.ValidationError):
        client.generate_text(MODEL, "hi", **_po(emulator, short_key("us-west-2", NOW, 3600)))


def test_without_a_region_the_call_goes_to_the_keys_region(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(403, json={"message": "stop here"}, headers={"x-amzn-ErrorType": "AccessDeniedException"})

    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", short_key("ap-northeast-1", NOW, 3600))
    client = reqbed.Client(transport=httpx.MockTransport(handler), clock=Clock(lambda: NOW.timestamp()))
    with client, pytest.raises(reqbed.AccessDeniedError):
        client.generate_text(MODEL, "hi", max_retries=0)
    assert [u.host for u in seen] == ["bedrock-runtime.ap-northeast-1.amazonaws.com"]


@pytest.mark.anyio
async def test_async_checks_too(emulator: Emulator) -> None:
    key = short_key("us-east-1", NOW, 60)
    async with reqbed.Client(clock=Clock(lambda: (NOW + timedelta(minutes=2)).timestamp())) as client:
        with pytest.raises(reqbed.CredentialsError):
            await client.agenerate_text(MODEL, "hi", **_po(emulator, key, region="us-east-1"))
    assert emulator.requests == []


def test_long_term_and_malformed_keys_are_sent_as_given(emulator: Emulator) -> None:
    odd = "bedrock-api-key-" + base64.b64encode(b"not a presigned url").decode()
    emulator.api_keys.add(odd)
    try:
        with reqbed.Client() as client:
            for key in (EXAMPLE_API_KEY, odd):
                assert client.generate_text(MODEL, "hi", **_po(emulator, key, region="us-east-1")).text
    finally:
        emulator.api_keys.discard(odd)
    assert [r["headers"]["authorization"] for r in emulator.requests] == [f"Bearer {EXAMPLE_API_KEY}", f"Bearer {odd}"]


def test_minted_key_query_names() -> None:
    raw = base64.b64decode(short_key()[16:]).decode()
    host, _, query = raw.partition("/?")
    assert host == "bedrock.amazonaws.com"
    assert [k for k, _ in parse_qsl(query)] == [
        "Action",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "Version",
    ]
    assert _api_keys.SHORT_TERM_PREFIX == "bedrock-api-key-"
