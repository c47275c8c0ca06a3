"""``ObjectResponse`` and the streamed object's pure state (``ObjectStreamState``).

``ObjectStreamResponse`` / ``AsyncObjectStreamResponse`` wrap any chunk stream with the shape of
``StreamResponse`` (iterate chunks, ``response()``, ``close()``): iterating yields the underlying
chunks, ``partial_objects()`` the growing snapshots, ``response()`` the validated
``ObjectResponse``. They hold no I/O of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import msgspec

from .._types import Chunk, FinishReason, Response, TextChunk, ToolCallChunk, ToolCallDeltaChunk, Usage
from .partial_json import NOTHING, PartialJSON
from .schema import WRAP_KEY

if TYPE_CHECKING:
    from .._catalog._types import Cost

__all__ = ["AsyncObjectStreamResponse", "ObjectResponse", "ObjectStreamResponse", "ObjectStreamState"]

T = TypeVar("T")


class ObjectPlan(Protocol):
    """What a stream needs of ``shape.ObjectPlan`` (which builds on this module, so it is named by shape)."""

    @property
    def mode(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def wrapped(self) -> bool: ...

    def finish_with_value(self, response: Response) -> tuple[ObjectResponse[Any], Any]: ...


class ObjectResponse(msgspec.Struct, Generic[T], kw_only=True, frozen=True):
    """A validated object and the ``Response`` it came from.

    ``object`` is an instance of the schema's type (the decoded JSON value for a dict schema);
    ``response`` the full answer (text, usage, finish reason, raw ...); ``usage``,
    ``finish_reason`` and ``cost`` are shortcuts to it.
    """

    object: T
    response: Response

    @property
    def usage(self) -> Usage:
        return self.response.usage

    @property
    def finish_reason(self) -> FinishReason:
        return self.response.finish_reason

    @property
    def cost(self) -> Cost:
        """What the call cost (``Response.cost``: priced from the catalog on first access)."""
        return self.response.cost


class ObjectStreamState:
    """Chunks in, snapshots out: the pure part of a streamed object.

    ``feed(chunk)`` returns the new snapshots (zero or one) of the object as it grows, each a
    valid JSON value parsed from the streamed prefix (``PartialJSON``): text deltas in native and
    json modes, the tool's argument deltas in tool mode. ``finish(response)`` validates the
    whole answer (``ObjectPlan.finish``: raises ``ObjectGenerationError``) and returns the
    ``ObjectResponse`` plus a last snapshot when the streamed ones did not already end on the
    final value, so the last snapshot always equals the final JSON value.
    """

    def __init__(self, plan: ObjectPlan) -> None:
        self._plan = plan
        self._parser = PartialJSON(skip_prose=plan.mode == "json")
        self._tool_index: int | None = None
        self._last: Any = NOTHING

    def _snapshot(self) -> list[Any]:
        if not self._parser.changed():
            return []
        snap = self._parser.snapshot()
        if self._plan.wrapped:
            snap = snap.get(WRAP_KEY, NOTHING) if isinstance(snap, dict) else NOTHING
        if snap is NOTHING or (snap == self._last if not isinstance(snap, (dict, list)) else False):
            return []
        self._last = snap
        return [snap]

    def feed(self, chunk: Chunk) -> list[Any]:
        if self._plan.mode == "tool":
            if isinstance(chunk, ToolCallDeltaChunk):
                if chunk.name == self._plan.name and self._tool_index is None:
                    self._tool_index = chunk.index
                if chunk.index == self._tool_index and chunk.arguments_delta:
                    self._parser.feed(chunk.arguments_delta)
                    return self._snapshot()
            elif (
                isinstance(chunk, ToolCallChunk)
                and chunk.tool_call.name == self._plan.name
                and self._tool_index is None
            ):  # a parser that sends whole calls only
                self._tool_index = chunk.index
                self._parser.feed(msgspec.json.encode(chunk.tool_call.arguments).decode())
                return self._snapshot()
            return []
        if isinstance(chunk, TextChunk) and chunk.text:
            self._parser.feed(chunk.text)
            return self._snapshot()
        return []

    def finish(self, response: Response) -> tuple[ObjectResponse[Any], list[Any]]:
        result, plain = self._plan.finish_with_value(response)
        if self._last is NOTHING or self._last != plain:
            self._last = plain
            return result, [plain]
        return result, []


class ChunkStream(Protocol):
    def __iter__(self) -> Iterator[Chunk]: ...

    def response(self) -> Response: ...

    def close(self) -> None: ...


class AsyncChunkStream(Protocol):
    def __aiter__(self) -> AsyncIterator[Chunk]: ...

    async def response(self) -> Response: ...

    async def aclose(self) -> None: ...


class ObjectStreamResponse(Generic[T]):
    """A streamed object: a context manager like ``StreamResponse``.

    Iterating yields the underlying chunks; ``partial_objects()`` yields dict (or list) snapshots
    of the object as it grows, the last equal to the final JSON value; ``response()`` reads the
    rest of the stream and returns the validated ``ObjectResponse`` (``ObjectGenerationError``
    when no valid object came out). Snapshots share their finished parts: treat them as read-only.
    """

    def __init__(self, stream: ChunkStream, plan: ObjectPlan) -> None:
        self._stream = stream
        self._state = ObjectStreamState(plan)
        self._pending: list[Any] = []
        self._result: ObjectResponse[T] | None = None
        self._chunks: Iterator[Chunk] | None = None

    def __enter__(self) -> ObjectStreamResponse[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Chunk]:
        if self._chunks is None:
            self._chunks = iter(self._stream)
        while True:  # ``next``, not ``for``: this wrapper resumes the one stream (iterable once)
            try:
                chunk = next(self._chunks)
            except StopIteration:
                return
            self._pending.extend(self._state.feed(chunk))
            yield chunk

    def partial_objects(self) -> Iterator[Any]:
        """The snapshots, in order, ending with the final value (then the stream is complete)."""
        for _ in self:
            yield from self._pending
            self._pending.clear()
        self._finish()
        yield from self._pending
        self._pending.clear()

    def _finish(self) -> ObjectResponse[T]:
        if self._result is None:
            for _ in self:  # whatever was not read yet
                pass
            result, last = self._state.finish(self._stream.response())
            self._pending.extend(last)
            self._result = result
        return self._result

    def response(self) -> ObjectResponse[T]:
        """The validated object (reads the rest of the stream)."""
        return self._finish()

    def close(self) -> None:
        self._stream.close()


class AsyncObjectStreamResponse(Generic[T]):
    """``ObjectStreamResponse`` for async code (asyncio or trio)."""

    def __init__(self, stream: AsyncChunkStream, plan: ObjectPlan) -> None:
        self._stream = stream
        self._state = ObjectStreamState(plan)
        self._pending: list[Any] = []
        self._result: ObjectResponse[T] | None = None
        self._chunks: AsyncIterator[Chunk] | None = None

    async def __aenter__(self) -> AsyncObjectStreamResponse[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def __aiter__(self) -> AsyncIterator[Chunk]:
        if self._chunks is None:
            self._chunks = aiter(self._stream)
        while True:  # ``anext``, not ``async for``: this wrapper resumes the one stream (iterable once)
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                return
            self._pending.extend(self._state.feed(chunk))
            yield chunk

    async def partial_objects(self) -> AsyncIterator[Any]:
        """The snapshots, in order, ending with the final value."""
        async for _ in self:
            for snap in self._pending:
                yield snap
            self._pending.clear()
        await self._finish()
        for snap in self._pending:
            yield snap
        self._pending.clear()

    async def _finish(self) -> ObjectResponse[T]:
        if self._result is None:
            async for _ in self:
                pass
            result, last = self._state.finish(await self._stream.response())
            self._pending.extend(last)
            self._result = result
        return self._result

    async def response(self) -> ObjectResponse[T]:
        """The validated object (reads the rest of the stream)."""
        return await self._finish()

    async def aclose(self) -> None:
        await self._stream.aclose()
