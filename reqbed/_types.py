"""reqbed's public data types: messages and their parts, tools, responses, stream chunks.

All are msgspec Structs. Parts and chunks are tagged unions whose tag is the ``type`` field, so a
plain dict such as ``{"type": "text", "text": "hi"}`` converts to ``TextPart`` and every part and
chunk has a ``.type``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union

import msgspec

if TYPE_CHECKING:
    from ._catalog._types import Cost

__all__ = [
    "AudioPart",
    "Chunk",
    "Citation",
    "CitationChunk",
    "CitationsPart",
    "ContentPart",
    "DocumentPart",
    "FinishChunk",
    "FinishReason",
    "GuardContentPart",
    "Guardrail",
    "GuardrailChunk",
    "GuardrailResult",
    "ImagePart",
    "Message",
    "RedactedThinkingPart",
    "Response",
    "Role",
    "TextChunk",
    "TextPart",
    "ThinkingChunk",
    "ThinkingPart",
    "Tool",
    "ToolCall",
    "ToolCallChunk",
    "ToolCallDeltaChunk",
    "ToolResultPart",
    "Usage",
    "UsageChunk",
    "VideoPart",
]

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "stop_sequence", "error"]


class _Part(msgspec.Struct, kw_only=True, tag_field="type", omit_defaults=True, forbid_unknown_fields=True):
    """Each part declares ``type``, its tag, as a ``ClassVar[Literal[...]]`` (not a field: msgspec
    writes and reads the tag itself), so ``if part.type == "text": part.text`` narrows for type checkers."""


class TextPart(_Part, tag="text"):
    """Plain text. ``cache_control`` (Anthropic-style ``{"type": "ephemeral"}``) marks a cache point."""

    type: ClassVar[Literal["text"]] = "text"

    text: str
    cache_control: dict[str, Any] | None = None


class ImagePart(_Part, tag="image"):
    """An image: raw bytes and their media type (``image/png``, ``image/jpeg``, ``image/gif``, ``image/webp``).
    Instead of bytes, ``s3={"uri": "s3://bucket/key", "bucket_owner": "123456789012"}`` (Converse only)."""

    type: ClassVar[Literal["image"]] = "image"

    media_type: str
    data: bytes = b""
    s3: dict[str, str] | None = None


class DocumentPart(_Part, tag="document"):
    """A document: raw bytes, ``format`` (pdf, csv, doc, docx, xls, xlsx, html, txt, md) and a name.

    ``citations=True`` asks the model to cite it (Converse's ``citations.enabled``: the answer's
    ``Response.citations``); ``context`` is extra text about the document for the model."""

    type: ClassVar[Literal["document"]] = "document"

    format: str
    name: str
    data: bytes = b""
    citations: bool = False
    context: str | None = None
    s3: dict[str, str] | None = None


class VideoPart(_Part, tag="video"):
    """A video (Converse only; Amazon Nova Lite / Pro ...): raw bytes or an ``s3`` source, and its
    ``format`` (mkv, mov, mp4, webm, flv, mpeg, mpg, wmv, three_gp)."""

    type: ClassVar[Literal["video"]] = "video"

    format: str
    data: bytes = b""
    s3: dict[str, str] | None = None


class AudioPart(_Part, tag="audio"):
    """Audio (Converse only, for models that take it): raw bytes or an ``s3`` source, and its
    ``format`` (mp3, wav, flac, ogg, ... as Converse lists them)."""

    type: ClassVar[Literal["audio"]] = "audio"

    format: str
    data: bytes = b""
    s3: dict[str, str] | None = None


class ToolCall(_Part, tag="tool_call"):
    """A call the model made to a tool; ``arguments`` is the parsed JSON object."""

    type: ClassVar[Literal["tool_call"]] = "tool_call"

    id: str
    name: str
    arguments: dict[str, Any] = msgspec.field(default_factory=dict)


class ToolResultPart(_Part, tag="tool_result"):
    """The result of a tool call, sent back to the model."""

    type: ClassVar[Literal["tool_result"]] = "tool_result"

    tool_call_id: str
    content: str | list[TextPart | ImagePart | DocumentPart]
    is_error: bool = False


class ThinkingPart(_Part, tag="thinking"):
    """The model's visible reasoning; ``signature`` must be replayed unchanged in later turns."""

    type: ClassVar[Literal["thinking"]] = "thinking"

    text: str
    signature: str | None = None


class RedactedThinkingPart(_Part, tag="redacted_thinking"):
    """Reasoning the provider encrypted; replayed unchanged."""

    type: ClassVar[Literal["redacted_thinking"]] = "redacted_thinking"

    data: str


