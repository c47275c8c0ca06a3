"""Benchmark: reqbed's ``EventStreamDecoder`` against botocore's ``EventStreamBuffer``.

Both decoders get byte-for-byte identical input: ConverseStream-like ``contentBlockDelta`` frames of
150-300 bytes (headers ``:event-type`` / ``:content-type`` / ``:message-type``, a JSON payload with AWS's
random ``"p"`` padding field), as a 2,000-frame stream and as a 10 MB stream, fed in 1 KiB reads, 16 KiB
reads, one read per frame (how Bedrock's chunked bodies tend to arrive) and as one whole body.

Run from a checkout (not a pytest test)::

    python benchmarks/bench_eventstream.py            # ~20-30 s
    python benchmarks/bench_eventstream.py --quick    # skips botocore's quadratic whole 10 MB body

MB are 10^6 bytes. Times are the best of several runs (botocore's whole 10 MB body: one run, capped).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botocore import __version__ as botocore_version
from botocore.eventstream import EventStreamBuffer

from reqbed._aws.eventstream import EventStreamDecoder, encode_frame

KIB = 1024
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "Bedrock", "streams", "tokens"]
BOTOCORE_CAP_S = 30.0  # botocore's whole 10 MB body is quadratic: stop it after this long


def bedrock_like_frames(count: int | None = None, min_bytes: int = 0, seed: int = 7) -> list[bytes]:
    """ConverseStream contentBlockDelta frames of 150-300 bytes (``count`` of them, or ``min_bytes``)."""
    rng = random.Random(seed)
    headers = {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    frames: list[bytes] = []
    size = 0
    while (count is not None and len(frames) < count) or (count is None and size < min_bytes):
        target = rng.randint(150, 300)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        event = {"contentBlockIndex": 0, "delta": {"text": text}, "p": ""}
        base = len(encode_frame(headers, json.dumps(event, separators=(",", ":")).encode()))
        event["p"] = (PADDING * 8)[: max(0, target - base)]  # AWS pads with a prefix of this alphabet
        frame = encode_frame(headers, json.dumps(event, separators=(",", ":")).encode())
        frames.append(frame)
        size += len(frame)
    return frames


def split(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def run_reqbed(pieces: Sequence[bytes]) -> int:
    decoder = EventStreamDecoder()
    n = 0
    for piece in pieces:
        n += len(decoder.feed(piece))
    decoder.close()
    return n


def run_botocore(pieces: Sequence[bytes], cap_s: float | None = None) -> tuple[int, bool]:
    """Returns (frames decoded, whether the time cap stopped it)."""
    buffer = EventStreamBuffer()
    n = 0
    start = time.perf_counter()
    for piece in pieces:
        buffer.add_data(piece)
        for _ in buffer:
            n += 1
            if cap_s is not None and n % 512 == 0 and time.perf_counter() - start > cap_s:
                return n, True
    return n, False


def best_of(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_both(ours: Callable[[], object], theirs: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Best time of each over ``rounds`` interleaved runs, so both see the same machine load."""
    ours_t, theirs_t = [], []
    for _ in range(rounds):
        ours_t.append(best_of(ours, 3))
        theirs_t.append(best_of(theirs, 1))
    return min(ours_t), min(theirs_t)


def row(label: str, nbytes: int, nframes: int, ours: float, theirs: float | None, note: str = "") -> None:
    ours_txt = f"{nbytes / ours / 1e6:8.1f} MB/s {ours / nframes * 1e6:6.2f} µs/frame"
    if theirs is None:
        print(f"  {label:<22} reqbed {ours_txt} | botocore {'(not run)':>28} |")
        return
    theirs_txt = f"{nbytes / theirs / 1e6:8.1f} MB/s {theirs / nframes * 1e6:7.2f} µs/frame"
    print(f"  {label:<22} reqbed {ours_txt} | botocore {theirs_txt} | {theirs / ours:6.1f}x {note}")


def check_identical(pieces: Sequence[bytes]) -> None:
    decoder = EventStreamDecoder()
    buffer = EventStreamBuffer()
    ours, theirs = [], []
    for piece in pieces:
        ours.extend((dict(f.headers), f.payload) for f in decoder.feed(piece))
        buffer.add_data(piece)
        theirs.extend((dict(m.headers), m.payload) for m in buffer)
    decoder.close()
    assert ours == theirs, "the decoders disagree"


