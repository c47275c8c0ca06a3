"""Embeddings and CountTokens end to end against the emulator, over a real loopback socket.

The public verbs (``reqbed.embed`` / ``count_tokens``, on the operations core) are tested end to end
in tests/test_embed_verbs.py; these tests drive the pure parts (``plan_embed`` /
``plan_count_tokens``, ``parse``, ``assemble``) with a plain httpx request signed by
``reqbed._aws.sigv4.sign_headers`` (the emulator verifies the signature), sync and under asyncio
and trio, with bounded concurrency, per-call retries and a permanent failure.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import reqbed
from reqbed._aws.credentials_types import AwsCredentials
from reqbed._aws.sigv4 import sign_headers
from reqbed._count_tokens import plan_count_tokens
from reqbed._embed.plan import EmbedCall, EmbedPart, EmbedPlan, plan_embed
from reqbed._transport import RequestBody
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator
from tests.support import COUNT_PROMPTS

GOLDEN = Path(__file__).parent / "golden" / "embed"
CREDS = AwsCredentials(access_key_id=EXAMPLE_ACCESS_KEY_ID, secret_access_key=EXAMPLE_SECRET_ACCESS_KEY)
TITAN = "bedrock:amazon.titan-embed-text-v2:0"
SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"


def signed(url: str, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    now = datetime.now(timezone.utc)
    auth = sign_headers("POST", url, headers, body, credentials=CREDS, region="us-east-1", service="bedrock", now=now)
    return {**headers, **auth}


def post(emu: Emulator, path: str, body: bytes) -> httpx.Response:
    url = emu.endpoint_url + path
    return httpx.post(url, content=body, headers=signed(url, body))


def embed_sync(emu: Emulator, plan: EmbedPlan) -> reqbed.Embeddings:
    parts = []
    with httpx.Client() as client:
        for call in plan.calls:
            url = emu.endpoint_url + plan.path
            r = client.post(url, content=call.body, headers=signed(url, call.body))
            parts.append(plan.parse(call, r.status_code, r.headers, r.content))
    return plan.assemble(parts)


class CallFailed(Exception):
    def __init__(self, call: EmbedCall, error: Exception) -> None:
        super().__init__(f"{call.describe()}: {error}")
        self.call, self.error = call, error


async def embed_async(emu: Emulator, plan: EmbedPlan, *, retries: int = 3) -> tuple[reqbed.Embeddings, int]:
    """What the later ``aembed`` operation does, in miniature: bounded concurrency, retries per call."""
    limiter = anyio.CapacityLimiter(plan.max_concurrency)
    parts: list[EmbedPart | None] = [None] * len(plan.calls)
    in_flight = peak = 0
    url = emu.endpoint_url + plan.path

    async def one(client: httpx.AsyncClient, call: EmbedCall) -> None:
        nonlocal in_flight, peak
        async with limiter:
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                for attempt in range(retries + 1):
                    request = client.build_request("POST", url, content=call.body, headers=signed(url, call.body))
                    request.stream = RequestBody(call.body)  # as reqbed sends: no async generator left on cancel
                    r = await client.send(request)
                    try:
                        parts[call.number] = plan.parse(call, r.status_code, r.headers, r.content)
                        return
                    except reqbed.ThrottlingError as e:
                        if attempt == retries:
                            raise CallFailed(call, e) from e
                    except reqbed.APIError as e:
                        raise CallFailed(call, e) from e
            finally:
                in_flight -= 1

    limits = httpx.Limits(max_connections=plan.max_concurrency)
    async with httpx.AsyncClient(limits=limits) as client, anyio.create_task_group() as tg:
        for call in plan.calls:
            tg.start_soon(one, client, call)
    assert all(p is not None for p in parts)
    return plan.assemble([p for p in parts if p is not None]), peak


# -- every family, as the goldens call them ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_every_family_against_the_emulator(emulator: Emulator, path: Path) -> None:
    g = json.loads(path.read_text())
    plan = plan_embed(g["model"], g["inputs"], g["options"])
    result = embed_sync(emulator, plan)
    assert len(result.vectors) == plan.input_count
    opts = g["options"]
    kind = opts.get("embedding_type", "float")
    defaults = {"titan-embed-text-v1": 1536, "embed-v4": 1536, "nova": 3072}
    dims = opts.get("dimensions") or next((d for k, d in defaults.items() if k in g["model"]), 1024)
    expected_len = dims // 8 if kind in ("binary", "ubinary") and plan.family == "cohere" else dims
    assert all(len(v) == expected_len for v in result.vectors)
    assert all(type(x) is (float if kind == "float" else int) for v in result.vectors for x in v)
    if kind == "int8":
        assert all(-128 <= x <= 127 for v in result.vectors for x in v)
    # the usage is the sum of the token-count headers the emulator sent
    assert result.usage.input_tokens > 0
    assert embed_sync(emulator, plan) == result  # deterministic vectors (raw ids included)


def test_vectors_follow_their_inputs(emulator: Emulator) -> None:
    a = embed_sync(emulator, plan_embed(TITAN, ["alpha", "beta", "gamma"], {"dimensions": 256}))
    b = embed_sync(emulator, plan_embed(TITAN, ["gamma", "alpha"], {"dimensions": 256}))
    assert b.vectors == [a.vectors[2], a.vectors[0]]
    assert a.usage.input_tokens == 3


def test_cohere_batches_are_reassembled_in_order(emulator: Emulator) -> None:
    texts = [f"text number {i}" for i in range(200)]
    batched = embed_sync(emulator, plan_embed("bedrock:cohere.embed-english-v3", texts, {}))
    assert len(emulator.requests) == 3
    singles = [
        embed_sync(emulator, plan_embed("bedrock:cohere.embed-english-v3", t, {})).vectors[0] for t in texts[95:98]
    ]
    assert batched.vectors[95:98] == singles
    assert batched.usage.input_tokens == 3 * 200


def test_the_emulator_refuses_what_bedrock_refuses(emulator: Emulator) -> None:
    body = b'{"texts": ["a"], "embedding_types": ["float"]}'  # no input_type
    r = post(emulator, "/model/cohere.embed-english-v3/invoke", body)
    assert r.status_code == 400
    assert r.headers["x-amzn-errortype"].startswith("ValidationException")
    r = post(emulator, "/model/amazon.titan-embed-text-v2%3A0/invoke", b'{"inputText": "a", "dimensions": 300}')
    assert r.status_code == 400
    too_many = json.dumps({"texts": ["a"] * 97, "input_type": "search_query"}).encode()
    r = post(emulator, "/model/cohere.embed-english-v3/invoke", too_many)
    assert r.status_code == 400
    assert "maxItems" in r.json()["message"]


# -- many calls: bounded concurrency, throttling retried, one permanent failure ---------------------------


@pytest.mark.anyio
async def test_many_titan_texts_bounded_and_in_order(emulator: Emulator) -> None:
    """Kept to 200 texts for the suite's time (one process runs both ends here)."""
    texts = [f"document {i}" for i in range(200)]
    plan = plan_embed(TITAN, texts, {"dimensions": 256, "max_concurrency": 8})
    emulator.inject("throttling", times=3, match='document 17"')
    emulator.inject("throttling", times=1, match='document 198"')
    result, peak = await embed_async(emulator, plan)
    assert 1 < peak <= 8
    assert len(result.vectors) == 200
    assert result.usage.input_tokens == 400
    expected = embed_sync(emulator, plan_embed(TITAN, [texts[17], texts[198]], {"dimensions": 256}))
    assert [result.vectors[17], result.vectors[198]] == expected.vectors
    throttled = [r for r in emulator.requests if b'"document 17"' in r["body"]]
    assert len(throttled) == 3 + 1 + 1  # three throttled, the retry that worked, the check above
    assert len([r for r in emulator.requests if b'"document 198"' in r["body"]]) == 1 + 1 + 1


