"""Unknown models are permissive (issue 11, defect 5): a model id the capability rules do not know
(a new Claude, Qwen3-VL, a new family, an application inference profile) may send images,
documents and tools, and Bedrock answers; only what is known to be impossible is refused."""

from __future__ import annotations

from typing import Any

import pytest

import reqbed
from tests.support.native import prepared

PNG = {"type": "image", "data": b"\x89PNG\r\n\x1a\n", "media_type": "image/png"}
PDF = {"type": "document", "data": b"%PDF-1.4", "format": "pdf", "name": "report"}
TOOL = {"name": "lookup", "parameters": {"type": "object", "properties": {}}}
PROFILE = "bedrock:arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"


def with_part(part: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [part, {"type": "text", "text": "Describe it."}]}]


UNKNOWN = [
    "bedrock:anthropic.claude-opus-5-20270101-v1:0",  # a Claude the rules have never seen
    "bedrock:qwen.qwen3-vl-235b-a22b",  # a family reqbed has no rules for
    "bedrock:us.meta.llama5-scout-instruct-v1:0",  # a newer Llama
    "bedrock:mistral.magistral-medium-v1:0",  # a newer Mistral
    "bedrock:amazon.nova-2-pro-v1:0",
    PROFILE,  # an application inference profile without base_model
]


@pytest.mark.parametrize("model", UNKNOWN)
@pytest.mark.parametrize("part", [PNG, PDF], ids=["image", "document"])
def test_unknown_models_may_send_images_and_documents(model: str, part: dict[str, Any]) -> None:
    p = prepared(model, with_part(part), provider_options={"use_converse": True})
    assert p.url.endswith("/converse")


@pytest.mark.parametrize("model", UNKNOWN)
def test_unknown_models_may_use_tools_thinking_and_caching(model: str) -> None:
    opts: dict[str, Any] = {"tools": [TOOL]}
    if "meta." not in model and "mistral." not in model:  # prompt caching is Claude's and Nova's (and unknowns')
        opts["provider_options"] = {"anthropic_prompt_cache": True}
    if "claude" in model:
        opts["thinking"] = {"budget_tokens": 1024}
    assert prepared(model, "hi", stream=True, **opts).url.endswith("/converse-stream")


KNOWN_IMPOSSIBLE: list[tuple[str, Any, dict[str, Any], str]] = [
    ("bedrock:meta.llama3-3-70b-instruct-v1:0", with_part(PNG), {}, "prompt"),  # text only
    ("bedrock:amazon.nova-micro-v1:0", with_part(PNG), {}, "prompt"),  # text only
    ("bedrock:openai.gpt-oss-20b-1:0", with_part(PNG), {}, "prompt"),  # text only
    ("bedrock:cohere.command-text-v14", "hi", {"tools": [TOOL]}, "tools"),  # no tool use
    ("bedrock:meta.llama3-8b-instruct-v1:0", "hi", {"tools": [TOOL]}, "tools"),  # no tool use
    ("bedrock:anthropic.claude-3-haiku-20240307-v1:0", "hi", {"thinking": {"budget_tokens": 1024}}, "thinking"),
    ("bedrock:amazon.titan-text-express-v1", "hi", {"system": "be brief"}, "system"),
]


@pytest.mark.parametrize(("model", "prompt", "opts", "field"), KNOWN_IMPOSSIBLE)
def test_what_is_known_impossible_is_still_refused(model: str, prompt: Any, opts: dict[str, Any], field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        prepared(model, prompt, **opts)
    assert info.value.field == field
