"""Timeouts: connect, read (between bytes), the call's deadline (``timeout=``), and cancellation.

No assertion here is about how long something took: each test checks *which* error ends a call
(or that it succeeds) and that no connection is left behind.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

import reqbed
from reqbed import _fallback
from reqbed._retry import RetryPolicy
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
LONG = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"  # 20 events
SHORT = "slow and steady"  # 9 events


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


def client(read: float = 10.0, **kw: Any) -> reqbed.Client:
    return reqbed.Client(timeout=httpx.Timeout(10.0, read=read), retry_policy=RetryPolicy(random=lambda: 0.0), **kw)


def sent(emu: Emulator, marker: str) -> int:
    return sum(marker.encode() in r["body"] for r in emu.requests)


def call(c: reqbed.Client, marker: str, emu: Emulator, stream: bool, **opts: Any) -> Any:
    """One call, streamed (until the stream is ready) or not."""
    if stream:
        return c.stream_text(MODEL, marker, provider_options=po(emu), **opts)
    return c.generate_text(MODEL, marker, provider_options=po(emu), **opts)


async def acall(c: reqbed.Client, marker: str, emu: Emulator, stream: bool, **opts: Any) -> Any:
    if stream:
        return await c.astream_text(MODEL, marker, provider_options=po(emu), **opts)
    return await c.agenerate_text(MODEL, marker, provider_options=po(emu), **opts)


def in_flight(pool: Any) -> int:
    busy = [c for c in pool.connections if not c.is_idle() and not c.is_closed()]
    return max(len(pool._requests), len(busy))


async def async_pool(c: reqbed.Client) -> Any:
    return (await c._async_transport_for_loop())._inner._pool  # type: ignore[attr-defined]


def sync_pool(c: reqbed.Client) -> Any:
    return c._sync_transport()._inner._pool  # type: ignore[attr-defined]


def test_reqbeds_timeout_and_bedrocks_are_different_errors() -> None:
    assert not issubclass(reqbed.RequestTimeoutError, reqbed.APIError)
    assert not issubclass(reqbed.ModelTimeoutError, reqbed.RequestTimeoutError)
    assert not issubclass(reqbed.RequestTimeoutError, reqbed.ModelTimeoutError)


def test_bedrocks_model_timeout_is_a_model_timeout_error(emulator: Emulator) -> None:
    emulator.inject("model_timeout", match="bedrock slow")
    with client() as c, pytest.raises(reqbed.ModelTimeoutError) as info:
        c.generate_text(MODEL, "bedrock slow", provider_options=po(emulator))
    assert info.value.status == 408


# -- read timeout: between bytes ---------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_a_silent_server_hits_the_read_timeout_and_is_not_retried(emulator: Emulator, stream: bool) -> None:
    marker = f"stalled {stream}"
    emulator.inject("stall", match=marker)
    with client(read=0.3) as c, pytest.raises(reqbed.RequestTimeoutError, match="ReadTimeout"):
        call(c, marker, emulator, stream)
    assert sent(emulator, marker) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
async def test_async_read_timeout(emulator: Emulator, stream: bool) -> None:
    marker = f"async stalled {stream}"
    emulator.inject("stall", match=marker)
    async with client(read=0.3) as c:
        with pytest.raises(reqbed.RequestTimeoutError, match="ReadTimeout"):
            await acall(c, marker, emulator, stream)
        assert in_flight(await async_pool(c)) == 0


def test_a_long_stream_never_times_out_while_tokens_flow(emulator: Emulator) -> None:
    """0.15 s between events, a 0.6 s read timeout, 9 events (1.35 s in all): it completes."""
    emulator.inject("slow", match=SHORT, delay=0.15)
    with client(read=0.6) as c, c.stream_text(MODEL, SHORT, provider_options=po(emulator)) as s:
        assert s.response().text == f"You said: {SHORT}"


@pytest.mark.anyio
async def test_async_long_stream_never_times_out_while_tokens_flow(emulator: Emulator) -> None:
    emulator.inject("slow", match=SHORT, delay=0.15)
    async with client(read=0.6) as c:
        s = await c.astream_text(MODEL, SHORT, provider_options=po(emulator))
        async with s:
            assert (await s.response()).text == f"You said: {SHORT}"


# -- connect timeout and refused connections -----------------------------------------------------------


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A loopback port whose accept queue is full: new connections are never completed."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.connect(("127.0.0.1", port))
        fillers.append(s)
    probe = socket.socket()
    probe.settimeout(0.2)
    try:
        probe.connect(("127.0.0.1", port))
        connected = True
    except OSError:
        connected = False
    finally:
        probe.close()
    try:
        if connected:
            pytest.skip("this system completes connections beyond the listen backlog")
        yield port
    finally:
        for s in fillers:
            s.close()
        srv.close()


def test_connect_timeout_is_a_request_timeout_error(unanswered_port: int) -> None:
    opts = {"endpoint_url": f"http://127.0.0.1:{unanswered_port}", "region": "us-east-1", "api_key": "ABSKexample"}
    c = reqbed.Client(timeout=httpx.Timeout(10.0, connect=0.2), retry_policy=RetryPolicy(random=lambda: 0.0))
    with c, pytest.raises(reqbed.RequestTimeoutError, match="ConnectTimeout"):
        c.generate_text(MODEL, "hello", provider_options=opts)


def test_connection_refused_is_retried_then_a_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    slept: list[float] = []
    monkeypatch.setattr(_fallback, "sleep_sync", slept.append)
    opts = {"endpoint_url": f"http://127.0.0.1:{port}", "region": "us-east-1", "api_key": "ABSKexample"}
    with client() as c, pytest.raises(reqbed.APIConnectionError, match=r"could not talk to 127\.0\.0\.1"):
        c.generate_text(MODEL, "hello", provider_options=opts)
    assert len(slept) == 2  # the default two retries


# -- the call's deadline ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_deadline_ends_a_stalled_call(emulator: Emulator, stream: bool) -> None:
    marker = f"deadline stall {stream}"
    emulator.inject("stall", match=marker)
    with client() as c, pytest.raises(reqbed.RequestTimeoutError, match=r"deadline passed \(timeout=0.3 s\)"):
        call(c, marker, emulator, stream, timeout=0.3)
    assert sent(emulator, marker) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
async def test_async_deadline_ends_a_stalled_call(emulator: Emulator, stream: bool) -> None:
    marker = f"async deadline stall {stream}"
    emulator.inject("stall", match=marker)
    async with client() as c:
        with pytest.raises(reqbed.RequestTimeoutError, match="deadline passed"):
            await acall(c, marker, emulator, stream, timeout=0.3)
        assert in_flight(await async_pool(c)) == 0


def test_deadline_covers_the_whole_stream(emulator: Emulator) -> None:
    """Tokens keep flowing (no read timeout), but the call's overall deadline still ends it."""
    emulator.inject("slow", match=LONG, delay=0.1)
    got: list[str] = []
    with client() as c:
        s = c.stream_text(MODEL, LONG, provider_options=po(emulator), timeout=1.0)
        with pytest.raises(reqbed.RequestTimeoutError, match="deadline passed"), s:
            got.extend(s.text_stream())
        assert 0 < len(got) < len(LONG.split()) + 2
        assert in_flight(sync_pool(c)) == 0


