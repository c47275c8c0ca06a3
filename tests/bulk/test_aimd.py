"""The adaptive limit alone (pure): halve on a throttle once per round, grow by one per ``limit``
successes, between 1 and the ceiling."""

from __future__ import annotations

import pytest

from reqbed._bulk._aimd import Aimd


def test_starts_at_the_ceiling_and_halves_on_a_throttle() -> None:
    a = Aimd(64)
    assert a.limit == 64
    assert a.throttled(a.attempt()) is True
    assert a.limit == 32
    assert a.lowest == 32


def test_throttles_of_attempts_started_before_a_decrease_count_once() -> None:
    a = Aimd(64)
    early = [a.attempt() for _ in range(10)]  # ten attempts in flight together
    assert a.throttled(early[0]) is True
    assert [a.throttled(t) for t in early[1:]] == [False] * 9  # the same congestion, answered once
    assert a.limit == 32
    assert a.throttled(a.attempt()) is True  # a throttle after the decrease halves again
    assert a.limit == 16


def test_never_below_one() -> None:
    a = Aimd(4)
    for _ in range(5):
        a.throttled(a.attempt())
    assert a.limit == 1
    assert a.lowest == 1


def test_grows_by_one_after_limit_successes_never_above_the_ceiling() -> None:
    a = Aimd(8)
    a.throttled(a.attempt())
    assert a.limit == 4
    assert [a.succeeded() for _ in range(4)] == [False, False, False, True]
    assert a.limit == 5
    for _ in range(100):
        a.succeeded()
    assert a.limit == 8
    assert a.succeeded() is False
    assert a.limit == 8


def test_a_throttle_restarts_the_success_count() -> None:
    a = Aimd(8)
    a.throttled(a.attempt())  # 4
    for _ in range(3):
        a.succeeded()
    a.throttled(a.attempt())  # 2, count restarts
    assert a.limit == 2
    assert a.succeeded() is False
    assert a.succeeded() is True
    assert a.limit == 3


def test_slots() -> None:
    a = Aimd(2)
    assert a.may_start()
    a.started()
    a.started()
    assert not a.may_start()
    a.throttled(a.attempt())  # limit 1, two in flight: none may start until both end
    a.finished()
    assert not a.may_start()
    a.finished()
    assert a.may_start()


def test_ceiling_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ceiling"):
        Aimd(0)