@pytest.mark.anyio
async def test_a_permanent_failure_names_the_input(emulator: Emulator) -> None:
    plan = plan_embed(TITAN, [f"document {i}" for i in range(40)], {"max_concurrency": 4})
    emulator.inject("access_denied", times=1, match='document 23"')
    with pytest.raises(BaseException) as info:  # a task group wraps it in an ExceptionGroup
        await embed_async(emulator, plan)
    failures = [e for e in _leaves(info.value) if isinstance(e, CallFailed)]
    assert [str(f).split(":")[0] for f in failures] == ["inputs[23]"]
    assert isinstance(failures[0].error, reqbed.AccessDeniedError)


def _leaves(e: BaseException) -> list[BaseException]:
    if isinstance(e, BaseExceptionGroup):  # noqa: F821 - a builtin since Python 3.11
        return [leaf for sub in e.exceptions for leaf in _leaves(sub)]
    return [e]


# -- CountTokens --------------------------------------------------------------------------------------


def count(emu: Emulator, model: str, prompt: Any, **opts: Any) -> int:
    po = {**emu.provider_options(), **opts.pop("provider_options", {})}
    plan = plan_count_tokens(model, prompt, {**opts, "provider_options": po})
    assert plan.url is not None
    assert plan.body is not None
    r = httpx.post(plan.url, content=plan.body, headers=signed(plan.url, plan.body))
    return plan.parse(r.status_code, r.headers, r.content)


