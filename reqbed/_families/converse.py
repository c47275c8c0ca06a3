"""The Converse API (``/converse``, ``/converse-stream``): one body format for every family.

Body: ``messages`` (consecutive same-role turns merged, ``tool`` turns sent as ``user``, empty
text dropped), ``system`` blocks, ``inferenceConfig``, ``toolConfig`` (``toolChoice``),
``additionalModelRequestFields`` (thinking, ``top_k``, the user's extras) and ``cachePoint``
blocks when prompt caching is on. Stub tool definitions are sent when the history holds tool
calls but no tools are given (Bedrock rejects such a request otherwise).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from .._accumulator import ToolCallBuilder, make_response
from .._errors import ValidationError
from .._features import converse_fields, converse_guardrail
from .._request import ChatRequest
from .._types import (
    AudioPart,
    Chunk,
    Citation,
    CitationChunk,
    CitationsPart,
    ContentPart,
    DocumentPart,
    FinishChunk,
    FinishReason,
    GuardContentPart,
    GuardrailChunk,
    ImagePart,
    RedactedThinkingPart,
    Response,
    TextChunk,
    TextPart,
    ThinkingChunk,
    ThinkingPart,
    ToolCall,
    ToolCallDeltaChunk,
    ToolResultPart,
    Usage,
    UsageChunk,
    VideoPart,
)
from . import _common
from ._base import Endpoint

__all__ = ["ConverseFormatter", "converse_finish_reason"]

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "stop_sequence": "stop_sequence",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
}
_decode = msgspec.json.Decoder().decode


def converse_finish_reason(stop_reason: str | None) -> FinishReason:
    return _STOP_REASONS.get(stop_reason or "", "stop")


#: Converse's own limits (botocore's bedrock-runtime model and AWS's DocumentBlock reference).
_TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_.:-]{1,64}")
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_MAX_CACHE_POINTS = 4


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _tool_use_id(value: str) -> str:
    if not _TOOL_USE_ID.fullmatch(value):
        raise ValidationError(
            f"tool call id {value!r} is not valid for Converse (1-64 characters of a-z A-Z 0-9 _ . : -)",
            field="prompt",
        )
    return value


def _tool_name(value: str) -> str:
    if not _TOOL_NAME.fullmatch(value):
        raise ValidationError(
            f"tool name {value!r} in the history is not valid for Converse (1-64 of a-z A-Z 0-9 _ -)", field="prompt"
        )
    return value


def _document_name(name: str) -> str:
    """AWS: 1-200 characters; alphanumerics, single whitespace characters, hyphens, parentheses, brackets."""
    ok = 1 <= len(name) <= 200 and all(c.isalnum() or c.isspace() or c in "-()[]" for c in name)
    if not ok or re.search(r"\s\s", name):
        raise ValidationError(
            f"document name {name!r} is not valid for Bedrock: use 1-200 letters, digits, hyphens, parentheses, "
            "square brackets and single spaces (no dots: the format is given apart)",
            field="prompt.document.name",
        )
    return name


def _source(p: ImagePart | DocumentPart | VideoPart | AudioPart) -> dict[str, Any]:
    if p.s3 is None:
        return {"bytes": _b64(p.data)}
    location = {"uri": p.s3["uri"]}
    if p.s3.get("bucket_owner"):
        location["bucketOwner"] = p.s3["bucket_owner"]
    return {"s3Location": location}


_VIDEO_FORMATS = ("mkv", "mov", "mp4", "webm", "flv", "mpeg", "mpg", "wmv", "three_gp")
_AUDIO_FORMATS = (
    "mp3", "opus", "wav", "aac", "flac", "mp4", "ogg", "mkv", "mka", "x-aac", "m4a", "mpeg", "mpga", "pcm", "webm"
)  # fmt: skip


def _media(p: VideoPart | AudioPart) -> dict[str, Any]:
    kind, formats = ("video", _VIDEO_FORMATS) if isinstance(p, VideoPart) else ("audio", _AUDIO_FORMATS)
    if p.format not in formats:
        raise ValidationError(
            f"unsupported {kind} format {p.format!r} ({', '.join(formats)})", field=f"prompt.{kind}.format"
        )
    return {kind: {"format": p.format, "source": _source(p)}}


def _image(p: ImagePart) -> dict[str, Any]:
    fmt = p.media_type.rpartition("/")[2].lower()
    fmt = "jpeg" if fmt == "jpg" else fmt
    if fmt not in ("png", "jpeg", "gif", "webp"):
        raise ValidationError(
            f"unsupported image media type {p.media_type!r} (png, jpeg, gif, webp)", field="prompt.image.media_type"
        )
    return {"image": {"format": fmt, "source": _source(p)}}


def _document(p: DocumentPart) -> dict[str, Any]:
    if p.format not in ("pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"):
        raise ValidationError(f"unsupported document format {p.format!r}", field="prompt.document.format")
    doc: dict[str, Any] = {"format": p.format, "name": _document_name(p.name), "source": _source(p)}
    if p.context is not None:
        doc["context"] = p.context
    if p.citations:
        doc["citations"] = {"enabled": True}
    return {"document": doc}


def _citation_wire(c: Citation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if c.title is not None:
        out["title"] = c.title
    if c.source is not None:
        out["source"] = c.source
    if c.text:
        out["sourceContent"] = [{"text": c.text}]
    if c.location:  # Converse's CitationLocation is a union: one member, never empty
        out["location"] = c.location
    return out


def citation_of(c: dict[str, Any]) -> Citation:
    """A Converse ``Citation`` (or a stream's ``CitationsDelta``) -> Citation."""
    source = c.get("sourceContent") or []
    location = c.get("location")
    return Citation(
        text="".join(s.get("text") or "" for s in source if isinstance(s, dict)),
        title=c.get("title"),
        source=c.get("source"),
        location=location if isinstance(location, dict) else None,
    )


def _cache_point(ttl: Any) -> dict[str, Any]:
    if ttl not in (None, "5m", "1h"):
        raise ValidationError(f'cache ttl must be "5m" or "1h", got {ttl!r}', field="prompt.cache_control.ttl")
    return {"cachePoint": {"type": "default", **({"ttl": ttl} if ttl else {})}}


def _block(p: ContentPart) -> list[dict[str, Any]]:
    if isinstance(p, TextPart):
        out: list[dict[str, Any]] = [{"text": p.text}] if p.text.strip() else []
        if p.cache_control is not None:
            out.append(_cache_point(p.cache_control.get("ttl")))
        return out
    if isinstance(p, ImagePart):
        return [_image(p)]
    if isinstance(p, DocumentPart):
        return [_document(p)]
    if isinstance(p, ToolCall):
        return [{"toolUse": {"toolUseId": _tool_use_id(p.id), "name": _tool_name(p.name), "input": p.arguments}}]
    if isinstance(p, ToolResultPart):
        items = [TextPart(text=p.content)] if isinstance(p.content, str) else p.content
        content: list[dict[str, Any]] = []
        for item in items:
            if isinstance(item, TextPart):
                content.append({"text": item.text})
            elif isinstance(item, ImagePart):
                content.append(_image(item))
            else:
                content.append(_document(item))
        result: dict[str, Any] = {"toolUseId": _tool_use_id(p.tool_call_id), "content": content or [{"text": ""}]}
        if p.is_error:
            result["status"] = "error"
        return [{"toolResult": result}]
    if isinstance(p, ThinkingPart):
        reasoning: dict[str, Any] = {"text": p.text}
        if p.signature:
            reasoning["signature"] = p.signature
        return [{"reasoningContent": {"reasoningText": reasoning}}]
    if isinstance(p, CitationsPart):  # replayed as Bedrock sent it, so the model sees its cited answer
        return [
            {
                "citationsContent": {
                    "content": [{"text": p.text}],
                    "citations": [_citation_wire(c) for c in p.citations],
                }
            }
        ]
    if isinstance(p, (VideoPart, AudioPart)):
        return [_media(p)]
    if isinstance(p, GuardContentPart):
        if p.data is not None:
            fmt = (p.media_type or "").rpartition("/")[2]
            return [{"guardContent": {"image": {"format": fmt, "source": {"bytes": _b64(p.data)}}}}]
        text: dict[str, Any] = {"text": p.text or ""}
        if p.qualifiers:
            text["qualifiers"] = list(p.qualifiers)
        return [{"guardContent": {"text": text}}]
    if isinstance(p, RedactedThinkingPart):
        # a blob in Converse's model: the base64 text Bedrock returned, replayed unchanged
        try:
            base64.b64decode(p.data, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(
                "redacted thinking data must be the base64 text Bedrock returned", field="prompt.redacted_thinking"
            ) from None
        return [{"reasoningContent": {"redactedContent": p.data}}]
    raise AssertionError(p)  # pragma: no cover - the union is exhaustive


def _messages(req: ChatRequest) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for m in req.messages:
        role = "user" if m.role == "tool" else m.role
        assert not isinstance(m.content, str)
        blocks = [b for p in m.content for b in _block(p)]
        if not blocks:
            continue
        if merged and merged[-1]["role"] == role:
            merged[-1]["content"].extend(blocks)
        else:
            merged.append({"role": role, "content": blocks})
    for turn in merged:  # reasoning leads its turn (Anthropic requires it; every model emits it first)
        if turn["role"] == "assistant":
            turn["content"].sort(key=lambda b: "reasoningContent" not in b)
    return merged


def _tool_cache_point(req: ChatRequest, i: int, cc: dict[str, Any]) -> dict[str, Any]:
    field = f"tools[{i}].cache_control"
    if req.spec.family != "anthropic":
        raise ValidationError(
            "cache points in tools are Claude's on Bedrock (Amazon Nova caches system and messages only)", field=field
        )
    if cc.get("type", "ephemeral") != "ephemeral" or set(cc) - {"type", "ttl"}:
        raise ValidationError(f'must be {{"type": "ephemeral", "ttl": "5m" | "1h"}}, got {cc!r}', field=field)
    if cc.get("ttl") not in (None, "5m", "1h"):
        raise ValidationError(f'cache ttl must be "5m" or "1h", got {cc.get("ttl")!r}', field=f"{field}.ttl")
    return _cache_point(cc.get("ttl"))


def _tool_config(req: ChatRequest) -> dict[str, Any] | None:
    opts = req.options
    tools: list[dict[str, Any]] = []
    for i, t in enumerate(opts.tools):
        spec: dict[str, Any] = {"name": t.name}
        if t.description:
            spec["description"] = t.description
        spec["inputSchema"] = {"json": t.parameters}
        tools.append({"toolSpec": spec})
        if t.cache_control is not None:
            tools.append(_tool_cache_point(req, i, t.cache_control))
    if opts.tool_choice == "none" and not req.has_tool_history:
        return None  # Converse has no "none" choice: the model cannot call tools it was not given
    if not tools and req.has_tool_history:
        tools = [
            {
                "toolSpec": {
                    "name": n,
                    "description": "(tool used earlier in this conversation)",
                    "inputSchema": {"json": {"type": "object", "properties": {}}},
                }
            }
            for n in _common.history_tool_names(req)
        ]
    if not tools:
        return None
    config: dict[str, Any] = {"tools": tools}
    choice = opts.tool_choice
    if choice == "auto":
        config["toolChoice"] = {"auto": {}}
    elif choice == "any":
        config["toolChoice"] = {"any": {}}
    elif choice not in (None, "none"):
        config["toolChoice"] = {"tool": {"name": choice}}
    return config


#: GenerationOptions attribute -> ``inferenceConfig`` key (maxTokens and temperature need rules of their own)
_INFERENCE: _common.OptionTable = (("top_p", "topP"), ("stop", "stopSequences"))


class ConverseFormatter:
    """Formatter for ``/converse`` and ``/converse-stream``."""

    name = "converse"
    endpoint: Endpoint = "converse"

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        opts, po = req.options, req.provider_options
        body: dict[str, Any] = {"messages": _messages(req)}
        if not body["messages"]:
            # A system-only prompt (allowed only where capabilities say so): the first system
            # block becomes the user turn, as Bedrock requires at least one message.
            body["messages"] = [{"role": "user", "content": [{"text": req.system[0].text}]}]
            system = req.system[1:]
        else:
            system = req.system
        if system:
            body["system"] = [b for p in system for b in _block(p)]
        inference: dict[str, Any] = {}
        max_tokens = opts.max_tokens
        budget = opts.thinking_budget if req.capabilities.thinking else None
        thinks = budget is not None
        if max_tokens is None and budget is not None:
            max_tokens = budget + _common.DEFAULT_MAX_TOKENS
        if max_tokens is not None:
            inference["maxTokens"] = max_tokens
        if opts.temperature is not None:
            if opts.temperature > 1:
                raise ValidationError(
                    f"Converse accepts a temperature between 0 and 1, got {opts.temperature}", field="temperature"
                )
            inference["temperature"] = opts.temperature
        _common.copy_options(inference, opts, _INFERENCE)
        if inference:
            body["inferenceConfig"] = inference
        tool_config = _tool_config(req)
        if tool_config:
            body["toolConfig"] = tool_config
        extra: dict[str, Any] = {}
        if opts.top_k is not None:
            family = req.spec.family
            if family == "anthropic":
                extra["top_k"] = opts.top_k
            elif family == "amazon":
                extra["inferenceConfig"] = {"topK": opts.top_k}
            else:
                raise ValidationError(
                    f"Converse has no top_k for {family or 'this'} models; pass the model's own field in "
                    "provider_options.additional_model_request_fields",
                    field="top_k",
                )
        if thinks:
            _common.check_thinking(req, max_tokens)
            extra["thinking"] = {"type": "enabled", "budget_tokens": opts.thinking_budget}
        elif opts.reasoning_effort is not None:  # a reasoning_effort family (gpt-oss): its own field
            extra["reasoning_effort"] = opts.reasoning_effort
        if po.anthropic_beta:
            extra["anthropic_beta"] = list(po.anthropic_beta)
        if po.additional_model_request_fields:
            extra.update(po.additional_model_request_fields)
        if extra:
            body["additionalModelRequestFields"] = extra
        body.update(converse_fields(req.features, stream=req.stream))
        if po.anthropic_prompt_cache:
            _place_cache_points(body, req)
        points = [b["cachePoint"] for b in _all_blocks(body) if "cachePoint" in b]
        if len(points) > _MAX_CACHE_POINTS:
            raise ValidationError(
                f"{len(points)} cache points requested; Bedrock allows at most {_MAX_CACHE_POINTS}", field="prompt"
            )
        _check_ttl_order(points)
        return body

    def parse_response(self, body: bytes, req: ChatRequest, headers: Mapping[str, str] | None = None) -> Response:
        """Parse the answer (the pipeline turns odd shapes into ``ModelStreamError``)."""
        data = _decode(body)
        if not isinstance(data, dict):
            raise _common.bad_body("Converse answer is not a JSON object")
        return self._parse(data, req)

    def _parse(self, data: dict[str, Any], req: ChatRequest) -> Response:
        message = (data.get("output") or {}).get("message") or {}
        content: list[ContentPart] = []
        for block in message.get("content") or []:
            if not isinstance(block, dict):
                continue
            if "text" in block:
                content.append(TextPart(text=block["text"]))
            elif "toolUse" in block:
                tu = block["toolUse"]
                args = tu.get("input")
                if args is None:
                    args = {}
                if not isinstance(args, dict):  # as for streams: never a silent {}
                    raise _common.bad_body(f"tool call {tu['name']!r} input is not a JSON object")
                content.append(ToolCall(id=tu["toolUseId"], name=tu["name"], arguments=args))
            elif "reasoningContent" in block:
                rc = block["reasoningContent"]
                if "reasoningText" in rc:
                    rt = rc["reasoningText"]
                    content.append(ThinkingPart(text=rt.get("text", ""), signature=rt.get("signature")))
                elif "redactedContent" in rc:
                    content.append(RedactedThinkingPart(data=rc["redactedContent"]))
            elif "citationsContent" in block:
                cc = block["citationsContent"]
                text = "".join(g.get("text") or "" for g in cc.get("content") or [] if isinstance(g, dict))
                cites = [citation_of(c) for c in cc.get("citations") or [] if isinstance(c, dict)]
                content.append(CitationsPart(text=text, citations=cites))
        response = make_response(
            content=content,
            finish_reason=converse_finish_reason(data.get("stopReason")),
            usage=converse_usage(data.get("usage")),
            model=req.spec.model_id,
            raw=data,
        )
        tier, perf = data.get("serviceTier"), data.get("performanceConfig")
        return msgspec.structs.replace(
            response,
            guardrail=converse_guardrail(req.features, data.get("stopReason"), data.get("trace")),
            service_tier=tier.get("type") if isinstance(tier, dict) else None,
            latency=perf.get("latency") if isinstance(perf, dict) else None,
        )

    def stream_parser(self, req: ChatRequest) -> ConverseStreamParser:
        return ConverseStreamParser(req)


def converse_usage(u: Any) -> Usage:
    if not isinstance(u, dict):
        return Usage()
    count = _common.token_count
    inp, out = count(u.get("inputTokens")), count(u.get("outputTokens"))
    return Usage(
        input_tokens=inp,
        output_tokens=out,
        total_tokens=count(u.get("totalTokens")) or inp + out,
        cache_read_tokens=count(u.get("cacheReadInputTokens")) or count(u.get("cacheReadInputTokenCount")),
        cache_write_tokens=count(u.get("cacheWriteInputTokens")) or count(u.get("cacheWriteInputTokenCount")),
        cache_write_by_ttl=_by_ttl(u.get("cacheDetails")),
    )


def _by_ttl(details: Any) -> dict[str, int]:
    """``usage.cacheDetails`` (``[{"ttl": "1h", "inputTokens": n}]``) -> ``{"1h": n}``."""
    out: dict[str, int] = {}
    for d in details if isinstance(details, list) else []:
        if isinstance(d, dict) and isinstance(d.get("ttl"), str):
            out[d["ttl"]] = out.get(d["ttl"], 0) + _common.token_count(d.get("inputTokens"))
    return out


def _place_cache_points(body: dict[str, Any], req: ChatRequest) -> None:
    """``cachePoint`` after the tools, the system blocks and the chosen message (at most 4)."""
    ttl = req.provider_options.anthropic_prompt_cache_ttl
    point = _cache_point(ttl)

    def has_point(blocks: list[dict[str, Any]]) -> bool:
        return bool(blocks) and "cachePoint" in blocks[-1]

    tc = body.get("toolConfig")
    # tools take cache points on Claude only (AWS's prompt-caching page: Nova caches system and messages)
    if tc and req.options.tools and req.spec.family == "anthropic" and not has_point(tc["tools"]):
        tc["tools"].append(point)
    if body.get("system") and not has_point(body["system"]):
        body["system"].append(point)
    msgs = body["messages"]
    index = req.provider_options.anthropic_cache_messages
    idx = len(msgs) - 1 if index is None else index
    if not -len(msgs) <= idx < len(msgs):
        raise ValidationError(
            f"message index {index} is out of range", field="provider_options.anthropic_cache_messages"
        )
    target = msgs[idx]["content"]
    if not has_point(target):
        target.append(point)


def _check_ttl_order(points: list[dict[str, Any]]) -> None:
    """The cached prefix runs tools -> system -> messages: a 1h point may not follow a 5m one."""
    seen_short = False
    for p in points:
        long = p.get("ttl") == "1h"
        if long and seen_short:
            raise ValidationError(
                "a 1h cache point cannot come after a 5m one (the prefix runs tools, system, messages); give the "
                'earlier cache_control "ttl": "1h" too',
                field="prompt.cache_control",
            )
        seen_short = seen_short or not long


def _all_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every block in prefix order: tools, system, messages."""
    blocks = list((body.get("toolConfig") or {}).get("tools") or []) + list(body.get("system") or [])
    for m in body["messages"]:
        blocks.extend(m["content"])
    return blocks


class _ToolUseDelta(msgspec.Struct):
    input: str = ""


class _ReasoningDelta(msgspec.Struct):
    text: str | None = None
    signature: str | None = None
    redactedContent: str | None = None


class _Delta(msgspec.Struct):
    text: str | None = None
    toolUse: _ToolUseDelta | None = None
    reasoningContent: _ReasoningDelta | None = None
    citation: dict[str, Any] | None = None


class _BlockDelta(msgspec.Struct):
    """``contentBlockDelta``, the event nearly every chunk comes from: decoded straight into typed
    Structs (unknown fields such as AWS's ``p`` padding skipped, types checked) in one C call."""

    delta: _Delta
    contentBlockIndex: int = 0


_decode_block_delta = msgspec.json.Decoder(_BlockDelta).decode


class ConverseStreamParser:
    """ConverseStream events -> chunks. Finish is emitted after ``metadata`` (usage) arrives.

    ``fast_event`` / ``fast_feed``: the fused path ``StreamCore`` takes for the hot event: a text
    delta comes back as the bare ``str`` (no chunk list); anything else as ``feed`` would return it.
    """

    fast_event = "contentBlockDelta"

    def __init__(self, req: ChatRequest | None = None) -> None:
        self._req = req
        self._tools: dict[int, ToolCallBuilder] = {}
        self._stop: FinishReason | None = None
        self._stop_reason: Any = None
        self._done = False
        # the text of the block being streamed, and its citations (emitted when the block stops)
        self._text_index = -1
        self._block_text: list[str] = []
        self._citations: list[Citation] = []

    def feed(self, event_type: str, payload: bytes) -> list[Chunk]:
        if event_type == "contentBlockDelta":
            return self._delta(_decode_block_delta(payload))
        data = _decode(payload) if payload else {}
        if not isinstance(data, dict):
            return []
        if event_type == "contentBlockStart":
            start = (data.get("start") or {}).get("toolUse")
            if start is not None:
                index = int(data.get("contentBlockIndex") or 0)
                self._tools[index] = ToolCallBuilder(index, start["toolUseId"], start["name"])
                return [ToolCallDeltaChunk(index=index, id=start["toolUseId"], name=start["name"])]
            return []
        if event_type == "contentBlockStop":
            index = int(data.get("contentBlockIndex") or 0)
            if self._citations and index == self._text_index:
                text = "".join(self._block_text)
                cited: list[Chunk] = [CitationChunk(citation=c, text=text) for c in self._citations]
                self._citations = []
                return cited
            builder = self._tools.pop(index, None)
            return [builder.complete()] if builder else []
        if event_type == "messageStop":
            self._stop_reason = data.get("stopReason")
            self._stop = converse_finish_reason(self._stop_reason)
            return []
        if event_type == "metadata":
            if self._stop is None:
                raise _common.bad_body("metadata arrived before messageStop")
            self._done = True
            out: list[Chunk] = []
            guard = converse_guardrail(self._req.features, self._stop_reason, data.get("trace")) if self._req else None
            if guard is not None:
                out.append(GuardrailChunk(result=guard))
            out += [UsageChunk(usage=converse_usage(data.get("usage"))), FinishChunk(finish_reason=self._stop)]
            return out
        return []  # messageStart and events reqbed does not use

    def fast_feed(self, payload: bytes) -> str | list[Chunk]:
        event = _decode_block_delta(payload)
        text = event.delta.text
        if text is not None:
            if event.contentBlockIndex != self._text_index:  # the block's text, for its citations
                self._text_index, self._block_text = event.contentBlockIndex, []
            self._block_text.append(text)
            return text
        return self._delta(event)

    def _delta(self, event: _BlockDelta) -> list[Chunk]:
        delta, index = event.delta, event.contentBlockIndex
        if delta.text is not None:
            if index != self._text_index:
                self._text_index, self._block_text = index, []
            self._block_text.append(delta.text)
            return [TextChunk(text=delta.text)]
        if delta.citation is not None:
            if index != self._text_index:
                self._text_index, self._block_text = index, []
            self._citations.append(citation_of(delta.citation))
            return []
        if delta.toolUse is not None:
            frag = delta.toolUse.input
            builder = self._tools.get(index)
            if builder is None:
                raise _common.bad_body(f"tool input for block {index} arrived before its start")
            builder.fragments.append(frag)
            return [ToolCallDeltaChunk(index=index, arguments_delta=frag)]
        rc = delta.reasoningContent
        if rc is not None:
            if rc.text is not None:
                return [ThinkingChunk(text=rc.text)]
            if rc.signature is not None:
                return [ThinkingChunk(text="", signature=rc.signature)]
            if rc.redactedContent is not None:
                return [ThinkingChunk(text="", redacted=rc.redactedContent)]
        return []

    def finish(self) -> list[Chunk]:
        return []
