"""A caller's ``schema`` -> JSON Schema, and that schema adapted to what Bedrock accepts.

``resolve_schema`` takes a JSON Schema ``dict`` (passed through; ``.object`` is then the decoded
JSON value) or a type: a ``msgspec.Struct``, a ``dataclass``, a ``TypedDict``, a ``typing`` type
(``list[Item]``, ``Literal[...]``, unions) -- all through msgspec's generator, with ``$defs`` --
or a pydantic ``BaseModel`` (its own ``model_json_schema()``; pydantic is imported only if the
caller's class comes from it, never by reqbed).

``adapt`` makes the schema sendable:

- the root is an object (tool input schemas must be): a root ``$ref`` is inlined; a root that is
  not an object (``list[Item]``, ``Literal``, a union) is wrapped as ``{"value": <schema>}`` and
  unwrapped from the answer (``ResolvedSchema.wrapped``);
- ``strict=True`` (native structured output and strict tools; AWS: a JSON Schema Draft 2020-12
  subset, anything else is a 400) also: every object gets ``additionalProperties: false``
  (another value is refused); constraints the grammar cannot enforce (``minimum``, ``maxLength``,
  ``maxItems`` ...) and formats outside the supported list are moved into the ``description``
  and checked locally after the answer instead; ``oneOf`` becomes ``anyOf`` (the local check
  stays exact); keywords with no equivalent (``not``, ``if``/``then``/``else``,
  ``patternProperties``, ``prefixItems`` ...), external or recursive ``$ref`` are a
  ``ValidationError`` naming the keyword and where it is.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from .._errors import ValidationError

__all__ = ["ResolvedSchema", "SchemaKind", "adapt", "resolve_schema"]

SchemaKind = Literal["json_schema", "type", "pydantic"]

#: The key a non-object root is wrapped under.
WRAP_KEY = "value"

#: Kept as they are in a strict schema.
_STRUCTURAL = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "allOf",
     "$ref", "$defs", "definitions", "description", "title", "default", "examples", "format", "pattern",
     "$schema", "$id"}
)  # fmt: skip
#: Moved into the description (and checked locally); ``minItems`` 0 and 1 are kept.
_MOVED = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
     "minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems", "contentEncoding",
     "contentMediaType", "discriminator", "readOnly", "writeOnly", "deprecated"}
)  # fmt: skip
#: String formats structured output supports; others are moved into the description.
_FORMATS = frozenset({"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"})


@dataclasses.dataclass(frozen=True)
class ResolvedSchema:
    """The caller's schema as JSON Schema, with what turns the answer back into their type.

    ``target`` is the type to convert to (None for a dict schema); ``kind`` how to validate.
    """

    json_schema: dict[str, Any]
    target: Any
    kind: SchemaKind
    title: str | None = None


def _is_pydantic_model(schema: Any) -> bool:
    if not isinstance(schema, type):
        return False
    # looked up by name on the MRO, so pydantic is never imported here
    return any(c.__module__.startswith("pydantic") and c.__name__ == "BaseModel" for c in schema.__mro__)


def resolve_schema(schema: Any) -> ResolvedSchema:
    """The JSON Schema for ``schema`` (see the module docstring). Bad input: ``ValidationError``."""
    if isinstance(schema, Mapping):
        try:
            plain = json.loads(json.dumps(schema))
        except (TypeError, ValueError) as e:
            raise ValidationError(f"a JSON Schema dict must be plain JSON: {e}", field="schema") from None
        if not plain:
            raise ValidationError("is an empty JSON Schema", field="schema")
        return ResolvedSchema(json_schema=plain, target=None, kind="json_schema", title=plain.get("title"))
    if schema is None or isinstance(schema, (str, bytes, int, float, bool)):
        raise ValidationError(
            f"must be a JSON Schema dict or a type (msgspec.Struct, dataclass, TypedDict, typing type, "
            f"pydantic BaseModel), got {schema!r}",
            field="schema",
        )
    if _is_pydantic_model(schema):
        generated: dict[str, Any] = schema.model_json_schema()
        return ResolvedSchema(json_schema=generated, target=schema, kind="pydantic", title=generated.get("title"))
    try:
        generated = msgspec.json.schema(schema)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"cannot make a JSON Schema for {schema!r}: {e}", field="schema") from None
    title = getattr(schema, "__name__", None) if isinstance(schema, type) else None
    return ResolvedSchema(json_schema=generated, target=schema, kind="type", title=title)


# -- adaptation ------------------------------------------------------------------------------------


def _defs(schema: Mapping[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        got = schema.get(key)
        if isinstance(got, Mapping):
            defs.update({f"#/{key}/{name}": value for name, value in got.items()})
    return defs


def _root_object(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(an object-rooted schema, wrapped?)."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and set(schema) <= {"$ref", "$defs", "definitions", "$schema"}:
        target = _defs(schema).get(ref)
        if isinstance(target, Mapping) and target.get("type") == "object":
            root = {k: v for k, v in schema.items() if k != "$ref"}
            root.update(target)
            return root, False
    if schema.get("type") == "object":
        return schema, False
    inner = {k: v for k, v in schema.items() if k not in ("$defs", "definitions", "$schema")}
    wrapped: dict[str, Any] = {"type": "object", "properties": {WRAP_KEY: inner}, "required": [WRAP_KEY]}
    for key in ("$defs", "definitions"):
        if key in schema:
            wrapped[key] = schema[key]
    return wrapped, True


class _Strict:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.defs = _defs(root)

    def fail(self, keyword: str, where: str, why: str) -> ValidationError:
        return ValidationError(f"{keyword!r} at {where}: {why}", field=f"schema.{keyword}")

    def node(self, node: Any, where: str, refs: tuple[str, ...]) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping):
            raise self.fail(str(node), where, "a schema must be an object")
        out: dict[str, Any] = {}
        moved: list[str] = []
        for key, value in node.items():
            if key in _MOVED:
                if key == "minItems" and value in (0, 1):
                    out[key] = value
                elif key not in ("discriminator", "readOnly", "writeOnly", "deprecated"):
                    moved.append(f"{key}: {json.dumps(value)}")
                continue
            if key == "oneOf":
                key = "anyOf"
            elif key not in _STRUCTURAL:
                raise self.fail(key, where, "Bedrock structured output does not support this keyword")
            if key == "format" and value not in _FORMATS:
                moved.append(f"format: {value}")
                continue
            if key == "additionalProperties" and value is not False:
                raise self.fail(key, where, "must be false (or absent) for Bedrock structured output")
            if key == "$ref":
                if not isinstance(value, str) or value not in self.defs:
                    raise self.fail(key, where, f"{value!r} is not a local #/$defs reference")
                if value in refs:
                    raise self.fail(key, where, f"{value!r} is recursive; structured output takes no recursion")
                self.node(self.defs[value], value, (*refs, value))  # checked; sent as a $ref
                out[key] = value
            elif key == "properties":
                out[key] = {name: self.node(sub, f"{where}.{name}", refs) for name, sub in value.items()}
            elif key in ("$defs", "definitions"):
                out[key] = {
                    name: self.node(sub, f"#/{key}/{name}", (f"#/{key}/{name}",)) for name, sub in value.items()
                }
            elif key == "items":
                out[key] = self.node(value, f"{where}[]", refs)
            elif key in ("anyOf", "allOf"):
                out[key] = [self.node(sub, f"{where}.{key}[{i}]", refs) for i, sub in enumerate(value)]
            else:
                out[key] = value
        if out.get("type") == "object" or "properties" in out:
            out.setdefault("additionalProperties", False)
        if moved:
            note = "; ".join(moved)
            out["description"] = f"{out['description']} ({note})" if out.get("description") else note
        return out


def adapt(schema: Mapping[str, Any], *, strict: bool) -> tuple[dict[str, Any], bool]:
    """(the schema to send, wrapped?) -- see the module docstring."""
    root, wrapped = _root_object(dict(schema))
    if not strict:
        return root, wrapped
    adapted = _Strict(root).node(root, "$", ())
    adapted.pop("$schema", None)
    return adapted, wrapped
