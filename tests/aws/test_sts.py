"""STS AssumeRole end to end: moto's STS server on loopback (``AWS_ENDPOINT_URL_STS``), the reqbed
emulator as Bedrock, one fake clock for all three.

The emulator is given a live view of the credentials moto actually issued (secret and session
token), so a Bedrock call passes only when it is signed with exactly what STS returned. The STS
request itself is checked against botocore's SigV4 signer; error answers use AWS's STS XML shape.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import anyio
import botocore.auth
import httpx
import pytest
from anyio import wait_all_tasks_blocked
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer

import reqbed
from reqbed._aws import sts as _sts
from reqbed._aws.clock import Clock, endpoint_of
from reqbed._aws.credential_chain import clear_cache
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator
from tests.support import FakeTime

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
ROLE = "arn:aws:iam::123456789012:role/BedrockInvoke"
SOURCE = {"access_key_id": EXAMPLE_ACCESS_KEY_ID, "secret_access_key": EXAMPLE_SECRET_ACCESS_KEY}



def issued() -> list[Any]:
    """Every AssumedRole moto's STS has handed out, in order."""
    from moto.sts.models import sts_backends

    out: list[Any] = []
    for account in list(sts_backends.keys()):
        for backend in list(sts_backends[account].values()):
            out.extend(backend.assumed_roles)
    return out


class StsIssued(Mapping[str, tuple[str, "str | None"]]):
    """The emulator's key table: what moto issued, read live."""

    def __getitem__(self, akid: str) -> tuple[str, str | None]:
        for role in issued():
            if role.access_key_id == akid:
                return role.secret_access_key, role.session_token
        raise KeyError(akid)

    def __iter__(self) -> Iterator[str]:
        return iter([r.access_key_id for r in issued()])

    def __len__(self) -> int:
        return len(issued())


class Recorder(httpx.BaseTransport):
    """Records what the network transport is handed (signed requests)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def sts(self) -> list[httpx.Request]:
        return [r for r in self.requests if b"Action=AssumeRole" in r.content]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """A fake clock that moto's STS follows too (it stamps Expiration from moto.core.utils.utcnow)."""
    import time

    import moto.sts.models

    clock = FakeTime(time.time())
    monkeypatch.setattr(
        moto.sts.models, "utcnow", lambda: datetime.fromtimestamp(clock(), timezone.utc).replace(tzinfo=None)
    )
    return clock


@pytest.fixture
def sts_env(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_url)
    clear_cache()
    yield moto_url
    clear_cache()


@pytest.fixture
def bedrock(fake: FakeTime) -> Iterator[Emulator]:
    with Emulator(clock=fake) as emu:
        emu.credentials = StsIssued()  # type: ignore[assignment]
        yield emu


def po(emu: Emulator, **extra: Any) -> dict[str, Any]:
    return {"endpoint_url": emu.endpoint_url, "region": "us-east-1", "use_converse": True, "role_arn": ROLE, **extra}


def akid_of(request: Mapping[str, Any]) -> str:
    return str(request["headers"]["authorization"]).split("Credential=")[1].split("/")[0]


# -- end to end ------------------------------------------------------------------------------------


def test_assume_role_then_call_bedrock(sts_env: str, fake: FakeTime, bedrock: Emulator) -> None:
    recorder = Recorder()
    before = len(issued())
    with reqbed.Client(clock=Clock(fake), transport=recorder) as client:
        options = po(bedrock, **SOURCE, role_session_name="reqbed-test", external_id="ext-4242", duration_seconds=900)
        assert client.generate_text(MODEL, "hi", provider_options=options).text
        assert client.generate_text(MODEL, "again", provider_options=options).text  # cached: no second STS call
    new = issued()[before:]
    assert len(new) == 1
    role = new[0]
    assert (role.role_arn, role.session_name, role.external_id) == (ROLE, "reqbed-test", "ext-4242")
    now = datetime.fromtimestamp(fake(), timezone.utc).replace(tzinfo=None)
    assert abs((role.expiration - now).total_seconds() - 900) < 2  # DurationSeconds reached STS
    assert [akid_of(r) for r in bedrock.requests] == [role.access_key_id] * 2
    assert bedrock.requests[0]["headers"]["x-amz-security-token"] == role.session_token
    (sts_request,) = recorder.sts()
    assert sts_request.method == "POST"
    assert sts_request.url == httpx.URL(sts_env + "/")
    assert f"Credential={EXAMPLE_ACCESS_KEY_ID}/" in sts_request.headers["authorization"]
    assert "/us-east-1/sts/aws4_request" in sts_request.headers["authorization"]
    form = dict(httpx.QueryParams(sts_request.content.decode()))
    assert form == {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": ROLE,
        "RoleSessionName": "reqbed-test",
        "DurationSeconds": "900",
        "ExternalId": "ext-4242",
    }
    assert sts_request.headers["authorization"] == botocore_authorization(sts_request, "us-east-1", "sts")


