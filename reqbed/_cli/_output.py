"""What the command line writes: colour only on a terminal and never under ``NO_COLOR``; JSON for scripts."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TextIO

__all__ = ["Out", "fix_for", "to_jsonable"]


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


#: How to fix each error, by reqbed error class name (the first in the error's MRO that is listed).
_FIXES = {
    "CredentialsError": "set AWS_PROFILE or AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, `aws sso login`, or --profile",
    "AuthenticationError": "the credentials were refused: check them or get fresh ones (`aws sso login`)",
    "AccessDeniedError": "enable this model in the Bedrock console (Model access) for this region and account",
    "ResourceNotFoundError": "the model is not served there: see `reqbed models list --region REGION`",
    "ThrottlingError": "Bedrock is throttling this account: wait and retry, or ask for a higher quota",
    "ModelNotReadyError": "the model is starting: retry in a few seconds",
    "ServiceUnavailableError": "Bedrock is unavailable right now: retry shortly",
    "ServerError": "Bedrock failed: retry shortly",
    "APIConnectionError": "check the network, --region and --endpoint-url",
    "RequestTimeoutError": "the call took too long: retry, or ask for fewer tokens",
    "BadRequestError": "Bedrock refused the request as sent: check the model's options (`reqbed models show MODEL`)",
    "ValidationError": "see `reqbed --help` and `reqbed models find TEXT`",
}


def fix_for(error: BaseException) -> str | None:
    for cls in type(error).__mro__:
        fix = _FIXES.get(cls.__name__)
        if fix is not None:
            return fix
    return None
