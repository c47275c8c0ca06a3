"""Cohere Command R / R+'s native chat body on InvokeModel (``/invoke``, ``/invoke-with-response-stream``).

Body (AWS: "Cohere Command R and Command R+ models", request and response):
- ``message``: the last user turn's text (``""`` when that turn holds only tool results);
- ``chat_history``: the earlier turns as ``USER`` / ``CHATBOT`` (with ``tool_calls``) / ``TOOL``
  (with ``tool_results``) entries (reqbed lifts every system turn into the ``preamble``);
- ``preamble``: the system text; ``documents``: ``provider_options.cohere_documents`` (RAG);
- ``tools``: each JSON schema converted to ``parameter_definitions``
  (``{name: {description, type, required}}``; types as Cohere writes them: ``str``, ``int``,
  ``float``, ``bool``, ``List[str]``, ``list``, ``dict``; an ``enum`` is listed in the description);
  stubs for tools named in the history when none are given; ``tool_choice="none"`` omits them;
- ``tool_results``: ``[{call: {name, parameters}, outputs: [{text}]}]`` when the last turn holds
  tool results;
- ``temperature``, ``p``, ``k``, ``max_tokens``, ``stop_sequences``, and
  ``provider_options.additional_model_request_fields`` merged in.

Response: ``text``, ``tool_calls`` (``{name, parameters}``: each gets a stable id derived from the
``generation_id``, its position, name and arguments), ``finish_reason``, ``citations`` (kept in
``.raw``), usage from ``meta.billed_units``. Stream events: ``stream-start``, ``text-generation``,
``tool-calls-generation``, ``stream-end`` (finish reason, the full response; usage from
``amazon-bedrock-invocationMetrics`` when Bedrock adds it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import msgspec

from .._accumulator import make_response
from .._errors import ValidationError
from .._request import ChatRequest
from .._types import (
    Chunk,
    CitationsPart,
    ContentPart,
    DocumentPart,
    FinishChunk,
    FinishReason,
    GuardrailChunk,
    ImagePart,
    Message,
    Response,
    TextChunk,
    TextPart,
    Tool,
    ToolCall,
    ToolCallChunk,
    ToolCallDeltaChunk,
    ToolResultPart,
    Usage,
    UsageChunk,
)
from . import _common
from ._base import Endpoint, StreamParser

__all__ = ["CohereFormatter", "CohereStreamParser", "accepts", "parameter_definitions"]

_FINISH: dict[str, FinishReason] = {
    "COMPLETE": "stop",
    "END_TURN": "stop",
    "USER_CANCEL": "stop",
    "MAX_TOKENS": "length",
    "ERROR_LIMIT": "length",
    "STOP_SEQUENCE": "stop_sequence",
    "ERROR_TOXIC": "content_filter",
    "ERROR": "error",
    "TOOL_CALL": "tool_calls",
}
_PY_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list", "object": "dict"}
_STUB = "(tool used earlier in this conversation)"
_decode = msgspec.json.Decoder().decode


def _is_command_r(req: ChatRequest) -> bool:
    return "command-r" in (req.spec.base_model or req.spec.model_id).lower()


def _has_media(req: ChatRequest) -> bool:
    for m in req.messages:
        for p in m.content:
            inner = p.content if isinstance(p, ToolResultPart) and not isinstance(p.content, str) else [p]
            if any(isinstance(q, (ImagePart, DocumentPart)) for q in inner):
                return True
    return False


def accepts(req: ChatRequest) -> bool:
    """Whether the native body can carry this request (the endpoint rule asks): Command R / R+
    only, and no images or documents, unless RAG ``cohere_documents`` (native only) are given."""
    return req.provider_options.cohere_documents is not None or (_is_command_r(req) and not _has_media(req))


def cohere_finish_reason(reason: Any, has_calls: bool) -> FinishReason:
    mapped = _FINISH.get(reason.upper() if isinstance(reason, str) else "", "stop")
    return "tool_calls" if has_calls and mapped == "stop" else mapped


def _param_type(schema: dict[str, Any]) -> str:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t == "array":
        items = schema.get("items")
        inner = items.get("type") if isinstance(items, dict) else None
        if isinstance(inner, str) and inner in _PY_TYPES and inner not in ("array", "object"):
            return f"List[{_PY_TYPES[inner]}]"
        return "list"
    return _PY_TYPES.get(t if isinstance(t, str) else "", "str")


def parameter_definitions(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A JSON schema (an object) as Cohere's ``parameter_definitions``. Nested schemas flatten to
    ``dict`` / ``list``: Cohere's v1 tool format has no nesting."""
    required = set(schema.get("required") or [])
    out: dict[str, dict[str, Any]] = {}
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        desc = str(prop.get("description") or "")
        if prop.get("enum"):
            choices = ", ".join(json.dumps(v) for v in prop["enum"])
            desc = f"{desc} One of: {choices}." if desc else f"One of: {choices}."
        entry: dict[str, Any] = {"description": desc, "type": _param_type(prop), "required": name in required}
        out[name] = entry
    return out


