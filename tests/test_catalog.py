"""reqbed.models: the catalog data, lookups, aliases (with the inference-profile choice per region),
capabilities as data, and the promise that ``import reqbed`` does not load any of it."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import reqbed
import reqbed.models
from reqbed._catalog._capabilities import family_capabilities
from reqbed._catalog._store import catalog, lookup
from reqbed._families import FAMILIES, Capabilities
from reqbed._families.capabilities import default as default_capabilities
from reqbed._model_spec import GEO_PREFIXES, KNOWN_FAMILIES, parse_model_spec
from reqbed.testing import Emulator
from tests.support import UNKNOWN_MODEL_IDS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def restore_user_aliases() -> Iterator[None]:
    saved = catalog().user_aliases()
    yield
    catalog().reset_user_aliases(saved)


# -- the data file ---------------------------------------------------------------------------------


def test_import_reqbed_does_not_load_the_catalog() -> None:
    code = (
        "import sys, reqbed\n"
        "assert not [m for m in sys.modules if m.startswith('reqbed._catalog') or m == 'reqbed.models'], sys.modules\n"
        "r = reqbed.models.get('nova-pro')\n"
        "assert 'reqbed._catalog._store' in sys.modules and r.id == 'amazon.nova-pro-v1:0'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})


def test_catalog_is_dated_and_sourced() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", reqbed.models.as_of())
    assert any("aws.amazon.com/bedrock/pricing" in s for s in reqbed.models.sources())
    assert all(m.prices.sources for m in catalog().models if m.prices.entries)


def _ids_used_in_repo() -> set[str]:
    pattern = re.compile(
        r"\b(?:(?:us|eu|apac|global|jp|au)\.)?((?:anthropic|amazon|meta|cohere|mistral|openai|deepseek|qwen)"
        r"\.[a-z0-9][a-z0-9.-]*-v\d[a-z0-9.-]*(?::\d+)?|(?:openai\.gpt-oss-\d+b-1:0))"
    )
    ids: set[str] = set()
    for folder in ("tests", "fixtures", "docs", "benchmarks"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".json") and path.is_file() and not path.name.startswith("test_catalog"):
                ids.update(pattern.findall(path.read_text(errors="replace").replace("%3A", ":")))
    ids.update(pattern.findall((ROOT / "README.md").read_text()))
    # ``:200k`` context variants and the ``v1`` spellings of ``…-v1:0`` ids are the same model
    return {i for i in ids if not i.endswith("-v1") or i + ":0" not in ids} - DELIBERATELY_UNKNOWN


DELIBERATELY_UNKNOWN = UNKNOWN_MODEL_IDS


def test_every_model_id_the_repo_uses_is_in_the_catalog() -> None:
    ids = _ids_used_in_repo()
    assert len(ids) > 20
    missing = sorted(i for i in ids if lookup(i.removesuffix(":200k")) is None)
    assert missing == []


@pytest.mark.parametrize(
    "needle",
    [
        "anthropic.claude-3-haiku", "anthropic.claude-3-sonnet", "anthropic.claude-3-opus",
        "anthropic.claude-3-5-sonnet-20240620", "anthropic.claude-3-5-sonnet-20241022", "anthropic.claude-3-5-haiku",
        "anthropic.claude-3-7-sonnet", "anthropic.claude-sonnet-4-2", "anthropic.claude-opus-4-2",
        "anthropic.claude-opus-4-1", "anthropic.claude-haiku-4-5", "anthropic.claude-sonnet-4-5",
        "anthropic.claude-opus-4-5", "amazon.nova-micro", "amazon.nova-lite", "amazon.nova-pro", "amazon.nova-premier",
        "meta.llama3-1", "meta.llama3-2", "meta.llama3-3", "meta.llama4-scout", "meta.llama4-maverick",
        "mistral.mistral-large", "cohere.command-r-v1", "cohere.command-r-plus", "openai.gpt-oss-20b",
        "openai.gpt-oss-120b", "deepseek.r1", "deepseek.v3", "qwen.qwen3", "amazon.titan-embed-text",
        "cohere.embed-english", "cohere.embed-multilingual",
    ],
)  # fmt: skip
def test_the_families_the_issue_names_are_covered(needle: str) -> None:
    assert any(m.id.startswith(needle) for m in catalog().models)


def test_aliases_are_unique_and_never_look_like_ids() -> None:
    seen: dict[str, str] = {}
    for m in catalog().models:
        assert m.id.split(".", 1)[0] == m.provider
        assert m.lifecycle in ("ACTIVE", "LEGACY")
        assert m.regions or m.profiles, m.id  # callable from somewhere
        for a in m.aliases:
            assert a.lower() not in seen, (a, seen.get(a.lower()), m.id)
            assert "." not in a or a.split(".", 1)[0] not in KNOWN_FAMILIES | GEO_PREFIXES, a  # never a '<vendor>.' id
            seen[a.lower()] = m.id


#: Models whose price AWS's pricing page did not give us when the catalog was built: cost is unknown.
PRICE_UNKNOWN = {"amazon.nova-2-multimodal-embeddings-v1:0"}


def test_every_chat_model_has_a_price_and_embeddings_price_input_only() -> None:
    for m in catalog().models:
        if m.id in PRICE_UNKNOWN:
            assert not m.prices.entries, m.id
            continue
        assert m.prices.entries, m.id
        for p in m.prices.entries:
            assert (p.output is None) == m.is_embedding, m.id
            assert p.input > 0


# -- lookups ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "bedrock:eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
        "claude-sonnet-4-5",
        "bedrock:Claude-Sonnet-4.5",
        "sonnet",
    ],
)
def test_get_understands_ids_profiles_arns_and_aliases(query: str) -> None:
    info = reqbed.models.get(query)
    assert info.id == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert info.family == "anthropic"
    assert info.name == "Claude Sonnet 4.5"
    assert info.context_window == 200_000
    assert info.capabilities.thinking
    assert info.capabilities.cache_ttls == ("5m", "1h")
    assert {"us", "eu", "global"} <= set(info.profiles)


def test_get_unknown_model_is_a_validation_error_with_a_hint() -> None:
    with pytest.raises(reqbed.ValidationError, match=r"not in reqbed's model catalog; did you mean .*nova-pro") as e:
        reqbed.models.get("bedrock:amazon.nova-pro-v9:0")
    assert e.value.field == "model"


def test_find_matches_every_word() -> None:
    sonnets = [m.id for m in reqbed.models.find("sonnet")]
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in sonnets
    assert "anthropic.claude-3-7-sonnet-20250219-v1:0" in sonnets
    assert all("sonnet" in i for i in sonnets)
    assert [m.id for m in reqbed.models.find("llama 3.3")] == ["meta.llama3-3-70b-instruct-v1:0"]
    assert reqbed.models.find("no such model anywhere") == []


def test_list_filters_by_provider_region_and_capability() -> None:
    everything = reqbed.models.list()
    assert len(everything) == len(catalog().models)
    amazon = reqbed.models.list(provider="amazon")
    assert amazon
    assert all(m.provider == "amazon" for m in amazon)
    thinking_eu = {m.id for m in reqbed.models.list(region="eu-west-1", capability="thinking")}
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in thinking_eu
    assert "anthropic.claude-opus-4-1-20250805-v1:0" not in thinking_eu  # us. profiles only
    embeddings = {m.id for m in reqbed.models.list(capability="embeddings")}
    assert {"amazon.titan-embed-text-v2:0", "cohere.embed-english-v3"} <= embeddings
    assert all(m.is_embedding for m in reqbed.models.list(capability="embeddings"))
    with pytest.raises(reqbed.ValidationError, match="unknown capability 'telepathy'") as e:
        reqbed.models.list(capability="telepathy")
    assert e.value.field == "capability"


# -- aliases ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "region", "expected"),
    [
        # Claude 4.5 is served through profiles only: the region's geo, else global
        ("bedrock:claude-sonnet-4-5", "us-east-1", "bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("bedrock:claude-sonnet-4-5", "us-west-2", "bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("bedrock:claude-sonnet-4-5", "eu-west-1", "bedrock:eu.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("bedrock:claude-sonnet-4-5", "ap-northeast-1", "bedrock:jp.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("bedrock:claude-sonnet-4-5", "ap-southeast-2", "bedrock:au.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("bedrock:claude-sonnet-4-5", "sa-east-1", "bedrock:global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("bedrock:claude-3-7-sonnet", "ap-south-1", "bedrock:apac.anthropic.claude-3-7-sonnet-20250219-v1:0"),
        # on demand where the region serves the bare id, a profile elsewhere
        ("bedrock:nova-pro", "us-east-1", "bedrock:amazon.nova-pro-v1:0"),
        ("bedrock:nova-pro", "us-west-2", "bedrock:us.amazon.nova-pro-v1:0"),
        ("bedrock:nova-pro", "eu-west-1", "bedrock:eu.amazon.nova-pro-v1:0"),
        ("bedrock:llama-3.3-70b", "us-east-1", "bedrock:us.meta.llama3-3-70b-instruct-v1:0"),
        ("bedrock:gpt-oss-120b", "us-west-2", "bedrock:openai.gpt-oss-120b-1:0"),
        ("bedrock:command-r-plus", "us-east-1", "bedrock:cohere.command-r-plus-v1:0"),
        ("bedrock:deepseek", "us-west-2", "bedrock:deepseek.v3-v1:0"),  # an alias that is also a vendor name
        ("amazon_bedrock:haiku", "eu-central-1", "bedrock:eu.anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("claude-opus-4-1", "us-east-2", "bedrock:us.anthropic.claude-opus-4-1-20250805-v1:0"),
        # not aliases: called as written
        ("bedrock:anthropic.claude-3-haiku-20240307-v1:0", "us-east-1", None),
        ("bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us-east-1", None),
        ("bedrock:no-such-alias", "us-east-1", None),
        ("openai:gpt-oss-120b", "us-east-1", None),
    ],
)
def test_resolve_alias_picks_the_profile_the_region_needs(spec: str, region: str, expected: str | None) -> None:
    assert reqbed.models.resolve_alias(spec, region) == expected


def test_user_aliases_name_specs_and_other_aliases() -> None:
    reqbed.models.alias("fast", "bedrock:us.amazon.nova-micro-v1:0")
    reqbed.models.alias("bedrock:smart", "claude-sonnet-4-5")  # an alias of a catalog alias
    reqbed.models.alias("Cheap", "fast")  # an alias of a user alias; names are case-insensitive
    assert reqbed.models.resolve_alias("bedrock:fast", "eu-west-1") == "bedrock:us.amazon.nova-micro-v1:0"
    assert reqbed.models.resolve_alias("bedrock:cheap", "eu-west-1") == "bedrock:us.amazon.nova-micro-v1:0"
    assert (
        reqbed.models.resolve_alias("bedrock:smart", "eu-west-1")
        == "bedrock:eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    assert reqbed.models.get("fast").id == "amazon.nova-micro-v1:0"
    spec = parse_model_spec("bedrock:smart", region="us-west-2")
    assert spec.model_id == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert spec.family == "anthropic"


@pytest.mark.parametrize(
    ("name", "target", "field"),
    [
        ("", "bedrock:amazon.nova-micro-v1:0", "name"),
        ("amazon.nova-micro-v1:0", "bedrock:amazon.nova-micro-v1:0", "name"),
        ("fast", "", "model_spec"),
        ("fast", "bedrock:claude-3", "model"),  # neither a model id nor an alias
        ("fast", "openai:gpt-4o", "model"),
    ],
)
def test_bad_aliases_are_refused(name: str, target: str, field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        reqbed.models.alias(name, target)
    assert e.value.field == field


def test_an_alias_cycle_is_a_validation_error_not_a_hang() -> None:
    reqbed.models.alias("ping", "bedrock:us.amazon.nova-micro-v1:0")
    reqbed.models.alias("pong", "ping")
    reqbed.models.alias("ping", "pong")
    with pytest.raises(reqbed.ValidationError) as e:
        parse_model_spec("bedrock:ping")
    assert e.value.field == "model"


def test_alias_uses_the_environment_region_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert parse_model_spec("bedrock:llama-3.2-1b").model_id == "eu.meta.llama3-2-1b-instruct-v1:0"
    monkeypatch.delenv("AWS_REGION")
    assert parse_model_spec("bedrock:llama-3.2-1b").model_id == "us.meta.llama3-2-1b-instruct-v1:0"


@pytest.mark.parametrize(
    ("region", "path"),
    [
        ("us-east-1", "/model/amazon.nova-pro-v1%3A0/converse"),
        ("eu-west-1", "/model/eu.amazon.nova-pro-v1%3A0/converse"),
    ],
)
def test_generate_text_with_an_alias_calls_the_resolved_model(emulator: Emulator, region: str, path: str) -> None:
    r = reqbed.generate_text(
        "bedrock:nova-pro", "Hello alias", provider_options=emulator.provider_options(region=region)
    )
    assert r.text == "You said: Hello alias"
    assert emulator.requests[-1]["path"] == path
    assert r.model == path.split("/")[2].replace("%3A", ":")  # Response.model says what was called


@pytest.mark.anyio
async def test_agenerate_text_with_a_user_alias(emulator: Emulator) -> None:
    reqbed.models.alias("thinker", "claude-3-7-sonnet")
    async with reqbed.Client() as client:
        r = await client.agenerate_text("bedrock:thinker", "Hi", provider_options=emulator.provider_options())
    assert emulator.requests[-1]["path"].startswith("/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/")
    assert r.model == "us.anthropic.claude-3-7-sonnet-20250219-v1:0"


# -- capabilities as data --------------------------------------------------------------------------

#: Where the catalog knows better than ``_families/capabilities.py``'s substring rules (kept on purpose).
_DELIBERATE = {
    ("anthropic.claude-3-5-haiku-20241022-v1:0", "images"): "Claude 3.5 Haiku takes no images on Bedrock",
    ("mistral.mistral-7b-instruct-v0:2", "system_prompt"): "AWS's Converse table: no system prompt",
    ("mistral.mixtral-8x7b-instruct-v0:1", "system_prompt"): "AWS's Converse table: no system prompt",
}


@pytest.mark.parametrize("model", [m for m in catalog().models if not m.is_embedding], ids=lambda m: m.id)
def test_catalog_capabilities_never_allow_what_the_family_rule_knows_is_impossible(
    model: reqbed.models.ModelInfo,
) -> None:
    """The family rules refuse only what is known to be impossible (unknown models are permissive); the
    catalog, which step 2 asks first, may know more (refuse more) but never allows what a rule refuses."""
    spec = parse_model_spec(f"bedrock:{model.id}")
    family = FAMILIES.get(spec.family or "")
    rule = family.capabilities(spec) if family is not None else default_capabilities(spec)
    new = family_capabilities(spec)
    assert new is not None
    assert new.max_output_tokens is None  # as the rules: nothing refused on it yet
    for field in Capabilities.__struct_fields__:
        if field in ("max_temperature", "max_output_tokens") or (model.id, field) in _DELIBERATE:
            continue
        if getattr(rule, field) is False and field != "system_only_prompt":
            assert getattr(new, field) is False, field
    assert new.max_temperature <= rule.max_temperature
    assert new == family_capabilities(parse_model_spec(f"bedrock:us.{model.id}"))  # profiles: the same model


def test_step_2_asks_the_catalog_first_then_the_family_rule() -> None:
    from reqbed._pipeline import prepare

    known = prepare("bedrock:us.amazon.nova-micro-v1:0", "Hi", {})
    assert known.request.capabilities == family_capabilities(known.request.spec)
    assert known.request.capabilities.images is False  # the catalog: Nova Micro is text only
    unknown = prepare("bedrock:writer.palmyra-x9-v1:0", "Hi", {})
    assert family_capabilities(unknown.request.spec) is None
    assert unknown.request.capabilities == default_capabilities(unknown.request.spec)


def test_capabilities_for_unknown_models_are_permissive() -> None:
    caps = reqbed.models.capabilities_for("bedrock:writer.palmyra-x9-v1:0")
    assert caps == reqbed.models.ModelCapabilities()
    assert caps.tools
    assert caps.streaming_tools
    assert reqbed.models.capabilities_for("us.amazon.nova-micro-v1:0").images is False
    assert family_capabilities(parse_model_spec("bedrock:writer.palmyra-x9-v1:0")) is None
