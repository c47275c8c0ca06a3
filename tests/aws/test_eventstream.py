"""Tests of reqbed's binary event-stream decoder and encoder (``reqbed._aws.eventstream``).

Oracles: the independent reference encoder in ``tests/support/eventstream.py``, botocore's
``EventStreamBuffer`` (decodes the same bytes), and real Bedrock recordings from ``../shared``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import struct
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqbed._aws.eventstream import (
    MAX_FRAME_LENGTH,
    MAX_HEADERS_LENGTH,
    EventStreamDecoder,
    Frame,
    HeaderType,
    encode_frame,
)
from reqbed._errors import EventStreamError, ValidationError
from tests.support import RECORDINGS
from tests.support import eventstream as h

ALL_TYPES: list[h.Header] = [
    ("true", 0, None),
    ("false", 1, None),
    ("byte", 2, -128),
    ("byte+", 2, 127),
    ("short", 3, -32768),
    ("short+", 3, 32767),
    ("int", 4, -(2**31)),
    ("int+", 4, 2**31 - 1),
    ("long", 5, -(2**63)),
    ("long+", 5, 2**63 - 1),
    ("bytes", 6, b"\x00\xff binary \x80"),
    ("empty-bytes", 6, b""),
    ("string", 7, "héllo ✓ 🚀"),
    ("empty-string", 7, ""),
    ("timestamp", 8, 1_731_820_000_123),
    ("old-timestamp", 8, -86_400_001),
    ("uuid", 9, uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e").bytes),
]


def decode_all(data: bytes, pieces: list[bytes] | None = None) -> list[Frame]:
    decoder = EventStreamDecoder()
    frames: list[Frame] = []
    for piece in pieces if pieces is not None else [data]:
        frames.extend(decoder.feed(piece))
    decoder.close()
    assert decoder.pending == 0
    return frames


def as_pairs(frames: list[Frame]) -> list[tuple[dict[str, object], bytes]]:
    return [(dict(f.headers), f.payload) for f in frames]


def one_byte_pieces(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


@contextlib.contextmanager
def no_hang(seconds: float) -> Iterator[None]:
    """Fail (rather than hang the suite) if the block runs longer than ``seconds``."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"decoder took over {seconds}s: a hang")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------------------------ header types


def test_every_header_type_is_decoded() -> None:
    data = h.frame_bytes(ALL_TYPES, b'{"hello":"world"}')
    [frame] = decode_all(data)
    assert frame.payload == b'{"hello":"world"}'
    assert list(frame.headers) == [name for name, _, _ in ALL_TYPES]
    headers = frame.headers
    assert headers["true"] is True
    assert headers["false"] is False
    assert (headers["byte"], headers["byte+"]) == (-128, 127)
    assert (headers["short"], headers["short+"]) == (-32768, 32767)
    assert (headers["int"], headers["int+"]) == (-(2**31), 2**31 - 1)
    assert (headers["long"], headers["long+"]) == (-(2**63), 2**63 - 1)
    assert headers["bytes"] == b"\x00\xff binary \x80"
    assert type(headers["bytes"]) is bytes
    assert headers["empty-bytes"] == b""
    assert headers["string"] == "héllo ✓ 🚀"
    assert headers["empty-string"] == ""
    assert headers["timestamp"] == datetime(2024, 11, 17, 5, 6, 40, 123000, tzinfo=timezone.utc)
    assert headers["old-timestamp"] == datetime(1969, 12, 30, 23, 59, 59, 999000, tzinfo=timezone.utc)
    assert isinstance(headers["timestamp"], datetime)
    assert headers["timestamp"].utcoffset() == timedelta(0)
    assert headers["uuid"] == uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")
    for name in ("byte", "short", "int", "long"):
        assert type(headers[name]) is int
    assert headers == h.expected_headers(ALL_TYPES)


def test_every_header_type_agrees_with_botocore() -> None:
    data = h.frame_bytes(ALL_TYPES, b"payload")
    [(boto_headers, boto_payload)] = h.botocore_decode(data)
    [frame] = decode_all(data)
    assert h.as_botocore(dict(frame.headers)) == boto_headers
    assert frame.payload == boto_payload


