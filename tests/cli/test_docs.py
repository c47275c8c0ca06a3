"""Every ``reqbed ...`` command line in docs/cli.md is one the parser takes."""

from __future__ import annotations

import re
import shlex

import pytest

from reqbed._cli._main import build_parser
from tests.support import REPO

DOC = (REPO / "docs" / "cli.md").read_text()
LINES = [
    line.split(" #", 1)[0].rstrip(" &")
    for block in re.findall(r"```sh\n(.*?)```", DOC, flags=re.S)
    for line in block.splitlines()
    if line.startswith("reqbed ")
]


def test_the_doc_has_every_subcommand() -> None:
    commands = {shlex.split(line)[1] for line in LINES}
    assert commands == {"models", "chat", "object", "embed", "count-tokens", "key", "emulator"}


@pytest.mark.parametrize("line", LINES)
def test_doc_command_parses(line: str) -> None:
    argv = shlex.split(line)[1:]
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]
    assert build_parser(argv).parse_args(argv) == args  # the start-up parser: only that subcommand built
