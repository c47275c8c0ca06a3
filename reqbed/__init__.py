"""reqbed: call Amazon Bedrock models from Python.

    import reqbed
    resp = reqbed.generate_text("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "Hello",
                                provider_options={"region": "us-east-1"})
    print(resp.text, resp.usage)

This module is a thin facade: everything lives in private modules and is re-exported here.
"""

import os as _os
import threading as _threading
import typing as _typing
import warnings as _warnings

from . import _tools
from ._aws.credentials_types import AwsCredentials, BearerToken
from ._aws.keystore import clear_keys, get_key, put_key
from ._embed.result import Embeddings
from ._errors import (
    AccessDeniedError,
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CredentialsError,
    EventStreamError,
    ModelNotReadyError,
    ModelStreamError,
    ModelTimeoutError,
    ObjectGenerationError,
    ReqbedError,
    RequestTimeoutError,
    ResourceNotFoundError,
    ServerError,
    ServiceUnavailableError,
    SignatureExpiredError,
    ThrottlingError,
    ValidationError,
)
from ._interop import from_anthropic, from_openai
from ._model_spec import ModelSpec, parse_model_spec
from ._options import NO_PROMPT as _NO_PROMPT
from ._options import ChatOptions, EmbedOptions, ObjectOptions, ProviderOptions, ToolRunOptions
from ._options import EmbedInputs as _EmbedInputs
from ._options import Prompt as _Prompt
from ._retry import RetryPolicy
from ._tools import MaxStepsError, ToolFunction, ToolRun, tool
from ._types import (
    AudioPart,
    Chunk,
    Citation,
    CitationChunk,
    CitationsPart,
    DocumentPart,
    FinishChunk,
    GuardContentPart,
    Guardrail,
    GuardrailChunk,
    GuardrailResult,
    ImagePart,
    Message,
    RedactedThinkingPart,
    Response,
    TextChunk,
    TextPart,
    ThinkingChunk,
    ThinkingPart,
    Tool,
    ToolCall,
    ToolCallChunk,
    ToolCallDeltaChunk,
    ToolResultPart,
    Usage,
    UsageChunk,
    VideoPart,
)
from ._version import __version__

if _typing.TYPE_CHECKING:
    from os import PathLike

    from typing_extensions import Unpack  # typing.Unpack from 3.11; only type checkers read this

    from . import models, telemetry
    from ._aws.mint_key import abedrock_api_key, bedrock_api_key
    from ._bulk._map import Operation as _Operation
    from ._bulk._map import Progress as _Progress
    from ._bulk._result import MapProgress, MapResult, MapStats
    from ._catalog._cost import UsageTotals
    from ._catalog._types import Cost
    from ._client import Client
    from ._object.result import AsyncObjectStreamResponse, ObjectResponse, ObjectStreamResponse
    from ._options import CountTokensOptions
    from ._stream import AsyncStreamResponse, StreamResponse

    _PathLike = str | PathLike[str]

__all__ = [
    "APIConnectionError",
    "APIError",
    "AccessDeniedError",
    "AsyncObjectStreamResponse",
    "AsyncStreamResponse",
    "AudioPart",
    "AuthenticationError",
    "AwsCredentials",
    "BadRequestError",
    "BearerToken",
    "ChatOptions",
    "Chunk",
    "Citation",
    "CitationChunk",
    "CitationsPart",
    "Client",
    "Cost",
    "CredentialsError",
    "DocumentPart",
    "EmbedOptions",
    "Embeddings",
    "EventStreamError",
    "FinishChunk",
    "GuardContentPart",
    "Guardrail",
    "GuardrailChunk",
    "GuardrailResult",
    "ImagePart",
    "MapProgress",
    "MapResult",
    "MapStats",
    "MaxStepsError",
    "Message",
    "ModelNotReadyError",
    "ModelSpec",
    "ModelStreamError",
    "ModelTimeoutError",
    "ObjectGenerationError",
    "ObjectOptions",
    "ObjectResponse",
    "ObjectStreamResponse",
    "ProviderOptions",
    "RedactedThinkingPart",
    "ReqbedError",
    "RequestTimeoutError",
    "ResourceNotFoundError",
    "Response",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "SignatureExpiredError",
    "StreamResponse",
    "TextChunk",
    "TextPart",
    "ThinkingChunk",
    "ThinkingPart",
    "ThrottlingError",
    "Tool",
    "ToolCall",
    "ToolCallChunk",
    "ToolCallDeltaChunk",
    "ToolFunction",
    "ToolResultPart",
    "ToolRun",
    "ToolRunOptions",
    "Usage",
    "UsageChunk",
    "UsageTotals",
    "ValidationError",
    "VideoPart",
    "__version__",
    "abedrock_api_key",
    "acount_tokens",
    "aembed",
    "agenerate_object",
    "agenerate_text",
    "amap",
    "amap_jsonl",
    "arun_tools",
    "astream_object",
    "astream_text",
    "bedrock_api_key",
    "clear_keys",
    "count_tokens",
    "default_client",
    "embed",
    "from_anthropic",
    "from_openai",
    "generate_object",
    "generate_text",
    "get_key",
    "map",
    "map_jsonl",
    "models",
    "parse_model_spec",
    "put_key",
    "run_tools",
    "stream_object",
    "stream_text",
    "telemetry",
    "tool",
]

