"""Cost: ``cost_of`` against figures worked by hand from AWS's Bedrock pricing page
(https://aws.amazon.com/bedrock/pricing/, prices per million tokens, as recorded in the catalog with its
``as_of``), ``Response.cost`` and ``UsageTotals`` (threads and tasks)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

import reqbed
from reqbed import Response, Usage
from reqbed.models import Cost, UsageTotals, cost_of
from reqbed.testing import Emulator

D = Decimal
ROOT = Path(__file__).resolve().parents[1]
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def _usage(i: int = 0, o: int = 0, read: int = 0, write: int = 0) -> Usage:
    return Usage(input_tokens=i, output_tokens=o, total_tokens=i + o + read + write, cache_read_tokens=read,
                 cache_write_tokens=write)  # fmt: skip


def _check(cost: Cost, *, input: str, output: str, cache_read: str = "0", cache_write: str = "0", total: str) -> None:
    assert cost.reason is None
    assert (cost.input, cost.output, cost.cache_read, cost.cache_write, cost.total) == (
        D(input), D(output), D(cache_read), D(cache_write), D(total)
    )  # fmt: skip
    assert cost.input + cost.output + cost.cache_read + cost.cache_write == cost.total  # type: ignore[operator]


# -- Claude: cache reads and 5m / 1h cache writes at their own rates ----------------------------------


def test_claude_sonnet_4_5_global_with_5m_and_1h_cache_writes() -> None:
    # global. profile, list price: input $3, output $15, cache read $0.30, cache write 5m $3.75, 1h $6 per MTok
    cost = cost_of(f"global.{SONNET_45}", "us-east-1", _usage(2_000, 500, 10_000, 5_000),
                   cache_write_by_ttl={"5m": 4_000, "1h": 1_000})  # fmt: skip
    # input      2,000 x 3.00 / 1e6 = 0.006
    # output       500 x 15.0 / 1e6 = 0.0075
    # cache read 10,000 x 0.30 / 1e6 = 0.003
    # writes 5m  4,000 x 3.75 / 1e6 = 0.015   + 1h 1,000 x 6.00 / 1e6 = 0.006   = 0.021
    # total = 0.006 + 0.0075 + 0.003 + 0.021 = 0.0375
    _check(cost, input="0.006", output="0.0075", cache_read="0.003", cache_write="0.021", total="0.0375")


def test_claude_sonnet_4_5_geo_profile_costs_ten_percent_more() -> None:
    # us. (geo) profile: every rate x 1.1 -> $3.30 / $16.50 / $0.33 / 5m $4.125 / 1h $6.60
    cost = cost_of(f"us.{SONNET_45}", "us-west-2", _usage(2_000, 500, 10_000, 5_000),
                   cache_write_by_ttl={"5m": 4_000, "1h": 1_000})  # fmt: skip
    # 2,000 x 3.30 = 0.0066; 500 x 16.50 = 0.00825; 10,000 x 0.33 = 0.0033
    # 4,000 x 4.125 = 0.0165 + 1,000 x 6.60 = 0.0066 -> 0.0231; total 0.04125
    _check(cost, input="0.0066", output="0.00825", cache_read="0.0033", cache_write="0.0231", total="0.04125")


def test_cache_writes_without_a_ttl_split_are_priced_at_the_5m_rate() -> None:
    # Claude Haiku 4.5, global: input $1, output $5, cache read $0.10, 5m write $1.25
    cost = cost_of("global.anthropic.claude-haiku-4-5-20251001-v1:0", None, _usage(100, 20, 0, 1_000))
    # 100 x 1 = 0.0001; 20 x 5 = 0.0001; 1,000 x 1.25 = 0.00125; total 0.00145
    _check(cost, input="0.0001", output="0.0001", cache_write="0.00125", total="0.00145")


def test_claude_opus_4_1_has_no_1h_cache_price_so_the_cost_is_unknown_not_zero() -> None:
    cost = cost_of("us.anthropic.claude-opus-4-1-20250805-v1:0", "us-east-1", _usage(100, 10, 0, 2_000),
                   cache_write_by_ttl={"1h": 2_000})  # fmt: skip
    assert cost.total is None
    assert cost.reason is not None
    assert "cache_write_1h" in cost.reason
    # 100 x 15 / 1e6: the parts that are known are still given
    assert cost.input == D("0.0015")


def test_claude_3_7_batch_is_half_price() -> None:
    # $3 / $15 per MTok on demand; batch 50%: 1M x 1.50 = 1.5, 1M x 7.50 = 7.5
    cost = cost_of("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "us-east-1", _usage(1_000_000, 1_000_000),
                   batch=True)  # fmt: skip
    _check(cost, input="1.5", output="7.5", total="9.0")


# -- Nova, with service tiers ------------------------------------------------------------------------


def test_nova_pro_standard_flex_and_priority() -> None:
    usage = _usage(10_000, 2_000, 50_000)
    # Nova Pro: input $0.80, output $3.20, cache read $0.20 per MTok
    # 10,000 x 0.80 = 0.008; 2,000 x 3.20 = 0.0064; 50,000 x 0.20 = 0.01; total 0.0244
    _check(cost_of("amazon.nova-pro-v1:0", "us-east-1", usage),
           input="0.008", output="0.0064", cache_read="0.01", total="0.0244")  # fmt: skip
    # flex: 50% -> 0.004 + 0.0032 + 0.005 = 0.0122
    _check(cost_of("amazon.nova-pro-v1:0", "us-east-1", usage, service_tier="flex"),
           input="0.004", output="0.0032", cache_read="0.005", total="0.0122")  # fmt: skip
    # priority: +75% -> 0.014 + 0.0112 + 0.0175 = 0.0427
    _check(cost_of("amazon.nova-pro-v1:0", "us-east-1", usage, service_tier="priority"),
           input="0.014", output="0.0112", cache_read="0.0175", total="0.0427")  # fmt: skip
    # "default" is the standard tier
    assert cost_of("amazon.nova-pro-v1:0", "us-east-1", usage, service_tier="default").total == D("0.0244")


def test_nova_micro() -> None:
    # $0.035 input, $0.14 output per MTok: 1,000,000 x 0.035 = 0.035; 100,000 x 0.14 = 0.014
    _check(cost_of("us.amazon.nova-micro-v1:0", "us-east-1", _usage(1_000_000, 100_000)),
           input="0.035", output="0.014", total="0.049")  # fmt: skip


# -- Llama, gpt-oss, Cohere Command R ----------------------------------------------------------------


def test_llama_3_3_70b_and_llama_4_maverick() -> None:
    # Llama 3.3 70B: $0.72 / $0.72: 1,500 x 0.72 = 0.00108; 700 x 0.72 = 0.000504; total 0.001584
    _check(cost_of("us.meta.llama3-3-70b-instruct-v1:0", "us-east-2", _usage(1_500, 700)),
           input="0.00108", output="0.000504", total="0.001584")  # fmt: skip
    # Llama 4 Maverick: $0.24 / $0.97: 10,000 x 0.24 = 0.0024; 1,000 x 0.97 = 0.00097; total 0.00337
    _check(cost_of("us.meta.llama4-maverick-17b-instruct-v1:0", "us-east-1", _usage(10_000, 1_000)),
           input="0.0024", output="0.00097", total="0.00337")  # fmt: skip


def test_llama_has_no_cache_price_so_cache_reads_make_the_cost_unknown() -> None:
    cost = cost_of("us.meta.llama3-3-70b-instruct-v1:0", "us-east-1", _usage(10, 10, read=5))
    assert cost.total is None
    assert "cache_read" in (cost.reason or "")


def test_gpt_oss_standard_priority_flex() -> None:
    usage = _usage(3_000, 1_200)
    # gpt-oss-120b: $0.15 / $0.60: 3,000 x 0.15 = 0.00045; 1,200 x 0.60 = 0.00072; total 0.00117
    _check(cost_of("openai.gpt-oss-120b-1:0", "us-west-2", usage), input="0.00045", output="0.00072", total="0.00117")
    # priority x1.75: 0.0007875 + 0.00126 = 0.0020475; flex x0.5: 0.000225 + 0.00036 = 0.000585
    _check(cost_of("openai.gpt-oss-120b-1:0", "us-west-2", usage, service_tier="priority"),
           input="0.0007875", output="0.00126", total="0.0020475")  # fmt: skip
    _check(cost_of("openai.gpt-oss-120b-1:0", "us-west-2", usage, service_tier="flex"),
           input="0.000225", output="0.00036", total="0.000585")  # fmt: skip
    # gpt-oss-20b: $0.07 / $0.30: 1M each -> 0.07 + 0.3 = 0.37
    _check(cost_of("bedrock:openai.gpt-oss-20b-1:0", None, _usage(1_000_000, 1_000_000)),
           input="0.07", output="0.3", total="0.37")  # fmt: skip


def test_cohere_command_r_and_r_plus() -> None:
    # R: $0.50 / $1.50 -> 1,000 x 0.5 = 0.0005; 500 x 1.5 = 0.00075
    _check(cost_of("cohere.command-r-v1:0", "us-east-1", _usage(1_000, 500)),
           input="0.0005", output="0.00075", total="0.00125")  # fmt: skip
    # R+: $3 / $15 -> 1,000 x 3 = 0.003; 500 x 15 = 0.0075
    _check(cost_of("cohere.command-r-plus-v1:0", "us-west-2", _usage(1_000, 500)),
           input="0.003", output="0.0075", total="0.0105")  # fmt: skip


# -- embeddings: input tokens only -------------------------------------------------------------------


def test_titan_and_cohere_embeddings() -> None:
    # Titan Text Embeddings V2: $0.02 per MTok: 1,234 x 0.02 / 1e6 = 0.00002468
    _check(cost_of("amazon.titan-embed-text-v2:0", "us-east-1", {"input_tokens": 1_234}),
           input="0.00002468", output="0", total="0.00002468")  # fmt: skip
    # Titan Embeddings G1: $0.10 per MTok: 1,000 x 0.1 / 1e6 = 0.0001
    _check(cost_of("amazon.titan-embed-text-v1", "us-east-1", {"input_tokens": 1_000}),
           input="0.0001", output="0", total="0.0001")  # fmt: skip
    # Cohere Embed English v3: $0.10 per MTok: 5,000 x 0.1 / 1e6 = 0.0005
    _check(cost_of("cohere.embed-english-v3", "eu-west-1", {"input_tokens": 5_000}),
           input="0.0005", output="0", total="0.0005")  # fmt: skip
    # an embeddings model has no output price: output tokens cannot be priced
    assert cost_of("cohere.embed-english-v3", None, {"input_tokens": 5, "output_tokens": 1}).total is None


# -- unknown prices: never 0 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kwargs", "reason"),
    [
        ("writer.palmyra-x9-v1:0", {}, "not in reqbed's model catalog"),
        ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123", {}, "not in reqbed's"),
        ("anthropic.claude-3-haiku-20240307-v1:0", {"service_tier": "priority"}, "no priority tier"),
        ("amazon.nova-pro-v1:0", {"service_tier": "turbo"}, "unknown service tier"),
        ("cohere.command-r-v1:0", {"batch": True}, "no batch price"),
        ("amazon.nova-pro-v1:0", {"cache_write_by_ttl": {"30m": 10}}, "unknown cache TTL"),
        ("amazon.nova-pro-v1:0", {"cache_write_by_ttl": {"5m": 3}}, "adds up to 3"),
    ],
)
def test_unknown_prices_give_a_reason_and_no_total(model: str, kwargs: dict[str, object], reason: str) -> None:
    cost = cost_of(model, "us-east-1", _usage(100, 10, 0, 10), **kwargs)  # type: ignore[arg-type]
    assert cost.total is None
    assert not cost.known
    assert reason in (cost.reason or "")


def test_zero_usage_costs_zero_when_the_price_is_known() -> None:
    _check(cost_of("amazon.nova-lite-v1:0", None, Usage()), input="0", output="0", total="0")


# -- Response.cost and UsageTotals ---------------------------------------------------------------------


def _response(model: str, usage: Usage, region: str | None = None) -> Response:
    msg = reqbed.Message(role="assistant", content="ok")
    return Response(text="ok", thinking=None, tool_calls=[], finish_reason="stop", usage=usage, model=model,
                    message=msg, region=region)  # fmt: skip


def test_response_cost_uses_model_region_and_usage() -> None:
    r = _response(f"global.{SONNET_45}", _usage(2_000, 500, 10_000, 5_000))
    # as the global test above, all 5,000 writes at the 5m rate: 5,000 x 3.75 / 1e6 = 0.01875
    # total 0.006 + 0.0075 + 0.003 + 0.01875 = 0.03525
    assert r.cost.total == D("0.03525")
    assert _response("writer.palmyra-x9-v1:0", _usage(1, 1)).cost.total is None


def test_response_cost_end_to_end_against_the_emulator(emulator: Emulator) -> None:
    r = reqbed.generate_text("bedrock:nova-lite", "Hello there", provider_options=emulator.provider_options())
    assert r.model == "amazon.nova-lite-v1:0"
    expected = (r.usage.input_tokens * D("0.06") + r.usage.output_tokens * D("0.24")) / 1_000_000
    assert r.usage.input_tokens > 0
    assert r.cost.total == expected


def test_usage_totals_add_up_per_model_and_overall() -> None:
    totals = UsageTotals()
    totals.add(_response("amazon.nova-pro-v1:0", _usage(10_000, 2_000)))  # 0.008 + 0.0064 = 0.0144
    totals.add(_response("amazon.nova-pro-v1:0", _usage(10_000, 2_000)))  # again
    totals.add(_response("openai.gpt-oss-120b-1:0", _usage(3_000, 1_200)))  # 0.00117
    assert totals.calls == 3
    assert totals.usage.input_tokens == 23_000
    assert totals.usage.output_tokens == 5_200
    assert totals.cost.total == D("0.02997")  # 0.0144 x 2 + 0.00117
    by = totals.by_model
    assert set(by) == {"amazon.nova-pro-v1:0", "openai.gpt-oss-120b-1:0"}
    assert by["amazon.nova-pro-v1:0"].calls == 2
    assert by["amazon.nova-pro-v1:0"].cost.total == D("0.0288")
    totals.add(_response("writer.palmyra-x9-v1:0", _usage(1, 1)))
    assert totals.cost.total is None
    assert "not in reqbed's model catalog" in (totals.cost.reason or "")
    assert by["amazon.nova-pro-v1:0"].calls == 2  # by_model is a snapshot
    assert "unknown" in repr(totals)


def test_usage_totals_is_thread_safe() -> None:
    totals = UsageTotals()
    r = _response("amazon.nova-micro-v1:0", _usage(1_000, 100))  # 0.000035 + 0.000014 = 0.000049

    def work(_: int) -> None:
        for _ in range(200):
            totals.add(r)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert totals.calls == 1_600
    assert totals.usage.input_tokens == 1_600_000
    assert totals.cost.total == D("0.000049") * 1_600


@pytest.mark.anyio
async def test_usage_totals_is_task_safe(emulator: Emulator) -> None:
    totals = UsageTotals()
    async with reqbed.Client() as client:

        async def call(i: int) -> None:
            r = await client.agenerate_text(
                "bedrock:gpt-oss-20b", f"call {i}", provider_options=emulator.provider_options(region="us-west-2")
            )
            await anyio.sleep(0)
            totals.add(r)

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(call, i)
    assert totals.calls == 20
    u = totals.usage
    assert totals.by_model.keys() == {"openai.gpt-oss-20b-1:0"}
    assert totals.cost.total == (u.input_tokens * D("0.07") + u.output_tokens * D("0.3")) / 1_000_000


def test_stream_response_has_a_cost(emulator: Emulator) -> None:
    stream = reqbed.stream_text(
        "bedrock:nova-micro", "stream me", provider_options=emulator.provider_options(region="eu-west-1")
    )
    r = stream.response()
    assert r.model == "eu.amazon.nova-micro-v1:0"
    # Nova Micro through eu.: $0.035 input, $0.14 output per MTok
    assert r.cost.total == (r.usage.input_tokens * D("0.035") + r.usage.output_tokens * D("0.14")) / 1_000_000
    assert r.cost.total > 0


@pytest.mark.anyio
async def test_async_stream_response_has_a_cost(emulator: Emulator) -> None:
    async with reqbed.Client() as client:
        stream = await client.astream_text(
            "bedrock:gpt-oss-120b", "stream me", provider_options=emulator.provider_options(region="us-west-2")
        )
        r = await stream.response()
    assert r.model == "openai.gpt-oss-120b-1:0"
    assert r.cost.total == (r.usage.input_tokens * D("0.15") + r.usage.output_tokens * D("0.6")) / 1_000_000


def test_the_catalog_loads_on_the_first_call_not_on_import() -> None:
    """``import reqbed`` never loads the catalog; the first call does (step 2 reads the model's
    capabilities from it), and ``Response.cost`` is computed when read, from the loaded catalog."""
    code = (
        "import sys, reqbed\n"
        "assert 'reqbed._catalog._store' not in sys.modules, 'import reqbed loaded the catalog'\n"
        "from reqbed.testing import Emulator\n"
        "with Emulator(models={'amazon.nova-pro-v1:0'}) as emu:\n"
        "    r = reqbed.generate_text('bedrock:amazon.nova-pro-v1:0', 'Hi', provider_options=emu.provider_options())\n"
        "assert sys.modules['reqbed._catalog._store']._catalog is not None  # loaded by step 2\n"
        "assert r.cost.total is not None and r.cost.total > 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
