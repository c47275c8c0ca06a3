"""Call and attempt events for observers (internal; ``reqbed.telemetry`` builds on them).

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

Around the attempts, the send path (``Client._call`` / ``_acall``) reports each *call* to the
factories in ``CALL_WATCHERS`` (checked first, so nothing is done while it is empty):
``start_call`` hands each factory a ``CallStarted`` (the operation and its first target, after
planning, before any I/O) and keeps the ``CallWatch`` it returns; ``finish_call`` then tells each
watch that the call returned (``returned``: always in the caller's thread or task, so a watch may
set and reset context there, as OpenTelemetry's current span) and what it came to (``ended``:
the result or the error). A stream's result is its final ``Response``, reported when the stream
ends (``error`` set when it breaks, both None when it is closed early), not when ``stream_text``
returns. ``CallStarted`` carries the operation object itself (prompt, options): a watch must not
keep it, and must not record the prompt unless told to (``reqbed.telemetry``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ._errors import ReqbedError

__all__ = [
    "CALL_WATCHERS",
    "OBSERVERS",
    "AttemptEnded",
    "AttemptStarted",
    "CallStarted",
    "CallWatch",
    "Event",
    "Observer",
    "RetryDecision",
    "emit",
    "finish_call",
    "log_event",
    "start_call",
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


# -- calls ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallStarted:
    """One call, planned: ``operation`` is the ``_operation.Operation`` object (its class says the verb;
    chat operations carry ``prompt`` and ``opts``); ``targets`` the ``_fallback.Target`` list, in order."""

    operation: Any
    targets: Sequence[Any]


class CallWatch(Protocol):
    def returned(self) -> None:
        """The call returned (or raised) to its caller; called in the caller's thread or task."""

    def ended(self, result: Any, error: BaseException | None) -> None:
        """What the call came to: its result (a stream's final ``Response``) or the error."""


#: Factories called with each call's ``CallStarted``; a factory may return None to skip the call.
CALL_WATCHERS: list[Callable[[CallStarted], CallWatch | None]] = []


def start_call(operation: Any, targets: Sequence[Any]) -> list[CallWatch]:
    started = CallStarted(operation, targets)
    return [w for w in (factory(started) for factory in tuple(CALL_WATCHERS)) if w is not None]


def finish_call(watches: list[CallWatch], result: Any, error: BaseException | None) -> None:
    """Report the call's return; a stream (it has ``_on_end``) reports its outcome when it ends."""
    for w in watches:
        w.returned()
    if error is None and hasattr(result, "_on_end"):

        def on_end(response: Any, failure: BaseException | None) -> None:
            for w in watches:
                w.ended(response, failure)

        result._on_end(on_end)
        return
    for w in watches:
        w.ended(result, error)


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
