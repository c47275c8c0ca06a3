"""Time for signing and expiry checks, and what reqbed learned about each endpoint's clock.

AWS accepts a SigV4 signature only within 5 minutes of *its* clock. Three guards keep reqbed's
signatures inside that window (the fourth step is an honest error):

1. the transport signs every attempt itself, right before the bytes go out (``_transport``);
2. a signature is never reused: a request handed to the transport again (a retry, a request
   that sat in a queue) is signed afresh, so no signature older than the attempt is ever sent;
3. clock skew: when AWS answers 403 "Signature expired" / "Signature not yet current" /
   "RequestTimeTooSkewed", reqbed reads the server's time (its ``Date`` header, or the time
   quoted in the message), stores the offset for that endpoint (``Clock.learn``), signs later
   requests to it with the corrected time and retries the refused request once (``learn_skew``
   here is the pure part; the re-signed attempt is ``_flow.resign_on_skew``);
4. what still fails raises ``SignatureExpiredError`` with ``.skew`` (server minus local, in
   seconds) and advice.

A ``Clock`` is injectable (``reqbed.Client(clock=Clock(fake_time))``) so all of this is testable
with a fake clock. The learned offsets live on the ``Clock`` (``SYSTEM_CLOCK`` by default), keyed
by endpoint (``host[:port]``); a wrong offset corrects itself the same way it was learned.
"""

from __future__ import annotations

import email.utils
import functools
import re
import threading
import time as _time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from .._errors import APIError, SignatureExpiredError

__all__ = [
    "SIGNATURE_WINDOW",
    "SKEW_STATUSES",
    "SYSTEM_CLOCK",
    "Clock",
    "endpoint_of",
    "learn_skew",
    "parse_iso8601",
    "server_time",
    "skew_error",
]

#: How far (s) AWS lets a signature's time differ from its own clock.
SIGNATURE_WINDOW = 300.0
_UTC = timezone.utc
# "... (20251117T064349Z - 5 min.)" / "(20251117T064349Z + 5 min.)": the server's time in AWS's message.
_QUOTED_NOW = re.compile(r"\((\d{8}T\d{6}Z) [-+] \d+ min\.\)")
#: The statuses a clock-skew refusal comes with.
SKEW_STATUSES = frozenset({400, 401, 403})
# Error codes that mean "your clock is off" even when the message says it differently.
_SKEW_CODES = frozenset({"RequestTimeTooSkewed", "RequestExpired", "SignatureExpired"})


class Clock:
    """Wall-clock time (``time_fn``, default ``time.time``) plus a learned offset per endpoint.

    Thread-safe; holds no secrets. ``signing_time(endpoint)`` is the time to put in a signature
    for that endpoint: local time corrected by what the endpoint's answers showed.
    """

    __slots__ = ("_lock", "_skews", "_time")

    def __init__(self, time_fn: Callable[[], float] | None = None) -> None:
        self._time = time_fn or _time.time
        self._lock = threading.Lock()
        self._skews: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"Clock(skews={self.skews()!r})"

    def time(self) -> float:
        """Local time, seconds since the epoch."""
        return self._time()

    def now(self) -> datetime:
        """Local time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._time(), _UTC)

    def skew(self, endpoint: str) -> float:
        """Learned server-minus-local offset for ``endpoint`` (0.0 when nothing was learned)."""
        return self._skews.get(endpoint, 0.0)

    def skews(self) -> dict[str, float]:
        with self._lock:
            return dict(self._skews)

    def signing_time(self, endpoint: str) -> datetime:
        """The time to sign a request to ``endpoint`` with: local time plus its learned offset."""
        return datetime.fromtimestamp(self._time() + self._skews.get(endpoint, 0.0), _UTC)

    def learn(self, endpoint: str, server: float, local: float) -> float:
        """Record that ``endpoint``'s clock read ``server`` when ours read ``local``; return the offset."""
        skew = round(server - local, 3)
        with self._lock:
            if len(self._skews) > 1024:  # endpoints are few; never grow without bound
                self._skews.clear()
            self._skews[endpoint] = skew
        return skew

    def forget(self, endpoint: str | None = None) -> None:
        """Drop the offset learned for one endpoint, or all of them."""
        with self._lock:
            if endpoint is None:
                self._skews.clear()
            else:
                self._skews.pop(endpoint, None)


#: The process-wide clock used unless a ``Client`` is given its own.
SYSTEM_CLOCK = Clock()


@functools.lru_cache(maxsize=256)
def endpoint_of(url: str) -> str:
    """The skew-store key of a URL: its ``host[:port]``, lower-cased (default ports dropped)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)):
        return host
    return f"{host}:{port}"


def server_time(headers: Mapping[str, str], message: str | None = None) -> float | None:
    """The server's clock from an answer: its ``Date`` header, else the time AWS quotes in
    a "Signature expired" message. None when neither is there or parseable."""
    date = headers.get("date") or headers.get("Date")
    if date:
        try:
            parsed = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=_UTC)
            return parsed.timestamp()
    if message:
        m = _QUOTED_NOW.search(message)
        if m:
            return datetime.strptime(m[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=_UTC).timestamp()
    return None


def skew_error(error: APIError, skew: float | None, *, retried: bool) -> SignatureExpiredError:
    """``error`` as a ``SignatureExpiredError`` carrying ``.skew`` and advice."""
    if skew is None:
        advice = "the server's time was not in its answer; check that this machine's clock is right (NTP)"
    elif abs(skew) >= SIGNATURE_WINDOW / 2:
        direction = "behind" if skew > 0 else "ahead of"
        advice = (
            f"this machine's clock is about {abs(skew):.0f} s {direction} AWS's"
            + ("; reqbed corrected for it and retried once, and AWS still refused" if retried else "")
            + ". Sync the clock (enable NTP: chrony, systemd-timesyncd, w32time)"
        )
    else:
        advice = (
            f"the clocks agree within {abs(skew):.0f} s, so the request reached AWS more than 5 minutes after "
            "it was signed (a very slow upload, or something holding requests before they are sent)"
        )
    err = SignatureExpiredError(
        f"{error.message} -- {advice}",
        status=error.status,
        code=error.code,
        request_id=error.request_id,
        aws_message=error.aws_message,
        retry_after=error.retry_after,
    )
    err.skew = skew
    return err


def learn_skew(
    clock: Clock, endpoint: str, headers: Mapping[str, str], error: APIError, local: float
) -> tuple[bool, float | None]:
    """Is ``error`` a clock-skew refusal? If so, learn the server's time (from ``headers`` or the
    message) for ``endpoint``; return (is_skew, the learned offset or None)."""
    if not isinstance(error, SignatureExpiredError) and error.code not in _SKEW_CODES:
        return False, None
    server = server_time(headers, error.aws_message)
    if server is None:
        return True, None
    return True, clock.learn(endpoint, server, local)


_ISO8601 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|z|[+-]\d{2}:?\d{2})?$")


def parse_iso8601(value: str) -> datetime | None:
    """``2025-10-14T18:33:24Z`` (fractions and offsets allowed; no offset means UTC) -> aware datetime."""
    m = _ISO8601.match(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second = (int(m[i]) for i in range(1, 7))
    micro = int((m[7] or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(year, month, day, hour, minute, second, micro, tzinfo=_UTC)
    except ValueError:
        return None
    offset = m[8]
    if offset and offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt
