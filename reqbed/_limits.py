"""Size limits on what an endpoint may send back, as one validated policy object. Pure, no I/O.

Prepared for issue 19 item 2 (bounded memory against hostile or broken endpoints); the send path
enforces it once it is rewritten (see docs/reliability.md, "Limits"). Every limit counts bytes
*after* decompression, so a gzip bomb is stopped by the same number as an endless body.

Defaults sit far above Bedrock's largest real answers: a chat answer at the largest output limit
(128k tokens, about 0.5 MB of text) is a few MB of JSON even with heavy escaping; an AWS error
body is under 1 KB; an event-stream frame cannot exceed 16 MiB by the format's own rules.
"""

from __future__ import annotations

import msgspec

from ._errors import ReqbedError, ValidationError

__all__ = ["ByteBudget", "Limits", "ResponseTooLargeError"]

_KIB, _MIB = 1 << 10, 1 << 20


class ResponseTooLargeError(ReqbedError):
    """An answer (a body, an error body, a stream) passed one of the size limits. ``limit`` is the
    limit in bytes, ``field`` its name (``max_response_bytes`` ...). Private until the send path
    raises it; then it moves into ``_errors``' tree and the public surface."""

    def __init__(self, message: str, *, limit: int, field: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.field = field


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """``Limits(max_response_bytes=..., ...)``; every field a positive number of bytes."""

    #: a whole non-streamed answer (200), after decompression
    max_response_bytes: int = 64 * _MIB
    #: an error answer's body (4xx/5xx) and an exception frame's payload: read up to this, no further
    max_error_body_bytes: int = 64 * _KIB
    #: everything one stream sends, after decompression
    max_stream_bytes: int = 512 * _MIB
    #: one event-stream frame (the format allows 16 MiB)
    max_event_bytes: int = 16 * _MIB

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(f"must be a positive number of bytes, got {value!r}", field=f"limits.{name}")
        if self.max_event_bytes > 16 * _MIB:
            raise ValidationError(
                "must be at most 16 MiB (the event-stream format's limit)", field="limits.max_event_bytes"
            )
        if self.max_event_bytes > self.max_stream_bytes:
            raise ValidationError("must not exceed max_stream_bytes", field="limits.max_event_bytes")
        if self.max_error_body_bytes > self.max_response_bytes:
            raise ValidationError("must not exceed max_response_bytes", field="limits.max_error_body_bytes")

    def budget(self, kind: str) -> ByteBudget:
        """A fresh counter for one answer: ``kind`` is ``"response"``, ``"error_body"`` or ``"stream"``."""
        field = {"response": "max_response_bytes", "error_body": "max_error_body_bytes", "stream": "max_stream_bytes"}
        if kind not in field:
            raise ValueError(f"unknown budget kind {kind!r}")
        return ByteBudget(getattr(self, field[kind]), field[kind])


class ByteBudget:
    """Counts the bytes of one answer as they arrive; ``add`` raises ``ResponseTooLargeError`` as soon
    as the total passes the limit (so a reader stops at most one read past it)."""

    __slots__ = ("field", "limit", "used")

    def __init__(self, limit: int, field: str) -> None:
        self.limit, self.field, self.used = limit, field, 0

    def add(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise ResponseTooLargeError(
                f"the answer passed {self.limit:,} bytes (reqbed Limits.{self.field}); stopped reading",
                limit=self.limit,
                field=self.field,
            )

    def left(self) -> int:
        """How many more bytes may arrive (a reader can ask for no more than this plus one)."""
        return max(0, self.limit - self.used)
