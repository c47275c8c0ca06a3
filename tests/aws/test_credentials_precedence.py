"""Which credentials, region and endpoint a call uses, observed where it matters: on the wire.

The expected winner is computed from the documented order (docs/credentials.md, ``_credentials``):

    credentials: provider_options -> put_key -> environment -> botocore's chain;
                 within one source a Bedrock API key beats access keys
    region:      provider_options.region -> the ARN's region -> put_key -> AWS_REGION
                 -> AWS_DEFAULT_REGION -> us-east-1
    endpoint:    provider_options.endpoint_url -> AWS_ENDPOINT_URL_BEDROCK_RUNTIME
                 -> AWS_ENDPOINT_URL -> https://bedrock-runtime.<region>.amazonaws.com

and checked against what the emulator received: the ``Authorization`` header (bearer key, or the
SigV4 access key id and credential-scope region).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import reqbed
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
ARN_MODEL = (
    "bedrock:arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0"
)
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # AWS's documented example secret
SECRET_2 = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"  # AWS's second documented example secret

#: One identity per source, so the emulator's log shows which source won. All are AWS's documented
#: example key ids or obviously fake API keys.
IDENTITIES: dict[str, tuple[str, str]] = {
    "po_api": ("bearer", "ABSK-fake-key-from-provider-options"),
    "po_keys": ("sigv4", "AKIAIOSFODNN7EXAMPLE"),
    "put_api": ("bearer", "ABSK-fake-key-from-put-key"),
    "put_keys": ("sigv4", "AKIDEXAMPLE"),
    "env_api": ("bearer", "ABSK-fake-key-from-the-environment"),
    "env_keys": ("sigv4", "AKIAI44QH8DHBEXAMPLE"),
}
ORDER = list(IDENTITIES)  # the documented precedence, first wins
SECRETS = {"AKIAIOSFODNN7EXAMPLE": SECRET, "AKIDEXAMPLE": SECRET, "AKIAI44QH8DHBEXAMPLE": SECRET_2}


@pytest.fixture(scope="module")
def multi_emulator() -> Iterator[Emulator]:
    """An emulator that knows every identity above."""
    creds: dict[str, tuple[str, str | None]] = {akid: (secret, None) for akid, secret in SECRETS.items()}
    keys = {v for kind, v in IDENTITIES.values() if kind == "bearer"}
    with Emulator(credentials=creds, api_keys=keys) as emu:
        yield emu


def who_signed(emu: Emulator) -> tuple[str, str]:
    """(kind, identity) from the last request's Authorization header."""
    auth = emu.requests[-1]["headers"]["authorization"]
    if auth.startswith("Bearer "):
        return "bearer", auth[7:]
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/", auth)
    assert m, auth
    return "sigv4", m[1]


def scope_region(emu: Emulator) -> str:
    m = re.match(
        r"AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/([^/]+)/bedrock/", emu.requests[-1]["headers"]["authorization"]
    )
    assert m
    return m[1]


def install(sources: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, endpoint: str) -> dict[str, Any]:
    """Put each source's identity where that source lives; return the call's provider_options."""
    po: dict[str, Any] = {"endpoint_url": endpoint, "use_converse": True}
    for source in sources:
        value = IDENTITIES[source][1]
        if source == "po_api":
            po["api_key"] = value
        elif source == "po_keys":
            po.update(access_key_id=value, secret_access_key=SECRETS[value])
        elif source == "put_api":
            reqbed.put_key("aws_bedrock_api_key", value)
        elif source == "put_keys":
            reqbed.put_key("aws_bedrock", {"access_key_id": value, "secret_access_key": SECRETS[value]})
        elif source == "env_api":
            monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", value)
        else:
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", value)
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS[value])
    return po


ALL_SUBSETS = [s for n in range(1, len(ORDER) + 1) for s in itertools.combinations(ORDER, n)]


@pytest.mark.parametrize("sources", ALL_SUBSETS, ids=["+".join(s) for s in ALL_SUBSETS])
def test_the_first_source_in_the_documented_order_wins(
    multi_emulator: Emulator, client: reqbed.Client, monkeypatch: pytest.MonkeyPatch, sources: tuple[str, ...]
) -> None:
    po = install(sources, monkeypatch, multi_emulator.endpoint_url)
    r = client.generate_text(MODEL, "who am I", provider_options=po)
    assert r.text == "You said: who am I"
    winner = next(s for s in ORDER if s in sources)
    assert who_signed(multi_emulator) == IDENTITIES[winner]


@pytest.mark.anyio
@pytest.mark.parametrize("sources", [("put_keys", "env_api"), ("po_keys", "put_api", "env_keys"), ("env_api",)])
async def test_async_calls_follow_the_same_order(
    multi_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, sources: tuple[str, ...]
) -> None:
    po = install(sources, monkeypatch, multi_emulator.endpoint_url)
    async with reqbed.Client() as client:
        await client.agenerate_text(MODEL, "async who", provider_options=po)
    assert who_signed(multi_emulator) == IDENTITIES[sources[0]]


