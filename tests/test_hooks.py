"""Attempt events (``reqbed._hooks``): one start, one end and, after an error, one decision per attempt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import reqbed
from reqbed import _hooks
from reqbed._hooks import AttemptEnded, AttemptStarted, Event
from reqbed._retry import RetryPolicy
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
OTHER = "bedrock:amazon.nova-lite-v1:0"


@pytest.fixture
def events() -> Iterator[list[Event]]:
    seen: list[Event] = []
    _hooks.OBSERVERS.append(seen.append)
    try:
        yield seen
    finally:
        _hooks.OBSERVERS.remove(seen.append)


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


def fast() -> reqbed.Client:
    return reqbed.Client(retry_policy=RetryPolicy(random=lambda: 0.25))


def shape(events: list[Event]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for e in events:
        if isinstance(e, AttemptStarted):
            out.append(("start", e.target, e.attempt))
        elif isinstance(e, AttemptEnded):
            out.append(("end", e.target, e.attempt, type(e.error).__name__ if e.error else None))
        else:
            out.append((e.action, e.target, e.attempt, e.delay, e.fallback_to))
    return out


def test_throttled_then_ok(emulator: Emulator, events: list[Event]) -> None:
    emulator.inject("throttling", 1, match="hooks throttled")
    with fast() as c:
        assert c.generate_text(MODEL, "hooks throttled", provider_options=po(emulator)).text
    assert shape(events) == [
        ("start", MODEL, 1),
        ("end", MODEL, 1, "ThrottlingError"),
        ("retry", MODEL, 1, 0.125, None),  # full jitter: 0.25 * min(20, 0.5 * 2**0)
        ("start", MODEL, 2),
        ("end", MODEL, 2, None),
    ]
    assert isinstance(events[1], AttemptEnded)
    assert isinstance(events[1].error, reqbed.ThrottlingError)


@pytest.mark.anyio
async def test_fallback(emulator: Emulator, events: list[Event]) -> None:
    marker = f"hooks fallback {len(emulator.requests)}"
    emulator.inject("not_found", 1, match=marker)
    async with fast() as c:
        r = await c.agenerate_text(MODEL, marker, provider_options=po(emulator), fallbacks=[{"model": OTHER}])
    assert r.served_by == OTHER
    assert shape(events) == [
        ("start", MODEL, 1),
        ("end", MODEL, 1, "ResourceNotFoundError"),
        ("fallback", MODEL, 1, None, OTHER),
        ("start", OTHER, 1),
        ("end", OTHER, 1, None),
    ]
    assert [e.index for e in events if isinstance(e, AttemptStarted)] == [0, 1]


def test_give_up(emulator: Emulator, events: list[Event]) -> None:
    emulator.inject("validation", 1, match="hooks give up")
    with fast() as c, pytest.raises(reqbed.BadRequestError):
        c.generate_text(MODEL, "hooks give up", provider_options=po(emulator), fallbacks=[{"model": OTHER}])
    assert shape(events) == [
        ("start", MODEL, 1),
        ("end", MODEL, 1, "BadRequestError"),
        ("give_up", MODEL, 1, None, None),
    ]


def test_no_observer_no_event(emulator: Emulator) -> None:
    assert _hooks.OBSERVERS == []
    with fast() as c:
        assert c.generate_text(MODEL, "hooks none", provider_options=po(emulator)).text


def test_events_carry_no_secret(emulator: Emulator, events: list[Event]) -> None:
    options = po(emulator)
    emulator.inject("throttling", 1, match="hooks secret")
    with fast() as c:
        c.generate_text(MODEL, "hooks secret", provider_options=options)
    text = repr(events)
    assert options["secret_access_key"] not in text
    assert options["access_key_id"] not in text
