"""``Response.to_openai()`` / ``.to_anthropic()``: a reqbed answer in OpenAI's / Anthropic's shape.

Plain dicts shaped like OpenAI's ``chat.completion`` and Anthropic's Messages ``message`` objects
(tests validate them with both SDKs' own types). This module imports nothing of reqbed's, not
even for type checkers (``resp`` is a ``reqbed.Response``, typed ``Any`` here): ``_types`` imports it
when a conversion is asked for. docs/interop.md lists every mapping.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

__all__ = ["to_anthropic", "to_openai"]

_OPENAI_FINISH = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "error": "stop",
}
_ANTHROPIC_STOP = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "error": "end_turn",
}


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def to_openai(resp: Any) -> dict[str, Any]:
    """``resp`` as an OpenAI ``chat.completion`` object (see docs/interop.md for the mapping)."""
    message: dict[str, Any] = {"role": "assistant", "content": resp.text or None}
    if resp.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _json(c.arguments)}}
            for c in resp.tool_calls
        ]
    if resp.thinking:
        message["reasoning_content"] = resp.thinking  # the de-facto field (DeepSeek, vLLM, LiteLLM)
    u = resp.usage
    usage: dict[str, Any] = {
        "prompt_tokens": u.input_tokens + u.cache_read_tokens + u.cache_write_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.input_tokens + u.cache_read_tokens + u.cache_write_tokens + u.output_tokens,
    }
    if u.cache_read_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": u.cache_read_tokens}
    return {
        "id": f"chatcmpl-{resp.request_id}" if resp.request_id else "chatcmpl-reqbed",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": resp.model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": _OPENAI_FINISH[resp.finish_reason], "logprobs": None}
        ],
        "usage": usage,
    }


def to_anthropic(resp: Any) -> dict[str, Any]:
    """``resp`` as an Anthropic Messages ``message`` object (see docs/interop.md for the mapping)."""
    content: list[dict[str, Any]] = []
    parts: list[Any] = resp.message.content if isinstance(resp.message.content, list) else []
    if isinstance(resp.message.content, str) and resp.message.content:
        content.append({"type": "text", "text": resp.message.content})
    for p in parts:  # by tag: this module imports nothing of reqbed's (``_types`` imports it)
        if p.type == "thinking":
            content.append({"type": "thinking", "thinking": p.text, "signature": p.signature or ""})
        elif p.type == "redacted_thinking":
            content.append({"type": "redacted_thinking", "data": p.data})
        elif p.type in ("text", "citations"):  # cited text as text (Bedrock's citation shape is not Anthropic's)
            content.append({"type": "text", "text": p.text})
        elif p.type == "tool_call":
            content.append({"type": "tool_use", "id": p.id, "name": p.name, "input": p.arguments})
    u = resp.usage
    return {
        "id": f"msg_{resp.request_id}" if resp.request_id else "msg_reqbed",
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": content,
        "stop_reason": _ANTHROPIC_STOP[resp.finish_reason],
        "stop_sequence": None,
        "usage": {
            "input_tokens": u.input_tokens,
            "output_tokens": u.output_tokens,
            "cache_read_input_tokens": u.cache_read_tokens,
            "cache_creation_input_tokens": u.cache_write_tokens,
        },
    }