def _tool(t: Tool) -> dict[str, Any]:
    return {
        "name": t.name,
        "description": t.description or t.name,
        "parameter_definitions": parameter_definitions(t.parameters),
    }


def _parts(m: Message) -> list[ContentPart]:
    return [TextPart(text=m.content)] if isinstance(m.content, str) else list(m.content)


def _text(parts: list[ContentPart]) -> str:
    return "\n".join(p.text for p in parts if isinstance(p, (TextPart, CitationsPart)))


def _call(p: ToolCall) -> dict[str, Any]:
    return {"name": p.name, "parameters": p.arguments}


def _result(p: ToolResultPart, calls: dict[str, ToolCall]) -> dict[str, Any]:
    text = p.content if isinstance(p.content, str) else "\n".join(q.text for q in p.content if isinstance(q, TextPart))
    output: dict[str, Any] = {"text": text}
    if p.is_error:
        output["is_error"] = True
    return {"call": _call(calls[p.tool_call_id]), "outputs": [output]}


def _history(req: ChatRequest, calls: dict[str, ToolCall]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in req.messages[:-1]:
        parts = _parts(m)
        if m.role == "assistant":
            entry: dict[str, Any] = {"role": "CHATBOT", "message": _text(parts)}
            tool_calls = [_call(p) for p in parts if isinstance(p, ToolCall)]
            if tool_calls:
                entry["tool_calls"] = tool_calls
            elif not entry["message"]:
                continue  # a turn of thinking only
            out.append(entry)
            continue
        results = [_result(p, calls) for p in parts if isinstance(p, ToolResultPart)]
        if results:
            out.append({"role": "TOOL", "tool_results": results})
        text = _text(parts)
        if text:
            out.append({"role": "USER", "message": text})
    return out


def _checked_documents(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    field = "provider_options.cohere_documents"
    if not docs:
        raise ValidationError("is empty; give at least one document or leave it unset", field=field)
    for i, d in enumerate(docs):
        if not d or not all(isinstance(k, str) and isinstance(v, str) for k, v in d.items()):
            raise ValidationError(
                'each document is a non-empty {"field": "text"} dict of strings', field=f"{field}[{i}]"
            )
    return [dict(d) for d in docs]


def _check_range(name: str, value: float | None, lo: float, hi: float) -> None:
    """AWS's documented range for Command R (wider ones are refused by Bedrock)."""
    if value is not None and not lo <= value <= hi:
        raise ValidationError(f"must be between {lo} and {hi} for Command R, got {value}", field=name)


#: GenerationOptions attribute -> Cohere chat body key
_OPTIONS: _common.OptionTable = (
    ("max_tokens", "max_tokens"),
    ("temperature", "temperature"),
    ("top_p", "p"),
    ("top_k", "k"),
    ("stop", "stop_sequences"),
)


class CohereFormatter:
    """Formatter for Command R / R+'s chat body on ``/invoke`` and ``/invoke-with-response-stream``."""

    name = "cohere"
    endpoint: Endpoint = "invoke"

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        opts, po = req.options, req.provider_options
        if not _is_command_r(req):
            raise ValidationError(
                f"reqbed's native Cohere body is Command R / R+'s chat body; {req.spec.base_model} needs Converse "
                "(leave use_converse unset)",
                field="provider_options.use_converse",
            )
        for i, m in enumerate(req.messages):
            for j, p in enumerate(m.content):
                inner = p.content if isinstance(p, ToolResultPart) and not isinstance(p.content, str) else [p]
                if any(isinstance(q, (ImagePart, DocumentPart)) for q in inner):
                    raise ValidationError(
                        "Cohere's native body carries text only "
                        "(RAG documents go in provider_options.cohere_documents)",
                        field=f"prompt[{i}].content[{j}]",
                    )
        if opts.tool_choice not in (None, "auto", "none"):
            raise ValidationError("Command R cannot be forced to call a tool", field="tool_choice")
        last = req.messages[-1]
        if last.role == "assistant":
            raise ValidationError(
                "Cohere's chat body answers a user turn or tool results; the conversation ends with an assistant turn",
                field=f"prompt[{len(req.messages) - 1}]",
            )
        calls = {p.id: p for m in req.messages for p in m.content if isinstance(p, ToolCall)}
        parts = _parts(last)
        body: dict[str, Any] = {"message": _text(parts)}
        history = _history(req, calls)
        if history:
            body["chat_history"] = history
        if req.system:
            body["preamble"] = "\n\n".join(p.text for p in req.system)
        if po.cohere_documents is not None:
            body["documents"] = _checked_documents(po.cohere_documents)
        tools = [_tool(t) for t in opts.tools] if opts.tool_choice != "none" or req.has_tool_history else []
        if not tools and req.has_tool_history:
            tools = [
                {"name": n, "description": _STUB, "parameter_definitions": {}} for n in _common.history_tool_names(req)
            ]
        if tools:
            body["tools"] = tools
        results = [_result(p, calls) for p in parts if isinstance(p, ToolResultPart)]
        if results:
            body["tool_results"] = results
        _check_range("top_p", opts.top_p, 0.01, 0.99)
        _check_range("top_k", opts.top_k, 0, 500)
        _common.copy_options(body, opts, _OPTIONS)
        body.update(po.additional_model_request_fields or {})
        return body

    def parse_response(self, body: bytes, req: ChatRequest, headers: Mapping[str, str] | None = None) -> Response:
        """Parse the answer (the pipeline turns odd shapes into ``ModelStreamError``)."""
        data = _decode(body)
        if not isinstance(data, dict) or not isinstance(data.get("text", ""), str):
            raise _common.bad_body("Cohere answer is not a chat response")
        calls = tool_calls(data.get("tool_calls"), _generation_id(data))
        text = data.get("text") or ""
        content: list[ContentPart] = [TextPart(text=text)] if text else []
        content.extend(calls)
        response = make_response(
            content=content,
            finish_reason=cohere_finish_reason(data.get("finish_reason"), bool(calls)),
            usage=meta_usage(data.get("meta")),
            model=req.spec.model_id,
            raw=data,
        )
        return _common.native_answer(response, data, headers, req)

    def stream_parser(self, req: ChatRequest) -> StreamParser:
        return _common.guarded_parser(CohereStreamParser(), req)


def _generation_id(data: dict[str, Any]) -> str:
    return str(data.get("generation_id") or data.get("response_id") or "")


def tool_calls(raw: Any, generation_id: str, start: int = 0) -> list[ToolCall]:
    """Cohere's ``{name, parameters}`` calls, each with a stable id (Cohere v1 gives none)."""
    out: list[ToolCall] = []
    for k, c in enumerate(raw or [], start):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise _common.bad_body("a Cohere tool call has no name")
        params = c.get("parameters")
        params = params if isinstance(params, dict) else {}
        seed = f"{generation_id}\x00{k}\x00{c['name']}\x00{json.dumps(params, sort_keys=True)}".encode()
        out.append(ToolCall(id="cohere_" + hashlib.sha256(seed).hexdigest()[:24], name=c["name"], arguments=params))
    return out


def meta_usage(meta: Any) -> Usage:
    """``meta.billed_units`` (else ``meta.tokens``) of a Cohere response; zeros when absent."""
    if not isinstance(meta, dict):
        return Usage()
    units = meta.get("billed_units") if isinstance(meta.get("billed_units"), dict) else meta.get("tokens")
    if not isinstance(units, dict):
        return Usage()
    inp, out = _common.token_count(units.get("input_tokens")), _common.token_count(units.get("output_tokens"))
    return Usage(input_tokens=inp, output_tokens=out, total_tokens=inp + out)


class CohereStreamParser:
    """Cohere chat stream events -> chunks; ``stream-end`` completes the answer."""

    def __init__(self) -> None:
        self._generation_id = ""
        self._calls = 0
        self._done = False
        self._intervened = False
        self._guard: GuardrailChunk | None = None

    def _emit_calls(self, raw: Any) -> list[Chunk]:
        out: list[Chunk] = []
        for call in tool_calls(raw, self._generation_id, self._calls):
            index = self._calls
            self._calls += 1
            args = json.dumps(call.arguments)
            out.append(ToolCallDeltaChunk(index=index, id=call.id, name=call.name, arguments_delta=args))
            out.append(ToolCallChunk(index=index, tool_call=call))
        return out

    def feed(self, event_type: str, payload: bytes) -> list[Chunk]:
        data = _decode(payload)
        if not isinstance(data, dict) or self._done:
            return []
        guard = _common.stream_guardrail(data)
        if guard is not None:
            self._guard, self._intervened = guard, guard.result.action == "INTERVENED"
        kind = data.get("event_type")
        if kind == "stream-start":
            self._generation_id = _generation_id(data)
        elif kind == "text-generation":
            text = data.get("text")
            return [TextChunk(text=text)] if isinstance(text, str) and text else []
        elif kind == "tool-calls-generation":
            # its "text" repeats what text-generation events already streamed
            return self._emit_calls(data.get("tool_calls"))
        elif kind == "stream-end":
            self._done = True
            response: dict[str, Any] = data["response"] if isinstance(data.get("response"), dict) else {}
            self._generation_id = self._generation_id or _generation_id(response)
            out = [] if self._calls else self._emit_calls(response.get("tool_calls"))
            usage = _common.invocation_metrics_usage(data.get(_common.INVOCATION_METRICS))
            usage = usage or meta_usage(response.get("meta"))
            reason = data.get("finish_reason") or response.get("finish_reason")
            out.append(UsageChunk(usage=usage))
            finish = cohere_finish_reason(reason, self._calls > 0)
            if self._guard is not None:
                out.append(self._guard)
            out.append(FinishChunk(finish_reason=_common.native_finish(finish, self._intervened)))
            return out
        return []  # search-queries-generation, search-results, citation-generation: in .raw

    def finish(self) -> list[Chunk]:
        return []
