"""Retries: the pure policy (injected random and clock), the send loop, and every fault end to end.

The fault matrix (tests/support/fault_matrix.py) runs each emulator fault through sync, asyncio and trio,
streaming and not, and checks the outcome and how many attempts reached the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import reqbed
from reqbed import _flow
from reqbed._aws.clock import Clock
from reqbed._errors import map_api_error
from reqbed._fallback import Target
from reqbed._retry import Deadline, RetryPolicy
from reqbed.testing import Emulator
from tests.support import BACKENDS
from tests.support.fault_matrix import ANSWER, CASES, MODEL, PROMPT, Case, run_case
from tests.support.flow import FakePrepared, run_async, run_sync


def api_error(status: int, code: str, **headers: str) -> reqbed.APIError:
    return map_api_error(status, {"x-amzn-errortype": code, **headers}, b'{"message": "m"}')


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the pure policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        api_error(429, "ThrottlingException"),
        api_error(429, "TooManyRequestsException"),
        api_error(429, "ModelNotReadyException"),
        api_error(503, "ServiceUnavailableException"),
        api_error(500, "InternalServerException"),
        map_api_error(502, {}, b""),
        map_api_error(None, {"x-amzn-errortype": "throttlingException"}, b"{}"),  # a stream's exception frame
        map_api_error(None, {"x-amzn-errortype": "serviceUnavailableException"}, b"{}"),
        reqbed.APIConnectionError("could not talk to host"),
    ],
    ids=repr,
)
def test_transient_errors_are_retryable(error: reqbed.ReqbedError) -> None:
    assert RetryPolicy().retryable(error)


@pytest.mark.parametrize(
    "error",
    [
        reqbed.ValidationError("bad", field="x"),
        reqbed.CredentialsError("none"),
        api_error(400, "ValidationException"),
        api_error(403, "AccessDeniedException"),
        api_error(403, "UnrecognizedClientException"),
        api_error(403, "InvalidSignatureException"),
        api_error(404, "ResourceNotFoundException"),
        api_error(408, "ModelTimeoutException"),
        api_error(429, "ServiceQuotaExceededException"),  # a quota: seconds of waiting do not lift it
        map_api_error(None, {"x-amzn-errortype": "modelStreamErrorException"}, b"{}"),
        reqbed.EventStreamError("bad crc"),
        reqbed.RequestTimeoutError("ReadTimeout"),
        ValueError("not ours"),
    ],
    ids=repr,
)
def test_other_errors_are_not_retryable(error: BaseException) -> None:
    assert not RetryPolicy().retryable(error)


def test_backoff_is_full_jitter_exponential_with_a_cap() -> None:
    top = RetryPolicy(random=lambda: 0.999999)
    ceilings = [top.backoff(n) for n in range(1, 10)]
    assert ceilings == pytest.approx([0.5, 1, 2, 4, 8, 16, 20, 20, 20], rel=1e-5)
    assert RetryPolicy(random=lambda: 0.0).backoff(5) == 0.0
    assert RetryPolicy(random=lambda: 0.5).backoff(3) == pytest.approx(1.0)
    assert RetryPolicy(random=lambda: 0.5).backoff(10_000) == pytest.approx(10.0)  # no overflow


def test_backoff_uses_the_injected_random_each_time() -> None:
    draws = iter([0.1, 0.9])
    policy = RetryPolicy(random=lambda: next(draws))
    assert policy.backoff(1) == pytest.approx(0.05)
    assert policy.backoff(1) == pytest.approx(0.45)


def test_retry_after_replaces_the_jittered_delay() -> None:
    policy = RetryPolicy(random=lambda: 0.5)
    assert policy.delay(api_error(429, "ThrottlingException", **{"Retry-After": "3"}), 1) == 3.0
    assert policy.delay(api_error(429, "ThrottlingException"), 1) == pytest.approx(0.25)
    # longer than max_retry_after (60 s): no retry at all
    assert policy.delay(api_error(429, "ThrottlingException", **{"Retry-After": "120"}), 1) is None


def test_next_delay_counts_retries_and_respects_max_retries() -> None:
    policy = RetryPolicy(random=lambda: 1.0)
    err = api_error(503, "ServiceUnavailableException")
    assert policy.next_delay(err, 0, None, None) == 0.5
    assert policy.next_delay(err, 1, None, None) == 1.0
    assert policy.next_delay(err, 2, None, None) is None  # default max_retries=2
    assert policy.next_delay(err, 2, 5, None) == 2.0  # the call's max_retries wins
    assert policy.next_delay(err, 0, 0, None) is None
    assert policy.next_delay(api_error(400, "ValidationException"), 0, 5, None) is None


def test_no_retry_sleeps_past_the_deadline() -> None:
    policy = RetryPolicy(random=lambda: 1.0)
    err = api_error(429, "ThrottlingException")
    assert policy.next_delay(err, 1, None, remaining=1.5) == 1.0
    assert policy.next_delay(err, 1, None, remaining=1.0) is None
    after = api_error(429, "ThrottlingException", **{"Retry-After": "5"})
    assert policy.next_delay(after, 0, None, remaining=4.0) is None


def test_deadline_runs_on_the_injected_clock() -> None:
    clock = FakeClock()
    d = RetryPolicy(clock=clock).deadline(5.0)
    assert d.remaining() == 5.0
    assert not d.expired()
    d.check()
    assert d.cap({"connect": 10.0, "read": 2.0, "write": None, "pool": 30.0}) == {
        "connect": 5.0,
        "read": 2.0,
        "write": 5.0,
        "pool": 5.0,
    }
    clock.now += 5.0
    assert d.expired()
    assert d.remaining() == 0.0
    with pytest.raises(reqbed.RequestTimeoutError, match=r"deadline passed \(timeout=5 s\)"):
        d.check()
    assert not Deadline(None).expired()
    assert Deadline(None).remaining() is None


def test_policy_refuses_negative_values() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base=-1)


# -- the attempt flow, without I/O ---------------------------------------------------------------------


def targets(n: int = 1) -> list[Target]:
    return [Target(FakePrepared(), f"target{i}", i) for i in range(n)]  # type: ignore[arg-type]


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the loop's sleeps instead of sleeping."""
    delays: list[float] = []

    async def asleep(s: float) -> None:
        delays.append(s)

    monkeypatch.setattr(_flow, "sleep_sync", delays.append)
    monkeypatch.setattr(_flow, "sleep_async", asleep)
    return delays


