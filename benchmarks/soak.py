"""Load and soak against the local emulator (loopback only, bounded in count and time).

    python benchmarks/soak.py                 # both phases with the defaults below
    python benchmarks/soak.py --streams 1000 --calls 10000 --fault-rate 0.05 --concurrency 100
    python benchmarks/soak.py --matrix        # the fault matrix table of docs/reliability.md

Phase 1, concurrent streams: ``--streams`` async streams from one process (anyio task group on
asyncio), all opened and held at the same time (each waits, after its first chunk, until every
other one is open), then read to the end. Checks every text; reports the emulator's peak of open
connections and the client pool's size.

Phase 2, soak: ``--calls`` calls (half streamed, half not) at ``--concurrency`` at a time, with
``--fault-rate`` of them given an emulator fault aimed at that call alone (``inject(match=...)``).
Every call must end in success with the right text, or in the exact reqbed error its fault calls
for. Then: no request holds a pooled connection, the emulator sees 0 open connections once the
client is closed, and the process's RSS grew less than 10 % from after the warm-up (first 10 %).

Not a test (nothing here runs in the default suite); exits non-zero if a check fails.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reqbed
from reqbed._retry import RetryPolicy
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
#: Ends ``stall`` faults; generous, because a busy shared machine (and the emulator in this same
#: process) can leave a healthy answer silent for over a second.
READ_TIMEOUT = 5.0


def rss_mib() -> float:
    """Resident set size now (Linux /proc), else the peak from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_flight(pool: Any) -> int:
    busy = [c for c in pool.connections if not c.is_idle() and not c.is_closed()]
    return max(len(pool._requests), len(busy))


async def pool_of(client: reqbed.Client) -> Any:
    """httpcore's pool behind reqbed's AsyncSigningTransport for this event loop."""
    return (await client._async_transport_for_loop())._inner._pool


def options(emu: Emulator) -> dict[str, Any]:
    return {"provider_options": {**emu.provider_options(), "use_converse": True}}


# -- phase 1 --------------------------------------------------------------------------------------------


async def concurrent_streams(emu: Emulator, n: int) -> dict[str, Any]:
    opened = 0
    all_open = anyio.Event()
    peak_server = 0
    pool_at_peak = 0
    bad: list[str] = []
    async with reqbed.Client(max_connections=n, timeout=httpx.Timeout(60.0, pool=60.0)) as client:
        t0 = time.perf_counter()

        async def one(i: int) -> None:
            nonlocal opened, peak_server, pool_at_peak
            prompt = f"stream {i:05d} of the crowd"
            s = await client.astream_text(MODEL, prompt, **options(emu))
            async with s:
                opened += 1
                peak_server = max(peak_server, emu.open_connections)
                if opened == n:
                    pool_at_peak = len((await pool_of(client)).connections)
                    all_open.set()
                await all_open.wait()
                text = "".join([t async for t in s.text_stream()])
            if text != f"You said: {prompt}":
                bad.append(f"{i}: {text!r}")

        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(one, i)
            with anyio.fail_after(300):
                await all_open.wait()
            t_open = time.perf_counter() - t0
        total = time.perf_counter() - t0
        pool = await pool_of(client)
        pool_size, busy = len(pool.connections), in_flight(pool)
    await wait_closed(emu)
    return {
        "streams": n,
        "all open after s": round(t_open, 2),
        "all read after s": round(total, 2),
        "peak open connections (emulator)": peak_server,
        "pool connections when all were open": pool_at_peak,
        "pool connections at the end (idle ones expire after 5 s)": pool_size,
        "in flight after": busy,
        "wrong texts": len(bad),
        "emulator open connections after close": emu.open_connections,
        "ok": not bad and busy == 0 and peak_server >= n and emu.open_connections == 0,
    }


async def wait_closed(emu: Emulator, limit: float = 10.0) -> None:
    with anyio.move_on_after(limit):
        while emu.open_connections:
            await anyio.sleep(0.02)


# -- phase 2 --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A fault for one call and what the call must end with (``None``: success)."""

    kind: str
    times: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    expect: type[reqbed.ReqbedError] | None = None
    stream_only: bool = False


PLANS = [
    Plan("throttling"),  # retried away
    Plan("throttling", 3, expect=reqbed.ThrottlingError),  # out of retries
    Plan("model_not_ready"),
    Plan("unavailable"),
    Plan("internal", 3, expect=reqbed.ServerError),
    Plan("access_denied", expect=reqbed.AccessDeniedError),
    Plan("not_found", expect=reqbed.ResourceNotFoundError),
    Plan("model_timeout", expect=reqbed.ModelTimeoutError),
    Plan("drop"),
    Plan("drop", 3, expect=reqbed.APIConnectionError),
    Plan("stall", expect=reqbed.RequestTimeoutError),
    Plan("slow", params={"delay": 0.01}),
    Plan("exception_frame", params={"after": 0}, stream_only=True),
    Plan("exception_frame", params={"after": 2}, expect=reqbed.ThrottlingError, stream_only=True),
    Plan("bad_crc", params={"after": 1}, expect=reqbed.EventStreamError, stream_only=True),
    Plan("truncate", params={"after": 3}, expect=reqbed.EventStreamError, stream_only=True),
]


