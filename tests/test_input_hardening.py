"""Bad input is a ``ValidationError`` before any I/O, and never echoes a secret (issue 19, smaller items).

Each case used to escape as an untyped error (``RecursionError``, ``UnicodeEncodeError``,
``httpx.InvalidURL``), as a ``CredentialsError`` blaming the wrong thing, or as a silent change
(NaN sent as ``null``), or echoed a secret pasted in the wrong place.
"""

from __future__ import annotations

import math
import traceback
from typing import Any

import pytest

import reqbed
from reqbed._aws.secret import Secret, SignedHeaders, shown
from reqbed._json_check import MAX_JSON_DEPTH, check_json_value
from reqbed._retry import MAX_RETRIES_LIMIT, RetryPolicy
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzzSECRETzz"
API_KEY = "ABSKQmVkcm9ja0FQSUtleS1zZWNyZXRzZWNyZXRzZWNyZXQ="


def deep_schema(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


def refused(emulator: Emulator, field_prefix: str, **opts: Any) -> reqbed.ValidationError:
    """Call against the emulator, expect a ValidationError on ``field_prefix``, and no request sent."""
    before = len(emulator.requests)
    prompt = opts.pop("prompt", "hi")
    opts.setdefault("provider_options", {**emulator.provider_options(), "use_converse": True})
    with reqbed.Client() as client, pytest.raises(reqbed.ValidationError) as info:
        client.generate_text(MODEL, prompt, **opts)
    assert info.value.field is not None
    assert info.value.field.startswith(field_prefix), info.value.field
    assert len(emulator.requests) == before
    return info.value


# -- deep, self-referencing, NaN, surrogates -----------------------------------------------------


def test_tool_schema_nested_2000_levels(emulator: Emulator) -> None:
    tool = {"name": "deep", "description": "d", "parameters": deep_schema(2000)}
    e = refused(emulator, "tools[0].parameters.properties.x", tools=[tool])
    assert f"more than {MAX_JSON_DEPTH} levels" in str(e)


def test_tool_schema_as_a_tool_struct(emulator: Emulator) -> None:
    tool = reqbed.Tool(name="deep", description="d", parameters=deep_schema(2000))
    refused(emulator, "tools[0].parameters", tools=[tool])


def test_self_referencing_tool_schema(emulator: Emulator) -> None:
    node: dict[str, Any] = {"type": "object", "properties": {}}
    node["properties"]["child"] = node
    tool = {"name": "loop", "description": "d", "parameters": node}
    e = refused(emulator, "tools[0].parameters.properties.child", tools=[tool])
    assert "contains itself" in str(e)


def test_a_shared_subschema_is_not_a_cycle(emulator: Emulator) -> None:
    shared = {"type": "string"}
    tool = {
        "name": "twice",
        "description": "d",
        "parameters": {"type": "object", "properties": {"a": shared, "b": shared}},
    }
    with reqbed.Client() as client:
        resp = client.generate_text(
            MODEL, "hi", tools=[tool], provider_options={**emulator.provider_options(), "use_converse": True}
        )
    assert resp.finish_reason in ("stop", "tool_calls")


def test_deep_tool_arguments_in_history(emulator: Emulator) -> None:
    deep: Any = 1
    for _ in range(2000):
        deep = [deep]
    prompt = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_call", "id": "t1", "name": "f", "arguments": {"a": deep}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_call_id": "t1", "content": "ok"}]},
    ]
    refused(emulator, "prompt[1].content[0].arguments.a", prompt=prompt)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_in_additional_model_request_fields(emulator: Emulator, bad: float) -> None:
    po = {**emulator.provider_options(), "use_converse": True}
    po["additional_model_request_fields"] = {"top_k": 5, "inference": {"weights": [1.0, bad]}}
    e = refused(emulator, "provider_options.additional_model_request_fields.inference.weights[1]", provider_options=po)
    assert "JSON cannot carry" in str(e)


def test_lone_surrogate_in_the_prompt(emulator: Emulator) -> None:
    e = refused(emulator, "prompt", prompt="hello \ud800 world")
    assert "surrogate" in str(e)


def test_lone_surrogate_in_a_message_and_in_system(emulator: Emulator) -> None:
    refused(
        emulator,
        "prompt[0].content[0].text",
        prompt=[{"role": "user", "content": [{"type": "text", "text": "\udfff"}]}],
    )
    refused(emulator, "system", system="be \udc80 brief")


