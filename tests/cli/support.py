"""Running the real ``reqbed`` console script in a subprocess, against the suite's emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator

ROOT = Path(__file__).resolve().parents[2]


def script() -> str:
    """The installed console script (``pip install -e .`` puts it beside the interpreter)."""
    found = shutil.which("reqbed", path=str(Path(sys.executable).parent))
    assert found, "the reqbed console script is not installed: pip install -e ."
    return found


def cli_env(emu: Emulator | None = None, **extra: str) -> dict[str, str]:
    """The test's (clean) environment, pointed at ``emu`` with its example credentials."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["PYTHONPATH"] = str(ROOT)
    if emu is not None:
        env.update(
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=emu.endpoint_url,
            AWS_ACCESS_KEY_ID=EXAMPLE_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=EXAMPLE_SECRET_ACCESS_KEY,
            AWS_REGION=emu.region,
        )
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script(), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