_default_lock = _threading.Lock()
_default: "Client | None" = None


def default_client() -> "Client":
    """The process-wide client behind the module functions (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            from ._client import Client

            _default = Client()
        return _default


def generate_text(model: str, prompt: _Prompt = _NO_PROMPT, **opts: "Unpack[ChatOptions]") -> Response:
    """Call ``model`` (``"bedrock:<model-id>"``) once and return the complete ``Response``.

    ``prompt`` is a string or a list of messages; options are documented in docs/options.md.
    """
    return default_client().generate_text(model, prompt, **opts)


async def agenerate_text(model: str, prompt: _Prompt = _NO_PROMPT, **opts: "Unpack[ChatOptions]") -> Response:
    """Async ``generate_text`` (asyncio or trio)."""
    return await default_client().agenerate_text(model, prompt, **opts)


def stream_text(model: str, prompt: _Prompt = _NO_PROMPT, **opts: "Unpack[ChatOptions]") -> "StreamResponse":
    """Start a streaming call: iterate chunks, ``.text_stream()``, or ``.response()``."""
    return default_client().stream_text(model, prompt, **opts)


async def astream_text(
    model: str, prompt: _Prompt = _NO_PROMPT, **opts: "Unpack[ChatOptions]"
) -> "AsyncStreamResponse":
    """Async ``stream_text`` (asyncio or trio)."""
    return await default_client().astream_text(model, prompt, **opts)


def run_tools(
    model: str,
    prompt: _Prompt,
    *,
    tools: _typing.Sequence[_typing.Callable[..., _typing.Any]],
    max_steps: int = 10,
    client: "Client | None" = None,
    **opts: "Unpack[ToolRunOptions]",
) -> ToolRun:
    """Call ``model`` and run the tools it asks for until it answers without tools (docs/tools.md).

    ``tools``: Python functions (sync or async) or ``@reqbed.tool`` objects; ``max_steps``: the most
    model calls (``MaxStepsError`` after that, carrying the transcript); ``client``: the
    ``reqbed.Client`` to call through (the default client otherwise); other options as for
    ``generate_text``. Returns a ``ToolRun`` (``.text``, ``.response``, ``.messages``, ``.usage``).
    """
    return _tools.run_tools(client or default_client(), model, prompt, tools=tools, max_steps=max_steps, **opts)


async def arun_tools(
    model: str,
    prompt: _Prompt,
    *,
    tools: _typing.Sequence[_typing.Callable[..., _typing.Any]],
    max_steps: int = 10,
    client: "Client | None" = None,
    **opts: "Unpack[ToolRunOptions]",
) -> ToolRun:
    """Async ``run_tools`` (asyncio or trio); a turn's async tool calls run concurrently."""
    return await _tools.arun_tools(client or default_client(), model, prompt, tools=tools, max_steps=max_steps, **opts)


def embed(model: str, inputs: _EmbedInputs, **opts: "Unpack[EmbedOptions]") -> Embeddings:
    """Embed ``inputs`` with ``model``: one vector per input, in input order (docs/embeddings.md)."""
    return default_client().embed(model, inputs, **opts)


async def aembed(model: str, inputs: _EmbedInputs, **opts: "Unpack[EmbedOptions]") -> Embeddings:
    """Async ``embed`` (asyncio or trio)."""
    return await default_client().aembed(model, inputs, **opts)


def count_tokens(model: str, prompt: _Prompt, **opts: "Unpack[CountTokensOptions]") -> int:
    """The input tokens of the request ``generate_text`` would send for the same arguments, counted by
    Bedrock's CountTokens API; ``estimate=True``: a local estimate for models it does not serve
    (docs/count-tokens.md)."""
    return default_client().count_tokens(model, _typing.cast(_typing.Any, prompt), **opts)


async def acount_tokens(model: str, prompt: _Prompt, **opts: "Unpack[CountTokensOptions]") -> int:
    """Async ``count_tokens`` (asyncio or trio)."""
    return await default_client().acount_tokens(model, _typing.cast(_typing.Any, prompt), **opts)


_T = _typing.TypeVar("_T")


@_typing.overload
def generate_object(
    model: str, prompt: _Prompt, schema: "type[_T]", **opts: "Unpack[ObjectOptions]"
) -> "ObjectResponse[_T]": ...
@_typing.overload
def generate_object(
    model: str, prompt: _Prompt, schema: _typing.Any, **opts: "Unpack[ObjectOptions]"
) -> "ObjectResponse[_typing.Any]": ...
def generate_object(
    model: str, prompt: _Prompt, schema: _typing.Any, **opts: "Unpack[ObjectOptions]"
) -> "ObjectResponse[_typing.Any]":
    """Ask ``model`` for an object matching ``schema`` (a type, or a JSON Schema dict) and return
    it validated: ``.object`` (an instance of the type; the decoded JSON for a dict), ``.response``.
    ``ObjectGenerationError`` when the answer holds no valid object (docs/structured-output.md)."""
    return default_client().generate_object(model, _typing.cast(_typing.Any, prompt), schema, **opts)


@_typing.overload
async def agenerate_object(
    model: str, prompt: _Prompt, schema: "type[_T]", **opts: "Unpack[ObjectOptions]"
) -> "ObjectResponse[_T]": ...
@_typing.overload
async def agenerate_object(
    model: str, prompt: _Prompt, schema: _typing.Any, **opts: "Unpack[ObjectOptions]"
) -> "ObjectResponse[_typing.Any]": ...
async def agenerate_object(
    model: str, prompt: _Prompt, schema: _typing.Any, **opts: "Unpack[ObjectOptions]"
) -> "ObjectResponse[_typing.Any]":
    """Async ``generate_object`` (asyncio or trio)."""
    return await default_client().agenerate_object(model, _typing.cast(_typing.Any, prompt), schema, **opts)


@_typing.overload
def stream_object(
    model: str, prompt: _Prompt, schema: "type[_T]", **opts: "Unpack[ObjectOptions]"
) -> "ObjectStreamResponse[_T]": ...
@_typing.overload
def stream_object(
    model: str, prompt: _Prompt, schema: _typing.Any, **opts: "Unpack[ObjectOptions]"
) -> "ObjectStreamResponse[_typing.Any]": ...
def stream_object(
    model: str, prompt: _Prompt, schema: _typing.Any, **opts: "Unpack[ObjectOptions]"
) -> "ObjectStreamResponse[_typing.Any]":
    """Stream an object: ``with`` it, iterate ``.partial_objects()``, then ``.response()``."""
    return default_client().stream_object(model, _typing.cast(_typing.Any, prompt), schema, **opts)


@_typing.overload
async def astream_object(
    model: str, prompt: _Prompt, schema: "type[_T]", **opts: "Unpack[ObjectOptions]"
) -> "AsyncObjectStreamResponse[_T]": ...
@_typing.overload
async def astream_object(
    model: str, prompt: _Prompt, schema: _typing.Any, **opts: "Unpack[ObjectOptions]"
) -> "AsyncObjectStreamResponse[_typing.Any]": ...
async def astream_object(
    model: str, prompt: _Prompt, schema: _typing.Any, **opts: "Unpack[ObjectOptions]"
) -> "AsyncObjectStreamResponse[_typing.Any]":
    """Async ``stream_object`` (asyncio or trio): ``async with``, ``async for`` over ``partial_objects()``."""
    return await default_client().astream_object(model, _typing.cast(_typing.Any, prompt), schema, **opts)


def map(  # the name; the builtin is not used in this module
    model: str,
    prompts: _typing.Iterable[_typing.Any],
    *,
    concurrency: int = 16,
    return_exceptions: bool = True,
    operation: "_Operation" = "text",
    on_progress: "_Progress | None" = None,
    **opts: _typing.Any,
) -> "MapResult[_typing.Any]":
    """Call ``model`` once per prompt, up to ``concurrency`` at a time, and return the results in input
    order (a ``MapResult``: a list of ``Response`` s, each failure kept in place as its ``ReqbedError``).

    Concurrency adapts to throttling (halved on a throttle, grown back by one after as many successes
    as the current limit, never above ``concurrency``); ``result.stats`` reports it. ``operation``:
    ``"text"`` (``generate_text``), ``"object"`` (``generate_object``, with ``schema=``) or ``"embed"``.
    ``return_exceptions=False`` raises the first failure after cancelling the calls in flight.
    ``on_progress(MapProgress)`` is called after each call. Other options go to every call (docs/bulk.md).
    """
    return default_client().map(
        model,
        prompts,
        concurrency=concurrency,
        return_exceptions=return_exceptions,
        operation=operation,
        on_progress=on_progress,
        **opts,
    )


