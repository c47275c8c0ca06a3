"""reqbed: call Amazon Bedrock models from Python.

    import reqbed
    resp = reqbed.generate_text("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "Hello",
                                provider_options={"region": "us-east-1"})
    print(resp.text, resp.usage)

This module is a thin facade: everything lives in private modules and is re-exported here.
"""

from __future__ import annotations

import threading as _threading
from typing import TYPE_CHECKING, Any

from ._aws.credentials_types import AwsCredentials, BearerToken
from ._aws.keystore import clear_keys, get_key, put_key
from ._aws.mint_key import abedrock_api_key, bedrock_api_key
from ._errors import (
    AccessDeniedError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConnectionError,
    CredentialsError,
    EventStreamError,
    ModelNotReadyError,
    ModelStreamError,
    ModelTimeoutError,
    ReqbedError,
    RequestTimeoutError,
    ResourceNotFoundError,
    ServerError,
    ServiceUnavailableError,
    SignatureExpiredError,
    ThrottlingError,
    ValidationError,
)
from ._model_spec import ModelSpec, parse_model_spec
from ._retry import RetryPolicy
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

if TYPE_CHECKING:
    from ._client import Client
    from ._stream import AsyncStreamResponse, StreamResponse

__all__ = [
    "APIError",
    "AccessDeniedError",
    "AsyncStreamResponse",
    "AudioPart",
    "AuthenticationError",
    "AwsCredentials",
    "BadRequestError",
    "BearerToken",
    "Chunk",
    "Citation",
    "CitationChunk",
    "CitationsPart",
    "Client",
    "ConnectionError",
    "CredentialsError",
    "DocumentPart",
    "EventStreamError",
    "FinishChunk",
    "GuardContentPart",
    "Guardrail",
    "GuardrailChunk",
    "GuardrailResult",
    "ImagePart",
    "Message",
    "ModelNotReadyError",
    "ModelSpec",
    "ModelStreamError",
    "ModelTimeoutError",
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
    "ToolResultPart",
    "Usage",
    "UsageChunk",
    "ValidationError",
    "VideoPart",
    "__version__",
    "abedrock_api_key",
    "agenerate_text",
    "astream_text",
    "bedrock_api_key",
    "clear_keys",
    "default_client",
    "generate_text",
    "get_key",
    "parse_model_spec",
    "put_key",
    "stream_text",
]

_default_lock = _threading.Lock()
_default: Client | None = None


def default_client() -> Client:
    """The process-wide client behind the module functions (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            from ._client import Client

            _default = Client()
        return _default


def generate_text(model: str, prompt: Any, **opts: Any) -> Response:
    """Call ``model`` (``"bedrock:<model-id>"``) once and return the complete ``Response``.

    ``prompt`` is a string or a list of messages; options are documented in docs/options.md.
    """
    return default_client().generate_text(model, prompt, **opts)


async def agenerate_text(model: str, prompt: Any, **opts: Any) -> Response:
    """Async ``generate_text`` (asyncio or trio)."""
    return await default_client().agenerate_text(model, prompt, **opts)


def stream_text(model: str, prompt: Any, **opts: Any) -> StreamResponse:
    """Start a streaming call: iterate chunks, ``.text_stream()``, or ``.response()``."""
    return default_client().stream_text(model, prompt, **opts)


async def astream_text(model: str, prompt: Any, **opts: Any) -> AsyncStreamResponse:
    """Async ``stream_text`` (asyncio or trio)."""
    return await default_client().astream_text(model, prompt, **opts)


def __getattr__(name: str) -> Any:
    # httpx (and so the transport, client and streams) is imported on first use, not by ``import reqbed``
    if name == "Client":
        from ._client import Client

        return Client
    if name in ("StreamResponse", "AsyncStreamResponse"):
        from . import _stream

        return getattr(_stream, name)
    raise AttributeError(f"module 'reqbed' has no attribute {name!r}")
