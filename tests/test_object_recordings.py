"""Real ``object_basic`` / ``object_streaming`` exchanges (../shared/bedrock-recordings, read-only).

Each recorded answer goes through reqbed's own parsers (the Converse formatter, the gpt-oss
``/invoke`` formatter, ``StreamCore`` for the streams, fed the original network reads) and then
through ``generate_object``'s extraction and validation with the recorded schema (a JSON Schema
dict). The expected object is the recorded tool input, read here with ``json`` alone.

The one recorded answer that breaks its schema -- Llama 3.3 70B answers ``"age": "30"`` for an
``integer`` -- is an ``ObjectGenerationError`` naming ``$.age`` and keeping the raw arguments: JSON
carries integers, so reqbed does not convert strings to numbers (docs/structured-output.md).

The recorded requests (ReqLLM's) are rebuilt with ``plan_object(..., mode="tool")``; reqbed's
body equals the recorded one except for two deliberate differences, asserted here:
1. Claude gets ``toolChoice: {"tool": ...}`` (AWS honours a forced choice for Claude; the recorded
   Opus 4.1 answer, unforced, wrote prose before calling the tool);
2. models without a forced choice (Cohere, Llama) get a system instruction naming the tool.
gpt-oss's recorded ``/invoke`` bodies (forced with ``tool_choice``) are rebuilt exactly, bar the
fields reqbed never sends (``model``, ``stream``, ``seed``, ``stream_options``: see
tests/test_native_recordings.py).
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

import reqbed
from reqbed._object.partial_json import NOTHING
from reqbed._object.result import ObjectStreamResponse, ObjectStreamState
from reqbed._object.shape import ObjectPlan, plan_object
from reqbed._pipeline import Prepared, prepare
from reqbed._stream import StreamCore
from tests.support import load_recording, recording_files

pytestmark = pytest.mark.recordings

CREDS = {
    "region": "us-east-1",
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
}
LEFT_OUT = {"model", "stream", "seed", "stream_options"}


def _files(scenario: str) -> list[Any]:
    found = recording_files(f"*/{scenario}.json")
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/bedrock-recordings is absent"))]
    return [pytest.param(p, id=p.parent.name) for p in found]


BASIC = _files("object_basic")
STREAMING = _files("object_streaming")


def model_of(rec: dict[str, Any]) -> str:
    return "bedrock:" + unquote(rec["request"]["url"].split("/model/")[1].rsplit("/", 1)[0])


def recorded_tool(rec: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(name, description, schema) of the one tool the recorded request offered."""
    sent = rec["request"]["canonical_json"]
    if "toolConfig" in sent:
        (tool,) = sent["toolConfig"]["tools"]
        spec = tool["toolSpec"]
        return spec["name"], spec["description"], spec["inputSchema"]["json"]
    (tool,) = sent["tools"]
    fn = tool["function"]
    return fn["name"], fn["description"], fn["parameters"]


def plan_for(rec: dict[str, Any], *, stream: bool) -> ObjectPlan:
    schema = recorded_tool(rec)[2]
    return plan_object(model_of(rec), "Generate a person", schema, plan_opts(rec), stream=stream)


def plan_opts(rec: dict[str, Any]) -> dict[str, Any]:
    """The recorded call's options for ``generate_object(mode="tool")``."""
    name, description, _ = recorded_tool(rec)
    sent = rec["request"]["canonical_json"]
    inference = sent.get("inferenceConfig") or sent
    return {
        "mode": "tool",
        "schema_name": name,
        "schema_description": description,
        "max_tokens": inference.get("maxTokens", inference.get("max_tokens")),
        "temperature": inference["temperature"],
    }


def prepared(rec: dict[str, Any], plan: ObjectPlan, *, stream: bool) -> Prepared:
    converse = "/converse" in rec["request"]["url"]
    po = {**CREDS, "use_converse": converse}
    return prepare(model_of(rec), "Generate a software engineer profile",
                   {**plan.chat_options, "provider_options": po}, stream=stream, environ={})  # fmt: skip


def expected_arguments(rec: dict[str, Any]) -> dict[str, Any]:
    body = rec["response"]["body"]
    if "output" in body:
        (use,) = [b["toolUse"] for b in body["output"]["message"]["content"] if "toolUse" in b]
        return dict(use["input"])
    (tc,) = body["choices"][0]["message"]["tool_calls"]
    return dict(json.loads(tc["function"]["arguments"]))


def test_the_recordings_are_there(recordings_dir: Path) -> None:
    assert len(BASIC) == 8
    assert len(STREAMING) == 4


@pytest.mark.parametrize("path", BASIC)
def test_recorded_answers_give_the_object(path: Path) -> None:
    rec = load_recording(path)
    plan = plan_for(rec, stream=False)
    response = prepared(rec, plan, stream=False).parse(200, {}, json.dumps(rec["response"]["body"]).encode())
    want = expected_arguments(rec)
    if not all(isinstance(v, int) for k, v in want.items() if k == "age"):
        # Llama 3.3: the integer field answered as a string
        with pytest.raises(reqbed.ObjectGenerationError) as info:
            plan.finish(response)
        assert str(info.value) == "$.age: expected int, got str"
        assert info.value.errors[0] == "$.age: expected int, got str"
        assert json.loads(info.value.text) == want
        assert info.value.response is response
        assert "llama" in path.parent.name
        return
    got = plan.finish(response)
    assert got.object == want
    assert got.response is response
    assert got.finish_reason == "tool_calls"
    assert got.usage == response.usage


