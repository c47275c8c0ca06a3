"""Attempt events for observers (internal; no public API yet: telemetry will build on it).

The attempt flow (``_fallback.call_flow``) is the one place every attempt of every call passes,
so it is the one place that reports them. For each attempt, in order:

- ``AttemptStarted``: target ``served_by`` (its index: 0 the call's own, i + 1 ``fallbacks[i]``),
  ``attempt`` (1, 2, ... within that target);
- ``AttemptEnded``: ``error`` None when the attempt produced the call's result, else the error;
- after an error, ``RetryDecision``: ``action`` "retry" (after ``delay`` seconds), "fallback"
  (to ``fallback_to``) or "give_up" (the error is raised).

Observers are callables in ``OBSERVERS``, called synchronously in the calling thread or task;
they must be quick and must not raise (an observer's exception propagates into the call). No
event is built while the list is empty and the ``reqbed`` logger is quiet (``wanted()``). Events
hold no secrets: target labels, HTTP methods, statuses and reqbed errors, whose messages never
carry credentials (nor prompt text).

The ``reqbed`` logger is the built-in observer (``log_event``), called before ``OBSERVERS``:
DEBUG for every attempt (method, target, status, latency) and every retry decision, WARNING for
each retry and each move to a fallback. reqbed adds a ``NullHandler``: nothing is printed unless
the application configures logging.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ._errors import ReqbedError

__all__ = [
    "OBSERVERS",
    "AttemptEnded",
    "AttemptStarted",
    "Event",
    "Observer",
    "RetryDecision",
    "emit",
    "log_event",
    "wanted",
]

logger = logging.getLogger("reqbed")
logger.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class AttemptStarted:
    target: str
    index: int
    attempt: int
    method: str | None = None


@dataclass(frozen=True)
class AttemptEnded:
    target: str
    index: int
    attempt: int
    error: ReqbedError | None = None
    #: seconds the attempt took (send to result or error)
    elapsed: float | None = None
    #: the HTTP status of an error answer (None on success and for connection errors)
    status: int | None = None


@dataclass(frozen=True)
class RetryDecision:
    target: str
    index: int
    attempt: int
    action: Literal["retry", "fallback", "give_up"]
    delay: float | None = None
    fallback_to: str | None = None
    #: the error that led to this decision
    error: ReqbedError | None = None


Event = AttemptStarted | AttemptEnded | RetryDecision
Observer = Callable[[Event], None]

#: The registered observers, called with every event in order.
OBSERVERS: list[Observer] = []


def wanted(level: int = logging.WARNING) -> bool:
    """Whether to build an event at all: an observer is registered, or the logger would write at
    ``level`` (attempts log at DEBUG, so by default the success path builds nothing; retry and
    fallback decisions at WARNING)."""
    return bool(OBSERVERS) or logger.isEnabledFor(level)


def emit(event: Event) -> None:
    log_event(event)
    for observer in tuple(OBSERVERS):
        observer(event)


def log_event(event: Event) -> None:
    """The ``reqbed`` logger's view of an event (no secrets, no prompt text: labels and error names)."""
    if isinstance(event, AttemptStarted):
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("reqbed: attempt %d: %s %s", event.attempt, event.method or "?", event.target)
    elif isinstance(event, AttemptEnded):
        if logger.isEnabledFor(logging.DEBUG):
            took = "?" if event.elapsed is None else f"{event.elapsed:.3f}"
            if event.error is None:
                logger.debug("reqbed: attempt %d of %s: ok in %s s", event.attempt, event.target, took)
            else:
                logger.debug(
                    "reqbed: attempt %d of %s: %s (status %s) in %s s",
                    event.attempt,
                    event.target,
                    type(event.error).__name__,
                    event.status if event.status is not None else "-",
                    took,
                )
    elif event.action == "retry":
        logger.warning(
            "reqbed: retry %d of %s in %.3f s after %s: %s",
            event.attempt,
            event.target,
            event.delay or 0.0,
            type(event.error).__name__,
            event.error,  # reqbed's messages: capped, never a credential
        )
    elif event.action == "fallback":
        logger.warning(
            "reqbed: %s failed (%s); falling back to %s", event.target, type(event.error).__name__, event.fallback_to
        )
    else:
        logger.debug("reqbed: giving up on %s after %d attempt(s)", event.target, event.attempt)
