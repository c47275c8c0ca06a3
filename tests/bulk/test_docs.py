"""The Python examples in docs/bulk.md run (against the bundled emulator) and print what they say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "bulk.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[index], f"bulk.md[{index}]", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_doc_figures_are_what_the_code_prints(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(BLOCKS[0], "bulk.md[0]", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["You said: Classify ticket 0", "200 []"]
    exec(compile(BLOCKS[2], "bulk.md[2]", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out == ["100 0", "0 100", "['cost', 'finish_reason', 'id', 'ok', 'served_by', 'text', 'usage']"]