def test_put_key_dict_with_an_api_key_and_access_keys_uses_the_api_key(
    multi_emulator: Emulator, client: reqbed.Client
) -> None:
    key = IDENTITIES["put_api"][1]
    reqbed.put_key("aws_bedrock", {"api_key": key, "access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET})
    client.generate_text(MODEL, "hi", provider_options={"endpoint_url": multi_emulator.endpoint_url})
    assert who_signed(multi_emulator) == ("bearer", key)


@pytest.mark.parametrize("name", ["aws_bedrock", "aws_bedrock_api_key"])
def test_put_key_string_forms_are_bearer_keys(multi_emulator: Emulator, client: reqbed.Client, name: str) -> None:
    key = IDENTITIES["put_api"][1]
    reqbed.put_key(name, key)
    client.generate_text(MODEL, "hi", provider_options={"endpoint_url": multi_emulator.endpoint_url})
    assert who_signed(multi_emulator) == ("bearer", key)


def test_env_session_token_and_endpoint_variable(monkeypatch: pytest.MonkeyPatch, client: reqbed.Client) -> None:
    token = "example-env-session-token"
    with Emulator(credentials={"AKIDEXAMPLE": (SECRET, token)}) as emu:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emu.endpoint_url)
        r = client.generate_text(MODEL, "from the environment")
        assert r.text == "You said: from the environment"
        assert emu.requests[-1]["headers"]["x-amz-security-token"] == token
        with client.stream_text(MODEL, "stream from the environment") as s:
            assert s.response().text == "You said: stream from the environment"


def test_env_bearer_token_with_the_generic_endpoint_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as emu, reqbed.Client() as client:
        key = next(iter(emu.api_keys))
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", key)
        monkeypatch.setenv("AWS_ENDPOINT_URL", emu.endpoint_url)
        assert client.generate_text(MODEL, "generic").text == "You said: generic"
        assert emu.requests[-1]["headers"]["authorization"] == f"Bearer {key}"


def test_half_a_key_pair_in_provider_options_is_refused_before_io(multi_emulator: Emulator) -> None:
    before = len(multi_emulator.requests)
    with reqbed.Client() as client, pytest.raises(reqbed.CredentialsError, match="together"):
        client.generate_text(
            MODEL, "hi", provider_options={"endpoint_url": multi_emulator.endpoint_url, "access_key_id": "AKIDEXAMPLE"}
        )
    assert len(multi_emulator.requests) == before


# -- region ----------------------------------------------------------------------------------------------

REGIONS = {
    "po": "ap-south-1",
    "arn": "us-west-2",
    "put": "eu-west-1",
    "AWS_REGION": "eu-central-1",
    "AWS_DEFAULT_REGION": "ca-central-1",
}
REGION_SUBSETS = [s for n in range(len(REGIONS) + 1) for s in itertools.combinations(REGIONS, n)]


@pytest.mark.parametrize("sources", REGION_SUBSETS, ids=["+".join(s) or "none" for s in REGION_SUBSETS])
def test_region_precedence_in_the_credential_scope(
    multi_emulator: Emulator, client: reqbed.Client, monkeypatch: pytest.MonkeyPatch, sources: tuple[str, ...]
) -> None:
    po: dict[str, Any] = {
        "endpoint_url": multi_emulator.endpoint_url,
        "use_converse": True,
        "access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "secret_access_key": SECRET,
    }
    if "po" in sources:
        po["region"] = REGIONS["po"]
    if "put" in sources:
        reqbed.put_key("aws_bedrock", {"region": REGIONS["put"]})
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if var in sources:
            monkeypatch.setenv(var, REGIONS[var])
    model = ARN_MODEL if "arn" in sources else MODEL
    client.generate_text(model, "where", provider_options=po)
    expected = next((REGIONS[s] for s in REGIONS if s in sources), "us-east-1")
    assert scope_region(multi_emulator) == expected


def test_put_key_region_travels_with_put_key_credentials(multi_emulator: Emulator, client: reqbed.Client) -> None:
    reqbed.put_key("aws_bedrock", {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET, "region": "eu-north-1"})
    client.generate_text(MODEL, "hi", provider_options={"endpoint_url": multi_emulator.endpoint_url})
    assert who_signed(multi_emulator) == ("sigv4", "AKIDEXAMPLE")
    assert scope_region(multi_emulator) == "eu-north-1"


# -- endpoint (no network: a mock transport records the URL) -------------------------------------------

_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
}


def _recording_client(seen: list[httpx.Request]) -> reqbed.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_ANSWER)

    return reqbed.Client(transport=httpx.MockTransport(handler))


KEYS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET, "use_converse": True}


