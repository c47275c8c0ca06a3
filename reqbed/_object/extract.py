"""JSON out of a model's free text (``mode="json"``, and native answers that add a fence).

``json_text`` returns the JSON document inside ``text``: a fenced block (```` ```json ... ``` ````
or a bare ```` ``` ```` fence) wins; otherwise the first ``{`` or ``[`` that starts a document
msgspec can decode to its end, with leading prose and trailing prose dropped. ``None`` when there
is no JSON document in the text.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

__all__ = ["decode_json_text", "json_text"]

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\r?\n(.*?)(?:\r?\n)?[ \t]*```", re.S)
_DECODER = msgspec.json.Decoder()


def _decodes(candidate: str) -> bool:
    try:
        _DECODER.decode(candidate)
    except msgspec.DecodeError:
        return False
    return True


def _balanced_end(text: str, start: int) -> int | None:
    """The end of the bracketed value starting at ``start`` (strings and escapes respected)."""
    depth = 0
    in_string = escaped = False
    for i in range(start, len(text)):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def json_text(text: str) -> str | None:
    """The JSON document in ``text`` (see the module docstring)."""
    stripped = text.strip()
    if stripped and _decodes(stripped):
        return stripped
    for match in _FENCE.finditer(text):
        inner = match.group(1).strip()
        if inner and _decodes(inner):
            return inner
    start = 0
    while True:
        found = [p for p in (text.find("{", start), text.find("[", start)) if p >= 0]
        if not found:
            return None
        begin = min(found)
        end = _balanced_end(text, begin)
        if end is not None and _decodes(text[begin:end]):
            return text[begin:end]
        start = begin + 1


def decode_json_text(text: str) -> tuple[bool, Any]:
    """(found, value) for the JSON document in ``text``."""
    doc = json_text(text)
    if doc is None:
        return False, None
    return True, _DECODER.decode(doc)
