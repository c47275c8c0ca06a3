"""``reqbed.map`` vs boto3 ``converse`` in a ``ThreadPoolExecutor`` of the same width, against the same
local emulator (in another process, so its work is not counted as client CPU).

    python benchmarks/bench_map.py [--calls 2000] [--width 64] [--rounds 3]

For each side: throughput (calls per second of wall time) and client CPU per call
(``time.process_time`` of this process over the run, divided by the calls). Medians over
``--rounds``; ratios printed are reqbed / boto3 for throughput (higher is better for reqbed) and
boto3 / reqbed for CPU (higher is better for reqbed). Both sides share the machine with the emulator
process, so throughput is bounded by it too: read the CPU figure as the client's own cost.
Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_client import AKID, MODEL, PROMPT, SECRET, emulator_process


def measure(run: Callable[[], int]) -> tuple[float, float]:
    """(calls per second, CPU seconds per call) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    calls = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return calls / wall, cpu / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import boto3
    from botocore.config import Config

    import reqbed

    prompts = [f"{PROMPT} #{i}" for i in range(args.calls)]
    with emulator_process() as endpoint:
        po = {"endpoint_url": endpoint, "region": "us-east-1", "access_key_id": AKID, "secret_access_key": SECRET,
              "use_converse": True}
        client = reqbed.Client(max_connections=args.width)
        boto = boto3.client(
            "bedrock-runtime", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=AKID,
            aws_secret_access_key=SECRET,
            config=Config(retries={"max_attempts": 1}, max_pool_connections=args.width),
        )

        def rq() -> int:
            result = client.map(f"bedrock:{MODEL}", prompts, concurrency=args.width, max_tokens=200,
                                provider_options=po)
            assert not result.errors, result.errors[:3]
            return len(result)

        def bt() -> int:
            def one(p: str) -> object:
                return boto.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": p}]}],
                                     inferenceConfig={"maxTokens": 200})

            with ThreadPoolExecutor(args.width) as pool:
                return len(list(pool.map(one, prompts)))

        client.map(f"bedrock:{MODEL}", prompts[:100], concurrency=args.width, provider_options=po)  # warm up
        with ThreadPoolExecutor(args.width) as pool:
            list(pool.map(lambda p: boto.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": p}]}]),
                          prompts[:100]))
        r_runs, b_runs = [], []
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            r_runs.append(measure(rq))
            b_runs.append(measure(bt))
        client.close()

    r_tp, r_cpu = statistics.median(t for t, _ in r_runs), statistics.median(c for _, c in r_runs)
    b_tp, b_cpu = statistics.median(t for t, _ in b_runs), statistics.median(c for _, c in b_runs)
    print(f"{args.calls} converse calls, width {args.width}, median of {args.rounds} rounds")
    print(f"throughput:   reqbed.map {r_tp:8.0f} calls/s   boto3 pool {b_tp:8.0f} calls/s   "
          f"reqbed {r_tp / b_tp:.2f}x")
    print(f"CPU per call: reqbed.map {r_cpu * 1e6:8.0f} µs       boto3 pool {b_cpu * 1e6:8.0f} µs       "
          f"reqbed uses {r_cpu / b_cpu:.2f}x of boto3's CPU ({b_cpu / r_cpu:.1f}x less)")


if __name__ == "__main__":
    main()
