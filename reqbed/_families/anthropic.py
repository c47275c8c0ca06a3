"""Anthropic Claude's native Messages body on InvokeModel (``/invoke``, ``/invoke-with-response-stream``).

Body (AWS: "Anthropic Claude Messages API", request and response):
``anthropic_version: "bedrock-2023-05-31"``, ``max_tokens`` (required by the API: the caller's,
else ``budget + DEFAULT_MAX_TOKENS`` with thinking, else ``DEFAULT_MAX_TOKENS``), ``system`` text
blocks, ``messages`` (consecutive same-role turns merged; ``tool`` turns become ``user`` turns of
``tool_result`` blocks, which go first in their turn; thinking blocks go first in assistant turns),
``temperature`` / ``top_p`` / ``top_k`` / ``stop_sequences``, ``tools`` + ``tool_choice``,
``thinking``, ``anthropic_beta`` and ``provider_options.additional_model_request_fields`` merged in.

Prompt caching puts ``cache_control: {"type": "ephemeral"[, "ttl": "1h"]}`` on the last tool, the
last system block and the chosen message's last block; explicit ``TextPart.cache_control`` is kept
and counted; more than 4 breakpoints, or a 1h breakpoint after a 5m one, is a ``ValidationError``.
Answers are read by ``anthropic_parse`` (JSON body and stream events).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import msgspec

from .._errors import ValidationError
from .._request import ChatRequest
from .._types import (
    CitationsPart,
    ContentPart,
    DocumentPart,
    ImagePart,
    RedactedThinkingPart,
    Response,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultPart,
)
from . import _common
from ._base import Endpoint, StreamParser
from .anthropic_parse import AnthropicStreamParser, parse_message

__all__ = [
    "ANTHROPIC_VERSION",
    "MAX_CACHE_BREAKPOINTS",
    "MAX_NON_STREAMING_THINKING_TOKENS",
    "AnthropicFormatter",
    "accepts",
]

#: The only ``anthropic_version`` Bedrock accepts in an InvokeModel body.
ANTHROPIC_VERSION = "bedrock-2023-05-31"
#: Anthropic allows at most this many ``cache_control`` breakpoints in one request.
MAX_CACHE_BREAKPOINTS = 4
#: AWS's extended-thinking page: "Streaming is required when max_tokens is greater than 21,333".
MAX_NON_STREAMING_THINKING_TOKENS = 21_333

_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_TEXT_DOCUMENTS = frozenset({"txt", "md", "csv", "html"})
_THINKING_TYPES = frozenset({"thinking", "redacted_thinking"})
_STUB_DESCRIPTION = "(tool used earlier in this conversation)"
_decode = msgspec.json.Decoder().decode


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _checked_cache_control(cc: dict[str, Any]) -> dict[str, Any]:
    """An explicit ``TextPart.cache_control``: kept as given once it is one Anthropic accepts."""
    if cc.get("type") != "ephemeral" or set(cc) - {"type", "ttl"} or cc.get("ttl") not in (None, "5m", "1h"):
        raise ValidationError(
            f'must be {{"type": "ephemeral"}} with an optional "ttl" of "5m" or "1h", got {cc!r}',
            field="prompt.cache_control",
        )
    return dict(cc)


def _text(p: TextPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": p.text}
    if p.cache_control is not None:
        block["cache_control"] = _checked_cache_control(p.cache_control)
    return block


def _image(p: ImagePart) -> dict[str, Any]:
    media_type = p.media_type.lower()
    media_type = "image/jpeg" if media_type == "image/jpg" else media_type
    if media_type not in _IMAGE_TYPES:
        raise ValidationError(
            f"unsupported image media type {p.media_type!r} (image/jpeg, image/png, image/gif, image/webp)",
            field="prompt.image.media_type",
        )
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": _b64(p.data)}}


def _document(p: DocumentPart) -> dict[str, Any]:
    fmt = p.format.lower()
    if fmt == "pdf":
        return {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": _b64(p.data)}}
    if fmt in _TEXT_DOCUMENTS:
        try:
            text = p.data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(f"{p.name!r} is not UTF-8 text", field="prompt.document.data") from None
        return {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": text}}
    raise ValidationError(
        f"Claude's native body takes pdf and plain-text documents, not {p.format!r}; "
        "set provider_options use_converse=True to send it through Converse",
        field="prompt.document.format",
    )


def accepts(req: ChatRequest) -> bool:
    """Whether the native body can carry this request (the endpoint rule asks): documents other
    than pdf and plain text (docx, xlsx ...) go through Converse instead."""
    for m in req.messages:
        for p in m.content:
            inner = p.content if isinstance(p, ToolResultPart) and not isinstance(p.content, str) else [p]
            for q in inner:
                if (
                    isinstance(q, DocumentPart)
                    and q.format.lower() != "pdf"
                    and q.format.lower() not in _TEXT_DOCUMENTS
                ):
                    return False
    return True


def _tool_result(p: ToolResultPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": p.tool_call_id}
    items = [TextPart(text=p.content)] if isinstance(p.content, str) else p.content
    content: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, TextPart):
            if item.text.strip() or item.cache_control is not None:
                content.append(_text(item))
        elif isinstance(item, ImagePart):
            content.append(_image(item))
        else:
            content.append(_document(item))
    if content:
        block["content"] = content
    if p.is_error:
        block["is_error"] = True
    return block


def _block(p: ContentPart) -> dict[str, Any] | None:
    """One content block, or None for a part the native body leaves out (unsigned thinking)."""
    if isinstance(p, TextPart):
        return _text(p)
    if isinstance(p, ImagePart):
        return _image(p)
    if isinstance(p, DocumentPart):
        return _document(p)
    if isinstance(p, ToolCall):
        return {"type": "tool_use", "id": p.id, "name": p.name, "input": p.arguments}
    if isinstance(p, ToolResultPart):
        return _tool_result(p)
    if isinstance(p, ThinkingPart):
        # Claude only accepts thinking it signed; thinking from elsewhere cannot be replayed.
        return {"type": "thinking", "thinking": p.text, "signature": p.signature} if p.signature else None
    if isinstance(p, RedactedThinkingPart):
        return {"type": "redacted_thinking", "data": p.data}
    if isinstance(p, CitationsPart):  # cited answer text from a Converse turn: its text
        return {"type": "text", "text": p.text} if p.text.strip() else None
    raise AssertionError(p)  # pragma: no cover - the union is exhaustive


def _messages(req: ChatRequest) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for m in req.messages:
        role = "user" if m.role == "tool" else m.role
        assert not isinstance(m.content, str)
        blocks: list[dict[str, Any]] = []
        for p in m.content:
            if isinstance(p, TextPart) and not p.text.strip():
                # Anthropic refuses empty text; an empty part carrying cache_control marks the
                # block before it instead.
                target = blocks[-1] if blocks else merged[-1]["content"][-1] if merged else None
                if p.cache_control is not None and target is not None:
                    target["cache_control"] = _checked_cache_control(p.cache_control)
                continue
            block = _block(p)
            if block is not None:
                blocks.append(block)
        if not blocks:
            continue
        if merged and merged[-1]["role"] == role:
            merged[-1]["content"].extend(blocks)
        else:
            merged.append({"role": role, "content": blocks})
    for msg in merged:
        # tool results lead their user turn; thinking leads its assistant turn (stable order).
        first = "tool_result" if msg["role"] == "user" else None
        msg["content"].sort(key=lambda b: 0 if b["type"] == first or b["type"] in _THINKING_TYPES else 1)
    return merged


def _tools(req: ChatRequest) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    for t in req.options.tools:
        tool: dict[str, Any] = {"name": t.name}
        if t.description:
            tool["description"] = t.description
        tool["input_schema"] = t.parameters
        if t.cache_control is not None:
            tool["cache_control"] = _checked_cache_control(t.cache_control)
        tools.append(tool)
    if not tools and req.has_tool_history:
        # Anthropic refuses tool_use/tool_result history without tool definitions.
        tools = [
            {"name": n, "description": _STUB_DESCRIPTION, "input_schema": {"type": "object", "properties": {}}}
            for n in _common.history_tool_names(req)
        ]
    return tools


def _tool_choice(choice: str | None) -> dict[str, Any] | None:
    if choice is None:
        return None
    if choice in ("auto", "any", "none"):
        return {"type": choice}
    return {"type": "tool", "name": choice}


def _max_tokens(req: ChatRequest) -> int:
    opts = req.options
    if opts.max_tokens is not None:
        return opts.max_tokens
    if opts.thinking_budget is not None:
        return opts.thinking_budget + _common.DEFAULT_MAX_TOKENS
    return _common.DEFAULT_MAX_TOKENS


#: GenerationOptions attribute -> Messages body key (max_tokens is always sent: see ``_max_tokens``)
_OPTIONS: _common.OptionTable = (
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("stop", "stop_sequences"),
)


class AnthropicFormatter:
    """Formatter for Claude's Messages body on ``/invoke`` and ``/invoke-with-response-stream``."""

    name = "anthropic"
    endpoint: Endpoint = "invoke"

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        opts, po = req.options, req.provider_options
        max_tokens = _max_tokens(req)
        body: dict[str, Any] = {"anthropic_version": ANTHROPIC_VERSION}
        if po.anthropic_beta:
            body["anthropic_beta"] = list(po.anthropic_beta)
        body["max_tokens"] = max_tokens
        system = [_text(p) for p in req.system]
        messages = _messages(req)
        if not messages:
            # A system-only prompt: its first block becomes the user turn (Claude needs one).
            messages = [{"role": "user", "content": system[:1]}]
            system = system[1:]
        if system:
            body["system"] = system
        body["messages"] = messages
        _common.copy_options(body, opts, _OPTIONS)  # temperature's range is a capability, checked before
        tools = _tools(req)
        if tools:
            body["tools"] = tools
            choice = _tool_choice(opts.tool_choice)
            if choice is not None:
                body["tool_choice"] = choice
        if opts.thinking_budget is not None:
            _common.check_thinking(req, max_tokens)
            if not req.stream and max_tokens > MAX_NON_STREAMING_THINKING_TOKENS:
                raise ValidationError(
                    f"with extended thinking, max_tokens above {MAX_NON_STREAMING_THINKING_TOKENS} needs streaming "
                    f"(got {max_tokens}); use stream_text",
                    field="max_tokens",
                )
            body["thinking"] = {"type": "enabled", "budget_tokens": opts.thinking_budget}
        if po.additional_model_request_fields:
            body.update(po.additional_model_request_fields)
        placed = _place_breakpoints(body, req, user_tools=bool(opts.tools)) if po.anthropic_prompt_cache else []
        _check_breakpoints(body, placed)
        return body

    def parse_response(self, body: bytes, req: ChatRequest, headers: Mapping[str, str] | None = None) -> Response:
        """Parse the answer (the pipeline turns odd shapes into ``ModelStreamError``)."""
        data = _decode(body)
        if not isinstance(data, dict):
            raise _common.bad_body("Claude's answer is not a JSON object")
        return _common.native_answer(parse_message(data, req.spec.model_id), data, headers, req)

    def stream_parser(self, req: ChatRequest) -> StreamParser:
        return _common.guarded_parser(AnthropicStreamParser(), req)


# -- prompt caching ------------------------------------------------------------------------------


def _mark(block: dict[str, Any], ttl: str | None) -> dict[str, Any]:
    """Put a breakpoint on ``block``; an existing one keeps its place and the longer TTL."""
    existing = block.get("cache_control")
    if existing is None:
        block["cache_control"] = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    elif ttl == "1h" and existing.get("ttl") != "1h":
        block["cache_control"] = {**existing, "ttl": "1h"}
    return block


def _place_breakpoints(body: dict[str, Any], req: ChatRequest, *, user_tools: bool) -> list[dict[str, Any]]:
    """Breakpoints on the last tool, the last system block and the chosen message's last block.

    Returns the blocks reqbed marked (explicit marks on them are kept, with the longer TTL).
    """
    po = req.provider_options
    ttl = po.anthropic_prompt_cache_ttl
    placed: list[dict[str, Any]] = []
    if user_tools and body.get("tools"):
        placed.append(_mark(body["tools"][-1], ttl))
    if body.get("system"):
        placed.append(_mark(body["system"][-1], ttl))
    messages = body["messages"]
    index = po.anthropic_cache_messages
    idx = len(messages) - 1 if index is None else index
    if not -len(messages) <= idx < len(messages):
        raise ValidationError(
            f"message index {index} is out of range ({len(messages)} messages after merging turns)",
            field="provider_options.anthropic_cache_messages",
        )
    # Thinking blocks cannot carry cache_control: mark the last block that can.
    cacheable = [b for b in messages[idx]["content"] if b.get("type") not in _THINKING_TYPES]
    if cacheable:
        placed.append(_mark(cacheable[-1], ttl))
    return placed