def botocore_authorization(request: httpx.Request, region: str, service: str) -> str:
    """botocore's SigV4Auth over the same method, URL, body and signed headers, at the same time."""
    auth = request.headers["authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    headers = {h: request.headers[h] for h in signed if h not in ("host", "x-amz-date", "x-amz-security-token")}
    aws = AWSRequest(method=request.method, url=str(request.url), data=request.content, headers=headers)
    at = datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
        SigV4Auth(Credentials(EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY), service, region).add_auth(aws)
    return str(aws.headers["Authorization"])


def test_default_session_name_and_source_from_env(
    sts_env: str, fake: FakeTime, bedrock: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "ABSKZXhhbXBsZQ==")  # cannot sign STS: skipped as a source
    recorder = Recorder()
    with reqbed.Client(clock=Clock(fake), transport=recorder) as client:
        client.generate_text(MODEL, "hi", provider_options=po(bedrock))
    assert issued()[-1].session_name == f"reqbed-{os.getpid()}"
    (sts_request,) = recorder.sts()
    assert "Credential=AKIDEXAMPLE/" in sts_request.headers["authorization"]
    assert akid_of(bedrock.requests[-1]) == issued()[-1].access_key_id


def test_source_from_the_default_chain(sts_env: str, fake: FakeTime, bedrock: Emulator, tmp_path: Any) -> None:
    (tmp_path / "aws-credentials").write_text(
        "[default]\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\n"
        "aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n"
    )
    recorder = Recorder()
    with reqbed.Client(clock=Clock(fake), transport=recorder) as client:
        client.generate_text(MODEL, "hi", provider_options=po(bedrock))
    (sts_request,) = recorder.sts()
    assert "Credential=AKIAI44QH8DHBEXAMPLE/" in sts_request.headers["authorization"]


@pytest.mark.anyio
async def test_async_assume_role(sts_env: str, fake: FakeTime, bedrock: Emulator) -> None:
    before = len(issued())
    async with reqbed.Client(clock=Clock(fake)) as client:
        r = await client.agenerate_text(MODEL, "hi", provider_options=po(bedrock, **SOURCE))
        assert r.text
        async with await client.astream_text(MODEL, "stream", provider_options=po(bedrock, **SOURCE)) as s:
            assert (await s.response()).text
    assert len(issued()) == before + 1
    assert {akid_of(r) for r in bedrock.requests} == {issued()[-1].access_key_id}


# -- refresh: exactly once under concurrency --------------------------------------------------------


@pytest.mark.anyio
async def test_expired_credentials_refresh_exactly_once_under_100_tasks(
    sts_env: str, fake: FakeTime, bedrock: Emulator
) -> None:
    options = po(bedrock, **SOURCE, duration_seconds=900)
    async with reqbed.Client(clock=Clock(fake)) as client:
        await client.agenerate_text(MODEL, "warm up", provider_options=options)
        old = issued()[-1].access_key_id
        before = len(issued())
        fake.advance(901)  # expired everywhere: reqbed, STS and Bedrock agree on the time

        async def call() -> None:
            await client.agenerate_text(MODEL, "hi", provider_options=options)

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(call)
    assert len(issued()) == before + 1
    new = issued()[-1].access_key_id
    assert new != old
    assert [akid_of(r) for r in bedrock.requests[1:]] == [new] * 100


def test_expired_credentials_refresh_exactly_once_under_100_threads(
    sts_env: str, fake: FakeTime, bedrock: Emulator
) -> None:
    options = po(bedrock, **SOURCE, duration_seconds=900)
    with reqbed.Client(clock=Clock(fake)) as client:
        client.generate_text(MODEL, "warm up", provider_options=options)
        before = len(issued())
        fake.advance(3600)
        start = threading.Barrier(100)

        def call(_: int) -> str:
            start.wait()
            return client.generate_text(MODEL, "hi", provider_options=options).text

        with ThreadPoolExecutor(100) as pool:
            answers = list(pool.map(call, range(100)))
    assert all(answers)
    assert len(issued()) == before + 1
    assert {akid_of(r) for r in bedrock.requests[1:]} == {issued()[-1].access_key_id}


def test_refresh_ahead_of_expiry_keeps_serving_the_old_keys(sts_env: str, fake: FakeTime, bedrock: Emulator) -> None:
    options = po(bedrock, **SOURCE, duration_seconds=900)
    with reqbed.Client(clock=Clock(fake)) as client:
        client.generate_text(MODEL, "warm up", provider_options=options)
        old = issued()[-1].access_key_id
        before = len(issued())
        fake.advance(900 - _sts.REFRESH_MARGIN + 30)  # inside the refresh margin, not expired
        start = threading.Barrier(50)

        def call(_: int) -> None:
            start.wait()
            client.generate_text(MODEL, "hi", provider_options=options)

        with ThreadPoolExecutor(50) as pool:
            list(pool.map(call, range(50)))
        client.generate_text(MODEL, "after", provider_options=options)
    assert len(issued()) == before + 1
    new = issued()[-1].access_key_id
    assert akid_of(bedrock.requests[-1]) == new
    assert {akid_of(r) for r in bedrock.requests[1:-1]} <= {old, new}


class GatedSts(httpx.AsyncBaseTransport):
    """An async transport whose STS answers wait for ``gate`` (the first one only) or are canned."""

    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.gate = anyio.Event()
        self.sts_calls = 0
        self.answer = answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if b"Action=AssumeRole" in request.content:
            self.sts_calls += 1
            if self.sts_calls == 1:
                await self.gate.wait()
            if self.answer is not None:
                return httpx.Response(self.answer.status_code, headers=self.answer.headers, content=self.answer.content)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.anyio
async def test_waiters_take_over_when_the_refreshing_task_is_cancelled(
    sts_env: str, fake: FakeTime, bedrock: Emulator
) -> None:
    transport = GatedSts()
    before = len(issued())
    results: list[str] = []
    async with reqbed.Client(clock=Clock(fake), async_transport=transport) as client:
        options = po(bedrock, **SOURCE)

        async def call() -> None:
            results.append((await client.agenerate_text(MODEL, "hi", provider_options=options)).text)

        leader_scope = anyio.CancelScope()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_in_scope, leader_scope, call)
            await wait_all_tasks_blocked()  # the leader is inside its STS call
            for _ in range(5):
                tg.start_soon(call)
            await wait_all_tasks_blocked()  # five waiters parked on the flight
            leader_scope.cancel()
    assert len(results) == 5
    assert transport.sts_calls == 2  # the cancelled one, and one by a waiter that took over
    assert len(issued()) == before + 1


