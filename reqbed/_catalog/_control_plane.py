"""Bedrock's control plane, as pure functions: ``ListFoundationModels`` and ``ListInferenceProfiles``
request builders (on ``bedrock.{region}.amazonaws.com``, SigV4 service ``bedrock``), response parsers, and
the merge of what they say into the catalog. No I/O here: ``_build.py`` sends; the emulator answers.

Request shapes follow botocore's ``bedrock`` service model (tests/test_catalog_control_plane.py checks
them with ``ParamValidator``): ``GET /foundation-models?byProvider=&byOutputModality=&byInferenceType=``
and ``GET /inference-profiles?maxResults=&nextToken=&type=``.
"""

from __future__ import annotations

from urllib.parse import urlencode

import msgspec

from .._errors import ValidationError
from ._types import ModelCapabilities, ModelInfo

__all__ = [
    "ControlPlaneRequest",
    "control_plane_url",
    "list_foundation_models_request",
    "list_inference_profiles_request",
    "merge",
    "parse_foundation_models",
    "parse_inference_profiles",
]

_OUTPUT_MODALITIES = ("TEXT", "IMAGE", "EMBEDDING")
_INFERENCE_TYPES = ("ON_DEMAND", "PROVISIONED")
_PROFILE_TYPES = ("SYSTEM_DEFINED", "APPLICATION")
_GEOS = ("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au")


class ControlPlaneRequest(msgspec.Struct, kw_only=True, frozen=True):
    """A control-plane GET: sign ``method``/``url`` with service ``bedrock`` and send it (no body)."""

    method: str
    url: str
    operation: str
    params: dict[str, str]


def control_plane_url(region: str, endpoint_url: str | None = None) -> str:
    """``https://bedrock.{region}.amazonaws.com`` (or ``endpoint_url``, e.g. the emulator)."""
    return (endpoint_url or f"https://bedrock.{region}.amazonaws.com").rstrip("/")


def _query(url: str, path: str, params: dict[str, str]) -> str:
    return url + path + (("?" + urlencode(sorted(params.items()))) if params else "")


def list_foundation_models_request(
    region: str,
    *,
    provider: str | None = None,
    output_modality: str | None = None,
    inference_type: str | None = None,
    endpoint_url: str | None = None,
) -> ControlPlaneRequest:
    """``ListFoundationModels``: ``GET /foundation-models`` with its optional filters."""
    params: dict[str, str] = {}
    if provider is not None:
        params["byProvider"] = provider
    if output_modality is not None:
        if output_modality not in _OUTPUT_MODALITIES:
            raise ValidationError(f"must be one of {', '.join(_OUTPUT_MODALITIES)}", field="output_modality")
        params["byOutputModality"] = output_modality
    if inference_type is not None:
        if inference_type not in _INFERENCE_TYPES:
            raise ValidationError(f"must be one of {', '.join(_INFERENCE_TYPES)}", field="inference_type")
        params["byInferenceType"] = inference_type
    url = _query(control_plane_url(region, endpoint_url), "/foundation-models", params)
    return ControlPlaneRequest(method="GET", url=url, operation="ListFoundationModels", params=params)


def list_inference_profiles_request(
    region: str,
    *,
    max_results: int = 1000,
    next_token: str | None = None,
    profile_type: str = "SYSTEM_DEFINED",
    endpoint_url: str | None = None,
) -> ControlPlaneRequest:
    """``ListInferenceProfiles``: ``GET /inference-profiles`` (one page; follow ``next_token``)."""
    if not 1 <= max_results <= 1000:
        raise ValidationError("must be between 1 and 1000", field="max_results")
    if profile_type not in _PROFILE_TYPES:
        raise ValidationError(f"must be one of {', '.join(_PROFILE_TYPES)}", field="profile_type")
    params = {"maxResults": str(max_results), "type": profile_type}
    if next_token is not None:
        params["nextToken"] = next_token
    url = _query(control_plane_url(region, endpoint_url), "/inference-profiles", params)
    return ControlPlaneRequest(method="GET", url=url, operation="ListInferenceProfiles", params=params)