@pytest.mark.anyio
async def test_async_deadline_covers_the_whole_stream(emulator: Emulator) -> None:
    emulator.inject("slow", match=LONG, delay=0.1)
    got: list[str] = []
    async with client() as c:
        s = await c.astream_text(MODEL, LONG, provider_options=po(emulator), timeout=1.0)
        with pytest.raises(reqbed.RequestTimeoutError, match="deadline passed"):
            await collect(s, got)
        assert 0 < len(got) < len(LONG.split()) + 2
        assert in_flight(await async_pool(c)) == 0


async def collect(s: reqbed.AsyncStreamResponse, got: list[str]) -> None:
    async with s:
        async for t in s.text_stream():
            got.append(t)


def test_no_retry_sleeps_past_the_deadline(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff 0.5 s then 1.0 s against a 0.8 s deadline on a frozen clock: one retry, then give up."""
    slept: list[float] = []
    monkeypatch.setattr(_fallback, "sleep_sync", slept.append)
    frozen = RetryPolicy(random=lambda: 1.0, clock=lambda: 100.0)
    emulator.inject("throttling", 5, match="budget")
    with reqbed.Client(retry_policy=frozen) as c, pytest.raises(reqbed.ThrottlingError):
        c.generate_text(MODEL, "budget", provider_options=po(emulator), timeout=0.8)
    assert slept == [0.5]
    assert sent(emulator, "budget") == 2


def test_timeout_option_is_validated() -> None:
    for bad in (0, -1, "5", True):
        with pytest.raises(reqbed.ValidationError) as info:
            reqbed.generate_text(MODEL, "x", timeout=bad, provider_options={"region": "us-east-1"})
        assert info.value.field == "timeout"


# -- cancellation ------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_cancelling_a_stalled_call_releases_its_connection(emulator: Emulator) -> None:
    emulator.inject("stall", match="cancel me")
    async with client() as c:
        with anyio.move_on_after(0.3) as scope:
            await c.agenerate_text(MODEL, "cancel me", provider_options=po(emulator))
        assert scope.cancelled_caught
        assert in_flight(await async_pool(c)) == 0
        # the pool still works
        assert (await c.agenerate_text(MODEL, "after", provider_options=po(emulator))).text == "You said: after"


@pytest.mark.anyio
async def test_cancelling_during_backoff_stops_the_retries(emulator: Emulator) -> None:
    emulator.inject("throttling", 3, match="cancel backoff", retry_after=30)
    async with reqbed.Client() as c:
        with anyio.move_on_after(0.3) as scope:
            await c.agenerate_text(MODEL, "cancel backoff", provider_options=po(emulator))
        assert scope.cancelled_caught
        assert sent(emulator, "cancel backoff") == 1
        assert in_flight(await async_pool(c)) == 0


@pytest.mark.anyio
async def test_cancelling_a_stream_being_primed_releases_its_connection(emulator: Emulator) -> None:
    emulator.inject("stall", match="cancel stream")
    async with client() as c:
        with anyio.move_on_after(0.3) as scope:
            await c.astream_text(MODEL, "cancel stream", provider_options=po(emulator))
        assert scope.cancelled_caught
        assert in_flight(await async_pool(c)) == 0
