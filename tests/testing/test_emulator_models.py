"""The emulator's model catalogue: unknown ids get AWS's own 400, and every model id reqbed's tests,
fixtures and docs use is in it (so examples run against the emulator)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

import reqbed
from reqbed._errors import ValidationError
from reqbed._model_spec import GEO_PREFIXES, KNOWN_FAMILIES, parse_model_spec
from reqbed.testing import EXAMPLE_API_KEY, Emulator
from reqbed.testing.emulator import MODELS
from tests.support import REPO, UNKNOWN_MODEL_IDS

INVALID = "The provided model identifier is invalid."
_VERSIONED = re.compile(r"(-v\d+(:\d+)*|-\d+:\d+)(:\d+k)?$")
_SPEC = re.compile(r"bedrock:([A-Za-z0-9][A-Za-z0-9._:/+-]*[A-Za-z0-9])")
_URL_MODEL = re.compile(r"/model/([^/\"?]+)/(?:converse|invoke)")
#: A bare id in code or prose (``MODEL = "..."``, ``modelId="..."``): a known vendor and a version.
_GEOS, _VENDORS = "|".join(sorted(GEO_PREFIXES)), "|".join(sorted(KNOWN_FAMILIES))
_BARE_ID = re.compile(
    rf"[\"'=/ ]((?:(?:{_GEOS})\.)?(?:{_VENDORS})\.[a-z0-9][a-z0-9.-]*(?:-v\d+|-\d+)(?::[0-9a-z]+)*)[\"' ,)\n]"
)
#: Ids named in docs and tests precisely because no such model exists.
DELIBERATELY_UNKNOWN = UNKNOWN_MODEL_IDS
_ACCOUNT_RESOURCES = {"foundation-model", "inference-profile"}


def post(emu: Emulator, model_id: str, action: str = "converse") -> httpx.Response:
    with httpx.Client() as c:
        return c.post(
            f"{emu.endpoint_url}/model/{quote(model_id, safe='-_.~')}/{action}",
            json={"messages": [{"role": "user", "content": [{"text": "Hi"}]}]},
            headers={"Authorization": f"Bearer {EXAMPLE_API_KEY}"},
        )


def used_model_ids() -> set[str]:
    """Every Bedrock model id named in tests/, fixtures/, docs/, benchmarks/, reqbed/ and README.md."""
    found: set[str] = set()
    roots = [REPO / d for d in ("tests", "fixtures", "docs", "benchmarks", "reqbed", "README.md")]
    files = [p for r in roots for p in ([r] if r.is_file() else r.rglob("*")) if p.suffix in (".py", ".md", ".json")]
    for path in files:
        if path.resolve() == Path(__file__).resolve() or path.name.startswith("test_catalog"):
            continue  # these files name unknown ids and id prefixes on purpose
        text = path.read_text("utf-8", "replace")
        found.update(_SPEC.findall(text))
        if REPO / "reqbed" not in path.parents:  # reqbed's own code names id *prefixes* to match on
            found.update(_BARE_ID.findall(text))
        found.update(m.replace("%3A", ":").replace("%2F", "/") for m in _URL_MODEL.findall(text))
        if path.suffix == ".json" and path.parent.parent.name == "fixtures":
            model = json.loads(text).get("model", "")
            if isinstance(model, str) and model.startswith("bedrock:"):
                found.add(model.removeprefix("bedrock:"))
    return found


def served_ids() -> list[str]:
    """The used ids a real account could call: well-formed, a known vendor, a model (not an
    account's own resource, which the emulator accepts as it is)."""
    out = []
    for model_id in sorted(used_model_ids() - DELIBERATELY_UNKNOWN):
        try:
            spec = parse_model_spec("bedrock:" + model_id)  # an alias resolves to the id reqbed calls
        except ValidationError:
            continue  # a test of reqbed's refusal: never sent
        model_id = spec.model_id
        if not _VERSIONED.search(model_id):
            continue  # an id prefix in prose ("eu.anthropic.claude-sonnet-4-5..."), not an id
        if spec.resource_type is not None and spec.resource_type not in _ACCOUNT_RESOURCES:
            continue
        if spec.family is None or spec.base_model is None or spec.family not in KNOWN_FAMILIES:
            continue
        if spec.base_model.split(".", 1)[1] in ("claude", "some-model-v1:0"):
            continue
        out.append(model_id)
    return out


def test_the_scan_finds_the_ids_in_use() -> None:
    """The scan below is not vacuous: it sees ids from tests, fixtures and docs."""
    ids = served_ids()
    assert {"anthropic.claude-3-5-sonnet-20240620-v1:0", "us.amazon.nova-pro-v1:0", "openai.gpt-oss-120b-1:0"} <= set(
        ids
    )
    assert len(ids) > 30


@pytest.mark.parametrize("model_id", served_ids())
def test_every_model_id_in_use_is_in_the_catalogue(emulator: Emulator, model_id: str) -> None:
    r = post(emulator, model_id)
    assert r.status_code == 200, (model_id, r.text)


@pytest.mark.parametrize(
    "model_id",
    [
        "anthropic.claude-9-imaginary-v1:0",
        "us.anthropic.claude-9-imaginary-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/meta.llama9-1b-instruct-v1:0",
        "anthropic.claude-3-5-sonnet-20240620-v1",  # no version suffix: not a Bedrock id
        "not-a-model",
    ],
)
def test_an_unknown_model_gets_aws_validation_exception(emulator: Emulator, model_id: str) -> None:
    r = post(emulator, model_id)
    assert (r.status_code, r.headers["x-amzn-errortype"].split(":")[0], r.json()) == (
        400,
        "ValidationException",
        {"message": INVALID},
    )


def test_reqbed_reports_an_unknown_model_as_a_bad_request(emulator: Emulator) -> None:
    with pytest.raises(reqbed.BadRequestError) as e:
        reqbed.generate_text(
            "bedrock:anthropic.claude-9-imaginary-v1:0", "Hi", provider_options=emulator.provider_options()
        )
    assert e.value.status == 400
    assert INVALID in str(e.value)


@pytest.mark.parametrize(
    "model_id",
    [
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefgh1234",
    ],
)
def test_profiles_and_arns_of_catalogue_models_and_account_resources_are_served(
    emulator: Emulator, model_id: str
) -> None:
    assert post(emulator, model_id).status_code == 200


def test_extra_models_extend_the_catalogue_and_models_replace_it() -> None:
    with Emulator(extra_models={"acme.rocket-v1:0"}) as emu:
        assert post(emu, "acme.rocket-v1:0").status_code == 200
        assert post(emu, "us.acme.rocket-v1:0").status_code == 200
        assert post(emu, "anthropic.claude-3-5-sonnet-20240620-v1:0").status_code == 200
    with Emulator(models={"acme.rocket-v1:0"}) as emu:
        assert emu.models == frozenset({"acme.rocket-v1:0"})
        assert post(emu, "acme.rocket-v1:0").status_code == 200
        assert post(emu, "anthropic.claude-3-5-sonnet-20240620-v1:0").status_code == 400


def test_the_default_catalogue_is_public() -> None:
    import reqbed.models

    assert Emulator().models == MODELS | {m.id for m in reqbed.models.list()}
    assert all(isinstance(m, str) and "." in m for m in MODELS)