def test_frame_without_headers_or_payload() -> None:
    data = h.frame_bytes([], b"")
    assert len(data) == 16
    assert decode_all(data) == [Frame({}, b"")]
    assert decode_all(h.frame_bytes([], b"just a payload")) == [Frame({}, b"just a payload")]


def test_frame_convenience_properties() -> None:
    event = Frame({":message-type": "event", ":event-type": "contentBlockDelta"}, b"{}")
    assert (event.message_type, event.event_type, event.exception_type) == ("event", "contentBlockDelta", None)
    exception = Frame({":message-type": "exception", ":exception-type": "throttlingException"}, b"{}")
    assert exception.message_type == "exception"
    assert exception.exception_type == "throttlingException"
    assert exception.event_type is None
    error = Frame({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}, b"")
    assert (error.error_code, error.error_message) == ("InternalFailure", "boom")
    # A non-string value is not mistaken for a string header.
    assert Frame({":message-type": 5}, b"").message_type is None


def test_frame_headers_are_read_only_and_shared_safely() -> None:
    block = [(":message-type", 7, "event"), (":event-type", 7, "chunk")]
    first, second = decode_all(h.frame_bytes(block, b"1") + h.frame_bytes(block, b"2"))
    with pytest.raises(TypeError):
        first.headers[":event-type"] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        first.headers.pop(":event-type")
    with pytest.raises(TypeError):
        first.headers.update({"x": 1})
    copy = dict(first.headers)
    copy["x"] = 1
    assert second.headers == {":message-type": "event", ":event-type": "chunk"}
    assert first.headers.copy() == second.headers
    assert type(first.headers.copy()) is dict


# ------------------------------------------------------------------------------------ encode_frame


def test_encode_frame_matches_the_reference_encoder() -> None:
    explicit = {name: (kind, value) for name, kind, value in ALL_TYPES}
    assert encode_frame(explicit, b"xyz") == h.frame_bytes(ALL_TYPES, b"xyz")
    # HeaderType members work as type codes too.
    assert encode_frame({"n": (HeaderType.SHORT, 7)}) == h.frame_bytes([("n", 3, 7)])


