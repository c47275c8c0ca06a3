"""The emulator's answers to Bedrock's request features (documented in docs/testing.md):

- **guardrails**: with a guardrail configured (Converse ``guardrailConfig``; InvokeModel's
  ``X-Amzn-Bedrock-GuardrailIdentifier`` header), a request whose text holds the trigger word
  ``BLOCKME`` is blocked: Converse answers ``GUARDRAIL_MESSAGE`` with ``stopReason``
  ``guardrail_intervened``; a native answer (and its last stream chunk) gets
  ``"amazon-bedrock-guardrailAction": "INTERVENED"`` (else ``"NONE"``). A trace (``trace`` enabled /
  ``X-Amzn-Bedrock-Trace: ENABLED``) adds ``trace.guardrail`` / ``amazon-bedrock-trace``.
- **citations**: a Converse request holding a document with ``citations.enabled`` is answered with
  a ``citationsContent`` block citing the document's first sentence (streamed: text deltas then a
  ``citation`` delta).
- **tiers and latency**: ``serviceTier`` / ``performanceConfig`` (or InvokeModel's headers) are
  echoed back as applied.
- **cache writes by TTL**: a cache write is reported by the TTL of the last cache point (Converse
  ``usage.cacheDetails``; Claude's native ``usage.cache_creation``).
- **token-count headers**: every InvokeModel answer carries ``X-Amzn-Bedrock-Input-Token-Count`` /
  ``-Output-Token-Count`` (from the answer's invocation metrics).
"""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = ["GUARDRAIL_MESSAGE", "TRIGGER", "converse", "native", "native_reply_headers"]

TRIGGER = "BLOCKME"
GUARDRAIL_MESSAGE = "Sorry, the model cannot answer this question."


def _assessment(guardrail_id: str) -> dict[str, Any]:
    return {
        guardrail_id: {
            "topicPolicy": {"topics": [{"name": "Blocked", "type": "DENY", "action": "BLOCKED"}]},
            "invocationMetrics": {"guardrailProcessingLatency": 1},
        }
    }


def _triggered(value: Any) -> bool:
    return TRIGGER in json.dumps(value)


def _first_sentence(document: dict[str, Any]) -> str:
    source = document.get("source") or {}
    raw = base64.b64decode(source["bytes"]).decode("utf-8", "replace") if "bytes" in source else ""
    return (raw.split(".")[0].strip() + ".") if raw.strip() else "(no text)"


def converse(body: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """Apply the request's features to a Converse answer (see the module docstring)."""
    config = body.get("guardrailConfig")
    if isinstance(config, dict):
        trace = config.get("trace") in ("enabled", "enabled_full")
        gid = str(config.get("guardrailIdentifier"))
        if _triggered(body.get("messages")) or _triggered(body.get("system")):
            answer["output"]["message"]["content"] = [{"text": GUARDRAIL_MESSAGE}]
            answer["stopReason"] = "guardrail_intervened"
            if trace:
                answer["trace"] = {"guardrail": {"inputAssessment": _assessment(gid)}}
        elif trace:
            answer["trace"] = {"guardrail": {"inputAssessment": {gid: {}}}}
    cited = [
        (i, b["document"])
        for m in body.get("messages") or []
        for i, b in enumerate(m.get("content") or [])
        if "document" in b and (b["document"].get("citations") or {}).get("enabled")
    ]
    if cited and answer.get("stopReason") == "end_turn":
        doc = cited[-1][1]
        sentence = _first_sentence(doc)
        citation = {
            "title": doc.get("name"),
            "sourceContent": [{"text": sentence}],
            "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": len(sentence)}},
        }
        answer["output"]["message"]["content"] = [
            {"text": "According to the document:"},
            {"citationsContent": {"content": [{"text": " " + sentence}], "citations": [citation]}},
        ]
    write = answer["usage"].get("cacheWriteInputTokens") or 0
    if write:
        points = [b["cachePoint"] for b in _converse_blocks(body) if isinstance(b, dict) and "cachePoint" in b]
        answer["usage"]["cacheDetails"] = [{"ttl": points[-1].get("ttl") or "5m", "inputTokens": write}]
    if isinstance(body.get("serviceTier"), dict):
        answer["serviceTier"] = dict(body["serviceTier"])
    if isinstance(body.get("performanceConfig"), dict):
        answer["performanceConfig"] = dict(body["performanceConfig"])
    return answer


def _converse_blocks(body: dict[str, Any]) -> list[Any]:
    blocks = list((body.get("toolConfig") or {}).get("tools") or []) + list(body.get("system") or [])
    for m in body.get("messages") or []:
        blocks += m.get("content") or []
    return blocks


def _claude_cache_creation(body: dict[str, Any], usage: Any) -> None:
    """Claude's ``usage.cache_creation`` split by the TTL of the last breakpoint (in place)."""
    if not isinstance(usage, dict) or not usage.get("cache_creation_input_tokens"):
        return
    marks = _walk_cache_control(body)
    ttl = (marks[-1].get("ttl") if marks else None) or "5m"
    write = usage["cache_creation_input_tokens"]
    usage["cache_creation"] = {
        "ephemeral_5m_input_tokens": write if ttl == "5m" else 0,
        "ephemeral_1h_input_tokens": write if ttl == "1h" else 0,
    }


def _walk_cache_control(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value["cache_control"]] if isinstance(value.get("cache_control"), dict) else []
        for k in ("tools", "system", "messages", "content"):
            found += _walk_cache_control(value.get(k))
        return found
    if isinstance(value, list):
        return [cc for v in value for cc in _walk_cache_control(v)]
    return []


def native(headers: dict[str, str], body: dict[str, Any], answer: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Mark a native answer and its last stream chunk with the guardrail's verdict (in place);
    split Claude's cache writes by TTL."""
    _claude_cache_creation(body, answer.get("usage"))
    if events and events[0].get("type") == "message_start":
        _claude_cache_creation(body, (events[0].get("message") or {}).get("usage"))
    gid = headers.get("x-amzn-bedrock-guardrailidentifier")
    if gid is None:
        return
    blocked = _triggered(body)
    marks: dict[str, Any] = {"amazon-bedrock-guardrailAction": "INTERVENED" if blocked else "NONE"}
    if headers.get("x-amzn-bedrock-trace", "").upper() in ("ENABLED", "ENABLED_FULL"):
        marks["amazon-bedrock-trace"] = {"guardrail": {"input": _assessment(gid) if blocked else {gid: {}}}}
    answer.update(marks)
    if events:
        events[-1].update(marks)


def native_reply_headers(headers: dict[str, str], events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """InvokeModel's answer headers: token counts (from the invocation metrics), tier and latency."""
    out: list[tuple[str, str]] = []
    metrics = events[-1].get("amazon-bedrock-invocationMetrics") if events else None
    if isinstance(metrics, dict):
        out.append(("x-amzn-bedrock-input-token-count", str(metrics.get("inputTokenCount", 0))))
        out.append(("x-amzn-bedrock-output-token-count", str(metrics.get("outputTokenCount", 0))))
    for name in ("x-amzn-bedrock-service-tier", "x-amzn-bedrock-performanceconfig-latency"):
        if name in headers:
            out.append((name, headers[name]))
    return out
