"""Bedrock's per-call request features: guardrails, service tier, latency, request metadata and
extra response fields. Validated here (no I/O) with AWS's own limits (botocore's
``bedrock-runtime`` model); written to the wire for Converse (body fields) and InvokeModel
(``X-Amzn-Bedrock-*`` headers), and read back from either answer.

    guardrail={"id": "gr-1", "version": "1", "trace": "enabled"}   # or reqbed.Guardrail(...)
    service_tier="priority" | "default" | "flex"
    latency="standard" | "optimized"
    request_metadata={"team": "search"}
    provider_options={"additional_model_response_field_paths": ["/stop_sequence"]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from ._errors import ValidationError
from ._types import Guardrail, GuardrailResult

__all__ = [
    "Features",
    "converse_fields",
    "converse_guardrail",
    "invoke_headers",
    "native_guardrail",
    "parse_features",
    "read_back_headers",
]

#: botocore's bedrock-runtime model: GuardrailIdentifier, GuardrailVersion, RequestMetadata.
_GUARDRAIL_ID = re.compile(r"[a-z0-9]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+")
_GUARDRAIL_VERSION = re.compile(r"[1-9][0-9]{0,7}|DRAFT")
_METADATA_KEY = re.compile(r"[a-zA-Z0-9\s:_@$#=/+,\-.]{1,256}")
_METADATA_VALUE = re.compile(r"[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}")
_MAX_METADATA = 16
_MAX_METADATA_HEADER = 8500
_MAX_FIELD_PATHS = 10
SERVICE_TIERS = ("priority", "default", "flex")
LATENCIES = ("standard", "optimized")


class Features(msgspec.Struct, kw_only=True, frozen=True):
    """The validated features of one call (all optional)."""

    guardrail: Guardrail | None = None
    service_tier: str | None = None
    latency: str | None = None
    request_metadata: dict[str, str] | None = None
    response_field_paths: list[str] | None = None


NONE = Features()


def _fail(message: str, field: str) -> ValidationError:
    return ValidationError(message, field=field)


def _guardrail(value: Any) -> Guardrail | None:
    if value is None:
        return None
    if isinstance(value, Guardrail):
        value = msgspec.structs.asdict(value)
    if not isinstance(value, Mapping):
        raise _fail(f"must be a dict or reqbed.Guardrail, got {type(value).__name__}", "guardrail")
    unknown = set(value) - {"id", "version", "trace", "stream_mode"}
    if unknown:
        raise _fail(f"unknown key(s) {sorted(unknown)}", f"guardrail.{sorted(unknown)[0]}")
    gid, version = value.get("id"), value.get("version")
    if not isinstance(gid, str) or len(gid) > 2048 or not _GUARDRAIL_ID.fullmatch(gid):
        raise _fail("must be a guardrail id (lowercase letters and digits) or a guardrail ARN", "guardrail.id")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not _GUARDRAIL_VERSION.fullmatch(version):
        raise _fail('must be a version number ("1" ...) or "DRAFT"', "guardrail.version")
    trace = value.get("trace")
    if trace not in (None, "enabled", "enabled_full", "disabled"):
        raise _fail(f'must be "enabled", "enabled_full" or "disabled", got {trace!r}', "guardrail.trace")
    mode = value.get("stream_mode")
    if mode not in (None, "sync", "async"):
        raise _fail(f'must be "sync" or "async", got {mode!r}', "guardrail.stream_mode")
    return Guardrail(id=gid, version=version, trace=trace, stream_mode=mode)


def _choice(opts: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = opts.get(name)
    if value is not None and value not in allowed:
        raise _fail(f"must be one of {list(allowed)}, got {value!r}", name)
    return value


def _metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise _fail("must be a non-empty dict of strings", "request_metadata")
    if len(value) > _MAX_METADATA:
        raise _fail(f"holds {len(value)} entries; Bedrock allows at most {_MAX_METADATA}", "request_metadata")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not _METADATA_KEY.fullmatch(k):
            raise _fail(f"key {k!r} must be 1-256 of letters, digits, whitespace and :_@$#=/+,-.", "request_metadata")
        if not isinstance(v, str) or not _METADATA_VALUE.fullmatch(v):
            raise _fail("values must be 0-256 of letters, digits, whitespace and :_@$#=/+,-.", f"request_metadata.{k}")
        out[k] = v
    return out


def _field_paths(value: Any) -> list[str] | None:
    field = "provider_options.additional_model_response_field_paths"
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(p, str) and 1 <= len(p) <= 256 for p in value):
        raise _fail("must be a list of JSON Pointer strings (1-256 characters each)", field)
    if len(value) > _MAX_FIELD_PATHS:
        raise _fail(f"holds {len(value)} paths; Bedrock allows at most {_MAX_FIELD_PATHS}", field)
    if not all(p.startswith("/") for p in value):
        raise _fail('each path is a JSON Pointer starting with "/" (e.g. "/stop_sequence")', field)
    return list(value)


def parse_features(opts: Mapping[str, Any], field_paths: Any = None) -> Features:
    """Validate the feature options of one call (``ValidationError`` naming the field)."""
    features = Features(
        guardrail=_guardrail(opts.get("guardrail")),
        service_tier=_choice(opts, "service_tier", SERVICE_TIERS),
        latency=_choice(opts, "latency", LATENCIES),
        request_metadata=_metadata(opts.get("request_metadata")),
        response_field_paths=_field_paths(field_paths),
    )
    return NONE if features == NONE else features


# -- Converse ------------------------------------------------------------------------------------


def converse_fields(features: Features, *, stream: bool) -> dict[str, Any]:
    """The top-level Converse body fields for these features."""
    body: dict[str, Any] = {}
    g = features.guardrail
    if g is not None:
        config: dict[str, Any] = {"guardrailIdentifier": g.id, "guardrailVersion": g.version}
        if g.trace is not None:
            config["trace"] = g.trace
        if g.stream_mode is not None:
            if not stream:
                raise _fail("is ConverseStream's processing mode: it needs a streamed call", "guardrail.stream_mode")
            config["streamProcessingMode"] = g.stream_mode
        body["guardrailConfig"] = config
    if features.service_tier is not None:
        body["serviceTier"] = {"type": features.service_tier}
    if features.latency is not None:
        body["performanceConfig"] = {"latency": features.latency}
    if features.request_metadata is not None:
        body["requestMetadata"] = dict(features.request_metadata)
    if features.response_field_paths is not None:
        body["additionalModelResponseFieldPaths"] = list(features.response_field_paths)
    return body


def converse_guardrail(features: Features, stop_reason: Any, trace: Any) -> GuardrailResult | None:
    """``Response.guardrail`` of a Converse answer (None when no guardrail was configured)."""
    if features.guardrail is None:
        return None
    action: Literal["INTERVENED", "NONE"] = "INTERVENED" if stop_reason == "guardrail_intervened" else "NONE"
    guard = trace.get("guardrail") if isinstance(trace, dict) else None
    return GuardrailResult(action=action, trace=guard if isinstance(guard, dict) else None)


# -- InvokeModel ---------------------------------------------------------------------------------


def invoke_headers(features: Features) -> dict[str, str]:
    """InvokeModel's request headers for these features (botocore's InvokeModel input shape)."""
    if features.response_field_paths is not None:
        raise _fail(
            "is a Converse field; InvokeModel answers carry the model's whole body (see .raw)",
            "provider_options.additional_model_response_field_paths",
        )
    headers: dict[str, str] = {}
    g = features.guardrail
    if g is not None:
        if g.stream_mode is not None:
            raise _fail("is ConverseStream's processing mode: InvokeModel has none", "guardrail.stream_mode")
        headers["X-Amzn-Bedrock-GuardrailIdentifier"] = g.id
        headers["X-Amzn-Bedrock-GuardrailVersion"] = g.version
        if g.trace is not None:
            headers["X-Amzn-Bedrock-Trace"] = g.trace.upper()
    if features.service_tier is not None:
        headers["X-Amzn-Bedrock-Service-Tier"] = features.service_tier
    if features.latency is not None:
        headers["X-Amzn-Bedrock-PerformanceConfig-Latency"] = features.latency
    if features.request_metadata is not None:
        encoded = json.dumps(features.request_metadata, separators=(",", ":"))
        if len(encoded) > _MAX_METADATA_HEADER:
            raise _fail(
                f"is {len(encoded)} bytes as JSON; InvokeModel allows {_MAX_METADATA_HEADER}", "request_metadata"
            )
        headers["X-Amzn-Bedrock-Request-Metadata"] = encoded
    return headers


def native_guardrail(features: Features | None, data: Any) -> GuardrailResult | None:
    """``Response.guardrail`` from a native body or stream chunk: ``amazon-bedrock-guardrailAction``
    and ``amazon-bedrock-trace`` (None when no guardrail was configured and none is reported)."""
    if not isinstance(data, dict):
        return None
    action = data.get("amazon-bedrock-guardrailAction")
    if action is None and (features is None or features.guardrail is None):
        return None
    trace = data.get("amazon-bedrock-trace")
    guard = trace.get("guardrail") if isinstance(trace, dict) else None
    return GuardrailResult(
        action="INTERVENED" if action == "INTERVENED" else "NONE", trace=guard if isinstance(guard, dict) else None
    )


def read_back_headers(headers: Mapping[str, str] | None) -> tuple[str | None, str | None]:
    """(service tier, latency) an InvokeModel answer's headers say were applied."""
    if not headers:
        return None, None
    lower = {k.lower(): v for k, v in headers.items()}
    return lower.get("x-amzn-bedrock-service-tier"), lower.get("x-amzn-bedrock-performanceconfig-latency")
