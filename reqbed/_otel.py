"""reqbed's OpenTelemetry instrumentation (imported only by ``reqbed.telemetry.enable``).

One CLIENT span per call, named ``"{gen_ai.operation.name} {gen_ai.request.model}"``, current while
the call runs (so retries and fallbacks appear as its events), ended when the call's outcome is
known: for a stream, when the stream ends. Attributes and metrics follow the OpenTelemetry GenAI
semantic conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/); reqbed's own extras are
under ``reqbed.``. Everything comes from the core's hooks (``_hooks``): call start and end, and
every attempt's start, end and retry/fallback decision.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, StatusCode

from . import _hooks
from ._version import __version__

__all__ = ["PROVIDER", "Instrumentation", "operation_name"]

PROVIDER = "aws.bedrock"
#: The semantic conventions' advised histogram buckets.
_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
_REQUEST_OPTIONS = {
    "max_tokens": "gen_ai.request.max_tokens",
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
}


def operation_name(operation: Any) -> tuple[str, str]:
    """(``gen_ai.operation.name``, ``reqbed.operation``) for an operation object."""
    own = getattr(operation, "gen_ai_operation", None)
    cls = type(operation).__name__
    verb = "".join(f"_{c.lower()}" if c.isupper() else c for c in cls).lstrip("_")  # GenerateText -> generate_text
    if isinstance(own, str):
        return own, verb
    lowered = cls.lower()
    if "embed" in lowered:
        return "embeddings", verb
    if "count" in lowered:
        return "count_tokens", verb
    return "chat", verb  # text, streams and structured output are all chat calls


def _request_model(prepared: Any) -> str:
    parts = str(getattr(prepared, "path", "")).split("/")
    if len(parts) > 2 and parts[1] == "model":
        return unquote(parts[2])
    label = str(getattr(prepared, "label", ""))
    return label.removeprefix("bedrock:")


class Instrumentation:
    """The tracer, the two histograms and the hook callbacks."""

    def __init__(self, tracer_provider: Any, meter_provider: Any, *, capture_content: bool) -> None:
        self.capture_content = capture_content
        self.tracer = trace.get_tracer("reqbed", __version__, tracer_provider)
        meter = metrics.get_meter("reqbed", __version__, meter_provider)
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )

    def install(self) -> None:
        _hooks.CALL_WATCHERS.append(self.watch)
        _hooks.OBSERVERS.append(self.on_attempt)

    def uninstall(self) -> None:
        if self.watch in _hooks.CALL_WATCHERS:
            _hooks.CALL_WATCHERS.remove(self.watch)
        if self.on_attempt in _hooks.OBSERVERS:
            _hooks.OBSERVERS.remove(self.on_attempt)

    def watch(self, started: _hooks.CallStarted) -> _CallSpan:
        return _CallSpan(self, started)

    def on_attempt(self, event: _hooks.Event) -> None:
        """An attempt event, as an event on the call's span (the current span while the call runs)."""
        span = trace.get_current_span()
        if not span.is_recording():
            return
        attrs: dict[str, Any] = {"reqbed.target": event.target, "reqbed.target.index": event.index}
        attrs["reqbed.attempt"] = event.attempt
        if isinstance(event, _hooks.AttemptStarted):
            if event.attempt > 1 or event.index > 0:  # the first attempt is the span itself
                span.add_event("reqbed.attempt", attrs)
        elif isinstance(event, _hooks.AttemptEnded):
            if event.error is not None:
                attrs["error.type"] = type(event.error).__name__
                span.add_event("reqbed.attempt.failed", attrs)
        else:
            if event.delay is not None:
                attrs["reqbed.retry.delay_s"] = event.delay
            if event.fallback_to is not None:
                attrs["reqbed.fallback.to"] = event.fallback_to
            span.add_event(f"reqbed.{event.action}", attrs)


