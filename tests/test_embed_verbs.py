"""``embed`` / ``aembed`` and ``count_tokens`` / ``acount_tokens`` end to end: the public verbs on the
operations core, against the emulator over a real socket, sync and under asyncio and trio."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import reqbed
from reqbed import _hooks
from reqbed._embed.plan import plan_embed
from reqbed._hooks import AttemptEnded, AttemptStarted, Event, RetryDecision
from reqbed._retry import RetryPolicy
from reqbed.testing import Emulator
from tests.support import COUNT_PROMPTS, WEATHER_TOOL

GOLDEN = Path(__file__).parent / "golden" / "embed"
TITAN = "bedrock:amazon.titan-embed-text-v2:0"
SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"


class InFlight:
    """Attempt events counted: attempts in flight at once (peak), and retry decisions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = self.started = self.retries = 0

    def __call__(self, e: Event) -> None:
        with self.lock:
            if isinstance(e, AttemptStarted):
                self.now += 1
                self.started += 1
                self.peak = max(self.peak, self.now)
            elif isinstance(e, AttemptEnded):
                self.now -= 1
            elif isinstance(e, RetryDecision) and e.action == "retry":
                self.retries += 1


@pytest.fixture
def flight() -> Iterator[InFlight]:
    seen = InFlight()
    _hooks.OBSERVERS.append(seen)
    try:
        yield seen
    finally:
        _hooks.OBSERVERS.remove(seen)


@pytest.fixture
def fast() -> Iterator[reqbed.Client]:
    with reqbed.Client(retry_policy=RetryPolicy(base=0.01, cap=0.05)) as c:
        yield c


def goldens() -> list[Path]:
    return sorted(GOLDEN.glob("*.json"))


def _dims(model: str, opts: dict[str, Any], family: str) -> int:
    defaults = {"titan-embed-text-v1": 1536, "embed-v4": 1536, "nova": 3072}
    dims: int = opts.get("dimensions") or next((d for k, d in defaults.items() if k in model), 1024)
    kind = opts.get("embedding_type", "float")
    return dims // 8 if kind in ("binary", "ubinary") and family == "cohere" else dims


def _check(g: dict[str, Any], result: reqbed.Embeddings, emu: Emulator) -> None:
    plan = plan_embed(g["model"], g["inputs"], g["options"])
    assert len(result.vectors) == plan.input_count
    assert len(result.raw) == len(plan.calls) == len(emu.requests)
    assert sorted(r["body"] for r in emu.requests) == sorted(c.body for c in plan.calls)  # the bodies planned
    kind = g["options"].get("embedding_type", "float")
    assert result.embedding_type == kind
    assert all(len(v) == _dims(g["model"], g["options"], plan.family) for v in result.vectors)
    assert all(type(x) is (float if kind == "float" else int) for v in result.vectors for x in v)
    assert result.usage.input_tokens > 0
    assert result.model == plan.spec.model_id
    assert result.region == emu.region


# -- every family ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", goldens(), ids=lambda p: p.stem)
def test_every_family_sync(emulator: Emulator, client: reqbed.Client, path: Path) -> None:
    g = json.loads(path.read_text())
    result = client.embed(g["model"], g["inputs"], **g["options"], provider_options=emulator.provider_options())
    _check(g, result, emulator)


@pytest.mark.anyio
@pytest.mark.parametrize("path", goldens(), ids=lambda p: p.stem)
async def test_every_family_async(emulator: Emulator, client: reqbed.Client, path: Path) -> None:
    g = json.loads(path.read_text())
    po = emulator.provider_options()
    result = await client.aembed(g["model"], g["inputs"], **g["options"], provider_options=po)
    _check(g, result, emulator)
    emulator.reset()
    assert client.embed(g["model"], g["inputs"], **g["options"], provider_options=po) == result  # same vectors


def test_the_facade_and_order(emulator: Emulator) -> None:
    po = emulator.provider_options()
    a = reqbed.embed(TITAN, ["alpha", "beta", "gamma"], dimensions=256, provider_options=po)
    b = reqbed.embed(TITAN, ["gamma", "alpha"], dimensions=256, provider_options=po)
    assert b.vectors == [a.vectors[2], a.vectors[0]]
    one = reqbed.embed(TITAN, "beta", dimensions=256, provider_options=po)
    assert one.vectors == [a.vectors[1]]
    assert a.usage.input_tokens == 3


def test_cohere_lists_are_batched_and_reassembled(emulator: Emulator, client: reqbed.Client) -> None:
    po = emulator.provider_options()
    texts = [f"text number {i}" for i in range(200)]
    batched = client.embed("bedrock:cohere.embed-english-v3", texts, input_type="search_query", provider_options=po)
    assert len(emulator.requests) == 3  # 96 + 96 + 8
    assert sorted(len(json.loads(r["body"])["texts"]) for r in emulator.requests) == [8, 96, 96]  # concurrent
    cohere = "bedrock:cohere.embed-english-v3"
    singles = client.embed(cohere, texts[95:98], input_type="search_query", provider_options=po)
    assert batched.vectors[95:98] == singles.vectors
    assert batched.usage.input_tokens == 3 * 200  # the emulator counts words


