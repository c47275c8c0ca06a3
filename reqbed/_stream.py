"""Streaming responses: ``StreamResponse`` (sync) and ``AsyncStreamResponse`` (asyncio/trio).

``StreamCore`` is the I/O-free part: bytes in, chunks out. It decodes event-stream frames,
raises the mapped error for exception/error frames, hands events to the formatter's stream
parser (unwrapping ``/invoke`` ``chunk`` events first) and accumulates the final ``Response``.

The two wrappers only read bytes when the consumer asks for the next chunk, and close the HTTP
response (returning its connection to the pool) on every path: normal end, ``break``, an error
in decoding or in the consumer (through the context manager), and cancellation.
"""

from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import msgspec

from ._accumulator import StreamAccumulator
from ._aws.eventstream import EventStreamDecoder, Frame
from ._errors import EventStreamError, ModelStreamError, ReqbedError, map_api_error
from ._families._common import SHAPE_ERRORS, shape_error, unexpected_shapes
from ._retry import Deadline, enforce_deadline
from ._transport import translate_transport_errors
from ._types import Chunk, Response, TextChunk, ThinkingChunk, ToolCallDeltaChunk

if TYPE_CHECKING:
    from ._pipeline import ChatPrepared as Prepared

__all__ = ["AsyncStreamResponse", "StreamCore", "StreamResponse"]

_decode = msgspec.json.Decoder().decode


class _InvokeChunk(msgspec.Struct):
    bytes: str


_decode_invoke_chunk = msgspec.json.Decoder(_InvokeChunk).decode


class StreamCore:
    """Bytes -> chunks for one stream. ``feed`` per network read, ``close`` at end of body."""

    def __init__(self, prepared: Prepared, served_by: str | None = None, *, request_id: str | None = None) -> None:
        self._decoder = EventStreamDecoder()
        # Errors inside the stream carry the request id of the HTTP answer that carried the stream.
        self._error_headers = {"x-amzn-requestid": request_id} if request_id else {}
        self._parser = prepared.formatter.stream_parser(prepared.request)
        self._invoke = prepared.formatter.endpoint == "invoke"
        # The fused path for the hot event (``ConverseStreamParser.fast_feed``): text straight from
        # the frame's payload to a ``TextChunk``, one O(1) accumulator step.
        self._fast_event: str | None = None if self._invoke else getattr(self._parser, "fast_event", None)
        self.accumulator = StreamAccumulator(prepared.request.spec.model_id)
        self._raw: list[tuple[str, bytes]] = []
        self._served_by = served_by or prepared.request.spec.spec
        #: The error that ended this stream, once one did; ``feed`` and ``close`` raise it again.
        self.failed: ReqbedError | None = None

    def feed(self, data: bytes) -> list[Chunk]:
        """Decode one network read. Chunks from frames that precede a fault in the same read are
        returned first; the fault (kept in ``failed``) is raised by the next ``feed`` or ``close``."""
        if self.failed is not None:
            raise self.failed
        out: list[Chunk] = []
        try:
            frames = self._decoder.feed(data)
            fast_event = self._fast_event
            for frame in frames:
                headers = frame.headers
                if (
                    fast_event is not None
                    and headers.get(":event-type") == fast_event
                    and headers.get(":message-type") == "event"
                ):
                    self._fast(frame.payload, out)
                else:
                    out.extend(self._frame(frame))
            if out:
                self._decoder.feed(b"")  # raises a corruption the decoder found after those frames
        except ReqbedError as e:
            self.failed = e
            if not out:
                raise
        return out

    def _fast(self, payload: bytes, out: list[Chunk]) -> None:
        """The fused path: one decode; a text delta is appended as a ``TextChunk`` directly."""
        event_type = self._fast_event
        assert event_type is not None
        self._raw.append((event_type, payload))
        try:
            got = self._parser.fast_feed(payload)  # type: ignore[attr-defined]
            if got.__class__ is str:
                self.accumulator.add_text(got)
                out.append(TextChunk(text=got))
                return
            for c in got:
                _check(c)
                self.accumulator.add(c)
        except ReqbedError:
            raise
        except SHAPE_ERRORS as e:
            raise shape_error(f"the {event_type!r} event", e) from None
        out.extend(got)

    def close(self) -> list[Chunk]:
        """End of body: refuse a truncated frame, flush the parser, refuse an incomplete answer."""
        if self.failed is not None:
            raise self.failed
        self._decoder.close()
        with unexpected_shapes("the end of the stream"):
            out = self._parser.finish()
            for c in out:
                _check(c)
                self.accumulator.add(c)
        if not self.accumulator.finished:
            raise EventStreamError("the stream ended before its final events; the answer is incomplete")
        return out

    def response(self) -> Response:
        self.accumulator.raw_events = [{"event": et, "payload": _safe_json(p)} for et, p in self._raw]
        return msgspec.structs.replace(self.accumulator.response(), served_by=self._served_by)

    def _frame(self, frame: Frame) -> list[Chunk]:
        headers = frame.headers
        mtype = headers.get(":message-type")
        if mtype != "event":
            self._not_an_event(frame, mtype)
        event_type = headers.get(":event-type")
        if not isinstance(event_type, str):
            event_type = ""
        payload = frame.payload
        if self._invoke:
            if event_type != "chunk":
                return []
            try:
                payload = base64.b64decode(_decode_invoke_chunk(payload).bytes, validate=True)
            except (msgspec.DecodeError, binascii.Error) as e:
                raise ModelStreamError(f"unreadable /invoke stream chunk: {e}") from None
            except RecursionError:
                raise ModelStreamError("unreadable /invoke stream chunk: JSON nested too deeply to read") from None
        self._raw.append((event_type, payload))
        try:  # inline, not a context manager: this runs for every event
            chunks = self._parser.feed(event_type, payload)
            for c in chunks:
                _check(c)
                self.accumulator.add(c)
        except ReqbedError:
            raise
        except SHAPE_ERRORS as e:
            raise shape_error(f"the {event_type!r} event", e) from None
        return chunks

    def _not_an_event(self, frame: Frame, mtype: object) -> NoReturn:
        """Exception and error frames raise the mapped error; anything else is corruption."""
        if mtype == "exception":
            code = frame.exception_type or "UnknownException"
            raise map_api_error(None, {**self._error_headers, "x-amzn-errortype": code}, frame.payload)
        if mtype == "error":  # ``:error-code`` / ``:error-message`` headers, no payload
            headers = {**self._error_headers, "x-amzn-errortype": frame.error_code or "UnknownError"}
            raise map_api_error(None, headers, msgspec.json.encode({"message": frame.error_message or ""}))
        raise EventStreamError(f"unknown :message-type {mtype!r}")


