"""Real Converse exchanges (../shared/bedrock-recordings, read-only) against reqbed.

1. Every recorded ``/converse`` answer (status 200) parsed by ``ConverseFormatter`` gives the text,
   tool calls, thinking, finish reason and usage that the recorded JSON holds; the expected values
   are computed here from the recorded body, with AWS's documented stop reasons.
2. Every recorded ``/converse`` request is rebuilt through reqbed from what it says (model, messages,
   tools, inferenceConfig) and reqbed's body must equal the recorded ``canonical_json`` (compared as
   parsed JSON: key order and float spelling such as ``0.0`` vs ``0`` do not matter to AWS).
3. The recorded 403 "Signature expired" answer maps to ``SignatureExpiredError``.

Skipped cleanly when the recordings folder is absent. Nothing from the recordings is copied here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import msgspec
import pytest

import reqbed
from reqbed._errors import map_api_error
from reqbed._families.converse import ConverseFormatter
from reqbed._pipeline import prepare
from reqbed._request import ChatRequest, build_chat_request
from tests.support import load_recording, recording_files

pytestmark = pytest.mark.recordings

CREDS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

#: AWS's Converse ``stopReason`` values (API reference, ConverseOutput) -> reqbed's finish reasons.
STOP_REASONS = {
    "end_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "stop_sequence": "stop_sequence",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}


def _converse(status: int | None) -> list[Path]:
    out = []
    for path in recording_files():
        rec = load_recording(path)
        if rec["request"]["url"].endswith("/converse") and (status is None or rec["response"]["status"] == status):
            out.append(path)
    return out


OK = _converse(200)
ALL_CONVERSE = _converse(None)
SIGNATURE_EXPIRED = "anthropic_claude_opus_4_1_20250805_v1_0/usage.json"


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _model_id(rec: dict[str, Any]) -> str:
    """The model id from the recorded URL: ``/model/<one encoded segment>/converse``."""
    segments = urlsplit(rec["request"]["url"]).path.split("/")
    assert segments[1] == "model"
    assert segments[3] == "converse"
    return unquote(segments[2])


def _request_for(rec: dict[str, Any]) -> ChatRequest:
    return build_chat_request(f"bedrock:{_model_id(rec)}", "unused", {})


def _flat(headers: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] if isinstance(v, list) else v for k, v in headers.items()}


def test_the_recordings_are_there(recordings_dir: Path) -> None:
    """Guard against a vacuous pass: the team's set has 55 Converse exchanges, one of them a 403."""
    assert len(OK) >= 50
    assert len(ALL_CONVERSE) == len(OK) + 1
    assert any(_id(p) + ".json" == SIGNATURE_EXPIRED for p in ALL_CONVERSE)


# -- 1. answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", OK, ids=_id)
def test_recorded_answer_parses(path: Path, recordings_dir: Path) -> None:
    rec = load_recording(path)
    body = rec["response"]["body"]
    blocks = body["output"]["message"]["content"]
    response = ConverseFormatter().parse_response(json.dumps(body).encode(), _request_for(rec))

    texts = [b["text"] for b in blocks if "text" in b]
    calls = [(b["toolUse"]["toolUseId"], b["toolUse"]["name"], b["toolUse"]["input"]) for b in blocks if "toolUse" in b]
    reasoning = [b["reasoningContent"]["reasoningText"]["text"] for b in blocks if "reasoningContent" in b]
    assert response.text == "".join(texts)
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == calls
    assert all(isinstance(c.arguments, dict) for c in response.tool_calls)
    assert response.thinking == ("".join(reasoning) if reasoning else None)
    assert response.finish_reason == STOP_REASONS[body["stopReason"]]

    usage = body["usage"]
    assert response.usage.input_tokens == usage["inputTokens"]
    assert response.usage.output_tokens == usage["outputTokens"]
    assert response.usage.total_tokens == usage["totalTokens"]
    assert response.usage.cache_read_tokens == usage.get("cacheReadInputTokens", 0)
    assert response.usage.cache_write_tokens == usage.get("cacheWriteInputTokens", 0)

    # the assistant message keeps the blocks in order, ready to be sent back
    kinds = [next(k for k in ("text", "toolUse", "reasoningContent") if k in b) for b in blocks]
    assert [p.type for p in response.message.content] == [
        {"text": "text", "toolUse": "tool_call", "reasoningContent": "thinking"}[k] for k in kinds
    ]
    assert response.message.role == "assistant"
    assert response.model == _model_id(rec)
    assert response.raw == body


@pytest.mark.parametrize("path", OK[:6], ids=_id)
def test_cache_tokens_are_kept_apart(path: Path, recordings_dir: Path) -> None:
    """The recordings carry zero cache tokens; give them some and see they are not folded into input."""
    rec = load_recording(path)
    body = json.loads(json.dumps(rec["response"]["body"]))
    body["usage"].update(cacheReadInputTokens=7, cacheWriteInputTokens=11, cacheReadInputTokenCount=7,
                         cacheWriteInputTokenCount=11)  # fmt: skip
    usage = ConverseFormatter().parse_response(json.dumps(body).encode(), _request_for(rec)).usage
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (7, 11)
    assert usage.input_tokens == body["usage"]["inputTokens"]
    assert usage.total_tokens == body["usage"]["totalTokens"]