def test_cost_prices_input_tokens(emulator: Emulator, client: reqbed.Client) -> None:
    r = client.embed(TITAN, ["a", "b"], provider_options=emulator.provider_options())
    cost = r.cost
    assert cost.total is not None
    assert cost.total == cost.input > 0
    assert cost.output == 0


def test_bad_input_is_refused_before_any_request(emulator: Emulator, client: reqbed.Client) -> None:
    po = emulator.provider_options()
    with pytest.raises(reqbed.ValidationError) as info:
        client.embed(TITAN, ["a"], input_type="search_query", provider_options=po)
    assert info.value.field == "input_type"
    with pytest.raises(reqbed.ValidationError, match="inputs"):
        client.embed(TITAN, [], provider_options=po)
    with pytest.raises(reqbed.ValidationError) as info:
        client.embed(TITAN, ["a"], provider_options={**po, "region": "not a region!"})
    assert info.value.field is not None
    assert emulator.requests == []


def test_numpy_takes_the_vectors(emulator: Emulator, client: reqbed.Client) -> None:
    numpy = pytest.importorskip("numpy")
    r = client.embed("bedrock:cohere.embed-v4:0", ["a", "b"], embedding_type="int8", dimensions=256,
                     provider_options=emulator.provider_options())  # fmt: skip
    arr = numpy.asarray(r.vectors)
    assert arr.shape == (2, 256)
    assert arr.dtype.kind == "i"


# -- 1,000 texts: bounded, in order, throttling retried, one permanent failure --------------------------

THOUSAND = [f"document {i}" for i in range(1000)]


def _expected(client: reqbed.Client, emu: Emulator, idx: list[int]) -> list[list[float | int]]:
    r = client.embed(TITAN, [THOUSAND[i] for i in idx], dimensions=256, provider_options=emu.provider_options())
    return r.vectors


@pytest.mark.anyio
async def test_a_thousand_titan_texts_async(emulator: Emulator, fast: reqbed.Client, flight: InFlight) -> None:
    emulator.inject("throttling", times=3, match='document 17"')
    emulator.inject("throttling", times=1, match='document 998"')
    po = emulator.provider_options()
    result = await fast.aembed(TITAN, THOUSAND, dimensions=256, max_concurrency=8, max_retries=3, provider_options=po)
    assert 1 < flight.peak <= 8
    assert flight.retries == 4
    assert len(result.vectors) == 1000
    assert result.usage.input_tokens == 2000
    assert len([r for r in emulator.requests if b'"document 17"' in r["body"]]) == 3 + 1
    assert [result.vectors[17], result.vectors[998], result.vectors[0]] == _expected(fast, emulator, [17, 998, 0])


def test_a_thousand_titan_texts_sync(emulator: Emulator, fast: reqbed.Client, flight: InFlight) -> None:
    emulator.inject("throttling", times=2, match='document 500"')
    po = emulator.provider_options()
    result = fast.embed(TITAN, THOUSAND, dimensions=256, max_concurrency=6, provider_options=po)
    assert 1 < flight.peak <= 6
    assert flight.retries == 2
    assert len(result.vectors) == 1000
    assert [result.vectors[500], result.vectors[999]] == _expected(fast, emulator, [500, 999])


@pytest.mark.anyio
async def test_a_permanent_failure_names_the_input_async(
    emulator: Emulator, fast: reqbed.Client, flight: InFlight
) -> None:
    emulator.inject("throttling", times=2, match='document 3"')
    emulator.inject("access_denied", times=1, match='document 423"')
    po = emulator.provider_options()
    with pytest.raises(reqbed.AccessDeniedError, match=r"^inputs\[423\]: ") as info:
        await fast.aembed(TITAN, THOUSAND, dimensions=256, max_concurrency=8, provider_options=po)
    assert info.value.status == 403
    assert flight.started < 1000 + 2  # the rest were cancelled
    assert len(emulator.requests) < 1000


def test_a_permanent_failure_names_the_input_sync(emulator: Emulator, fast: reqbed.Client) -> None:
    emulator.inject("access_denied", times=1, match='document 23"')
    po = emulator.provider_options()
    with pytest.raises(reqbed.AccessDeniedError, match=r"^inputs\[23\]: "):
        fast.embed(TITAN, THOUSAND, dimensions=256, max_concurrency=4, provider_options=po)
    assert len(emulator.requests) < 1000  # the requests not yet started were dropped


def test_a_cohere_batch_failure_names_its_range(emulator: Emulator, fast: reqbed.Client) -> None:
    emulator.inject("access_denied", times=1, match='"text 150"')
    texts = [f"text {i}" for i in range(200)]
    with pytest.raises(reqbed.AccessDeniedError, match=r"^inputs\[96\.\.191\]: "):
        fast.embed("bedrock:cohere.embed-english-v3", texts, provider_options=emulator.provider_options())


