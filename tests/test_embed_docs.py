"""Every Python example in docs/embeddings.md and docs/count-tokens.md runs, as written, against the emulator.

The examples name real regions and no endpoint: the environment points reqbed at the emulator
(``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``) with its example credentials. ``await`` examples run inside
an event loop (asyncio and trio). What a block prints is checked where the page states it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = ("embeddings.md", "count-tokens.md")


def _blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


@pytest.fixture
def aimed(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EXAMPLE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_REGION", emulator.region)
    return emulator


def run_block(source: str, where: str, backend: str = "asyncio") -> None:
    code = compile(source, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    scope: dict[str, Any] = {}
    result = eval(code, scope)  # the docs' own examples
    if result is not None:  # a coroutine: the block awaits
        anyio.run(lambda: result, backend=backend)


#: (page, block, backend): sync blocks once, blocks that await under asyncio and trio.
CASES = [
    (page, i, backend)
    for page in PAGES
    for i, block in enumerate(_blocks(page))
    for backend in (("asyncio", "trio") if "await " in block else ("sync",))
]


@pytest.mark.parametrize(("page", "index", "backend"), CASES, ids=[f"{p}[{i}]-{b}" for p, i, b in CASES])
def test_doc_example_runs(
    aimed: Emulator, page: str, index: int, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _blocks(page)[index]
    run_block(source, f"{page}[{index}]", backend)
    assert capsys.readouterr().out.strip()
    assert aimed.requests or "estimate=True" in source or "except" in source


def test_embeddings_doc_figures(aimed: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    run_block(_blocks("embeddings.md")[0], "embeddings.md[0]")
    out = capsys.readouterr().out.split("\n")
    assert out[0] == "2 512"
    assert out[2] == "amazon.titan-embed-text-v2:0"
    assert out[3] == "2"
    assert out[5] == "200 3"
    run_block(_blocks("embeddings.md")[2], "embeddings.md[2]")
    assert capsys.readouterr().out.split("\n")[:3] == ["1", "1", "3"]


def test_count_tokens_doc_figures(aimed: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    run_block(_blocks("count-tokens.md")[1], "count-tokens.md[1]")
    n, usage = capsys.readouterr().out.split()
    assert n == usage
    run_block(_blocks("count-tokens.md")[2], "count-tokens.md[2]")
    assert capsys.readouterr().out.split("\n")[:2] == ["model", "11 True"]
