"""Operations: one small object per verb, and the only thing a new verb has to write.

An operation says what differs from verb to verb; ``Client._call`` / ``Client._acall`` (the one
send path) do everything else, the same for every verb: credentials (step 6), signing (7),
sending (8), and the attempt flow around them (retries, fallbacks, deadline, clock-skew re-sign:
``_fallback.call_flow``). An operation gives:

- ``plan(environ)``: steps 1-5, pure: the call's targets (its own, then any fallbacks), each a
  ``_pipeline.Prepared``, which carries the HTTP method, host rule (``site``) and path, body,
  headers (``Accept``), the SigV4 service name and the credentials found without I/O;
- ``error(status, headers, body)``: the endpoint's error answer as reqbed's error (used on the
  clock-skew check; default: Bedrock's JSON errors, ``map_api_error``);
- step 9: ``finish`` / ``afinish`` turn the answer into the result. A ``WholeAnswer`` operation
  reads the body (under the deadline) and only writes the pure ``parse``; a streaming operation
  opens and primes its stream (the sync and async stream classes differ, hence two methods).

``Operation[R, AR]``: ``R`` is what the sync call returns, ``AR`` the async one (the same type
except for streams). Adding a verb (embeddings on ``/invoke``, ``count-tokens``, control-plane
GETs on ``bedrock.{region}.amazonaws.com``) is one subclass and a one-line public method:
``Client``'s send path does not change (tests/test_operation.py holds it to that).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from ._errors import APIError, map_api_error
from ._fallback import Target, plan_targets
from ._pipeline import ChatPrepared, prepare
from ._transport import translate_transport_errors

if TYPE_CHECKING:
    import httpx

    from ._families import Formatter
    from ._object.result import AsyncObjectStreamResponse, ObjectResponse, ObjectStreamResponse
    from ._object.shape import ObjectPlan
    from ._retry import Deadline
    from ._stream import AsyncStreamResponse, StreamResponse
    from ._types import Response

__all__ = [
    "GenerateObject",
    "GenerateText",
    "Operation",
    "StreamObject",
    "StreamText",
    "WholeAnswer",
    "read_body",
]

R = TypeVar("R")
AR = TypeVar("AR")


class Operation(Generic[R, AR]):
    """One verb: how to prepare its targets, and how to turn an answer into its result."""

    __slots__ = ()

    def plan(self, environ: Mapping[str, str]) -> list[Target]:
        """Steps 1-5 (pure): the targets to try, in order. Bad input raises ``ValidationError`` here."""
        raise NotImplementedError

    def error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIError:
        """The endpoint's error answer as reqbed's error."""
        return map_api_error(status, headers, body)

    def finish(self, target: Target, response: httpx.Response, deadline: Deadline) -> R:
        """Step 9 (sync): the answer to ``target``'s request as the call's result."""
        raise NotImplementedError

    async def afinish(self, target: Target, response: httpx.Response, deadline: Deadline) -> AR:
        """Step 9 (async)."""
        raise NotImplementedError


class WholeAnswer(Operation[R, R]):
    """A verb whose answer is read whole and parsed (everything but streams): write ``parse``."""

    __slots__ = ()

    def parse(self, target: Target, status: int, headers: Mapping[str, str], body: bytes) -> R:
        """Step 9, pure: raise the mapped error for an error status, else parse ``body``."""
        raise NotImplementedError

    def finish(self, target: Target, response: httpx.Response, deadline: Deadline) -> R:
        with translate_transport_errors(target.prepared.url):
            try:
                body = read_body(response, deadline)
            finally:
                response.close()
        return self.parse(target, response.status_code, response.headers, body)

    async def afinish(self, target: Target, response: httpx.Response, deadline: Deadline) -> R:
        with translate_transport_errors(target.prepared.url):
            try:
                body = await response.aread()
            finally:
                await response.aclose()
        return self.parse(target, response.status_code, response.headers, body)


def read_body(response: httpx.Response, deadline: Deadline | None = None) -> bytes:
    """Read a whole (sync) body, checking the deadline between network reads."""
    if deadline is None or deadline.at is None:
        return response.read()
    parts: list[bytes] = []
    for part in response.iter_bytes():
        parts.append(part)
        deadline.check()
    return b"".join(parts)


# -- chat --------------------------------------------------------------------------------------------


class _Chat:
    """What both chat verbs share: the call's arguments and its plan (``_pipeline.prepare``)."""

    __slots__ = ("model", "opts", "prompt")
    stream = False

    def __init__(self, model: str, prompt: Any, opts: Mapping[str, Any]) -> None:
        self.model = model
        self.prompt = prompt
        self.opts = opts

    def plan(self, environ: Mapping[str, str]) -> list[Target]:
        one = functools.partial(_prepare_chat, prompt=self.prompt, stream=self.stream, environ=environ)
        return plan_targets(self.model, self.opts, one)


def _prepare_chat(
    model: str, opts: Mapping[str, Any], *, prompt: Any, stream: bool, environ: Mapping[str, str]
) -> ChatPrepared:
    return prepare(model, prompt, opts, stream=stream, environ=environ)


def _chat(target: Target) -> ChatPrepared:
    return cast(ChatPrepared, target.prepared)


