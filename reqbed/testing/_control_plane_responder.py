"""The emulator's Bedrock control plane: ``ListFoundationModels`` (``GET /foundation-models``) and
``ListInferenceProfiles`` (``GET /inference-profiles``), answered from reqbed's model catalog in AWS's
JSON shape (botocore's ``bedrock`` output shapes). Plain functions of (region, query); no I/O.

A model is listed in a region when the catalog serves it there on demand (``inferenceTypesSupported``
``["ON_DEMAND"]``) or through a profile reachable from there (``["INFERENCE_PROFILE"]``); profiles are the
catalog's prefixes that serve the region (``us``/``eu``/``apac``/``jp``/``au``/``global`` ...).
"""

from __future__ import annotations

import re
from typing import Any

from .._catalog._store import catalog, geo_candidates
from .._catalog._types import ModelInfo

__all__ = ["CONTROL_PLANE_PATHS", "answer", "list_foundation_models", "list_inference_profiles", "region_of"]

CONTROL_PLANE_PATHS = ("/foundation-models", "/inference-profiles")

_PROVIDERS = {
    "amazon": "Amazon",
    "anthropic": "Anthropic",
    "cohere": "Cohere",
    "deepseek": "DeepSeek",
    "meta": "Meta",
    "mistral": "Mistral AI",
    "openai": "OpenAI",
    "qwen": "Qwen",
}
_GEO_NAMES = {"us": "US", "eu": "EU", "apac": "APAC", "jp": "JP", "au": "AU", "ca": "CA", "global": "Global"}
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/")


class BadQuery(ValueError):
    """A query AWS would refuse with a ValidationException."""


def region_of(authorization: str, default: str = "us-east-1") -> str:
    """The region a SigV4 ``Authorization`` header is scoped to (``default`` for a bearer key)."""
    m = _SCOPE.search(authorization)
    return m["region"] if m else default


def _profiles_in(m: ModelInfo, region: str) -> list[str]:
    reachable = (*geo_candidates(region), "global")
    return [g for g in m.profiles if g in reachable]


def list_foundation_models(region: str, query: dict[str, str]) -> dict[str, Any]:
    """``ListFoundationModels`` for ``region``, honouring ``byProvider``, ``byOutputModality``, ``byInferenceType``."""
    provider = query.get("byProvider", "").lower()
    modality = query.get("byOutputModality")
    itype = query.get("byInferenceType")
    if modality is not None and modality not in ("TEXT", "IMAGE", "EMBEDDING"):
        raise BadQuery(
            f"1 validation error detected: Value '{modality}' at 'byOutputModality' failed to satisfy constraint"
        )
    if itype is not None and itype not in ("ON_DEMAND", "PROVISIONED"):
        raise BadQuery(
            f"1 validation error detected: Value '{itype}' at 'byInferenceType' failed to satisfy constraint"
        )
    out = []
    for m in catalog().models:
        on_demand = region in m.regions
        if not on_demand and not _profiles_in(m, region):
            continue
        name = _PROVIDERS.get(m.provider, m.provider.title())
        if provider and provider not in (m.provider, name.lower()):
            continue
        if modality is not None and modality not in m.output_modalities:
            continue
        types = ["ON_DEMAND"] if on_demand else ["INFERENCE_PROFILE"]
        if itype is not None and itype not in types:
            continue
        out.append(
            {
                "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{m.id}",
                "modelId": m.id,
                "modelName": m.name,
                "providerName": name,
                "inputModalities": list(m.input_modalities),
                "outputModalities": list(m.output_modalities),
                "responseStreamingSupported": not m.is_embedding,
                "customizationsSupported": [],
                "inferenceTypesSupported": types,
                "modelLifecycle": {"status": m.lifecycle},
            }
        )
    return {"modelSummaries": out}


def list_inference_profiles(region: str, query: dict[str, str]) -> dict[str, Any]:
    """``ListInferenceProfiles`` for ``region``: one page (``maxResults``, ``nextToken``); ``type`` filter."""
    try:
        size = int(query.get("maxResults", "1000"))
        start = int(query.get("nextToken", "0"))
    except ValueError as e:
        raise BadQuery("maxResults and nextToken must be numbers here") from e
    if not 1 <= size <= 1000:
        raise BadQuery("1 validation error detected: Value at 'maxResults' failed to satisfy constraint")
    if query.get("type", "SYSTEM_DEFINED") != "SYSTEM_DEFINED":
        return {"inferenceProfileSummaries": []}
    profiles = []
    for m in catalog().models:
        for g in _profiles_in(m, region):
            pid = f"{g}.{m.id}"
            profiles.append(
                {
                    "inferenceProfileName": f"{_GEO_NAMES.get(g, g.upper())} {m.name}",
                    "description": f"Routes requests to {m.name} in {g} regions.",
                    "createdAt": "2024-08-01T00:00:00Z",
                    "updatedAt": "2024-08-01T00:00:00Z",
                    "inferenceProfileArn": f"arn:aws:bedrock:{region}:123456789012:inference-profile/{pid}",
                    "models": [{"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{m.id}"}],
                    "inferenceProfileId": pid,
                    "status": "ACTIVE",
                    "type": "SYSTEM_DEFINED",
                }
            )
    page: dict[str, Any] = {"inferenceProfileSummaries": profiles[start : start + size]}
    if start + size < len(profiles):
        page["nextToken"] = str(start + size)
    return page


def answer(path: str, query: dict[str, str], region: str) -> dict[str, Any]:
    """The JSON answer for a control-plane ``GET`` (``path`` in ``CONTROL_PLANE_PATHS``)."""
    if path == "/foundation-models":
        return list_foundation_models(region, query)
    return list_inference_profiles(region, query)
