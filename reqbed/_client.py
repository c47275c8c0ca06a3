"""``Client``: the httpx pools and the I/O steps of the pipeline (credentials chain, send).

This is the only module with sync and async twins. Everything they share is in ``_pipeline``.
One httpx transport (connection pool) serves every thread; one async transport is kept per event loop
(asyncio loop or trio run), since pooled connections belong to the loop that opened them.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from ._aws.clock import SYSTEM_CLOCK, Clock, asend_with_skew_retry, endpoint_of, send_with_skew_retry
from ._aws.credentials_types import Auth
from ._fallback import Target, plan_targets, read_body, run_async, run_sync
from ._network_guard import guard_async_transport, guard_transport
from ._pipeline import Prepared, prepare, sign_for
from ._retry import Deadline, RetryPolicy
from ._transport import (
    SIGN_EXTENSION,
    AsyncSigningTransport,
    SigningTransport,
    default_timeout,
    translate_transport_errors,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._stream import AsyncStreamResponse, StreamResponse
    from ._types import Message, Response

__all__ = ["Client"]

USER_AGENT = f"reqbed/{__version__}"


def _loop_key() -> object:
    """The running event loop (asyncio) or trio run this coroutine belongs to."""
    try:
        import asyncio

        return asyncio.get_running_loop()
    except RuntimeError:
        import trio

        return trio.lowlevel.current_root_task()


class _LoopPool:
    """One event loop's transport (its connection pool) plus a guard that closes it with the loop.

    The guard is an async generator started on the loop: asyncio (``shutdown_asyncgens``) and
    trio both finalize live async generators when their run ends, so the pool's sockets are
    closed by the loop that opened them instead of leaking when the loop goes away.
    """

    __slots__ = ("guard", "transport")

    def __init__(self, transport: AsyncSigningTransport) -> None:
        self.transport = transport
        self.guard = self._guard()

    async def _guard(self) -> AsyncGenerator[None, None]:
        try:
            yield
            await anyio.sleep_forever()  # pragma: no cover - never resumed
        finally:
            await self.transport.aclose()


class Client:
    """A reusable Bedrock client: connection pools plus the call methods.

    ``with Client() as c:`` / ``async with Client() as c:`` closes the pools. The module-level
    functions (``reqbed.generate_text`` ...) use one shared default client.

    ``transport`` / ``async_transport`` replace httpx's network transports (fixture replay,
    tests); ``environ`` replaces ``os.environ`` for credential and region lookup; ``clock``
    replaces the wall clock used for signing and expiry checks (``reqbed._aws.clock.Clock``, tests).

    reqbed drives httpx's *transport* layer directly (connection pooling, HTTP/1.1, TLS,
    timeouts) and skips ``httpx.Client``'s cookie, redirect and auth machinery, which a
    Bedrock call never needs: that is most of the per-call CPU reqbed saves.
    """

    def __init__(
        self,
        *,
        timeout: httpx.Timeout | float | None = None,
        max_connections: int = 100,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._timeout = (default_timeout() if timeout is None else httpx.Timeout(timeout)).as_dict()
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._transport = transport
        self._async_transport = async_transport
        self._environ = environ
        self._clock = SYSTEM_CLOCK if clock is None else clock
        self._retry = RetryPolicy() if retry_policy is None else retry_policy  # backoff; see _retry
        self._lock = threading.Lock()
        self._sync: SigningTransport | None = None
        self._async: weakref.WeakKeyDictionary[object, _LoopPool] = weakref.WeakKeyDictionary()
        self._urls: dict[str, httpx.URL] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"Client(timeout={self._timeout!r}, closed={self._closed})"

    # -- pools -------------------------------------------------------------------------------

    def _sync_transport(self) -> SigningTransport:
        with self._lock:
            if self._closed:
                raise RuntimeError("this reqbed.Client is closed")
            if self._sync is None:
                inner = self._transport or guard_transport(httpx.HTTPTransport(limits=self._limits))
                self._sync = SigningTransport(inner)
            return self._sync

    async def _async_transport_for_loop(self) -> AsyncSigningTransport:
        key = _loop_key()
        with self._lock:
            if self._closed:
                raise RuntimeError("this reqbed.Client is closed")
            pool = self._async.get(key)
            if pool is not None:
                return pool.transport
            inner = self._async_transport or guard_async_transport(httpx.AsyncHTTPTransport(limits=self._limits))
            pool = _LoopPool(AsyncSigningTransport(inner))
            self._async[key] = pool
        await pool.guard.__anext__()  # registers the guard with this loop's async-gen finalizer
        return pool.transport

    def close(self) -> None:
        """Close the sync pool. An event loop's pool is closed by ``aclose`` on that loop, or by the
        loop itself when it ends (its guard); it cannot be closed from outside its loop."""
        with self._lock:
            sync, self._sync = self._sync, None
        if sync is not None:
            sync.close()

    async def aclose(self) -> None:
        """Close the current event loop's pool and the sync pool."""
        key = _loop_key()
        with self._lock:
            pool = self._async.pop(key, None)
        if pool is not None:
            await pool.guard.aclose()  # its ``finally`` closes the transport; nothing left suspended
        self.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self._closed = True

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
        self._closed = True

    # -- shared steps ------------------------------------------------------------------------

    def _prepare(self, model: str, prompt: Any, opts: Mapping[str, Any], stream: bool) -> Prepared:
        return prepare(
            model, prompt, opts, stream=stream, environ=os.environ if self._environ is None else self._environ
        )

    def _request(self, p: Prepared, auth: Auth, deadline: Deadline | None = None) -> httpx.Request:
        """The HTTP request for one attempt; it is signed by the transport right before sending.
        Its connect/read/write/pool timeouts are the client's, none longer than the call's deadline."""
        url = self._urls.get(p.url)
        if url is None:
            if len(self._urls) > 256:
                self._urls.clear()
            url = self._urls[p.url] = httpx.URL(p.url)
        timeout = self._timeout if deadline is None else deadline.cap(self._timeout)
        clock, endpoint = self._clock, endpoint_of(p.url)

        def signer(_: httpx.Request) -> Mapping[str, str]:
            # signed at the time the endpoint's clock shows (local time + learned skew, see _clock)
            return sign_for(auth, "POST", p.url, p.headers, p.body, p.region, clock.signing_time(endpoint))

        return httpx.Request(
            "POST",
            url,
            content=p.body,
            headers={**p.headers, "User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            extensions={"timeout": timeout, SIGN_EXTENSION: signer},
        )

    # -- sync --------------------------------------------------------------------------------

    def _auth_sync(self, p: Prepared) -> Auth:
        """Step 6 in the shell: check sources 1-3's answer, or run the default chain / STS."""
        from ._aws.credential_chain import resolve_sync

        def send(request: httpx.Request) -> httpx.Response:  # STS AssumeRole goes through our pool
            return self._sync_transport().handle_request(request)

        return resolve_sync(p, environ=self._env(), clock=self._clock, send=send)

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def _send_sync(
        self, transport: SigningTransport, p: Prepared, auth: Auth, deadline: Deadline | None = None
    ) -> httpx.Response:
        """Send one request (signed in the transport); on a clock-skew refusal, learn the skew and
        send once more (``_clock.send_with_skew_retry``)."""
        return send_with_skew_retry(
            lambda: transport.handle_request(self._request(p, auth, deadline)), self._clock, endpoint_of(p.url), p.error
        )

    def generate_text(self, model: str, prompt: str | list[Message] | list[dict[str, Any]], **opts: Any) -> Response:
        """Run the whole pipeline and return the complete ``Response`` (retries, fallbacks: ``_fallback``)."""
        return run_sync(plan_targets(model, prompt, opts, False, self._prepare), self._generate_once, self._retry)

    def _generate_once(self, t: Target, deadline: Deadline) -> Response:
        """One attempt at one target."""
        p = t.prepared
        auth = self._auth_sync(p)
        transport = self._sync_transport()
        with translate_transport_errors(p.url):
            response = self._send_sync(transport, p, auth, deadline)
            try:
                body = read_body(response, deadline)
            finally:
                response.close()
        return t.stamp(p.parse(response.status_code, response.headers, body))

    def stream_text(
        self, model: str, prompt: str | list[Message] | list[dict[str, Any]], **opts: Any
    ) -> StreamResponse:
        """Start a streaming call; iterate the result for chunks (see ``StreamResponse``). Returns once
        the first chunk is decoded: until then failures may be retried or sent to a fallback."""
        return run_sync(plan_targets(model, prompt, opts, True, self._prepare), self._stream_once, self._retry)

    def _stream_once(self, t: Target, deadline: Deadline) -> StreamResponse:
        from ._stream import StreamResponse

        p = t.prepared
        auth = self._auth_sync(p)
        transport = self._sync_transport()
        with translate_transport_errors(p.url):
            response = self._send_sync(transport, p, auth, deadline)
        stream = StreamResponse(p, response, served_by=t.served_by, deadline=deadline)
        stream.prime()
        return stream

    # -- async -------------------------------------------------------------------------------

    async def _auth_async(self, p: Prepared) -> Auth:
        """Async step 6 (asyncio or trio)."""
        from ._aws.credential_chain import resolve_async

        async def send(request: httpx.Request) -> httpx.Response:
            return await (await self._async_transport_for_loop()).handle_async_request(request)

        return await resolve_async(p, environ=self._env(), clock=self._clock, send=send)

    async def _send_async(
        self, transport: AsyncSigningTransport, p: Prepared, auth: Auth, deadline: Deadline | None = None
    ) -> httpx.Response:
        """Async ``_send_sync``."""
        return await asend_with_skew_retry(
            lambda: transport.handle_async_request(self._request(p, auth, deadline)),
            self._clock,
            endpoint_of(p.url),
            p.error,
        )

    async def agenerate_text(
        self, model: str, prompt: str | list[Message] | list[dict[str, Any]], **opts: Any
    ) -> Response:
        """Async ``generate_text`` (asyncio or trio)."""
        return await run_async(
            plan_targets(model, prompt, opts, False, self._prepare), self._agenerate_once, self._retry
        )

    async def _agenerate_once(self, t: Target, deadline: Deadline) -> Response:
        p = t.prepared
        auth = await self._auth_async(p)
        transport = await self._async_transport_for_loop()
        with translate_transport_errors(p.url):
            response = await self._send_async(transport, p, auth, deadline)
            try:
                body = await response.aread()
            finally:
                await response.aclose()
        return t.stamp(p.parse(response.status_code, response.headers, body))

    async def astream_text(
        self, model: str, prompt: str | list[Message] | list[dict[str, Any]], **opts: Any
    ) -> AsyncStreamResponse:
        """Async ``stream_text``: an async iterable and async context manager."""
        return await run_async(plan_targets(model, prompt, opts, True, self._prepare), self._astream_once, self._retry)

    async def _astream_once(self, t: Target, deadline: Deadline) -> AsyncStreamResponse:
        from ._stream import AsyncStreamResponse

        p = t.prepared
        auth = await self._auth_async(p)
        transport = await self._async_transport_for_loop()
        with translate_transport_errors(p.url):
            response = await self._send_async(transport, p, auth, deadline)
        stream = await AsyncStreamResponse.open(p, response, served_by=t.served_by, deadline=deadline)
        await stream.prime()
        return stream
