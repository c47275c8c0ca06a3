"""``RecordingTransport``: an httpx transport (sync and async) that records real exchanges.

It wraps a real transport (httpx's own by default). reqbed's signing transport sits outside it, so
the request it sees is exactly what goes on the wire, signature included; the signature and every
other secret are redacted before anything is kept. The response is passed through to the caller
unchanged while each raw read of its body is teed into the recording, so a stream keeps its
original read boundaries. An exchange is complete when the caller closes the response.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from ._fixture_format import Exchange, RawChunk, RecordedRequest, RecordedResponse, encode_body, redact_headers

__all__ = ["Recorder", "RecordingTransport"]

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding"})
_STREAM_TYPES = ("application/vnd.amazon.eventstream",)


class _Pending:
    """One exchange being recorded: the request now, the body's reads as they pass through."""

    __slots__ = ("chunks", "complete", "headers", "request", "status")

    def __init__(self, request: RecordedRequest) -> None:
        self.request = request
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.complete = False

    def exchange(self) -> Exchange:
        content_type = self.headers.get("content-type", "")
        response: dict[str, Any] = {"status": self.status, "headers": self.headers}
        if content_type.startswith(_STREAM_TYPES) and self.status < 300:
            response["chunks"] = [RawChunk(b64=base64.b64encode(c).decode("ascii")) for c in self.chunks]
        else:
            response.update(encode_body(b"".join(self.chunks)))
        if not self.complete:
            response["complete"] = False
        return Exchange(request=self.request, response=RecordedResponse(**response))


class Recorder:
    """The exchanges recorded so far, in the order the requests were sent. Thread-safe."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()

    def start(self, request: httpx.Request) -> _Pending:
        body = request.read()
        recorded = RecordedRequest(
            method=request.method,
            url=str(request.url),
            headers=redact_headers(request.headers.multi_items()),
            **encode_body(body),
        )
        pending = _Pending(recorded)
        with self._lock:
            self._pending.append(pending)
        return pending

    @property
    def exchanges(self) -> list[Exchange]:
        """Every exchange that got an answer (a request that failed in transit is left out)."""
        with self._lock:
            return [p.exchange() for p in self._pending if p.status]

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def _response_headers(response: httpx.Response) -> dict[str, str]:
    return redact_headers((k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_BY_HOP)


class _TeeStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, pending: _Pending) -> None:
        self._inner, self._pending = inner, pending

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._pending.chunks.append(chunk)
            yield chunk
        self._pending.complete = True

    def close(self) -> None:
        self._inner.close()


class _AsyncTeeStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, pending: _Pending) -> None:
        self._inner, self._pending = inner, pending

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._pending.chunks.append(chunk)
            yield chunk
        self._pending.complete = True

    async def aclose(self) -> None:
        await self._inner.aclose()


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Record through real transports: ``Client(transport=t, async_transport=t)``.

    ``inner`` / ``async_inner`` default to httpx's network transports, created on first use (the
    async one again after ``aclose``, since its connections belong to one event loop).
    """

    def __init__(
        self,
        recorder: Recorder | None = None,
        *,
        inner: httpx.BaseTransport | None = None,
        async_inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.recorder = recorder if recorder is not None else Recorder()
        self._inner = inner
        self._async_inner = async_inner
        self._owns_sync = inner is None
        self._owns_async = async_inner is None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RecordingTransport({len(self.recorder.exchanges)} exchange(s))"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._inner is None:
                self._inner = httpx.HTTPTransport()
            inner = self._inner
        pending = self.recorder.start(request)
        response = inner.handle_request(request)
        pending.status, pending.headers = response.status_code, _response_headers(response)
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_TeeStream(response.stream, pending),
            extensions=response.extensions,
            request=request,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._async_inner is None:
                self._async_inner = httpx.AsyncHTTPTransport()
            inner = self._async_inner
        await request.aread()
        pending = self.recorder.start(request)
        response = await inner.handle_async_request(request)
        pending.status, pending.headers = response.status_code, _response_headers(response)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_AsyncTeeStream(response.stream, pending),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        with self._lock:
            inner = self._inner
            if self._owns_sync:
                self._inner = None
        if inner is not None:
            inner.close()

    async def aclose(self) -> None:
        with self._lock:
            inner = self._async_inner
            if self._owns_async:
                self._async_inner = None
        if inner is not None:
            await inner.aclose()