def test_loop_retries_then_succeeds(slept: list[float]) -> None:
    errors = [api_error(429, "ThrottlingException"), reqbed.APIConnectionError("reset")]
    calls: list[str] = []

    def once(t: Target, d: Deadline) -> str:
        calls.append(t.served_by)
        if errors:
            raise errors.pop(0)
        return "ok"

    assert run_sync(targets(), once, RetryPolicy(random=lambda: 1.0)) == "ok"
    assert calls == ["target0"] * 3
    assert slept == [0.5, 1.0]


def test_loop_raises_the_last_error_when_retries_run_out(slept: list[float]) -> None:
    def once(t: Target, d: Deadline) -> str:
        raise api_error(500, "InternalServerException")

    with pytest.raises(reqbed.ServerError):
        run_sync(targets(), once, RetryPolicy(random=lambda: 0.0))
    assert len(slept) == 2


@pytest.mark.anyio
async def test_async_loop_retries_with_anyio_sleep(slept: list[float]) -> None:
    errors = [api_error(503, "ServiceUnavailableException")]

    async def once(t: Target, d: Deadline) -> str:
        if errors:
            raise errors.pop()
        return "ok"

    assert await run_async(targets(), once, RetryPolicy(random=lambda: 1.0)) == "ok"
    assert slept == [0.5]


@pytest.mark.anyio
async def test_async_loop_does_not_retry_a_validation_error(slept: list[float]) -> None:
    calls = []

    async def once(t: Target, d: Deadline) -> str:
        calls.append(1)
        raise api_error(400, "ValidationException")

    with pytest.raises(reqbed.BadRequestError):
        await run_async(targets(2), once, RetryPolicy())
    assert calls == [1]
    assert slept == []


# -- end to end: every fault, sync and async, stream and not -------------------------------------------

MODES = ["sync", *BACKENDS]


def _cells() -> Iterator[Any]:
    for case in CASES:
        for stream in (False, True):
            if case.stream_only and not stream:
                continue
            for mode in MODES:
                yield pytest.param(case, mode, stream, id=f"{case.name}-{mode}-{'stream' if stream else 'whole'}")


@pytest.mark.parametrize(("case", "mode", "stream"), list(_cells()))
def test_fault_matrix(emulator: Emulator, case: Case, mode: str, stream: bool) -> None:
    outcome = run_case(case, emulator, mode, stream)
    if case.error is None:
        assert outcome.error is None, outcome.error
        assert outcome.text == ANSWER
    else:
        assert type(outcome.error) is case.error, outcome.error
        assert (outcome.chunks_before_error > 0) == (case.partial and stream)
        if case.partial:
            assert ANSWER.startswith(outcome.text)  # what arrived is a true prefix, never repeated
    assert outcome.attempts == case.attempts


