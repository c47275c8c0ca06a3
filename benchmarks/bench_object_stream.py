"""CPU of a streamed object: per-chunk cost, linear in the stream, and vs text streaming.

    python benchmarks/bench_object_stream.py [--repeat 5]

The answer is a JSON object (an order with records: ``{"customer": ..., "items": [{"name",
"qty", "note"}, ...]}``) streamed in N pieces of ~8 characters, N = 100 and 10,000 (the document
grows with N, as a longer answer does). Three measurements, medians of ``--repeat`` runs:

1. ``parse``: ``PartialJSON.feed`` per piece plus a snapshot whenever it changed, against
   plain text accumulation (``list.append`` + one ``join``), the incumbent of ``stream_text``'s
   ``.response()``. Per-chunk cost at both sizes: flat means O(total), not a re-parse per chunk.
2. ``re-parse``: the quadratic alternative (parse the whole prefix again per piece), N <= 2,000.
3. ``stream``: the same answer as a ConverseStream body (binary event stream, 1 KiB network
   reads) through ``StreamCore`` (what ``stream_text`` runs per chunk) with and without
   ``ObjectStreamState`` fed each chunk, plus the final validation: the issue's target is
   stream_object <= 1.5x stream_text. Both prepare their request inside the timed run; the
   object plan (``plan_object``) is made once outside it, a per-call cost like the client's set-up.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from reqbed._aws.eventstream import encode_frame
from reqbed._object.partial_json import PartialJSON
from reqbed._object.result import ObjectStreamState
from reqbed._object.shape import plan_object
from reqbed._pipeline import prepare
from reqbed._stream import StreamCore

KEYS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
MODEL = "bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0"
SCHEMA = {
    "type": "object",
    "properties": {
        "customer": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}, "note": {"type": "string"}},
                "required": ["name", "qty", "note"],
            },
        },
    },
    "required": ["customer", "items"],
}
PIECE = 8
READ = 1024


def document(n_pieces: int, rng: random.Random) -> str:
    items: list[dict[str, Any]] = []
    doc = json.dumps({"customer": "Ada Lovelace", "items": items})
    while len(doc) < n_pieces * PIECE:
        word = "".join(rng.choice("abcdefghij") for _ in range(rng.randrange(3, 9)))
        items.append({"name": word, "qty": rng.randrange(1, 99), "note": f"{word} {word}"})
        doc = json.dumps({"customer": "Ada Lovelace", "items": items})
    return doc


def pieces(doc: str, n: int) -> list[str]:
    size = -(-len(doc) // n)
    return [doc[i : i + size] for i in range(0, len(doc), size)]


def timed(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.process_time()  # CPU time: steadier than wall time on a shared, loaded machine
        fn()
        runs.append(time.process_time() - start)
    return statistics.median(runs)


def parse_incremental(parts: list[str]) -> Any:
    parser = PartialJSON()
    last = None
    for p in parts:
        parser.feed(p)
        if parser.changed():
            last = parser.snapshot()
    return last


def accumulate(parts: list[str]) -> str:
    out: list[str] = []
    for p in parts:
        out.append(p)
    return "".join(out)


def reparse(parts: list[str]) -> Any:
    prefix, last = "", None
    for p in parts:
        prefix += p
        parser = PartialJSON()
        parser.feed(prefix)
        last = parser.snapshot()
    return last


def converse_reads(parts: list[str]) -> list[bytes]:
    def frame(event: str, payload: object) -> bytes:
        headers = {":event-type": event, ":content-type": "application/json", ":message-type": "event"}
        return encode_frame(headers, json.dumps(payload, separators=(",", ":")).encode())

    body = frame("messageStart", {"role": "assistant"})
    body += b"".join(frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": p}}) for p in parts)
    body += frame("contentBlockStop", {"contentBlockIndex": 0}) + frame("messageStop", {"stopReason": "end_turn"})
    body += frame("metadata", {"usage": {"inputTokens": 5, "outputTokens": len(parts), "totalTokens": 5 + len(parts)},
                               "metrics": {"latencyMs": 1}})  # fmt: skip
    return [body[i : i + READ] for i in range(0, len(body), READ)]


def stream_text(reads: list[bytes]) -> Any:
    p = prepare(MODEL, "hi", {"provider_options": {**KEYS, "use_converse": True}}, stream=True, environ={})
    core = StreamCore(p)
    for r in reads:
        core.feed(r)
    core.close()
    return core.response()


#: planned once, outside the timed loop: the plan (schema resolution, mode choice) is a per-call cost
#: paid before any chunk, like a client's set-up; the per-chunk figures compare the streamed work
PLAN = plan_object(MODEL, "hi", SCHEMA, {}, stream=True)


def stream_object(reads: list[bytes], plan: Any = PLAN) -> Any:
    p = prepare(MODEL, "hi", {"provider_options": {**KEYS, "use_converse": True}}, stream=True, environ={})
    core, state = StreamCore(p), ObjectStreamState(plan)
    snaps = 0
    for r in reads:
        for chunk in core.feed(r):
            snaps += len(state.feed(chunk))
    for chunk in core.close():
        snaps += len(state.feed(chunk))
    return state.finish(core.response())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(7)
    print(f"pieces of ~{PIECE} chars; medians of {args.repeat} runs; per chunk in microseconds\n")
    print(f"{'chunks':>7} {'doc KiB':>8} {'accumulate':>11} {'incremental':>12} {'ratio':>7} {'re-parse':>10}")
    for n in (100, 1_000, 10_000):
        doc = document(n, rng)
        parts = pieces(doc, n)
        assert parse_incremental(parts) == json.loads(doc)
        acc = timed(lambda parts=parts: accumulate(parts), args.repeat) / len(parts) * 1e6
        inc = timed(lambda parts=parts: parse_incremental(parts), args.repeat) / len(parts) * 1e6
        re = "-"
        if n <= 2_000:
            assert reparse(parts) == json.loads(doc)
            re = f"{timed(lambda parts=parts: reparse(parts), 1) / len(parts) * 1e6:10.1f}"
        print(f"{len(parts):>7} {len(doc) / 1024:>8.1f} {acc:>11.2f} {inc:>12.2f} {inc / acc:>6.0f}x {re:>10}")

    print(
        f"\n{'chunks':>7} {'stream_text':>12} {'stream_object':>14} {'ratio':>7}   (StreamCore, ConverseStream bytes)"
    )
    for n in (100, 10_000):
        doc = document(n, rng)
        reads = converse_reads(pieces(doc, n))
        assert stream_object(reads)[0].object == json.loads(doc)
        text = timed(lambda reads=reads: stream_text(reads), args.repeat) / n * 1e6
        obj = timed(lambda reads=reads: stream_object(reads), args.repeat) / n * 1e6
        print(f"{n:>7} {text:>12.2f} {obj:>14.2f} {obj / text:>6.2f}x")


if __name__ == "__main__":
    main()
