"""Schemas for ``generate_object``: resolution (dict, msgspec, dataclass, TypedDict, typing types,
pydantic), adaptation to what Bedrock's structured output takes, and validation of answers.

Oracles: msgspec's own ``json.schema`` output, and the ``jsonschema`` package (when installed) for
the dict-schema checker: random values must be accepted or refused exactly as ``jsonschema`` does.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reqbed
from reqbed._object.schema import WRAP_KEY, adapt, resolve_schema
from reqbed._object.validate import Invalid, check_json_schema, validate_object


class Item(msgspec.Struct):
    name: str
    qty: Annotated[int, msgspec.Meta(ge=1)]
    when: datetime.datetime | None = None


class Order(msgspec.Struct):
    id: uuid.UUID
    items: list[Item]
    status: Literal["open", "closed"] = "open"


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Person(TypedDict):
    name: str
    age: int


PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Person's full name"},
        "age": {"type": "integer", "minimum": 1},
        "occupation": {"type": "string"},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


def roundtrip(schema: Any, value: Any) -> Any:
    resolved = resolve_schema(schema)
    _sent, wrapped = adapt(resolved.json_schema, strict=True)
    answer = {WRAP_KEY: value} if wrapped else value
    return validate_object(answer, resolved, wrapped=wrapped)


# -- resolution ------------------------------------------------------------------------------------


def test_a_dict_schema_is_passed_through() -> None:
    resolved = resolve_schema(PERSON_SCHEMA)
    assert resolved.json_schema == PERSON_SCHEMA
    assert resolved.kind == "json_schema"
    assert resolved.target is None


@pytest.mark.parametrize("schema", [Order, Point, Person, list[Item], Literal["a", "b"], int | str])
def test_types_use_msgspecs_generator(schema: Any) -> None:
    resolved = resolve_schema(schema)
    assert resolved.json_schema == msgspec.json.schema(schema)
    assert resolved.kind == "type"
    assert resolved.target is schema


def test_pydantic_models_use_their_own_schema() -> None:
    pydantic = pytest.importorskip("pydantic")

    class User(pydantic.BaseModel):
        name: str
        age: int

    resolved = resolve_schema(User)
    assert resolved.kind == "pydantic"
    assert resolved.json_schema == User.model_json_schema()
    assert roundtrip(User, {"name": "Ada", "age": 36}) == User(name="Ada", age=36)
    with pytest.raises(Invalid) as info:
        roundtrip(User, {"name": "Ada"})
    assert info.value.errors[0].startswith("$.age: ")


@pytest.mark.parametrize("bad", [None, "a string", 3, {}, {"type": object()}])
def test_bad_schemas_are_validation_errors(bad: Any) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        resolve_schema(bad)
    assert info.value.field == "schema"


# -- adaptation ------------------------------------------------------------------------------------


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for v in node.values():
            found += _objects(v)
    elif isinstance(node, list):
        for v in node:
            found += _objects(v)
    return found


def test_strict_adaptation_closes_every_object_and_moves_constraints() -> None:
    sent, wrapped = adapt(msgspec.json.schema(Order), strict=True)
    assert not wrapped
    assert sent["type"] == "object"  # the root $ref is inlined
    assert all(o.get("additionalProperties") is False for o in _objects(sent))
    qty = sent["$defs"]["Item"]["properties"]["qty"]
    assert "minimum" not in qty
    assert "minimum: 1" in qty["description"]
    # ... and still enforced locally
    with pytest.raises(Invalid) as info:
        roundtrip(Order, {"id": str(uuid.uuid4()), "items": [{"name": "x", "qty": 0}]})
    assert info.value.errors == ["$.items[0].qty: expected `int` >= 1".replace("`", "")]


def test_non_strict_adaptation_only_roots_the_schema_in_an_object() -> None:
    sent, wrapped = adapt(PERSON_SCHEMA, strict=False)
    assert (sent, wrapped) == (PERSON_SCHEMA, False)
    sent, wrapped = adapt(msgspec.json.schema(list[Item]), strict=False)
    assert wrapped
    assert sent["type"] == "object"
    assert sent["required"] == [WRAP_KEY]
    assert sent["properties"][WRAP_KEY]["items"] == {"$ref": "#/$defs/Item"}
    assert "Item" in sent["$defs"]


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"type": "object", "properties": {"a": {"not": {"type": "string"}}}}, "not"),
        ({"type": "object", "patternProperties": {"^x": {"type": "string"}}}, "patternProperties"),
        ({"type": "object", "additionalProperties": {"type": "string"}}, "additionalProperties"),
        ({"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}}, "$ref"),
        (
            {
                "type": "object",
                "properties": {"n": {"$ref": "#/$defs/Node"}},
                "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
            },
            "$ref",
        ),
        ({"type": "array", "prefixItems": [{"type": "string"}]}, "prefixItems"),
    ],
)
def test_unsupported_keywords_are_named(schema: dict[str, Any], keyword: str) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        adapt(schema, strict=True)
    assert info.value.field == f"schema.{keyword}"
    assert repr(keyword) in str(info.value)


def test_one_of_becomes_any_of_and_formats_outside_the_list_move() -> None:
    schema = {
        "type": "object",
        "properties": {"v": {"oneOf": [{"type": "string", "format": "decimal"}, {"type": "null"}]}},
    }
    sent, _ = adapt(schema, strict=True)
    v = sent["properties"]["v"]
    assert "oneOf" not in v
    assert v["anyOf"][0] == {"type": "string", "description": "format: decimal"}


# -- validation ------------------------------------------------------------------------------------


def test_types_come_back_as_instances() -> None:
    oid = uuid.uuid4()
    got = roundtrip(Order, {"id": str(oid), "items": [{"name": "tea", "qty": 2, "when": "2025-01-02T03:04:05Z"}]})
    assert got == Order(
        id=oid,
        items=[Item(name="tea", qty=2, when=datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))],
    )
    assert roundtrip(list[Item], [{"name": "a", "qty": 1}]) == [Item(name="a", qty=1)]
    assert roundtrip(Literal["a", "b"], "b") == "b"
    assert roundtrip(Point, {"x": 1, "y": 2.5}) == Point(1.0, 2.5)
    assert roundtrip(Person, {"name": "Ada", "age": 36}) == {"name": "Ada", "age": 36}


def test_strict_where_json_carries_the_type() -> None:
    """The recorded Llama answer's ``"age": "30"``: JSON has integers, so a string is a mismatch."""
    with pytest.raises(Invalid) as info:
        roundtrip(Person, {"name": "John", "age": "30"})
    assert info.value.errors == ["$.age: expected int, got str"]
    with pytest.raises(Invalid) as info:
        roundtrip(PERSON_SCHEMA, {"name": "John", "age": "30"})
    assert info.value.errors == ["$.age: expected int, got str"]