class _Lifecycle(msgspec.Struct, kw_only=True, rename="camel"):
    status: str = "ACTIVE"


class FoundationModelSummary(msgspec.Struct, kw_only=True, rename="camel"):
    model_id: str
    model_name: str = ""
    provider_name: str = ""
    input_modalities: list[str] = msgspec.field(default_factory=list)
    output_modalities: list[str] = msgspec.field(default_factory=list)
    response_streaming_supported: bool | None = None
    inference_types_supported: list[str] = msgspec.field(default_factory=list)
    model_lifecycle: _Lifecycle | None = None


class _FoundationModels(msgspec.Struct, kw_only=True, rename="camel"):
    model_summaries: list[FoundationModelSummary] = msgspec.field(default_factory=list)


class _ProfileModel(msgspec.Struct, kw_only=True, rename="camel"):
    model_arn: str = ""


class InferenceProfileSummary(msgspec.Struct, kw_only=True, rename="camel"):
    inference_profile_id: str
    inference_profile_name: str = ""
    status: str = "ACTIVE"
    type: str = "SYSTEM_DEFINED"
    models: list[_ProfileModel] = msgspec.field(default_factory=list)


class _InferenceProfiles(msgspec.Struct, kw_only=True, rename="camel"):
    inference_profile_summaries: list[InferenceProfileSummary] = msgspec.field(default_factory=list)
    next_token: str | None = None


def parse_foundation_models(body: bytes) -> list[FoundationModelSummary]:
    """The ``modelSummaries`` of a ``ListFoundationModels`` answer (unknown fields ignored)."""
    return msgspec.json.decode(body, type=_FoundationModels).model_summaries


def parse_inference_profiles(body: bytes) -> tuple[list[InferenceProfileSummary], str | None]:
    """One ``ListInferenceProfiles`` page: its summaries and the ``nextToken`` (``None`` on the last page)."""
    page = msgspec.json.decode(body, type=_InferenceProfiles)
    return page.inference_profile_summaries, page.next_token


def _split_profile(profile_id: str) -> tuple[str | None, str]:
    head, _, rest = profile_id.partition(".")
    return (head, rest) if rest and head in _GEOS else (None, profile_id)


def merge(
    models: tuple[ModelInfo, ...],
    region: str,
    foundation: list[FoundationModelSummary],
    profiles: list[InferenceProfileSummary],
) -> tuple[ModelInfo, ...]:
    """The catalog after what ``region``'s control plane said: on-demand regions, profile prefixes,
    lifecycle and modalities updated; models it lists that the catalog lacks are added (permissive
    capabilities, no prices: their cost is unknown until someone adds them). Curated facts are kept."""
    by_id = {m.id: m for m in models}
    order = [m.id for m in models]
    for s in foundation:
        old = by_id.get(s.model_id)
        on_demand = "ON_DEMAND" in s.inference_types_supported
        if old is None:
            old = ModelInfo(
                id=s.model_id,
                provider=s.model_id.split(".", 1)[0],
                name=s.model_name or s.model_id,
                capabilities=ModelCapabilities(),
            )
            order.append(s.model_id)
        regions = set(old.regions)
        if on_demand:
            regions.add(region)
        else:
            regions.discard(region)
        by_id[s.model_id] = msgspec.structs.replace(
            old,
            regions=tuple(sorted(regions)),
            input_modalities=tuple(s.input_modalities) or old.input_modalities,
            output_modalities=tuple(s.output_modalities) or old.output_modalities,
            lifecycle="LEGACY" if s.model_lifecycle and s.model_lifecycle.status == "LEGACY" else "ACTIVE",
        )
    for p in profiles:
        geo, base = _split_profile(p.inference_profile_id)
        if geo is None or base not in by_id:
            continue
        m = by_id[base]
        if geo not in m.profiles:
            by_id[base] = msgspec.structs.replace(m, profiles=(*m.profiles, geo))
    return tuple(by_id[i] for i in order)