def _check(chunk: Chunk) -> None:
    """Parsers build chunks from decoded JSON without re-checking types; a caller must never get a
    text fragment that is not text (a number, a list) from an odd event."""
    if isinstance(chunk, TextChunk):
        ok = isinstance(chunk.text, str)
    elif isinstance(chunk, ThinkingChunk):
        ok = isinstance(chunk.text, str) and _maybe_str(chunk.signature) and _maybe_str(chunk.redacted)
    elif isinstance(chunk, ToolCallDeltaChunk):
        ok = isinstance(chunk.arguments_delta, str) and _maybe_str(chunk.id) and _maybe_str(chunk.name)
    else:
        return
    if not ok:
        raise ModelStreamError(f"unexpected answer from Bedrock: a streamed {chunk.type} chunk holds a non-text value")


def _maybe_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def _safe_json(payload: bytes) -> Any:
    try:
        return _decode(payload)
    except msgspec.DecodeError:
        return payload.decode("utf-8", "replace")


def _raise_for_status(prepared: Prepared, status: int, headers: httpx.Headers, body: bytes) -> None:
    # A non-2xx answer on a stream endpoint is a JSON error body, never frames.
    if status >= 300:
        raise prepared.error(status, headers, body)


class _StreamState:
    """What the sync and async streams share: their state and the I/O-free halves of a read."""

    def __init__(
        self,
        prepared: Prepared,
        http: httpx.Response,
        *,
        served_by: str | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self._prepared = prepared
        self._http = http
        self._core = StreamCore(prepared, served_by, request_id=http.headers.get("x-amzn-requestid"))
        self._deadline = deadline
        self._pending: deque[Chunk] = deque()
        self._done = False
        self._closed = False
        self._watchers: list[Callable[[Response | None, BaseException | None], None]] | None = None
        self._ended = False  # the end was delivered to the caller (StopIteration): a 2nd loop is an error
        self._first_at: float | None = None  # deadline.elapsed() at the first chunk, then at the end
        self._end_at: float | None = None

    def _on_end(self, watcher: Callable[[Response | None, BaseException | None], None]) -> None:
        """Call ``watcher(response, error)`` once when the stream ends (``_hooks.finish_call``): the final
        ``Response``, or the error that broke it, or (None, None) when it is closed before its end."""
        if self._watchers is None:
            self._watchers = []
        self._watchers.append(watcher)
        if self._done and self._core.failed is None:
            self._report(None)

    def _report(self, error: BaseException | None) -> None:
        watchers, self._watchers = self._watchers, None
        if not watchers:
            return
        response = None
        if error is None and self._done:
            if self._core.failed is not None:
                error = self._core.failed
            else:
                response = self._core.response()
        for watcher in watchers:
            watcher(response, error)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._prepared.request.spec.spec!r}, done={self._done})"

    def _before_read(self) -> None:
        if self._core.failed is not None:
            raise self._core.failed  # a fault found after the chunks just delivered
        if self._closed:
            raise EventStreamError("the stream was closed before it completed")

    def _check_fresh(self) -> None:
        if self._ended:
            raise ReqbedError(
                "this stream was already read to the end: a stream can be iterated once "
                "(keep the chunks, or call .response() for the assembled answer)"
            )

    def _after_read(self, data: bytes | None) -> bool:
        """Decode one read (``None``: the body ended); True when the stream is complete."""
        if data is None:
            self._pending.extend(self._core.close())
            self._done = True
            if self._watchers:
                self._report(None)
            if self._deadline is not None:
                self._end_at = self._deadline.elapsed()
            return True
        self._pending.extend(self._core.feed(data))
        if self._pending and self._first_at is None and self._deadline is not None:
            self._first_at = self._deadline.elapsed()
        return False

    def _assembled(self) -> Response:
        """The assembled answer, with its request id and timings."""
        import msgspec

        return msgspec.structs.replace(
            self._core.response(),
            request_id=self._http.headers.get("x-amzn-requestid"),
            elapsed=self._end_at,
            time_to_first_token=self._first_at,
        )