def test_dict_schema_errors_name_the_first_failing_path() -> None:
    assert check_json_schema({"name": "a", "age": 3}, PERSON_SCHEMA) == []
    assert check_json_schema({"age": 0, "extra": 1}, PERSON_SCHEMA) == [
        "$.name: is required",
        "$.age: expected >= 1, got 0",
        "$.extra: is not allowed (additionalProperties is false)",
    ]


SUBSET_SCHEMAS = [
    PERSON_SCHEMA,
    msgspec.json.schema(Order),
    msgspec.json.schema(list[Item]),
    {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 3}, {"type": "null"}]},
    {"type": "array", "items": {"enum": [1, "a", None]}, "minItems": 1, "maxItems": 3},
    {"type": "object", "properties": {"k": {"const": True}}, "required": ["k"]},
    {"type": ["number", "null"], "exclusiveMaximum": 10},
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-20, 20) | st.sampled_from(["a", "abcd", "open", "x"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["name", "age", "qty", "id", "items", "k", "extra"]), inner, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(range(len(SUBSET_SCHEMAS))), JSON)
def test_dict_schema_checker_agrees_with_jsonschema(index: int, value: Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = SUBSET_SCHEMAS[index]
    assert (check_json_schema(value, schema) == []) == jsonschema.Draft202012Validator(schema).is_valid(value)