@pytest.mark.parametrize(
    ("po", "env", "expected"),
    [
        ({}, {}, "https://bedrock-runtime.us-east-1.amazonaws.com"),
        ({"region": "eu-west-3"}, {"AWS_REGION": "us-west-2"}, "https://bedrock-runtime.eu-west-3.amazonaws.com"),
        ({}, {"AWS_DEFAULT_REGION": "ap-northeast-1"}, "https://bedrock-runtime.ap-northeast-1.amazonaws.com"),
        ({}, {"AWS_ENDPOINT_URL": "https://generic.example.com"}, "https://generic.example.com"),
        (
            {},
            {
                "AWS_ENDPOINT_URL": "https://generic.example.com",
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "https://b.example",
            },
            "https://b.example",
        ),
        (
            {"endpoint_url": "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com/"},
            {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "https://b.example"},
            "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com",
        ),
    ],
)
def test_endpoint_precedence(
    monkeypatch: pytest.MonkeyPatch, po: dict[str, Any], env: dict[str, str], expected: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    seen: list[httpx.Request] = []
    with _recording_client(seen) as client:
        assert client.generate_text(MODEL, "hi", provider_options={**KEYS, **po}).text == "ok"
    assert str(seen[0].url) == f"{expected}/model/anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse"


@pytest.mark.parametrize(
    ("where", "url"),
    [
        ("provider_options", "http://bedrock.example.com"),
        ("provider_options", "http://10.0.0.7:8080"),
        ("env", "http://bedrock-proxy.internal:80"),
        ("env_generic", "http://192.168.1.20"),
    ],
)
def test_plain_http_to_a_non_loopback_host_fails_before_any_io(
    monkeypatch: pytest.MonkeyPatch, where: str, url: str
) -> None:
    def no_io(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"I/O happened: {request.url}")

    opts: dict[str, Any] = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET}
    if where == "provider_options":
        opts["endpoint_url"] = url
    elif where == "env":
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    with reqbed.Client(transport=httpx.MockTransport(no_io)) as client:
        with pytest.raises(reqbed.ValidationError, match="plain http") as info:
            client.generate_text(MODEL, "hi", provider_options=opts)
        with pytest.raises(reqbed.ValidationError, match="plain http"):
            client.stream_text(MODEL, "hi", provider_options=opts)
    assert info.value.field is not None
    assert "endpoint" in info.value.field.lower()
    if where != "provider_options":
        assert "AWS_ENDPOINT_URL" in info.value.field


def test_arn_region_picks_the_default_endpoint() -> None:
    seen: list[httpx.Request] = []
    with _recording_client(seen) as client:
        client.generate_text(ARN_MODEL, "hi", provider_options=KEYS)
    assert seen[0].url.host == "bedrock-runtime.us-west-2.amazonaws.com"
    assert seen[0].url.raw_path.decode().startswith("/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3A")


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"AWS_REGION": "evil.example.com/x"}, "region"),
        ({"AWS_DEFAULT_REGION": "us-east-1.attacker.example#"}, "region"),
        ({"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "https://host:99999"}, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"),
        ({"AWS_ENDPOINT_URL": "ftp://files.example.com"}, "AWS_ENDPOINT_URL"),
    ],
)
def test_bad_endpoints_and_regions_from_the_environment_fail_before_io(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], field: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    seen: list[httpx.Request] = []
    with _recording_client(seen) as client, pytest.raises(reqbed.ValidationError) as info:
        client.generate_text(MODEL, "hi", provider_options=KEYS)
    assert seen == []
    assert info.value.field is not None
    assert field in info.value.field


def test_the_signed_body_is_the_sent_body() -> None:
    seen: list[httpx.Request] = []
    with _recording_client(seen) as client:
        client.generate_text(MODEL, "exact bytes", provider_options=KEYS)
    assert json.loads(seen[0].content)["messages"][0]["content"] == [{"text": "exact bytes"}]
    assert seen[0].headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("po_api", "ABSK-fake-key-from-provider-options\n"),
        ("po_akid", "AKIAIOSFODNN7EXAMPLE\n"),
        ("env_api", "ABSK-fake-key-from-the-environment\r\n"),
        ("env_token", "example-session-token\n"),
        ("po_api", "ABSK-fake-kéy"),
    ],
)
def test_credentials_with_a_stray_newline_fail_before_io_without_echoing_them(
    multi_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, where: str, value: str
) -> None:
    po: dict[str, Any] = {"endpoint_url": multi_emulator.endpoint_url}
    if where == "po_api":
        po["api_key"] = value
    elif where == "po_akid":
        po.update(access_key_id=value, secret_access_key=SECRET)
    elif where == "env_api":
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", value)
    else:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        monkeypatch.setenv("AWS_SESSION_TOKEN", value)
    before = len(multi_emulator.requests)
    with reqbed.Client() as client, pytest.raises(reqbed.CredentialsError) as info:
        client.generate_text(MODEL, "hi", provider_options=po)
    assert len(multi_emulator.requests) == before
    assert value.strip() not in str(info.value)
    assert "newline" in str(info.value)
