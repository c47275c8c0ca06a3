"""The Python examples in docs/structured-output.md run as written, in order, against the bundled
emulator (the environment points reqbed's default client at it), and say what the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import reqbed
from reqbed.testing import Emulator

DOC = Path(__file__).resolve().parents[1] / "docs" / "structured-output.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def emulated_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    akid, (secret, token) = next(iter(emulator.credentials.items()))
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.endpoint_url)
    monkeypatch.setenv("AWS_REGION", emulator.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", akid)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    if token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    return emulator


def test_every_example_runs(emulated_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _blocks()
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    for i, block in enumerate(blocks):
        if "except reqbed.ObjectGenerationError" in block and "Emulator()" not in block:
            emulated_env.inject("bad_object", how="mismatch")  # so the example's except branch runs
        exec(compile(block, f"structured-output.md[{i}]", "exec"), namespace)
    out = namespace["out"]
    assert isinstance(out, reqbed.ObjectResponse)
    printed = capsys.readouterr().out
    assert "$.name: is required" in printed  # the errors example caught the mismatch
    assert "I'm sorry, I can only answer in prose today." in printed  # the testing example's faults
    assert "[{'name': 'example', 'age': 2}]" in printed  # the streamed (async) team's last snapshot
    # every schema kind the page shows was sent: the requests carry each kind's schema
    assert len(emulated_env.requests) >= 10
