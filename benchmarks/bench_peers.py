"""The same Converse call through reqbed and every Python peer, against the same emulator.

    nox -s peers                      # installs the peers in the session's own venv, then runs this
    python benchmarks/bench_peers.py [--calls 100] [--streams 1000] [--peers reqbed,boto3,...]

Peers: boto3, aiobotocore, the anthropic SDK's ``AnthropicBedrock`` (Claude only: ``/invoke``
with the Messages body, the SDK's own path), LiteLLM (``bedrock/converse/...``) and pydantic-ai's
``BedrockConverseModel`` (on a boto3 client). Each peer runs in a fresh interpreter against one
emulator process (one event-stream frame per HTTP chunk, as Bedrock sends) and reports:

- cold start: import + client + first answer, measured inside the process (``perf_counter``);
- client CPU per non-streaming call (``time.process_time``, median of 5 batches, after warm-up);
- client CPU per streamed call read to the end;
- peak RSS (``ru_maxrss``) with 1,000 streams open at once, where the peer can hold them
  (reqbed and aiobotocore: concurrent tasks; boto3: 1,000 responses opened in turn and held).

Ratios are to reqbed measured in the same run (higher = reqbed better). A peer that is not installed
or fails is listed with the reason. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
PROMPT = "Summarise the plot of a novel about a lighthouse keeper in two sentences. " * 8
PEERS = ["reqbed", "boto3", "aiobotocore", "anthropic", "litellm", "pydantic-ai"]
MESSAGES = [{"role": "user", "content": [{"text": PROMPT}]}]


# -- the parent: emulator, one fresh process per peer, the table ---------------------------------






def run_peer(peer: str, endpoint: str, calls: int, streams: int, timeout: float) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION, LITELLM_LOCAL_MODEL_COST_MAP="True")
    cmd = [sys.executable, __file__, "--worker", peer, "--endpoint", endpoint, "--calls", str(calls),
           "--streams", str(streams)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer within {timeout:.0f} s"}
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        last = (out.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": last[:160]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _fmt(value: float | None, unit: str, scale: float) -> str:
    return "-" if value is None else f"{value * scale:,.0f} {unit}"


def _ratio(peer: float | None, ours: float | None) -> str:
    return "" if peer is None or not ours else f" ({peer / ours:.1f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--worker")
    parser.add_argument("--endpoint")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.endpoint, args.calls, args.streams)), flush=True)
        return
    peers = args.peers.split(",")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {args.calls} calls, {args.streams} open streams; "
          "emulator in a separate process, one frame per HTTP chunk")
    results: dict[str, dict[str, Any]] = {}
    from bench_client import emulator_process  # here, not at the top: workers must import nothing extra

    with emulator_process() as endpoint:
        for peer in peers:
            results[peer] = run_peer(peer, endpoint, args.calls, args.streams, args.timeout)
            print(f"  {peer}: {results[peer]}", file=sys.stderr, flush=True)
    ours = results.get("reqbed", {})
    print()
    print("| peer | cold start to first answer | CPU per call | CPU per streamed call | peak RSS, 1,000 open streams |")
    print("|---|---:|---:|---:|---:|")
    for peer in peers:
        r = results[peer]
        if "error" in r:
            print(f"| {peer} | not measured: {r['error']} | | | |")
            continue
        cells = []
        for key, unit, scale in (("cold", "ms", 1e3), ("cpu_call", "µs", 1e6), ("cpu_stream", "µs", 1e6),
                                 ("rss_streams", "MB", 1 / 2**20)):
            v = r.get(key)
            cells.append(_fmt(v, unit, scale) + ("" if peer == "reqbed" else _ratio(v, ours.get(key))))
            if v is None and r.get(key + "_why"):
                cells[-1] = f"- ({r[key + '_why']})"
        print(f"| {peer} | " + " | ".join(cells) + " |")
    print("\n(x) = the peer's figure / reqbed's in this run: how many times more time, CPU or memory it takes.")


# -- workers: run in a fresh interpreter, print one JSON line ------------------------------------


def _cpu(fn: Callable[[], object], calls: int) -> float:
    for _ in range(10):
        fn()
    samples = []
    per = max(1, calls // 5)
    for _ in range(5):
        start = time.process_time()
        for _ in range(per):
            fn()
        samples.append((time.process_time() - start) / per)
    return statistics.median(samples)


def _rss() -> float:
    import resource

    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # Linux: KiB


def w_reqbed(endpoint: str, calls: int, streams: int) -> dict[str, Any]:
    t = time.perf_counter()
    import reqbed

    po: Any = {"endpoint_url": endpoint, "region": REGION, "access_key_id": AKID, "secret_access_key": SECRET,
               "use_converse": True}
    assert reqbed.generate_text(f"bedrock:{MODEL}", PROMPT, max_tokens=200, provider_options=po).text
    cold = time.perf_counter() - t
    client = reqbed.Client()

    def call() -> object:
        return client.generate_text(f"bedrock:{MODEL}", PROMPT, max_tokens=200, provider_options=po)

    def stream() -> object:
        with client.stream_text(f"bedrock:{MODEL}", PROMPT, max_tokens=200, provider_options=po) as s:
            return s.response()

    out = {"cold": cold, "cpu_call": _cpu(call, calls), "cpu_stream": _cpu(stream, calls)}

    async def hold() -> None:
        import anyio

        async with reqbed.Client(max_connections=streams) as c:  # a pool as large, as for boto3
            opened: list[Any] = []

            async def open_one() -> None:
                opened.append(await c.astream_text(f"bedrock:{MODEL}", PROMPT, max_tokens=200, provider_options=po))

            async with anyio.create_task_group() as tg:
                for _ in range(streams):
                    tg.start_soon(open_one)
            out["rss_streams"] = _rss()
            for s in opened:
                async with s:
                    await s.response()

    import anyio

    anyio.run(hold)
    return out


def _boto_client(module: Any, endpoint: str, pool: int = 10) -> Any:
    from botocore.config import Config

    return module.client("bedrock-runtime", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=AKID,
                         aws_secret_access_key=SECRET,
                         config=Config(retries={"max_attempts": 1}, max_pool_connections=pool))


def w_boto3(endpoint: str, calls: int, streams: int) -> dict[str, Any]:
    t = time.perf_counter()
    import boto3

    c = _boto_client(boto3, endpoint)
    assert c.converse(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 200})["output"]
    cold = time.perf_counter() - t

    def call() -> object:
        return c.converse(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 200})

    def stream() -> object:
        out = c.converse_stream(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 200})
        return list(out["stream"])

    result = {"cold": cold, "cpu_call": _cpu(call, calls), "cpu_stream": _cpu(stream, calls)}
    many = _boto_client(boto3, endpoint, pool=streams)
    held = [many.converse_stream(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 200})
            for _ in range(streams)]
    result["rss_streams"] = _rss()
    for h in held:
        list(h["stream"])
    return result


def w_aiobotocore(endpoint: str, calls: int, streams: int) -> dict[str, Any]:
    import asyncio

    t = time.perf_counter()
    from aiobotocore.session import get_session
    from botocore.config import Config

    out: dict[str, Any] = {}

    def client(pool: int) -> Any:
        return get_session().create_client(
            "bedrock-runtime", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=AKID,
            aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 1}, max_pool_connections=pool))

    async def main() -> None:
        async with client(10) as c:
            r = await c.converse(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 200})
            assert r["output"]
            out["cold"] = time.perf_counter() - t

            async def batch(fn: Callable[[], Any]) -> float:
                for _ in range(10):
                    await fn()
                samples = []
                per = max(1, calls // 5)
                for _ in range(5):
                    start = time.process_time()
                    for _ in range(per):
                        await fn()
                    samples.append((time.process_time() - start) / per)
                return statistics.median(samples)

            async def call() -> object:
                return await c.converse(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 200})

            async def stream() -> object:
                r = await c.converse_stream(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 200})
                return [e async for e in r["stream"]]

            out["cpu_call"] = await batch(call)
            out["cpu_stream"] = await batch(stream)
        async with client(streams) as c:
            held = await asyncio.gather(*[
                c.converse_stream(modelId=MODEL, messages=MESSAGES, inferenceConfig={"maxTokens": 200})
                for _ in range(streams)])
            out["rss_streams"] = _rss()
            for h in held:
                [e async for e in h["stream"]]

    asyncio.run(main())
    return out


def w_anthropic(endpoint: str, calls: int, streams: int) -> dict[str, Any]:
    t = time.perf_counter()
    from anthropic import AnthropicBedrock

    c = AnthropicBedrock(aws_access_key=AKID, aws_secret_key=SECRET, aws_region=REGION, base_url=endpoint,
                         max_retries=0)
    msgs: Any = [{"role": "user", "content": PROMPT}]
    # This SDK's default ``anthropic_version`` is not Bedrock's; send Bedrock's documented one.
    version: Any = {"anthropic_version": "bedrock-2023-05-31"}
    assert c.messages.create(model=MODEL, max_tokens=200, messages=msgs, extra_body=version).content
    cold = time.perf_counter() - t

    def call() -> object:
        return c.messages.create(model=MODEL, max_tokens=200, messages=msgs, extra_body=version)

    def stream() -> object:
        with c.messages.stream(model=MODEL, max_tokens=200, messages=msgs, extra_body=version) as s:
            return "".join(s.text_stream)

    return {"cold": cold, "cpu_call": _cpu(call, calls), "cpu_stream": _cpu(stream, calls), "rss_streams": None,
            "rss_streams_why": "not run"}


def w_litellm(endpoint: str, calls: int, streams: int) -> dict[str, Any]:
    t = time.perf_counter()
    import litellm

    kw: Any = {"model": f"bedrock/converse/{MODEL}", "max_tokens": 200, "aws_access_key_id": AKID,
               "aws_secret_access_key": SECRET, "aws_region_name": REGION, "aws_bedrock_runtime_endpoint": endpoint,
               "messages": [{"role": "user", "content": PROMPT}], "num_retries": 0}
    assert litellm.completion(**kw).choices[0].message.content
    cold = time.perf_counter() - t

    def call() -> object:
        return litellm.completion(**kw)

    def stream() -> object:
        return [c for c in litellm.completion(stream=True, **kw)]

    return {"cold": cold, "cpu_call": _cpu(call, calls), "cpu_stream": _cpu(stream, calls), "rss_streams": None,
            "rss_streams_why": "not run"}


def w_pydantic_ai(endpoint: str, calls: int, streams: int) -> dict[str, Any]:
    t = time.perf_counter()
    import boto3
    from pydantic_ai import Agent
    from pydantic_ai.models.bedrock import BedrockConverseModel
    from pydantic_ai.providers.bedrock import BedrockProvider

    provider = BedrockProvider(bedrock_client=_boto_client(boto3, endpoint))
    agent = Agent(BedrockConverseModel(MODEL, provider=provider), model_settings={"max_tokens": 200})
    assert agent.run_sync(PROMPT).output
    cold = time.perf_counter() - t

    def call() -> object:
        return agent.run_sync(PROMPT).output

    import asyncio

    async def one_stream() -> str:
        async with agent.run_stream(PROMPT) as r:
            return "".join([x async for x in r.stream_text(delta=True)])

    def stream() -> object:
        return asyncio.run(one_stream())

    return {"cold": cold, "cpu_call": _cpu(call, calls), "cpu_stream": _cpu(stream, calls), "rss_streams": None,
            "rss_streams_why": "not run"}


WORKERS: dict[str, Callable[[str, int, int], dict[str, Any]]] = {
    "reqbed": w_reqbed,
    "boto3": w_boto3,
    "aiobotocore": w_aiobotocore,
    "anthropic": w_anthropic,
    "litellm": w_litellm,
    "pydantic-ai": w_pydantic_ai,
}

if __name__ == "__main__":
    main()
