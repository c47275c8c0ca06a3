"""Call events (``reqbed._hooks.CALL_WATCHERS``): one start per call, ``returned`` in the caller, then the outcome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import reqbed
from reqbed import _hooks
from reqbed.testing import Emulator

MODEL = "bedrock:amazon.nova-lite-v1:0"


class Watch:
    def __init__(self, log: list[tuple[Any, ...]], started: _hooks.CallStarted) -> None:
        self.log = log
        log.append(("start", type(started.operation).__name__, [t.served_by for t in started.targets]))

    def returned(self) -> None:
        self.log.append(("returned",))

    def ended(self, result: Any, error: BaseException | None) -> None:
        self.log.append(("ended", type(result).__name__, type(error).__name__ if error else None))


@pytest.fixture
def log() -> Iterator[list[tuple[Any, ...]]]:
    seen: list[tuple[Any, ...]] = []

    def factory(started: _hooks.CallStarted) -> Watch:
        return Watch(seen, started)

    _hooks.CALL_WATCHERS.append(factory)
    try:
        yield seen
    finally:
        _hooks.CALL_WATCHERS.remove(factory)


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


@pytest.mark.anyio
async def test_a_call(emulator: Emulator, log: list[tuple[Any, ...]]) -> None:
    async with reqbed.Client() as c:
        await c.agenerate_text(MODEL, "calls", provider_options=po(emulator))
    assert log == [("start", "GenerateText", [MODEL]), ("returned",), ("ended", "Response", None)]


def test_a_failed_call(emulator: Emulator, log: list[tuple[Any, ...]]) -> None:
    emulator.inject("validation", 1, match="calls refused")
    with reqbed.Client() as c, pytest.raises(reqbed.BadRequestError):
        c.generate_text(MODEL, "calls refused", provider_options=po(emulator))
    assert log == [("start", "GenerateText", [MODEL]), ("returned",), ("ended", "NoneType", "BadRequestError")]


def test_bad_input_is_no_call(log: list[tuple[Any, ...]]) -> None:
    with reqbed.Client() as c, pytest.raises(reqbed.ValidationError):
        c.generate_text(MODEL, "x", max_tokens=-1)
    assert log == []


def test_a_stream_ends_when_read(emulator: Emulator, log: list[tuple[Any, ...]]) -> None:
    with reqbed.Client() as c:
        stream = c.stream_text(MODEL, "calls stream", provider_options=po(emulator))
        assert log == [("start", "StreamText", [MODEL]), ("returned",)]
        with stream:
            stream.response()
        stream.close()  # once only
    assert log[2:] == [("ended", "Response", None)]


def test_a_stream_closed_early(emulator: Emulator, log: list[tuple[Any, ...]]) -> None:
    with reqbed.Client() as c, c.stream_text(MODEL, "calls stream closed " * 30, provider_options=po(emulator)) as s:
        next(iter(s))
    assert log[2:] == [("ended", "NoneType", None)]


def test_no_watcher_no_call_event(emulator: Emulator) -> None:
    assert _hooks.CALL_WATCHERS == []
    with reqbed.Client() as c:
        assert c.generate_text(MODEL, "calls none", provider_options=po(emulator)).text
