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
event is built while the list is empty. Events hold no secrets: target labels and reqbed errors,
whose messages never carry credentials.

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
    "start_call",
]


@dataclass(frozen=True)
class AttemptStarted:
    target: str
    index: int
    attempt: int


@dataclass(frozen=True)
class AttemptEnded:
    target: str
    index: int
    attempt: int
    error: ReqbedError | None = None


@dataclass(frozen=True)
class RetryDecision:
    target: str
    index: int
    attempt: int
    action: Literal["retry", "fallback", "give_up"]
    delay: float | None = None
    fallback_to: str | None = None


Event = AttemptStarted | AttemptEnded | RetryDecision
Observer = Callable[[Event], None]

#: The registered observers, called with every event in order.
OBSERVERS: list[Observer] = []


def emit(event: Event) -> None:
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
