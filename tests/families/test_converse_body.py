"""Converse request bodies, checked against botocore's own bedrock-runtime service model.

The oracle: ``botocore.validate.ParamValidator`` over the ``Converse`` / ``ConverseStream`` input
shapes (required members, types, unions, minimums), plus ``_limits``, a walk of the same shape
for what ParamValidator leaves out (enums, maximums, patterns, blob minimums). reqbed's JSON body
carries blobs as base64 text; ``_as_params`` turns them back into bytes as botocore expects.
Bodies are built through ``reqbed._pipeline.prepare`` with ``use_converse=True`` and checked as
both a ``Converse`` and a ``ConverseStream`` input. Random conversations come from hypothesis: valid
ones must be sent and pass the oracle; perturbed ones must either pass or be refused before I/O.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reqbed
from reqbed._pipeline import Prepared, prepare

SERVICE = botocore.session.get_session().get_service_model("bedrock-runtime")
CREDS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
CLAUDE = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
CLAUDE_THINK = "bedrock:us.anthropic.claude-3-7-sonnet-20250219-v1:0"
HAIKU = "bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "bedrock:amazon.nova-pro-v1:0"
LLAMA = "bedrock:meta.llama3-3-70b-instruct-v1:0"
LLAMA_VISION = "bedrock:us.meta.llama3-2-90b-instruct-v1:0"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


# -- the oracle ----------------------------------------------------------------------------------


def _unblob(blocks: list[dict[str, Any]]) -> None:
    for b in blocks:
        for key in ("image", "document"):
            src = b.get(key, {}).get("source", {})
            if "bytes" in src:
                src["bytes"] = base64.b64decode(src["bytes"], validate=True)
        rc = b.get("reasoningContent", {})
        if "redactedContent" in rc:
            rc["redactedContent"] = base64.b64decode(rc["redactedContent"], validate=True)
        if "toolResult" in b:
            _unblob(b["toolResult"]["content"])


def _as_params(body: dict[str, Any], model_id: str) -> dict[str, Any]:
    """reqbed's JSON body -> the params botocore's client would take (blobs as bytes, plus modelId)."""
    params = copy.deepcopy(body)
    for m in params.get("messages", []):
        _unblob(m["content"])
    return {"modelId": model_id, **params}


def _limits(shape: Any, value: Any, path: str = "$") -> list[str]:
    """What ParamValidator does not check: enums, maximums, patterns, blob minimums."""
    meta, kind, errors = shape.metadata, shape.type_name, []
    if kind == "structure" and not meta.get("document"):
        for k, v in value.items():
            if k in shape.members:
                errors += _limits(shape.members[k], v, f"{path}.{k}")
    elif kind == "list":
        if len(value) > meta.get("max", len(value)):
            errors.append(f"{path}: {len(value)} items > {meta['max']}")
        for i, v in enumerate(value):
            errors += _limits(shape.member, v, f"{path}[{i}]")
    elif kind == "string":
        if "enum" in meta and value not in meta["enum"]:
            errors.append(f"{path}: {value!r} not one of {meta['enum']}")
        if len(value) > meta.get("max", len(value)):
            errors.append(f"{path}: {len(value)} chars > {meta['max']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {meta['pattern']}")
    elif kind == "blob" and len(value) < meta.get("min", 0):
        errors.append(f"{path}: {len(value)} bytes < {meta['min']}")
    elif kind in ("integer", "long", "float", "double") and value > meta.get("max", value):
        errors.append(f"{path}: {value} > {meta['max']}")
    return errors


def assert_valid(p: Prepared, operation: str = "Converse") -> dict[str, Any]:
    """The body of ``p`` must be a valid ``operation`` input; returns the body as parsed JSON."""
    body: dict[str, Any] = json.loads(p.body)
    params = _as_params(body, p.request.spec.model_id)
    shape = SERVICE.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()
    assert _limits(shape, params) == []
    return body


def body_for(model: str, prompt: Any, **opts: Any) -> dict[str, Any]:
    po = {**CREDS, "use_converse": True, **opts.pop("provider_options", {})}
    full = {**opts, "provider_options": po}
    p = prepare(model, prompt, full, environ={})
    assert p.url.endswith("/converse")
    body = assert_valid(p, "Converse")
    ps = prepare(model, prompt, full, stream=True, environ={})
    assert ps.url.endswith("/converse-stream")
    assert assert_valid(ps, "ConverseStream") == body
    return body


def refused(field: str, model: str, prompt: Any, **opts: Any) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        prepare(
            model,
            prompt,
            {**opts, "provider_options": {**CREDS, "use_converse": True, **opts.pop("provider_options", {})}},
            environ={},
        )
    assert info.value.field == field, str(info.value)


def test_the_oracle_can_fail() -> None:
    shape = SERVICE.operation_model("Converse").input_shape
    two_members = {"modelId": "m", "messages": [{"role": "user", "content": [{"text": "a", "cachePoint": {}}]}]}
    assert ParamValidator().validate(two_members, shape).has_errors()
    bad_enum = {
        "modelId": "m",
        "messages": [{"role": "robot", "content": [{"image": {"format": "bmp", "source": {"bytes": b""}}}]}],
    }
    assert len(_limits(shape, bad_enum)) == 3


# -- specific bodies -----------------------------------------------------------------------------


def txt(text: str, **kw: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, **kw}


def img(data: bytes = PNG, media_type: str = "image/png") -> dict[str, Any]:
    return {"type": "image", "data": data, "media_type": media_type}


def doc(name: str = "doc", fmt: str = "pdf", data: bytes = PDF) -> dict[str, Any]:
    return {"type": "document", "data": data, "format": fmt, "name": name}


def call(id: str = "tooluse_abc-1", name: str = "add", **args: Any) -> dict[str, Any]:
    return {"type": "tool_call", "id": id, "name": name, "arguments": args}


def res(id: str = "tooluse_abc-1", content: Any = "5", **kw: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_call_id": id, "content": content, **kw}


def turn(role: str, *parts: Any) -> dict[str, Any]:
    return {"role": role, "content": list(parts)}


U = {"role": "user", "content": "hi"}
ADD = {"name": "add", "description": "Add two integers", "parameters": {"type": "object", "properties": {}}}
ROUND_TRIP = [U, turn("assistant", call(a=2, b=3)), turn("tool", res())]
EPHEMERAL = {"type": "ephemeral"}


def _points(blocks: list[dict[str, Any]]) -> list[int]:
    return [i for i, b in enumerate(blocks) if "cachePoint" in b]


def test_plain() -> None:
    assert body_for(CLAUDE, "hi") == {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def test_system_and_inference_config() -> None:
    opts = {"system": "S", "max_tokens": 50, "temperature": 0.0, "top_p": 0.9, "stop": ["END", "STOP"]}
    body = body_for(CLAUDE, [{"role": "system", "content": "A"}, U], **opts)
    assert body["system"] == [{"text": "S"}, {"text": "A"}]
    assert body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.0, "topP": 0.9, "stopSequences": opts["stop"]}
    assert set(body) == {"messages", "system", "inferenceConfig"}


def test_multi_turn_merges_same_role_and_sends_tool_turns_as_user() -> None:
    prompt = [U, turn("user", txt("again")), *ROUND_TRIP[1:], turn("user", txt("thanks")), turn("assistant", txt("k"))]
    body = body_for(CLAUDE, prompt, tools=[ADD])
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "assistant"]
    assert body["messages"][0]["content"] == [{"text": "hi"}, {"text": "again"}]
    assert body["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "tooluse_abc-1", "content": [{"text": "5"}]}},
        {"text": "thanks"},
    ]


IMAGES = [("image/png", "png", PNG), ("image/jpeg", "jpeg", JPEG), ("image/jpg", "jpeg", JPEG),
          ("image/gif", "gif", b"GIF89a"), ("image/webp", "webp", b"RIFF\x00\x00WEBP")]  # fmt: skip


@pytest.mark.parametrize(("media_type", "fmt", "data"), IMAGES)
def test_images(media_type: str, fmt: str, data: bytes) -> None:
    body = body_for(CLAUDE, [turn("user", txt("what is it?"), img(data, media_type))])
    image = body["messages"][0]["content"][1]["image"]
    assert image["format"] == fmt
    assert base64.b64decode(image["source"]["bytes"]) == data


@pytest.mark.parametrize("fmt", ["pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"])
def test_documents(fmt: str) -> None:
    body = body_for(CLAUDE, [turn("user", doc("Q3 report (v2) [final]", fmt), txt("summarize"))])
    d = body["messages"][0]["content"][0]["document"]
    assert (d["format"], d["name"], base64.b64decode(d["source"]["bytes"])) == (fmt, "Q3 report (v2) [final]", PDF)


BAD_MEDIA = [
    (img(media_type="image/bmp"), "prompt.image.media_type"),
    (img(b""), "prompt[0].content[0].data"),
    (doc(fmt="rtf"), "prompt.document.format"),
    (doc("report.pdf"), "prompt.document.name"),
    (doc(""), "prompt.document.name"),
    (doc("two  spaces"), "prompt.document.name"),
    (doc("x" * 201), "prompt.document.name"),
    (doc(data=b""), "prompt[0].content[0].data"),
]


@pytest.mark.parametrize(("part", "field"), BAD_MEDIA)
def test_bad_media_is_refused(part: dict[str, Any], field: str) -> None:
    refused(field, CLAUDE, [turn("user", part)])


def test_tool_definitions() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    body = body_for(CLAUDE, "hi", tools=[{**ADD, "parameters": schema}, {"name": "now"}])
    assert body["toolConfig"] == {"tools": [
        {"toolSpec": {"name": "add", "description": "Add two integers", "inputSchema": {"json": schema}}},
        {"toolSpec": {"name": "now", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
    ]}  # fmt: skip


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", {"auto": {}}), ("any", {"any": {}}), ("add", {"tool": {"name": "add"}}), (None, None)],
)
def test_tool_choice(choice: str | None, expected: dict[str, Any] | None) -> None:
    config = body_for(CLAUDE, "hi", tools=[ADD], tool_choice=choice)["toolConfig"]
    assert config.get("toolChoice") == expected


def test_tool_choice_none_sends_no_tools_unless_the_history_needs_them() -> None:
    assert "toolConfig" not in body_for(CLAUDE, "hi", tools=[ADD], tool_choice="none")
    config = body_for(CLAUDE, ROUND_TRIP, tools=[ADD], tool_choice="none")["toolConfig"]
    assert [t["toolSpec"]["name"] for t in config["tools"]] == ["add"]
    assert "toolChoice" not in config


def test_tool_round_trip_with_errors_and_rich_results() -> None:
    prompt = [
        U,
        turn("assistant", txt("calling"), call(a=2, b=3), call("call:2", "now")),
        turn("tool", res(content="boom", is_error=True), res("call:2", [txt("noon"), img()])),
    ]
    body = body_for(CLAUDE, prompt, tools=[ADD, {"name": "now"}])
    assert body["messages"][1]["content"][1:] == [
        {"toolUse": {"toolUseId": "tooluse_abc-1", "name": "add", "input": {"a": 2, "b": 3}}},
        {"toolUse": {"toolUseId": "call:2", "name": "now", "input": {}}},
    ]
    first, rich = body["messages"][2]["content"]
    assert first == {"toolResult": {"toolUseId": "tooluse_abc-1", "content": [{"text": "boom"}], "status": "error"}}
    assert "status" not in rich["toolResult"]
    assert rich["toolResult"]["content"][1]["image"]["format"] == "png"


def test_tool_history_without_tools_gets_stub_tools() -> None:
    prompt = [U, turn("assistant", call(), call("b", "mul"), call("c")), turn("tool", res(), res("b"), res("c"))]
    tools = body_for(LLAMA, prompt)["toolConfig"]["tools"]
    assert [t["toolSpec"]["name"] for t in tools] == ["add", "mul"]
    assert all(t["toolSpec"]["inputSchema"] == {"json": {"type": "object", "properties": {}}} for t in tools)


@pytest.mark.parametrize("bad_id", ["has space", "x" * 65, "call#1", "ü", ""])
def test_tool_ids_converse_cannot_carry_are_refused(bad_id: str) -> None:
    refused("prompt", CLAUDE, [U, turn("assistant", call(bad_id)), turn("tool", res(bad_id))], tools=[ADD])


def test_thinking_body() -> None:
    body = body_for(CLAUDE_THINK, "think", thinking={"budget_tokens": 2048})
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert body["inferenceConfig"] == {"maxTokens": 2048 + 4096}
    body = body_for(CLAUDE_THINK, "t", reasoning_effort="low", max_tokens=5000, temperature=1)
    assert body["inferenceConfig"] == {"maxTokens": 5000, "temperature": 1.0}
    assert body["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 1024


def test_thinking_replay_with_signature_and_redacted() -> None:
    opaque = base64.b64encode(b"\x00encrypted\xff").decode()
    seen = {"type": "thinking", "text": "let me see", "signature": "EqQBCkYIBxgCKkB"}
    thoughts = [seen, {"type": "redacted_thinking", "data": opaque}, {"type": "thinking", "text": "no signature"}]
    prompt = [U, turn("assistant", *thoughts, call()), turn("tool", res())]
    body = body_for(CLAUDE_THINK, prompt, tools=[ADD], thinking={"budget_tokens": 1024})
    assert body["messages"][1]["content"][:3] == [
        {"reasoningContent": {"reasoningText": {"text": "let me see", "signature": "EqQBCkYIBxgCKkB"}}},
        {"reasoningContent": {"redactedContent": opaque}},
        {"reasoningContent": {"reasoningText": {"text": "no signature"}}},
    ]


THINKING_RULES = [
    ({"thinking": {"budget_tokens": 1000}}, "thinking"),
    ({"thinking": {"budget_tokens": 2048}, "max_tokens": 2048}, "thinking"),
    ({"thinking": {"budget_tokens": 2048}, "temperature": 0.5}, "temperature"),
    ({"thinking": {"budget_tokens": 2048}, "top_k": 5}, "top_k"),
    ({"thinking": {"budget_tokens": 2048}, "tools": [ADD], "tool_choice": "any"}, "tool_choice"),
    ({"thinking": {"budget_tokens": 2048}, "tools": [ADD], "tool_choice": "add"}, "tool_choice"),
    ({"thinking": {"budget_tokens": 2048}, "top_p": 0.9}, "top_p"),
]


@pytest.mark.parametrize(("opts", "field"), THINKING_RULES)
def test_thinking_rules(opts: dict[str, Any], field: str) -> None:
    refused(field, CLAUDE_THINK, "hi", **opts)


def test_thinking_leads_its_turn() -> None:
    """Claude refuses a tool loop whose answered turn does not start with its thinking (AWS answers 400,
    see tests/families/test_family_anthropic_stream.py); Converse sends the reasoning first whatever the order given."""
    thought = {"type": "thinking", "text": "sum", "signature": "sig"}
    prompt = [U, turn("assistant", txt("let me add"), call(), thought), turn("tool", res())]
    body = body_for(CLAUDE_THINK, prompt, top_p=0.95, tools=[ADD], thinking={"budget_tokens": 1024})
    assert [next(iter(b)) for b in body["messages"][1]["content"]] == ["reasoningContent", "text", "toolUse"]


def test_thinking_is_refused_where_unsupported() -> None:
    refused("thinking", CLAUDE, "hi", thinking={"budget_tokens": 2048})
    refused("reasoning_effort", LLAMA, "hi", reasoning_effort="high")


def test_bad_redacted_thinking_is_refused() -> None:
    prompt = [U, turn("assistant", {"type": "redacted_thinking", "data": "not base64!"}), U]
    refused("prompt.redacted_thinking", CLAUDE_THINK, prompt)


@pytest.mark.parametrize("ttl", [None, "5m", "1h"])
def test_prompt_cache_points_after_tools_system_and_last_message(ttl: str | None) -> None:
    po = {"anthropic_prompt_cache": True, **({"anthropic_prompt_cache_ttl": ttl} if ttl else {})}
    prompt = [U, turn("assistant", txt("yo")), turn("user", txt("more"))]
    body = body_for(HAIKU, prompt, system="S", tools=[ADD], provider_options=po)
    point = {"cachePoint": {"type": "default", **({"ttl": ttl} if ttl else {})}}
    assert body["toolConfig"]["tools"][-1] == point
    assert _points(body["toolConfig"]["tools"]) == [1]
    assert body["system"] == [{"text": "S"}, point]
    assert body["messages"][-1]["content"] == [{"text": "more"}, point]
    assert _points(body["messages"][0]["content"]) == []


def test_prompt_cache_on_a_chosen_message_and_explicit_marks() -> None:
    prompt = [
        turn("user", txt("big doc", cache_control=EPHEMERAL)),
        turn("assistant", txt("ok")),
        turn("user", txt("q")),
    ]
    body = body_for(HAIKU, prompt, provider_options={"anthropic_prompt_cache": True, "anthropic_cache_messages": 0})
    # the explicit mark is the message's last block already: not doubled; the last message gets none
    assert body["messages"][0]["content"] == [{"text": "big doc"}, {"cachePoint": {"type": "default"}}]
    assert _points(body["messages"][2]["content"]) == []
    # without the option, an explicit mark (with its ttl) is kept where it stands
    prompt = [turn("user", txt("a", cache_control={**EPHEMERAL, "ttl": "1h"}), txt("b"))]
    assert body_for(HAIKU, prompt)["messages"][0]["content"] == [
        {"text": "a"},
        {"cachePoint": {"type": "default", "ttl": "1h"}},
        {"text": "b"},
    ]


def test_never_more_than_four_cache_points() -> None:
    marked = [txt(f"t{i}", cache_control=EPHEMERAL) for i in range(4)]
    assert len(_points(body_for(HAIKU, [turn("user", *marked)])["messages"][0]["content"])) == 4
    refused("prompt", HAIKU, [turn("user", *marked, txt("x", cache_control=EPHEMERAL))])
    # three explicit marks + system + last message = 5
    po = {"anthropic_prompt_cache": True}
    refused("prompt", HAIKU, [turn("user", *marked[:3], txt("x"))], system="S", provider_options=po)
    refused(
        "provider_options.anthropic_cache_messages",
        HAIKU,
        "hi",
        provider_options={**po, "anthropic_cache_messages": 3},
    )
    refused("prompt.cache_control.ttl", HAIKU, [turn("user", txt("a", cache_control={**EPHEMERAL, "ttl": "2h"}))])


def test_caching_is_refused_for_models_without_it() -> None:
    po = {"anthropic_prompt_cache": True}
    refused("provider_options.anthropic_prompt_cache", LLAMA, "hi", provider_options=po)
    refused("prompt", LLAMA, [turn("user", txt("a", cache_control=EPHEMERAL))])
    assert _points(body_for(NOVA, "hi", provider_options=po)["messages"][0]["content"]) == [1]
    # AWS's prompt-caching page: Claude 3 and Claude 3.5 Sonnet v1 have none
    for model in (
        CLAUDE,
        "bedrock:anthropic.claude-3-haiku-20240307-v1:0",
        "bedrock:anthropic.claude-3-opus-20240229-v1:0",
    ):
        refused("provider_options.anthropic_prompt_cache", model, "hi", provider_options=po)
    for model in (
        "bedrock:us.anthropic.claude-3-5-haiku-20241022-v1:0",
        CLAUDE_THINK,
        "bedrock:us.anthropic.claude-opus-4-1-20250805-v1:0",
    ):
        assert _points(body_for(model, "hi", provider_options=po)["messages"][0]["content"]) == [1]


def test_additional_fields_top_k_and_betas() -> None:
    extra = {"anthropic_beta": ["context-1m-2025-08-07"], "additional_model_request_fields": {"metadata": {"u": 1}}}
    assert body_for(CLAUDE, "hi", top_k=40, provider_options=extra)["additionalModelRequestFields"] == {
        "top_k": 40,
        "anthropic_beta": ["context-1m-2025-08-07"],
        "metadata": {"u": 1},
    }
    assert body_for(NOVA, "hi", top_k=7)["additionalModelRequestFields"] == {"inferenceConfig": {"topK": 7}}
    po = {"additional_model_request_fields": {"top_k": 3}}
    assert body_for(LLAMA, "hi", provider_options=po)["additionalModelRequestFields"] == {"top_k": 3}
    for model in (LLAMA, "bedrock:cohere.command-r-v1:0", "bedrock:mistral.mistral-large-2407-v1:0"):
        refused("top_k", model, "hi", top_k=5)


def test_temperature_above_converse_maximum_is_refused() -> None:
    refused("temperature", CLAUDE, "hi", temperature=1.5)


def test_system_only_prompt_to_anthropic_becomes_the_user_turn() -> None:
    body = body_for(CLAUDE, [{"role": "system", "content": "A"}, {"role": "system", "content": "B"}])
    assert body == {"messages": [{"role": "user", "content": [{"text": "A"}]}], "system": [{"text": "B"}]}


# -- random valid conversations ------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12).filter(str.strip)
NAMES = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_-]{0,15}", fullmatch=True)
BLOB = st.binary(min_size=1, max_size=24)
DOC_NAME = st.from_regex(r"[A-Za-z0-9()\[\]-]{1,10}( [A-Za-z0-9]{1,5})?", fullmatch=True)
# model -> (images, documents, thinking, caching)
MODELS = {
    CLAUDE_THINK: (True, True, True, True),
    CLAUDE: (True, True, False, False),
    HAIKU: (True, True, True, True),
    NOVA: (True, True, False, True),
    LLAMA_VISION: (True, True, False, False),
    LLAMA: (False, True, False, False),
}


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    model = draw(st.sampled_from(sorted(MODELS)))
    images, documents, thinking, caching = MODELS[model]
    tools = draw(st.lists(NAMES, max_size=3, unique=True))
    call_names = tools or draw(st.lists(NAMES, min_size=1, max_size=2, unique=True))
    kinds = [st.builds(txt, TEXT)]
    if images:
        kinds.append(st.builds(img, BLOB, st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp"])))
    if documents:
        kinds.append(st.builds(doc, DOC_NAME, st.sampled_from(["pdf", "txt", "md", "csv"]), BLOB))
    media = st.one_of(*kinds)
    prompt: list[dict[str, Any]] = []
    if draw(st.booleans()):
        prompt.append({"role": "system", "content": draw(TEXT)})
    seq = 0
    for turn in range(draw(st.integers(1, 3))):
        prompt.append(
            {"role": "user", "content": [{"type": "text", "text": draw(TEXT)}, *draw(st.lists(media, max_size=2))]}
        )
        if turn == 2 and draw(st.booleans()):
            break
        parts: list[dict[str, Any]] = []
        if thinking and draw(st.booleans()):
            parts.append({"type": "thinking", "text": draw(TEXT), "signature": draw(NAMES)})
            if draw(st.booleans()):
                parts.append({"type": "redacted_thinking", "data": base64.b64encode(draw(BLOB)).decode()})
        if draw(st.booleans()):
            parts.append({"type": "text", "text": draw(TEXT)})
        ids = []
        for _ in range(draw(st.integers(0, 2))):
            seq += 1
            ids.append(f"tooluse_{seq}")
            args = draw(st.dictionaries(NAMES, st.integers() | TEXT, max_size=2))
            parts.append({**call(ids[-1], draw(st.sampled_from(call_names))), "arguments": args})
        prompt.append({"role": "assistant", "content": parts or "ok"})
        if ids:
            contents = TEXT | st.lists(media, min_size=1, max_size=2)
            results = [res(i, draw(contents), is_error=draw(st.booleans())) for i in ids]
            prompt.append({"role": draw(st.sampled_from(["tool", "user"])), "content": results})
    opts: dict[str, Any] = {
        "tools": [{"name": n, "description": draw(st.sampled_from(["", "does things"]))} for n in tools]
    }
    po: dict[str, Any] = {}
    if caching and draw(st.booleans()):
        po = {"anthropic_prompt_cache": True, "anthropic_prompt_cache_ttl": draw(st.sampled_from(["5m", "1h"]))}
    if thinking and draw(st.booleans()):
        opts["thinking"] = {"budget_tokens": draw(st.integers(1024, 4000))}
        for t in prompt:  # Anthropic: an answered tool-calling turn starts with its thinking
            if t["role"] == "assistant" and isinstance(t["content"], list):
                t["content"].append({"type": "thinking", "text": "hm", "signature": "sig"})  # sent first anyway
        opts["tool_choice"] = draw(st.sampled_from([None, "auto", "none"]) if tools else st.none())
    else:
        opts["temperature"] = draw(st.none() | st.floats(0, 1))
        opts["top_p"] = draw(st.none() | st.floats(0, 1))
        opts["tool_choice"] = draw(st.sampled_from([None, "auto", "any", "none", *tools]) if tools else st.none())
        opts["max_tokens"] = draw(st.none() | st.integers(1, 8192))
        if model in (CLAUDE, NOVA):
            opts["top_k"] = draw(st.none() | st.integers(1, 500))
    opts["stop"] = draw(st.lists(TEXT, max_size=3))
    opts["system"] = draw(st.none() | TEXT)
    return {"model": model, "prompt": prompt, "opts": opts, "provider_options": po}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls())
def test_random_valid_conversations_pass_botocore(call: dict[str, Any]) -> None:
    body = body_for(call["model"], call["prompt"], **call["opts"], provider_options=call["provider_options"])
    roles = [m["role"] for m in body["messages"]]
    assert all(a != b for a, b in itertools.pairwise(roles))  # merged
    assert roles[0] == "user"
    assert sum(1 for m in body["messages"] for b in m["content"] if "cachePoint" in b) <= 4


@st.composite
def loose_calls(draw: st.DrawFn) -> dict[str, Any]:
    """A valid call, then perturbed towards Converse's limits (ids, names, ranges, cache marks)."""
    call = draw(calls())
    prompt, opts = call["prompt"], call["opts"]
    wild = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=70)
    for turn in prompt:
        for part in turn["content"] if isinstance(turn["content"], list) else []:
            if part["type"] == "document" and draw(st.booleans()):
                part["name"] = draw(wild)
            if part["type"] == "tool_call" and draw(st.integers(0, 3)) == 0:
                old, part["id"] = part["id"], draw(wild)
                for later in prompt:
                    for q in later["content"] if isinstance(later["content"], list) else []:
                        if q["type"] == "tool_result" and q["tool_call_id"] == old:
                            q["tool_call_id"] = part["id"]
            if part["type"] == "text" and draw(st.integers(0, 3)) == 0:
                part["cache_control"] = {
                    "type": "ephemeral",
                    **draw(st.sampled_from([{}, {"ttl": "1h"}, {"ttl": "1d"}])),
                }
    if "thinking" not in opts:
        opts["temperature"] = draw(st.none() | st.floats(0, 2))
    return call


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loose_calls())
def test_whatever_reqbed_accepts_botocore_accepts(call: dict[str, Any]) -> None:
    """Refusing is fine (a ValidationError before I/O); sending a body AWS would reject is not."""
    with contextlib.suppress(reqbed.ValidationError):
        body_for(call["model"], call["prompt"], **call["opts"], provider_options=call["provider_options"])
