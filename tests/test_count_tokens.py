"""CountTokens without I/O: the body reqbed would send for ``count_tokens``, checked against
botocore's own ``bedrock-runtime`` service model (``CountTokens`` input shape, ParamValidator),
the foundation-model id rule, unsupported models, the documented local estimate, the answer.

End to end against the emulator: tests/test_embed_emulator.py.
"""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

import reqbed
from reqbed._count_tokens import (
    COUNT_TOKENS_MODELS,
    CountTokensPlan,
    TokenCount,
    estimate_tokens,
    parse_count_tokens,
    plan_count_tokens,
)
from reqbed._pipeline import prepare

SERVICE = botocore.session.get_session().get_service_model("bedrock-runtime")
SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"
HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
IMAGE = {"type": "image", "data": PNG, "media_type": "image/png"}
CALL = {"type": "tool_call", "id": "t1", "name": "get_weather", "arguments": {"city": "Paris"}}
CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": [{"type": "text", "text": "What is in this picture?"}, IMAGE]},
    {"role": "assistant", "content": [CALL]},
    {"role": "user", "content": [{"type": "tool_result", "tool_call_id": "t1", "content": "sunny"}]},
]


def validate_with_botocore(plan: CountTokensPlan) -> dict[str, Any]:
    """The oracle: botocore's ParamValidator over the CountTokens input shape (blobs as bytes)."""
    assert plan.body is not None
    body = json.loads(plan.body)
    params: dict[str, Any] = {"modelId": plan.foundation_model, **json.loads(plan.body)}
    inp = params["input"]
    if "invokeModel" in inp:
        inp["invokeModel"]["body"] = base64.b64decode(inp["invokeModel"]["body"], validate=True)
    else:
        for m in inp["converse"]["messages"]:
            for block in m["content"]:
                src = block.get("image", {}).get("source", {})
                if "bytes" in src:
                    src["bytes"] = base64.b64decode(src["bytes"], validate=True)
    shape = SERVICE.operation_model("CountTokens").input_shape
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()
    model_id = shape.members["modelId"]
    assert re.fullmatch(model_id.metadata["pattern"], plan.foundation_model)
    assert len(plan.foundation_model) <= model_id.metadata["max"]
    return body


def test_botocore_has_the_count_tokens_operation() -> None:
    op = SERVICE.operation_model("CountTokens")
    assert op.http["requestUri"] == "/model/{modelId}/count-tokens"
    assert set(op.input_shape.members["input"].members) == {"invokeModel", "converse"}


@pytest.mark.parametrize("use_converse", [None, True])
@pytest.mark.parametrize(
    ("prompt", "opts"),
    [
        ("Hello", {}),
        ("Hello", {"system": "Be brief.", "max_tokens": 50, "temperature": 0.2, "stop": ["END"]}),
        (CONVERSATION, {"tools": [WEATHER]}),
        ("Think first", {"thinking": {"budget_tokens": 2048}, "max_tokens": 4096}),
    ],
    ids=["plain", "options", "tools_images_history", "thinking"],
)
def test_bodies_pass_botocore(prompt: Any, opts: dict[str, Any], use_converse: bool | None) -> None:
    po = {"use_converse": use_converse} if use_converse is not None else {}
    plan = plan_count_tokens(f"bedrock:{SONNET4}", prompt, {**opts, "provider_options": po})
    body = validate_with_botocore(plan)
    prepared = prepare(f"bedrock:{SONNET4}", prompt, {**opts, "provider_options": po})
    if prepared.formatter.endpoint == "converse":
        assert use_converse is not False
        # exactly the Converse body reqbed would send, less what CountTokens has no member for
        sent = json.loads(prepared.body)
        assert body["input"]["converse"] == {
            k: sent[k] for k in ("messages", "system", "toolConfig", "additionalModelRequestFields") if k in sent
        }
    else:
        # generate_text's endpoint rule picks Anthropic's native body (no tools): its exact bytes, base64
        assert use_converse is not True
        assert "tools" not in opts or use_converse is False
        assert base64.b64decode(body["input"]["invokeModel"]["body"]) == prepared.body


def test_converse_is_chosen_exactly_when_generate_text_would() -> None:
    """Same endpoint rule: a family without a native formatter (and any use_converse=True) -> converse."""
    plan = plan_count_tokens(f"bedrock:{HAIKU45}", "hi", {"provider_options": {"use_converse": True}})
    assert "converse" in json.loads(plan.body or b"")["input"]
    plan = plan_count_tokens(f"bedrock:{HAIKU45}", "hi", {})
    assert "invokeModel" in json.loads(plan.body or b"")["input"]


