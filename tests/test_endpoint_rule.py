"""The endpoint rule (docs/endpoints.md) as a table: which endpoint each call goes to.

``converse`` means /converse or /converse-stream, ``invoke`` means /invoke or
/invoke-with-response-stream (the URL is checked too), ``error`` a ValidationError before any I/O.
"""

from __future__ import annotations

from typing import Any

import pytest

import reqbed
from reqbed._families import FAMILIES
from reqbed._pipeline import prepare
from reqbed._types import DocumentPart, ImagePart, ToolCall

CREDS = {
    "region": "us-east-1",
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
}
MODELS = {
    "anthropic": "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0",
    "cohere": "bedrock:cohere.command-r-plus-v1:0",
    "openai": "bedrock:openai.gpt-oss-20b-1:0",
    "meta": "bedrock:meta.llama3-3-70b-instruct-v1:0",
    "amazon": "bedrock:amazon.nova-pro-v1:0",
    "mistral": "bedrock:mistral.mistral-large-2407-v1:0",
}
TOOL = {"name": "lookup", "description": "Look something up", "parameters": {"type": "object", "properties": {}}}
HISTORY = [
    {"role": "user", "content": "look it up"},
    {"role": "assistant", "content": [ToolCall(id="t1", name="lookup", arguments={})]},
    {"role": "tool", "content": [{"type": "tool_result", "tool_call_id": "t1", "content": "found"}]},
]

# tools: none / given (tools=[...]) / history (tool calls and results in the prompt, no tools given).
# Tools present -> Converse for every family (issue 11); use_converse=False forces the native body.
#
# family     tools    stream  use_converse: unset    True      False
TABLE = """
anthropic    none     no      invoke     converse  invoke
anthropic    none     yes     invoke     converse  invoke
anthropic    given    no      converse   converse  invoke
anthropic    given    yes     converse   converse  invoke
anthropic    history  no      converse   converse  invoke
anthropic    history  yes     converse   converse  invoke
cohere       none     no      invoke     converse  invoke
cohere       none     yes     invoke     converse  invoke
cohere       given    no      converse   converse  invoke
cohere       given    yes     converse   converse  invoke
cohere       history  no      converse   converse  invoke
cohere       history  yes     converse   converse  invoke
openai       none     no      invoke     converse  invoke
openai       none     yes     invoke     converse  invoke
openai       given    no      converse   converse  invoke
openai       given    yes     converse   converse  invoke
openai       history  no      converse   converse  invoke
openai       history  yes     converse   converse  invoke
meta         none     no      invoke     converse  invoke
meta         none     yes     invoke     converse  invoke
meta         given    no      converse   converse  error
meta         given    yes     converse   converse  error
meta         history  no      converse   converse  error
meta         history  yes     converse   converse  error
amazon       none     no      converse   converse  error
amazon       none     yes     converse   converse  error
amazon       given    no      converse   converse  error
amazon       given    yes     converse   converse  error
amazon       history  no      converse   converse  error
amazon       history  yes     converse   converse  error
mistral      none     no      converse   converse  error
mistral      none     yes     converse   converse  error
mistral      given    no      converse   converse  error
mistral      given    yes     converse   converse  error
mistral      history  no      converse   converse  error
mistral      history  yes     converse   converse  error
"""

ANTHROPIC_PENDING = pytest.mark.xfail(
    FAMILIES["anthropic"].native is None,
    reason="Anthropic's native formatter is not registered in FAMILIES yet",
    strict=False,
)


def _rows() -> list[Any]:
    rows = []
    for line in TABLE.strip().splitlines():
        family, tools, stream, *expected = line.split()
        for use_converse, want in zip((None, True, False), expected, strict=True):
            marks = [ANTHROPIC_PENDING] if family == "anthropic" and want == "invoke" else []
            rows.append(
                pytest.param(
                    family,
                    tools,
                    stream == "yes",
                    use_converse,
                    want,
                    marks=marks,
                    id=f"{family}-{tools}-{'stream' if stream == 'yes' else 'call'}-use_converse={use_converse}",
                )
            )
    return rows


def call(model: str, prompt: Any, *, stream: bool = False, use_converse: bool | None = None, **opts: Any) -> Any:
    po = {**CREDS, **opts.pop("provider_options", {})}
    if use_converse is not None:
        po["use_converse"] = use_converse
    return prepare(model, prompt, {**opts, "provider_options": po}, stream=stream, environ={})


