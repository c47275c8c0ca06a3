"""The emulator's structured-output answers: plain functions, called by the emulator's router.

- Converse with ``outputConfig.textFormat`` (``type: json_schema``; ``structure.jsonSchema.schema``
  must be a JSON *string* holding an object schema, as AWS requires): the answer's text is a JSON
  value for that schema (``value_for``), ``end_turn``; streamed, the JSON arrives in pieces.
- Converse with a forced tool (``toolChoice`` ``tool``/``any``), or a tool named in the last user
  text or the system prompt (how an unforced model is told to use it): the ``toolUse`` input is
  ``value_for`` the tool's input schema (nested objects, ``$ref``, arrays, ``anyOf`` ...).
- a json-mode prompt (reqbed's instruction "... conforms to the JSON Schema below ..." followed by
  the schema on the next line, in the system prompt or the last user turn): prose, then the JSON
  value in a ```` ```json ```` fence, as chat models tend to answer.
- Claude's native ``/invoke`` ``output_config.format`` (``{"type": "json_schema", "schema": {...}}``):
  the answer is one text block holding the JSON; gpt-oss's ``response_format`` (``{"type":
  "json_schema", "json_schema": {"name", "schema"}}``): the message content (after its reasoning)
  is the JSON; both streamed in pieces.
- the ``bad_object`` fault (param ``how``: ``"not_json"`` (default) or ``"mismatch"``): the next
  structured answer is prose that is not JSON, or JSON that misses the schema's required fields.

``value_for`` is deterministic: integers from ``minimum`` (else 2), numbers 1.5, strings
``"example"`` (or a value of their ``format``), booleans true, the first ``enum`` / ``anyOf``
option, ``minItems`` items (at least one), every property of an object.
"""

from __future__ import annotations

import json
from typing import Any

from .._object.validate import check_json_schema
from . import _converse_responder as converse

__all__ = ["BAD_OBJECT_TEXT", "JSON_MODE_MARKER", "converse_answer", "invoke_answer", "value_for"]

BAD_OBJECT_TEXT = "I'm sorry, I can only answer in prose today."
_FORMATS = {
    "date-time": "2025-01-02T03:04:05Z",
    "date": "2025-01-02",
    "time": "03:04:05Z",
    "uuid": "12345678-1234-5678-1234-567812345678",
    "email": "ada@example.com",
    "uri": "https://example.com/",
}


def _resolve(ref: str, root: dict[str, Any]) -> Any:
    node: Any = root
    for part in ref.lstrip("#").split("/")[1:]:
        node = node[part]
    return node