def test_check_json_value_accepts_ordinary_values() -> None:
    check_json_value({"a": [1, 2.5, "é", None, True, b"\x00"], "b": {"c": "ü"}}, "x")
    check_json_value(deep_schema(MAX_JSON_DEPTH // 2 - 1), "x")


# -- endpoint, region, put_key ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["\r\nX-Evil: 1", "\n", " x", "\t"])
def test_control_characters_in_endpoint_url(emulator: Emulator, suffix: str) -> None:
    po = {**emulator.provider_options(), "endpoint_url": emulator.endpoint_url + suffix}
    refused(emulator, "provider_options.endpoint_url", provider_options=po)


def test_region_with_crlf_from_the_environment_plus_endpoint_url(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1\r\nX-Evil: 1")
    po = {k: v for k, v in emulator.provider_options().items() if k != "region"}
    e = refused(emulator, "region", provider_options=po)
    assert not isinstance(e, reqbed.CredentialsError)
    assert "X-Evil" not in str(e)


def test_password_in_endpoint_url_is_refused_and_not_echoed(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = emulator.endpoint_url.replace("http://", f"http://admin:{SECRET}@")
    e = refused(
        emulator, "provider_options.endpoint_url", provider_options={**emulator.provider_options(), "endpoint_url": url}
    )
    assert SECRET not in str(e)
    assert SECRET not in repr(e)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    po = {k: v for k, v in emulator.provider_options().items() if k != "endpoint_url"}
    e = refused(emulator, "env AWS_ENDPOINT_URL", provider_options=po)
    assert SECRET not in str(e)


def test_a_secret_given_as_the_region_is_not_echoed(emulator: Emulator) -> None:
    e = refused(emulator, "provider_options.region", provider_options={**emulator.provider_options(), "region": SECRET})
    assert SECRET not in str(e)
    assert f"<redacted: {len(SECRET)} characters>" in str(e)
    e = refused(
        emulator, "provider_options.region", provider_options={**emulator.provider_options(), "region": "us-eest"}
    )
    assert "'us-eest'" in str(e)  # a plain typo is still shown


def test_a_secret_given_as_the_put_key_name_or_region_is_not_echoed() -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.put_key(API_KEY, "whatever")
    assert API_KEY not in str(info.value)
    assert info.value.field == "name"
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.put_key("aws_bedrock", {"api_key": API_KEY, "region": SECRET})
    assert SECRET not in str(info.value)
    with pytest.raises(reqbed.ValidationError, match="'aws_bedrok'"):
        reqbed.put_key("aws_bedrok", API_KEY)


def test_shown() -> None:
    assert shown("eu-west-1") == "'eu-west-1'"
    assert shown(SECRET) == f"<redacted: {len(SECRET)} characters>"
    assert shown("AKIAIOSFODNN7EXAMPLE") == "<redacted: 20 characters>"
    assert shown(42) == "<a int>"


# -- max_retries ----------------------------------------------------------------------------------


def test_max_retries_has_an_upper_bound(emulator: Emulator) -> None:
    e = refused(emulator, "max_retries", max_retries=10**9)
    assert str(MAX_RETRIES_LIMIT) in str(e)
    refused(emulator, "max_retries", max_retries=MAX_RETRIES_LIMIT + 1)
    with reqbed.Client() as client:
        resp = client.generate_text(
            MODEL,
            "hi",
            max_retries=MAX_RETRIES_LIMIT,
            provider_options={**emulator.provider_options(), "use_converse": True},
        )
    assert resp.text


def test_retry_policy_max_retries_has_an_upper_bound() -> None:
    with pytest.raises(reqbed.ValidationError, match=str(MAX_RETRIES_LIMIT)):
        RetryPolicy(max_retries=10**9)
    assert RetryPolicy(max_retries=MAX_RETRIES_LIMIT).max_retries == MAX_RETRIES_LIMIT


# -- signed headers never in a traceback's locals -------------------------------------------------


def reqbed_locals(error: BaseException) -> str:
    """Every local of every reqbed signing frame, as ``capture_locals=True`` tracebacks show them."""
    te = traceback.TracebackException.from_exception(error, capture_locals=True)
    shown_locals = []
    for frame in te.stack:
        if "/reqbed/" in frame.filename and frame.locals:
            shown_locals += [f"{frame.name}: {k}={v}" for k, v in frame.locals.items()]
    assert shown_locals, "no reqbed frame in the traceback"
    return "\n".join(shown_locals)


def test_bearer_key_is_not_in_traceback_locals(emulator: Emulator) -> None:
    po = {"endpoint_url": emulator.endpoint_url, "region": "us-east-1", "api_key": API_KEY + " "}
    with reqbed.Client() as client, pytest.raises(reqbed.CredentialsError) as info:
        client.generate_text(MODEL, "hi", provider_options=po, max_retries=0)
    text = reqbed_locals(info.value)
    assert "apply_signature" in text
    signing = "\n".join(line for line in text.splitlines() if line.startswith(("apply_signature", "handle_request")))
    assert API_KEY not in signing
    assert "<redacted" in signing


def test_session_token_is_not_in_traceback_locals(emulator: Emulator) -> None:
    token = "IQoJb3JpZ2luX2VjEXAMPLETOKENsecretsecret"
    po = {**emulator.provider_options(), "session_token": token + "\n"}
    with reqbed.Client() as client, pytest.raises(reqbed.CredentialsError) as info:
        client.generate_text(MODEL, "hi", provider_options=po, max_retries=0)
    signing = "\n".join(
        line
        for line in reqbed_locals(info.value).splitlines()
        if line.startswith(("apply_signature", "handle_request"))
    )
    assert "apply_signature" in signing
    assert token not in signing


def test_secret_and_signed_headers_reprs() -> None:
    s = Secret(API_KEY)
    assert API_KEY not in repr(s)
    assert API_KEY not in str(s)
    assert s.reveal() == API_KEY
    h = SignedHeaders({"Authorization": f"Bearer {API_KEY}", "X-Amz-Security-Token": SECRET})
    assert API_KEY not in repr(h)
    assert SECRET not in repr(h)
    assert h["Authorization"] == f"Bearer {API_KEY}"
    assert dict(h) == {"Authorization": f"Bearer {API_KEY}", "X-Amz-Security-Token": SECRET}
    assert all(isinstance(v, Secret) for _, v in h.secrets())


def test_embeddings_max_retries_has_the_same_bound() -> None:
    from reqbed._embed.plan import plan_embed

    model = "bedrock:amazon.titan-embed-text-v2:0"
    assert plan_embed(model, ["a"], {"max_retries": MAX_RETRIES_LIMIT}).max_retries == MAX_RETRIES_LIMIT
    with pytest.raises(reqbed.ValidationError) as info:
        plan_embed(model, ["a"], {"max_retries": MAX_RETRIES_LIMIT + 1})
    assert info.value.field == "max_retries"
