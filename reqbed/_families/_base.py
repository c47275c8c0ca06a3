"""The contract every request formatter implements, and the data a family declares.

A *formatter* turns a ``ChatRequest`` into a request body for one endpoint and turns that
endpoint's answer (a JSON body, or stream events) back into reqbed's types. Converse is one
formatter that serves every family; native ``/invoke`` formatters exist per family.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import msgspec

from .._capabilities import Capabilities

if TYPE_CHECKING:
    from .._model_spec import ModelSpec
    from .._request import ChatRequest
    from .._types import Chunk, Response

__all__ = ["Capabilities", "Endpoint", "Family", "Formatter", "StreamParser"]

Endpoint = Literal["converse", "invoke"]


class StreamParser(Protocol):
    """Turns one stream's events into chunks. One instance per stream; holds its own state.

    ``feed`` gets the ``:event-type`` and the event's JSON payload (for ``/invoke`` streams: the
    decoded ``bytes`` of each ``chunk`` event). ``finish`` is called once at the end of the body
    and flushes what is buffered. The stream is complete only if a ``FinishChunk`` was produced.
    """

    def feed(self, event_type: str, payload: bytes) -> list[Chunk]: ...

    def finish(self) -> list[Chunk]: ...


class Formatter(Protocol):
    """Builds bodies for one endpoint and parses its answers.

    ``parse_response`` takes the answer's HTTP headers when the caller has them: InvokeModel
    answers carry token counts there (``X-Amzn-Bedrock-Input-Token-Count`` ...), used when the
    body has none.
    """

    name: str
    endpoint: Endpoint

    def build_body(self, req: ChatRequest) -> dict[str, Any]: ...

    def parse_response(self, body: bytes, req: ChatRequest, headers: Mapping[str, str] | None = None) -> Response: ...

    def stream_parser(self, req: ChatRequest) -> StreamParser: ...


class Family(msgspec.Struct, kw_only=True, frozen=True):
    """A model vendor as the registry knows it.

    ``native`` is its ``/invoke`` formatter (None: Converse only). ``native_tools`` /
    ``native_stream_tools`` say whether that native format can carry tools (without and with
    streaming) when it is forced with ``use_converse=False`` (by default, tools go to Converse).
    ``native_accepts`` (optional) says whether the native format can carry a given request
    otherwise (its model, images, documents ...); when it says no, the endpoint rule picks Converse.
    ``capabilities`` maps a model spec to what that model can do.
    """

    name: str
    capabilities: Callable[[ModelSpec], Capabilities]
    native: Formatter | None = None
    native_tools: bool = False
    native_stream_tools: bool = False
    native_accepts: Callable[[ChatRequest], bool] | None = None
