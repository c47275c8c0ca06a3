"""``parse_model_spec``: a table of specs and what each must parse to, and what it must refuse.

The expected values are written out by hand from AWS's documented id and ARN formats
(foundation model ids ``<vendor>.<model>``, cross-region profile ids ``<geo>.<vendor>.<model>``,
``arn:<partition>:bedrock:<region>:<account>:<resource-type>/<resource>``), not computed with
reqbed's own helpers. ``path_segment`` is checked against the RFC 3986 rule (unreserved characters
stay, everything else is ``%XX``), which is what SigV4's canonical URI needs.
"""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reqbed
from reqbed import ModelSpec, parse_model_spec

ACCT = "123456789012"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
SONNET_SEG = "anthropic.claude-3-5-sonnet-20240620-v1%3A0"

# spec -> (model_id, base_model, family, geo, region, resource_type, path_segment)
FOUNDATION = [
    (f"bedrock:{SONNET}", (SONNET, SONNET, "anthropic", None, None, None, SONNET_SEG)),
    (
        "bedrock:meta.llama3-3-70b-instruct-v1:0",
        (
            "meta.llama3-3-70b-instruct-v1:0",
            "meta.llama3-3-70b-instruct-v1:0",
            "meta",
            None,
            None,
            None,
            "meta.llama3-3-70b-instruct-v1%3A0",
        ),
    ),
    (
        "bedrock:amazon.nova-pro-v1:0",
        ("amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0", "amazon", None, None, None, "amazon.nova-pro-v1%3A0"),
    ),
    (
        "bedrock:cohere.command-r-plus-v1:0",
        (
            "cohere.command-r-plus-v1:0",
            "cohere.command-r-plus-v1:0",
            "cohere",
            None,
            None,
            None,
            "cohere.command-r-plus-v1%3A0",
        ),
    ),
    (
        "bedrock:openai.gpt-oss-120b-1:0",
        ("openai.gpt-oss-120b-1:0", "openai.gpt-oss-120b-1:0", "openai", None, None, None, "openai.gpt-oss-120b-1%3A0"),
    ),
    (
        "bedrock:mistral.mistral-large-2407-v1:0",
        (
            "mistral.mistral-large-2407-v1:0",
            "mistral.mistral-large-2407-v1:0",
            "mistral",
            None,
            None,
            None,
            "mistral.mistral-large-2407-v1%3A0",
        ),
    ),
    # context-window variants carry a second ':'
    (
        "bedrock:anthropic.claude-3-haiku-20240307-v1:0:200k",
        (
            "anthropic.claude-3-haiku-20240307-v1:0:200k",
            "anthropic.claude-3-haiku-20240307-v1:0:200k",
            "anthropic",
            None,
            None,
            None,
            "anthropic.claude-3-haiku-20240307-v1%3A0%3A200k",
        ),
    ),
    # a vendor reqbed does not know yet is still a valid '<vendor>.<model>' id (served via Converse)
    (
        "bedrock:newvendor.some-model-v1:0",
        (
            "newvendor.some-model-v1:0",
            "newvendor.some-model-v1:0",
            None,
            None,
            None,
            None,
            "newvendor.some-model-v1%3A0",
        ),
    ),
    # the other provider prefixes ReqLLM accepts
    (f"amazon_bedrock:{SONNET}", (SONNET, SONNET, "anthropic", None, None, None, SONNET_SEG)),
    (f"aws_bedrock:{SONNET}", (SONNET, SONNET, "anthropic", None, None, None, SONNET_SEG)),
]

GEOS = ["us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"]
GEO_CASES = [
    (f"bedrock:{geo}.{SONNET}", (f"{geo}.{SONNET}", SONNET, "anthropic", geo, None, None, f"{geo}.{SONNET_SEG}"))
    for geo in GEOS
]


