"""No secret on any error path: every failure reqbed can end a call with, with DEBUG logging on for
every logger, is searched for the credential values that travelled with the call.

Searched: the exception's ``str`` / ``repr`` / formatted traceback, every attribute, the whole
``__cause__`` / ``__context__`` chain, the ``repr`` of the reqbed objects involved (client, stream,
response) and every log record (message, args, formatted exception). The needles are distinctive,
obviously fake values that an emulator configured to accept them really signs and sends with.
"""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

import reqbed
from reqbed._retry import RetryPolicy
from reqbed.testing import Emulator

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "FAKE-secret-RELIABILITY-probe-1111"
TOKEN = "FAKE-token-RELIABILITY-probe-2222"
API_KEY = "FAKE-apikey-RELIABILITY-probe-3333"
NEEDLES = (SECRET, TOKEN, API_KEY, "RELIABILITY-probe")
MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
OTHER = "bedrock:amazon.nova-lite-v1:0"


def leaks(text: str) -> list[str]:
    return [n for n in NEEDLES if n in text]


def chain(err: BaseException | None) -> Iterator[BaseException]:
    """The error and everything it was caused by or raised during, once each."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__]


def assert_clean_error(err: BaseException) -> None:
    for e in chain(err):
        texts = [str(e), repr(e), "".join(traceback.format_exception(type(e), e, e.__traceback__))]
        texts += [repr(v) for v in vars(e).values()]
        for t in texts:
            assert not leaks(t), f"{type(e).__name__} leaks a secret: {t[:400]}"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger propagates here
    for name in ("reqbed", "httpx", "httpcore", "asyncio", "trio", "botocore", "h11"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog
    fmt = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.get_records("call")
    for record in records:
        text = fmt.format(record)
        assert not leaks(text + repr(record.args) + repr(vars(record))), f"a log record leaks a secret: {text}"


@pytest.fixture(scope="module")
def trusting() -> Iterator[Emulator]:
    """An emulator that accepts the fake secrets (so they really are signed with and sent)."""
    with Emulator(credentials={AKID: (SECRET, TOKEN)}, api_keys={API_KEY}) as emu:
        yield emu


@pytest.fixture
def emu(trusting: Emulator) -> Iterator[Emulator]:
    trusting._faults.clear()
    yield trusting
    trusting._faults.clear()


def sigv4(emu: Emulator, **extra: Any) -> dict[str, Any]:
    return {"endpoint_url": emu.endpoint_url, "region": "us-east-1", "access_key_id": AKID,
            "secret_access_key": SECRET, "session_token": TOKEN, "use_converse": True, **extra}  # fmt: skip


def bearer(emu: Emulator, **extra: Any) -> dict[str, Any]:
    return {"endpoint_url": emu.endpoint_url, "region": "us-east-1", "api_key": API_KEY, "use_converse": True, **extra}


def make_client() -> reqbed.Client:
    return reqbed.Client(
        timeout=httpx.Timeout(10.0, read=0.5), retry_policy=RetryPolicy(random=lambda: 0.0, max_retry_after=1.0)
    )


def run(mode: str, stream: bool, prompt: str, opts: dict[str, Any]) -> tuple[BaseException | None, list[Any]]:
    """One call; returns the error it ended with and the reqbed objects it produced on the way."""
    objects: list[Any] = []
    client = make_client()
    objects.append(client)

    def sync() -> None:
        with client:
            if stream:
                s = client.stream_text(MODEL, prompt, **opts)
                objects.append(s)
                with s:
                    objects.append(s.response())
            else:
                objects.append(client.generate_text(MODEL, prompt, **opts))

    async def asynchronous() -> None:
        async with client:
            if stream:
                s = await client.astream_text(MODEL, prompt, **opts)
                objects.append(s)
                async with s:
                    objects.append(await s.response())
            else:
                objects.append(await client.agenerate_text(MODEL, prompt, **opts))

    try:
        if mode == "sync":
            sync()
        else:
            anyio.run(asynchronous, backend=mode)
    except reqbed.ReqbedError as e:
        return e, objects
    return None, objects


MODES = ["sync", "asyncio", "trio"]


def check(err: BaseException | None, objects: list[Any], expected: type[BaseException]) -> None:
    assert isinstance(err, expected), err
    assert_clean_error(err)
    for obj in objects:
        assert not leaks(repr(obj)), f"repr leaks a secret: {obj!r}"
        assert not leaks(str(obj))


# -- the error paths ----------------------------------------------------------------------------------

Scenario = Callable[[Emulator, str], tuple[dict[str, Any], type[BaseException]]]


def validation(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    return {"provider_options": sigv4(emu), "temperature": 7}, reqbed.ValidationError


def bad_provider_option(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    return {"provider_options": {**sigv4(emu), "secret_acess_key": SECRET}}, reqbed.ValidationError


def bad_fallback(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    fb = [{"model": OTHER, "provider_options": {**bearer(emu), "api_key": 42}}]
    return {"provider_options": sigv4(emu), "fallbacks": fb}, reqbed.ValidationError


def auth_failure(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    return {"provider_options": sigv4(emu, secret_access_key=SECRET + "-wrong")}, reqbed.AuthenticationError


def bad_api_key(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    return {"provider_options": bearer(emu, api_key=API_KEY + "-wrong")}, reqbed.AuthenticationError


def throttled(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    emu.inject("throttling", 3, match=marker, retry_after=0.01)
    return {"provider_options": sigv4(emu)}, reqbed.ThrottlingError


def server_error_bearer(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    emu.inject("internal", 3, match=marker)
    return {"provider_options": bearer(emu)}, reqbed.ServerError


def dropped(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    emu.inject("drop", 3, match=marker)
    return {"provider_options": sigv4(emu)}, reqbed.APIConnectionError


def read_timeout(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    emu.inject("stall", 1, match=marker)
    return {"provider_options": sigv4(emu)}, reqbed.RequestTimeoutError


def deadline(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    emu.inject("stall", 1, match=marker)
    return {"provider_options": bearer(emu), "timeout": 0.2}, reqbed.RequestTimeoutError


def refused(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {"provider_options": sigv4(emu, endpoint_url=f"http://127.0.0.1:{port}")}, reqbed.APIConnectionError


def fallbacks_all_fail(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    """Primary (SigV4 + session token) throttled, fallback (API key) not found: the chain holds both."""
    emu.inject("throttling", 3, match=marker)
    emu.inject("not_found", 1, match=marker)
    fb = [{"model": OTHER, "provider_options": bearer(emu)}]
    return {"provider_options": sigv4(emu), "fallbacks": fb}, reqbed.ResourceNotFoundError


def missing_credentials(emu: Emulator, marker: str) -> tuple[dict[str, Any], type[BaseException]]:
    return {"provider_options": {"endpoint_url": emu.endpoint_url, "region": "us-east-1"}}, reqbed.CredentialsError


SCENARIOS: list[Scenario] = [
    validation,
    bad_provider_option,
    bad_fallback,
    auth_failure,
    bad_api_key,
    throttled,
    server_error_bearer,
    dropped,
    read_timeout,
    deadline,
    refused,
    fallbacks_all_fail,
    missing_credentials,
]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_error_paths_leak_no_secret(
    emu: Emulator, logs: pytest.LogCaptureFixture, scenario: Scenario, mode: str, stream: bool
) -> None:
    marker = f"{scenario.__name__} {mode} {stream}"
    opts, expected = scenario(emu, marker)
    err, objects = run(mode, stream, marker, opts)
    check(err, objects, expected)


# -- stream-only paths: exception frames and corrupt streams, before and after content --------------------

STREAM_FAULTS = [
    ("exception_frame", {"after": 0}, 3, reqbed.ThrottlingError),
    ("exception_frame", {"after": 2}, 1, reqbed.ThrottlingError),
    ("exception_frame", {"after": 0, "exception": "modelStreamErrorException"}, 1, reqbed.ModelStreamError),
    ("exception_frame", {"after": 2, "exception": "validationException"}, 1, reqbed.BadRequestError),
    ("bad_crc", {"after": 0}, 1, reqbed.EventStreamError),
    ("bad_crc", {"after": 3}, 1, reqbed.EventStreamError),
    ("truncate", {"after": 2}, 1, reqbed.EventStreamError),
]


@pytest.mark.parametrize("auth", ["sigv4", "bearer"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("kind", "params", "times", "expected"), STREAM_FAULTS)
def test_stream_faults_leak_no_secret(
    emu: Emulator,
    logs: pytest.LogCaptureFixture,
    kind: str,
    params: dict[str, Any],
    times: int,
    expected: type[BaseException],
    mode: str,
    auth: str,
) -> None:
    marker = f"{kind} {params} {mode} {auth}"
    emu.inject(kind, times, match=marker, **params)
    po = sigv4(emu) if auth == "sigv4" else bearer(emu)
    err, objects = run(mode, True, marker, {"provider_options": po})
    check(err, objects, expected)


def test_a_successful_fallback_leaks_nothing(emu: Emulator, logs: pytest.LogCaptureFixture) -> None:
    """The primary's error is logged on the way to the fallback: that record is searched too."""
    marker = "fallback succeeds"
    emu.inject("access_denied", 1, match=marker)
    with make_client() as client:
        r = client.generate_text(
            MODEL, marker, provider_options=sigv4(emu), fallbacks=[{"model": OTHER, "provider_options": bearer(emu)}]
        )
        assert r.served_by == OTHER
        assert not leaks(repr(r) + repr(client))
    assert any("falling back" in rec.getMessage() for rec in logs.records)


def test_the_checker_finds_a_secret_deep_in_the_chain() -> None:
    """The search must be able to fail: a secret two links down the chain, or in an attribute."""
    inner = ValueError(f"token={TOKEN}")
    try:
        try:
            raise inner
        except ValueError:
            raise reqbed.APIConnectionError("wrapped") from None  # context kept, display suppressed
    except reqbed.APIConnectionError as e:
        outer = e
    with pytest.raises(AssertionError, match="leaks a secret"):
        assert_clean_error(outer)
    hidden = reqbed.ReqbedError("fine")
    hidden.extra = {"k": API_KEY}  # type: ignore[attr-defined]
    with pytest.raises(AssertionError, match="leaks a secret"):
        assert_clean_error(hidden)
