"""``Response.to_dict`` / ``from_dict`` (every part type survives JSON), ``request_id`` and timings."""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import pytest

import reqbed
from reqbed._types import ContentPart
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"

EVERY_PART: list[Any] = [
    reqbed.ThinkingPart(text="hmm", signature="sig"),
    reqbed.RedactedThinkingPart(data="opaque"),
    reqbed.TextPart(text="hello", cache_control={"type": "ephemeral"}),
    reqbed.ImagePart(data=b"\x89PNG\r\n\x1a\n\x00", media_type="image/png"),
    reqbed.DocumentPart(data=b"%PDF-1.4\xff", format="pdf", name="spec"),
    reqbed.ToolCall(id="t1", name="get_weather", arguments={"city": "Paris", "days": [1, 2]}),
    reqbed.ToolResultPart(
        tool_call_id="t1",
        content=[reqbed.TextPart(text="18C"), reqbed.ImagePart(data=b"\x00\x01", media_type="image/gif")],
        is_error=True,
    ),
    reqbed.ToolResultPart(tool_call_id="t2", content="plain"),
    reqbed.CitationsPart(
        text="cited", citations=[reqbed.Citation(text="src", title="doc", location={"documentChar": {"start": 0}})]
    ),
    reqbed.GuardContentPart(text="check me", qualifiers=["query"]),
    reqbed.VideoPart(format="mp4", s3={"uri": "s3://bucket/v.mp4"}),
    reqbed.AudioPart(format="wav", data=b"RIFF"),
]


def _response() -> reqbed.Response:
    return reqbed.Response(
        text="hello",
        thinking="hmm",
        tool_calls=[EVERY_PART[5]],
        finish_reason="tool_calls",
        usage=reqbed.Usage(input_tokens=3, output_tokens=4, total_tokens=7, cache_read_tokens=1),
        model="anthropic.claude-3-7-sonnet-20250219-v1:0",
        message=reqbed.Message(role="assistant", content=EVERY_PART),
        raw={"output": {"message": {"content": [{"text": "hello"}]}}},
        served_by=MODEL,
        region="us-east-1",
        request_id="r-1",
        elapsed=0.25,
        time_to_first_token=0.1,
    )


def test_the_sample_holds_every_part_type() -> None:
    assert {type(p) for p in EVERY_PART} == set(typing.get_args(ContentPart))


def test_to_dict_round_trips_through_json_with_every_part_type() -> None:
    resp = _response()
    data = json.loads(json.dumps(resp.to_dict()))
    assert [p["type"] for p in data["message"]["content"]] == [p.type for p in EVERY_PART]  # every tag kept
    assert data["message"]["content"][3]["data"] == "iVBORw0KGgoA"  # bytes as base64
    back = reqbed.Response.from_dict(data)
    assert back == resp
    assert back.message.content[3] == EVERY_PART[3]


def test_from_dict_names_a_bad_field() -> None:
    data = _response().to_dict()
    data["finish_reason"] = "done"
    with pytest.raises(reqbed.ValidationError, match=r"finish_reason"):
        reqbed.Response.from_dict(data)


def test_request_id_and_latency_on_whole_answers_and_streams(emulator: Emulator) -> None:
    po: Any = {**emulator.provider_options(), "use_converse": True}
    r = reqbed.generate_text(MODEL, "hi", provider_options=po)
    assert r.request_id is not None
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r.request_id)
    assert r.elapsed is not None
    assert r.elapsed > 0
    assert r.time_to_first_token is None
    with reqbed.stream_text(MODEL, "hi there", provider_options=po) as s:
        streamed = s.response()
    assert streamed.request_id is not None
    assert streamed.request_id != r.request_id
    assert streamed.time_to_first_token is not None
    assert streamed.elapsed is not None
    assert 0 < streamed.time_to_first_token <= streamed.elapsed


@pytest.mark.anyio
async def test_request_id_and_latency_async(emulator: Emulator) -> None:
    po: Any = {**emulator.provider_options(), "use_converse": True}
    r = await reqbed.agenerate_text(MODEL, "hi", provider_options=po)
    assert r.request_id is not None
    assert r.elapsed is not None
    async with await reqbed.astream_text(MODEL, "hi", provider_options=po) as s:
        streamed = await s.response()
    assert streamed.time_to_first_token is not None
    assert streamed.elapsed is not None
    assert streamed.time_to_first_token <= streamed.elapsed