class _CallSpan:
    """One call's span (a ``_hooks.CallWatch``)."""

    __slots__ = ("base", "inst", "span", "started", "token")

    def __init__(self, inst: Instrumentation, started: _hooks.CallStarted) -> None:
        self.inst = inst
        op = started.operation
        prepared = started.targets[0].prepared
        name, verb = operation_name(op)
        model = _request_model(prepared)
        url = urlsplit(str(getattr(prepared, "url", "")))
        base: dict[str, Any] = {
            "gen_ai.operation.name": name,
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.system": PROVIDER,  # the name before semantic conventions 1.37
            "gen_ai.request.model": model,
        }
        if url.hostname:
            base["server.address"] = url.hostname
            base["server.port"] = url.port or (443 if url.scheme == "https" else 80)
        self.base = base
        attrs = dict(base)
        attrs["reqbed.operation"] = verb
        region = getattr(prepared, "region", None)
        if region:
            attrs["cloud.region"] = region
        opts = getattr(op, "opts", None)
        if isinstance(opts, Mapping):
            for key, attr in _REQUEST_OPTIONS.items():
                value = opts.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    attrs[attr] = value
            stop = opts.get("stop")
            if stop:
                attrs["gen_ai.request.stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
            if len(started.targets) > 1:
                attrs["reqbed.fallbacks"] = len(started.targets) - 1
        if getattr(type(op), "stream", False):
            attrs["reqbed.stream"] = True
        if inst.capture_content and hasattr(op, "prompt"):
            attrs["gen_ai.input.messages"] = _messages_json(op.prompt)
            system = opts.get("system") if isinstance(opts, Mapping) else None
            if isinstance(system, str):
                attrs["gen_ai.system_instructions"] = json.dumps([{"type": "text", "content": system}])
        self.span = inst.tracer.start_span(f"{name} {model}", kind=SpanKind.CLIENT, attributes=attrs)
        self.started = time.perf_counter()
        self.token: Any = otel_context.attach(trace.set_span_in_context(self.span))

    def returned(self) -> None:
        if self.token is not None:
            otel_context.detach(self.token)
            self.token = None

    def ended(self, result: Any, error: BaseException | None) -> None:
        span, metric_attrs = self.span, dict(self.base)
        try:
            if error is not None:
                metric_attrs["error.type"] = type(error).__name__
                span.set_attribute("error.type", type(error).__name__)
                span.set_status(StatusCode.ERROR, str(error)[:512])
            elif result is None:
                span.set_attribute("reqbed.stream.closed_early", True)
            else:
                self._result(result, metric_attrs)
        finally:
            self.inst.duration.record(time.perf_counter() - self.started, metric_attrs)
            span.end()

    def _result(self, result: Any, metric_attrs: dict[str, Any]) -> None:
        span = self.span
        inner = getattr(result, "response", None)
        answer: Any = inner if hasattr(inner, "finish_reason") else result  # ObjectResponse -> its Response
        if isinstance(answer, int) and not isinstance(answer, bool):  # count_tokens
            span.set_attribute("gen_ai.usage.input_tokens", int(answer))
            return
        model = getattr(answer, "model", None)
        if isinstance(model, str):
            span.set_attribute("gen_ai.response.model", model)
            metric_attrs["gen_ai.response.model"] = model
        finish = getattr(answer, "finish_reason", None)
        if isinstance(finish, str):
            span.set_attribute("gen_ai.response.finish_reasons", [finish])
        served_by = getattr(answer, "served_by", None)
        if isinstance(served_by, str):
            span.set_attribute("reqbed.served_by", served_by)
        usage = getattr(answer, "usage", None)
        if usage is not None:
            cache_read = int(getattr(usage, "cache_read_tokens", 0) or 0)
            cache_write = int(getattr(usage, "cache_write_tokens", 0) or 0)
            # the conventions count cached tokens inside input_tokens; Bedrock reports them apart
            input_tokens = int(usage.input_tokens) + cache_read + cache_write
            output_tokens = int(getattr(usage, "output_tokens", 0) or 0)
            span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", output_tokens)
            span.set_attribute("gen_ai.usage.cache_read.input_tokens", cache_read)
            span.set_attribute("gen_ai.usage.cache_creation.input_tokens", cache_write)
            self.inst.token_usage.record(input_tokens, {**metric_attrs, "gen_ai.token.type": "input"})
            if hasattr(usage, "output_tokens") and self.base["gen_ai.operation.name"] != "embeddings":
                self.inst.token_usage.record(output_tokens, {**metric_attrs, "gen_ai.token.type": "output"})
        cost = getattr(answer, "cost", None)
        total = getattr(cost, "total", None)
        if total is not None:
            span.set_attribute("reqbed.cost.usd", float(total))
            span.set_attribute("reqbed.cost.usd_exact", str(total))
        elif cost is not None and getattr(cost, "reason", None):
            span.set_attribute("reqbed.cost.unknown", str(cost.reason))
        if self.inst.capture_content and isinstance(getattr(answer, "text", None), str):
            out = {"role": "assistant", "parts": [{"type": "text", "content": answer.text}]}
            if isinstance(finish, str):
                out["finish_reason"] = finish
            span.set_attribute("gen_ai.output.messages", json.dumps([out], ensure_ascii=False))


def _part(p: Any) -> dict[str, Any]:
    if isinstance(p, str):
        return {"type": "text", "content": p}
    if isinstance(p, Mapping):
        kind = str(p.get("type", "text"))
        if kind == "text" and isinstance(p.get("text"), str):
            return {"type": "text", "content": p["text"]}
        return {"type": kind}
    kind = str(getattr(p, "type", type(p).__name__))
    text = getattr(p, "text", None)
    if kind == "text" and isinstance(text, str):
        return {"type": "text", "content": text}
    return {"type": kind}  # images, documents, tool calls: their kind only, never bytes


def _messages_json(prompt: Any) -> str:
    """The prompt in the conventions' ``gen_ai.input.messages`` shape (text only; other parts by kind)."""
    if isinstance(prompt, str):
        messages: list[dict[str, Any]] = [{"role": "user", "parts": [_part(prompt)]}]
    else:
        messages = []
        for m in prompt if isinstance(prompt, list) else []:
            role = m.get("role") if isinstance(m, Mapping) else getattr(m, "role", None)
            content = m.get("content") if isinstance(m, Mapping) else getattr(m, "content", None)
            parts = [_part(content)] if isinstance(content, str) else [_part(p) for p in content or []]
            messages.append({"role": str(role), "parts": parts})
    return json.dumps(messages, ensure_ascii=False)
