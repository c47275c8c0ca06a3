"""Embedding fan-out: 1,000 texts through ``reqbed.Client.embed`` vs boto3 ``invoke_model`` in a thread pool.

    python benchmarks/bench_embed.py [--texts 1000] [--width 16] [--rounds 3]

Both embed the same ``--texts`` texts with Amazon Titan Text Embeddings v2 (one text a request, so
1,000 requests each) against the same local emulator, run in another process so that its work is
not counted. reqbed: one ``Client.embed`` call with ``max_concurrency=--width`` (its own bounded
thread pool over one connection pool). boto3: ``invoke_model`` per text in a ``ThreadPoolExecutor``
of the same width, one shared client (``max_pool_connections`` = width, no retries), results
decoded with ``json.loads``. Measured per round: wall time and this process's CPU time
(``time.process_time``: every thread of the client side). The two sides' rounds are interleaved
so both see the same machine load; medians over ``--rounds``. Prints the ratios; asserts nothing.
Target: reqbed's client CPU at most 1/2 of boto3's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bench_client import emulator_process  # the emulator in its own process, on loopback

MODEL = "amazon.titan-embed-text-v2:0"
AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"






def measure(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=1000)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

    import boto3
    from botocore.config import Config

    import reqbed

    texts = [f"document number {i}: a short passage about lighthouses and the sea" for i in range(args.texts)]
    with emulator_process() as endpoint:
        po = {"endpoint_url": endpoint, "region": "us-east-1", "access_key_id": AKID, "secret_access_key": SECRET}
        client = reqbed.Client()
        boto = boto3.client(
            "bedrock-runtime", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=AKID,
            aws_secret_access_key=SECRET,
            config=Config(retries={"max_attempts": 1}, max_pool_connections=args.width),
        )  # fmt: skip

        def rq() -> list[list[float | int]]:
            return client.embed(f"bedrock:{MODEL}", texts, max_concurrency=args.width, provider_options=po).vectors

        def bt_one(text: str) -> list[float]:
            out = boto.invoke_model(modelId=MODEL, body=json.dumps({"inputText": text}))
            vector: list[float] = json.loads(out["body"].read())["embedding"]
            return vector

        def bt() -> list[list[float]]:
            with ThreadPoolExecutor(max_workers=args.width) as pool:
                return list(pool.map(bt_one, texts))

        assert rq() == bt(), "both sides must get the same vectors"  # also warms pools and imports
        r_wall, r_cpu, b_wall, b_cpu = [], [], [], []
        for _ in range(args.rounds):
            w, c = measure(rq)
            r_wall.append(w)
            r_cpu.append(c)
            w, c = measure(bt)
            b_wall.append(w)
            b_cpu.append(c)
        client.close()

    rw, rc, bw, bc = (statistics.median(x) for x in (r_wall, r_cpu, b_wall, b_cpu))
    print(f"{args.texts} texts, width {args.width}, median of {args.rounds} rounds")
    print(f"wall time:  reqbed {rw:6.2f} s   boto3 {bw:6.2f} s   reqbed takes {rw / bw:.2f}x of boto3's time")
    print(f"client CPU: reqbed {rc:6.2f} s   boto3 {bc:6.2f} s   reqbed uses {rc / bc:.2f}x of boto3's CPU "
          f"({bc / rc:.1f}x less; target <= 0.50x)")  # fmt: skip


if __name__ == "__main__":
    main()