async def _in_scope(scope: anyio.CancelScope, fn: Any) -> None:
    with scope:
        await fn()


@pytest.mark.anyio
async def test_waiters_share_the_leaders_error(sts_env: str, fake: FakeTime) -> None:
    denied = httpx.Response(403, content=STS_ERROR.format(code="AccessDenied", message=DENIED_MESSAGE).encode())
    transport = GatedSts(answer=denied)
    errors: list[BaseException] = []
    async with reqbed.Client(clock=Clock(fake), async_transport=transport) as client:
        options = {"endpoint_url": "http://127.0.0.1:9", "region": "us-east-1", "role_arn": ROLE, **SOURCE}

        async def call() -> None:
            try:
                await client.agenerate_text(MODEL, "hi", provider_options=options)
            except reqbed.ReqbedError as e:
                errors.append(e)

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(call)
            await wait_all_tasks_blocked()
            transport.gate.set()
    assert transport.sts_calls == 1
    assert len(errors) == 10
    assert all(isinstance(e, reqbed.AccessDeniedError) for e in errors)
    assert len({id(e) for e in errors}) == 10  # each task raises its own copy


# -- errors ----------------------------------------------------------------------------------------

STS_ERROR = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>{code}</Code><Message>{message}</Message></Error>"
    "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
)
DENIED_MESSAGE = (
    "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: sts:AssumeRole on resource: " + ROLE
)


