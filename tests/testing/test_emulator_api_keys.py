"""Short-term ``bedrock-api-key-...`` keys at the emulator: accepted in their real format (a
SigV4-presigned URL made by known credentials, ``reqbed._aws.api_keys``), refused as AWS refuses
them when expired, made for another region, tampered with or signed by an unknown key."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import httpx
import pytest

import reqbed
from reqbed._aws.api_keys import make_short_term_key
from reqbed._aws.credentials_types import AwsCredentials
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator

MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
EXAMPLE = AwsCredentials(EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY)


def key(
    *, region: str = "us-east-1", age: timedelta = timedelta(0), expires_in: int = 3600, creds: AwsCredentials = EXAMPLE
) -> str:
    return make_short_term_key(creds, region, expires_in, datetime.now(timezone.utc) - age)


def call(emu: Emulator, api_key: str) -> httpx.Response:
    with httpx.Client() as c:
        return c.post(
            f"{emu.endpoint_url}/model/{MODEL_ID.replace(':', '%3A')}/converse",
            json={"messages": [{"role": "user", "content": [{"text": "Hi"}]}]},
            headers={"Authorization": f"Bearer {api_key}"},
        )


def error_of(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.headers["x-amzn-errortype"].split(":")[0]


def test_reqbed_calls_with_a_short_term_key(emulator: Emulator) -> None:
    options = {"endpoint_url": emulator.endpoint_url, "region": "us-east-1", "api_key": key()}
    assert reqbed.generate_text(f"bedrock:{MODEL_ID}", "Hi", provider_options=options).text == "You said: Hi"
    assert emulator.requests[-1]["headers"]["authorization"].startswith("Bearer bedrock-api-key-")


def test_a_fresh_key_is_accepted(emulator: Emulator) -> None:
    assert call(emulator, key()).status_code == 200


def test_an_expired_key_is_refused(emulator: Emulator) -> None:
    r = call(emulator, key(age=timedelta(hours=2), expires_in=3600))
    assert error_of(r) == (403, "ExpiredTokenException")
    assert r.json()["message"] == "The security token included in the request is expired"


def test_reqbed_refuses_the_expired_key_before_sending(emulator: Emulator) -> None:
    options = {"endpoint_url": emulator.endpoint_url, "region": "us-east-1", "api_key": key(age=timedelta(hours=2))}
    with pytest.raises(reqbed.CredentialsError, match="expired"):
        reqbed.generate_text(f"bedrock:{MODEL_ID}", "Hi", provider_options=options)
    assert emulator.requests == []


def test_a_key_for_another_region_is_refused(emulator: Emulator) -> None:
    r = call(emulator, key(region="eu-west-1"))
    assert error_of(r) == (403, "InvalidSignatureException")
    assert "eu-west-1" in r.json()["message"]


def test_an_emulator_serving_that_region_accepts_it() -> None:
    with Emulator(region="eu-west-1") as emu:
        assert call(emu, key(region="eu-west-1")).status_code == 200
        assert emu.provider_options()["region"] == "eu-west-1"
        assert error_of(call(emu, key(region="us-east-1")))[0] == 403


def test_a_tampered_key_is_refused(emulator: Emulator) -> None:
    url = base64.b64decode(key().removeprefix("bedrock-api-key-")).decode()
    signature = url.split("X-Amz-Signature=")[1][:64]
    forged = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    r = call(emulator, "bedrock-api-key-" + base64.b64encode(forged.encode()).decode())
    assert error_of(r) == (403, "InvalidSignatureException")


def test_a_key_signed_by_an_unknown_access_key_is_refused(emulator: Emulator) -> None:
    stranger = AwsCredentials("AKIAI44QH8DHBEXAMPLE", EXAMPLE_SECRET_ACCESS_KEY)
    assert error_of(call(emulator, key(creds=stranger))) == (403, "UnrecognizedClientException")


def test_a_key_with_a_session_token_is_checked_against_it() -> None:
    with Emulator(credentials={"ASIAIOSFODNN7EXAMPLE": ("temp-secret", "the-token")}) as emu:
        good = AwsCredentials("ASIAIOSFODNN7EXAMPLE", "temp-secret", "the-token")
        bad = AwsCredentials("ASIAIOSFODNN7EXAMPLE", "temp-secret", "another-token")
        assert call(emu, key(creds=good)).status_code == 200
        assert error_of(call(emu, key(creds=bad))) == (403, "InvalidSignatureException")


def test_an_opaque_bearer_value_keeps_the_format_error(emulator: Emulator) -> None:
    r = call(emulator, "not-a-key")
    assert error_of(r) == (403, "UnrecognizedClientException")
    assert r.json()["message"] == "Invalid API Key format: Must start with pre-defined prefix"
