"""The control plane (``ListFoundationModels``, ``ListInferenceProfiles``): request builders checked
against botocore's own ``bedrock`` service model (method, URI, query names, ``ParamValidator``), the
emulator's answers checked against the same model's output shapes, and the catalog rebuild
(``reqbed._catalog._build``) run against the emulator over a real socket with SigV4-signed requests."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import botocore.session
import httpx
import pytest
from botocore.validate import ParamValidator

import reqbed
from reqbed._aws.credentials_types import AwsCredentials
from reqbed._aws.sigv4 import sign_headers
from reqbed._catalog import _build
from reqbed._catalog._control_plane import (
    ControlPlaneRequest,
    list_foundation_models_request,
    list_inference_profiles_request,
    merge,
    parse_foundation_models,
    parse_inference_profiles,
)
from reqbed._catalog._store import catalog
from reqbed.testing import Emulator
from reqbed.testing.emulator import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY

SERVICE = botocore.session.get_session().get_service_model("bedrock")
CREDS = AwsCredentials(EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, None)


def _as_botocore_params(req: ControlPlaneRequest) -> dict[str, Any]:
    """The query string turned back into botocore input members, through the service model's own
    ``location: querystring`` names and member types."""
    op = SERVICE.operation_model(req.operation)
    by_wire = {m.serialization.get("name", n): (n, m) for n, m in op.input_shape.members.items()}
    query = dict(parse_qsl(urlsplit(req.url).query))
    assert query == req.params
    out: dict[str, Any] = {}
    for wire, value in query.items():
        name, shape = by_wire[wire]  # KeyError: a query name botocore does not know
        assert shape.serialization.get("location") == "querystring"
        out[name] = int(value) if shape.type_name == "integer" else value
    return out


def _oracle(req: ControlPlaneRequest) -> None:
    op = SERVICE.operation_model(req.operation)
    assert req.method == op.http["method"]
    assert urlsplit(req.url).path == op.http["requestUri"]
    report = ParamValidator().validate(_as_botocore_params(req), op.input_shape)
    assert not report.has_errors(), report.generate_report()
    for name, value in _as_botocore_params(req).items():
        shape = op.input_shape.members[name]
        if getattr(shape, "enum", None):
            assert value in shape.enum
        if "min" in shape.metadata and shape.type_name == "integer":
            assert shape.metadata["min"] <= value <= shape.metadata.get("max", value)


@pytest.mark.parametrize(
    "req",
    [
        list_foundation_models_request("us-east-1"),
        list_foundation_models_request("eu-west-1", provider="Anthropic"),
        list_foundation_models_request("us-west-2", output_modality="EMBEDDING", inference_type="ON_DEMAND"),
        list_inference_profiles_request("us-east-1"),
        list_inference_profiles_request("ap-northeast-1", max_results=5, next_token="abc"),
        list_inference_profiles_request("us-east-1", profile_type="APPLICATION"),
    ],
    ids=lambda r: r.url.split("amazonaws.com")[1],
)
def test_requests_match_botocores_bedrock_model(req: ControlPlaneRequest) -> None:
    _oracle(req)
    region = req.url.split(".")[1]
    assert req.url.startswith(f"https://bedrock.{region}.amazonaws.com/")
    assert SERVICE.signing_name == "bedrock"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: list_foundation_models_request("us-east-1", output_modality="AUDIO"), "output_modality"),
        (lambda: list_foundation_models_request("us-east-1", inference_type="SOMETIMES"), "inference_type"),
        (lambda: list_inference_profiles_request("us-east-1", max_results=0), "max_results"),
        (lambda: list_inference_profiles_request("us-east-1", max_results=1001), "max_results"),
        (lambda: list_inference_profiles_request("us-east-1", profile_type="MINE"), "profile_type"),
    ],
)
def test_bad_filters_are_validation_errors_before_any_request(call: Any, field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        call()
    assert e.value.field == field


#: Values AWS sends that this botocore's enums predate: models served only through inference profiles
#: (Claude 3.7 and later, Llama 3.2+) list ``inferenceTypesSupported: ["INFERENCE_PROFILE"]``; Nova
#: Lite/Pro/Premier list ``VIDEO`` among their ``inputModalities``.
_NEWER_ENUMS = {"INFERENCE_PROFILE", "VIDEO"}


def _conforms(shape: Any, value: Any, path: str = "$") -> list[str]:
    """Every member of an answer is a member of botocore's output shape, of the right kind."""
    kind, errors = shape.type_name, []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        for k, v in value.items():
            if k not in shape.members:
                errors.append(f"{path}.{k}: not in {shape.name}")
            else:
                errors += _conforms(shape.members[k], v, f"{path}.{k}")
    elif kind == "list":
        errors += [e for i, v in enumerate(value) for e in _conforms(shape.member, v, f"{path}[{i}]")]
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{path}: not a string")
        elif getattr(shape, "enum", None) and value not in shape.enum and value not in _NEWER_ENUMS:
            errors.append(f"{path}: {value!r} not in {shape.enum}")
    elif kind == "boolean" and not isinstance(value, bool):
        errors.append(f"{path}: not a boolean")
    return errors