def test_encode_frame_infers_types_from_python_values() -> None:
    when = datetime(2025, 11, 17, 6, 4, 8, 231000, tzinfo=timezone.utc)
    ident = uuid.uuid4()
    headers = {
        ":message-type": "event",
        "yes": True,
        "no": False,
        "small": -5,
        "big": 2**40,
        "blob": b"\x01\x02",
        "when": when,
        "id": ident,
    }
    data = encode_frame(headers, b"{}")
    assert data == h.frame_bytes(
        [
            (":message-type", 7, "event"),
            ("yes", 0, None),
            ("no", 1, None),
            ("small", 4, -5),
            ("big", 5, 2**40),
            ("blob", 6, b"\x01\x02"),
            ("when", 8, (when - h.EPOCH) // h.MS),
            ("id", 9, ident.bytes),
        ],
        b"{}",
    )
    [frame] = decode_all(data)
    assert frame.headers == headers
    assert len(h.botocore_decode(data)) == 1


@pytest.mark.parametrize(
    ("headers", "payload"),
    [
        ({"when": datetime(2025, 1, 1)}, b""),  # naive datetime
        ({"s": "x" * 65536}, b""),
        ({"b": (HeaderType.BYTE, 128)}, b""),
        ({"i": (HeaderType.INTEGER, 2**31)}, b""),
        ({"l": 2**63}, b""),
        ({"t": (99, 1)}, b""),
        ({"t": (HeaderType.BOOL_TRUE, False)}, b""),
        ({"u": (HeaderType.UUID, b"short")}, b""),
        ({"s": (HeaderType.STRING, b"bytes")}, b""),
        ({"x": 1.5}, b""),
        ({"": "empty name"}, b""),
        ({"n" * 256: "long name"}, b""),
        ({f"h{i}": "v" * 60000 for i in range(3)}, b""),
        ({}, b"x" * MAX_FRAME_LENGTH),
    ],
)
def test_encode_frame_refuses_what_it_cannot_encode(headers: dict[str, object], payload: bytes) -> None:
    with pytest.raises(ValidationError):
        encode_frame(headers, payload)  # type: ignore[arg-type]


def test_encode_frame_is_decodable_at_the_size_limit() -> None:
    payload = b"\xab" * (MAX_FRAME_LENGTH - 16 - len(h.header_bytes("a", 7, "b")))
    data = encode_frame({"a": "b"}, payload)
    assert len(data) == MAX_FRAME_LENGTH
    [frame] = decode_all(data)
    assert frame.payload == payload


# ------------------------------------------------------------------------------------ incremental feeding


def test_any_split_point_gives_the_same_frames() -> None:
    data = b"".join(
        h.frame_bytes([(":event-type", 7, f"e{i}"), ("n", 4, i)], bytes(range(i * 7 % 256))) for i in range(6)
    )
    expected = as_pairs(decode_all(data))
    assert len(expected) == 6
    assert as_pairs(decode_all(data, one_byte_pieces(data))) == expected
    for cut in range(len(data) + 1):
        assert as_pairs(decode_all(data, [data[:cut], data[cut:]])) == expected


def test_pending_counts_buffered_bytes() -> None:
    data = h.frame_bytes([("a", 7, "b")], b"0123456789")
    decoder = EventStreamDecoder()
    assert decoder.pending == 0
    assert decoder.feed(data[:5]) == []
    assert decoder.pending == 5
    assert decoder.feed(data[5:20]) == []
    assert decoder.pending == 20
    [frame] = decoder.feed(data[20:] + data[:3])
    assert frame.payload == b"0123456789"
    assert decoder.pending == 3
    assert decoder.feed(b"") == []
    assert decoder.feed(data[3:]) == [frame]
    assert decoder.pending == 0
    decoder.close()


def test_accepts_bytearray_and_memoryview_and_copies_them() -> None:
    data = h.frame_bytes([("a", 7, "b")], b"payload")
    decoder = EventStreamDecoder()
    first = bytearray(data[:10])
    assert decoder.feed(first) == []
    first[:] = b"\x00" * 10  # the caller reuses its buffer: the decoder kept its own copy
    [frame] = decoder.feed(memoryview(bytearray(data))[10:])
    assert frame == Frame({"a": "b"}, b"payload")
    assert type(frame.payload) is bytes
    decoder.close()


def test_header_cache_is_bounded() -> None:
    decoder = EventStreamDecoder()
    data = b"".join(h.frame_bytes([("n", 4, i)], b"") for i in range(1000))
    frames = decoder.feed(data)
    assert [f.headers["n"] for f in frames] == list(range(1000))
    assert 0 < len(decoder._cache) <= 64
    big = h.frame_bytes([("big", 6, b"x" * 5000)], b"")
    decoder.feed(big)
    assert all(len(block) < 5000 for block in decoder._cache)


# ------------------------------------------------------------------------------------ corruption


def assert_refused(data: bytes | list[bytes], *match: str) -> EventStreamError:
    """Feeding ``data`` (then close) raises EventStreamError mentioning every ``match``."""
    with pytest.raises(EventStreamError) as info:
        decode_all(b"", [data] if isinstance(data, bytes) else data)
    for text in match:
        assert text in str(info.value)
    return info.value


GOOD = h.frame_bytes([(":message-type", 7, "event"), (":event-type", 7, "chunk")], b'{"bytes":"aGk="}')


def test_bad_prelude_crc() -> None:
    data = bytearray(GOOD)
    data[8] ^= 0x01
    assert_refused(bytes(data), "prelude CRC mismatch", "byte 0")
    assert_refused(h.frame_bytes([], b"x", prelude_crc=0), "prelude CRC mismatch")


def test_prelude_crc_is_checked_before_the_lengths_are_trusted() -> None:
    # A corrupted (huge) total_length with the original CRC: the CRC catches it, and at once.
    data = bytearray(GOOD)
    data[0] = 0xFF
    decoder = EventStreamDecoder()
    with pytest.raises(EventStreamError, match="prelude CRC"):
        decoder.feed(bytes(data[:12]))


def test_bad_message_crc() -> None:
    data = bytearray(GOOD)
    data[-6] ^= 0x20  # a payload byte
    assert_refused(bytes(data), "message CRC mismatch")
    data = bytearray(GOOD)
    data[20] ^= 0x20  # a header byte
    assert_refused(bytes(data), "message CRC mismatch")
    assert_refused(h.frame_bytes([], b"x", message_crc=123), "message CRC mismatch")


def test_message_crc_is_checked_before_the_headers_are_parsed() -> None:
    # Unknown header type 200, but the message CRC is wrong: the CRC is what is reported.
    data = h.frame_bytes(b"\x01a\xc8", b"", message_crc=0)
    assert_refused(data, "message CRC mismatch")


@pytest.mark.parametrize("total", [0, 1, 12, 15])
def test_total_length_below_minimum(total: int) -> None:
    decoder = EventStreamDecoder()
    with pytest.raises(EventStreamError, match="below the 16-byte minimum"):
        decoder.feed(h.prelude_bytes(total, 0))


@pytest.mark.parametrize("total", [MAX_FRAME_LENGTH + 1, 2**31, 2**32 - 1])
def test_total_length_over_16_mib_is_refused_from_the_prelude_alone(total: int) -> None:
    decoder = EventStreamDecoder()
    with pytest.raises(EventStreamError, match="exceeds the 16777216-byte"):
        decoder.feed(h.prelude_bytes(total, 0))
    assert decoder.pending == 0  # nothing buffered
    # And fed byte by byte: refused as soon as the 12th byte arrives.
    decoder = EventStreamDecoder()
    prelude = h.prelude_bytes(total, 0)
    for byte in one_byte_pieces(prelude[:11]):
        assert decoder.feed(byte) == []
    with pytest.raises(EventStreamError, match="16 MiB"):
        decoder.feed(prelude[11:])


def test_total_length_at_16_mib_is_buffered() -> None:
    decoder = EventStreamDecoder()
    assert decoder.feed(h.prelude_bytes(MAX_FRAME_LENGTH, 0)) == []
    assert decoder.pending == 12
    with pytest.raises(EventStreamError, match="truncated"):
        decoder.close()


def test_headers_length_over_128_kib() -> None:
    decoder = EventStreamDecoder()
    with pytest.raises(EventStreamError, match="exceeds the 131072-byte"):
        decoder.feed(h.prelude_bytes(1024 * 1024, MAX_HEADERS_LENGTH + 1))


@pytest.mark.parametrize(("total", "headers_length"), [(16, 1), (100, 85), (17, 2**32 - 1)])
def test_headers_length_larger_than_the_frame(total: int, headers_length: int) -> None:
    decoder = EventStreamDecoder()
    with pytest.raises(EventStreamError, match=r"does not fit in total_length|exceeds the 131072"):
        decoder.feed(h.prelude_bytes(total, headers_length))


def test_headers_length_exactly_filling_the_frame_is_fine() -> None:
    block = h.headers_block([("a", 7, "b")])
    assert decode_all(h.frame_bytes(block, b"")) == [Frame({"a": "b"}, b"")]


@pytest.mark.parametrize("kind", [10, 11, 200, 255])
def test_unknown_header_type(kind: int) -> None:
    block = h.header_bytes("ok", 7, "v") + b"\x03bad" + bytes([kind]) + b"\x00\x00\x00\x01"
    assert_refused(h.frame_bytes(block, b"payload"), f"unknown type {kind}", "'bad'")


@pytest.mark.parametrize(
    "block",
    [
        b"\x05ab",  # name longer than the block
        b"\x02ab",  # name, but no type byte
        h.header_bytes("s", 7, "hello")[:-1],  # string value cut short
        h.header_bytes("s", 7, "hello")[:3],  # string length cut short
        h.header_bytes("b", 6, b"\x00" * 10)[:-3],  # byte array cut short
        h.header_bytes("i", 4, 7)[:-1],  # i32 cut short
        h.header_bytes("l", 5, 7)[:-4],  # i64 cut short
        h.header_bytes("t", 8, 7)[:-1],  # timestamp cut short
        h.header_bytes("y", 2, 7)[:-1],  # i8 with no value byte
        h.header_bytes("u", 9, b"\x00" * 16)[:-1],  # uuid cut short
        h.header_bytes("ok", 0, None) + b"\x01",  # a second header truncated after its length
    ],
)
def test_header_overrunning_its_block(block: bytes) -> None:
    assert_refused(h.frame_bytes(block, b"after the headers"), "overruns its header block")


def test_invalid_utf8_in_header_name_and_value() -> None:
    assert_refused(h.frame_bytes(h.header_bytes(b"\xff\xfe", 0, None), b""), "name is not valid UTF-8")
    assert_refused(h.frame_bytes(h.header_bytes("s", 7, b"\xc3\x28"), b""), "'s' is not valid UTF-8")


def test_duplicate_header() -> None:
    block = h.header_bytes("a", 7, "1") + h.header_bytes("a", 7, "2")
    assert_refused(h.frame_bytes(block, b""), "duplicate header 'a'")


@pytest.mark.parametrize("millis", [h.MAX_MS + 1, h.MIN_MS - 1, 2**63 - 1, -(2**63)])
def test_timestamp_outside_datetime_range(millis: int) -> None:
    assert_refused(h.frame_bytes([("t", 8, millis)], b""), "timestamp header 't'", "out of range")


def test_truncated_body_is_reported_at_close() -> None:
    for cut in (1, 11, 12, 13, len(GOOD) - 1):
        decoder = EventStreamDecoder()
        assert decoder.feed(GOOD + GOOD[:cut]) != []
        assert decoder.pending == cut
        with pytest.raises(EventStreamError, match=rf"truncated event stream.*at byte {len(GOOD)}"):
            decoder.close()


def test_errors_are_sticky_and_valid_frames_before_them_are_delivered() -> None:
    bad = bytearray(GOOD)
    bad[-1] ^= 0xFF
    decoder = EventStreamDecoder()
    frames = decoder.feed(GOOD + GOOD + bytes(bad) + GOOD)
    assert len(frames) == 2  # the good frames first ...
    with pytest.raises(EventStreamError, match="message CRC"):
        decoder.feed(b"")  # ... then the error, even from an empty feed (how a caller asks for it) ...
    with pytest.raises(EventStreamError, match=rf"message CRC mismatch in the frame at byte {2 * len(GOOD)}"):
        decoder.feed(GOOD)  # ... then the error, from the next call ...
    with pytest.raises(EventStreamError, match="message CRC"):
        decoder.feed(GOOD)  # ... and every one after: no resync
    with pytest.raises(EventStreamError, match="message CRC"):
        decoder.close()


def test_feed_after_close_is_refused() -> None:
    decoder = EventStreamDecoder()
    decoder.feed(GOOD)
    decoder.close()
    with pytest.raises(EventStreamError, match="after close"):
        decoder.feed(GOOD)


def test_error_offsets_count_from_the_start_of_the_stream() -> None:
    bad = bytearray(GOOD)
    bad[9] ^= 1
    decoder = EventStreamDecoder()
    pieces = one_byte_pieces(GOOD * 3 + bytes(bad[:11]))
    frames = [frame for piece in pieces for frame in decoder.feed(piece)]
    assert len(frames) == 3
    with pytest.raises(EventStreamError, match=rf"prelude CRC mismatch in the frame at byte {3 * len(GOOD)}\b"):
        decoder.feed(bytes(bad[11:12]))  # the 12th byte of the bad prelude


# ------------------------------------------------------------------------------------ real recordings


def _recordings() -> list[Path]:
    root = RECORDINGS / "amazon_bedrock"
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*.json") if '"chunks"' in p.read_text())


_RECORDED = _recordings()


@pytest.mark.recordings
@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in _RECORDED] or [pytest.param(None, id="absent")],
)
def test_real_bedrock_recordings(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"no recordings at {RECORDINGS}")
    recording = json.loads(path.read_text())
    reads = [base64.b64decode(chunk["b64"]) for chunk in recording["chunks"]]
    body = b"".join(reads)
    oracle = h.botocore_decode(body, reads)
    assert oracle, "botocore found no frames"

    as_read = decode_all(body, reads)
    assert len(as_read) == len(oracle)
    assert [(h.as_botocore(dict(f.headers)), f.payload) for f in as_read] == oracle
    assert as_pairs(decode_all(body)) == as_pairs(as_read)
    assert as_pairs(decode_all(body, one_byte_pieces(body))) == as_pairs(as_read)
    for frame in as_read:
        assert frame.message_type == "event"
        assert frame.event_type
        assert frame.headers[":content-type"] == "application/json"
        assert isinstance(json.loads(frame.payload), dict)
    # reqbed's encoder writes the very same bytes for what it decoded (string headers by default).
    assert b"".join(encode_frame(dict(f.headers), f.payload) for f in as_read) == body


