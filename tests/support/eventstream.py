"""A plain reference encoder for AWS binary event-stream frames, for tests only.

Written independently of ``reqbed._aws.eventstream`` (straight from the wire format) so the two can check
each other, and able to write *wrong* frames on purpose: every length and CRC can be overridden and the
header block can be given as raw bytes.

A header is ``(name, type_code, wire_value)``: bool types take no value (pass ``None``), integer types
and timestamps an ``int`` (timestamps in milliseconds), byte arrays ``bytes``, strings ``str``, uuids
16 ``bytes``.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

Header = tuple[str, int, object]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MS = timedelta(milliseconds=1)
# The timestamps a datetime can hold (year 1 to year 9999), in ms since the epoch.
MIN_MS = (datetime(1, 1, 1, tzinfo=timezone.utc) - EPOCH) // MS
MAX_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc) - EPOCH) // MS

_INT_FORMATS = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


def crc(data: bytes, start: int = 0) -> int:
    return zlib.crc32(data, start) & 0xFFFFFFFF


def header_bytes(name: str | bytes, kind: int, value: object) -> bytes:
    """One encoded header. ``name`` may be raw bytes (e.g. invalid UTF-8)."""
    raw_name = name.encode("utf-8") if isinstance(name, str) else name
    out = bytes([len(raw_name)]) + raw_name + bytes([kind])
    if kind in (0, 1):
        return out
    if kind in _INT_FORMATS:
        assert isinstance(value, int)
        return out + struct.pack(_INT_FORMATS[kind], value)
    if kind in (6, 7):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        assert isinstance(raw, bytes)
        return out + struct.pack(">H", len(raw)) + raw
    if kind == 9:
        assert isinstance(value, bytes)
        assert len(value) == 16
        return out + value
    raise ValueError(f"the reference encoder has no header type {kind}")


def headers_block(headers: Sequence[Header]) -> bytes:
    return b"".join(header_bytes(n, k, v) for n, k, v in headers)


def frame_bytes(
    headers: Sequence[Header] | bytes,
    payload: bytes = b"",
    *,
    total_length: int | None = None,
    headers_length: int | None = None,
    prelude_crc: int | None = None,
    message_crc: int | None = None,
) -> bytes:
    """One frame; ``headers`` is a header list or a raw header block. Overrides write a wrong field."""
    block = headers if isinstance(headers, bytes) else headers_block(headers)
    total = 16 + len(block) + len(payload) if total_length is None else total_length
    hlen = len(block) if headers_length is None else headers_length
    prelude = struct.pack(">II", total, hlen)
    pcrc = crc(prelude) if prelude_crc is None else prelude_crc
    body = prelude + struct.pack(">I", pcrc) + block + payload
    mcrc = crc(body) if message_crc is None else message_crc
    return body + struct.pack(">I", mcrc)


def prelude_bytes(total_length: int, headers_length: int) -> bytes:
    """Just a prelude with a correct CRC (the rest of the frame never sent)."""
    prelude = struct.pack(">II", total_length, headers_length)
    return prelude + struct.pack(">I", crc(prelude))


def expected_value(kind: int, value: object) -> object:
    """What reqbed should decode a header to."""
    if kind == 0:
        return True
    if kind == 1:
        return False
    if kind == 8:
        assert isinstance(value, int)
        return EPOCH + timedelta(milliseconds=value)
    if kind == 9:
        assert isinstance(value, bytes)
        return uuid.UUID(bytes=value)
    return value


def expected_headers(headers: Sequence[Header]) -> dict[str, object]:
    return {n: expected_value(k, v) for n, k, v in headers}


def as_botocore(headers: dict[str, object]) -> dict[str, object]:
    """reqbed's decoded headers in botocore's representation (timestamps as ms, uuids as bytes)."""
    out: dict[str, object] = {}
    for name, value in headers.items():
        if isinstance(value, datetime):
            out[name] = (value - EPOCH) // MS
        elif isinstance(value, uuid.UUID):
            out[name] = value.bytes
        else:
            out[name] = value
    return out


def botocore_decode(data: bytes, pieces: Sequence[bytes] | None = None) -> list[tuple[dict[str, object], bytes]]:
    """Decode with botocore's ``EventStreamBuffer`` (an independent oracle): ``[(headers, payload)]``."""
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    out: list[tuple[dict[str, object], bytes]] = []
    for piece in pieces if pieces is not None else [data]:
        buffer.add_data(piece)
        out.extend((dict(m.headers), bytes(m.payload)) for m in buffer)
    return out


# ------------------------------------------------------------------------------------ hypothesis

names = st.text(min_size=1, max_size=24).filter(lambda s: len(s.encode("utf-8")) <= 255) | st.sampled_from(
    [":message-type", ":event-type", ":content-type", ":exception-type", ":error-code"]
)

header_values: st.SearchStrategy[tuple[int, object]] = st.one_of(
    st.just((0, None)),
    st.just((1, None)),
    st.tuples(st.just(2), st.integers(-(2**7), 2**7 - 1)),
    st.tuples(st.just(3), st.integers(-(2**15), 2**15 - 1)),
    st.tuples(st.just(4), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just(5), st.integers(-(2**63), 2**63 - 1)),
    st.tuples(st.just(6), st.binary(max_size=200)),
    st.tuples(st.just(7), st.text(max_size=60)),
    st.tuples(st.just(8), st.integers(MIN_MS, MAX_MS)),
    st.tuples(st.just(9), st.binary(min_size=16, max_size=16)),
)

header_lists: st.SearchStrategy[list[Header]] = st.lists(
    st.tuples(names, header_values), max_size=6, unique_by=lambda h: h[0]
).map(lambda hs: [(n, k, v) for n, (k, v) in hs])

frames: st.SearchStrategy[tuple[list[Header], bytes]] = st.tuples(header_lists, st.binary(max_size=400))
