"""S3 media sources and video / audio parts (issue 11): Converse only, validated before sending,
bodies checked against botocore's model, and sent end to end to the emulator."""

from __future__ import annotations

from typing import Any

import pytest

import reqbed
from reqbed.testing import Emulator
from tests.support.native import prepared
from tests.test_request_features import converse, converse_valid, native, refused_here

NOVA = "bedrock:us.amazon.nova-pro-v1:0"
CLAUDE = "bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0"
S3 = {"uri": "s3://my-bucket/media/clip.mp4", "bucket_owner": "123456789012"}


def ask(*parts: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [*parts, {"type": "text", "text": "What is this?"}]}]


@pytest.mark.parametrize("stream", [False, True])
def test_s3_sources_and_video_in_a_converse_body(stream: bool) -> None:
    prompt = ask(
        {"type": "image", "media_type": "image/png", "s3": {"uri": "s3://my-bucket/a.png"}},
        {"type": "document", "format": "pdf", "name": "report", "s3": S3},
        {"type": "video", "format": "mp4", "s3": S3},
        {"type": "video", "format": "webm", "data": b"\x1a\x45\xdf\xa3"},
    )
    body = converse_valid(converse(NOVA, prompt, stream=stream))
    image, doc, video, inline = body["messages"][0]["content"][:4]
    assert image["image"]["source"] == {"s3Location": {"uri": "s3://my-bucket/a.png"}}
    location = {"uri": S3["uri"], "bucketOwner": S3["bucket_owner"]}
    assert doc["document"]["source"] == {"s3Location": location}
    assert video == {"video": {"format": "mp4", "source": {"s3Location": location}}}
    assert inline["video"]["source"]["bytes"] == "GkXfow=="


def test_media_sources_are_checked_before_sending() -> None:
    where = "prompt[0].content[0]"
    refused_here(f"{where}.s3.uri", converse, NOVA, ask({"type": "video", "format": "mp4", "s3": {"uri": "http://x"}}))
    bad_owner = {"uri": "s3://my-bucket/v.mp4", "bucket_owner": "me"}
    refused_here(f"{where}.s3.bucket_owner", converse, NOVA, ask({"type": "video", "format": "mp4", "s3": bad_owner}))
    refused_here(f"{where}.s3", converse, NOVA, ask({"type": "video", "format": "mp4", "s3": {**S3, "region": "x"}}))
    both = {"type": "video", "format": "mp4", "s3": S3, "data": b"x"}
    refused_here(where, converse, NOVA, ask(both))
    refused_here(f"{where}.data", converse, NOVA, ask({"type": "video", "format": "mp4"}))
    refused_here("prompt.video.format", converse, NOVA, ask({"type": "video", "format": "avi", "data": b"x"}))
    refused_here("prompt", converse, CLAUDE, ask({"type": "video", "format": "mp4", "s3": S3}))  # Claude: no video
    refused_here("prompt", converse, NOVA, ask({"type": "audio", "format": "mp3", "data": b"ID3"}))  # Nova: no audio


def test_s3_sources_go_to_converse_and_are_refused_on_the_native_body() -> None:
    prompt = ask({"type": "image", "media_type": "image/png", "s3": {"uri": "s3://my-bucket/a.png"}})
    assert prepared(CLAUDE, prompt).formatter.endpoint == "converse"
    refused_here("prompt[0].content[0].s3", native, CLAUDE, prompt)


def test_unknown_models_may_take_audio() -> None:
    audio = {"type": "audio", "format": "wav", "s3": {"uri": "s3://my-bucket/a.wav"}}
    body = converse_valid(converse("bedrock:acme.omni-v1:0", ask(audio)))
    assert body["messages"][0]["content"][0] == {
        "audio": {"format": "wav", "source": {"s3Location": {"uri": "s3://my-bucket/a.wav"}}}
    }


@pytest.mark.parametrize("stream", [False, True])
def test_video_end_to_end(emulator: Emulator, stream: bool) -> None:
    po = emulator.provider_options()
    prompt = ask({"type": "video", "format": "mp4", "s3": S3})
    if stream:
        with reqbed.stream_text(NOVA, prompt, provider_options=po) as s:
            resp = s.response()
    else:
        resp = reqbed.generate_text(NOVA, prompt, provider_options=po)
    assert resp.text == "You said: What is this?"
    assert emulator.requests[-1]["path"].endswith("/converse-stream" if stream else "/converse")


@pytest.mark.anyio
async def test_video_end_to_end_async(emulator: Emulator) -> None:
    resp = await reqbed.agenerate_text(
        NOVA, ask({"type": "video", "format": "mp4", "s3": S3}), provider_options=emulator.provider_options()
    )
    assert resp.finish_reason == "stop"
