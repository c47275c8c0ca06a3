"""The emulator's stream chunking: one frame per HTTP chunk (as real Bedrock sends, the default) or
frames cut at random offsets (the stress case the suite runs in)."""

from __future__ import annotations

import random
import struct

import pytest

import reqbed
from reqbed._aws.eventstream import EventStreamDecoder, encode_frame
from reqbed.testing import Emulator
from reqbed.testing.emulator import chunk_frames

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"


def _frames(n: int) -> list[bytes]:
    out: list[bytes] = []
    for i in range(n):
        out.append(encode_frame({":message-type": "event", ":event-type": "x"}, b'{"i": %d}' % i))
        out.append(b"")  # end of one event
    return out


def _whole_frames(data: bytes) -> bool:
    """True when ``data`` is a run of complete frames (each prelude's length lands on the next)."""
    at = 0
    while at < len(data):
        if len(data) - at < 4:
            return False
        at += struct.unpack_from(">I", data, at)[0]
    return at == len(data)


def test_frame_mode_writes_one_frame_per_chunk() -> None:
    frames = _frames(20)
    chunks = chunk_frames(frames, "frame", random.Random(0))
    assert chunks == frames
    assert all(_whole_frames(c) for c in chunks if c)


def test_split_mode_cuts_frames_but_keeps_bytes_and_event_marks() -> None:
    frames = _frames(20)
    chunks = chunk_frames(frames, "split", random.Random(0))
    assert b"".join(chunks) == b"".join(frames)
    assert chunks.count(b"") == 20
    assert not all(_whole_frames(c) for c in chunks if c)  # some chunk straddles a frame boundary
    payloads = [f.payload for f in EventStreamDecoder().feed(b"".join(chunks))]
    assert payloads == [b'{"i": %d}' % i for i in range(20)]


def test_unknown_chunking_is_refused() -> None:
    with pytest.raises(ValueError, match="chunking"):
        Emulator(chunking="bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize("chunking", ["frame", "split"])
def test_both_modes_stream_the_same_answer(chunking: str) -> None:
    with Emulator(chunking=chunking) as emu, reqbed.Client() as client:  # type: ignore[arg-type]
        with client.stream_text(MODEL, "Hello there", provider_options=emu.provider_options()) as s:
            text = "".join(s.text_stream())
        whole = client.generate_text(MODEL, "Hello there", provider_options=emu.provider_options())
    assert text == whole.text