def test_through_the_pipeline_served_by_is_the_spec(recordings_dir: Path) -> None:
    rec = load_recording(OK[0])
    spec = rec["model_spec"]  # "amazon_bedrock:<id>", ReqLLM's spelling, which reqbed accepts too
    p = prepare(spec, "hi", {"provider_options": {**CREDS, "use_converse": True}}, environ={})
    response = p.parse(200, _flat(rec["response"]["headers"]), json.dumps(rec["response"]["body"]).encode())
    assert response.served_by == spec
    assert response.text


# -- 2. requests ---------------------------------------------------------------------------------


def _part(block: dict[str, Any]) -> dict[str, Any]:
    if "text" in block:
        return {"type": "text", "text": block["text"]}
    if "toolUse" in block:
        tu = block["toolUse"]
        return {"type": "tool_call", "id": tu["toolUseId"], "name": tu["name"], "arguments": tu["input"]}
    if "toolResult" in block:
        tr = block["toolResult"]
        content = [{"type": "text", "text": c["text"]} for c in tr["content"]]
        return {"type": "tool_result", "tool_call_id": tr["toolUseId"], "content": content,
                "is_error": tr.get("status") == "error"}  # fmt: skip
    raise AssertionError(f"a block this test cannot rebuild: {sorted(block)}")


def _rebuild(rec: dict[str, Any]) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """What a reqbed user would have written to send the recorded request."""
    sent = rec["request"]["canonical_json"]
    known = {"messages", "system", "inferenceConfig", "toolConfig"}
    assert set(sent) <= known, f"fields this test does not rebuild: {set(sent) - known}"
    prompt = [{"role": m["role"], "content": [_part(b) for b in m["content"]]} for m in sent["messages"]]
    if "system" in sent:
        prompt.insert(0, {"role": "system", "content": "".join(b["text"] for b in sent["system"])})
    opts: dict[str, Any] = {}
    inference = sent.get("inferenceConfig", {})
    names = {"maxTokens": "max_tokens", "temperature": "temperature", "topP": "top_p", "stopSequences": "stop"}
    assert set(inference) <= set(names)
    for aws_name, value in inference.items():
        opts[names[aws_name]] = value
    tool_config = sent.get("toolConfig")
    if tool_config:
        assert set(tool_config) == {"tools"}
        opts["tools"] = [
            {"name": t["toolSpec"]["name"], "description": t["toolSpec"].get("description", ""),
             "parameters": t["toolSpec"]["inputSchema"]["json"]}
            for t in tool_config["tools"]
        ]  # fmt: skip
    return f"bedrock:{_model_id(rec)}", prompt, opts


@pytest.mark.parametrize("path", ALL_CONVERSE, ids=_id)
def test_rebuilt_request_matches_the_recorded_body(path: Path, recordings_dir: Path) -> None:
    rec = load_recording(path)
    model, prompt, opts = _rebuild(rec)
    p = prepare(model, prompt, {**opts, "provider_options": {**CREDS, "use_converse": True}}, environ={})
    assert json.loads(p.body) == rec["request"]["canonical_json"]
    # the same URL; the recording's client left ':' raw in the path, reqbed encodes it as %3A
    # (one path segment either way; AWS accepts both and SigV4 signs what is sent)
    assert unquote(p.url) == rec["request"]["url"]
    assert p.url.split("/model/")[1] == f"{quote(_model_id(rec), safe='')}/converse"


# -- 3. the real 403 -----------------------------------------------------------------------------


def test_signature_expired_403(recordings_dir: Path) -> None:
    rec = load_recording(recordings_dir / "amazon_bedrock" / SIGNATURE_EXPIRED)
    resp = rec["response"]
    assert resp["status"] == 403
    headers = _flat(resp["headers"])
    raw = json.dumps(resp["body"]).encode()
    err = map_api_error(resp["status"], headers, raw)
    assert type(err) is reqbed.SignatureExpiredError
    assert isinstance(err, reqbed.AuthenticationError)
    assert err.status == 403
    assert err.code == headers["x-amzn-errortype"].split(":", 1)[0] == "InvalidSignatureException"
    assert err.request_id == headers["x-amzn-requestid"]
    assert err.aws_message == resp["body"]["message"]
    assert err.aws_message.startswith("Signature expired")
    assert headers["x-amzn-requestid"] in str(err)
    # and through the pipeline
    p = prepare(f"bedrock:{_model_id(rec)}", "hi", {"provider_options": {**CREDS, "use_converse": True}}, environ={})
    with pytest.raises(reqbed.SignatureExpiredError) as info:
        p.parse(403, headers, raw)
    assert info.value.request_id == headers["x-amzn-requestid"]


def test_recordings_decode_with_msgspec_like_reqbed(recordings_dir: Path) -> None:
    """reqbed decodes with msgspec; the recorded bodies (emoji, NNBSP, escapes) round-trip."""
    for path in OK:
        body = load_recording(path)["response"]["body"]
        assert msgspec.json.decode(json.dumps(body).encode()) == body
