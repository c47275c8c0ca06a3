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
    if isinstance(body.get("serviceTier"), dict):
        answer["serviceTier"] = dict(body["serviceTier"])
    if isinstance(body.get("performanceConfig"), dict):
        answer["performanceConfig"] = dict(body["performanceConfig"])
    return answer


def native(headers: dict[str, str], body: dict[str, Any], answer: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Mark a native answer and its last stream chunk with the guardrail's verdict (in place)."""
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
