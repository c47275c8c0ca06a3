"""Whole-call benchmarks: reqbed vs boto3 against the same local emulator (in another process).

    python benchmarks/bench_client.py [--calls 300] [--cold 5]

1. Client-side CPU per non-streaming Converse call (``time.process_time`` in this process, so the
   emulator's work is not counted): reqbed ``Client.generate_text`` vs boto3 ``converse``.
2. Client-side CPU per streamed call, consumed to the end: reqbed ``stream_text`` vs boto3
   ``converse_stream``.
   Streams are measured with the emulator in its default mode (one frame per HTTP chunk, as
   Bedrock sends them) and again in split mode (frames cut at random offsets: a stress case).
3. Cold start to first answer in a fresh interpreter: ``import reqbed`` + first ``generate_text``
   vs ``import boto3`` + client creation + first ``converse``; and ``import reqbed`` alone.
Medians; ratios are boto3 / reqbed (higher is better for reqbed). Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
PROMPT = "Summarise the plot of a novel about a lighthouse keeper in two sentences. " * 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def emulator_process(chunking: str = "frame") -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reqbed.testing.emulator", "--port", str(port), "--chunking", chunking],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def cpu_per_call(fn: Callable[[], object], calls: int) -> float:
    for _ in range(20):  # warm up pools, caches, lazy imports
        fn()
    samples = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(calls // 5):
            fn()
        samples.append((time.process_time() - start) / (calls // 5))
    return statistics.median(samples)


def bench_cpu(endpoint: str, calls: int, *, stream_only: bool = False, label: str = "") -> None:
    import boto3
    from botocore.config import Config

    import reqbed

    po = {"endpoint_url": endpoint, "region": "us-east-1", "access_key_id": AKID, "secret_access_key": SECRET,
          "use_converse": True}
    client = reqbed.Client()
    boto = boto3.client(
        "bedrock-runtime", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=AKID,
        aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 1}),
    )
    messages = [{"role": "user", "content": [{"text": PROMPT}]}]

    def rq() -> object:
        return client.generate_text(f"bedrock:{MODEL}", PROMPT, max_tokens=200, provider_options=po)

    def bt() -> object:
        return boto.converse(modelId=MODEL, messages=messages, inferenceConfig={"maxTokens": 200})

    def rq_stream() -> object:
        with client.stream_text(f"bedrock:{MODEL}", PROMPT, max_tokens=200, provider_options=po) as s:
            return s.response()

    def bt_stream() -> object:
        out = boto.converse_stream(modelId=MODEL, messages=messages, inferenceConfig={"maxTokens": 200})
        return [e for e in out["stream"]]

    if not stream_only:
        r, b = cpu_per_call(rq, calls), cpu_per_call(bt, calls)
        print(f"CPU per converse call:        reqbed {r * 1e6:8.0f} µs   boto3 {b * 1e6:8.0f} µs   "
              f"reqbed uses {r / b:.2f}x of boto3's CPU ({b / r:.1f}x less)")
    r, b = cpu_per_call(rq_stream, calls), cpu_per_call(bt_stream, calls)
    print(f"CPU per converse-stream call{label}: reqbed {r * 1e6:8.0f} µs   boto3 {b * 1e6:8.0f} µs   "
          f"reqbed uses {r / b:.2f}x of boto3's CPU ({b / r:.1f}x less)")
    client.close()


COLD_REQBED = f"""
import time
t = time.perf_counter()
import reqbed
r = reqbed.generate_text("bedrock:{MODEL}", "Hi", provider_options={{"endpoint_url": "{{ep}}",
    "access_key_id": "{AKID}", "secret_access_key": "{SECRET}", "use_converse": True}})
assert r.text
print(time.perf_counter() - t)
"""

COLD_BOTO = f"""
import time
t = time.perf_counter()
import boto3
c = boto3.client("bedrock-runtime", endpoint_url="{{ep}}", region_name="us-east-1",
    aws_access_key_id="{AKID}", aws_secret_access_key="{SECRET}")
