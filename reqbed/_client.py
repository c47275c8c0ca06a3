"""``Client``: the httpx pools and the I/O steps of the pipeline (credentials chain, sign, send).

Every verb is an operation (``_operation``) sent through ONE path: ``_call`` (sync) or ``_acall``
(async), which drive the attempt flow (``_fallback.call_flow``: retries, fallbacks, deadline,
clock-skew re-sign) and do steps 6-8 for each attempt. The public methods are one line each.
Sync and async twins exist only where the I/O itself differs, and hold no decisions: here (that
send path and step 6's shell), the two flow drivers (``_flow``), the small ``perform`` functions
of the credential chain and STS (``_aws``), the stream classes (``_stream``) and an operation's
step 9 (``_operation``). What they decide (attempts, retries, fallbacks, re-signing, the chain's
order) is written once, without I/O.
One httpx transport (connection pool) serves every thread; one async transport is kept per event loop
(asyncio loop or trio run), since pooled connections belong to the loop that opened them.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

import anyio
import httpx

from ._aws.clock import SYSTEM_CLOCK, Clock, endpoint_of
from ._aws.credentials_types import Auth
from ._fallback import Target, call_flow
from ._flow import Action, Finish, Read, Send, drive_async, drive_sync
from ._hooks import CALL_WATCHERS, finish_call, start_call
from ._network_guard import guard_async_transport, guard_transport
from ._operation import GenerateObject, GenerateText, Operation, StreamObject, StreamText
from ._options import NO_PROMPT
from ._pipeline import Prepared, relocate, sign_for
from ._retry import Deadline, RetryPolicy
from ._transport import (
    SIGN_EXTENSION,
    AsyncSigningTransport,
    RequestBody,
    SigningTransport,
    default_timeout,
    translate_transport_errors,
)
from ._version import __version__

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._bulk._result import MapResult, MapStats
    from ._embed.result import Embeddings
    from ._object.result import AsyncObjectStreamResponse, ObjectResponse, ObjectStreamResponse
    from ._options import ChatOptions, ObjectOptions, Prompt, ProviderOptions
    from ._stream import AsyncStreamResponse, StreamResponse
    from ._types import Response

__all__ = ["Client"]

R = TypeVar("R")
AR = TypeVar("AR")
T = TypeVar("T")

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


def _defaults(
    region: str | None,
    endpoint_url: str | None,
    provider_options: Mapping[str, Any] | None,
    defaults: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One mapping of default call options, validated now (``_request.check_options``)."""
    from ._request import check_options

    out: dict[str, Any] = dict(defaults or {})
    po: dict[str, Any] = dict(out.get("provider_options") or {})
    po.update(provider_options or {})
    if region is not None:
        po["region"] = region
    if endpoint_url is not None:
        po["endpoint_url"] = endpoint_url
    if po:
        out["provider_options"] = po
    check_options(out, where="defaults")
    return out


