"""Shared helpers for reqbed's own tests (one place; tests import from here, never from each other).

- ``tests.support.native``: native-family helpers (``prepared``, ``body_of``, ``refused``);
- ``tests.support.eventstream``: event-stream frame builders and checks;
- ``tests.support.fault_matrix``: the fault matrix of docs/reliability.md, run against the emulator;
- this module: where the data lives (``REPO``, ``RECORDINGS``), the real recordings
  (``recording_files``, ``load_recording``), the anyio backends (``BACKENDS``) and
  ``network_pool`` (the httpx connection pool behind a ``reqbed.Client``'s transport).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

__all__ = [
    "BACKENDS",
    "COUNT_PROMPTS",
    "RECORDINGS",
    "REPO",
    "TESTS",
    "UNKNOWN_MODEL_IDS",
    "WEATHER_TOOL",
    "FakeTime",
    "load_recording",
    "network_pool",
    "recording_files",
]

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
#: The team's real Bedrock exchanges (read in place, beside the checkout; never copied).
RECORDINGS = REPO.parent / "shared" / "bedrock-recordings"

#: ``REQBED_ANYIO_BACKENDS=asyncio`` (or ``trio``) narrows the async tests to one event loop.
BACKENDS = [b for b in os.environ.get("REQBED_ANYIO_BACKENDS", "asyncio,trio").split(",") if b]


def recording_files(pattern: str = "*/*.json") -> list[Path]:
    """Real recorded Bedrock exchanges (empty when ../shared is absent)."""
    base = RECORDINGS / "amazon_bedrock"
    return sorted(base.glob(pattern)) if base.is_dir() else []


def load_recording(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def network_pool(signing_transport: Any) -> Any:
    """The ``httpcore`` pool under a client's signing transport (through a network guard, if any)."""
    inner = signing_transport._inner
    inner = getattr(inner, "inner", inner)  # reqbed.testing's network guard wraps the httpx transport
    return inner._pool


#: Model ids the tests and docs name precisely because no such model exists (refusal tests), or
#: because reqbed has never heard of them (new models are permissive: tests/test_capabilities_permissive.py).
UNKNOWN_MODEL_IDS = frozenset(
    {
        "amazon.nova-2-pro-v1:0",
        "anthropic.claude-opus-5-20270101-v1:0",
        "mistral.magistral-medium-v1:0",
        "us.meta.llama5-scout-instruct-v1:0",
        "meta.llama5-scout-instruct-v1:0",
        "anthropic.claude-9-imaginary-v1:0",
        "amazon.titan-embed-g9",
        "amazon.nova-pro-v9:0",
        "meta.llama9-1b-instruct-v1:0",
        "writer.palmyra-x9-v1:0",
        "us.writer.palmyra-x9-v1:0",
    }
)


class FakeTime:
    """A settable wall clock for ``Clock(FakeTime(t))`` and the emulator (thread-safe)."""

    def __init__(self, t: float) -> None:
        self.t = t
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds


#: A tool, and the prompts CountTokens tests count on both endpoints (system prompt; tools).
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
COUNT_PROMPTS = [
    ("Hello there, how are you?", {"system": "Answer in one word."}),
    ("What is the weather in Paris?", {"tools": [WEATHER_TOOL]}),
]