PROMPTS = COUNT_PROMPTS


@pytest.mark.parametrize("use_converse", [False, True])
@pytest.mark.parametrize(("prompt", "opts"), PROMPTS)
def test_count_matches_the_calls_input_tokens(
    emulator: Emulator, client: reqbed.Client, prompt: str, opts: dict[str, Any], use_converse: bool
) -> None:
    model = f"bedrock:us.{SONNET4}"
    n = count(emulator, model, prompt, provider_options={"use_converse": use_converse}, **opts)
    path = emulator.requests[-1]["path"]
    assert path == f"/model/{SONNET4.replace(':', '%3A')}/count-tokens"  # the foundation id, no geo prefix
    po = {**emulator.provider_options(), "use_converse": use_converse}
    r = client.generate_text(model, prompt, provider_options=po, **opts)
    assert n == r.usage.input_tokens
    assert n > 0


@pytest.mark.parametrize(
    ("model_path", "message"),
    [
        (f"us.{SONNET4}", "model identifier is invalid"),
        ("amazon.nova-pro-v1%3A0", "doesn't support counting tokens"),
        (f"arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.{SONNET4}", "identifier is invalid"),
    ],
)
def test_the_emulator_takes_foundation_ids_only(emulator: Emulator, model_path: str, message: str) -> None:
    body = json.dumps({"input": {"converse": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}}})
    r = post(emulator, f"/model/{model_path}/count-tokens", body.encode())
    assert r.status_code == 400
    with pytest.raises(reqbed.BadRequestError, match=message):
        plan_count_tokens(f"bedrock:{SONNET4}", "hi", {}).parse(r.status_code, r.headers, r.content)


def test_the_emulator_validates_the_count_tokens_input(emulator: Emulator) -> None:
    path = f"/model/{SONNET4.replace(':', '%3A')}/count-tokens"
    both = {"input": {"converse": {"messages": []}, "invokeModel": {"body": ""}}}
    assert post(emulator, path, json.dumps(both).encode()).status_code == 400
    extra = {
        "input": {"converse": {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {}}}
    }
    assert post(emulator, path, json.dumps(extra).encode()).status_code == 400
    bad_native = {"input": {"invokeModel": {"body": "eyJtZXNzYWdlcyI6IFtdfQ=="}}}  # {"messages": []}
    assert post(emulator, path, json.dumps(bad_native).encode()).status_code == 400
