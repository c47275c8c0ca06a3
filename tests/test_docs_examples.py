"""The Python examples of the feature pages run as written, against the emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ["guardrails.md", "citations.md", "caching.md", "endpoints.md"]


def examples() -> list[object]:
    out = []
    for page in PAGES:
        blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)
        out += [pytest.param(code, id=f"{page}[{i}]") for i, code in enumerate(blocks) if "Emulator()" in code]
    return out


@pytest.mark.parametrize("code", examples())
def test_the_example_runs(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, "<docs example>", "exec"), {"__name__": "__docs__"})