class Citation(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """One source an answer cites: ``text`` is the cited source text (Bedrock's ``sourceContent``),
    ``title`` / ``source`` name the document, ``location`` is where in it, as Bedrock gives it
    (``{"documentChar": {"documentIndex": 0, "start": 0, "end": 42}}``, ``documentPage``, ...)."""

    text: str = ""
    title: str | None = None
    source: str | None = None
    location: dict[str, Any] | None = None


class CitationsPart(_Part, tag="citations"):
    """Answer text backed by citations (Converse's ``citationsContent``). Kept in ``Response.message``
    so that a later turn re-sends it unchanged; its ``text`` is part of ``Response.text``."""

    type: ClassVar[Literal["citations"]] = "citations"

    text: str
    citations: list[Citation] = msgspec.field(default_factory=list)


class GuardContentPart(_Part, tag="guard_content"):
    """Content a guardrail evaluates (Converse ``guardContent``): ``text`` with optional
    ``qualifiers`` (``grounding_source``, ``query``, ``guard_content``), or an image (``data`` and
    ``media_type``, png or jpeg)."""

    type: ClassVar[Literal["guard_content"]] = "guard_content"

    text: str | None = None
    qualifiers: list[str] = msgspec.field(default_factory=list)
    data: bytes | None = None
    media_type: str | None = None


ContentPart = Union[  # noqa: UP007 - msgspec needs a runtime union
    TextPart,
    ImagePart,
    DocumentPart,
    ToolCall,
    ToolResultPart,
    ThinkingPart,
    RedactedThinkingPart,
    CitationsPart,
    GuardContentPart,
    VideoPart,
    AudioPart,
]


class Message(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """One conversation turn. ``content`` is a string or a list of parts. A message dict with any
    other key (OpenAI's ``name``, ...) is refused, never silently dropped."""

    role: Role
    content: str | list[ContentPart]


class Tool(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """A tool the model may call. ``parameters`` is a JSON schema for the arguments object.
    ``cache_control`` (``{"type": "ephemeral", "ttl": "5m" | "1h"}``) puts a cache point after it.

    As a dict, ``input_schema`` (Anthropic's name) is accepted in place of ``parameters``; any other
    unknown key (``strict``, ...) is refused with a ``ValidationError`` naming it."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})
    cache_control: dict[str, Any] | None = None


class Guardrail(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """A Bedrock guardrail to apply to a call: its ``id`` (or ARN) and ``version`` (a number or
    ``"DRAFT"``); ``trace`` (``"enabled"``, ``"enabled_full"``, ``"disabled"``) asks for its
    assessment; ``stream_mode`` (``"sync"`` or ``"async"``) is ConverseStream's processing mode."""

    id: str
    version: str
    trace: Literal["enabled", "enabled_full", "disabled"] | None = None
    stream_mode: Literal["sync", "async"] | None = None


class GuardrailResult(msgspec.Struct, kw_only=True, frozen=True):
    """What a configured guardrail did: ``action`` is ``"INTERVENED"`` or ``"NONE"``; ``trace`` its
    assessment as Bedrock gives it (when a trace was asked for)."""

    action: Literal["INTERVENED", "NONE"]
    trace: dict[str, Any] | None = None


class Usage(msgspec.Struct, kw_only=True, frozen=True):
    """Token counts. Cache tokens are reported apart and are never folded into ``input_tokens``."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    #: cache writes by TTL (``{"5m": n, "1h": m}``), when Bedrock reports them: 1h writes cost more
    cache_write_by_ttl: dict[str, int] = msgspec.field(default_factory=dict)

    def __add__(self, other: Usage) -> Usage:
        """Field by field: ``total = a.usage + b.usage``; ``sum(usages)`` works too (starting at 0)."""
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
        )

    def __radd__(self, other: object) -> Usage:
        if other == 0:  # ``sum()``'s start value
            return self
        return NotImplemented


class Response(msgspec.Struct, kw_only=True, frozen=True):
    """A complete answer.

    ``message`` is the assistant turn (thinking, text and tool calls), ready to append to a list
    prompt for the next turn. ``raw`` is the provider's decoded body (for streams: the events).
    ``served_by`` is the model spec that produced the answer. ``region`` is the region it was called in
    (when known); ``cost`` prices ``usage`` from the model catalog (see docs/cost.md). ``citations`` lists
    the sources the answer cites (documents sent with ``citations=True``), in order. ``guardrail`` is set
    whenever a guardrail was configured; ``service_tier`` / ``latency`` are the tier and performance
    setting Bedrock says it applied (when it says).
    """

    text: str
    thinking: str | None
    tool_calls: list[ToolCall]
    finish_reason: FinishReason
    usage: Usage
    model: str
    message: Message
    raw: Any = None
    served_by: str | None = None
    citations: list[Citation] = msgspec.field(default_factory=list)
    guardrail: GuardrailResult | None = None
    service_tier: str | None = None
    latency: str | None = None
    region: str | None = None
    #: AWS's ``x-amzn-RequestId`` for the answering request (quote it to AWS support)
    request_id: str | None = None
    #: seconds from the start of the call (retries and fallbacks included) to the complete answer
    #: (``latency`` is taken: Bedrock's performance setting)
    elapsed: float | None = None
    #: streams only: seconds from the start of the call to the first decoded chunk
    time_to_first_token: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins (bytes as base64 strings; ``raw`` as decoded). ``Response.from_dict``
        reads it back; ``json.dumps(resp.to_dict())`` stores it."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out

    def to_openai(self) -> dict[str, Any]:
        """This answer as an OpenAI chat-completions ``chat.completion`` object (docs/interop.md)."""
        from ._interop_out import to_openai

        return to_openai(self)

    def to_anthropic(self) -> dict[str, Any]:
        """This answer as an Anthropic Messages ``message`` object (docs/interop.md)."""
        from ._interop_out import to_anthropic

        return to_anthropic(self)

    @classmethod
    def from_dict(cls, data: Any) -> Response:
        """The ``Response`` a ``to_dict`` (or its JSON) describes; a ``ValidationError`` names a bad field."""
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as e:
            from ._errors import ValidationError

            raise ValidationError(str(e), field="response") from None

    @property
    def cost(self) -> Cost:
        """What this call cost in USD, computed on first access from ``usage``, ``model`` and ``region``
        (the catalog loads then, not while parsing). ``cost.total`` is ``None`` with a ``reason`` when a
        price is unknown. Cache writes are priced by TTL when ``usage`` has ``cache_write_by_ttl``, else at
        the 5-minute rate."""
        from ._catalog._pricing import cost_of

        by_ttl = getattr(self.usage, "cache_write_by_ttl", None)
        return cost_of(self.model, self.region, self.usage, service_tier=self.service_tier, cache_write_by_ttl=by_ttl)


class _Chunk(msgspec.Struct, kw_only=True, frozen=True, tag_field="type"):
    """Each chunk declares ``type``, its tag, as a ``ClassVar[Literal[...]]`` (see ``_Part``), so
    ``if chunk.type == "text": chunk.text`` narrows ``Chunk`` for mypy and pyright."""


class TextChunk(_Chunk, frozen=True, tag="text"):
    """A fragment of the answer's text."""

    type: ClassVar[Literal["text"]] = "text"

    text: str


class ThinkingChunk(_Chunk, frozen=True, tag="thinking"):
    """A fragment of the model's reasoning. ``signature`` arrives on its own, with empty text;
    ``redacted`` carries encrypted reasoning to replay unchanged (text is then empty)."""

    type: ClassVar[Literal["thinking"]] = "thinking"

    text: str
    signature: str | None = None
    redacted: str | None = None


class ToolCallDeltaChunk(_Chunk, frozen=True, tag="tool_call_delta"):
    """A fragment of a tool call: ``id``/``name`` on the first one, then argument JSON fragments."""

    type: ClassVar[Literal["tool_call_delta"]] = "tool_call_delta"

    index: int
    id: str | None = None
    name: str | None = None
    arguments_delta: str = ""


class ToolCallChunk(_Chunk, frozen=True, tag="tool_call"):
    """A completed tool call with parsed arguments."""

    type: ClassVar[Literal["tool_call"]] = "tool_call"

    index: int
    tool_call: ToolCall


class CitationChunk(_Chunk, frozen=True, tag="citation"):
    """A citation, emitted when the answer block it backs ends; ``text`` is that block's answer text
    (already streamed as ``TextChunk``s)."""

    type: ClassVar[Literal["citation"]] = "citation"

    citation: Citation
    text: str = ""


class GuardrailChunk(_Chunk, frozen=True, tag="guardrail"):
    """A configured guardrail's verdict (and trace), near the end of the stream."""

    type: ClassVar[Literal["guardrail"]] = "guardrail"

    result: GuardrailResult


class UsageChunk(_Chunk, frozen=True, tag="usage"):
    """Token usage, usually near the end of the stream."""

    type: ClassVar[Literal["usage"]] = "usage"

    usage: Usage


class FinishChunk(_Chunk, frozen=True, tag="finish"):
    """The last chunk of a complete stream."""

    type: ClassVar[Literal["finish"]] = "finish"

    finish_reason: FinishReason


Chunk = Union[  # noqa: UP007
    TextChunk, ThinkingChunk, ToolCallDeltaChunk, ToolCallChunk, CitationChunk, GuardrailChunk, UsageChunk, FinishChunk
]
