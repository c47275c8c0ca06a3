"""The emulator's native Claude body (InvokeModel): validation like AWS's, deterministic answers.

Listed in the emulator's responder table (``_responders``); the emulator turns ``BadRequest`` into a
400 ``ValidationException`` and wraps each stream event in a ``chunk`` event.

Checked (each a rule Bedrock / Anthropic enforces): ``anthropic_version`` is
``bedrock-2023-05-31``; ``max_tokens`` is a positive integer; ``messages`` alternate, start with a
user turn, hold known non-empty blocks; ``tool_result`` blocks lead their turn and answer the
``tool_use`` blocks of the previous turn (and every ``tool_use`` is answered); tool blocks need
``tools``; at most 4 ``cache_control`` breakpoints, no 1h one after a 5m one; thinking rules
(budget >= 1024 and < ``max_tokens``, temperature 1, no ``top_k``, no forced tool, a tool loop's
assistant turn starts with the signed thinking block this emulator produced).

Answers follow ``_converse_responder``'s rules: tool results -> ``"Tool results: ..."``; a forced
or named tool -> ``tool_use`` with arguments from its schema; else ``"You said: <text>"``;
thinking adds a signed ``thinking`` block (and a ``redacted_thinking`` one when the user text holds
Anthropic's documented magic string); prefixes up to the last breakpoint are cached for the
process (first call writes, later identical prefixes read). Tokens are whitespace-separated words.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from typing import Any

from ._converse_responder import BadRequest, arguments_for

__all__ = ["REDACTED_THINKING_TRIGGER", "handle", "stream_events", "validate"]

ANTHROPIC_VERSION = "bedrock-2023-05-31"
#: Anthropic's documented test string that makes Claude 3.7 answer with redacted thinking.
REDACTED_THINKING_TRIGGER = (
    "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253D5E2D82641AC0E52CC2876CB"
)
_BLOCK_TYPES = frozenset({"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"})
_CACHE: set[str] = set()
_CACHE_LOCK = threading.Lock()


def _sign(thinking: str) -> str:
    return base64.b64encode(hashlib.sha256(b"emulator-thinking:" + thinking.encode()).digest()).decode()


def _words(text: str) -> int:
    return len(text.split())


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if b.get("type") == "text":
            out.append(str(b.get("text", "")))
        elif b.get("type") == "tool_result":
            out.extend(_texts(_blocks(b.get("content") or [])))
        elif b.get("type") == "tool_use":
            out.append(json.dumps(b.get("input")))
    return out


def _fail(message: str) -> BadRequest:
    return BadRequest(message)


def _check_block(i: int, role: str, b: Any) -> None:
    where = f"messages.{i}.content"
    if not isinstance(b, dict) or b.get("type") not in _BLOCK_TYPES:
        raise _fail(f"{where}: unknown content block {b!r}")
    kind = b["type"]
    if kind == "text" and not str(b.get("text", "")).strip():
        raise _fail(f"{where}: text content blocks must be non-empty")
    if kind in ("image", "document"):
        source = b.get("source") or {}
        if source.get("type") not in ("base64", "text") or not source.get("data"):
            raise _fail(f"{where}: {kind} source must be base64 (or text, for documents) with data")
    if kind in ("tool_use", "thinking", "redacted_thinking") and role != "assistant":
        raise _fail(f"{where}: {kind} blocks belong in assistant turns")
    if kind == "tool_result" and role != "user":
        raise _fail(f"{where}: tool_result blocks belong in user turns")
    if kind == "thinking":
        if not b.get("signature"):
            raise _fail(f"{where}: thinking.signature: Field required")
        if b["signature"] != _sign(str(b.get("thinking", ""))):
            raise _fail(f"{where}: Invalid `signature` in `thinking` block")
    if "cache_control" in b and kind in ("thinking", "redacted_thinking"):
        raise _fail(f"{where}: cache_control cannot be set for {kind} blocks")


def _check_messages(messages: Any) -> bool:
    """Turn and tool rules; returns whether tool blocks appear."""
    if not isinstance(messages, list) or not messages:
        raise _fail("Malformed input request: #: required key [messages] not found, please reformat your input")
    uses_tools = False
    prev_uses: set[str] = set()
    prev_role = None
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ("user", "assistant"):
            raise _fail(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if i == 0 and role != "user":
            raise _fail('messages: first message must use the "user" role')
        if role == prev_role:
            raise _fail(
                f'messages: roles must alternate between "user" and "assistant", but found multiple "{role}" roles '
                "in a row"
            )
        content = _blocks(m.get("content"))
        if not isinstance(content, list) or not content:
            raise _fail(f"messages.{i}: all messages must have non-empty content")
        for b in content:
            _check_block(i, role, b)
        results = [b["tool_use_id"] for b in content if b["type"] == "tool_result"]
        if results:
            uses_tools = True
            firsts = [b["type"] for b in content[: len(results)]]
            if any(t != "tool_result" for t in firsts):
                raise _fail(f"messages.{i}: tool_result blocks must come first in the user turn")
            unknown = [r for r in results if r not in prev_uses]
            if unknown:
                raise _fail(
                    f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: {unknown[0]}. "
                    "Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                )
        if prev_uses and role == "user" and prev_uses - set(results):
            missing = sorted(prev_uses - set(results))[0]
            raise _fail(
                f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{missing}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
            )
        prev_uses = {b["id"] for b in content if b["type"] == "tool_use"}
        uses_tools = uses_tools or bool(prev_uses)
        prev_role = role
    return uses_tools


def _cache_points(body: dict[str, Any]) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []

    def walk(blocks: Any) -> None:
        for b in blocks if isinstance(blocks, list) else []:
            if isinstance(b, dict):
                if "cache_control" in b:
                    points.append(b["cache_control"])
                if b.get("type") == "tool_result":
                    walk(b.get("content"))

    walk(body.get("tools"))
    walk(body.get("system"))
    for m in body["messages"]:
        walk(_blocks(m["content"]))
    return points


def _check_thinking(body: dict[str, Any], thinking: Any) -> bool:
    if thinking is None or (isinstance(thinking, dict) and thinking.get("type") == "disabled"):
        return False
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        raise _fail("thinking: Input tag does not match any of the expected tags: 'enabled', 'disabled'")
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or budget < 1024:
        raise _fail("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if budget >= body["max_tokens"]:
        raise _fail("`max_tokens` must be greater than `thinking.budget_tokens`")
    if body.get("temperature", 1) != 1:
        raise _fail("`temperature` may only be set to 1 when thinking is enabled")
    if "top_k" in body:
        raise _fail("`top_k` must be unset when thinking is enabled")
    if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
        raise _fail("Thinking may not be enabled when tool_choice forces tool use.")
    messages = body["messages"]
    last_assistant = next((m for m in reversed(messages) if m["role"] == "assistant"), None)
    in_tool_loop = any(b["type"] == "tool_result" for b in _blocks(messages[-1]["content"]))
    if last_assistant is not None and in_tool_loop:
        first = _blocks(last_assistant["content"])[0]["type"]
        if first not in ("thinking", "redacted_thinking"):
            raise _fail(
                f"messages.{messages.index(last_assistant)}.content.0.type: Expected `thinking` or "
                f"`redacted_thinking`, but found `{first}`. When `thinking` is enabled, a final `assistant` message "
                "must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks)."
            )
    return True


def validate(body: Any) -> bool:
    """Refuse what Bedrock refuses; returns whether thinking is enabled."""
    if not isinstance(body, dict):
        raise _fail("Malformed input request: #: expected type: JSONObject, please reformat your input")
    if "anthropic_version" not in body:
        raise _fail("Malformed input request: #: required key [anthropic_version] not found, please reformat input")
    if body["anthropic_version"] != ANTHROPIC_VERSION:
        raise _fail(f"Invalid API version: {body['anthropic_version']!r}; use {ANTHROPIC_VERSION!r}")
    mt = body.get("max_tokens")
    if "max_tokens" not in body:
        raise _fail("Malformed input request: #: required key [max_tokens] not found, please reformat input")
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        raise _fail("max_tokens: Input should be a valid integer greater than or equal to 1")
    t = body.get("temperature")
    if t is not None and not 0 <= t <= 1:
        raise _fail("temperature: range: 0..1")
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        for b in system:
            if b.get("type") != "text" or not str(b.get("text", "")).strip():
                raise _fail("system: text content blocks must be non-empty")
    uses_tools = _check_messages(body.get("messages"))
    if uses_tools and not body.get("tools"):
        raise _fail("Requests which include `tool_use` or `tool_result` blocks must define tools.")
    choice = body.get("tool_choice")
    if choice is not None and choice.get("type") not in ("auto", "any", "tool", "none"):
        raise _fail("tool_choice.type: Input tag does not match any of the expected tags")
    points = _cache_points(body)
    if len(points) > 4:
        raise _fail(f"A maximum of 4 blocks with cache_control may be provided. Found {len(points)}.")
    seen_short = False
    for cc in points:
        if cc.get("ttl") == "1h" and seen_short:
            raise _fail("a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block")
        seen_short = seen_short or cc.get("ttl") != "1h"
    return _check_thinking(body, body.get("thinking"))


def _plan(body: dict[str, Any], thinking_on: bool) -> tuple[list[dict[str, Any]], str]:
    """(content blocks before limits, stop reason)."""
    messages = body["messages"]
    last = _blocks(messages[-1]["content"])
    last_text = " ".join(_texts([b for b in last if b["type"] == "text"])).strip()
    tools = [t for t in body.get("tools") or [] if "name" in t]
    choice = body.get("tool_choice") or {}
    blocks: list[dict[str, Any]] = []
    results = [b for b in last if b["type"] == "tool_result"]
    if thinking_on and not results:
        thought = f"The user asked: {last_text or 'a follow-up'}. I will answer directly."
        blocks.append({"type": "thinking", "thinking": thought, "signature": _sign(thought)})
        if REDACTED_THINKING_TRIGGER in last_text:
            digest = hashlib.sha256(last_text.encode()).digest()
            blocks.append({"type": "redacted_thinking", "data": base64.b64encode(b"redacted:" + digest).decode()})
    if results:
        text = "Tool results: " + "; ".join(" ".join(_texts(_blocks(r.get("content") or []))) for r in results)
        return [*blocks, {"type": "text", "text": text}], "end_turn"
    chosen = None
    if tools and choice.get("type") != "none":
        if choice.get("type") == "tool":
            chosen = next((t for t in tools if t["name"] == choice.get("name")), None)
        elif choice.get("type") == "any":
            chosen = tools[0]
        else:
            chosen = next((t for t in tools if t["name"] in last_text), None)
    if chosen is not None:
        use_id = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:24]
        use = {
            "type": "tool_use",
            "id": f"toolu_bdrk_{use_id}",
            "name": chosen["name"],
            "input": arguments_for(chosen.get("input_schema") or {}),
        }
        return [*blocks, {"type": "text", "text": f"Calling {chosen['name']}."}, use], "tool_use"
    return [*blocks, {"type": "text", "text": f"You said: {last_text}"}], "end_turn"


def _usage(body: dict[str, Any]) -> tuple[int, int, int]:
    """(uncached input, cache read, cache write): the prefix up to the last breakpoint is cached."""
    blocks: list[dict[str, Any]] = [{"text": json.dumps(t, sort_keys=True), **t} for t in body.get("tools") or []]
    system = body.get("system")
    blocks += _blocks(system) if system else []
    for m in body["messages"]:
        blocks += _blocks(m["content"])
    last_point = max((i for i, b in enumerate(blocks) if "cache_control" in b), default=-1)

    def count(bs: list[dict[str, Any]]) -> int:
        return sum(_words(t) for t in _texts([{**b, "type": b.get("type", "text")} for b in bs]))

    prefix, rest = blocks[: last_point + 1], count(blocks[last_point + 1 :])
    if last_point < 0:
        return rest, 0, 0
    key = hashlib.sha256(json.dumps(prefix, sort_keys=True).encode()).hexdigest()
    with _CACHE_LOCK:
        if key in _CACHE:
            return rest, count(prefix), 0
        _CACHE.add(key)
    return rest, 0, count(prefix)


def answer(model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The full InvokeModel answer for a valid body."""
    thinking_on = validate(body)
    planned, stop = _plan(body, thinking_on)
    budget = body["max_tokens"]
    stops = body.get("stop_sequences") or []
    content: list[dict[str, Any]] = []
    out_tokens = 0
    stop_sequence = None
    for b in planned:
        if b["type"] != "text":
            content.append(b)
            out_tokens += _words(b.get("thinking") or json.dumps(b.get("input") or b.get("data")))
            continue
        text = b["text"]
        for s in stops:
            at = text.find(s)
            if at >= 0:
                text, stop, stop_sequence = text[:at], "stop_sequence", s
        remaining = max(budget - out_tokens, 0)
        if _words(text) > remaining:
            text, stop, stop_sequence = " ".join(text.split()[:remaining]), "max_tokens", None
        out_tokens += _words(text)
        if text:
            content.append({"type": "text", "text": text})
        if stop in ("stop_sequence", "max_tokens"):
            break
    inp, read, write = _usage(body)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    return {
        "id": f"msg_bdrk_{digest}",
        "type": "message",
        "role": "assistant",
        "model": model_id,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": stop_sequence,
        "usage": {
            "input_tokens": inp,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "output_tokens": out_tokens,
        },
    }


