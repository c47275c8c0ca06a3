"""Deterministic Converse answers for the emulator: the same request always gets the same answer.

Rules (documented in docs/testing.md):
- the last user turn holds tool results -> text ``"Tool results: <their text>"``, ``end_turn``;
- tools are configured and ``toolChoice`` forces one (``any`` / ``tool``), or the last user text
  names a configured tool -> a ``toolUse`` of that tool with arguments made from its schema
  (integers 2, 3, 4 ..., numbers 1.5, strings "example", booleans true), ``tool_use``;
- otherwise -> text ``"You said: <last user text>"``, ``end_turn``.
``maxTokens`` truncates the text word by word (``max_tokens``); a stop sequence found in the text
cuts it (``stop_sequence``); thinking enabled in ``additionalModelRequestFields`` adds a signed
``reasoningContent`` block. Tokens are whitespace-separated words.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["BadRequest", "answer", "arguments_for", "stream_events", "validate"]


class BadRequest(Exception):
    """The body breaks a rule Bedrock enforces; answered as a 400 ValidationException."""


def _words(text: str) -> int:
    return len(text.split())


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for b in blocks:
        if "text" in b and isinstance(b["text"], str):
            out.append(b["text"])
        elif "toolResult" in b:
            out.extend(_texts(b["toolResult"].get("content") or []))
        elif "toolUse" in b:
            out.append(str(b["toolUse"].get("input")))
    return out


def validate(body: Any) -> None:
    """The rules Bedrock's Converse enforces that reqbed must never break."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("The model returned the following errors: messages: at least one message is required")
    tool_ids: set[str] = set()
    uses_tools = False
    prev = None
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ("user", "assistant"):
            raise BadRequest(f"messages.{i}.role: must be user or assistant")
        if i == 0 and role != "user":
            raise BadRequest(
                "A conversation must start with a user message. "
                "Try again with a conversation that starts with a user message."
            )
        if role == prev:
            raise BadRequest(
                "A conversation must alternate between user and assistant roles. Make sure the "
                "conversation alternates between user and assistant roles and try again."
            )
        prev = role
        content = m.get("content")
        if not isinstance(content, list) or not content:
            raise BadRequest(f"messages.{i}.content: must be a non-empty list")
        for b in content:
            if not isinstance(b, dict) or len(b) != 1:
                raise BadRequest(f"messages.{i}.content: each block must have exactly one member")
            if "text" in b and not isinstance(b["text"], str):
                raise BadRequest(f"messages.{i}.content: text must be a string")
            if "text" in b and not str(b["text"]).strip():
                raise BadRequest(f"messages.{i}.content: text content blocks must be non-empty")
            if "toolUse" in b:
                uses_tools = True
                tool_ids.add(b["toolUse"]["toolUseId"])
            if "toolResult" in b:
                uses_tools = True
                if b["toolResult"].get("toolUseId") not in tool_ids:
                    raise BadRequest("The toolResult blocks must match toolUse blocks of the previous turn.")
    if uses_tools and not (body.get("toolConfig") or {}).get("tools"):
        raise BadRequest("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    inference = body.get("inferenceConfig") or {}
    if not isinstance(inference, dict):
        raise BadRequest("inferenceConfig: must be an object")
    system = body.get("system")
    if system is not None and not (isinstance(system, list) and all(isinstance(b, dict) for b in system)):
        raise BadRequest("system: must be a list of content blocks")
    tool_config = body.get("toolConfig")
    if tool_config is not None:
        tools = tool_config.get("tools") if isinstance(tool_config, dict) else None
        if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
            raise BadRequest("toolConfig.tools: must be a list of tools")
    mt = inference.get("maxTokens")
    if mt is not None and (not isinstance(mt, int) or isinstance(mt, bool) or mt < 1):
        raise BadRequest("inferenceConfig.maxTokens: must be at least 1")
    stops = inference.get("stopSequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(x, str) and x for x in stops)):
        raise BadRequest("inferenceConfig.stopSequences: must be a list of non-empty strings")
    points = sum(
        1
        for blocks in [body.get("system") or [], (body.get("toolConfig") or {}).get("tools") or []]
        + [m["content"] for m in messages]
        for b in blocks
        if "cachePoint" in b
    )
    if points > 4:
        raise BadRequest("A maximum of 4 cache points is allowed.")


def arguments_for(schema: dict[str, Any]) -> dict[str, Any]:
    """Deterministic arguments that satisfy a simple JSON schema."""
    args: dict[str, Any] = {}
    n = 2
    for name, prop in (schema.get("properties") or {}).items():
        t = prop.get("type") if isinstance(prop, dict) else None
        if isinstance(prop, dict) and prop.get("enum"):
            args[name] = prop["enum"][0]
        elif t == "integer":
            args[name] = n
            n += 1
        elif t == "number":
            args[name] = 1.5
        elif t == "boolean":
            args[name] = True
        elif t == "array":
            args[name] = []
        elif t == "object":
            args[name] = arguments_for(prop)
        else:
            args[name] = "example"
    return args


def _plan(body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]], str]:
    """(thinking text or None, content blocks, stop reason)."""
    messages = body["messages"]
    last = messages[-1]["content"]
    last_text = " ".join(_texts([b for b in last if "text" in b])).strip()
    tools = [t["toolSpec"] for t in (body.get("toolConfig") or {}).get("tools") or [] if "toolSpec" in t]
    choice = (body.get("toolConfig") or {}).get("toolChoice") or {}
    extra = body.get("additionalModelRequestFields") or {}
    thinking = None
    if (extra.get("thinking") or {}).get("type") == "enabled":
        thinking = f"The user asked: {last_text or 'a follow-up'}. I will answer directly."
    results = [b["toolResult"] for b in last if "toolResult" in b]
    if results:
        text = "Tool results: " + "; ".join(" ".join(_texts(r.get("content") or [])) for r in results)
        return thinking, [{"text": text}], "end_turn"
    chosen = None
    if tools:
        if "tool" in choice:
            chosen = next((t for t in tools if t["name"] == choice["tool"]["name"]), None)
        elif "any" in choice:
            chosen = tools[0]
        else:
            chosen = next((t for t in tools if t["name"] in last_text), None)
    if chosen is not None:
        digest = hashlib.sha256(repr(messages).encode()).hexdigest()[:22]
        use = {
            "toolUseId": f"tooluse_{digest}",
            "name": chosen["name"],
            "input": arguments_for(chosen.get("inputSchema", {}).get("json") or {}),
        }
        return thinking, [{"text": f"Calling {chosen['name']}."}, {"toolUse": use}], "tool_use"
    return thinking, [{"text": f"You said: {last_text}"}], "end_turn"


