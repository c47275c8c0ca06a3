"""The fixture file format: one JSON file per named scenario, written and read by reqbed.

A fixture holds what reqbed sent and what came back, exchange by exchange, in a form a person can
read and review in a diff::

    {
      "format": 1,
      "name": "anthropic-converse/basic",
      "provider": "amazon_bedrock",
      "model": "bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0",
      "captured_at": "2025-11-20T10:00:00Z",
      "source": "recorded", "region": "us-east-1",       # or "aws-docs" + "source_url", or "emulator"
      "calls": [{"function": "generate_text", "model": ..., "prompt": ..., "options": {...},
                 "expect": {"text": ..., "finish_reason": ..., "usage": {...}}}],      # optional
      "exchanges": [{
        "request": {"method": "POST", "url": ".../model/<id>/converse",
                    "headers": {"authorization": "<redacted>", "x-amz-date": ...}, "body": {...}},
        "response": {"status": 200, "headers": {...}, "body": {...}}      # JSON answers
        # streams: "chunks": [{"b64": ...}, ...], the base64 of each raw network read, in order
      }]
    }

``body`` holds a JSON body as JSON (``body_style`` says how to re-encode it byte for byte:
``compact`` separators, the default, or ``spaced`` ones); bodies that are not JSON, or would not
re-encode to the same bytes, are kept as ``body_b64``.

Redaction happens here too, when a fixture is written: headers and JSON keys that name a secret
(``is_secret_name``) get the value ``"<redacted>"``. Dates, request ids and body hashes are kept.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

__all__ = [
    "FORMAT_VERSION",
    "REDACTED",
    "Exchange",
    "Fixture",
    "RawChunk",
    "RecordedRequest",
    "RecordedResponse",
    "StoredCall",
    "canonical_json",
    "decode_body",
    "dump_fixture",
    "encode_body",
    "is_secret_name",
    "load_fixture",
    "pretty_json",
    "redact_headers",
    "redact_json",
]

FORMAT_VERSION = 1
REDACTED = "<redacted>"

Source = Literal["recorded", "aws-docs", "emulator"]


class RawChunk(msgspec.Struct, kw_only=True):
    """One raw network read of a streamed body, base64-encoded."""

    b64: str


class RecordedRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What was sent: headers after signing, with secrets redacted; the body as JSON if it was JSON."""

    method: str
    url: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: Any = None
    body_b64: str | None = None


class RecordedResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What came back. Streams keep every raw read in ``chunks``; ``complete`` is False when the
    caller stopped reading before the end of the body."""

    status: int
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: Any = None
    body_style: Literal["compact", "spaced"] | None = None
    body_b64: str | None = None
    chunks: list[RawChunk] | None = None
    complete: bool = True


class Exchange(msgspec.Struct, kw_only=True):
    request: RecordedRequest
    response: RecordedResponse


class StoredCall(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A reqbed call that produced exchanges, so a test can re-issue it and check the answer.

    ``function`` is ``generate_text`` or ``stream_text``; ``options`` are the keyword options
    without credentials or endpoint; ``expect`` is the expected ``Response`` summary or error.
    """

    function: Literal["generate_text", "stream_text"]
    model: str
    prompt: Any
    options: dict[str, Any] = msgspec.field(default_factory=dict)
    expect: dict[str, Any] = msgspec.field(default_factory=dict)


class Fixture(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One fixture file (see the module docstring)."""

    format: int
    name: str
    provider: str
    model: str
    captured_at: str
    source: Source
    region: str | None = None
    source_url: str | None = None
    notes: str | None = None
    calls: list[StoredCall] = msgspec.field(default_factory=list)
    exchanges: list[Exchange] = msgspec.field(default_factory=list)


# -- JSON helpers -----------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """The form request bodies are matched in: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pretty_json(value: Any) -> str:
    """Canonical JSON laid out one member per line (what mismatch diffs show)."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


_STYLES: dict[str, tuple[str, str]] = {"compact": (",", ":"), "spaced": (", ", ": ")}


def _reencode(value: Any, style: str) -> bytes:
    return json.dumps(value, separators=_STYLES[style], ensure_ascii=False).encode()


def encode_body(raw: bytes, *, redact: bool = True) -> dict[str, Any]:
    """The fixture fields for a body: ``body`` (+ ``body_style``) when JSON, else ``body_b64``."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {"body_b64": base64.b64encode(raw).decode("ascii")}
    redacted = redact_json(value) if redact else value
    for style in ("compact", "spaced"):
        if _reencode(value, style) == raw:
            return {"body": redacted, **({"body_style": style} if style != "compact" else {})}
    if redacted != value:  # a secret was removed: the exact bytes cannot be kept anyway
        return {"body": redacted}
    return {"body_b64": base64.b64encode(raw).decode("ascii")}


def decode_body(body: Any, body_b64: str | None, style: str | None = None) -> bytes:
    """The bytes ``encode_body`` read (exactly, unless a secret was redacted)."""
    if body_b64 is not None:
        return base64.b64decode(body_b64)
    if body is None:
        return b""
    return _reencode(body, style or "compact")


# -- redaction --------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_|-)|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SECRET_WORDS = frozenset(
    {"authorization", "secret", "secrets", "password", "passwd", "credential", "credentials", "cookie", "apikey"}
)
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("bearer", "token")})


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    """Does a header or JSON key name a secret?

    ``Authorization``, ``X-Amz-Security-Token``, ``api_key``, ``apiKey``, ``secret_access_key``,
    ``password``, ``sessionToken``, ``set-cookie`` ... do; ``inputTokens``, ``maxTokens``,
    ``x-amzn-bedrock-input-token-count`` and ``signature`` (Claude's thinking signature) do not.
    """
    words = _words(name)
    if not words:
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    if words[-1] == "token":  # x-amz-security-token, session_token, accessToken; not *_tokens / token_count
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def redact_headers(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
    """Lower-cased header names; secret-naming ones get ``"<redacted>"``; repeats joined by ``, ``."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        value = REDACTED if is_secret_name(key) else value
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def redact_json(value: Any) -> Any:
    """A copy of ``value`` with every member whose key names a secret replaced by ``"<redacted>"``."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_name(k) and value[k] not in (None, "") else redact_json(value[k])) for k in value
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


# -- files ------------------------------------------------------------------------------------

_decoder = msgspec.json.Decoder(Fixture)


def load_fixture(path: str | Path) -> Fixture:
    """Read and validate one fixture file (``msgspec.ValidationError`` names the bad field)."""
    data = Path(path).read_bytes()
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError as e:
        raise msgspec.DecodeError(f"{path}: {e}") from None


def dump_fixture(fixture: Fixture, path: str | Path) -> Path:
    """Write ``fixture`` as indented JSON (parents created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(msgspec.to_builtins(fixture), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
