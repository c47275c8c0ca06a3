"""``reqbed.map`` / ``amap`` against the emulator over a real socket: every row once, in input order,
failures in place, concurrency that drops under throttling and recovers, no leaked connections.

The big run (``test_every_row_once_in_order_under_throttling``) takes ``REQBED_BULK_ROWS`` rows: 1,000
in the default suite, 10,000 in ``nox -s bulk``."""

from __future__ import annotations

import os
from typing import Any

import anyio
import pytest

import reqbed
from reqbed.testing import Emulator
from tests.bulk.conftest import connections_closed

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
ROWS = int(os.environ.get("REQBED_BULK_ROWS", "1000"))


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


def throttle_rows(emu: Emulator, rows: range) -> list[int]:
    """Throttle each of ``rows`` once (quick ``Retry-After``); the rows hit."""
    for i in rows:
        emu.inject("throttling", 1, match=f'row {i}"', retry_after=0.01)
    return list(rows)


def bodies_per_row(emu: Emulator, n: int) -> list[int]:
    counts = [0] * n
    for r in emu.requests:
        text = r["body"].decode() if isinstance(r["body"], bytes) else str(r["body"])
        start = text.index('"row ') + 5
        counts[int(text[start : text.index('"', start)])] += 1
    return counts


def test_every_row_once_in_order_under_throttling(emu: Emulator) -> None:
    """5 % of the rows throttled (every tenth row of the first half): the limit drops from 64, then
    grows back once the throttling stops; every row is answered once, in order."""
    hit = throttle_rows(emu, range(0, ROWS // 2, 10))
    with reqbed.Client() as client:
        result = client.map(MODEL, [f"row {i}" for i in range(ROWS)], concurrency=64, provider_options=po(emu))
    assert isinstance(result, reqbed.MapResult)
    assert isinstance(result, list)
    assert [r.text for r in result] == [f"You said: row {i}" for i in range(ROWS)]  # type: ignore[union-attr]
    s = result.stats
    assert (s.total, s.succeeded, s.failed) == (ROWS, ROWS, 0)
    assert s.throttles == len(hit) == ROWS // 20
    assert s.retries == len(hit)
    assert s.attempts == ROWS + len(hit)
    if s.attempts <= 10_000:  # the emulator keeps the last 10,000 requests only
        assert len(emu.requests) == s.attempts
        assert bodies_per_row(emu, ROWS) == [2 if i in set(hit) else 1 for i in range(ROWS)]
    # the limit dropped under throttling, and grew back after it
    assert s.concurrency == 64
    assert s.lowest_concurrency < 64 // 4
    limits = [limit for _, limit in s.concurrency_changes]
    lowest_at = limits.index(min(limits))
    assert max(limits[lowest_at:]) > s.lowest_concurrency
    assert s.final_concurrency > s.lowest_concurrency
    assert all(1 <= limit <= 64 for limit in limits)
    assert s.input_tokens > 0
    assert s.output_tokens > 0
    assert s.cost > 0
    assert connections_closed(emu)


def test_no_throttling_keeps_the_ceiling(emu: Emulator) -> None:
    result = reqbed.map(MODEL, [f"row {i}" for i in range(50)], concurrency=8, provider_options=po(emu))
    assert result.stats.concurrency_changes == []
    assert result.stats.final_concurrency == result.stats.lowest_concurrency == 8
    assert result.errors == []


@pytest.mark.anyio
async def test_amap_in_order_with_failures_in_place(emu: Emulator) -> None:
    throttle_rows(emu, range(0, 60, 6))
    emu.inject("validation", 1, match='row 7"')
    emu.inject("access_denied", 1, match='row 42"')
    async with reqbed.Client() as client:
        result = await client.amap(MODEL, [f"row {i}" for i in range(60)], concurrency=16, provider_options=po(emu))
    assert [i for i, _ in result.errors] == [7, 42]
    assert isinstance(result[7], reqbed.BadRequestError)
    assert isinstance(result[42], reqbed.AccessDeniedError)
    assert [r.text for i, r in enumerate(result) if i not in (7, 42)] == [  # type: ignore[union-attr]
        f"You said: row {i}" for i in range(60) if i not in (7, 42)
    ]
    assert (result.stats.succeeded, result.stats.failed, result.stats.throttles) == (58, 2, 10)
    assert connections_closed(emu)


@pytest.mark.anyio
async def test_module_amap(emu: Emulator) -> None:
    result = await reqbed.amap(MODEL, (f"row {i}" for i in range(20)), concurrency=4, provider_options=po(emu))
    assert [r.text for r in result] == [f"You said: row {i}" for i in range(20)]  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_return_exceptions_false_raises_the_first_and_cancels_the_rest(emu: Emulator) -> None:
    emu.inject("access_denied", 1, match='row 3"')
    async with reqbed.Client() as client:
        with pytest.raises(reqbed.AccessDeniedError):
            await client.amap(
                MODEL,
                [f"row {i}" for i in range(400)],
                concurrency=4,
                return_exceptions=False,
                provider_options=po(emu),
            )
    assert len(emu.requests) < 400  # the rest were never sent
    assert connections_closed(emu)


def test_sync_return_exceptions_false(emu: Emulator) -> None:
    emu.inject("not_found", 1, match='row 0"')
    with pytest.raises(reqbed.ResourceNotFoundError):
        reqbed.map(
            MODEL, [f"row {i}" for i in range(200)], concurrency=2, return_exceptions=False, provider_options=po(emu)
        )
    assert len(emu.requests) < 200


def test_on_progress_reports_each_call(emu: Emulator) -> None:
    emu.inject("access_denied", 1, match='row 5"')
    seen: list[reqbed.MapProgress] = []
    result = reqbed.map(
        MODEL, [f"row {i}" for i in range(30)], concurrency=4, on_progress=seen.append, provider_options=po(emu)
    )
    assert [p.done for p in seen] == list(range(1, 31))
    assert seen[-1].failed == 1
    assert seen[-1].total == 30
    assert all(0 <= p.in_flight <= 4 and p.concurrency == 4 for p in seen)
    assert seen[-1].input_tokens == result.stats.input_tokens > 0
    assert seen[-1].output_tokens == result.stats.output_tokens > 0
    assert seen[-1].cost == result.stats.cost > 0


def test_a_bad_prompt_fails_in_place_before_it_is_sent(emu: Emulator) -> None:
    result = reqbed.map(MODEL, ["row 0", 12345, "row 2"], concurrency=2, provider_options=po(emu))
    assert isinstance(result[1], reqbed.ValidationError)
    assert [result[0].text, result[2].text] == ["You said: row 0", "You said: row 2"]  # type: ignore[union-attr]
    assert len(emu.requests) == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 2.5}, "concurrency"),
        ({"return_exceptions": "yes"}, "return_exceptions"),
        ({"operation": "chat"}, "operation"),
    ],
)
def test_bad_arguments_raise_before_any_request(emu: Emulator, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(reqbed.ValidationError, match=field):
        reqbed.map(MODEL, ["row 0"], provider_options=po(emu), **kwargs)
    assert emu.requests == []


def test_empty_input(emu: Emulator) -> None:
    result = reqbed.map(MODEL, [], provider_options=po(emu))
    assert result == []
    assert result.stats.total == 0


def test_map_from_a_thread_with_a_running_event_loop(emu: Emulator) -> None:
    """The sync ``map`` runs blocking calls in its own threads, so it works (blocking) inside async code too."""

    async def main() -> list[str]:
        result = reqbed.map(MODEL, ["row 0", "row 1"], provider_options=po(emu))
        return [r.text for r in result]  # type: ignore[union-attr]

    assert anyio.run(main) == ["You said: row 0", "You said: row 1"]


def test_operation_object(emu: Emulator) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    result = reqbed.map(MODEL, ["a person", "another"], operation="object", schema=schema, provider_options=po(emu))
    assert result.errors == []
    assert all(isinstance(r.object, dict) for r in result)  # type: ignore[union-attr]


def test_operation_embed(emu: Emulator) -> None:
    result = reqbed.map(
        "bedrock:amazon.titan-embed-text-v2:0",
        ["one", "two", "three"],
        operation="embed",
        provider_options=emu.provider_options(),
    )
    assert result.errors == []
    assert [len(r.vectors) for r in result] == [1, 1, 1]  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_request_body_iterates_without_an_async_generator() -> None:
    """A cancelled send leaves nothing for trio to report (see ``_transport.RequestBody``)."""
    import inspect

    from reqbed._transport import RequestBody

    body = RequestBody(b"abc")
    it = body.__aiter__()
    assert not inspect.isasyncgen(it)
    assert [part async for part in body] == [b"abc"]
    assert list(body) == [b"abc"]


def test_a_raising_on_progress_stops_the_sync_map(emu: Emulator) -> None:
    def boom(p: reqbed.MapProgress) -> None:
        raise RuntimeError("progress bar broke")

    with pytest.raises(RuntimeError, match="progress bar broke"):
        reqbed.map(MODEL, [f"row {i}" for i in range(100)], concurrency=4, on_progress=boom, provider_options=po(emu))
    assert len(emu.requests) < 100


@pytest.mark.anyio
async def test_a_raising_on_progress_stops_amap(emu: Emulator) -> None:
    def boom(p: reqbed.MapProgress) -> None:
        raise RuntimeError("progress bar broke")

    with pytest.raises(RuntimeError, match="progress bar broke"):
        await reqbed.amap(
            MODEL, [f"row {i}" for i in range(100)], concurrency=4, on_progress=boom, provider_options=po(emu)
        )
    assert len(emu.requests) < 100