# ------------------------------------------------------------------------------------ property-based


@settings(max_examples=100, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(h.frames, min_size=1, max_size=6), data=st.data())
def test_random_frames_round_trip_at_random_split_points(
    frames: list[tuple[list[h.Header], bytes]], data: st.DataObject
) -> None:
    encoded = [h.frame_bytes(headers, payload) for headers, payload in frames]
    stream = b"".join(encoded)
    expected = [(h.expected_headers(headers), payload) for headers, payload in frames]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12), label="cuts"))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]

    assert as_pairs(decode_all(stream)) == expected
    assert as_pairs(decode_all(stream, pieces)) == expected
    # botocore, fed the same bytes, agrees.
    assert h.botocore_decode(stream, pieces) == [(h.as_botocore(hd), p) for hd, p in expected]
    # reqbed's own encoder writes the same bytes as the reference encoder.
    assert b"".join(encode_frame({n: (k, v) for n, k, v in hs}, p) for hs, p in frames) == stream


@settings(max_examples=40, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(h.frames, min_size=1, max_size=3))
def test_random_frames_round_trip_in_one_byte_feeds(frames: list[tuple[list[h.Header], bytes]]) -> None:
    stream = b"".join(h.frame_bytes(headers, payload) for headers, payload in frames)
    expected = [(h.expected_headers(headers), payload) for headers, payload in frames]
    assert as_pairs(decode_all(stream, one_byte_pieces(stream))) == expected


