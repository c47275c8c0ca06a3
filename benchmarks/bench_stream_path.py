"""The whole bytes -> text path: reqbed's public stream iterator vs the same path on botocore.

    python benchmarks/bench_stream_path.py [--events 2000] [--repeat 7]

Identical bytes, fed in the same network reads (1 KiB), for two kinds of stream:

- ConverseStream: ``contentBlockDelta`` text events (with AWS's random ``"p"`` padding) framed by
  messageStart / contentBlockStop / messageStop / metadata;
- InvokeModelWithResponseStream for gpt-oss: ``chunk`` events whose ``bytes`` is base64 of an OpenAI
  ``chat.completion.chunk``, the last one carrying ``amazon-bedrock-invocationMetrics``.

reqbed: ``StreamResponse`` (the object ``reqbed.stream_text`` returns) over an httpx response whose
body yields those reads; iterate it and join the text chunks. botocore: ``EventStreamBuffer`` fed the
same reads; per event ``json.loads`` (and, for /invoke, base64 + ``json.loads`` of the inner event)
and pick out the text, which is less than reqbed does (no tool calls, usage, finish reason or
completeness check). Both must produce the same text. Medians; ratio = botocore / reqbed.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator

import httpx
from botocore.eventstream import EventStreamBuffer

from reqbed._aws.eventstream import encode_frame
from reqbed._pipeline import prepare
from reqbed._stream import StreamResponse
from reqbed._types import TextChunk

KEYS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
READ = 1024


def _frame(event_type: str, payload: object) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_frame(headers, json.dumps(payload, separators=(",", ":")).encode())


def _pad(rng: random.Random) -> str:
    return "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        for _ in range(rng.randrange(2, 40))
    )


def converse_stream(n: int, rng: random.Random) -> tuple[bytes, str]:
    words = [" " + "".join(rng.choice("abcdefghij") for _ in range(rng.randrange(2, 9))) for _ in range(n)]
    out = [_frame("messageStart", {"role": "assistant", "p": _pad(rng)})]
    out += [_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": w}, "p": _pad(rng)}) for w in words]
    out += [
        _frame("contentBlockStop", {"contentBlockIndex": 0, "p": _pad(rng)}),
        _frame("messageStop", {"stopReason": "end_turn", "p": _pad(rng)}),
        _frame(
            "metadata",
            {
                "usage": {"inputTokens": 10, "outputTokens": n, "totalTokens": 10 + n},
                "metrics": {"latencyMs": 100},
                "p": _pad(rng),
            },
        ),
    ]
    return b"".join(out), "".join(words)


def invoke_stream(n: int, rng: random.Random) -> tuple[bytes, str]:
    words = [" " + "".join(rng.choice("abcdefghij") for _ in range(rng.randrange(2, 9))) for _ in range(n)]

    def chunk(delta: dict[str, object], finish: str | None = None, extra: dict[str, object] | None = None) -> bytes:
        inner = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "openai.gpt-oss-20b-1:0",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **(extra or {}),
        }
        raw = base64.b64encode(json.dumps(inner, separators=(",", ":")).encode()).decode()
        return _frame("chunk", {"bytes": raw, "p": _pad(rng)})

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": w}) for w in words]
    metrics = {
        "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": 10,
            "outputTokenCount": n,
            "invocationLatency": 100,
            "firstByteLatency": 10,
        }
    }
    out.append(chunk({}, "stop", metrics))
    return b"".join(out), "".join(words)


class _Reads(httpx.SyncByteStream):
    def __init__(self, reads: list[bytes]) -> None:
        self._reads = reads

    def __iter__(self) -> Iterator[bytes]:
        yield from self._reads


def reqbed_text(model: str, use_converse: bool, reads: list[bytes]) -> str:
    p = prepare(model, "Hi", {"provider_options": {**KEYS, "use_converse": use_converse}}, stream=True, environ={})
    http = httpx.Response(200, headers={"content-type": "application/vnd.amazon.eventstream"}, stream=_Reads(reads))
    with StreamResponse(p, http) as stream:
        return "".join(c.text for c in stream if isinstance(c, TextChunk))


def botocore_converse_text(reads: list[bytes]) -> str:
    buf, out = EventStreamBuffer(), []
    for r in reads:
        buf.add_data(r)
        for msg in buf:
            if msg.headers.get(":event-type") == "contentBlockDelta":
                delta = json.loads(msg.payload)["delta"]
                if "text" in delta:
                    out.append(delta["text"])
    return "".join(out)


def botocore_invoke_text(reads: list[bytes]) -> str:
    buf, out = EventStreamBuffer(), []
    for r in reads:
        buf.add_data(r)
        for msg in buf:
            if msg.headers.get(":event-type") == "chunk":
                inner = json.loads(base64.b64decode(json.loads(msg.payload)["bytes"]))
                content = inner["choices"][0]["delta"].get("content")
                if content:
                    out.append(content)
    return "".join(out)


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def interleaved(
    ours: Callable[[], object], theirs: Callable[[], object], repeat: int
) -> tuple[list[float], list[float]]:
    """Run times of both sides, alternating, so both see the same machine load."""
    rs: list[float] = []
    bs: list[float] = []
    for _ in range(repeat):
        for fn, out in ((ours, rs), (theirs, bs)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return rs, bs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(7)
    cases = [
        (
            "ConverseStream",
            "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0",
            True,
            converse_stream,
            botocore_converse_text,
        ),
        (
            "InvokeModelWithResponseStream (gpt-oss)",
            "bedrock:openai.gpt-oss-20b-1:0",
            False,
            invoke_stream,
            botocore_invoke_text,
        ),
    ]
    print(f"{args.events} text events per stream, fed in {READ}-byte reads; medians of {args.repeat} "
          "interleaved runs (and the best run of each side)")
    for name, model, converse, build, boto in cases:
        body, text = build(args.events, rng)
        reads = [body[i : i + READ] for i in range(0, len(body), READ)]
        if reqbed_text(model, converse, reads) != text:
            raise SystemExit(f"{name}: reqbed's text differs")
        if boto(reads) != text:
            raise SystemExit(f"{name}: botocore's text differs")
        rs, bs = interleaved(functools.partial(reqbed_text, model, converse, reads), functools.partial(boto, reads),
                             args.repeat)
        r, b = statistics.median(rs), statistics.median(bs)
        n = args.events
        print(
            f"{name:<42} reqbed {r / n * 1e6:6.2f} µs/event   botocore+json {b / n * 1e6:6.2f} µs/event   {b / r:.1f}x"
            f"   (best runs: {min(rs) / n * 1e6:.2f} vs {min(bs) / n * 1e6:.2f} µs/event, {min(bs) / min(rs):.1f}x)"
        )


if __name__ == "__main__":
    main()
