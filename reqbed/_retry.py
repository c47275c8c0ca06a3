"""The retry policy and the call's deadline: pure decisions, no I/O, no sleeping.

``RetryPolicy`` answers one question: after this error, on this retry, with this much time
left, should the call be tried again, and after how long? ``Deadline`` is the call's overall
time budget (the ``timeout=`` option). The flow that acts on both is ``_fallback.call_flow``
(run by ``_flow.drive_sync`` / ``drive_async``); the rules are documented in docs/reliability.md.

What is retried (and only while no content has reached the caller):

- ``ThrottlingError`` (429 ``ThrottlingException`` / ``TooManyRequestsException``, also as a
  stream's first frame), except ``ServiceQuotaExceededException`` (a quota: waiting seconds does
  not lift it; it goes to the fallbacks instead);
- ``ModelNotReadyError``, ``ServiceUnavailableError`` (503), ``ServerError`` (500 and other 5xx);
- ``APIConnectionError``: Bedrock model calls have no side effect but their cost, so reqbed treats
  them as idempotent and retries a connection that failed, was reset or closed without an answer
  even when the request may have reached AWS (the worst case is paying for an answer twice;
  ``max_retries=0`` turns this off).

Never retried: validation, credentials, authentication, access denied, bad request, not found,
``ModelTimeoutError``, ``ModelStreamError``, corrupt streams and reqbed's own timeouts (a read
timeout means the model may still be working; the deadline is the caller's whole budget).

Backoff is exponential with full jitter (AWS Architecture Blog, "Exponential Backoff And
Jitter"): before retry ``n`` (1, 2, ...) reqbed sleeps ``uniform(0, min(cap, base * 2**(n-1)))``,
base 0.5 s and cap 20 s. A ``Retry-After`` from AWS (``APIError.retry_after``) replaces the
jittered delay when it is at most ``max_retry_after`` (60 s); a longer one ends the retries.
No retry starts, and no sleep is begun, that would end past the deadline.
"""

from __future__ import annotations

import contextlib
import random as _random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ._errors import (
    APIConnectionError,
    ModelNotReadyError,
    ReqbedError,
    RequestTimeoutError,
    ServerError,
    ServiceUnavailableError,
    ThrottlingError,
    ValidationError,
)

__all__ = ["DEFAULT_MAX_RETRIES", "MAX_RETRIES_LIMIT", "Deadline", "RetryPolicy", "enforce_deadline"]

DEFAULT_MAX_RETRIES = 2
_RETRYABLE: tuple[type[ReqbedError], ...] = (
    ThrottlingError,
    ModelNotReadyError,
    ServiceUnavailableError,
    ServerError,
    APIConnectionError,
)
#: Throttling codes that name a quota, not a rate: retrying within the call cannot help.
_QUOTA_CODES = frozenset({"ServiceQuotaExceededException"})


#: The most retries per target a call or a ``RetryPolicy`` may ask for.
MAX_RETRIES_LIMIT = 20


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a call again. Pure: ``random`` and ``clock`` are
    injectable (``random() -> [0, 1)``, ``clock() -> seconds``, monotonic).

    ``reqbed.Client(retry_policy=RetryPolicy(base=0.1, cap=2.0))`` changes the backoff for every
    call of that client; the per-call ``max_retries=`` option overrides ``max_retries``.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    base: float = 0.5
    cap: float = 20.0
    max_retry_after: float = 60.0
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValidationError("RetryPolicy values must not be negative", field="retry_policy")
        if self.max_retries > MAX_RETRIES_LIMIT:
            raise ValidationError(f"max_retries must be at most {MAX_RETRIES_LIMIT}", field="retry_policy")

    def retryable(self, error: BaseException) -> bool:
        """Is ``error`` worth another attempt (assuming nothing reached the caller yet)?"""
        if not isinstance(error, _RETRYABLE):
            return False
        return not (isinstance(error, ThrottlingError) and error.code in _QUOTA_CODES)

    def backoff(self, retry: int) -> float:
        """Full jitter: a uniform delay in ``[0, min(cap, base * 2**(retry-1)))`` before retry ``retry`` (>= 1)."""
        ceiling = min(self.cap, self.base * 2.0 ** max(0, min(retry - 1, 64)))
        return self.random() * ceiling

    def delay(self, error: BaseException, retry: int) -> float | None:
        """How long to wait before retry ``retry``: AWS's ``Retry-After`` when it gave one (None when
        that is longer than ``max_retry_after``), else the jittered backoff."""
        after = getattr(error, "retry_after", None)
        if isinstance(after, (int, float)) and after >= 0:
            return float(after) if after <= self.max_retry_after else None
        return self.backoff(retry)

    def next_delay(
        self, error: BaseException, retries_done: int, max_retries: int | None, remaining: float | None
    ) -> float | None:
        """The wait before the next attempt, or None: do not retry (not retryable, out of retries,
        or the wait would not end before the deadline, ``remaining`` seconds away)."""
        limit = self.max_retries if max_retries is None else max_retries
        if retries_done >= limit or not self.retryable(error):
            return None
        wait = self.delay(error, retries_done + 1)
        if wait is None:
            return None
        if remaining is not None and wait >= remaining:
            return None
        return wait

    def deadline(self, timeout: float | None) -> Deadline:
        """A call's deadline, ``timeout`` seconds from now on this policy's clock (None: no deadline)."""
        return Deadline(timeout, self.clock)


class Deadline:
    """A call's overall time budget (the ``timeout=`` option); ``timeout=None`` never expires."""

    __slots__ = ("_clock", "at", "started", "timeout")

    def __init__(self, timeout: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.timeout = timeout
        self.started = clock()
        self.at = None if timeout is None else self.started + timeout

    def elapsed(self) -> float:
        """Seconds since the call started (``Response.latency``)."""
        return self._clock() - self.started

    def __repr__(self) -> str:
        return f"Deadline(timeout={self.timeout!r}, remaining={self.remaining()!r})"

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None without a deadline."""
        return None if self.at is None else max(0.0, self.at - self._clock())

    def expired(self) -> bool:
        return self.at is not None and self._clock() >= self.at

    def error(self) -> RequestTimeoutError:
        return RequestTimeoutError(f"the call's deadline passed (timeout={self.timeout:g} s)")

    def check(self) -> None:
        """Raise ``RequestTimeoutError`` once the deadline has passed."""
        if self.expired():
            raise self.error()

    def cap(self, timeouts: Mapping[str, float | None]) -> dict[str, float | None]:
        """httpx's per-phase timeouts (connect, read, write, pool), none longer than the time left."""
        left = self.remaining()
        if left is None:
            return dict(timeouts)
        left = max(left, 0.001)  # httpx treats 0 as "fail at once"; keep the error a timeout
        return {k: left if v is None else min(v, left) for k, v in timeouts.items()}


@contextlib.contextmanager
def enforce_deadline(deadline: Deadline | None) -> Iterator[None]:
    """Async code: cancel what runs inside once the deadline passes, raising ``RequestTimeoutError``
    (anyio's ``fail_after``: works on asyncio and trio). A no-op without a deadline."""
    left = None if deadline is None else deadline.remaining()
    if deadline is None or left is None:
        yield
        return
    import anyio

    try:
        with anyio.fail_after(left):
            yield
    except TimeoutError:
        raise deadline.error() from None