def _marked_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every block with ``cache_control``, in prefix order: tools, system, messages (and tool results)."""
    found: list[dict[str, Any]] = []

    def walk(blocks: Any) -> None:
        if not isinstance(blocks, list):
            return
        for b in blocks:
            if isinstance(b, dict):
                if isinstance(b.get("cache_control"), dict):
                    found.append(b)
                if b.get("type") == "tool_result":
                    walk(b.get("content"))

    walk(body.get("tools"))
    walk(body.get("system"))
    for m in body.get("messages") or []:
        if isinstance(m, dict):
            walk(m.get("content"))
    return found


def _check_breakpoints(body: dict[str, Any], placed: list[dict[str, Any]]) -> None:
    """At most 4 breakpoints; none of 5m before one of 1h.

    A 1h TTL is never shortened: reqbed's own breakpoints that sit before a 1h one are lengthened
    to 1h; an explicit 5m mark before a 1h one is the caller's to fix (``ValidationError``).
    """
    blocks = _marked_blocks(body)
    if len(blocks) > MAX_CACHE_BREAKPOINTS:
        raise ValidationError(
            f"{len(blocks)} cache_control breakpoints requested; Claude allows at most {MAX_CACHE_BREAKPOINTS} "
            "(reqbed's automatic ones count: the last tool, the last system block, one message)",
            field="prompt",
        )
    last_long = max((i for i, b in enumerate(blocks) if b["cache_control"].get("ttl") == "1h"), default=0)
    for b in blocks[:last_long]:
        if b["cache_control"].get("ttl") != "1h":
            if not any(b is p for p in placed):
                raise ValidationError(
                    "a 5m cache breakpoint cannot come before a 1h one (the cached prefix runs tools, system, "
                    'messages); give the earlier cache_control "ttl": "1h" too',
                    field="prompt.cache_control",
                )
            b["cache_control"] = {**b["cache_control"], "ttl": "1h"}