def sts_answering(*answers: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return httpx.MockTransport(handler), seen


def call_with(transport: httpx.BaseTransport, clock: Clock | None = None, **extra: Any) -> None:
    options = {"endpoint_url": "http://127.0.0.1:9", "region": "us-east-1", "role_arn": ROLE, **SOURCE, **extra}
    with reqbed.Client(transport=transport, clock=clock) as client:
        client.generate_text(MODEL, "hi", provider_options=options, max_retries=0)


def test_access_denied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    clear_cache()
    transport, seen = sts_answering(
        httpx.Response(403, content=STS_ERROR.format(code="AccessDenied", message=DENIED_MESSAGE).encode())
    )
    with pytest.raises(reqbed.AccessDeniedError) as info:
        call_with(transport)
    assert len(seen) == 1
    err = info.value
    assert err.status == 403
    assert err.code == "AccessDenied"
    assert err.request_id == "c6104cbe-af31-11e0-8154-cbc7ccf896c7"
    assert DENIED_MESSAGE in str(err)
    assert EXAMPLE_SECRET_ACCESS_KEY not in str(err)


@pytest.mark.parametrize(
    ("status", "body", "needle"),
    [
        (
            403,
            STS_ERROR.format(code="ExpiredToken", message="The security token included in the request is expired"),
            "ExpiredToken",
        ),
        (400, STS_ERROR.format(code="ValidationError", message="1 validation error detected"), "validation error"),
        (500, "<html><body>proxy error</body></html>", "HTTP 500"),
        (200, "<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>", "without usable credentials"),
        (200, "not xml at all", "without usable credentials"),
    ],
)
def test_other_sts_failures_are_credentials_errors(
    status: int, body: str, needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    clear_cache()
    transport, seen = sts_answering(httpx.Response(status, content=body.encode()))
    with pytest.raises(reqbed.CredentialsError) as info:
        call_with(transport)
    assert needle in str(info.value)
    assert ROLE in str(info.value)
    assert EXAMPLE_SECRET_ACCESS_KEY not in str(info.value)
    assert len(seen) == 1


def test_sts_clock_skew_is_learned_and_retried_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:19")  # not Bedrock's endpoint: its own skew
    clear_cache()
    t0 = 1_767_225_600.0
    clock = Clock(lambda: t0)
    ahead = "Thu, 01 Jan 2026 01:00:00 GMT"  # STS's clock is an hour ahead
    expired = STS_ERROR.format(
        code="SignatureDoesNotMatch",
        message="Signature expired: 20260101T000000Z is now earlier than 20260101T005500Z (20260101T010000Z - 5 min.)",
    )
    ok = (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>'
        "<AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId><SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
        "</SecretAccessKey><SessionToken>AQoDYXdzEJrEXAMPLE</SessionToken><Expiration>2026-01-01T02:00:00Z</Expiration>"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>"
    )
    bedrock_denied = httpx.Response(403, json={"message": "no"}, headers={"x-amzn-ErrorType": "AccessDeniedException"})
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(403, content=expired.encode(), headers={"Date": ahead}),
        httpx.Response(200, content=ok.encode()),
        bedrock_denied,
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    with pytest.raises(reqbed.AccessDeniedError):  # Bedrock's answer: STS worked on the retry
        call_with(httpx.MockTransport(handler), clock=clock)
    assert [r.headers["x-amz-date"] for r in seen] == ["20260101T000000Z", "20260101T010000Z", "20260101T000000Z"]
    assert clock.skew(endpoint_of("http://127.0.0.1:19/")) == 3600
    assert clock.skew(endpoint_of("http://127.0.0.1:9/")) == 0.0
    assert "Credential=ASIAIOSFODNN7EXAMPLE/" in seen[2].headers["authorization"]


# -- validation and precedence ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"role_arn": "arn:aws:iam::123:role/x"}, "provider_options.role_arn"),
        ({"role_arn": "not-an-arn"}, "provider_options.role_arn"),
        ({"role_session_name": "has space"}, "provider_options.role_session_name"),
        ({"role_session_name": "x" * 65}, "provider_options.role_session_name"),
        ({"external_id": "x"}, "provider_options.external_id"),
        ({"api_key": "ABSKZXhhbXBsZQ=="}, "provider_options.role_arn"),
    ],
)
def test_role_options_are_validated_before_io(extra: dict[str, Any], field: str) -> None:
    transport, seen = sts_answering(httpx.Response(500))
    with pytest.raises(reqbed.ValidationError) as info:
        call_with(transport, **extra)
    assert info.value.field == field
    assert seen == []


