"""A dedicated emulator for the bulk tests, so that its open-connection count is theirs alone."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from reqbed.testing import Emulator


@pytest.fixture(scope="module")
def _bulk_emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(_bulk_emulator: Emulator) -> Iterator[Emulator]:
    _bulk_emulator.reset()
    yield _bulk_emulator
    _bulk_emulator.clear_faults()


def connections_closed(emu: Emulator, within: float = 10.0) -> bool:
    """Whether the emulator's open connections drop to 0 (the server notices a close a moment later)."""
    end = time.monotonic() + within
    while emu.open_connections and time.monotonic() < end:
        time.sleep(0.02)
    return emu.open_connections == 0