class Client:
    """A reusable Bedrock client: connection pools plus the call methods.

    ``with Client() as c:`` / ``async with Client() as c:`` closes the pools. The module-level
    functions (``reqbed.generate_text`` ...) use one shared default client.

    ``region``, ``endpoint_url``, ``provider_options`` (credentials ...) and ``defaults`` (any call
    option: ``{"max_tokens": 512, "temperature": 0}``) apply to every call made through this client;
    a call's own options win (its ``provider_options`` key by key). They are validated here: a bad
    default is a ``ValidationError`` at construction (docs/options.md, "Client defaults").

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
        region: str | None = None,
        endpoint_url: str | None = None,
        provider_options: ProviderOptions | None = None,
        defaults: ChatOptions | None = None,
    ) -> None:
        self._defaults = _defaults(region, endpoint_url, provider_options, defaults)
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

    # -- the send path: one for sync, one for async, shared by every operation -------------------

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

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
            # signed at the time the endpoint's clock shows (local time + learned skew, see _aws.clock)
            now = clock.signing_time(endpoint)
            return sign_for(auth, p.method, p.url, p.headers, p.body, p.region, now, p.service)

        request = httpx.Request(
            p.method,
            url,
            content=p.body,
            headers={**p.headers, "User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            extensions={"timeout": timeout, SIGN_EXTENSION: signer},
        )
        request.stream = RequestBody(p.body)  # same bytes; no async generator left behind on cancellation
        return request

    def _call(self, op: Operation[R, Any]) -> R:
        """Run operation ``op``: plan its targets (steps 1-5), then drive the attempt flow, doing
        steps 6-8 for each attempt and leaving step 9 to ``op``."""
        targets = op.plan(self._env())
        deadline = self._retry.deadline(targets[0].prepared.timeout)
        flow = call_flow(targets, self._retry, deadline, self._clock, op.error)

        def perform(action: Action) -> Any:
            if type(action) is Send:
                return self._send_sync(action.target, deadline)
            if type(action) is Finish:
                return op.finish(action.target, action.response, deadline)
            assert type(action) is Read
            with translate_transport_errors(action.target.prepared.url):
                try:
                    return action.response.read()
                finally:
                    action.response.close()

        if not CALL_WATCHERS:
            result: R = drive_sync(flow, perform)
            return result
        watches = start_call(op, targets)  # reqbed.telemetry, when enabled (_hooks)
        try:
            result = drive_sync(flow, perform)
        except BaseException as e:
            finish_call(watches, None, e)
            raise
        finish_call(watches, result, None)
        return result

    async def _acall(self, op: Operation[Any, AR]) -> AR:
        """Async ``_call`` (asyncio or trio); the deadline also cancels an I/O step in flight."""
        targets = op.plan(self._env())
        deadline = self._retry.deadline(targets[0].prepared.timeout)
        flow = call_flow(targets, self._retry, deadline, self._clock, op.error)

        async def perform(action: Action) -> Any:
            if type(action) is Send:
                return await self._send_async(action.target, deadline)
            if type(action) is Finish:
                return await op.afinish(action.target, action.response, deadline)
            assert type(action) is Read
            with translate_transport_errors(action.target.prepared.url):
                try:
                    return await action.response.aread()
                finally:
                    await action.response.aclose()

        if not CALL_WATCHERS:
            result: AR = await drive_async(flow, perform, deadline)
            return result
        watches = start_call(op, targets)
        try:
            result = await drive_async(flow, perform, deadline)
        except BaseException as e:
            finish_call(watches, None, e)
            raise
        finish_call(watches, result, None)
        return result

    # -- steps 6-8 ---------------------------------------------------------------------------------

    def _auth_sync(self, t: Target) -> Auth:
        """Step 6 in the shell: check sources 1-3's answer, or run the default chain / STS. A region
        the credentials brought moves the target there (step 5 again, ``relocate``)."""
        from ._aws.credential_chain import resolve_sync

        def send(request: httpx.Request) -> httpx.Response:  # STS AssumeRole goes through our pool
            return self._sync_transport().handle_request(request)

        p = t.prepared
        auth, region = resolve_sync(
            p.auth,
            p.provider_options,
            region=p.region,
            region_explicit=p.region_explicit,
            environ=self._env(),
            clock=self._clock,
            send=send,
        )
        if region is not None:
            t.prepared = relocate(p, region)
        return auth

    async def _auth_async(self, t: Target) -> Auth:
        """Async step 6 (asyncio or trio)."""
        from ._aws.credential_chain import resolve_async

        async def send(request: httpx.Request) -> httpx.Response:
            return await (await self._async_transport_for_loop()).handle_async_request(request)

        p = t.prepared
        auth, region = await resolve_async(
            p.auth,
            p.provider_options,
            region=p.region,
            region_explicit=p.region_explicit,
            environ=self._env(),
            clock=self._clock,
            send=send,
        )
        if region is not None:
            t.prepared = relocate(p, region)
        return auth

    def _send_sync(self, t: Target, deadline: Deadline) -> httpx.Response:
        """Steps 6-8 for one attempt: credentials, then the request, signed in the transport."""
        auth = self._auth_sync(t)
        transport = self._sync_transport()
        p = t.prepared
        with translate_transport_errors(p.url):
            return transport.handle_request(self._request(p, auth, deadline))

    async def _send_async(self, t: Target, deadline: Deadline) -> httpx.Response:
        auth = await self._auth_async(t)
        transport = await self._async_transport_for_loop()
        p = t.prepared
        with translate_transport_errors(p.url):
            return await transport.handle_async_request(self._request(p, auth, deadline))

    # -- the verbs ---------------------------------------------------------------------------------

    def generate_text(self, model: str, prompt: Prompt = NO_PROMPT, **opts: Unpack[ChatOptions]) -> Response:
        """Run the whole pipeline and return the complete ``Response`` (retries, fallbacks: ``_fallback``)."""
        return self._call(GenerateText(model, prompt, self._with_defaults(opts)))

    def stream_text(self, model: str, prompt: Prompt = NO_PROMPT, **opts: Unpack[ChatOptions]) -> StreamResponse:
        """Start a streaming call; iterate the result for chunks (see ``StreamResponse``). Returns once
        the first chunk is decoded: until then failures may be retried or sent to a fallback."""
        return self._call(StreamText(model, prompt, self._with_defaults(opts)))

    async def agenerate_text(self, model: str, prompt: Prompt = NO_PROMPT, **opts: Unpack[ChatOptions]) -> Response:
        """Async ``generate_text`` (asyncio or trio)."""
        return await self._acall(GenerateText(model, prompt, self._with_defaults(opts)))

    async def astream_text(
        self, model: str, prompt: Prompt = NO_PROMPT, **opts: Unpack[ChatOptions]
    ) -> AsyncStreamResponse:
        """Async ``stream_text``: an async iterable and async context manager."""
        return await self._acall(StreamText(model, prompt, self._with_defaults(opts)))

    def embed(self, model: str, inputs: Any, **opts: Any) -> Embeddings:
        """Embed ``inputs`` (a string, image parts, or a list): one vector per input, in order. A list
        is sent as concurrent requests (or Cohere batches) through ``_call``, see ``_embed.operation``."""
        from ._embed.operation import Embed, run_sync

        return run_sync(self._call, Embed(model, inputs, opts, self._env()), self._retry)

    async def aembed(self, model: str, inputs: Any, **opts: Any) -> Embeddings:
        """Async ``embed`` (asyncio or trio): an anyio task group, bounded by ``max_concurrency``."""
        from ._embed.operation import Embed, run_async

        return await run_async(self._acall, Embed(model, inputs, opts, self._env()), self._retry)

    def count_tokens(self, model: str, prompt: Prompt = NO_PROMPT, **opts: Any) -> int:
        """The input tokens of the request ``generate_text`` would send (Bedrock's CountTokens), or a
        local estimate marked as one (``estimate=True``, models CountTokens does not serve)."""
        from ._count_tokens import CountTokens

        op = CountTokens(model, prompt, self._with_defaults(opts))
        estimate = op.local(self._env())
        return estimate if estimate is not None else self._call(op)

    async def acount_tokens(self, model: str, prompt: Prompt = NO_PROMPT, **opts: Any) -> int:
        """Async ``count_tokens`` (asyncio or trio)."""
        from ._count_tokens import CountTokens, TokenCount

        op = CountTokens(model, prompt, self._with_defaults(opts))
        estimate = op.local(self._env())
        if estimate is not None:
            return estimate
        counted: TokenCount = await self._acall(op)
        return counted

    # -- structured output (docs/structured-output.md): a type gives ``ObjectResponse[T]``, a JSON
    # Schema dict (or a typing form that is not a class: ``Literal``, unions) ``ObjectResponse[Any]``

    @overload
    def generate_object(
        self, model: str, prompt: Prompt, schema: type[T], **opts: Unpack[ObjectOptions]
    ) -> ObjectResponse[T]: ...
    @overload
    def generate_object(
        self, model: str, prompt: Prompt, schema: Any, **opts: Unpack[ObjectOptions]
    ) -> ObjectResponse[Any]: ...
    def generate_object(self, model: str, prompt: Any, schema: Any, **opts: Any) -> ObjectResponse[Any]:
        """Ask ``model`` for an object matching ``schema`` and return it validated (``ObjectResponse``);
        ``ObjectGenerationError`` when the answer holds no valid object."""
        return self._call(GenerateObject(model, prompt, schema, self._with_defaults(opts)))

    @overload
    async def agenerate_object(
        self, model: str, prompt: Prompt, schema: type[T], **opts: Unpack[ObjectOptions]
    ) -> ObjectResponse[T]: ...
    @overload
    async def agenerate_object(
        self, model: str, prompt: Prompt, schema: Any, **opts: Unpack[ObjectOptions]
    ) -> ObjectResponse[Any]: ...
    async def agenerate_object(self, model: str, prompt: Any, schema: Any, **opts: Any) -> ObjectResponse[Any]:
        """Async ``generate_object`` (asyncio or trio)."""
        return await self._acall(GenerateObject(model, prompt, schema, self._with_defaults(opts)))

    @overload
    def stream_object(
        self, model: str, prompt: Prompt, schema: type[T], **opts: Unpack[ObjectOptions]
    ) -> ObjectStreamResponse[T]: ...
    @overload
    def stream_object(
        self, model: str, prompt: Prompt, schema: Any, **opts: Unpack[ObjectOptions]
    ) -> ObjectStreamResponse[Any]: ...
    def stream_object(self, model: str, prompt: Any, schema: Any, **opts: Any) -> ObjectStreamResponse[Any]:
        """Stream an object: ``.partial_objects()`` yields growing snapshots, ``.response()`` the
        validated ``ObjectResponse``. Returns once the first chunk is decoded."""
        return self._call(StreamObject(model, prompt, schema, self._with_defaults(opts)))

    @overload
    async def astream_object(
        self, model: str, prompt: Prompt, schema: type[T], **opts: Unpack[ObjectOptions]
    ) -> AsyncObjectStreamResponse[T]: ...
    @overload
    async def astream_object(
        self, model: str, prompt: Prompt, schema: Any, **opts: Unpack[ObjectOptions]
    ) -> AsyncObjectStreamResponse[Any]: ...
    async def astream_object(self, model: str, prompt: Any, schema: Any, **opts: Any) -> AsyncObjectStreamResponse[Any]:
        """Async ``stream_object``: an async context manager; ``async for`` over ``partial_objects()``."""
        return await self._acall(StreamObject(model, prompt, schema, self._with_defaults(opts)))

    # -- bulk (``_bulk``; docs/bulk.md) ----------------------------------------------------------------

    def map(self, model: str, prompts: Any, **kwargs: Any) -> MapResult[Any]:
        """Call ``model`` once per prompt, adaptively concurrent; results in input order (``reqbed.map``)."""
        from ._bulk._map import map_sync

        return map_sync(self, model, prompts, **kwargs)

    async def amap(self, model: str, prompts: Any, **kwargs: Any) -> MapResult[Any]:
        """Async ``map`` (asyncio or trio)."""
        from ._bulk._map import amap

        return await amap(self, model, prompts, **kwargs)

    def map_jsonl(self, model: str, in_path: Any, out_path: Any, **kwargs: Any) -> MapStats:
        """``map`` from a JSONL file to a JSONL file, resumable (``reqbed.map_jsonl``)."""
        from ._bulk._jsonl import map_jsonl_sync

        return map_jsonl_sync(self, model, in_path, out_path, **kwargs)

    async def amap_jsonl(self, model: str, in_path: Any, out_path: Any, **kwargs: Any) -> MapStats:
        """Async ``map_jsonl`` (asyncio or trio)."""
        from ._bulk._jsonl import amap_jsonl

        return await amap_jsonl(self, model, in_path, out_path, **kwargs)

    def _with_defaults(self, opts: Mapping[str, Any]) -> Mapping[str, Any]:
        """The client's ``defaults`` under the call's options (the call's win; ``provider_options``
        are merged key by key, the call's keys winning)."""
        if not self._defaults:
            return opts
        merged = {**self._defaults, **opts}
        base_po = self._defaults.get("provider_options")
        if base_po and "provider_options" in opts and isinstance(opts["provider_options"], Mapping):
            merged["provider_options"] = {**base_po, **opts["provider_options"]}
        return merged
