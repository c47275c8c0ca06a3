"""The example in docs/observability.md runs and prints a span (console exporter, bundled emulator).

It runs in a fresh interpreter: the SDK's console exporters bind ``sys.stdout`` when their module is
first imported, which in a long test session is not the stream a capture fixture sees."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.support import REPO


def test_observability_example_runs() -> None:
    text = (REPO / "docs" / "observability.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    env = {k: v for k, v in os.environ.items() if k != "REQBED_OTEL"}
    env["PYTHONPATH"] = str(REPO)
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "You said: Hello" in out
    span, _ = json.JSONDecoder().raw_decode(out[out.index("{") :])
    assert span["name"] == "chat amazon.nova-pro-v1:0"
    assert span["attributes"]["gen_ai.provider.name"] == "aws.bedrock"
    assert [e["name"] for e in span["events"]] == ["reqbed.attempt.failed", "reqbed.retry", "reqbed.attempt"]
    assert "gen_ai.client.token.usage" in out
    assert "gen_ai.client.operation.duration" in out