@st.composite
def mutations(draw: st.DrawFn, stream: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "splice"]))
    at = draw(st.integers(0, len(stream) - 1))
    if kind == "flip":
        bit = draw(st.integers(0, 7))
        return stream[:at] + bytes([stream[at] ^ (1 << bit)]) + stream[at + 1 :]
    if kind == "set":
        return stream[:at] + bytes([draw(st.integers(0, 255))]) + stream[at + 1 :]
    if kind == "truncate":
        return stream[:at]
    if kind == "insert":
        return stream[:at] + draw(st.binary(min_size=1, max_size=8)) + stream[at:]
    if kind == "delete":
        return stream[:at] + stream[at + draw(st.integers(1, 8)) :]
    # splice: overwrite a run of bytes (e.g. a length field) with arbitrary ones
    junk = draw(st.binary(min_size=1, max_size=12))
    return stream[:at] + junk + stream[at + len(junk) :]


@settings(max_examples=200, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(h.frames, min_size=1, max_size=4), data=st.data())
def test_mutated_streams_decode_identically_or_raise_event_stream_error(
    frames: list[tuple[list[h.Header], bytes]], data: st.DataObject
) -> None:
    encoded = [h.frame_bytes(headers, payload) for headers, payload in frames]
    stream = b"".join(encoded)
    expected = [(h.expected_headers(headers), payload) for headers, payload in frames]
    mutated = data.draw(mutations(stream), label="mutated")
    step = data.draw(st.sampled_from([1, 7, 64, len(mutated) or 1]), label="read size")
    pieces = [mutated[i : i + step] for i in range(0, len(mutated), step)]

    decoder = EventStreamDecoder()
    got: list[Frame] = []
    failed = False
    with no_hang(5):
        try:
            for piece in pieces:
                got.extend(decoder.feed(piece))
            decoder.close()
        except EventStreamError:
            failed = True
    # Whatever was returned is exactly the original frames, in order (never a damaged frame) ...
    assert as_pairs(got) == expected[: len(got)]
    if not failed:
        # ... and a clean end means the mutated stream *is* those frames (e.g. cut at a frame boundary).
        assert mutated == b"".join(encoded[: len(got)])


@settings(max_examples=200, deadline=timedelta(seconds=2))
@given(junk=st.binary(max_size=64))
def test_arbitrary_bytes_never_raise_anything_else(junk: bytes) -> None:
    decoder = EventStreamDecoder()
    with no_hang(5), contextlib.suppress(EventStreamError):
        decoder.feed(junk)
        decoder.close()


def test_prelude_fields_are_big_endian() -> None:
    frame = h.frame_bytes([("a", 7, "b")], b"xy")
    total, headers_length = struct.unpack(">II", frame[:8])
    assert (total, headers_length) == (len(frame), len(h.header_bytes("a", 7, "b")))
    assert decode_all(frame) == [Frame({"a": "b"}, b"xy")]