def bench_stream(title: str, frames: list[bytes], *, quick: bool) -> None:
    body = b"".join(frames)
    n = len(frames)
    check_identical(split(body, 16 * KIB))
    print(f"\n{title}: {n:,} frames, {len(body):,} bytes (mean {len(body) / n:.0f} B/frame)")
    big = len(body) > 2_000_000
    rounds = 3 if big else 8
    modes: list[tuple[str, list[bytes]]] = [
        ("1 KiB reads", split(body, KIB)),
        ("16 KiB reads", split(body, 16 * KIB)),
        ("one read per frame", frames),
        ("whole body", [body]),
    ]
    for label, pieces in modes:
        assert run_reqbed(pieces) == n
        if label == "whole body" and big:
            ours = best_of(lambda p=pieces: run_reqbed(p), 5)
            if quick:
                row(label, len(body), n, ours, None)
                continue
            start = time.perf_counter()
            done, capped = run_botocore(pieces, cap_s=BOTOCORE_CAP_S)
            theirs = time.perf_counter() - start
            if capped:
                print(
                    f"  {label:<22} botocore stopped after {theirs:.1f} s (cap) with {done:,}/{n:,} frames "
                    f"decoded; it is quadratic on a whole body. reqbed: {ours * 1e3:.1f} ms for all."
                )
                continue
            row(label, len(body), n, ours, theirs, "(botocore: 1 run; quadratic)")
            continue
        assert run_botocore(pieces)[0] == n
        ours, theirs = best_of_both(lambda p=pieces: run_reqbed(p), lambda p=pieces: run_botocore(p), rounds)
        row(label, len(body), n, ours, theirs)


def bench_linearity(frames_10mb: list[bytes], *, quick: bool) -> None:
    print("\nWhole-body feeds, 1 MB vs 10 MB (a linear decoder takes ~10x as long for 10x the bytes):")
    body10 = b"".join(frames_10mb)
    cut, total = 0, 0
    while total < 1_000_000:
        total += len(frames_10mb[cut])
        cut += 1
    body1 = b"".join(frames_10mb[:cut])
    t1, t10 = best_of_both(lambda: run_reqbed([body1]), lambda: run_reqbed([body10]), 8)
    print(
        f"  reqbed    1 MB: {t1 * 1e3:7.1f} ms   10 MB: {t10 * 1e3:7.1f} ms   ratio {t10 / t1:5.1f}x "
        f"(per frame {t1 / cut * 1e6:.2f} vs {t10 / len(frames_10mb) * 1e6:.2f} µs)"
    )
    sizes = [1_000_000, 2_000_000, 4_000_000]
    times = []
    for size in sizes:
        prefix, acc = [], 0
        for frame in frames_10mb:
            if acc >= size:
                break
            prefix.append(frame)
            acc += len(frame)
        times.append(best_of(lambda p=prefix: run_botocore([b"".join(p)]), 1 if quick else 2))
    print(
        "  botocore  "
        + "   ".join(f"{s // 1_000_000} MB: {t * 1e3:7.1f} ms" for s, t in zip(sizes, times, strict=True))
        + f"   (4 MB / 1 MB = {times[2] / times[0]:.1f}x: quadratic)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip botocore's whole 10 MB body (seconds)")
    args = parser.parse_args()
    print(
        f"reqbed EventStreamDecoder vs botocore {botocore_version} EventStreamBuffer; "
        f"Python {platform.python_version()} on {platform.machine()}"
    )
    started = time.perf_counter()
    small = bedrock_like_frames(count=2000)
    sizes = [len(f) for f in small]
    assert min(sizes) >= 150, min(sizes)
    assert max(sizes) <= 300, max(sizes)
    bench_stream("Bedrock-like stream", small, quick=args.quick)
    large = bedrock_like_frames(min_bytes=10_000_000, seed=11)
    bench_stream("10 MB stream", large, quick=args.quick)
    bench_linearity(large, quick=args.quick)
    print(f"\n(total {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
