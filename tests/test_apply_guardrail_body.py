"""ApplyGuardrail's pure request builder and answer parser (the endpoint is not wired yet): the
request is validated against botocore's ``ApplyGuardrail`` input shape (path parameters included)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

import reqbed
from reqbed._apply_guardrail import ApplyGuardrailResult, build_request, parse_response
from tests.families.test_converse_body import _limits

OP = botocore.session.get_session().get_service_model("bedrock-runtime").operation_model("ApplyGuardrail")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def valid(path: str, body: dict[str, Any]) -> dict[str, Any]:
    _, _, gid, _, version, _ = path.split("/")
    params = {"guardrailIdentifier": gid, "guardrailVersion": version, **copy.deepcopy(body)}
    for block in params["content"]:
        if "image" in block:
            block["image"]["source"]["bytes"] = base64.b64decode(block["image"]["source"]["bytes"])
    report = ParamValidator().validate(params, OP.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert _limits(OP.input_shape, params) == []
    return params


def test_a_request_with_text_qualifiers_and_an_image() -> None:
    content = [
        "Is this allowed?",
        {"text": "Penguins are birds.", "qualifiers": ["grounding_source"]},
        reqbed.GuardContentPart(data=PNG, media_type="image/png"),
    ]
    path, body = build_request({"id": "gr1abc", "version": "DRAFT"}, content, source="OUTPUT", output_scope="FULL")
    assert path == "/guardrail/gr1abc/version/DRAFT/apply"
    valid(path, body)
    assert body["source"] == "OUTPUT"
    assert body["outputScope"] == "FULL"
    assert body["content"][:2] == [
        {"text": {"text": "Is this allowed?"}},
        {"text": {"text": "Penguins are birds.", "qualifiers": ["grounding_source"]}},
    ]


def test_an_arn_is_one_path_segment() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123"
    path, body = build_request(reqbed.Guardrail(id=arn, version="3"), "hi")
    assert path == "/guardrail/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aguardrail%2Fabc123/version/3/apply"
    assert body == {"source": "INPUT", "content": [{"text": {"text": "hi"}}]}


@pytest.mark.parametrize(
    ("field", "args", "kwargs"),
    [
        ("guardrail.id", ({"id": "BAD ID", "version": "1"}, "hi"), {}),
        ("guardrail.trace", ({"id": "g1", "version": "1", "trace": "enabled"}, "hi"), {}),
        ("source", ({"id": "g1", "version": "1"}, "hi"), {"source": "BOTH"}),
        ("output_scope", ({"id": "g1", "version": "1"}, "hi"), {"output_scope": "ALL"}),
        ("content", ({"id": "g1", "version": "1"}, []), {}),
        ("content[0].qualifiers[0]", ({"id": "g1", "version": "1"}, [{"text": "a", "qualifiers": ["x"]}]), {}),
        ("content[0].media_type", ({"id": "g1", "version": "1"}, [{"data": PNG, "media_type": "image/gif"}]), {}),
        ("content[0]", ({"id": "g1", "version": "1"}, [3]), {}),
    ],
)
def test_bad_requests_are_refused(field: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        build_request(*args, **kwargs)
    assert info.value.field == field


def test_the_answer_is_parsed() -> None:
    answer = {
        "usage": {"topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 0},
        "action": "GUARDRAIL_INTERVENED",
        "actionReason": "Guardrail blocked.",
        "outputs": [{"text": "Sorry, I cannot help with that."}],
        "assessments": [{"topicPolicy": {"topics": [{"name": "x", "type": "DENY", "action": "BLOCKED"}]}}],
        "guardrailCoverage": {"textCharacters": {"guarded": 10, "total": 10}},
    }
    result = parse_response(json.dumps(answer).encode())
    assert result == ApplyGuardrailResult(
        action="GUARDRAIL_INTERVENED",
        outputs=["Sorry, I cannot help with that."],
        assessments=answer["assessments"],  # type: ignore[arg-type]
        usage=answer["usage"],  # type: ignore[arg-type]
        action_reason="Guardrail blocked.",
        coverage=answer["guardrailCoverage"],  # type: ignore[arg-type]
    )
    assert result.intervened
    none = parse_response(b'{"action": "NONE", "outputs": [], "assessments": [], "usage": {}}')
    assert (none.intervened, none.outputs) == (False, [])
    for bad in (b"not json", b'{"outputs": []}', b"[]"):
        with pytest.raises(reqbed.ModelStreamError):
            parse_response(bad)