def _limit(text: str, budget: int | None, stops: list[str]) -> tuple[str, str | None]:
    reason = None
    for s in stops:
        at = text.find(s)
        if at >= 0:
            text, reason = text[:at], "stop_sequence"
    if budget is not None and _words(text) > budget:
        text, reason = " ".join(text.split()[:budget]), "max_tokens"
    return text, reason


def answer(body: dict[str, Any], *, cache: set[str]) -> dict[str, Any]:
    """The full Converse response body. ``cache`` remembers prompt prefixes marked for caching."""
    validate(body)
    thinking, blocks, stop = _plan(body)
    inference = body.get("inferenceConfig") or {}
    budget = inference.get("maxTokens")
    content: list[dict[str, Any]] = []
    out_tokens = 0
    if thinking is not None:
        sig = hashlib.sha256(thinking.encode()).hexdigest()
        content.append({"reasoningContent": {"reasoningText": {"text": thinking, "signature": sig}}})
        out_tokens += _words(thinking)
    for b in blocks:
        if "text" in b:
            remaining = None if budget is None else max(budget - out_tokens, 0)
            text, reason = _limit(b["text"], remaining, inference.get("stopSequences") or [])
            out_tokens += _words(text)
            if text:
                content.append({"text": text})
            if reason:
                stop = reason
                break
        else:
            content.append(b)
            out_tokens += _words(str(b))
    in_tokens, cache_read, cache_write = _input_tokens(body, cache)
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {
            "inputTokens": in_tokens,
            "outputTokens": out_tokens,
            "totalTokens": in_tokens + out_tokens + cache_read + cache_write,
            "cacheReadInputTokens": cache_read,
            "cacheWriteInputTokens": cache_write,
        },
        "metrics": {"latencyMs": 1},
    }