# -- end to end: details --------------------------------------------------------------------------------


def fast_client(**kw: Any) -> reqbed.Client:
    return reqbed.Client(retry_policy=RetryPolicy(random=lambda: 0.0), **kw)


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


def test_every_attempt_is_signed_afresh(emulator: Emulator) -> None:
    """A fake clock moves 10 s per reading: each attempt must carry its own date and signature."""
    readings = iter(range(1000))
    start = time.time()

    def fake_time() -> float:
        return start + 10 * next(readings)

    emulator.inject("throttling", 2, match="resign me")
    with fast_client(clock=Clock(fake_time)) as client:
        assert client.generate_text(MODEL, "resign me", provider_options=po(emulator)).text == "You said: resign me"
    seen = [r["headers"] for r in emulator.requests if b"resign me" in r["body"]]
    assert len(seen) == 3
    assert len({h["x-amz-date"] for h in seen}) == 3
    assert len({h["authorization"] for h in seen}) == 3


def test_max_retries_option_limits_attempts(emulator: Emulator) -> None:
    emulator.inject("unavailable", 5, match="limited")
    with fast_client() as client, pytest.raises(reqbed.ServiceUnavailableError):
        client.generate_text(MODEL, "limited", provider_options=po(emulator), max_retries=4)
    assert sum(b"limited" in r["body"] for r in emulator.requests) == 5


def test_max_retries_zero_turns_retries_off(emulator: Emulator) -> None:
    emulator.inject("throttling", 1, match="no retries")
    with fast_client() as client, pytest.raises(reqbed.ThrottlingError):
        client.generate_text(MODEL, "no retries", provider_options=po(emulator), max_retries=0)
    assert sum(b"no retries" in r["body"] for r in emulator.requests) == 1


def test_retry_after_from_aws_is_honoured(emulator: Emulator, slept: list[float]) -> None:
    emulator.inject("throttling", 1, match="wait politely", retry_after=0.25)
    with fast_client() as client:
        assert client.generate_text(MODEL, "wait politely", provider_options=po(emulator)).text
    assert slept == [0.25]


@pytest.mark.anyio
async def test_async_retry_after_from_aws_is_honoured(emulator: Emulator, slept: list[float]) -> None:
    emulator.inject("throttling", 1, match="async politely", retry_after=0.5)
    async with fast_client() as client:
        s = await client.astream_text(MODEL, "async politely", provider_options=po(emulator))
        assert (await s.response()).text == "You said: async politely"
    assert slept == [0.5]


def test_retry_after_beyond_the_deadline_fails_at_once(emulator: Emulator, slept: list[float]) -> None:
    emulator.inject("throttling", 1, match="no time", retry_after=30)
    with fast_client() as client, pytest.raises(reqbed.ThrottlingError) as info:
        client.generate_text(MODEL, "no time", provider_options=po(emulator), timeout=5)
    assert info.value.retry_after == 30.0
    assert slept == []


def test_bad_credentials_are_not_retried(emulator: Emulator) -> None:
    opts = {**po(emulator), "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"}
    with fast_client() as client, pytest.raises(reqbed.AuthenticationError):
        client.generate_text(MODEL, "wrong secret", provider_options=opts)
    assert sum(b"wrong secret" in r["body"] for r in emulator.requests) == 1


def test_mid_stream_failure_is_not_retried(emulator: Emulator) -> None:
    emulator.inject("exception_frame", 1, match=PROMPT, after=3)
    got: list[str] = []
    with fast_client() as client:
        s = client.stream_text(MODEL, PROMPT, provider_options=po(emulator))
        with pytest.raises(reqbed.ThrottlingError):
            got.extend(s.text_stream())
    assert "".join(got) == "You said:"
    assert sum(PROMPT.encode() in r["body"] for r in emulator.requests) == 1


def test_a_stream_is_returned_only_once_content_is_ready(emulator: Emulator) -> None:
    """The first frame is an exception: stream_text retries before returning, and the caller only
    ever sees the successful attempt's chunks, once."""
    emulator.inject("exception_frame", 2, match="first frame", after=0)
    with fast_client() as client, client.stream_text(MODEL, "first frame", provider_options=po(emulator)) as s:
        assert sum(b"first frame" in r["body"] for r in emulator.requests) == 3
        assert "".join(s.text_stream()) == "You said: first frame"
