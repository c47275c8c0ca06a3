"""Check a caller's JSON-like values before they are encoded and sent. Pure, iterative, no I/O.

What the encoders would otherwise trip over deep inside body building, as a ``RecursionError``,
a ``UnicodeEncodeError`` or a silent change, becomes a ``ValidationError`` naming the exact place:

* nesting deeper than ``MAX_JSON_DEPTH`` levels (msgspec and json stop near 1,000 levels with a
  ``RecursionError``; real tool schemas and arguments stay within a few dozen);
* a value that contains itself (a self-referencing schema), which no encoder can write;
* a float that is NaN or infinite (JSON has none; msgspec would send ``null`` silently);
* a string (or dict key) with a lone UTF-16 surrogate such as ``"\\ud800"`` (not encodable as UTF-8).

Values may mix dicts, lists, tuples, msgspec Structs (``Message``, ``TextPart`` ...), strings,
numbers and bytes; bytes (images, documents) are not looked into.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from ._errors import ValidationError

__all__ = ["MAX_JSON_DEPTH", "check_json_value"]

#: The deepest nesting accepted in a tool schema, tool arguments, a prompt or a body extra.
MAX_JSON_DEPTH = 200

# A path is a linked list (parent, step) rendered only when an error is raised.
_Path = tuple[Any, str] | None


def _render(base: str, path: _Path) -> str:
    steps: list[str] = []
    while path is not None:
        path, step = path
        steps.append(step)
    return base + "".join(reversed(steps))


def _key_step(key: object) -> str:
    return f".{key}" if isinstance(key, str) and key.isidentifier() else f"[{key!r}]"


def check_json_value(value: Any, field: str) -> None:
    """Raise ``ValidationError`` (``field`` plus the path inside) for what JSON cannot carry."""
    if not _looks_fine(value):
        _find_problem(value, field)


def _looks_fine(value: Any) -> bool:
    """The fast pass (every call runs it): True when nothing is wrong. False when something may be
    (also for a container seen twice, a shared sub-schema say): ``_find_problem`` then decides."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen: set[int] = set()
    pop, push = stack.pop, stack.append
    while stack:
        v, depth = pop()
        t = type(v)
        if t is str:
            if not v.isascii() and not _encodable(v):
                return False
        elif t is float:
            if not math.isfinite(v):
                return False
        elif t is dict or t is list or t is tuple or isinstance(v, msgspec.Struct):
            if depth >= MAX_JSON_DEPTH or id(v) in seen:
                return False
            seen.add(id(v))
            if t is dict:
                for k, item in v.items():
                    if type(k) is str and not k.isascii() and not _encodable(k):
                        return False
                    push((item, depth + 1))
            elif t is list or t is tuple:
                for item in v:
                    push((item, depth + 1))
            else:
                for f in v.__struct_fields__:
                    push((getattr(v, f), depth + 1))
        elif isinstance(v, (str, float, dict, list, tuple)):
            return False  # a subclass: let the careful pass look
    return True


def _encodable(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _find_problem(value: Any, field: str) -> None:
    """The careful pass, with paths and cycle detection: raises for the first problem found."""
    # (value, depth, path, exiting): containers are pushed again with exiting=True to leave the
    # path set, so a value seen twice side by side is fine and only a value inside itself is refused.
    stack: list[tuple[Any, int, _Path, bool]] = [(value, 0, None, False)]
    on_path: set[int] = set()
    while stack:
        v, depth, path, exiting = stack.pop()
        if exiting:
            on_path.discard(id(v))
            continue
        if isinstance(v, str):
            _check_str(v, field, path)
            continue
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ValidationError(f"holds {v!r}, which JSON cannot carry", field=_render(field, path))
            continue
        if isinstance(v, dict):
            children: list[tuple[Any, _Path]] = []
            for k, item in v.items():
                if isinstance(k, str):
                    _check_str(k, field, path)
                children.append((item, (path, _key_step(k))))
        elif isinstance(v, (list, tuple)):
            children = [(item, (path, f"[{i}]")) for i, item in enumerate(v)]
        elif isinstance(v, msgspec.Struct):
            children = [(getattr(v, f), (path, f".{f}")) for f in v.__struct_fields__]
        else:
            continue  # numbers, bools, None, bytes, anything the encoders judge themselves
        if id(v) in on_path:
            raise ValidationError("contains itself (a value that refers back to itself)", field=_render(field, path))
        if depth >= MAX_JSON_DEPTH:
            raise ValidationError(
                f"is nested more than {MAX_JSON_DEPTH} levels deep", field=_render(field, _cut(path, depth))
            )
        on_path.add(id(v))
        stack.append((v, depth, path, True))
        stack.extend((item, depth + 1, p, False) for item, p in reversed(children))


def _check_str(s: str, field: str, path: _Path) -> None:
    if s.isascii():
        return
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValidationError(
            f"holds a lone surrogate ({s[e.start]!r} at character {e.start}), which is not valid Unicode text",
            field=_render(field, path),
        ) from None


def _cut(path: _Path, depth: int, keep: int = 8) -> _Path:
    """The first ``keep`` steps of a very deep path, then ``…`` (a 200-step field name helps no one)."""
    steps: list[str] = []
    while path is not None:
        path, step = path
        steps.append(step)
    steps.reverse()
    shown = steps if len(steps) <= keep else [*steps[:keep], "…"]
    out: _Path = None
    for step in shown:
        out = (out, step)
    return out