def test_expired_source_credentials_are_refused_before_sts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EXAMPLE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "example-token")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2020-01-01T00:00:00Z")
    transport, seen = sts_answering(httpx.Response(500))
    options = {"endpoint_url": "http://127.0.0.1:9", "region": "us-east-1", "role_arn": ROLE}
    with reqbed.Client(transport=transport) as client, pytest.raises(reqbed.CredentialsError) as info:
        client.generate_text(MODEL, "hi", provider_options=options)
    assert "expired" in str(info.value)
    assert seen == []


def test_sts_endpoint_precedence() -> None:
    assert _sts.sts_endpoint("eu-west-1", {}) == "https://sts.eu-west-1.amazonaws.com/"
    assert _sts.sts_endpoint("cn-north-1", {}) == "https://sts.cn-north-1.amazonaws.com.cn/"
    assert _sts.sts_endpoint("eu-west-1", {"AWS_ENDPOINT_URL": "http://localhost:4566"}) == "http://localhost:4566/"
    both = {"AWS_ENDPOINT_URL": "http://localhost:4566", "AWS_ENDPOINT_URL_STS": "https://sts.example.test/"}
    assert _sts.sts_endpoint("eu-west-1", both) == "https://sts.example.test/"
    with pytest.raises(reqbed.ValidationError):
        _sts.sts_endpoint("eu-west-1", {"AWS_ENDPOINT_URL_STS": "http://sts.example.test"})


def test_cache_is_never_keyed_by_a_secret(sts_env: str, fake: FakeTime, bedrock: Emulator) -> None:
    with reqbed.Client(clock=Clock(fake)) as client:
        client.generate_text(MODEL, "hi", provider_options=po(bedrock, **SOURCE))
    keys = list(_sts._cache)
    assert keys
    for key in keys:
        assert EXAMPLE_SECRET_ACCESS_KEY not in key
        assert not any(r.secret_access_key in key or r.session_token in key for r in issued())
    cached = _sts._cache[keys[0]]
    assert EXAMPLE_SECRET_ACCESS_KEY not in repr(cached)
    assert cached.secret_access_key not in repr(cached)


def test_one_refresh_across_threads_and_event_loops(sts_env: str, fake: FakeTime, bedrock: Emulator) -> None:
    """Two asyncio loops, two trio runs and plain threads, all at once: still one STS call."""
    options = po(bedrock, **SOURCE, duration_seconds=900)
    with reqbed.Client(clock=Clock(fake)) as client:
        client.generate_text(MODEL, "warm up", provider_options=options)
        before = len(issued())
        fake.advance(1000)
        start = threading.Barrier(6)

        async def many() -> None:
            start.wait()  # every loop and thread starts together
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(lambda: client.agenerate_text(MODEL, "hi", provider_options=options))

        def loop(backend: str) -> None:
            anyio.run(many, backend=backend)

        def plain(_: str) -> None:
            start.wait()
            for _ in range(5):
                client.generate_text(MODEL, "hi", provider_options=options)

        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(loop, b) for b in ("asyncio", "asyncio", "trio", "trio")]
            futures += [pool.submit(plain, "") for _ in range(2)]
            for f in futures:
                f.result()
    assert len(issued()) == before + 1
    assert len(bedrock.requests) == 1 + 4 * 20 + 2 * 5
    assert {akid_of(r) for r in bedrock.requests[1:]} == {issued()[-1].access_key_id}