def _get(client: httpx.Client, req: ControlPlaneRequest, region: str) -> httpx.Response:
    headers = sign_headers("GET", req.url, {}, b"", credentials=CREDS, region=region, now=datetime.now(timezone.utc))
    return client.get(req.url, headers=headers)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-northeast-1"])
def test_emulator_answers_in_botocores_output_shapes(emulator: Emulator, region: str) -> None:
    with httpx.Client() as client:
        fm = _get(client, list_foundation_models_request(region, endpoint_url=emulator.endpoint_url), region)
        ip = _get(client, list_inference_profiles_request(region, endpoint_url=emulator.endpoint_url), region)
    assert fm.status_code == ip.status_code == 200
    fm_body, ip_body = fm.json(), ip.json()
    assert _conforms(SERVICE.operation_model("ListFoundationModels").output_shape, fm_body) == []
    assert _conforms(SERVICE.operation_model("ListInferenceProfiles").output_shape, ip_body) == []
    summaries = parse_foundation_models(fm.content)
    profiles, token = parse_inference_profiles(ip.content)
    assert token is None
    ids = {s.model_id for s in summaries}
    geo = {"us-east-1": "us", "eu-west-1": "eu", "ap-northeast-1": "jp"}[region]
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in ids
    assert f"{geo}.anthropic.claude-sonnet-4-5-20250929-v1:0" in {p.inference_profile_id for p in profiles}
    assert "global.anthropic.claude-sonnet-4-5-20250929-v1:0" in {p.inference_profile_id for p in profiles}
    sonnet = next(s for s in summaries if s.model_id == "anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert sonnet.inference_types_supported == ["INFERENCE_PROFILE"]


def test_emulator_filters_and_pages(emulator: Emulator) -> None:
    url = emulator.endpoint_url
    with httpx.Client() as client:
        emb = _get(client, list_foundation_models_request("us-east-1", output_modality="EMBEDDING", endpoint_url=url),
                   "us-east-1")  # fmt: skip
        assert {s["modelId"] for s in emb.json()["modelSummaries"]} >= {"amazon.titan-embed-text-v2:0"}
        assert all("EMBEDDING" in s["outputModalities"] for s in emb.json()["modelSummaries"])
        meta = _get(client, list_foundation_models_request("us-east-1", provider="meta", endpoint_url=url), "us-east-1")
        assert {s["providerName"] for s in meta.json()["modelSummaries"]} == {"Meta"}
        pages, token, seen = 0, None, []
        while True:
            req = list_inference_profiles_request("us-east-1", max_results=7, next_token=token, endpoint_url=url)
            page, token = parse_inference_profiles(_get(client, req, "us-east-1").content)
            pages += 1
            seen += [p.inference_profile_id for p in page]
            if token is None:
                break
        everything = _get(client, list_inference_profiles_request("us-east-1", endpoint_url=url), "us-east-1")
        assert seen == [p["inferenceProfileId"] for p in everything.json()["inferenceProfileSummaries"]]
        assert pages == -(-len(seen) // 7)
        unsigned = client.get(f"{url}/foundation-models")
        assert unsigned.status_code == 403
        bad = _get(client, ControlPlaneRequest(method="GET", url=f"{url}/foundation-models?byOutputModality=AUDIO",
                                              operation="ListFoundationModels", params={}), "us-east-1")  # fmt: skip
        assert bad.status_code == 400
        assert bad.headers["x-amzn-errortype"].startswith("ValidationException")


def test_rebuild_against_the_emulator_round_trips_the_catalog(emulator: Emulator) -> None:
    """The emulator answers from the catalog, so a rebuild from it must change nothing but the date."""
    with httpx.Client() as client:
        text = _build.rebuild(client, ("us-east-1", "eu-west-1", "ap-northeast-1"), CREDS,
                              endpoint_url=emulator.endpoint_url)  # fmt: skip
    new, old = json.loads(text), json.loads(_build.CATALOG.read_bytes())
    assert new["models"] == old["models"]
    assert new["as_of"] == datetime.now(timezone.utc).date().isoformat()
    assert "bedrock:ListFoundationModels@eu-west-1" in new["sources"]
    assert {r["path"].split("?")[0] for r in emulator.requests} == {"/foundation-models", "/inference-profiles"}
    assert all(r["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ") for r in emulator.requests)


def test_merge_adds_new_models_regions_and_profiles_but_keeps_curated_facts() -> None:
    models = catalog().models
    foundation = parse_foundation_models(json.dumps({"modelSummaries": [
        {"modelId": "amazon.nova-pro-v1:0", "inferenceTypesSupported": ["ON_DEMAND"], "inputModalities": ["TEXT"],
         "outputModalities": ["TEXT"], "modelLifecycle": {"status": "LEGACY"}, "somethingNew": 1},
        {"modelId": "writer.palmyra-x9-v1:0", "modelName": "Palmyra X9",
         "inferenceTypesSupported": ["INFERENCE_PROFILE"]},
    ]}).encode())  # fmt: skip
    profiles, _ = parse_inference_profiles(json.dumps({"inferenceProfileSummaries": [
        {"inferenceProfileId": "us.writer.palmyra-x9-v1:0"}, {"inferenceProfileId": "ca.amazon.nova-pro-v1:0"},
        {"inferenceProfileId": "not-a-geo.amazon.nova-pro-v1:0"},
    ]}).encode())  # fmt: skip
    merged = {m.id: m for m in merge(models, "sa-east-1", foundation, profiles)}
    nova, old_nova = merged["amazon.nova-pro-v1:0"], {m.id: m for m in models}["amazon.nova-pro-v1:0"]
    assert "sa-east-1" in nova.regions
    assert "ca" in nova.profiles
    assert nova.lifecycle == "LEGACY"
    assert (nova.prices, nova.capabilities, nova.aliases) == (old_nova.prices, old_nova.capabilities, old_nova.aliases)
    x9 = merged["writer.palmyra-x9-v1:0"]
    assert (x9.name, x9.provider, x9.profiles, x9.regions) == ("Palmyra X9", "writer", ("us",), ())
    assert x9.prices.entries == ()  # a new model's cost is unknown until someone prices it
    assert len(merged) == len(models) + 1


def test_build_main_without_credentials_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert _build.main(["--check"]) == 2
    assert "AWS_ACCESS_KEY_ID" in capsys.readouterr().err


def test_build_main_check_against_the_emulator(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EXAMPLE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_ACCESS_KEY)
    code = _build.main(["--check", "--regions", "us-east-1", "--endpoint-url", emulator.endpoint_url])
    out = capsys.readouterr().out
    # only as_of (and the sources line) can differ from the committed file
    assert code in (0, 1)
    assert out.strip() in ("catalog is up to date", "catalog would change")
