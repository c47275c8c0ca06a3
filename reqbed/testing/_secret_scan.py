"""Find secret-shaped values in fixture files before they are committed.

The recorder runs this on every fixture it writes (and refuses to write one that fails); the test
suite runs it on every file under ``fixtures/``. It looks at the text, and inside JSON files also
at the decoded bytes of every base64 field (``b64``, ``body_b64``), since stream reads are stored
that way. What counts as a secret:

- AWS access key ids ``(AKIA|ASIA)`` + 16 characters, except AWS's documented example ids;
- 40-character base64-ish strings next to a key-ish name (secret, password, credential ...),
  except AWS's documented example secret;
- session tokens: long base64 blobs in token-ish fields, and AWS's session-token prefixes;
- Bedrock API keys (``ABSK...``, ``bedrock-api-key-...``) and ``Bearer`` values;
- SigV4 material: ``Authorization`` / ``X-Amz-Security-Token`` values other than ``<redacted>``,
  ``AWS4-HMAC-SHA256 Credential=`` strings, signatures in URLs or headers.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from ._fixture_format import REDACTED

__all__ = ["DOCUMENTED_EXAMPLES", "Finding", "scan_file", "scan_text", "scan_tree"]

#: AWS's documented example credentials: safe to appear anywhere.
DOCUMENTED_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    }
)


class Finding(NamedTuple):
    """One secret-shaped value: where (file and JSON path), what kind, and a masked excerpt."""

    where: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.excerpt}"


def _mask(value: str) -> str:
    return value[:4] + "..." if len(value) > 8 else "..."


_B64 = r"A-Za-z0-9/+="
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    (
        "secret access key",
        re.compile(
            r"(?i:secret|password|passwd|credential|private[_-]?key|signing[_-]?key|access[_-]?key|api[_-]?key)"
            r"[^\n]{0,40}?(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
    ),
    (
        "session token",
        re.compile(rf"(?i:token|session)[\w-]*\"?\s*[:=]\s*\"?([{_B64}]{{100,}})"),
    ),
    ("session token", re.compile(r"(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9/+=]{20,}")),
    ("Bedrock API key", re.compile(r"ABSK[A-Za-z0-9+/]{16,}={0,2}")),
    ("Bedrock API key", re.compile(r"bedrock-api-key-[A-Za-z0-9+/=._-]{8,}")),
    ("bearer token", re.compile(rf"(?i)\bBearer\s+(?!{re.escape(REDACTED)})[A-Za-z0-9._~+/=-]{{8,}}")),
    ("SigV4 authorization", re.compile(r"AWS4-HMAC-SHA256\s+Credential=")),
    ("SigV4 signature", re.compile(r"(?i)(?:X-Amz-)?Signature=[0-9a-f]{64}")),
    ("SigV4 credential", re.compile(r"(?i)X-Amz-Credential=")),
]


def _is_base64ish_secret(value: str) -> bool:
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() or c in "/+" for c in value)
    )


def scan_text(text: str, where: str = "<text>") -> list[Finding]:
    """Secret-shaped values in a piece of text."""
    found: list[Finding] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            value = m.group(m.lastindex or 0)
            if value in DOCUMENTED_EXAMPLES:
                continue
            if kind == "secret access key" and not _is_base64ish_secret(value):
                continue
            found.append(Finding(where, kind, _mask(value)))
    return found


_MUST_BE_REDACTED = ("authorization", "x-amz-security-token", "proxy-authorization")


def _walk(value: Any, where: str, found: list[Finding]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{where}.{k}"
            if isinstance(k, str) and k.lower() in _MUST_BE_REDACTED and v not in (REDACTED, None, ""):
                found.append(Finding(here, f"{k} value (must be {REDACTED!r})", _mask(str(v))))
            if k in ("b64", "body_b64") and isinstance(v, str):
                try:
                    raw = base64.b64decode(v, validate=True)
                except (binascii.Error, ValueError):
                    found.append(Finding(here, "unreadable base64", _mask(v)))
                    continue
                found.extend(scan_text(raw.decode("utf-8", "replace"), here + " (decoded)"))
            else:
                _walk(v, here, found)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, f"{where}[{i}]", found)


def scan_file(path: str | Path) -> list[Finding]:
    """Secret-shaped values in one file (JSON files: also inside their base64 fields)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    found = scan_text(text, str(path))
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            return found
        _walk(data, str(path) + ":$", found)
    return found


def scan_tree(root: str | Path) -> list[Finding]:
    """Secret-shaped values in every file under ``root``."""
    found: list[Finding] = []
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            found.extend(scan_file(path))
    return found
