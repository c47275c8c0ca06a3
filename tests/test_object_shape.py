"""``generate_object``'s pure parts: the mode table, request shaping, result extraction and errors.

Oracle for the bodies: botocore's own ``bedrock-runtime`` service model (``ParamValidator`` on the
``Converse`` / ``ConverseStream`` input shapes) over reqbed's chat body plus the plan's fields.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import msgspec
import pytest
from botocore.validate import ParamValidator

import reqbed
from reqbed._object.shape import DEFAULT_SCHEMA_NAME, ObjectPlan, plan_object
from reqbed._pipeline import prepare

SERVICE = botocore.session.get_session().get_service_model("bedrock-runtime")
CREDS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

HAIKU45 = "bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET35 = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
SONNET37 = "bedrock:us.anthropic.claude-3-7-sonnet-20250219-v1:0"
OPUS41 = "bedrock:us.anthropic.claude-opus-4-1-20250805-v1:0"
NOVA = "bedrock:amazon.nova-pro-v1:0"
MISTRAL_LARGE = "bedrock:mistral.mistral-large-2407-v1:0"
MISTRAL_SMALL = "bedrock:mistral.mistral-small-2402-v1:0"
COHERE = "bedrock:cohere.command-r-plus-v1:0"
LLAMA33 = "bedrock:us.meta.llama3-3-70b-instruct-v1:0"
LLAMA3 = "bedrock:meta.llama3-70b-instruct-v1:0"
GPT_OSS = "bedrock:openai.gpt-oss-120b-1:0"
TITAN = "bedrock:amazon.titan-text-express-v1"
DEEPSEEK_V3 = "bedrock:deepseek.v3-v1:0"

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 1}},
    "required": ["name", "age"],
}


class Person(msgspec.Struct):
    name: str
    age: int


@pytest.mark.parametrize(
    ("model", "opts", "mode", "forced"),
    [
        (HAIKU45, {}, "native", False),
        (HAIKU45, {"thinking": {"budget_tokens": 2000}}, "native", False),
        (SONNET35, {}, "tool", True),
        (OPUS41, {}, "tool", True),
        (SONNET37, {"thinking": {"budget_tokens": 2000}}, "tool", False),  # never a forced tool with thinking
        (SONNET37, {"reasoning_effort": "low"}, "tool", False),
        (SONNET37, {"thinking": {"type": "disabled"}}, "tool", True),
        (NOVA, {}, "tool", True),
        (MISTRAL_LARGE, {}, "tool", True),
        (MISTRAL_SMALL, {}, "tool", False),
        (COHERE, {}, "tool", False),
        (LLAMA33, {}, "tool", False),
        (LLAMA3, {}, "json", False),
        (GPT_OSS, {}, "native", False),
        (TITAN, {}, "json", False),
        (DEEPSEEK_V3, {}, "native", False),
        (SONNET35, {"mode": "json"}, "json", False),
        (HAIKU45, {"mode": "tool"}, "tool", True),
        (GPT_OSS, {"mode": "tool"}, "tool", True),
    ],
)
def test_the_mode_table(model: str, opts: dict[str, Any], mode: str, forced: bool) -> None:
    plan = plan_object(model, "Generate a person", PERSON, opts)
    assert (plan.mode, plan.forced) == (mode, forced)
    tools = plan.chat_options.get("tools") or []
    assert [t.name for t in tools] == ([DEFAULT_SCHEMA_NAME] if mode == "tool" else [])
    assert plan.chat_options.get("tool_choice") == (DEFAULT_SCHEMA_NAME if forced else None)
    system = plan.chat_options.get("system", "")
    if mode == "json" and model == TITAN:  # no system prompt: the instruction leads the prompt
        assert system == ""
        assert plan.prompt.startswith("Answer with a single JSON value")
        assert plan.prompt.endswith("\n\nGenerate a person")
    elif mode == "json":
        assert json.dumps(plan.sent_schema) in system
    elif mode == "tool" and not forced:
        assert DEFAULT_SCHEMA_NAME in system
    else:
        assert system == ""


@pytest.mark.parametrize(
    ("model", "opts", "field"),
    [
        (LLAMA33, {"mode": "native"}, "mode"),
        (TITAN, {"mode": "tool"}, "mode"),
        (SONNET35, {"mode": "fancy"}, "mode"),
        (SONNET35, {"schema_name": "has space"}, "schema_name"),
        (SONNET35, {"schema_description": 3}, "schema_description"),
        (SONNET35, {"tools": [{"name": "x"}]}, "tools"),
        (SONNET35, {"tool_choice": "auto"}, "tool_choice"),
    ],
)
def test_bad_object_options_are_validation_errors(model: str, opts: dict[str, Any], field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        plan_object(model, "Generate a person", PERSON, opts)
    assert info.value.field == field


def _converse_body(plan: ObjectPlan, model: str, stream: bool = False) -> dict[str, Any]:
    opts = {**plan.chat_options, "provider_options": {**CREDS, "use_converse": True}}
    p = prepare(model, plan.prompt, opts, stream=stream, environ={})
    body = json.loads(p.body)
    body.update(plan.body_fields_for(p.formatter.name))
    return body


def _botocore_accepts(body: dict[str, Any], operation: str) -> None:
    shape = SERVICE.operation_model(operation).input_shape
    report = ParamValidator().validate({"modelId": "m", **body}, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize(
    "model", [HAIKU45, SONNET35, NOVA, MISTRAL_LARGE, COHERE, LLAMA33, LLAMA3, GPT_OSS, DEEPSEEK_V3]
)
@pytest.mark.parametrize("schema", [PERSON, Person, list[Person]])
@pytest.mark.parametrize("stream", [False, True])
def test_converse_bodies_pass_botocores_model(model: str, schema: Any, stream: bool) -> None:
    plan = plan_object(model, "Generate a person", schema, {"schema_description": "A person"}, stream=stream)
    body = _converse_body(plan, model, stream)
    _botocore_accepts(body, "ConverseStream" if stream else "Converse")
    if plan.mode == "native":
        fmt = body["outputConfig"]["textFormat"]
        assert fmt["type"] == "json_schema"
        structure = fmt["structure"]["jsonSchema"]
        assert json.loads(structure["schema"]) == plan.sent_schema  # a JSON string, not an object
        assert (structure["name"], structure["description"]) == (DEFAULT_SCHEMA_NAME, "A person")
        assert plan.sent_schema["additionalProperties"] is False
    elif plan.mode == "tool":
        (tool,) = body["toolConfig"]["tools"]
        assert tool["toolSpec"]["name"] == DEFAULT_SCHEMA_NAME
        assert tool["toolSpec"]["inputSchema"]["json"] == plan.sent_schema
        assert ("toolChoice" in body["toolConfig"]) == plan.forced
        if plan.forced:
            assert body["toolConfig"]["toolChoice"] == {"tool": {"name": DEFAULT_SCHEMA_NAME}}
    else:
        assert "toolConfig" not in body
        assert "outputConfig" not in body


def test_native_invoke_fields() -> None:
    claude = plan_object(HAIKU45, "Generate a person", Person, {})
    assert claude.body_fields_for("anthropic") == {
        "output_config": {"format": {"type": "json_schema", "schema": claude.sent_schema}}
    }
    oss = plan_object(GPT_OSS, "Generate a person", Person, {"schema_name": "person"})
    assert oss.body_fields_for("openai") == {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": oss.sent_schema, "strict": True},
        }
    }
    with pytest.raises(reqbed.ValidationError) as info:
        oss.body_fields_for("meta")
    assert info.value.field == "provider_options.use_converse"
    assert plan_object(SONNET35, "Generate a person", Person, {}).body_fields_for("anthropic") == {}


def test_the_callers_system_prompt_is_kept() -> None:
    plan = plan_object(
        LLAMA3, "Generate a person", PERSON, {"system": "Be terse.", "max_tokens": 100, "temperature": 0}
    )
    assert plan.chat_options["system"].startswith("Be terse.\n\n")
    assert (plan.chat_options["max_tokens"], plan.chat_options["temperature"]) == (100, 0)
    assert not set(plan.chat_options) & {"mode", "schema_name", "schema_description"}


# -- answers ---------------------------------------------------------------------------------------


def response(text: str = "", calls: list[reqbed.ToolCall] | None = None, finish: str = "stop") -> reqbed.Response:
    parts: list[Any] = ([reqbed.TextPart(text=text)] if text else []) + list(calls or [])
    return reqbed.Response(
        text=text, thinking=None, tool_calls=list(calls or []), finish_reason=finish,  # type: ignore[arg-type]
        usage=reqbed.Usage(input_tokens=3, output_tokens=4, total_tokens=7), model="m",
        message=reqbed.Message(role="assistant", content=parts),
    )  # fmt: skip


def call(args: dict[str, Any], name: str = DEFAULT_SCHEMA_NAME) -> reqbed.ToolCall:
    return reqbed.ToolCall(id="t1", name=name, arguments=args)


def test_tool_answers() -> None:
    plan = plan_object(SONNET35, "Generate a person", Person, {})
    got = plan.finish(response("Here you go.", [call({"name": "Ada", "age": 36})], "tool_calls"))
    assert got.object == Person(name="Ada", age=36)
    assert got.usage.total_tokens == 7
    assert got.finish_reason == "tool_calls"
    assert isinstance(got, reqbed.ObjectResponse)


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "Ada", "age": 36}',
        'Sure! Here is the person:\n```json\n{"name": "Ada", "age": 36}\n```\nAnything else?',
        '```\n{"name": "Ada", "age": 36}\n```',
        'The answer is {"name": "Ada", "age": 36}. Done.',
    ],
)
def test_text_answers(text: str) -> None:
    for model in (LLAMA3, HAIKU45):  # json and native
        assert plan_object(model, "Generate a person", Person, {}).finish(response(text)).object == Person(
            name="Ada", age=36
        )


def test_wrapped_roots_come_back_unwrapped() -> None:
    plan = plan_object(SONNET35, "Generate a person", list[Person], {})
    assert plan.wrapped
    got = plan.finish(response(calls=[call({"value": [{"name": "a", "age": 1}]})]))
    assert got.object == [Person(name="a", age=1)]


@pytest.mark.parametrize(
    ("model", "answer", "message", "raw"),
    [
        (
            SONNET35,
            response("I'd rather not."),
            "the model did not call the 'structured_output' tool",
            "I'd rather not.",
        ),
        (SONNET35, response(calls=[call({"x": 1}, name="other")]), "did not call", ""),
        (LLAMA3, response("no json here"), "the answer holds no JSON", "no json here"),
        (
            LLAMA3,
            response('{"name": "Ada", "age": "36"}'),
            "$.age: expected int, got str",
            '{"name": "Ada", "age": "36"}',
        ),
        (LLAMA3, response('{"name": "Ada", "ag', finish="length"), "cut off by max_tokens", '{"name": "Ada", "ag'),
        (HAIKU45, response("", finish="content_filter"), "filtered or refused", ""),
        (SONNET35, response(calls=[call({"name": "Ada"})]), "$.age", '{"name":"Ada"}'),
    ],
)
def test_every_failure_is_an_object_generation_error(
    model: str, answer: reqbed.Response, message: str, raw: str
) -> None:
    plan = plan_object(model, "Generate a person", Person, {})
    with pytest.raises(reqbed.ObjectGenerationError) as info:
        plan.finish(answer)
    err = info.value
    assert message in str(err)
    assert err.text == raw
    assert err.response is answer
    assert isinstance(err, reqbed.ReqbedError)
    if "$." in message:
        assert err.errors
        assert err.errors[0].startswith(message.split(":")[0])


def test_json_mode_without_a_system_prompt_needs_a_string_prompt() -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        plan_object(TITAN, [{"role": "user", "content": "hi"}], PERSON, {})
    assert info.value.field == "prompt"
