"""Cold start: reqbed loads httpcore without trio (``reqbed._lazy_trio``); trio still works."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reqbed.testing import Emulator

pytest.importorskip("trio")

SCRIPT = """
import sys
import anyio
import reqbed
po = {po!r}
model = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
with reqbed.Client() as c:
    assert c.generate_text(model, "Hi", provider_options=po).text
print("trio after a sync call:", "trio" in sys.modules)

async def main():
    async with reqbed.Client() as c:
        r = await c.agenerate_text(model, "Hi", provider_options=po)
        async with await c.astream_text(model, "Hi", provider_options=po) as s:
            text = "".join([t async for t in s.text_stream()])
    assert r.text and text
    import httpcore._synchronization as hs
    print("httpcore has real trio:", hs.trio is sys.modules["trio"])

anyio.run(main, backend="trio")
"""


def test_a_sync_call_does_not_load_trio_and_trio_still_works() -> None:
    with Emulator() as emu:
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT.format(po=dict(emu.provider_options()))],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 0, out.stderr
    assert "trio after a sync call: False" in out.stdout
    assert "httpcore has real trio: True" in out.stdout
