"""The fault matrix: every emulator fault x (sync, async) x (stream, non-stream) -> the outcome.

Shared by tests/test_retry.py (which asserts every cell) and benchmarks/soak.py (which prints the
table measured in docs/reliability.md). One case = one fault injected into one call through a
``Client`` whose retry policy does not sleep and whose read timeout is short (so ``stall`` ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

import reqbed
from reqbed._retry import RetryPolicy
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
PROMPT = "Tell me about the quiet northern lakes"
ANSWER = f"You said: {PROMPT}"
#: Short enough that ``stall`` ends quickly; long enough for ``slow``'s 0.02 s per event on a busy machine.
READ_TIMEOUT = 1.0


@dataclass(frozen=True)
class Case:
    """One fault and the outcome reqbed must produce (``error`` None: the call succeeds)."""

    name: str
    kind: str | None
    times: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    error: type[reqbed.ReqbedError] | None = None
    attempts: int = 1
    stream_only: bool = False
    partial: bool = False  # streams: the error comes after some content reached the caller


CASES = [
    Case("no fault", None),
    Case("throttling once", "throttling", attempts=2),
    Case("throttling, persistent", "throttling", times=3, error=reqbed.ThrottlingError, attempts=3),
    Case("model_not_ready once", "model_not_ready", attempts=2),
    Case("unavailable (503) once", "unavailable", attempts=2),
    Case("unavailable (503), persistent", "unavailable", times=3, error=reqbed.ServiceUnavailableError, attempts=3),
    Case("internal (500) once", "internal", attempts=2),
    Case("internal (500), persistent", "internal", times=3, error=reqbed.ServerError, attempts=3),
    Case("access_denied (403)", "access_denied", error=reqbed.AccessDeniedError),
    Case("not_found (404)", "not_found", error=reqbed.ResourceNotFoundError),
    Case("validation (400)", "validation", error=reqbed.BadRequestError),
    Case("model_timeout (408)", "model_timeout", error=reqbed.ModelTimeoutError),
    Case("drop (no answer) once", "drop", attempts=2),
    Case("drop (no answer), persistent", "drop", times=3, error=reqbed.APIConnectionError, attempts=3),
    Case("stall (read timeout)", "stall", error=reqbed.RequestTimeoutError),
    Case("slow (0.02 s per event)", "slow", params={"delay": 0.02}),
    Case("throttling frame first", "exception_frame", params={"after": 0}, attempts=2, stream_only=True),
    Case(
        "throttling frame after content",
        "exception_frame",
        params={"after": 2},
        error=reqbed.ThrottlingError,
        stream_only=True,
        partial=True,
    ),
    Case(
        "internalServerException frame first",
        "exception_frame",
        params={"after": 0, "exception": "internalServerException"},
        attempts=2,
        stream_only=True,
    ),
    Case(
        "modelStreamErrorException frame first",
        "exception_frame",
        params={"after": 0, "exception": "modelStreamErrorException"},
        error=reqbed.ModelStreamError,
        stream_only=True,
    ),
    Case("bad CRC first", "bad_crc", params={"after": 0}, error=reqbed.EventStreamError, stream_only=True),
    Case(
        "bad CRC after content",
        "bad_crc",
        params={"after": 3},
        error=reqbed.EventStreamError,
        stream_only=True,
        partial=True,
    ),
    Case("truncated body", "truncate", params={"after": 1}, error=reqbed.EventStreamError, stream_only=True),
]


@dataclass
class Outcome:
    error: BaseException | None
    text: str
    chunks_before_error: int
    attempts: int

    def describe(self) -> str:
        if self.error is None:
            return f"ok ({self.attempts} attempt{'s' if self.attempts > 1 else ''})"
        part = f", after {self.chunks_before_error} chunks" if self.chunks_before_error else ""
        return f"{type(self.error).__name__} ({self.attempts} attempt{'s' if self.attempts > 1 else ''}{part})"


def matrix_client() -> reqbed.Client:
    """A client that retries without sleeping and gives up on a silent socket after READ_TIMEOUT."""
    return reqbed.Client(timeout=httpx.Timeout(10.0, read=READ_TIMEOUT), retry_policy=RetryPolicy(random=lambda: 0.0))


def options(emu: Emulator) -> dict[str, Any]:
    return {"provider_options": {**emu.provider_options(), "use_converse": True}}


def _run_sync(client: reqbed.Client, emu: Emulator, stream: bool) -> tuple[BaseException | None, str, int]:
    got: list[str] = []
    try:
        if stream:
            with client.stream_text(MODEL, PROMPT, **options(emu)) as s:
                for chunk in s:
                    if isinstance(chunk, reqbed.TextChunk):
                        got.append(chunk.text)
        else:
            got.append(client.generate_text(MODEL, PROMPT, **options(emu)).text)
    except reqbed.ReqbedError as e:
        return e, "".join(got), len(got)
    return None, "".join(got), len(got)


async def _run_async(client: reqbed.Client, emu: Emulator, stream: bool) -> tuple[BaseException | None, str, int]:
    got: list[str] = []
    try:
        if stream:
            s = await client.astream_text(MODEL, PROMPT, **options(emu))
            async with s:
                async for chunk in s:
                    if isinstance(chunk, reqbed.TextChunk):
                        got.append(chunk.text)
        else:
            got.append((await client.agenerate_text(MODEL, PROMPT, **options(emu))).text)
    except reqbed.ReqbedError as e:
        return e, "".join(got), len(got)
    finally:
        await client.aclose()
    return None, "".join(got), len(got)


def run_case(case: Case, emu: Emulator, mode: str, stream: bool) -> Outcome:
    """Inject ``case``'s fault and make one call; ``mode`` is "sync", "asyncio" or "trio"."""
    emu._faults.clear()
    before = len(emu.requests)
    if case.kind is not None:
        emu.inject(case.kind, case.times, match=PROMPT, **case.params)
    client = matrix_client()
    try:
        if mode == "sync":
            error, text, n = _run_sync(client, emu, stream)
        else:
            error, text, n = anyio.run(_run_async, client, emu, stream, backend=mode)
    finally:
        client.close()
        emu._faults.clear()
    return Outcome(error, text, n if error is not None else 0, len(emu.requests) - before)