@pytest.mark.parametrize("path", BASIC + STREAMING)
def test_recorded_requests_are_rebuilt(path: Path) -> None:
    rec = load_recording(path)
    stream = rec["request"]["url"].endswith("-stream")
    plan = plan_for(rec, stream=stream)
    ours = json.loads(prepared(rec, plan, stream=stream).body)
    sent = copy.deepcopy(rec["request"]["canonical_json"])
    if "toolConfig" in sent:
        family = path.parent.name.split("_")[0]
        if family == "anthropic":
            assert plan.forced
            assert ours["toolConfig"].pop("toolChoice") == {"tool": {"name": plan.name}}
        else:
            assert not plan.forced
            (system,) = ours.pop("system")
            assert plan.name in system["text"]
        assert ours == sent
    else:
        assert plan.forced
        assert ours == {k: v for k, v in sent.items() if k not in LEFT_OUT}


def stream_chunks(rec: dict[str, Any], plan: ObjectPlan) -> tuple[list[reqbed.Chunk], reqbed.Response]:
    core = StreamCore(prepared(rec, plan, stream=True))
    chunks: list[reqbed.Chunk] = []
    for read in rec["chunks"]:  # the original network reads
        chunks.extend(core.feed(base64.b64decode(read["b64"])))
    chunks.extend(core.close())
    return chunks, core.response()


def stream_arguments(rec: dict[str, Any]) -> dict[str, Any]:
    """The streamed tool arguments, decoded with botocore and json alone."""
    from botocore.eventstream import EventStreamBuffer

    buf, args = EventStreamBuffer(), ""
    for read in rec["chunks"]:
        buf.add_data(base64.b64decode(read["b64"]))
        for message in buf:
            payload = json.loads(message.payload)
            if message.headers[":event-type"] == "chunk":
                data = json.loads(base64.b64decode(payload["bytes"]))
                for choice in data["choices"]:
                    for tc in choice["delta"].get("tool_calls") or []:
                        args += tc["function"].get("arguments") or ""
            elif message.headers[":event-type"] == "contentBlockDelta" and "toolUse" in payload["delta"]:
                args += payload["delta"]["toolUse"]["input"]
    return dict(json.loads(args))


@pytest.mark.parametrize("path", STREAMING)
def test_recorded_streams_give_growing_snapshots_and_the_object(path: Path) -> None:
    rec = load_recording(path)
    plan = plan_for(rec, stream=True)
    chunks, response = stream_chunks(rec, plan)
    want = stream_arguments(rec)
    state = ObjectStreamState(plan)
    snaps = [copy.deepcopy(s) for c in chunks for s in state.feed(c)]
    result, last = state.finish(response)
    snaps += last
    assert result.object == want
    assert snaps[-1] == want
    assert snaps[0] is not NOTHING
    for old, new in itertools.pairwise(snaps):
        assert all(k in new for k in old)
        assert all(new[k] == v or (isinstance(v, str) and new[k].startswith(v)) for k, v in old.items())


class _Replay:
    """A finished stream with ``StreamResponse``'s shape (iterate, ``response()``, ``close()``)."""

    def __init__(self, chunks: list[reqbed.Chunk], response: reqbed.Response) -> None:
        self._chunks, self._response, self.closed = iter(chunks), response, False

    def __iter__(self) -> Any:
        return self._chunks

    def response(self) -> reqbed.Response:
        return self._response

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("path", STREAMING)
def test_object_stream_response_over_a_recorded_stream(path: Path) -> None:
    rec = load_recording(path)
    plan = plan_for(rec, stream=True)
    chunks, response = stream_chunks(rec, plan)
    replay = _Replay(chunks, response)
    with ObjectStreamResponse[Any](replay, plan) as stream:
        snaps = [copy.deepcopy(s) for s in stream.partial_objects()]
        assert stream.response().object == snaps[-1] == stream_arguments(rec)
    assert replay.closed
    # iterating yields the underlying chunks, unchanged
    replay = _Replay(chunks, response)
    stream = ObjectStreamResponse[Any](replay, plan)
    assert list(stream) == chunks
    assert stream.response().object == stream_arguments(rec)


@pytest.mark.parametrize("path", BASIC + STREAMING)
def test_the_public_verbs_send_the_rebuilt_requests(path: Path) -> None:
    """``generate_object`` / ``stream_object``'s operations plan exactly the body rebuilt above."""
    from reqbed._operation import GenerateObject, StreamObject

    rec = load_recording(path)
    stream = rec["request"]["url"].endswith("-stream")
    plan = plan_for(rec, stream=stream)
    schema = recorded_tool(rec)[2]
    prompt = "Generate a software engineer profile"
    opts = {**plan_opts(rec), "provider_options": {**CREDS, "use_converse": "/converse" in rec["request"]["url"]}}
    op = (StreamObject if stream else GenerateObject)(model_of(rec), prompt, schema, opts)
    (target,) = op.plan({})
    assert json.loads(target.prepared.body) == json.loads(prepared(rec, plan, stream=stream).body)
    assert target.prepared.url.endswith(rec["request"]["url"].rsplit("/", 1)[-1])