@pytest.mark.parametrize(
    ("model", "opts", "foundation"),
    [
        (f"bedrock:{SONNET4}", {}, SONNET4),
        (f"bedrock:us.{SONNET4}", {}, SONNET4),
        (f"bedrock:eu.{SONNET4}", {}, SONNET4),
        (f"bedrock:apac.{SONNET4}", {}, SONNET4),
        (f"bedrock:global.{HAIKU45}", {}, HAIKU45),
        (f"bedrock:arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.{SONNET4}", {}, SONNET4),
        (f"bedrock:arn:aws:bedrock:us-west-2::foundation-model/{SONNET4}", {}, SONNET4),
        (
            "bedrock:arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
            {"provider_options": {"base_model": f"us.{SONNET4}"}},
            SONNET4,
        ),
    ],
)
def test_only_foundation_model_ids_are_sent(model: str, opts: dict[str, Any], foundation: str) -> None:
    plan = plan_count_tokens(model, "Hello", opts)
    assert plan.foundation_model == foundation
    assert plan.url is not None
    assert plan.url.endswith("/model/" + foundation.replace(":", "%3A") + "/count-tokens")
    validate_with_botocore(plan)


def test_the_region_and_endpoint_are_generate_texts() -> None:
    arn = f"bedrock:arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET4}"
    plan = plan_count_tokens(arn, "Hello", {})
    assert (
        plan.url == f"https://bedrock-runtime.eu-west-1.amazonaws.com/model/{SONNET4.replace(':', '%3A')}/count-tokens"
    )
    plan = plan_count_tokens(
        f"bedrock:{SONNET4}", "Hello", {"provider_options": {"endpoint_url": "http://127.0.0.1:9"}}
    )
    assert plan.url == f"http://127.0.0.1:9/model/{SONNET4.replace(':', '%3A')}/count-tokens"


def test_an_application_profile_without_base_model_is_refused() -> None:
    arn = "bedrock:arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    with pytest.raises(reqbed.ValidationError) as e:
        plan_count_tokens(arn, "Hello", {})
    assert e.value.field == "provider_options.base_model"


@pytest.mark.parametrize(
    "model",
    ["bedrock:amazon.nova-pro-v1:0", "bedrock:us.meta.llama3-3-70b-instruct-v1:0", "bedrock:anthropic.claude-v2:1"],
)
def test_models_count_tokens_does_not_serve_are_refused(model: str) -> None:
    with pytest.raises(reqbed.ValidationError, match="estimate=True") as e:
        plan_count_tokens(model, "Hello", {})
    assert e.value.field == "model"


def test_bad_chat_input_is_refused_as_generate_text_refuses_it() -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        plan_count_tokens(f"bedrock:{SONNET4}", "Hello", {"temperature": 7})
    assert e.value.field == "temperature"
    with pytest.raises(reqbed.ValidationError) as e:
        plan_count_tokens(f"bedrock:{SONNET4}", "Hello", {"estimate": "yes"})
    assert e.value.field == "estimate"


# -- the local estimate ------------------------------------------------------------------------------


def test_estimate_is_only_for_unsupported_models_and_is_marked() -> None:
    plan = plan_count_tokens(f"bedrock:{SONNET4}", "Hello", {"estimate": True})
    assert plan.estimate is None  # a served model is counted by AWS even with estimate=True
    assert plan.url is not None
    plan = plan_count_tokens("bedrock:amazon.nova-pro-v1:0", "Hello there friend", {"estimate": True, "system": "Hi"})
    assert plan.url is None
    assert plan.body is None
    # ceil(len("Hi" + "Hello there friend") / 4) + 4 per message
    assert plan.estimate == math.ceil(20 / 4) + 4


def test_estimate_counts_every_part_as_documented() -> None:
    req = prepare("bedrock:amazon.nova-pro-v1:0", CONVERSATION, {"tools": [WEATHER]}).request
    chars = (
        len("You answer briefly.")
        + len("What is in this picture?")
        + len("get_weather") + len('{"city":"Paris"}')
        + len("sunny")
        + len("get_weather") + len("Weather for a city") + len(json.dumps(WEATHER["parameters"], separators=(",", ":")))
    )  # fmt: skip
    assert estimate_tokens(req) == math.ceil(chars / 4) + 4 * 3 + 1600


def test_token_count_is_an_int_marked_when_estimated() -> None:
    exact, est = TokenCount(12), TokenCount(12, estimated=True)
    assert exact == est == 12
    assert isinstance(est, int)
    assert not exact.estimated
    assert est.estimated
    assert repr(est) == "TokenCount(12, estimated=True)"


# -- the answer --------------------------------------------------------------------------------------


def test_parse_the_answer() -> None:
    n = parse_count_tokens(200, {}, b'{"inputTokens": 42}')
    assert n == 42
    assert not n.estimated


@pytest.mark.parametrize("body", [b"{}", b'{"inputTokens": "4"}', b'{"inputTokens": true}', b"[]", b"nope"])
def test_an_answer_of_the_wrong_shape_is_a_clear_error(body: bytes) -> None:
    with pytest.raises(reqbed.ModelStreamError, match="CountTokens"):
        parse_count_tokens(200, {}, body)


def test_error_answers_map_to_the_error_tree() -> None:
    headers = {"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    with pytest.raises(reqbed.BadRequestError, match="counting tokens"):
        parse_count_tokens(400, headers, b'{"message": "The provided model doesn\'t support counting tokens."}')


def test_the_supported_list_is_anthropic_only() -> None:
    assert all(p.startswith("anthropic.claude-") for p in COUNT_TOKENS_MODELS)
