"""Real ConverseStream answers from AWS (../shared/bedrock-recordings) through ``StreamCore``.

Each recording's raw network reads are fed to ``StreamCore`` exactly as they arrived (and once more
one byte at a time). The expected answer is computed independently, in this file, with botocore's
own event-stream decoder (``botocore.eventstream.EventStreamBuffer``) and ``json``: the text is the
concatenation of the ``contentBlockDelta`` text, the finish reason comes from ``messageStop``'s
``stopReason``, the usage from the ``metadata`` event, tool calls from ``contentBlockStart`` plus
the streamed ``toolUse.input`` fragments. The recordings are read in place, never copied.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from botocore.eventstream import EventStreamBuffer

import reqbed
from reqbed._pipeline import Prepared, prepare
from reqbed._stream import StreamCore
from tests.support import load_recording, recording_files

pytestmark = pytest.mark.recordings

#: AWS's Converse stopReason values and the finish reason reqbed documents for each.
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}


def _stream_recordings() -> list[Any]:
    found = [p for p in recording_files() if load_recording(p)["request"]["url"].endswith("/converse-stream")]
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/bedrock-recordings is absent"))]
    return [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in found]


RECORDED = _stream_recordings()


def reads(recording: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(c["b64"]) for c in recording["chunks"]]


def prepared_for(recording: dict[str, Any]) -> Prepared:
    """A Converse ``Prepared`` for the recording's model (the model id is the URL's path segment)."""
    segment = urlsplit(recording["request"]["url"]).path.split("/")[2]
    po = {
        "use_converse": True,
        "region": "us-east-1",
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    }
    p = prepare(f"bedrock:{unquote(segment)}", "hi", {"provider_options": po}, stream=True, environ={})
    assert p.formatter.name == "converse"
    return p


def oracle(data: list[bytes]) -> dict[str, Any]:
    """What the stream says, decoded by botocore and json alone."""
    buf = EventStreamBuffer()
    text: list[str] = []
    tools: dict[int, dict[str, Any]] = {}
    stop = usage = None
    events: list[str] = []
    for piece in data:
        buf.add_data(piece)
        for message in buf:
            assert message.headers[":message-type"] == "event"
            event = message.headers[":event-type"]
            events.append(event)
            payload = json.loads(message.payload)
            if event == "contentBlockDelta":
                delta = payload["delta"]
                if "text" in delta:
                    text.append(delta["text"])
                if "toolUse" in delta:
                    tools[payload["contentBlockIndex"]]["input"] += delta["toolUse"]["input"]
            elif event == "contentBlockStart" and "toolUse" in payload.get("start", {}):
                tool = payload["start"]["toolUse"]
                tools[payload["contentBlockIndex"]] = {"id": tool["toolUseId"], "name": tool["name"], "input": ""}
            elif event == "messageStop":
                stop = payload["stopReason"]
            elif event == "metadata":
                usage = payload["usage"]
    calls = [(t["id"], t["name"], json.loads(t["input"]) if t["input"] else {}) for _, t in sorted(tools.items())]
    return {"text": "".join(text), "stop": stop, "usage": usage, "tools": calls, "events": events}


def run(p: Prepared, data: list[bytes]) -> tuple[list[reqbed.Chunk], reqbed.Response]:
    core = StreamCore(p)
    chunks: list[reqbed.Chunk] = []
    for piece in data:
        chunks.extend(core.feed(piece))
    chunks.extend(core.close())
    return chunks, core.response()


def check(chunks: list[reqbed.Chunk], response: reqbed.Response, want: dict[str, Any]) -> None:
    assert response.text == want["text"]
    assert "".join(c.text for c in chunks if isinstance(c, reqbed.TextChunk)) == want["text"]
    assert want["stop"] in FINISH
    assert response.finish_reason == FINISH[want["stop"]]
    assert chunks[-1] == reqbed.FinishChunk(finish_reason=FINISH[want["stop"]])
    u = want["usage"]
    assert response.usage.input_tokens == u["inputTokens"]
    assert response.usage.output_tokens == u["outputTokens"]
    assert response.usage.total_tokens == u["totalTokens"]
    assert response.usage.cache_read_tokens == u.get("cacheReadInputTokens", 0)
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == want["tools"]
    done = [c.tool_call for c in chunks if isinstance(c, reqbed.ToolCallChunk)]
    assert done == response.tool_calls
    assert all(isinstance(c.arguments, dict) for c in response.tool_calls)
    assert [e["event"] for e in response.raw] == want["events"]


@pytest.mark.parametrize("path", RECORDED)
def test_recorded_stream_in_its_original_reads(path: Path) -> None:
    recording = load_recording(path)
    assert recording["response"]["status"] == 200
    data = reads(recording)
    chunks, response = run(prepared_for(recording), data)
    check(chunks, response, oracle(data))


@pytest.mark.parametrize("path", RECORDED)
def test_recorded_stream_one_byte_at_a_time(path: Path) -> None:
    recording = load_recording(path)
    data = reads(recording)
    whole = b"".join(data)
    chunks, response = run(prepared_for(recording), [whole[i : i + 1] for i in range(len(whole))])
    check(chunks, response, oracle(data))


@pytest.mark.parametrize("path", RECORDED)
def test_recorded_stream_cut_short_is_never_complete(path: Path) -> None:
    recording = load_recording(path)
    whole = b"".join(reads(recording))
    core = StreamCore(prepared_for(recording))
    core.feed(whole[: len(whole) // 2])
    with pytest.raises(reqbed.EventStreamError):
        core.close()
    with pytest.raises(reqbed.EventStreamError):
        core.response()


def test_the_recordings_include_a_streamed_tool_call() -> None:
    """Guard against the oracle silently covering less: at least one recording streams tool input."""
    found = [p.values[0] for p in RECORDED if p.values[0] is not None]
    if not found:
        pytest.skip("../shared/bedrock-recordings is absent")
    assert any(oracle(reads(load_recording(p)))["tools"] for p in found)


@pytest.mark.parametrize("path", RECORDED)
def test_fused_text_path_gives_what_the_parser_gives(path: Path) -> None:
    """``StreamCore``'s fused path for ``contentBlockDelta`` (text straight to a ``TextChunk``)
    yields the same chunks and the same ``Response`` as the parser's general ``feed``."""
    recording = load_recording(path)
    results = []
    for fused in (True, False):
        core = StreamCore(prepared_for(recording))
        if not fused:
            core._fast_event = None  # every event through ConverseStreamParser.feed
        chunks = [c for data in reads(recording) for c in core.feed(data)]
        chunks += core.close()
        results.append((chunks, core.response()))
    assert results[0] == results[1]
    assert any(isinstance(c, reqbed.TextChunk) for c in results[0][0]) or not results[0][1].text
