"""``reasoning_effort``: a thinking budget for Claude, gpt-oss's own field for gpt-oss, refused elsewhere."""

from __future__ import annotations

import json

import pytest

import reqbed
from reqbed._pipeline import prepare
from reqbed.testing import Emulator

KEYS = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
GPT_OSS = "bedrock:openai.gpt-oss-20b-1:0"


def _body(model: str, **opts: object) -> dict[str, object]:
    p = prepare(model, "Hi", {"provider_options": dict(KEYS, **opts.pop("po", {})), **opts}, environ={})  # type: ignore[arg-type]
    body: dict[str, object] = json.loads(p.body)
    return body


def test_gpt_oss_native_body_carries_reasoning_effort() -> None:
    body = _body(GPT_OSS, reasoning_effort="high")
    assert body["reasoning_effort"] == "high"
    assert "thinking" not in body


def test_gpt_oss_converse_body_carries_reasoning_effort() -> None:
    body = _body(GPT_OSS, reasoning_effort="low", po={"use_converse": True})
    assert body["additionalModelRequestFields"] == {"reasoning_effort": "low"}
    assert "maxTokens" not in body.get("inferenceConfig", {})  # type: ignore[operator]


def test_claude_gets_a_thinking_budget() -> None:
    body = _body("bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0", reasoning_effort="medium",
                 po={"use_converse": True})
    assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 4096}}


@pytest.mark.parametrize("model", ["bedrock:meta.llama3-3-70b-instruct-v1:0", "bedrock:us.amazon.nova-lite-v1:0"])
def test_refused_where_the_model_has_no_reasoning(model: str) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        _body(model, reasoning_effort="low")
    assert e.value.field == "reasoning_effort"


def test_gpt_oss_reasoning_effort_end_to_end(emulator: Emulator) -> None:
    for use_converse in (False, True):
        resp = reqbed.generate_text(GPT_OSS, "Hi there", reasoning_effort="low",
                                    provider_options={**emulator.provider_options(), "use_converse": use_converse})
        assert "Hi there" in resp.text
    sent = [json.loads(r["body"]) for r in emulator.requests[-2:]]
    assert sent[0]["reasoning_effort"] == "low"
    assert sent[1]["additionalModelRequestFields"] == {"reasoning_effort": "low"}
