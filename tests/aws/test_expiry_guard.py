"""The SigV4 expiry guard, with fake clocks against the emulator (which checks X-Amz-Date against
its own clock the way AWS does, and answers AWS's 403 "Signature expired" text).

1. every attempt is signed by the transport right before sending; stale headers never survive;
2. a request that waited (queued) past the signature window is signed afresh when it goes out;
3. a local clock that is off: one refused request, the skew is learned from the server's Date,
   one corrected retry, and later calls need no retry;
4. a persistent refusal raises SignatureExpiredError carrying ``.skew`` and advice.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

import reqbed
from reqbed._aws.clock import SIGNATURE_WINDOW, Clock, endpoint_of, parse_iso8601, server_time
from reqbed._fallback import Target
from reqbed._pipeline import prepare
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
START = 1_767_225_600.25  # 2026-01-01T00:00:00.25Z: fractional on purpose (Date headers are whole seconds)


class FakeTime:
    """A settable clock shared by the emulator and reqbed."""

    def __init__(self, t: float = START) -> None:
        self.t = t
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def opts(emu: Emulator, **extra: Any) -> dict[str, Any]:
    return {"provider_options": {**emu.provider_options(), "use_converse": True}, **extra}


def amz_dates(emu: Emulator) -> list[str]:
    return [r["headers"].get("x-amz-date", "") for r in emu.requests]


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


# -- 1 and 2: signed at send time, re-signed when handed over again ---------------------------------


@pytest.fixture
def emu_fake(fake: FakeTime) -> Iterator[Emulator]:
    with Emulator(clock=fake) as emu:
        yield emu


def _signed_request(client: reqbed.Client, emu: Emulator) -> tuple[httpx.Request, Any]:
    target = Target(prepare(MODEL, "queued", opts(emu)), "queued")
    auth = client._auth_sync(target)
    return client._request(target.prepared, auth), target.prepared


def test_request_is_signed_when_it_goes_out_not_when_it_was_built(fake: FakeTime, emu_fake: Emulator) -> None:
    with reqbed.Client(clock=Clock(fake)) as client:
        request, _p = _signed_request(client, emu_fake)
        assert "authorization" not in request.headers  # built unsigned
        fake.advance(10 * 60)  # it waits (a queue, a backoff) longer than AWS's 5-minute window
        response = client._sync_transport().handle_request(request)
        response.read()
        response.close()
    assert response.status_code == 200, response.content
    assert amz_dates(emu_fake) == [stamp(fake.t)]


def test_a_request_handed_over_again_is_resigned_and_stale_headers_are_dropped(
    fake: FakeTime, emu_fake: Emulator
) -> None:
    with reqbed.Client(clock=Clock(fake)) as client:
        request, _ = _signed_request(client, emu_fake)
        transport = client._sync_transport()
        first = transport.handle_request(request)
        first.read()
        first.close()
        signed_first = request.headers["authorization"]
        fake.advance(SIGNATURE_WINDOW + 60)  # the old signature is now too old for AWS
        request.headers["X-Amz-Security-Token"] = "stale-token-from-elsewhere"
        second = transport.handle_request(request)
        second.read()
        second.close()
    assert first.status_code == 200
    assert second.status_code == 200, second.content  # a stale signature would be refused with 403
    assert amz_dates(emu_fake) == [stamp(START), stamp(fake.t)]
    assert request.headers["authorization"] != signed_first
    assert len(request.headers.get_list("authorization")) == 1
    assert "x-amz-security-token" not in emu_fake.requests[-1]["headers"]  # example keys carry no token


def test_the_emulator_really_refuses_an_old_signature(fake: FakeTime, emu_fake: Emulator) -> None:
    # The premise of the two tests above: the same bytes, signed 6 minutes before arrival, fail.
    with reqbed.Client(clock=Clock(fake)) as client:
        request, _ = _signed_request(client, emu_fake)
        transport = client._sync_transport()
        transport.handle_request(request).close()
        fake.advance(SIGNATURE_WINDOW + 60)
        stale = httpx.Request(request.method, request.url, headers=request.headers, content=request.content)
        with httpx.HTTPTransport() as raw:
            answer = raw.handle_request(stale)
            answer.read()
    assert answer.status_code == 403
    assert json.loads(answer.content)["message"].startswith("Signature expired: ")


# -- 3: clock skew learned and applied -------------------------------------------------------------


@pytest.mark.parametrize("offset", [600.0, -600.0, 3 * 3600.0])
def test_skewed_local_clock_succeeds_after_one_retry_and_later_calls_need_none(fake: FakeTime, offset: float) -> None:
    server = FakeTime(fake.t + offset)
    clock = Clock(fake)
    with Emulator(clock=server) as emu, reqbed.Client(clock=clock) as client:
        r = client.generate_text(MODEL, "late", **opts(emu))
        assert r.text
        assert len(emu.requests) == 2  # refused once, then accepted
        endpoint = endpoint_of(emu.endpoint_url)
        assert clock.skew(endpoint) == pytest.approx(offset, abs=1.0)
        for _ in range(3):
            fake.advance(30)
            server.advance(30)
            client.generate_text(MODEL, "again", **opts(emu))
        assert len(emu.requests) == 5  # no more retries
    assert amz_dates(emu)[-1] == stamp(server.t)  # signed with the server's time, not ours


def test_skew_is_learned_per_endpoint(fake: FakeTime) -> None:
    clock = Clock(fake)
    with (
        Emulator(clock=FakeTime(fake.t + 900)) as ahead,
        Emulator(clock=fake) as exact,
        reqbed.Client(clock=clock) as client,
    ):
        client.generate_text(MODEL, "a", **opts(ahead))
        client.generate_text(MODEL, "b", **opts(exact))
        assert clock.skew(endpoint_of(ahead.endpoint_url)) == pytest.approx(900, abs=1)
        assert clock.skew(endpoint_of(exact.endpoint_url)) == 0.0
        assert (len(ahead.requests), len(exact.requests)) == (2, 1)


@pytest.mark.anyio
async def test_async_skew_retry_and_stream(fake: FakeTime) -> None:
    server = FakeTime(fake.t - 420)
    clock = Clock(fake)
    with Emulator(clock=server) as emu:
        async with reqbed.Client(clock=clock) as client:
            r = await client.agenerate_text(MODEL, "late", **opts(emu))
            assert r.text
            assert len(emu.requests) == 2
            async with await client.astream_text(MODEL, "stream", **opts(emu)) as s:
                text = "".join([t async for t in s.text_stream()])
            assert text
            assert len(emu.requests) == 3


def test_stream_skew_retry_sync(fake: FakeTime) -> None:
    with Emulator(clock=FakeTime(fake.t + 700)) as emu, reqbed.Client(clock=Clock(fake)) as client:
        with client.stream_text(MODEL, "stream", **opts(emu)) as s:
            assert s.response().text
        assert len(emu.requests) == 2


def test_a_wrong_learned_skew_corrects_itself(fake: FakeTime) -> None:
    server = FakeTime(fake.t)
    clock = Clock(fake)
    with Emulator(clock=server) as emu, reqbed.Client(clock=clock) as client:
        clock.learn(endpoint_of(emu.endpoint_url), fake.t + 1200, fake.t)  # e.g. the machine's clock got fixed
        client.generate_text(MODEL, "x", **opts(emu))
        assert len(emu.requests) == 2
        assert abs(clock.skew(endpoint_of(emu.endpoint_url))) < 1.0


def test_other_403s_are_not_retried(fake: FakeTime) -> None:
    with Emulator(clock=fake) as emu, reqbed.Client(clock=Clock(fake)) as client:
        emu.inject("access_denied")
        with pytest.raises(reqbed.AccessDeniedError):
            client.generate_text(MODEL, "x", **opts(emu), max_retries=0)
        assert len(emu.requests) == 1


# -- 4: what still fails ----------------------------------------------------------------------------


def test_persistent_refusal_raises_signature_expired_with_skew_and_advice(fake: FakeTime) -> None:
    jumps = itertools.count(1)

    def runaway() -> float:  # the server's clock runs an hour ahead on every reading
        return fake.t + 3600 * next(jumps)

    clock = Clock(fake)
    with Emulator(clock=runaway) as emu, reqbed.Client(clock=clock) as client:
        with pytest.raises(reqbed.SignatureExpiredError) as info:
            client.generate_text(MODEL, "x", **opts(emu), max_retries=0)
        assert len(emu.requests) == 2  # one corrected retry, no more
    err = info.value
    assert err.status == 403
    assert err.code == "InvalidSignatureException"
    assert err.skew is not None
    assert err.skew > 3600
    assert "Sync the clock" in str(err)
    assert "retried once" in str(err)
    assert isinstance(err, reqbed.AuthenticationError)


@pytest.mark.anyio
async def test_async_persistent_refusal(fake: FakeTime) -> None:
    jumps = itertools.count(1)
    with Emulator(clock=lambda: fake.t - 3600 * next(jumps)) as emu:
        async with reqbed.Client(clock=Clock(fake)) as client:
            with pytest.raises(reqbed.SignatureExpiredError) as info:
                await client.agenerate_text(MODEL, "x", **opts(emu), max_retries=0)
    assert info.value.skew is not None
    assert info.value.skew < -3600
    assert "ahead of AWS" in str(info.value)


def test_refusal_without_server_time_has_no_skew() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        body = {"message": "Signature expired: 20260101T000000Z is now earlier than something."}
        return httpx.Response(403, json=body, headers={"x-amzn-ErrorType": "InvalidSignatureException"})

    po = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
    client = reqbed.Client(transport=httpx.MockTransport(handler))
    with client, pytest.raises(reqbed.SignatureExpiredError) as info:
        client.generate_text(MODEL, "x", provider_options={**po, "region": "us-east-1"}, max_retries=0)
    assert calls == 2
    assert info.value.skew is None
    assert "NTP" in str(info.value)


def test_expired_temporary_credentials_are_refused_before_sending(
    fake: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    akid, secret, token = "ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "example-session-token"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", akid)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    expiry = datetime.fromtimestamp(START + 60, timezone.utc)
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", expiry.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with Emulator(clock=fake, credentials={akid: (secret, token)}) as emu, reqbed.Client(clock=Clock(fake)) as client:
        po = {"endpoint_url": emu.endpoint_url, "region": "us-east-1", "use_converse": True}
        assert client.generate_text(MODEL, "x", provider_options=po).text  # 60 s left: fine
        fake.advance(61)
        with pytest.raises(reqbed.CredentialsError) as info:
            client.generate_text(MODEL, "x", provider_options=po, max_retries=0)
        assert len(emu.requests) == 1  # refused before anything was sent
    assert "expired" in str(info.value)
    assert "env" in str(info.value)
    assert "example-session-token" not in str(info.value)


# -- the pieces, against AWS's own answer -----------------------------------------------------------


@pytest.mark.recordings
def test_server_time_from_a_real_signature_expired_answer(recordings_dir: Path) -> None:
    rec = json.loads(
        (recordings_dir / "amazon_bedrock" / "anthropic_claude_opus_4_1_20250805_v1_0" / "usage.json").read_text()
    )
    response = rec["response"]
    assert response["status"] == 403
    headers = {k: v[0] for k, v in response["headers"].items()}
    message = response["body"]["message"]
    from_date = server_time(headers)
    from_message = server_time({}, message)
    assert from_date is not None
    assert from_message is not None
    assert from_date == from_message  # AWS quotes its own clock in the message; both agree
    err = reqbed._errors.map_api_error(403, headers, json.dumps(response["body"]).encode())
    assert isinstance(err, reqbed.SignatureExpiredError)


def test_server_time_parsing() -> None:
    assert server_time({"date": "Thu, 01 Jan 2026 00:00:00 GMT"}) == 1_767_225_600
    assert server_time({"Date": "garbage"}, "no time here") is None
    msg = "Signature not yet current: 20260101T001000Z is still later than 20260101T000500Z (20260101T000000Z + 5 min.)"
    assert server_time({}, msg) == 1_767_225_600


def test_parse_iso8601() -> None:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_iso8601("2026-01-01T00:00:00Z") == base
    assert parse_iso8601("2026-01-01T00:00:00.214876Z") == base + timedelta(microseconds=214876)
    assert parse_iso8601("2026-01-01T01:00:00+01:00") == base
    assert parse_iso8601("2026-01-01T00:00:00") == base
    assert parse_iso8601("yesterday") is None
    assert parse_iso8601("2026-13-01T00:00:00Z") is None
