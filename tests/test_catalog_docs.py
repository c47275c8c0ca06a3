"""The Python examples in docs/models.md and docs/cost.md run (against the bundled emulator)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reqbed._catalog._store import catalog

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(autouse=True)
def restore_user_aliases() -> Iterator[None]:
    saved = catalog().user_aliases()
    yield
    catalog().reset_user_aliases(saved)


def _blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


@pytest.mark.parametrize(("doc", "index"), [(d, i) for d in ("models.md", "cost.md") for i in range(len(_blocks(d)))])
def test_doc_example_runs(doc: str, index: int, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(_blocks(doc)[index], f"{doc}[{index}]", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_cost_doc_figures_are_what_the_code_prints(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(_blocks("cost.md")[1], "cost.md[1]", "exec"), {})
    out = capsys.readouterr().out.split("\n")
    assert out[:3] == ["0.0375", "0.000585", "0.00002468"]
    assert out[3].startswith("no cache_read price for meta.llama3-3-70b-instruct-v1:0")


def test_models_doc_figures_are_what_the_code_prints(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(_blocks("models.md")[0], "models.md[0]", "exec"), {})
    out = capsys.readouterr().out.split("\n")
    assert out[0] == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert out[1] == "Claude Sonnet 4.5 anthropic"
    assert out[2] == "200000 64000"
    assert out[3] == "True ('5m', '1h')"
    exec(compile(_blocks("models.md")[2], "models.md[2]", "exec"), {})
    assert capsys.readouterr().out.split("\n")[:3] == [
        "bedrock:jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "bedrock:global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "None",
    ]