async def one_call(client: reqbed.Client, emu: Emulator, i: int, stream: bool) -> tuple[str, BaseException | None]:
    prompt = f"soak call <{i:06d}> with some words"
    try:
        if stream:
            s = await client.astream_text(MODEL, prompt, **options(emu))
            async with s:
                text = "".join([t async for t in s.text_stream()])
        else:
            text = (await client.agenerate_text(MODEL, prompt, **options(emu))).text
    except reqbed.ReqbedError as e:
        return "", e
    return text, None if text == f"You said: {prompt}" else AssertionError(f"wrong text {text!r}")


async def soak(emu: Emulator, calls: int, rate: float, concurrency: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    plans: dict[int, Plan] = {}
    for i in range(calls):
        if rng.random() < rate:
            stream = i % 2 == 1
            plans[i] = rng.choice([p for p in PLANS if stream or not p.stream_only])
    outcomes: Counter[str] = Counter()
    mismatches: list[str] = []
    limiter = anyio.CapacityLimiter(concurrency)
    warm = max(1, calls // 10)
    rss: dict[str, float] = {"start": rss_mib()}
    done = 0
    policy = RetryPolicy(base=0.05, cap=1.0)  # real jittered sleeps, scaled down to keep the run short
    async with reqbed.Client(
        max_connections=concurrency, timeout=httpx.Timeout(10.0, read=READ_TIMEOUT), retry_policy=policy
    ) as client:
        t0 = time.perf_counter()

        async def run(i: int) -> None:
            nonlocal done
            async with limiter:
                plan = plans.get(i)
                if plan is not None:
                    emu.inject(plan.kind, plan.times, match=f"<{i:06d}>", **plan.params)
                _, err = await one_call(client, emu, i, stream=i % 2 == 1)
                expect = plan.expect if plan else None
                got = type(err) if err is not None else None
                label = f"{plan.kind}x{plan.times}" if plan else "none"
                outcomes[f"{label} -> {got.__name__ if got else 'ok'}"] += 1
                if got is not expect:
                    mismatches.append(f"call {i} ({label}): expected {expect}, got {err!r}")
                done += 1
                if done == warm:
                    gc.collect()
                    rss["after warm-up"] = rss_mib()
                if done % 500 == 0:
                    emu.requests.clear()  # the emulator's request log is not the client's memory

        async with anyio.create_task_group() as tg:
            for i in range(calls):
                tg.start_soon(run, i)
        elapsed = time.perf_counter() - t0
        gc.collect()
        rss["end"] = rss_mib()
        pool = await pool_of(client)
        pool_size, busy = len(pool.connections), in_flight(pool)
    await wait_closed(emu)
    growth = (rss["end"] - rss["after warm-up"]) / rss["after warm-up"] * 100
    faulted = len(plans)
    return {
        "calls": calls,
        "faulted calls": faulted,
        "elapsed s": round(elapsed, 1),
        "calls/s": round(calls / elapsed),
        "outcomes": dict(sorted(outcomes.items(), key=lambda kv: -kv[1])),
        "mismatches": mismatches[:20],
        f"pool connections (max {concurrency})": pool_size,
        "in flight after": busy,
        "emulator open connections after close": emu.open_connections,
        "RSS MiB start / after warm-up / end": (
            round(rss["start"], 1),
            round(rss["after warm-up"], 1),
            round(rss["end"], 1),
        ),
        "RSS growth after warm-up %": round(growth, 2),
        "ok": not mismatches and busy == 0 and emu.open_connections == 0 and growth < 10 and pool_size <= concurrency,
    }


# -- the fault matrix table ---------------------------------------------------------------------------------


def matrix() -> None:
    from tests.fault_matrix import CASES, run_case

    modes = [("sync", False), ("sync", True), ("asyncio", False), ("asyncio", True), ("trio", False), ("trio", True)]
    head = ["fault (injected into one call)"] + [f"{m} {'stream' if s else 'whole'}" for m, s in modes]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    with Emulator() as emu:
        for case in CASES:
            cells = []
            for mode, stream in modes:
                if case.stream_only and not stream:
                    cells.append("n/a")
                    continue
                cells.append(run_case(case, emu, mode, stream).describe())
            print(f"| {case.name} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--fault-rate", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-seconds", type=float, default=900, help="give up (and fail) after this long")
    ap.add_argument("--matrix", action="store_true", help="print the fault matrix table and exit")
    args = ap.parse_args()
    if args.matrix:
        matrix()
        return
    ok = True
    with Emulator(backlog=max(2048, 2 * args.streams)) as emu:

        async def both() -> list[dict[str, Any]]:
            with anyio.fail_after(args.max_seconds):
                first = await concurrent_streams(emu, args.streams) if args.streams else {}
                second = await soak(emu, args.calls, args.fault_rate, args.concurrency, args.seed) if args.calls else {}
            return [first, second]

        for title, result in zip(("concurrent streams", "soak"), anyio.run(both), strict=True):
            if not result:
                continue
            print(f"== {title}")
            for k, v in result.items():
                print(f"  {k}: {v}")
            ok = ok and bool(result["ok"])
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