def value_for(schema: Any, root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A deterministic JSON value that satisfies ``schema`` (see the module docstring)."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 20:
        return None
    if "$ref" in schema:
        return value_for(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return value_for(schema[key][0], root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for sub in schema["allOf"]:
            part = value_for(sub, root, depth + 1)
            if isinstance(part, dict):
                merged.update(part)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {name: value_for(sub, root, depth + 1) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [value_for(schema.get("items") or {}, root, depth + 1) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", 2))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "string":
        return _FORMATS.get(schema.get("format", ""), "example")
    return "example"


def _bad(schema: dict[str, Any], how: str) -> str:
    if how == "mismatch":
        return json.dumps({"unexpected": "a value that misses the schema"})
    return BAD_OBJECT_TEXT


def _text_format_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = (body.get("outputConfig") or {}).get("textFormat")
    if fmt is None:
        return None
    if fmt.get("type") != "json_schema":
        raise converse.BadRequest("outputConfig.textFormat.type: must be json_schema")
    structure = (fmt.get("structure") or {}).get("jsonSchema") or {}
    raw = structure.get("schema")
    if not isinstance(raw, str):
        raise converse.BadRequest("outputConfig.textFormat.structure.jsonSchema.schema: must be a string")
    try:
        schema = json.loads(raw)
    except ValueError:
        raise converse.BadRequest("outputConfig.textFormat.structure.jsonSchema.schema: is not valid JSON") from None
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise converse.BadRequest("outputConfig.textFormat.structure.jsonSchema.schema: must describe an object")
    return schema


JSON_MODE_MARKER = "conforms to the JSON Schema below"


def _json_mode_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    texts = [b.get("text", "") for b in body.get("system") or []]
    texts += [b.get("text", "") for b in body["messages"][-1].get("content") or [] if isinstance(b, dict)]
    for text in texts:
        lines = text.split("\n")
        for i, line in enumerate(lines[:-1]):
            if JSON_MODE_MARKER in line:
                try:
                    schema = json.loads(lines[i + 1])
                except ValueError:
                    return None
                return schema if isinstance(schema, dict) else None
    return None


def converse_answer(body: dict[str, Any], *, cache: set[str], bad: str | None = None) -> dict[str, Any]:
    """The Converse answer, structured where the request asks for structure; ``bad``: the fault's ``how``."""
    schema = _text_format_schema(body)
    if schema is not None:
        plain = {k: v for k, v in body.items() if k != "outputConfig"}
        result = converse.answer(plain, cache=cache)
        text = _bad(schema, bad) if bad else json.dumps(value_for(schema))
        result["output"]["message"]["content"] = [{"text": text}]
        result["stopReason"] = "end_turn"
        result["usage"]["outputTokens"] = len(text.split())
        result["usage"]["totalTokens"] = result["usage"]["inputTokens"] + len(text.split())
        return result
    schema = _json_mode_schema(body) if "toolConfig" not in body else None
    if schema is not None:
        result = converse.answer(body, cache=cache)
        value = _bad(schema, bad) if bad else f"Here it is:\n```json\n{json.dumps(value_for(schema))}\n```"
        result["output"]["message"]["content"] = [{"text": value}]
        result["stopReason"] = "end_turn"
        return result
    tools = {
        t["toolSpec"]["name"]: t["toolSpec"]
        for t in (body.get("toolConfig") or {}).get("tools") or []
        if "toolSpec" in t
    }
    named = " ".join(b.get("text", "") for b in body.get("system") or [])
    if tools and len(tools) == 1 and next(iter(tools)) in named:
        # an unforced model told by the system prompt to call the tool: it does
        (name,) = tools
        body = {**body, "toolConfig": {**body["toolConfig"], "toolChoice": {"tool": {"name": name}}}}
    result = converse.answer(body, cache=cache)
    for block in result["output"]["message"]["content"]:
        use = block.get("toolUse")
        if use is not None and use["name"] in tools:
            schema = tools[use["name"]].get("inputSchema", {}).get("json") or {}
            if bad:
                use["input"] = {"unexpected": True}
            elif check_json_schema(use["input"], schema):  # the plain responder's guess misses the schema
                use["input"] = value_for(schema)
    if bad == "not_json":
        result["output"]["message"]["content"] = [{"text": BAD_OBJECT_TEXT}]
        result["stopReason"] = "end_turn"
    return result


def _openai_answer(model_id: str, body: dict[str, Any], bad: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fmt = body["response_format"]
    spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
    if fmt.get("type") != "json_schema" or not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise converse.BadRequest("response_format: must be {type: json_schema, json_schema: {name, schema}}")
    if not isinstance(spec.get("name"), str):
        raise converse.BadRequest("response_format.json_schema.name: is required")
    from ._native_responders import handle_openai  # loaded on first use

    result, events = handle_openai(model_id, {k: v for k, v in body.items() if k != "response_format"})
    text = _bad(spec["schema"], bad) if bad else json.dumps(value_for(spec["schema"]))
    message = result["choices"][0]["message"]
    reasoning = message["content"].split("</reasoning>")[0] + "</reasoning>"
    message["content"] = reasoning + text
    message.pop("tool_calls", None)
    result["choices"][0]["finish_reason"] = "stop"
    first, tail = events[0], [e for e in events if not e["choices"] or e["choices"][0]["finish_reason"]]
    thinking = [
        e for e in events[1:] if e["choices"] and (e["choices"][0]["delta"].get("content") or "").startswith("<")
    ]
    pieces = [
        {**first, "choices": [{"index": 0, "delta": {"content": text[k : k + 7]}, "finish_reason": None}]}
        for k in range(0, len(text), 7)
    ]
    for e in tail:
        if e["choices"]:
            e["choices"][0]["finish_reason"] = "stop"
    return result, [first, *thinking, *pieces, *tail]


def invoke_answer(
    family: str, model_id: str, body: dict[str, Any], *, bad: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """``/invoke`` with Claude's ``output_config.format`` or gpt-oss's ``response_format``:
    (answer, stream events); None for any other body."""
    if family == "openai" and "response_format" in body:
        return _openai_answer(model_id, body, bad)
    fmt = (body.get("output_config") or {}).get("format")
    if family != "anthropic" or fmt is None:
        return None
    from . import _anthropic_responder as anthropic  # loaded on first use

    if fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict):
        raise converse.BadRequest("output_config.format: must be {type: json_schema, schema: {...}}")
    plain = {k: v for k, v in body.items() if k != "output_config"}
    result = anthropic.answer(model_id, plain)
    text = _bad(fmt["schema"], bad) if bad else json.dumps(value_for(fmt["schema"]))
    result["content"] = [{"type": "text", "text": text}]
    result["stop_reason"] = "end_turn"
    result["usage"]["output_tokens"] = len(text.split())
    return result, anthropic.stream_events(result)