def endpoint_of(p: Any, stream: bool) -> str:
    suffix = p.url.rsplit("/", 1)[1]
    expected_suffix = {
        ("converse", False): "converse",
        ("converse", True): "converse-stream",
        ("invoke", False): "invoke",
        ("invoke", True): "invoke-with-response-stream",
    }[p.formatter.endpoint, stream]
    assert suffix == expected_suffix
    return str(p.formatter.endpoint)


@pytest.mark.parametrize(("family", "tools", "stream", "use_converse", "want"), _rows())
def test_the_endpoint_rule(family: str, tools: str, stream: bool, use_converse: bool | None, want: str) -> None:
    model = MODELS[family]
    prompt: Any = HISTORY if tools == "history" else "look it up"
    opts = {"tools": [TOOL]} if tools == "given" else {}
    if want == "error":
        with pytest.raises(reqbed.ValidationError) as info:
            call(model, prompt, stream=stream, use_converse=use_converse, **opts)
        if FAMILIES.get(family) is None or FAMILIES[family].native is None:
            assert info.value.field == "provider_options.use_converse"
        return
    p = call(model, prompt, stream=stream, use_converse=use_converse, **opts)
    assert endpoint_of(p, stream) == want
    if want == "invoke":
        assert p.formatter.name == family


# -- what a family's native format cannot carry: Converse by capability (native_accepts) --------

PNG = ImagePart(data=b"\x89PNG\r\n\x1a\n", media_type="image/png")
PDF = DocumentPart(data=b"%PDF-1.4", format="pdf", name="report")
DOCS = {"cohere_documents": [{"title": "Tall penguins", "snippet": "Emperor penguins are the tallest."}]}
PROFILE = "bedrock:arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"


def with_part(part: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "text", "text": "Describe this."}, part]}]


# model                                                  prompt            options                 endpoint
ACCEPTS: list[tuple[str, Any, dict[str, Any], str]] = [
    ("bedrock:us.meta.llama3-2-90b-instruct-v1:0", with_part(PNG), {}, "converse"),  # vision: images via Converse
    ("bedrock:us.meta.llama3-2-90b-instruct-v1:0", "hi", {}, "invoke"),
    ("bedrock:meta.llama3-3-70b-instruct-v1:0", with_part(PNG), {}, "error"),  # not a vision model at all
    ("bedrock:meta.llama3-3-70b-instruct-v1:0", with_part(PDF), {}, "converse"),
    ("bedrock:meta.llama3-3-70b-instruct-v1:0", "hi", {"stop": ["\n"]}, "converse"),
    ("bedrock:meta.llama2-13b-chat-v1", "hi", {}, "converse"),  # Llama 2's template differs
    ("bedrock:us.meta.llama4-maverick-17b-instruct-v1:0", "hi", {}, "converse"),  # so does Llama 4's
    ("bedrock:cohere.command-r-v1:0", with_part(PDF), {}, "converse"),
    ("bedrock:cohere.command-r-v1:0", "hi", {"provider_options": DOCS}, "invoke"),  # RAG needs the native body
    ("bedrock:cohere.command-r-v1:0", "hi", {"provider_options": {**DOCS, "use_converse": True}}, "error"),
    ("bedrock:cohere.command-text-v14", "hi", {}, "converse"),  # the older Command models
    ("bedrock:openai.gpt-oss-120b-1:0", with_part(PNG), {}, "error"),  # text only
    (PROFILE, "hi", {}, "converse"),  # no family known
    (PROFILE, "hi", {"provider_options": {"base_model": "meta.llama3-3-70b-instruct-v1:0"}}, "invoke"),
]


@pytest.mark.parametrize(("model", "prompt", "opts", "want"), ACCEPTS)
@pytest.mark.parametrize("stream", [False, True])
def test_what_native_bodies_cannot_carry(
    model: str, prompt: Any, opts: dict[str, Any], want: str, stream: bool
) -> None:
    if want == "error":
        with pytest.raises(reqbed.ValidationError):
            call(model, prompt, stream=stream, **opts)
        return
    assert endpoint_of(call(model, prompt, stream=stream, **opts), stream) == want


@ANTHROPIC_PENDING
def test_anthropic_native_carries_images() -> None:
    p = call(MODELS["anthropic"], with_part(PNG))
    assert (p.formatter.endpoint, p.formatter.name) == ("invoke", "anthropic")
