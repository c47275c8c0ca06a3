"""Conversions between reqbed's types and OpenAI's / Anthropic's wire shapes (plain dicts).

In: ``from_openai(messages, tools=...)`` reads OpenAI chat-completions ``messages`` and ``tools``;
``from_anthropic(messages, system=..., tools=...)`` reads Anthropic Messages ``messages``, ``system``
and ``tools``. Both return ``(prompt, tools)``: a list of ``reqbed.Message`` to pass as the prompt
and a list of ``reqbed.Tool``. Text, images (base64 / data URLs), documents, tool calls and tool
results, and (Anthropic) thinking blocks convert; anything reqbed cannot carry is a
``ValidationError`` naming it, never dropped.

The other way, ``Response.to_openai()`` / ``.to_anthropic()``, lives in ``_interop_out`` (which
``_types`` imports, so it imports nothing of reqbed's). docs/interop.md lists every mapping. No I/O;
no SDK is imported.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from ._errors import ValidationError
from ._types import (
    ContentPart,
    DocumentPart,
    ImagePart,
    Message,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCall,
    ToolResultPart,
)

__all__ = ["from_anthropic", "from_openai"]

_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.S)
_DOC_FORMATS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/csv": "csv",
    "text/html": "html",
    "text/markdown": "md",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


def _fail(msg: str, field: str) -> ValidationError:
    return ValidationError(msg, field=field)


def _map(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(f"must be an object, got {type(value).__name__}", field)
    return value


def _keys(d: Mapping[str, Any], allowed: set[str], field: str) -> None:
    extra = sorted(str(k) for k in d if k not in allowed)
    if extra:
        raise _fail(f"unknown key {extra[0]!r} (reqbed cannot carry it)", f"{field}.{extra[0]}")


def _str(d: Mapping[str, Any], key: str, field: str) -> str:
    v = d.get(key)
    if not isinstance(v, str):
        raise _fail(f"must be a string, got {type(v).__name__}", f"{field}.{key}")
    return v


def _b64(data: Any, field: str) -> bytes:
    if not isinstance(data, str):
        raise _fail("must be a base64 string", field)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _fail("is not valid base64", field) from None


def _list(value: Any, field: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _fail(f"must be a list, got {type(value).__name__}", field)
    return value


def _schema(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {"type": "object", "properties": {}}
    return dict(_map(value, field))


# -- OpenAI in -----------------------------------------------------------------------------------------


def _openai_parts(content: Any, field: str, *, images: bool) -> list[ContentPart]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(text=content)] if content else []
    parts: list[ContentPart] = []
    for j, raw in enumerate(_list(content, field)):
        f = f"{field}[{j}]"
        p = _map(raw, f)
        kind = p.get("type")
        if kind == "text":
            _keys(p, {"type", "text"}, f)
            parts.append(TextPart(text=_str(p, "text", f)))
        elif kind == "image_url" and images:
            _keys(p, {"type", "image_url"}, f)
            img = _map(p.get("image_url"), f"{f}.image_url")
            _keys(img, {"url", "detail"}, f"{f}.image_url")
            m = _DATA_URL.match(_str(img, "url", f"{f}.image_url"))
            if not m:
                raise _fail(
                    "only data: URLs (base64) are supported; Bedrock takes the image's bytes", f"{f}.image_url.url"
                )
            parts.append(ImagePart(data=_b64(m["data"], f"{f}.image_url.url"), media_type=m["type"]))
        elif kind == "file" and images:
            _keys(p, {"type", "file"}, f)
            file = _map(p.get("file"), f"{f}.file")
            _keys(file, {"file_data", "filename"}, f"{f}.file")
            m = _DATA_URL.match(_str(file, "file_data", f"{f}.file"))
            if not m or m["type"] not in _DOC_FORMATS:
                raise _fail(f"must be a data: URL of one of {sorted(_DOC_FORMATS)}", f"{f}.file.file_data")
            name = str(file.get("filename") or "document").rsplit(".", 1)[0]
            parts.append(
                DocumentPart(data=_b64(m["data"], f"{f}.file.file_data"), format=_DOC_FORMATS[m["type"]], name=name)
            )
        else:
            raise _fail(f"unsupported content part type {kind!r}", f"{f}.type")
    return parts


def _openai_tool_calls(calls: Any, field: str) -> list[ContentPart]:
    out: list[ContentPart] = []
    for j, raw in enumerate(_list(calls, field)):
        f = f"{field}[{j}]"
        c = _map(raw, f)
        _keys(c, {"id", "type", "function"}, f)
        if c.get("type", "function") != "function":
            raise _fail(f"unsupported tool call type {c.get('type')!r}", f"{f}.type")
        fn = _map(c.get("function"), f"{f}.function")
        _keys(fn, {"name", "arguments"}, f"{f}.function")
        args_text = fn.get("arguments") or "{}"
        try:
            args = msgspec.json.decode(args_text) if isinstance(args_text, (str, bytes)) else args_text
        except msgspec.DecodeError:
            raise _fail("is not a JSON object", f"{f}.function.arguments") from None
        if not isinstance(args, dict):
            raise _fail("is not a JSON object", f"{f}.function.arguments")
        out.append(ToolCall(id=_str(c, "id", f), name=_str(fn, "name", f"{f}.function"), arguments=args))
    return out


def from_openai(
    messages: Sequence[Mapping[str, Any]], *, tools: Sequence[Mapping[str, Any]] | None = None
) -> tuple[list[Message], list[Tool]]:
    """OpenAI chat-completions ``messages`` (and ``tools``) as reqbed's ``(prompt, tools)``.

    ``system`` / ``developer`` turns become system turns; consecutive ``tool`` messages become ONE
    tool turn (Bedrock answers every call of a turn together). Images must be ``data:`` URLs.
    """
    out: list[Message] = []
    for i, raw in enumerate(_list(messages, "messages")):
        f = f"messages[{i}]"
        m = _map(raw, f)
        role = m.get("role")
        if role in ("system", "developer"):
            _keys(m, {"role", "content"}, f)
            parts = _openai_parts(m.get("content"), f"{f}.content", images=False)
            out.append(Message(role="system", content=parts))
        elif role == "user":
            _keys(m, {"role", "content"}, f)
            out.append(Message(role="user", content=_openai_parts(m.get("content"), f"{f}.content", images=True)))
        elif role == "assistant":
            _keys(m, {"role", "content", "tool_calls", "refusal"}, f)
            parts = _openai_parts(m.get("content"), f"{f}.content", images=False)
            if m.get("refusal"):
                parts.append(TextPart(text=str(m["refusal"])))
            parts += _openai_tool_calls(m.get("tool_calls") or [], f"{f}.tool_calls")
            out.append(Message(role="assistant", content=parts))
        elif role == "tool":
            _keys(m, {"role", "content", "tool_call_id"}, f)
            content = m.get("content")
            body: str | list[TextPart | ImagePart | DocumentPart]
            if isinstance(content, str):
                body = content
            else:
                body = [p for p in _openai_parts(content, f"{f}.content", images=False) if isinstance(p, TextPart)]
            result = ToolResultPart(tool_call_id=_str(m, "tool_call_id", f), content=body)
            last = out[-1] if out else None
            if last is not None and last.role == "tool" and isinstance(last.content, list):
                last.content.append(result)
            else:
                out.append(Message(role="tool", content=[result]))
        else:
            raise _fail(f"unsupported role {role!r}", f"{f}.role")
    converted: list[Tool] = []
    for i, raw in enumerate(_list(tools or [], "tools")):
        f = f"tools[{i}]"
        t = _map(raw, f)
        _keys(t, {"type", "function"}, f)
        if t.get("type", "function") != "function":
            raise _fail(f"unsupported tool type {t.get('type')!r}", f"{f}.type")
        fn = _map(t.get("function"), f"{f}.function")
        _keys(fn, {"name", "description", "parameters", "strict"}, f"{f}.function")
        if fn.get("strict"):
            raise _fail("strict schemas are OpenAI's; Bedrock does not enforce them", f"{f}.function.strict")
        converted.append(
            Tool(
                name=_str(fn, "name", f"{f}.function"),
                description=str(fn.get("description") or ""),
                parameters=_schema(fn.get("parameters"), f"{f}.function.parameters"),
            )
        )
    return out, converted


# -- Anthropic in --------------------------------------------------------------------------------------


def _anthropic_source(p: Mapping[str, Any], f: str) -> tuple[bytes, str]:
    src = _map(p.get("source"), f"{f}.source")
    _keys(src, {"type", "media_type", "data"}, f"{f}.source")
    if src.get("type") != "base64":
        raise _fail("only base64 sources are supported; Bedrock takes the bytes", f"{f}.source.type")
    return _b64(src.get("data"), f"{f}.source.data"), _str(src, "media_type", f"{f}.source")


def _anthropic_block(raw: Any, f: str) -> ContentPart:
    p = _map(raw, f)
    kind = p.get("type")
    if kind == "text":
        _keys(p, {"type", "text", "cache_control", "citations"}, f)
        if p.get("citations"):
            raise _fail("citations cannot be carried", f"{f}.citations")
        cc = p.get("cache_control")
        return TextPart(text=_str(p, "text", f), cache_control=dict(cc) if cc else None)
    if kind == "image":
        _keys(p, {"type", "source", "cache_control"}, f)
        data, media = _anthropic_source(p, f)
        return ImagePart(data=data, media_type=media)
    if kind == "document":
        _keys(p, {"type", "source", "title", "cache_control"}, f)
        data, media = _anthropic_source(p, f)
        if media not in _DOC_FORMATS:
            raise _fail(f"must be one of {sorted(_DOC_FORMATS)}", f"{f}.source.media_type")
        return DocumentPart(data=data, format=_DOC_FORMATS[media], name=str(p.get("title") or "document"))
    if kind == "tool_use":
        _keys(p, {"type", "id", "name", "input", "cache_control"}, f)
        args = p.get("input") or {}
        if not isinstance(args, dict):
            raise _fail("must be an object", f"{f}.input")
        return ToolCall(id=_str(p, "id", f), name=_str(p, "name", f), arguments=dict(args))
    if kind == "tool_result":
        _keys(p, {"type", "tool_use_id", "content", "is_error", "cache_control"}, f)
        content = p.get("content")
        body: str | list[TextPart | ImagePart | DocumentPart]
        if content is None or isinstance(content, str):
            body = content or ""
        else:
            body = []
            for k, item in enumerate(_list(content, f"{f}.content")):
                part = _anthropic_block(item, f"{f}.content[{k}]")
                if not isinstance(part, (TextPart, ImagePart, DocumentPart)):
                    raise _fail("a tool result holds text, images and documents only", f"{f}.content[{k}]")
                body.append(part)
        return ToolResultPart(tool_call_id=_str(p, "tool_use_id", f), content=body, is_error=bool(p.get("is_error")))
    if kind == "thinking":
        _keys(p, {"type", "thinking", "signature"}, f)
        sig = p.get("signature")
        return ThinkingPart(text=_str(p, "thinking", f), signature=sig if isinstance(sig, str) else None)
    if kind == "redacted_thinking":
        _keys(p, {"type", "data"}, f)
        return RedactedThinkingPart(data=_str(p, "data", f))
    raise _fail(f"unsupported content block type {kind!r}", f"{f}.type")


def from_anthropic(
    messages: Sequence[Mapping[str, Any]],
    *,
    system: str | Sequence[Mapping[str, Any]] | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[list[Message], list[Tool]]:
    """Anthropic Messages ``messages`` (and ``system``, ``tools``) as reqbed's ``(prompt, tools)``.

    ``system`` becomes a leading system turn; sources must be base64 (Bedrock takes the bytes).
    """
    out: list[Message] = []
    if system:
        if isinstance(system, str):
            out.append(Message(role="system", content=[TextPart(text=system)]))
        else:
            blocks = [_anthropic_block(b, f"system[{i}]") for i, b in enumerate(_list(system, "system"))]
            if not all(isinstance(b, TextPart) for b in blocks):
                raise _fail("holds text blocks only", "system")
            out.append(Message(role="system", content=blocks))
    for i, raw in enumerate(_list(messages, "messages")):
        f = f"messages[{i}]"
        m = _map(raw, f)
        _keys(m, {"role", "content"}, f)
        role = m.get("role")
        if role not in ("user", "assistant"):
            raise _fail(f"must be 'user' or 'assistant', got {role!r}", f"{f}.role")
        content = m.get("content")
        if isinstance(content, str):
            parts: list[ContentPart] = [TextPart(text=content)]
        else:
            parts = [_anthropic_block(b, f"{f}.content[{j}]") for j, b in enumerate(_list(content, f"{f}.content"))]
        out.append(Message(role=role, content=parts))
    converted: list[Tool] = []
    for i, raw in enumerate(_list(tools or [], "tools")):
        f = f"tools[{i}]"
        t = _map(raw, f)
        _keys(t, {"name", "description", "input_schema", "cache_control", "type"}, f)
        if t.get("type") not in (None, "custom"):
            raise _fail(f"Anthropic's server tools ({t.get('type')!r}) cannot be carried", f"{f}.type")
        converted.append(
            Tool(
                name=_str(t, "name", f),
                description=str(t.get("description") or ""),
                parameters=_schema(t.get("input_schema"), f"{f}.input_schema"),
            )
        )
    return out, converted
