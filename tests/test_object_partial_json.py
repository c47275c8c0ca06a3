"""The incremental partial-JSON parser (``reqbed._object.partial_json``), fuzzed with hypothesis.

The oracle is ``json.loads`` (stdlib): for random JSON documents, random ways of cutting them into
chunks, and every prefix, the parser never raises, each snapshot is a JSON value, snapshots only
grow (objects gain keys, arrays gain items, strings get longer, nothing else changes), and the
final value equals ``json.loads`` of the document.
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reqbed._object.partial_json import NOTHING, PartialJSON

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5), max_leaves=25
)
CONTAINERS = st.lists(VALUES, max_size=5) | st.dictionaries(st.text(), VALUES, max_size=6)
SMALL_TEXT = st.text(max_size=6)
SMALL_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | SMALL_TEXT
)
SMALL = st.recursive(
    SMALL_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SMALL_TEXT, inner, max_size=3),
    max_leaves=8,
)
SMALL_CONTAINERS = st.lists(SMALL, max_size=3) | st.dictionaries(SMALL_TEXT, SMALL, max_size=3)


def dumps(value: Any, ascii_only: bool, indent: int | None) -> str:
    return json.dumps(value, ensure_ascii=ascii_only, indent=indent)


def grows(old: Any, new: Any) -> bool:
    """``new`` extends ``old`` (see the module docstring)."""
    if isinstance(old, dict):
        return (
            isinstance(new, dict)
            and list(new)[: len(old)] == list(old)
            and all(grows(v, new[k]) for k, v in old.items())
        )
    if isinstance(old, list):
        if not isinstance(new, list) or len(new) < len(old):
            return False
        return all(a == b for a, b in zip(old[:-1], new, strict=False)) and (
            not old or grows(old[-1], new[len(old) - 1])
        )
    if isinstance(old, str):
        return isinstance(new, str) and new.startswith(old)
    return type(old) is type(new) and old == new


def is_json_value(v: Any) -> bool:
    return json.loads(json.dumps(v)) == v or v != v  # round-trips (floats compare exactly)


def run(doc: str, cuts: list[int]) -> tuple[PartialJSON, list[Any]]:
    parser = PartialJSON()
    snaps: list[Any] = []
    bounds = sorted({c % (len(doc) + 1) for c in cuts} | {0, len(doc)})
    for a, b in itertools.pairwise(bounds):
        parser.feed(doc[a:b])
        assert not parser.failed
        if parser.changed():
            snap = parser.snapshot()
            assert snap is not NOTHING
            snaps.append(copy.deepcopy(snap))  # kept by value: later snapshots must not change it
    parser.close()
    return parser, snaps


@settings(max_examples=150, deadline=None)
@given(CONTAINERS, st.lists(st.integers(min_value=0, max_value=10_000), max_size=40), st.booleans(),
       st.sampled_from([None, 0, 2]))  # fmt: skip
def test_snapshots_grow_and_end_on_the_document(
    value: Any, cuts: list[int], ascii_only: bool, indent: int | None
) -> None:
    doc = dumps(value, ascii_only, indent)
    parser, snaps = run(doc, cuts)
    assert parser.done
    assert parser.value == json.loads(doc)
    assert snaps, "an object or array shows up at least once"
    for old, new in itertools.pairwise(snaps):
        assert grows(old, new), (old, new)
    assert all(is_json_value(s) for s in snaps)
    assert snaps[-1] == json.loads(doc) or grows(snaps[-1], parser.snapshot())
    assert parser.snapshot() == json.loads(doc)


@settings(max_examples=100, deadline=None)
@given(SMALL_CONTAINERS, st.booleans())
def test_every_prefix_gives_a_valid_snapshot_or_none(value: Any, ascii_only: bool) -> None:
    doc = dumps(value, ascii_only, None)
    previous: Any = NOTHING
    for end in range(len(doc) + 1):
        parser = PartialJSON()
        parser.feed(doc[:end])  # one fresh parser per prefix: the prefix on its own
        assert not parser.failed
        snap = parser.snapshot()
        if snap is NOTHING:
            assert previous is NOTHING
            continue
        assert is_json_value(snap)
        if previous is not NOTHING:
            assert grows(previous, snap), (doc[:end], previous, snap)
        previous = copy.deepcopy(snap)


@settings(max_examples=100, deadline=None)
@given(VALUES, st.lists(st.integers(min_value=0, max_value=500), max_size=10))
def test_scalar_roots_complete_on_close(value: Any, cuts: list[int]) -> None:
    doc = json.dumps(value)
    parser, _ = run(doc, cuts)
    assert parser.done
    assert parser.value == json.loads(doc)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@given(st.text(max_size=60), st.lists(st.integers(min_value=0, max_value=60), max_size=8))
def test_garbage_never_raises(text: str, cuts: list[int]) -> None:
    parser = PartialJSON()
    bounds = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    for a, b in itertools.pairwise(bounds):
        parser.feed(text[a:b])
        parser.snapshot()
    parser.close()
    try:
        expected = json.loads(text, parse_constant=_not_json)  # Python's NaN/Infinity are not JSON
    except ValueError:
        return  # not JSON: not raising was the test
    assert not parser.failed
    assert parser.done
    assert parser.value == expected


def test_a_number_appears_only_once_complete() -> None:
    parser = PartialJSON()
    parser.feed('{"a": 12')
    assert parser.snapshot() == {}
    parser.feed("3")
    assert parser.snapshot() == {}
    parser.feed(", ")
    assert parser.snapshot() == {"a": 123}


def test_a_split_escape_and_surrogate_pair() -> None:
    parser = PartialJSON()
    parts = ['{"k": "a\\', "u00", "e9", "\\ud83d", "\\ude00", 'z"}']
    seen = []
    for p in parts:
        parser.feed(p)
        seen.append(parser.snapshot()["k"])
    assert seen == ["a", "a", "aé", "aé", "aé😀", "aé😀z"]
    assert parser.value == {"k": "aé😀z"}


def test_prose_and_fences_are_skipped_only_when_asked() -> None:
    text = 'Sure! Here it is:\n```json\n{"name": "Ada", "age": 36}\n```\nAnything else?'
    lax = PartialJSON(skip_prose=True)
    for ch in text:
        lax.feed(ch)
    assert lax.done
    assert lax.value == {"name": "Ada", "age": 36}
    strict = PartialJSON()
    strict.feed(text)
    assert strict.failed
    assert strict.snapshot() is NOTHING


def test_snapshots_are_independent_values() -> None:
    parser = PartialJSON()
    parser.feed('{"items": [1, 2')
    first = parser.snapshot()
    parser.feed(', 3], "more": "x')
    assert first == {"items": [1]}
    assert parser.snapshot() == {"items": [1, 2, 3], "more": "x"}


def test_invalid_json_fails_quietly() -> None:
    for bad in ['{"a" 1}', '{"a": tru}', "[1,,2]", '{"a": 1,}x', "{'a': 1}", '{"a": 01}']:
        parser = PartialJSON()
        parser.feed(bad)
        parser.close()
        assert parser.failed, bad