def _input_tokens(body: dict[str, Any], cache: set[str]) -> tuple[int, int, int]:
    """(uncached input, cache read, cache write): the prefix up to the last cachePoint is cached."""
    blocks: list[dict[str, Any]] = []
    for t in (body.get("toolConfig") or {}).get("tools") or []:
        blocks.append({"text": str(t.get("toolSpec", ""))} if "toolSpec" in t else t)
    blocks += list(body.get("system") or [])
    for m in body["messages"]:
        blocks += m["content"]
    last_point = max((i for i, b in enumerate(blocks) if "cachePoint" in b), default=-1)
    prefix = blocks[: last_point + 1]
    prefix_tokens = sum(_words(t) for t in _texts(prefix))
    rest_tokens = sum(_words(t) for t in _texts(blocks[last_point + 1 :]))
    if last_point < 0:
        return rest_tokens, 0, 0
    key = hashlib.sha256(repr(prefix).encode()).hexdigest()
    if key in cache:
        return rest_tokens, prefix_tokens, 0
    cache.add(key)
    return rest_tokens, 0, prefix_tokens


def stream_events(response: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The ConverseStream events that carry the same answer as ``response``."""
    events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    for i, b in enumerate(response["output"]["message"]["content"]):
        if "text" in b:
            words = b["text"].split(" ")
            for j, w in enumerate(words):
                piece = w if j == 0 else " " + w
                events.append(("contentBlockDelta", {"contentBlockIndex": i, "delta": {"text": piece}}))
        elif "toolUse" in b:
            tu = b["toolUse"]
            events.append(
                (
                    "contentBlockStart",
                    {"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": tu["toolUseId"], "name": tu["name"]}}},
                )
            )
            import json

            raw = json.dumps(tu["input"])
            for k in range(0, len(raw), 7):
                events.append(
                    ("contentBlockDelta", {"contentBlockIndex": i, "delta": {"toolUse": {"input": raw[k : k + 7]}}})
                )
        elif "citationsContent" in b:  # the cited text as text deltas, then each citation
            cc = b["citationsContent"]
            for g in cc["content"]:
                events.append(("contentBlockDelta", {"contentBlockIndex": i, "delta": {"text": g["text"]}}))
            for c in cc["citations"]:
                events.append(("contentBlockDelta", {"contentBlockIndex": i, "delta": {"citation": c}}))
        elif "reasoningContent" in b:
            rt = b["reasoningContent"]["reasoningText"]
            for j, w in enumerate(rt["text"].split(" ")):
                piece = w if j == 0 else " " + w  # the pieces join back to exactly the non-streamed text
                events.append(
                    ("contentBlockDelta", {"contentBlockIndex": i, "delta": {"reasoningContent": {"text": piece}}})
                )
            events.append(
                (
                    "contentBlockDelta",
                    {"contentBlockIndex": i, "delta": {"reasoningContent": {"signature": rt["signature"]}}},
                )
            )
        events.append(("contentBlockStop", {"contentBlockIndex": i}))
    events.append(("messageStop", {"stopReason": response["stopReason"]}))
    metadata: dict[str, Any] = {"usage": response["usage"], "metrics": {"latencyMs": 1}}
    metadata.update({k: response[k] for k in ("trace", "serviceTier", "performanceConfig") if k in response})
    events.append(("metadata", metadata))
    return events