async def amap(
    model: str,
    prompts: _typing.Iterable[_typing.Any],
    *,
    concurrency: int = 16,
    return_exceptions: bool = True,
    operation: "_Operation" = "text",
    on_progress: "_Progress | None" = None,
    **opts: _typing.Any,
) -> "MapResult[_typing.Any]":
    """Async ``map`` (asyncio or trio)."""
    return await default_client().amap(
        model,
        prompts,
        concurrency=concurrency,
        return_exceptions=return_exceptions,
        operation=operation,
        on_progress=on_progress,
        **opts,
    )


def map_jsonl(model: str, in_path: "_PathLike", out_path: "_PathLike", **kwargs: _typing.Any) -> "MapStats":
    """``map`` from a JSONL file (``{"id": ..., "prompt": ...}`` a line) to a JSONL file, one row per call
    as it completes; rerunning skips the ids already written (docs/bulk.md: options, durability)."""
    return default_client().map_jsonl(model, in_path, out_path, **kwargs)


async def amap_jsonl(model: str, in_path: "_PathLike", out_path: "_PathLike", **kwargs: _typing.Any) -> "MapStats":
    """Async ``map_jsonl`` (asyncio or trio)."""
    return await default_client().amap_jsonl(model, in_path, out_path, **kwargs)


_LAZY_MODULES = {
    "MapProgress": "_bulk._result",
    "MapResult": "_bulk._result",
    "MapStats": "_bulk._result",
    "Client": "_client",
    "StreamResponse": "_stream",
    "AsyncStreamResponse": "_stream",
    "Cost": "_catalog._types",
    "UsageTotals": "_catalog._cost",
    # loaded on first use so that `import reqbed` (and the `reqbed` command's start-up) stays light
    "bedrock_api_key": "_aws.mint_key",
    "abedrock_api_key": "_aws.mint_key",
    "ObjectResponse": "_object.result",
    "ObjectStreamResponse": "_object.result",
    "AsyncObjectStreamResponse": "_object.result",
}
#: Old names still importable, with a DeprecationWarning, and kept out of ``__all__``.
_DEPRECATED = {
    "ConnectionError": ("APIConnectionError", APIConnectionError),
}


def __getattr__(name: str) -> _typing.Any:
    # httpx (and so the transport, client and streams) is imported on first use, not by ``import reqbed``
    if name in _LAZY_MODULES:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY_MODULES[name]}", __name__), name)
        if value.__module__ != __name__:
            _public_module(value)
        return value
    if name in _DEPRECATED:
        new, value = _DEPRECATED[name]
        _warnings.warn(
            f"reqbed.{name} is deprecated (it shadowed the builtin); use reqbed.{new}", DeprecationWarning, stacklevel=2
        )
        return value
    if name in ("models", "telemetry"):  # the model catalog and the OpenTelemetry switch load on first use too
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'reqbed' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (and loaded public submodules such as ``reqbed.testing``), not the imports."""
    names = globals()
    modules = (n for n, v in names.items() if isinstance(v, type(_typing)) and not n.startswith("_"))
    return sorted({*__all__, *modules, *(n for n in names if n.startswith("__"))})


def _public_module(value: _typing.Any) -> None:
    """Show ``value`` as ``reqbed.X`` in reprs and tracebacks (as httpx does), not ``reqbed._errors.X``.

    Its own string annotations (``from __future__ import annotations``) are first evaluated where they
    were written: msgspec and ``typing.get_type_hints`` resolve them in ``__module__``'s namespace,
    which is about to become this facade's.
    """
    import inspect
    import sys

    if isinstance(value, type) and any(isinstance(h, str) for h in inspect.get_annotations(value).values()):
        home, own = vars(sys.modules[value.__module__]), dict(vars(value))
        resolved = {}
        for key, hint in inspect.get_annotations(value).items():
            try:
                resolved[key] = eval(hint, home, own) if isinstance(hint, str) else hint  # noqa: S307 - reqbed's own
            except NameError:  # a name imported for type checkers only: leave it as written
                resolved[key] = hint
        value.__annotations__ = resolved
    value.__module__ = __name__


if _os.environ.get("REQBED_OTEL", "").strip().lower() in ("1", "true", "yes"):  # docs/observability.md
    from . import telemetry as _telemetry

    _telemetry._enable_from_env()

for _name in __all__:
    _value = globals().get(_name)
    if (isinstance(_value, type) or callable(_value)) and str(getattr(_value, "__module__", "")).startswith("reqbed."):
        _public_module(_value)
del _name, _value
