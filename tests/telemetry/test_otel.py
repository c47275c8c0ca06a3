"""``reqbed.telemetry``: spans, events and metrics per the GenAI semantic conventions (SDK in-memory exporter)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import reqbed
import reqbed.telemetry
from reqbed import _hooks
from reqbed._retry import RetryPolicy
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator
from tests.support import REPO

NOVA = "bedrock:amazon.nova-pro-v1:0"
LITE = "bedrock:amazon.nova-lite-v1:0"


@dataclass
class Otel:
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        data = self.reader.get_metrics_data()
        out = []
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.name == name:
                        out += [(dict(p.attributes or {}), p) for p in m.data.data_points]
        return out


def _enable(capture_content: bool | None = None) -> Iterator[Otel]:
    exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    reqbed.telemetry.enable(
        tracer_provider=tp, meter_provider=MeterProvider(metric_readers=[reader]), capture_content=capture_content
    )
    try:
        yield Otel(exporter, reader)
    finally:
        reqbed.telemetry.disable()
    assert _hooks.CALL_WATCHERS == []
    assert _hooks.OBSERVERS == []


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Otel]:
    monkeypatch.delenv(reqbed.telemetry.CAPTURE_CONTENT_ENV, raising=False)
    yield from _enable()


@pytest.fixture
def otel_content() -> Iterator[Otel]:
    yield from _enable(capture_content=True)


def fast() -> reqbed.Client:
    return reqbed.Client(retry_policy=RetryPolicy(random=lambda: 0.25))


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


@pytest.mark.anyio
async def test_a_chat_span(emulator: Emulator, otel: Otel) -> None:
    async with fast() as c:
        r = await c.agenerate_text("bedrock:nova-pro", "span me", provider_options=po(emulator), max_tokens=64)
    [span] = otel.finished()
    a = dict(span.attributes or {})
    assert span.name == "chat amazon.nova-pro-v1:0"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == a["gen_ai.system"] == "aws.bedrock"
    assert a["gen_ai.request.model"] == "amazon.nova-pro-v1:0"
    assert a["gen_ai.request.max_tokens"] == 64
    assert a["gen_ai.response.model"] == r.model
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.usage.input_tokens"] == r.usage.input_tokens + r.usage.cache_read_tokens
    assert a["gen_ai.usage.output_tokens"] == r.usage.output_tokens
    assert a["gen_ai.usage.cache_read.input_tokens"] == 0
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == emulator.port
    assert a["cloud.region"] == "us-east-1"
    assert a["reqbed.operation"] == "generate_text"
    assert a["reqbed.cost.usd_exact"] == str(r.cost.total)
    assert "error.type" not in a
    assert "gen_ai.input.messages" not in a  # content only when asked for
    assert "gen_ai.output.messages" not in a
    assert span.events == ()  # one attempt: the span itself


def test_metrics(emulator: Emulator, otel: Otel) -> None:
    with fast() as c:
        r = c.generate_text(NOVA, "metrics", provider_options=po(emulator))
    tokens = {a["gen_ai.token.type"]: p for a, p in otel.points("gen_ai.client.token.usage")}
    assert tokens["input"].sum == r.usage.input_tokens
    assert tokens["output"].sum == r.usage.output_tokens
    attrs = next(a for a, _ in otel.points("gen_ai.client.token.usage"))
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"
    assert attrs["gen_ai.request.model"] == attrs["gen_ai.response.model"] == "amazon.nova-pro-v1:0"
    [(dattrs, duration)] = otel.points("gen_ai.client.operation.duration")
    assert duration.count == 1
    assert duration.sum > 0
    assert "error.type" not in dattrs


def test_retry_and_fallback_are_events_on_the_call_span(emulator: Emulator, otel: Otel) -> None:
    emulator.inject("throttling", 1, match="otel retried")
    emulator.inject("access_denied", 1, match="otel retried")
    with fast() as c:
        r = c.generate_text(NOVA, "otel retried", provider_options=po(emulator), fallbacks=[{"model": LITE}])
    assert r.served_by == LITE
    [span] = otel.finished()
    events = [(e.name, dict(e.attributes or {})) for e in span.events]
    assert [name for name, _ in events] == [
        "reqbed.attempt.failed",
        "reqbed.retry",
        "reqbed.attempt",
        "reqbed.attempt.failed",
        "reqbed.fallback",
        "reqbed.attempt",
    ]
    assert events[0][1]["error.type"] == "ThrottlingError"
    assert events[1][1]["reqbed.retry.delay_s"] == 0.125
    assert events[3][1]["error.type"] == "AccessDeniedError"
    assert events[4][1]["reqbed.fallback.to"] == LITE
    assert events[5][1]["reqbed.target.index"] == 1
    a = dict(span.attributes or {})
    assert a["reqbed.fallbacks"] == 1
    assert a["reqbed.served_by"] == LITE
    assert a["gen_ai.response.model"] == "amazon.nova-lite-v1:0"


def test_an_error_marks_span_and_duration(emulator: Emulator, otel: Otel) -> None:
    emulator.inject("validation", 1, match="otel refused")
    with fast() as c, pytest.raises(reqbed.BadRequestError):
        c.generate_text(NOVA, "otel refused", provider_options=po(emulator))
    [span] = otel.finished()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "BadRequestError"
    assert [e.name for e in span.events] == ["reqbed.attempt.failed", "reqbed.give_up"]
    [(attrs, _)] = otel.points("gen_ai.client.operation.duration")
    assert attrs["error.type"] == "BadRequestError"
    assert otel.points("gen_ai.client.token.usage") == []


@pytest.mark.anyio
async def test_a_stream_span_ends_with_the_stream(emulator: Emulator, otel: Otel) -> None:
    async with fast() as c:
        stream = await c.astream_text(NOVA, "otel stream", provider_options=po(emulator))
        assert otel.finished() == []  # open while the stream is read
        async with stream:
            r = await stream.response()
    [span] = otel.finished()
    a = dict(span.attributes or {})
    assert a["reqbed.stream"] is True
    assert a["reqbed.operation"] == "stream_text"
    assert a["gen_ai.usage.output_tokens"] == r.usage.output_tokens > 0


def test_a_stream_closed_early(emulator: Emulator, otel: Otel) -> None:
    with fast() as c:
        stream = c.stream_text(NOVA, "otel stream closed early " * 20, provider_options=po(emulator))
        with stream:
            next(iter(stream))
    [span] = otel.finished()
    a = dict(span.attributes or {})
    assert a["reqbed.stream.closed_early"] is True
    assert "gen_ai.usage.output_tokens" not in a


def test_a_broken_stream_is_an_error(emulator: Emulator, otel: Otel) -> None:
    emulator.inject("truncate", 1, match="otel truncated", after=2)
    with (
        fast() as c,
        pytest.raises(reqbed.ReqbedError),
        c.stream_text(NOVA, "otel truncated stream " * 10, provider_options=po(emulator)) as s,
    ):
        s.response()
    [span] = otel.finished()
    assert span.status.status_code is StatusCode.ERROR
    assert "error.type" in (span.attributes or {})


def test_no_span_when_disabled(emulator: Emulator) -> None:
    exporter = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    reqbed.telemetry.enable(tracer_provider=tp)
    reqbed.telemetry.disable()
    assert not reqbed.telemetry.enabled()
    with fast() as c:
        c.generate_text(NOVA, "not traced", provider_options=po(emulator))
    assert exporter.get_finished_spans() == ()


def test_content_only_when_enabled_and_never_credentials(emulator: Emulator, otel_content: Otel) -> None:
    with fast() as c:
        r = c.generate_text(
            NOVA,
            [{"role": "user", "content": "what is in the box"}],
            system="be brief",
            provider_options=po(emulator),
        )
    [span] = otel_content.finished()
    a = dict(span.attributes or {})
    assert json.loads(str(a["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "what is in the box"}]}
    ]
    assert json.loads(str(a["gen_ai.system_instructions"])) == [{"type": "text", "content": "be brief"}]
    out = json.loads(str(a["gen_ai.output.messages"]))
    assert out[0]["parts"][0]["content"] == r.text
    everything = repr(a) + repr([e.attributes for e in span.events])
    assert EXAMPLE_SECRET_ACCESS_KEY not in everything
    assert EXAMPLE_ACCESS_KEY_ID not in everything


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    full = {k: v for k, v in os.environ.items() if k != reqbed.telemetry.ENABLE_ENV}
    full.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, cwd=REPO)


def test_import_reqbed_does_not_import_opentelemetry() -> None:
    code = (
        "import sys, reqbed, reqbed.telemetry\n"
        "assert not reqbed.telemetry.enabled()\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'opentelemetry imported'\n"
    )
    p = _run(code)
    assert p.returncode == 0, p.stderr


def test_env_var_enables_at_import() -> None:
    code = "import sys, reqbed\nassert reqbed.telemetry.enabled()\nassert 'opentelemetry.trace' in sys.modules\n"
    p = _run(code, REQBED_OTEL="1")
    assert p.returncode == 0, p.stderr


def test_missing_extra_names_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None  # as if opentelemetry-api were not installed\n"
        "import reqbed.telemetry\n"
        "try:\n"
        "    reqbed.telemetry.enable()\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    p = _run(code)
    assert p.returncode == 0, p.stderr
    assert "pip install 'reqbed[otel]'" in p.stdout
