"""The example in docs/observability.md runs and prints a span (console exporter, bundled emulator)."""

from __future__ import annotations

import json
import re

import pytest

import reqbed.telemetry
from tests.support import REPO


def test_observability_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = (REPO / "docs" / "observability.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    try:
        exec(compile(code, "observability.md", "exec"), {})
    finally:
        reqbed.telemetry.disable()
    out = capsys.readouterr().out
    assert "You said: Hello" in out
    start = out.index("{")
    span, _ = json.JSONDecoder().raw_decode(out[start:])
    assert span["name"] == "chat amazon.nova-pro-v1:0"
    assert span["attributes"]["gen_ai.provider.name"] == "aws.bedrock"
    assert [e["name"] for e in span["events"]] == ["reqbed.attempt.failed", "reqbed.retry", "reqbed.attempt"]
    assert "gen_ai.client.token.usage" in out
    assert "gen_ai.client.operation.duration" in out
