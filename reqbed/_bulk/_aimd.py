"""The adaptive concurrency limit of ``map`` (AIMD, as TCP's congestion window), pure: no clock, no I/O.

- start at ``ceiling`` (the caller's ``concurrency``);
- a throttled attempt halves the limit (never below 1), at most once per round: a throttle from an
  attempt that started before the last decrease is the same congestion, already answered;
- after ``limit`` successes in a row without a decrease, the limit grows by one (slow, additive),
  never above ``ceiling``.

The runner asks ``may_start()`` before it starts a call and reports ``started()`` / ``finished()``;
each attempt takes a ticket (``attempt()``) so that its throttle can be dated (``throttled(ticket)``).
"""

from __future__ import annotations

__all__ = ["Aimd"]


class Aimd:
    __slots__ = ("_decreased_at", "_successes", "_tickets", "ceiling", "in_flight", "limit", "lowest")

    def __init__(self, ceiling: int) -> None:
        if ceiling < 1:
            raise ValueError("ceiling must be at least 1")
        self.ceiling = ceiling
        self.limit = ceiling
        self.lowest = ceiling
        self.in_flight = 0
        self._tickets = 0  # attempts started so far
        self._decreased_at = 0  # the ticket count at the last decrease
        self._successes = 0

    def may_start(self) -> bool:
        return self.in_flight < self.limit

    def started(self) -> None:
        self.in_flight += 1

    def finished(self) -> None:
        self.in_flight -= 1

    def attempt(self) -> int:
        """A ticket for an attempt starting now."""
        self._tickets += 1
        return self._tickets

    def throttled(self, ticket: int) -> bool:
        """An attempt with ``ticket`` was throttled; True when that lowered the limit."""
        self._successes = 0
        if ticket <= self._decreased_at:
            return False
        self._decreased_at = self._tickets
        new = max(1, self.limit // 2)
        changed = new != self.limit
        self.limit = new
        self.lowest = min(self.lowest, new)
        return changed

    def succeeded(self) -> bool:
        """A call succeeded; True when that raised the limit."""
        if self.limit >= self.ceiling:
            return False
        self._successes += 1
        if self._successes < self.limit:
            return False
        self._successes = 0
        self.limit += 1
        return True
