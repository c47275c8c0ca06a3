"""reqbed's demo: one walk through the API, against the local emulator or real Amazon Bedrock.

    python -m reqbed.demo              # real AWS if credentials are configured, else the emulator
    python -m reqbed.demo --emulator   # always the bundled local emulator (no AWS account needed)
    python -m reqbed.demo --aws --model bedrock:us.amazon.nova-lite-v1:0 --region us-east-1

It runs a plain call, a streamed call, a tool round trip and an async call, printing what came
back and the token usage. Exit status is non-zero if anything failed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import anyio

import reqbed

DEFAULT_AWS_MODEL = "bedrock:us.anthropic.claude-haiku-4-5-20251001-v1:0"
DEFAULT_EMULATOR_MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"

WEATHER = reqbed.Tool(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def _aws_configured() -> bool:
    env = os.environ
    return bool(
        env.get("AWS_BEARER_TOKEN_BEDROCK")
        or (env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"))
        or env.get("AWS_PROFILE")
        or os.path.exists(os.path.expanduser("~/.aws/credentials"))
        or os.path.exists(os.path.expanduser("~/.aws/config"))
    )


@contextlib.contextmanager
def _target(use_aws: bool, region: str) -> Iterator[reqbed.ProviderOptions]:
    if use_aws:
        yield {"region": region}
        return
    from reqbed.testing import Emulator

    with Emulator() as emu:
        print(f"(no AWS account needed: talking to reqbed's local Bedrock emulator at {emu.endpoint_url})")
        yield emu.provider_options(region=region)


def _show(title: str, resp: reqbed.Response, started: float) -> None:
    ms = (time.perf_counter() - started) * 1000
    u = resp.usage
    print(f"\n== {title} ({ms:.0f} ms)")
    if resp.thinking:
        print(f"thinking: {resp.thinking}")
    if resp.text:
        print(f"text:     {resp.text}")
    for call in resp.tool_calls:
        print(f"tool:     {call.name}({call.arguments})")
    print(
        f"finish:   {resp.finish_reason}; usage: in={u.input_tokens} out={u.output_tokens} "
        f"cache_read={u.cache_read_tokens} cache_write={u.cache_write_tokens}"
    )


def run(model: str, po: reqbed.ProviderOptions) -> None:
    t = time.perf_counter()
    resp = reqbed.generate_text(
        model, "Say hello to reqbed in one short sentence.", max_tokens=200, provider_options=po
    )
    _show("generate_text", resp, t)

    t = time.perf_counter()
    print("\n== stream_text")
    with reqbed.stream_text(model, "Count from one to five in words.", max_tokens=200, provider_options=po) as stream:
        for piece in stream.text_stream():
            print(piece, end="", flush=True)
        streamed = stream.response()
    print()
    _show("stream_text -> response()", streamed, t)

    t = time.perf_counter()
    prompt: list[Any] = [{"role": "user", "content": "What is the weather in Paris? Use get_weather."}]
    first = reqbed.generate_text(
        model, prompt, tools=[WEATHER], tool_choice="get_weather", max_tokens=300, provider_options=po
    )
    _show("tool call", first, t)
    if first.tool_calls:
        call = first.tool_calls[0]
        prompt += [
            first.message,
            {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": call.id, "content": "18°C, sunny"}]},
        ]
        t = time.perf_counter()
        second = reqbed.generate_text(model, prompt, tools=[WEATHER], max_tokens=300, provider_options=po)
        _show("tool round trip", second, t)

    async def main() -> reqbed.Response:
        return await reqbed.agenerate_text(model, "Name one prime number.", max_tokens=100, provider_options=po)

    t = time.perf_counter()
    _show("agenerate_text (asyncio)", anyio.run(main), t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reqbed.demo", description="reqbed demo")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--emulator", action="store_true", help="use the bundled local emulator")
    mode.add_argument("--aws", action="store_true", help="use real Amazon Bedrock (needs credentials)")
    parser.add_argument("--model", help="model spec, e.g. bedrock:us.amazon.nova-lite-v1:0")
    parser.add_argument(
        "--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    )
    args = parser.parse_args(argv)
    use_aws = args.aws or (not args.emulator and _aws_configured())
    model = args.model or (DEFAULT_AWS_MODEL if use_aws else DEFAULT_EMULATOR_MODEL)
    print(f"reqbed {reqbed.__version__} demo: {model} on {'real Amazon Bedrock' if use_aws else 'the emulator'}")
    try:
        with _target(use_aws, args.region) as po:
            run(model, po)
    except reqbed.ReqbedError as e:
        print(f"\nfailed: {type(e).__name__}: {e}", file=sys.stderr)
        if use_aws and not args.aws:
            print("(AWS credentials were found but the call failed; `--emulator` runs without AWS)", file=sys.stderr)
        return 1
    finally:
        reqbed.default_client().close()
    print("\nok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