r = c.converse(modelId="{MODEL}", messages=[{{"role": "user", "content": [{{"text": "Hi"}}]}}])
assert r["output"]
print(time.perf_counter() - t)
"""

IMPORT_ONLY = """
import time
t = time.perf_counter()
import {mod}
print(time.perf_counter() - t)
"""


def _time_script(code: str, runs: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def bench_cold(endpoint: str, runs: int) -> None:
    r = _time_script(COLD_REQBED.replace("{ep}", endpoint), runs)
    b = _time_script(COLD_BOTO.replace("{ep}", endpoint), runs)
    print(f"cold start to first answer:   reqbed {r * 1e3:8.0f} ms   boto3 {b * 1e3:8.0f} ms   "
          f"reqbed takes {r / b:.2f}x of boto3's time")
    # httpcore imports trio whenever it is installed (~0.1-0.2 s); most users do not have trio.
    no_trio = "import sys; sys.modules['trio'] = None\n"
    r2 = _time_script(no_trio + COLD_REQBED.replace("{ep}", endpoint), runs)
    print(f"  same, without trio installed:  reqbed {r2 * 1e3:8.0f} ms   ({r2 / b:.2f}x of boto3's time)")
    for mod in ("reqbed", "httpx", "boto3"):
        t = _time_script(IMPORT_ONLY.format(mod=mod), runs)
        print(f"import {mod:<8} {t * 1e3:8.0f} ms")


def bench_breakdown(endpoint: str, calls: int) -> None:
    """Where reqbed's per-call CPU goes: its own steps, httpx's transport, and the socket floor."""
    import socket

    import reqbed
    from reqbed._pipeline import prepare
    from reqbed._transport import apply_signature

    po = {"endpoint_url": endpoint, "region": "us-east-1", "access_key_id": AKID, "secret_access_key": SECRET,
          "use_converse": True}
    opts = {"provider_options": po, "max_tokens": 200}
    client = reqbed.Client()
    p = prepare(f"bedrock:{MODEL}", PROMPT, opts)
    assert p.auth is not None
    transport = client._sync_transport()

    def via_transport() -> bytes:
        r = transport.handle_request(client._request(p, p.auth))  # type: ignore[arg-type]
        try:
            return r.read()
        finally:
            r.close()

    body = via_transport()
    host, port = endpoint.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def raw_socket() -> bytes:
        req = client._request(p, p.auth)  # type: ignore[arg-type]
        apply_signature(req)
        head = b"".join(k + b": " + v + b"\r\n" for k, v in req.headers.raw)
        sock.sendall(b"POST " + req.url.raw_path + b" HTTP/1.1\r\n" + head + b"\r\n" + p.body)
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(65536)
        headers, _, rest = buf.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in headers.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        while len(rest) < length:
            rest += sock.recv(65536)
        return rest

    print("per-call CPU breakdown (reqbed):")
    steps: list[tuple[str, Callable[[], object]]] = [
        ("validate + build body (prepare)", lambda: prepare(f"bedrock:{MODEL}", PROMPT, opts)),
        ("sign (SigV4)", lambda: apply_signature(client._request(p, p.auth))),  # type: ignore[arg-type]
        ("parse the answer", lambda: p.parse(200, {}, body)),
        ("httpx transport round trip", via_transport),
        ("bare socket round trip (floor)", raw_socket),
    ]
    for name, fn in steps:
        print(f"  {name:<34} {cpu_per_call(fn, calls) * 1e6:8.0f} µs")
    sock.close()
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; emulator in a separate process")
    # The emulator sends one event-stream frame per HTTP chunk, as Bedrock does ("frame"); the
    # split mode (frames cut at random offsets, ~2 chunks per frame) is measured as a stress case.
    with emulator_process("frame") as endpoint:
        bench_cpu(endpoint, args.calls)
        bench_breakdown(endpoint, args.calls)
        bench_cold(endpoint, args.cold)
    with emulator_process("split") as endpoint:
        bench_cpu(endpoint, args.calls, stream_only=True, label=" (split chunks)")


if __name__ == "__main__":
    main()
