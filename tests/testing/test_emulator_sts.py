"""STS AssumeRole served by the emulator: ``role_arn`` examples run against it alone.

botocore's own STS client is the independent oracle for the wire format (it parses the XML answer
and the error shape from its service model); reqbed runs the whole chain (STS, then Bedrock signed
with what STS issued) against the same emulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import reqbed
from reqbed._aws.credential_chain import clear_cache
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator
from tests.support import FakeTime

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockInvoke"
SOURCE = {"access_key_id": EXAMPLE_ACCESS_KEY_ID, "secret_access_key": EXAMPLE_SECRET_ACCESS_KEY}



@pytest.fixture(autouse=True)
def fresh_sts_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def sts_at(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", emulator.endpoint_url)
    return emulator


def sts_client(emu: Emulator, akid: str = EXAMPLE_ACCESS_KEY_ID) -> Any:
    return boto3.client(
        "sts",
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=akid,
        aws_secret_access_key=EXAMPLE_SECRET_ACCESS_KEY,
        config=Config(retries={"total_max_attempts": 1}),
    )


def akid_of(request: dict[str, Any]) -> str:
    return str(request["headers"]["authorization"]).split("Credential=")[1].split("/")[0]


def test_role_arn_runs_against_the_emulator_alone(sts_at: Emulator) -> None:
    options = {**sts_at.provider_options(), **SOURCE, "role_arn": ROLE, "role_session_name": "docs-example"}
    assert reqbed.generate_text(MODEL, "Hi", provider_options=options).text == "You said: Hi"
    assert reqbed.generate_text(MODEL, "again", provider_options=options).text == "You said: again"
    sts, first, second = sts_at.requests
    assert (sts["path"], dict(httpx.QueryParams(sts["body"].decode()))["Action"]) == ("/", "AssumeRole")
    assert akid_of(sts) == EXAMPLE_ACCESS_KEY_ID
    assert akid_of(first) == akid_of(second) != EXAMPLE_ACCESS_KEY_ID  # signed with what STS issued
    assert akid_of(first).startswith("ASIA")
    assert first["headers"]["x-amz-security-token"]


@pytest.mark.anyio
async def test_role_arn_async(sts_at: Emulator) -> None:
    options = {**sts_at.provider_options(), **SOURCE, "role_arn": ROLE}
    r = await reqbed.agenerate_text(MODEL, "Hi async", provider_options=options)
    assert r.text == "You said: Hi async"


def test_botocore_reads_the_answer(emulator: Emulator) -> None:
    answer = sts_client(emulator).assume_role(RoleArn=ROLE, RoleSessionName="botocore", DurationSeconds=1200)
    creds, user = answer["Credentials"], answer["AssumedRoleUser"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert len(creds["SecretAccessKey"]) == 40
    assert creds["SessionToken"]
    assert abs(creds["Expiration"].timestamp() - (time.time() + 1200)) < 5
    assert user["Arn"] == "arn:aws:sts::123456789012:assumed-role/BedrockInvoke/botocore"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["ResponseMetadata"]["RequestId"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"RoleArn": "arn:aws:iam::123456789012:user/not-a-role", "RoleSessionName": "s1"}, "ValidationError"),
        ({"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": 50000}, "ValidationError"),
    ],
)
def test_botocore_reads_the_errors(emulator: Emulator, kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as e:
        sts_client(emulator).assume_role(**kwargs)
    assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, 400)
    assert e.value.response["Error"]["Message"]


def test_an_unknown_source_key_is_invalid_client_token_id(emulator: Emulator) -> None:
    with pytest.raises(ClientError) as e:
        sts_client(emulator, akid="AKIAI44QH8DHBEXAMPLE").assume_role(RoleArn=ROLE, RoleSessionName="s1")
    assert (e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidClientTokenId",
        403,
    )


def test_reqbed_reports_an_sts_refusal(sts_at: Emulator) -> None:
    too_long = "arn:aws:iam::123456789012:role/" + "r" * 65  # IAM role names stop at 64 characters
    options = {**sts_at.provider_options(), **SOURCE, "role_arn": too_long}
    with pytest.raises(reqbed.CredentialsError, match="is invalid"):
        reqbed.generate_text(MODEL, "Hi", provider_options=options)


def test_issued_credentials_expire() -> None:
    fake = FakeTime(time.time())
    with Emulator(clock=fake) as emu:
        creds = sts_client(emu).assume_role(RoleArn=ROLE, RoleSessionName="short", DurationSeconds=900)["Credentials"]
        bedrock = boto3.client(
            "bedrock-runtime",
            endpoint_url=emu.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            config=Config(retries={"total_max_attempts": 1}),
        )
        hello = [{"role": "user", "content": [{"text": "Hi"}]}]
        model = MODEL.removeprefix("bedrock:")
        assert bedrock.converse(modelId=model, messages=hello)["output"]["message"]["content"][0]["text"]
        fake.advance(901)
        with pytest.raises(ClientError) as e:
            bedrock.converse(modelId=model, messages=hello)
    assert e.value.response["Error"]["Code"] == "ExpiredTokenException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_skewed_clock_at_sts_is_learned_and_the_call_goes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's STS answers AWS's 'Signature expired' (SignatureDoesNotMatch); reqbed learns the
    skew and signs again, for STS and then Bedrock at the same endpoint."""
    with Emulator(clock=lambda: time.time() + 3600) as emu:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", emu.endpoint_url)
        options = {**emu.provider_options(), **SOURCE, "role_arn": ROLE}
        with reqbed.Client() as client:
            assert client.generate_text(MODEL, "Hi", provider_options=options).text == "You said: Hi"
        first, *_ = emu.requests
    assert first["path"] == "/"
    assert len([r for r in emu.requests if r["path"] == "/"]) == 2  # refused once, then signed with the skew


def test_sts_signature_errors_use_sts_codes(emulator: Emulator) -> None:
    bad = boto3.client(
        "sts",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=EXAMPLE_ACCESS_KEY_ID,
        aws_secret_access_key="wrong" + EXAMPLE_SECRET_ACCESS_KEY[5:],
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as e:
        bad.assume_role(RoleArn=ROLE, RoleSessionName="s1")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
