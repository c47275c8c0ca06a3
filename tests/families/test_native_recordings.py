"""gpt-oss's real native /invoke exchanges (../shared/bedrock-recordings, read-only) through reqbed.

- each recorded InvokeModel answer is parsed: text without the reasoning, the reasoning as
  thinking, finish reason, usage and tool calls, all computed here from the recorded JSON by regex;
- each recorded stream is replayed through ``StreamCore`` read by read, with its original
  boundaries; the expected answer is decoded independently (botocore's ``EventStreamBuffer``,
  base64, json, the same regex);
- each recorded request is rebuilt from a reqbed call and compared to the recorded body, less the
  fields reqbed leaves out on purpose (docs/families/openai.md): ``model`` and ``stream`` (AWS fills
  them in from the URL and the operation), ``seed`` (no reqbed option) and ``stream_options``
  (usage arrives in ``amazon-bedrock-invocationMetrics`` anyway).
Skipped when ../shared is absent.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.eventstream import EventStreamBuffer

from reqbed import Tool, ToolCall, Usage
from reqbed._pipeline import Prepared, prepare
from reqbed._stream import StreamCore
from tests.support import RECORDINGS as RECORDINGS_ROOT

pytestmark = pytest.mark.recordings

RECORDINGS = RECORDINGS_ROOT / "amazon_bedrock"
MODELS = ["openai_gpt_oss_20b_1_0", "openai_gpt_oss_120b_1_0"]
INVOKE = ["basic", "object_basic", "token_limit", "usage", "tool_round_trip_2"]
STREAMS = ["streaming", "object_streaming"]
#: Fields of the recorded bodies that reqbed does not send, and why (docs/families/openai.md).
LEFT_OUT = {"model", "stream", "seed", "stream_options"}
CREDS = {
    "region": "us-east-1",
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
}
FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls"}


def load(model: str, scenario: str) -> dict[str, Any]:
    path = RECORDINGS / model / f"{scenario}.json"
    if not path.is_file():
        pytest.skip("../shared/bedrock-recordings is absent (it sits beside the repo in the team's checkout)")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def split(content: str) -> tuple[str | None, str]:
    """(thinking, text) by regex over the whole content: the independent oracle."""
    found = re.findall(r"<reasoning>(.*?)</reasoning>", content, flags=re.S)
    return ("".join(found) if found else None), re.sub(r"<reasoning>.*?</reasoning>", "", content, flags=re.S)


def model_spec(rec: dict[str, Any]) -> str:
    return "bedrock:" + unquote(rec["request"]["url"].split("/model/")[1].rsplit("/", 1)[0])


def call_of(rec: dict[str, Any], *, stream: bool, **po: Any) -> Prepared:
    """The reqbed call that should send the recorded body, rebuilt from that body's fields."""
    sent = rec["request"]["canonical_json"]
    prompt: list[dict[str, Any]] = []
    for m in sent["messages"]:
        if m["role"] == "assistant":
            parts: list[Any] = [{"type": "text", "text": m["content"]}] if isinstance(m["content"], str) else []
            for c in m.get("tool_calls") or []:
                args = json.loads(c["function"]["arguments"])
                parts.append(ToolCall(id=c["id"], name=c["function"]["name"], arguments=args))
            prompt.append({"role": "assistant", "content": parts})
        elif m["role"] == "tool":
            result = {"type": "tool_result", "tool_call_id": m["tool_call_id"], "content": m["content"]}
            prompt.append({"role": "tool", "content": [result]})
        else:
            prompt.append({"role": m["role"], "content": m["content"]})
    opts: dict[str, Any] = {k: sent[k] for k in ("max_tokens", "temperature", "top_p") if k in sent}
    if "tools" in sent:
        opts["tools"] = [
            Tool(
                name=t["function"]["name"],
                description=t["function"]["description"],
                parameters=t["function"]["parameters"],
            )
            for t in sent["tools"]
        ]
    if "tool_choice" in sent:
        opts["tool_choice"] = sent["tool_choice"]["function"]["name"]
    return prepare(model_spec(rec), prompt, {**opts, "provider_options": {**CREDS, **po}}, stream=stream, environ={})


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("scenario", INVOKE)
def test_recorded_answers_parse(model: str, scenario: str) -> None:
    rec = load(model, scenario)
    assert rec["request"]["url"].endswith("/invoke")
    body = rec["response"]["body"]
    choice = body["choices"][0]
    thinking, text = split(choice["message"]["content"])
    resp = call_of(rec, stream=False, use_converse=False).parse(200, {}, json.dumps(body).encode())
    assert thinking
    assert resp.thinking == thinking
    assert resp.text == text
    assert "<reasoning>" not in resp.text
    assert resp.finish_reason == FINISH[choice["finish_reason"]]
    u = body["usage"]
    assert resp.usage == Usage(
        input_tokens=u["prompt_tokens"], output_tokens=u["completion_tokens"], total_tokens=u["total_tokens"]
    )
    expected_calls = [
        (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
        for c in choice["message"].get("tool_calls") or []
    ]
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == expected_calls


def independent_stream(rec: dict[str, Any]) -> dict[str, Any]:
    """What the recorded stream says, decoded with botocore, base64 and json only."""
    buf = EventStreamBuffer()
    content, finish, usage, calls = "", None, None, {}
    for read in rec["chunks"]:
        buf.add_data(base64.b64decode(read["b64"]))
        for message in buf:
            assert message.headers[":event-type"] == "chunk"
            data = json.loads(base64.b64decode(json.loads(message.payload)["bytes"]))
            for ch in data["choices"]:
                content += ch["delta"].get("content") or ""
                finish = ch.get("finish_reason") or finish
                for tc in ch["delta"].get("tool_calls") or []:
                    entry = calls.setdefault(tc["index"], {"id": tc.get("id"), "name": None, "args": ""})
                    entry["name"] = tc["function"].get("name") or entry["name"]
                    entry["args"] += tc["function"].get("arguments") or ""
            metrics = data.get("amazon-bedrock-invocationMetrics")
            if metrics:
                usage = (metrics["inputTokenCount"], metrics["outputTokenCount"])
    thinking, text = split(content)
    return {
        "thinking": thinking,
        "text": text,
        "finish": finish,
        "usage": usage,
        "calls": [(c["id"], c["name"], json.loads(c["args"])) for _, c in sorted(calls.items())],
    }


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("scenario", STREAMS)
def test_recorded_streams_replay(model: str, scenario: str) -> None:
    rec = load(model, scenario)
    assert rec["request"]["url"].endswith("/invoke-with-response-stream")
    exp = independent_stream(rec)
    core = StreamCore(call_of(rec, stream=True, use_converse=False))
    for read in rec["chunks"]:  # the original network reads, boundaries and all
        core.feed(base64.b64decode(read["b64"]))
    core.close()
    resp = core.response()
    assert (resp.thinking, resp.text) == (exp["thinking"], exp["text"])
    assert exp["thinking"]
    assert "<reasoning>" not in resp.text + (resp.thinking or "")
    assert resp.finish_reason == FINISH[exp["finish"]]
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == exp["usage"]
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == exp["calls"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("scenario", INVOKE + STREAMS)
def test_recorded_request_bodies_are_rebuilt(model: str, scenario: str) -> None:
    rec = load(model, scenario)
    sent = rec["request"]["canonical_json"]
    stream = rec["request"]["url"].endswith("-stream")
    p = call_of(rec, stream=stream, use_converse=False)
    assert unquote(p.url) == rec["request"]["url"]  # the recorder logged the path unencoded
    ours = json.loads(p.body)
    assert set(sent) - set(ours) <= LEFT_OUT
    assert ours == {k: v for k, v in sent.items() if k not in LEFT_OUT}
    # what was left out is what AWS fills in itself (model, stream) or has no reqbed option
    assert sent.get("model", "openai." + model.split("openai_")[1]) == model_spec(rec).split(":", 1)[1]
    assert sent.get("stream", stream) == stream
    # and without use_converse, the endpoint rule picks the same native endpoint unless this
    # call has tools (Converse then, see docs/endpoints.md)
    default = call_of(rec, stream=stream)
    expected = "converse" if "tools" in sent or "tool" in {m["role"] for m in sent["messages"]} else "openai"
    assert default.formatter.name == expected
