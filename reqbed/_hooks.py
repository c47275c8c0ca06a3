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
event is built while the list is empty. Events hold no secrets: target labels and reqbed errors,
whose messages never carry credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ._errors import ReqbedError

__all__ = ["OBSERVERS", "AttemptEnded", "AttemptStarted", "Event", "Observer", "RetryDecision", "emit"]


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