def _pieces(text: str) -> list[str]:
    """Word-sized pieces whose concatenation is exactly ``text``."""
    words = text.split(" ")
    return [p for p in (w if i == 0 else " " + w for i, w in enumerate(words)) if p]


def stream_events(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream events (each one ``chunk``'s JSON) that carry the same answer as ``response``."""
    usage = response["usage"]
    start_usage = {k: v for k, v in usage.items() if k != "output_tokens"} | {"output_tokens": 1}
    message = {k: v for k, v in response.items() if k not in ("content", "usage")}
    message.update(content=[], stop_reason=None, stop_sequence=None, usage=start_usage)
    events: list[dict[str, Any]] = [{"type": "message_start", "message": message}]
    for i, b in enumerate(response["content"]):
        kind = b["type"]
        if kind == "text":
            events.append({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})
            if i == 0:
                events.append({"type": "ping"})
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(b["text"])]
        elif kind == "tool_use":
            start = {"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}
            events.append({"type": "content_block_start", "index": i, "content_block": start})
            raw = json.dumps(b["input"])
            deltas = [{"type": "input_json_delta", "partial_json": ""}]
            deltas += [{"type": "input_json_delta", "partial_json": raw[k : k + 7]} for k in range(0, len(raw), 7)]
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": ""}
            events.append({"type": "content_block_start", "index": i, "content_block": start})
            deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(b["thinking"])]
            deltas.append({"type": "signature_delta", "signature": b["signature"]})
        else:  # redacted_thinking arrives whole in its start event
            events.append({"type": "content_block_start", "index": i, "content_block": dict(b)})
            deltas = []
        events.extend({"type": "content_block_delta", "index": i, "delta": d} for d in deltas)
        events.append({"type": "content_block_stop", "index": i})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": response["stop_reason"], "stop_sequence": response["stop_sequence"]},
            "usage": {"output_tokens": usage["output_tokens"]},
        }
    )
    metrics = {
        "inputTokenCount": usage["input_tokens"],
        "outputTokenCount": usage["output_tokens"],
        "invocationLatency": 1,
        "firstByteLatency": 1,
    }
    if usage["cache_read_input_tokens"]:
        metrics["cacheReadInputTokenCount"] = usage["cache_read_input_tokens"]
    if usage["cache_creation_input_tokens"]:
        metrics["cacheWriteInputTokenCount"] = usage["cache_creation_input_tokens"]
    events.append({"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics})
    return events


def handle(model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The native handler: (JSON answer, stream events)."""
    response = answer(model_id, body)
    return response, stream_events(response)
