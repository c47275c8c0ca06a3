"""The default client is safe across threads, across event loops (one after another and at the same
time), and under trio; retries and faults aimed at some calls never disturb the others."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest

import reqbed
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


def sync_call(emu: Emulator, i: int) -> str:
    prompt = f"thread call {i}"
    if i % 2:
        with reqbed.stream_text(MODEL, prompt, provider_options=po(emu)) as s:
            return "".join(s.text_stream())
    return reqbed.generate_text(MODEL, prompt, provider_options=po(emu)).text


async def async_call(emu: Emulator, i: int, tag: str) -> str:
    prompt = f"{tag} call {i}"
    if i % 2:
        s = await reqbed.astream_text(MODEL, prompt, provider_options=po(emu))
        async with s:
            return "".join([t async for t in s.text_stream()])
    return (await reqbed.agenerate_text(MODEL, prompt, provider_options=po(emu))).text


async def many(emu: Emulator, tag: str, n: int = 20) -> list[str]:
    out: list[str] = [""] * n

    async def one(i: int) -> None:
        out[i] = await async_call(emu, i, tag)

    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    return out


def expected(tag: str, n: int = 20) -> list[str]:
    return [f"You said: {tag} call {i}" for i in range(n)]


def test_default_client_across_threads(emulator: Emulator) -> None:
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: sync_call(emulator, i), range(40)))
    assert got == [f"You said: thread call {i}" for i in range(40)]


def test_default_client_across_threads_with_faults(emulator: Emulator) -> None:
    """Every fourth call is throttled once: each retries alone and every answer is still its own."""
    for i in range(0, 40, 4):
        emulator.inject("throttling", 1, match=f"thread call {i}", retry_after=0.01)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: sync_call(emulator, i), range(40)))
    assert got == [f"You said: thread call {i}" for i in range(40)]
    assert len(emulator.requests) == 50


def test_default_client_on_event_loops_one_after_another(emulator: Emulator) -> None:
    assert asyncio.run(many(emulator, "first loop")) == expected("first loop")
    assert asyncio.run(many(emulator, "second loop")) == expected("second loop")
    assert anyio.run(many, emulator, "trio run", backend="trio") == expected("trio run")
    assert asyncio.run(many(emulator, "third loop")) == expected("third loop")


def test_default_client_on_loops_in_parallel_threads(emulator: Emulator) -> None:
    """asyncio loops and trio runs in several threads at once, with sync calls beside them."""
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def run(tag: str, backend: str) -> None:
        try:
            results[tag] = anyio.run(many, emulator, tag, backend=backend)
        except BaseException as e:  # collected and re-raised in the test thread
            errors.append(e)

    threads = [
        threading.Thread(target=run, args=(f"{backend} thread {k}", backend))
        for k in range(3)
        for backend in ("asyncio", "trio")
    ]
    for t in threads:
        t.start()
    sync_answers = [sync_call(emulator, i) for i in range(6)]
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sync_answers == [f"You said: thread call {i}" for i in range(6)]
    for tag, got in results.items():
        assert got == expected(tag)
    assert len(results) == 6


@pytest.mark.anyio
async def test_many_concurrent_calls_in_one_loop(emulator: Emulator) -> None:
    """Under the test's own backend (asyncio and trio)."""
    assert await many(emulator, "task group", 50) == expected("task group", 50)


@pytest.mark.anyio
async def test_concurrent_calls_with_faults_in_one_loop(emulator: Emulator) -> None:
    for i in range(0, 30, 3):
        emulator.inject("exception_frame", 1, match=f"faulty call {i}", after=0, message="slow down")
    for i in range(1, 30, 3):
        emulator.inject("unavailable", 1, match=f"faulty call {i}", retry_after=0.01)
    assert await many(emulator, "faulty", 30) == expected("faulty", 30)


@pytest.mark.anyio
async def test_aclose_finishes_the_loops_pool_guard(emulator: Emulator) -> None:
    """``aclose`` closes this loop's pool through its guard, leaving no suspended async generator
    behind (one garbage-collected unfinished is a ResourceWarning under trio)."""
    client = reqbed.Client()
    await client.agenerate_text(MODEL, "hi", provider_options=emulator.provider_options())
    (pool,) = list(client._async.values())
    assert pool.guard.ag_frame is not None  # started and suspended, waiting for the loop to end
    await client.aclose()
    assert pool.guard.ag_frame is None  # finished: its finally closed the transport
    assert not client._async
