"""What the command line writes: colour only on a terminal and never under ``NO_COLOR``; JSON for scripts."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TextIO

__all__ = ["Out", "to_jsonable"]


class Out:
    """Where and how to write: ``out`` (results) and ``err`` (usage, cost, errors)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def color(self, stream: TextIO) -> bool:
        # https://no-color.org: any non-empty NO_COLOR turns colour off
        if os.environ.get("NO_COLOR"):
            return False
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())

    def paint(self, text: str, code: str, stream: TextIO | None = None) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color(stream or self.out) else text

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """A side note (usage, cost) on stderr, dimmed on a terminal."""
        print(self.paint(text, "2", self.err), file=self.err, flush=True)

    def error(self, message: str, fix: str | None = None) -> None:
        """One line: what went wrong, then how to fix it."""
        text = f"reqbed: error: {message}" + (f" ({fix})" if fix else "")
        print(self.paint(text, "31", self.err), file=self.err, flush=True)

    def json(self, value: Any) -> None:
        import json

        print(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False), file=self.out, flush=True)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        self.line(self.paint(fmt.format(*header).rstrip(), "1"))
        for r in rows:
            self.line(fmt.format(*r).rstrip())


def to_jsonable(value: Any) -> Any:
    """msgspec Structs, Decimals (as strings: exact), bytes and tuples as plain JSON values."""
    import msgspec

    def enc(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return str(obj)
        if isinstance(obj, bytes):
            return f"<{len(obj)} bytes>"
        raise NotImplementedError(type(obj).__name__)

    return msgspec.json.decode(msgspec.json.encode(value, enc_hook=enc))