class StreamResponse(_StreamState):
    """A streaming answer. Iterate for chunks; ``text_stream()`` for text; ``response()`` for all.

    Use as a context manager (``with reqbed.stream_text(...) as s:``) to release the connection
    even when you stop early. A stream that breaks raises; it never looks complete.
    """

    def __init__(
        self,
        prepared: Prepared,
        http: httpx.Response,
        *,
        served_by: str | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        super().__init__(prepared, http, served_by=served_by, deadline=deadline)
        self._bytes: Iterator[bytes] | None = None
        if http.status_code >= 300:
            try:
                with translate_transport_errors(prepared.url):
                    body = http.read()
            finally:
                self.close()
            _raise_for_status(prepared, http.status_code, http.headers, body)

    def __enter__(self) -> StreamResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> StreamResponse:
        self._check_fresh()
        return self

    def __next__(self) -> Chunk:
        while not self._pending:
            if self._done:
                self._ended = True
                raise StopIteration
            self._pull()
        return self._pending.popleft()

    def _pull(self) -> None:
        try:
            self._before_read()
            if self._deadline is not None:
                self._deadline.check()  # the call's overall deadline (timeout=), checked between reads
            reads = self._bytes
            if reads is None:
                reads = self._bytes = _reads(self._http)
            try:
                data = next(reads, None)
            except httpx.HTTPError as e:  # translated here, not by a context manager entered per read
                translate_transport_errors(self._prepared.url).__exit__(type(e), e, None)
                raise
            if self._after_read(data):
                self.close()
        except BaseException as e:
            if self._watchers:
                self._report(e)
            self.close()
            raise

    def prime(self) -> None:
        """Read until the first chunk is decoded (or the stream ends). Until then nothing reached the
        caller, so a failure here may still be retried or sent to a fallback (``_fallback.call_flow``)."""
        while not self._pending and not self._done:
            self._pull()

    def text_stream(self) -> Iterator[str]:
        """Only the answer's text fragments."""
        self._check_fresh()
        while True:
            try:
                chunk = next(self)
            except StopIteration:
                return
            if isinstance(chunk, TextChunk):
                yield chunk.text

    def response(self) -> Response:
        """Read the rest of the stream and return the assembled ``Response`` (also after iterating)."""
        while True:
            try:
                next(self)
            except StopIteration:
                break
        return self._assembled()

    def close(self) -> None:
        """Release the connection. Safe to call more than once."""
        if self._watchers:
            self._report(None)  # closed before its end
        if not self._closed:
            self._closed = True
            bytes_iter, self._bytes = self._bytes, None
            if bytes_iter is not None and hasattr(bytes_iter, "close"):
                bytes_iter.close()
            self._http.close()


def _reads(http: httpx.Response) -> Iterator[bytes]:
    """The body's network reads. Without a content encoding (event streams never have one) this is
    the transport's own byte stream, one item per HTTP chunk, without httpx's three generator layers
    (``iter_bytes`` -> decoder -> ``iter_raw``) per read; ``http.close()`` still closes it."""
    if http.headers.get("content-encoding", "identity").strip().lower() in ("", "identity"):
        stream = http.stream
        if isinstance(stream, httpx.SyncByteStream):
            return iter(stream)
    return http.iter_bytes()


class AsyncStreamResponse(_StreamState):
    """The async twin of ``StreamResponse`` (``async for``, ``async with``, ``await .response()``)."""

    def __init__(
        self,
        prepared: Prepared,
        http: httpx.Response,
        *,
        served_by: str | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        super().__init__(prepared, http, served_by=served_by, deadline=deadline)
        self._bytes: AsyncIterator[bytes] | None = None

    @classmethod
    async def open(
        cls,
        prepared: Prepared,
        http: httpx.Response,
        *,
        served_by: str | None = None,
        deadline: Deadline | None = None,
    ) -> AsyncStreamResponse:
        self = cls(prepared, http, served_by=served_by, deadline=deadline)
        if http.status_code >= 300:
            try:
                with translate_transport_errors(prepared.url):
                    body = await http.aread()
            finally:
                await self.aclose()
            _raise_for_status(prepared, http.status_code, http.headers, body)
        return self

    async def __aenter__(self) -> AsyncStreamResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()  # shielded: also when leaving a cancelled scope, the connection must go back

    def __aiter__(self) -> AsyncStreamResponse:
        self._check_fresh()
        return self

    async def __anext__(self) -> Chunk:
        while not self._pending:
            if self._done:
                self._ended = True
                raise StopAsyncIteration
            await self._pull()
        return self._pending.popleft()

    async def _pull(self) -> None:
        try:
            self._before_read()
            if self._bytes is None:
                self._bytes = self._http.aiter_bytes()
            with translate_transport_errors(self._prepared.url), enforce_deadline(self._deadline):
                try:
                    data: bytes | None = await self._bytes.__anext__()
                except StopAsyncIteration:
                    data = None
            if self._after_read(data):
                await self.aclose()
        except BaseException as e:
            if self._watchers:
                self._report(e)
            await self.aclose()  # shielded: completes even inside a cancelled scope
            raise

    async def prime(self) -> None:
        """Async ``StreamResponse.prime``: read until the first chunk is decoded (or the stream ends)."""
        while not self._pending and not self._done:
            await self._pull()

    def text_stream(self) -> AsyncIterator[str]:
        """Only the answer's text fragments (``async for text in s.text_stream()``)."""
        self._check_fresh()
        return _AsyncText(self)

    async def response(self) -> Response:
        """Read the rest of the stream and return the assembled ``Response`` (also after iterating)."""
        while True:
            try:
                await self.__anext__()
            except StopAsyncIteration:
                break
        return self._assembled()

    async def aclose(self) -> None:
        """Release the connection. Safe to call more than once; completes even inside a cancelled
        scope (a half-closed connection would stay checked out of the pool)."""
        if self._watchers:
            self._report(None)  # closed before its end
        if not self._closed:
            import anyio

            self._closed = True
            bytes_iter, self._bytes = self._bytes, None
            with anyio.CancelScope(shield=True):
                await self._http.aclose()
                if bytes_iter is not None:
                    await _finish(bytes_iter)


async def _finish(body: AsyncIterator[bytes]) -> None:
    """Run httpx's body iterator to its end once its response is closed.

    ``aiter_bytes`` is a stack of nested async generators (httpx, then httpcore). Closing only the
    outermost one leaves the inner ones suspended, and trio warns (``ResourceWarning``) when it
    finalizes them. With the connection closed, the next read fails at once (after any bytes already
    buffered), and that failure finishes every generator in the stack.
    """
    for _ in range(10_000):  # bounded: only already-buffered bytes can still come out
        try:
            await body.__anext__()
        except StopAsyncIteration:
            return
        except Exception:  # the read on the closed connection: exactly what finishes the stack
            return
    aclose = getattr(body, "aclose", None)
    if aclose is not None:  # pragma: no cover - a closed connection never yields this much
        await aclose()


class _AsyncText:
    """``AsyncStreamResponse.text_stream()``: an iterator object, not an async generator, so leaving
    the loop early leaves nothing for the event loop to finalize (trio warns about that)."""

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncStreamResponse) -> None:
        self._stream = stream

    def __aiter__(self) -> _AsyncText:
        return self

    async def __anext__(self) -> str:
        while True:
            chunk = await self._stream.__anext__()
            if isinstance(chunk, TextChunk):
                return chunk.text