def _arn(region: str, account: str, rtype: str, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:bedrock:{region}:{account}:{rtype}/{resource}"


def _seg(arn: str) -> str:
    return arn.replace(":", "%3A").replace("/", "%2F")


A_FM = _arn("us-east-1", "", "foundation-model", SONNET)
A_IP = _arn("eu-west-1", ACCT, "inference-profile", "eu.meta.llama3-2-1b-instruct-v1:0")
A_IP_GLOBAL = _arn("us-west-2", ACCT, "inference-profile", f"global.{SONNET}")
A_AIP = _arn("us-east-1", ACCT, "application-inference-profile", "abc123def456")
A_PM = _arn("us-west-2", ACCT, "provisioned-model", "a1b2c3d4e5f6")
A_IM = _arn("ap-northeast-1", ACCT, "imported-model", "z9y8x7w6v5u4")
A_CM = _arn("eu-central-1", ACCT, "custom-model", "anthropic.claude-3-haiku-20240307-v1:0:200k/abcdefghijkl")
A_GOV = _arn("us-gov-west-1", ACCT, "inference-profile", f"us-gov.{SONNET}", partition="aws-us-gov")
A_NOREGION = _arn("", ACCT, "application-inference-profile", "abc123def456")

ARN_CASES = [
    (f"bedrock:{A_FM}", (A_FM, SONNET, "anthropic", None, "us-east-1", "foundation-model", _seg(A_FM))),
    (
        f"bedrock:{A_IP}",
        (A_IP, "meta.llama3-2-1b-instruct-v1:0", "meta", "eu", "eu-west-1", "inference-profile", _seg(A_IP)),
    ),
    (
        f"bedrock:{A_IP_GLOBAL}",
        (A_IP_GLOBAL, SONNET, "anthropic", "global", "us-west-2", "inference-profile", _seg(A_IP_GLOBAL)),
    ),
    (f"bedrock:{A_AIP}", (A_AIP, None, None, None, "us-east-1", "application-inference-profile", _seg(A_AIP))),
    (f"bedrock:{A_PM}", (A_PM, None, None, None, "us-west-2", "provisioned-model", _seg(A_PM))),
    (f"bedrock:{A_IM}", (A_IM, None, None, None, "ap-northeast-1", "imported-model", _seg(A_IM))),
    (f"bedrock:{A_CM}", (A_CM, None, None, None, "eu-central-1", "custom-model", _seg(A_CM))),
    (f"bedrock:{A_GOV}", (A_GOV, SONNET, "anthropic", "us-gov", "us-gov-west-1", "inference-profile", _seg(A_GOV))),
    (
        f"bedrock:{A_NOREGION}",
        (A_NOREGION, None, None, None, None, "application-inference-profile", _seg(A_NOREGION)),
    ),
]


def _fields(spec: ModelSpec) -> tuple[Any, ...]:
    return (
        spec.model_id,
        spec.base_model,
        spec.family,
        spec.geo,
        spec.region,
        spec.resource_type,
        spec.path_segment,
    )


@pytest.mark.parametrize(("spec", "expected"), FOUNDATION + GEO_CASES + ARN_CASES)
def test_parse_table(spec: str, expected: tuple[Any, ...]) -> None:
    parsed = parse_model_spec(spec)
    assert _fields(parsed) == expected
    assert parsed.spec == spec


def test_every_documented_geo_prefix_is_in_the_table() -> None:
    from reqbed._model_spec import GEO_PREFIXES

    assert set(GEOS) == set(GEO_PREFIXES)


# (arn, base_model option) -> (base_model, family, geo) the spec must report
BASE_MODEL_CASES = [
    (A_AIP, SONNET, SONNET, "anthropic", None),
    # the hint may itself be a geo profile id: the geo prefix is stripped from base_model
    (A_AIP, f"us.{SONNET}", SONNET, "anthropic", None),
    (A_PM, "meta.llama3-3-70b-instruct-v1:0", "meta.llama3-3-70b-instruct-v1:0", "meta", None),
    (A_IM, "meta.llama3-1-8b-instruct-v1:0", "meta.llama3-1-8b-instruct-v1:0", "meta", None),
    (A_CM, "anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0", "anthropic", None),
    # for a profile ARN the explicit hint wins over what the ARN says; the ARN's geo stays
    (A_IP, SONNET, SONNET, "anthropic", "eu"),
]


@pytest.mark.parametrize(("arn", "hint", "base", "family", "geo"), BASE_MODEL_CASES)
def test_arn_with_base_model(arn: str, hint: str, base: str, family: str, geo: str | None) -> None:
    parsed = parse_model_spec(f"bedrock:{arn}", base_model=hint)
    assert (parsed.model_id, parsed.base_model, parsed.family, parsed.geo) == (arn, base, family, geo)
    # the URL still names the ARN, never the hint
    assert parsed.path_segment == _seg(arn)


def test_base_model_through_provider_options() -> None:
    req = reqbed._request.build_chat_request(  # type: ignore[attr-defined]
        f"bedrock:{A_AIP}", "hi", {"provider_options": {"base_model": f"global.{SONNET}"}}
    )
    assert (req.spec.family, req.spec.base_model, req.spec.region) == ("anthropic", SONNET, "us-east-1")


REJECTED: list[Any] = [
    "",
    "bedrock:",
    "bedrock:   ",
    SONNET,  # no provider prefix
    f"openai:{SONNET}",
    f"Bedrock:{SONNET}",  # the prefix is case-sensitive
    f"anthropic:{SONNET}",
    f"bedrock:{SONNET} extra",
    "bedrock:anthropic.claude 3",
    "bedrock:anthropic .claude",
    "bedrock:anthropic\t.claude",
    "bedrock:anthropic.claude\n3",
    "bedrock:anthropic",  # a vendor is not a model
    "bedrock:us.",  # a geo prefix and nothing else
    "bedrock:global",
    "bedrock:us.claude",  # a geo prefix, then no vendor
    "bedrock:.anthropic.claude",
    "bedrock:anthropic.claude?x=1",
    "bedrock:anthropic.claude#frag",
    "bedrock:" + "a." + "b" * 2048,
    "bedrock:arn:aws:s3:::my-bucket/key",
    f"bedrock:arn:aws:bedrock:us-east-1:{ACCT}:knowledge-base/ABCDEFGHIJ",
    f"bedrock:arn:aws:bedrock:us-east-1:{ACCT}:inference-profile/",
    "bedrock:arn:aws:bedrock:us-east-1",
    None,
    123,
    b"bedrock:" + SONNET.encode(),
    ["bedrock:", SONNET],
]


@pytest.mark.parametrize("spec", REJECTED)
def test_rejections(spec: Any) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        parse_model_spec(spec)
    assert info.value.field == "model"
    assert str(info.value).startswith("model: ")


def test_empty_model_id_message_is_sensible() -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        parse_model_spec("bedrock:")
    # not "write 'bedrock:bedrock:'"
    assert "bedrock:bedrock:" not in str(info.value)


@pytest.mark.parametrize("hint", ["", 5])
def test_bad_base_model_hint(hint: Any) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        parse_model_spec(f"bedrock:{A_AIP}", base_model=hint)
    assert info.value.field == "provider_options.base_model"


def test_surrounding_whitespace_is_stripped_from_the_id() -> None:
    assert parse_model_spec(f"bedrock: {SONNET}\n").model_id == SONNET


_UNRESERVED = set(string.ascii_letters + string.digits + "-_.~")
_ID_ALPHABET = string.ascii_letters + string.digits + "._:/+-"


@given(st.text(alphabet=_ID_ALPHABET, min_size=1, max_size=80))
def test_path_segment_is_one_rfc3986_segment(tail: str) -> None:
    """Whatever the id, the segment has only unreserved chars and %XX, and decodes back to the id."""
    model_id = f"anthropic.{tail}"
    try:
        parsed = parse_model_spec(f"bedrock:{model_id}")
    except reqbed.ValidationError:
        return
    seg = parsed.path_segment
    assert "/" not in seg
    assert ":" not in seg
    assert "+" not in seg
    i = 0
    while i < len(seg):
        if seg[i] == "%":
            assert all(c in "0123456789ABCDEF" for c in seg[i + 1 : i + 3])
            i += 3
        else:
            assert seg[i] in _UNRESERVED
            i += 1
    assert unquote(seg) == parsed.model_id


def test_model_spec_is_frozen() -> None:
    parsed = parse_model_spec(f"bedrock:{SONNET}")
    with pytest.raises(AttributeError):
        parsed.model_id = "x"  # type: ignore[misc]