class GenerateText(_Chat, WholeAnswer["Response"]):
    """``generate_text``: ``/converse`` or ``/invoke``, parsed into a ``Response``."""

    __slots__ = ()

    def parse(self, target: Target, status: int, headers: Mapping[str, str], body: bytes) -> Response:
        return target.stamp(_chat(target).parse(status, headers, body))

    def finish(self, target: Target, response: httpx.Response, deadline: Deadline) -> Response:
        return _timed(super().finish(target, response, deadline), response, deadline)

    async def afinish(self, target: Target, response: httpx.Response, deadline: Deadline) -> Response:
        return _timed(await super().afinish(target, response, deadline), response, deadline)


def _timed(result: Response, response: httpx.Response, deadline: Deadline) -> Response:
    import msgspec

    return msgspec.structs.replace(
        result, request_id=response.headers.get("x-amzn-requestid"), elapsed=deadline.elapsed()
    )


class StreamText(_Chat, Operation["StreamResponse", "AsyncStreamResponse"]):
    """``stream_text``: ``/converse-stream`` or ``/invoke-with-response-stream``. The result is
    returned once the first chunk is decoded: until then a failure may still be retried or sent
    to a fallback; afterwards it is the caller's."""

    __slots__ = ()
    stream = True

    def finish(self, target: Target, response: httpx.Response, deadline: Deadline) -> StreamResponse:
        return open_stream(target, response, deadline)

    async def afinish(self, target: Target, response: httpx.Response, deadline: Deadline) -> AsyncStreamResponse:
        return await aopen_stream(target, response, deadline)


def open_stream(target: Target, response: httpx.Response, deadline: Deadline) -> StreamResponse:
    """A chat stream's step 9 (sync): the ``StreamResponse``, primed with its first chunk."""
    from ._stream import StreamResponse

    stream = StreamResponse(_chat(target), response, served_by=target.served_by, deadline=deadline)
    stream.prime()
    return stream


async def aopen_stream(target: Target, response: httpx.Response, deadline: Deadline) -> AsyncStreamResponse:
    """A chat stream's step 9 (async)."""
    from ._stream import AsyncStreamResponse

    stream = await AsyncStreamResponse.open(_chat(target), response, served_by=target.served_by, deadline=deadline)
    await stream.prime()
    return stream


# -- structured output ------------------------------------------------------------------------------


class _ObjectChat(_Chat):
    """What both object verbs share: the schema, and one ``ObjectPlan`` per target.

    Each target (the call's model, then each fallback) is planned on its own (``plan_object``:
    its mode, tool or instruction, schema adaptation), then prepared as a chat call on the plan's
    prompt and options, with native mode's body fields for the formatter step 3 chose added by
    ``prepare``'s ``extra_body``. ``plans[target.index]`` finishes that target's answer.
    """

    __slots__ = ("plans", "schema")

    def __init__(self, model: str, prompt: Any, schema: Any, opts: Mapping[str, Any]) -> None:
        super().__init__(model, prompt, opts)
        self.schema = schema
        self.plans: list[ObjectPlan] = []

    def plan(self, environ: Mapping[str, str]) -> list[Target]:
        self.plans = []
        return plan_targets(self.model, self.opts, functools.partial(self._prepare_one, environ=environ))

    def _prepare_one(self, model: str, opts: Mapping[str, Any], *, environ: Mapping[str, str]) -> ChatPrepared:
        from ._object.shape import plan_object

        plan = plan_object(model, self.prompt, self.schema, opts, stream=self.stream)
        prepared = prepare(
            model, plan.prompt, plan.chat_options, stream=self.stream, environ=environ, extra_body=_native_fields(plan)
        )
        self.plans.append(plan)
        return prepared


def _native_fields(plan: ObjectPlan) -> Callable[[Formatter], Mapping[str, Any]]:
    def fields(formatter: Formatter) -> Mapping[str, Any]:
        return plan.body_fields_for(formatter.name)

    return fields


class GenerateObject(_ObjectChat, WholeAnswer["ObjectResponse[Any]"]):
    """``generate_object``: a chat call shaped by its plan; the answer validated into the object."""

    __slots__ = ()

    def parse(self, target: Target, status: int, headers: Mapping[str, str], body: bytes) -> ObjectResponse[Any]:
        response = target.stamp(_chat(target).parse(status, headers, body))
        return self.plans[target.index].finish(response)


class StreamObject(_ObjectChat, Operation["ObjectStreamResponse[Any]", "AsyncObjectStreamResponse[Any]"]):
    """``stream_object``: the chat stream (``open_stream``) read through the target's plan."""

    __slots__ = ()
    stream = True

    def finish(self, target: Target, response: httpx.Response, deadline: Deadline) -> ObjectStreamResponse[Any]:
        from ._object.result import ObjectStreamResponse

        return ObjectStreamResponse(open_stream(target, response, deadline), self.plans[target.index])

    async def afinish(
        self, target: Target, response: httpx.Response, deadline: Deadline
    ) -> AsyncObjectStreamResponse[Any]:
        from ._object.result import AsyncObjectStreamResponse

        return AsyncObjectStreamResponse(await aopen_stream(target, response, deadline), self.plans[target.index])