class SteppingClock:
    """A monotonic clock that moves 50 ms each time it is read: deadlines pass after a few requests,
    whatever the machine's speed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0.0

    def __call__(self) -> float:
        with self.lock:
            self.now += 0.05
            return self.now


def stepping_client() -> reqbed.Client:
    return reqbed.Client(retry_policy=RetryPolicy(base=0.01, cap=0.05, clock=SteppingClock()))


DEADLINE = r"^inputs\[\d+\]: the call's deadline passed \(timeout=1 s\)"


@pytest.mark.anyio
async def test_one_deadline_for_the_whole_call(emulator: Emulator) -> None:
    po = emulator.provider_options()
    async with stepping_client() as c:
        with pytest.raises(reqbed.RequestTimeoutError, match=DEADLINE):
            await c.aembed(TITAN, THOUSAND[:50], timeout=1.0, max_concurrency=1, provider_options=po)
    assert 1 <= len(emulator.requests) < 50  # each request got only what was left of the one deadline


def test_one_deadline_for_the_whole_call_sync(emulator: Emulator) -> None:
    po = emulator.provider_options()
    with stepping_client() as c, pytest.raises(reqbed.RequestTimeoutError, match=DEADLINE):
        c.embed(TITAN, THOUSAND[:50], timeout=1.0, max_concurrency=2, provider_options=po)
    assert 1 <= len(emulator.requests) < 50


# -- count_tokens ----------------------------------------------------------------------------------------

PROMPTS = COUNT_PROMPTS


@pytest.mark.parametrize("use_converse", [False, True])
@pytest.mark.parametrize(("prompt", "opts"), PROMPTS)
def test_count_equals_generate_texts_usage(
    emulator: Emulator, client: reqbed.Client, prompt: str, opts: dict[str, Any], use_converse: bool
) -> None:
    model = f"bedrock:us.{SONNET4}"
    po = {**emulator.provider_options(), "use_converse": use_converse}
    n = client.count_tokens(model, prompt, provider_options=po, **opts)
    assert emulator.requests[-1]["path"] == f"/model/{SONNET4.replace(':', '%3A')}/count-tokens"
    assert (b'"converse"' in emulator.requests[-1]["body"]) is use_converse
    r = client.generate_text(model, prompt, provider_options=po, **opts)
    assert n == r.usage.input_tokens > 0
    assert type(n) is not bool
    assert not getattr(n, "estimated", True)


@pytest.mark.anyio
@pytest.mark.parametrize("use_converse", [False, True])
async def test_acount_tokens(emulator: Emulator, client: reqbed.Client, use_converse: bool) -> None:
    po = {**emulator.provider_options(), "use_converse": use_converse}
    n = await reqbed.acount_tokens(f"bedrock:{SONNET4}", "Hello there", system="Be brief.", provider_options=po)
    r = await client.agenerate_text(f"bedrock:{SONNET4}", "Hello there", system="Be brief.", provider_options=po)
    assert n == r.usage.input_tokens > 0


def test_count_tokens_refuses_or_estimates_unserved_models(emulator: Emulator) -> None:
    po = emulator.provider_options()
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.count_tokens("bedrock:amazon.nova-pro-v1:0", "Hello", provider_options=po)
    assert info.value.field == "model"
    n = reqbed.count_tokens("bedrock:amazon.nova-pro-v1:0", "Hello", provider_options=po, estimate=True)
    assert n.estimated  # type: ignore[attr-defined]
    assert n == 2 + 4
    assert emulator.requests == []  # neither was sent


def test_count_tokens_is_retried_like_any_call(emulator: Emulator, fast: reqbed.Client) -> None:
    emulator.inject("throttling", times=1)
    n = fast.count_tokens(f"bedrock:{SONNET4}", "Hello", provider_options=emulator.provider_options())
    assert n > 0
    assert len(emulator.requests) == 2


@pytest.mark.parametrize("use_converse", [False, True])
def test_the_sent_count_tokens_body_passes_botocore(
    emulator: Emulator, client: reqbed.Client, use_converse: bool
) -> None:
    import base64

    import botocore.session
    from botocore.validate import ParamValidator

    po = {**emulator.provider_options(), "use_converse": use_converse}
    prompt = "What is the weather in Paris?"
    client.count_tokens(f"bedrock:eu.{SONNET4}", prompt, tools=[WEATHER_TOOL], provider_options=po)
    (sent,) = emulator.requests
    params: dict[str, Any] = {"modelId": SONNET4, **json.loads(sent["body"])}
    if "invokeModel" in params["input"]:
        params["input"]["invokeModel"]["body"] = base64.b64decode(params["input"]["invokeModel"]["body"])
    service = botocore.session.get_session().get_service_model("bedrock-runtime")
    report = ParamValidator().validate(params, service.operation_model("CountTokens").input_shape)
    assert not report.has_errors(), report.generate_report()
    assert ("converse" in params["input"]) is use_converse
