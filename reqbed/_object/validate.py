"""The answer's decoded JSON -> the caller's object, or the errors that say why not.

One validator per schema kind:

- a type: ``msgspec.convert(value, T, strict=True)``. Strict, because JSON carries numbers,
  booleans, objects and arrays itself: an integer field answered as ``"30"`` is the model not
  following the schema, not an encoding (the recorded Llama 3.3 70B ``object_basic`` answer does
  exactly this; it is an ``ObjectGenerationError`` whose ``.text`` keeps the raw answer). Lax only
  where JSON cannot carry the type: msgspec's strict mode still reads ``datetime``, ``date``,
  ``time``, ``UUID``, ``Decimal`` and ``bytes`` (base64) from strings, their JSON spelling.
- a pydantic ``BaseModel``: the model's own ``model_validate`` (pydantic's rules, lax by default).
- a JSON Schema dict: the subset Bedrock's structured output takes (``type``, ``properties``,
  ``required``, ``additionalProperties``, ``items``, ``enum``, ``const``, ``anyOf``/``oneOf``/
  ``allOf``, local ``$ref``) plus the constraints moved out of the sent schema (``minimum``,
  ``maxLength``, ``minItems`` ...), so a moved constraint is still enforced. Unknown keywords
  are ignored (a schema dict is the caller's; AWS rejects what it cannot take).

Errors are strings ``"<path>: <what>"`` with the path in JSONPath form (``$.items[2].qty``), the
first failing path first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from .schema import WRAP_KEY, ResolvedSchema

__all__ = ["Invalid", "msgspec_error", "validate_object"]


class Invalid(Exception):
    """The value does not fit the schema; ``errors`` lists why, first failing path first."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if errors else "invalid")
        self.errors = errors


def msgspec_error(text: str) -> str:
    """msgspec's ``Expected `int`, got `str` - at `$.age``` -> ``$.age: expected int, got str``."""
    path = "$"
    if " - at `" in text:
        text, _, where = text.rpartition(" - at `")
        path = where.rstrip("`")
    missing = re.match(r"Object missing required field `([^`]*)`$", text)
    if missing:  # name the field itself, like the dict-schema checker does
        return f"{path}.{missing[1]}: is required"
    text = text.replace("`", "")
    return f"{path}: {text[:1].lower()}{text[1:]}"


def _pydantic_errors(exc: Any) -> list[str]:
    out = []
    for err in exc.errors():
        path = "$"
        for part in err.get("loc", ()):
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        out.append(f"{path}: {err.get('msg', 'invalid')}")
    return out or [f"$: {exc}"]


def validate_object(value: Any, schema: ResolvedSchema, *, wrapped: bool) -> Any:
    """The object for ``value`` (decoded JSON). Raises ``Invalid``."""
    if wrapped:
        if not isinstance(value, dict) or WRAP_KEY not in value:
            raise Invalid([f"$: expected an object with the key {WRAP_KEY!r}, got {_json_type(value)}"])
        value = value[WRAP_KEY]
    if schema.kind == "type":
        try:
            return msgspec.convert(value, schema.target, strict=True)
        except msgspec.ValidationError as e:
            raise Invalid([msgspec_error(str(e))]) from None
    if schema.kind == "pydantic":
        from pydantic import ValidationError as PydanticValidationError  # the caller's class came from it

        try:
            return schema.target.model_validate(value)
        except PydanticValidationError as e:
            raise Invalid(_pydantic_errors(e)) from None
    errors = check_json_schema(value, schema.json_schema)
    if errors:
        raise Invalid(errors)
    return value


# -- a JSON Schema subset check -------------------------------------------------------------------

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_NAMES = {"integer": "int", "number": "number", "string": "str", "boolean": "bool", "object": "object",
          "array": "array", "null": "null"}  # fmt: skip


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    types = _PY_TYPES.get(kind)
    return True if types is None else isinstance(value, types)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1`` (Python's ``True == 1`` is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


class _Checker:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, ref: str) -> Any:
        node: Any = self.root
        if not ref.startswith("#"):
            return {}
        for part in ref[1:].split("/")[1:]:
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, Mapping) else {}
        return node

    def check(self, value: Any, schema: Any, path: str, out: list[str], depth: int = 0) -> None:
        if schema is False:
            out.append(f"{path}: no value is allowed here")
            return
        if not isinstance(schema, Mapping) or depth > 64:
            return
        if "$ref" in schema:
            self.check(value, self.resolve(schema["$ref"]), path, out, depth + 1)
        kind = schema.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(_is(value, k) for k in kinds):
                want = " or ".join(_NAMES.get(str(k), str(k)) for k in kinds)
                out.append(f"{path}: expected {want}, got {_json_type(value)}")
                return
        if "const" in schema and not _same(value, schema["const"]):
            out.append(f"{path}: expected {schema['const']!r}, got {value!r}")
        if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
            out.append(f"{path}: expected one of {schema['enum']!r}, got {value!r}")
        for key in ("anyOf", "oneOf"):
            if key in schema and not any(not self._errors(value, sub, path, depth) for sub in schema[key]):
                out.append(f"{path}: matches none of the {key} alternatives")
        for sub in schema.get("allOf", ()):
            self.check(value, sub, path, out, depth + 1)
        if isinstance(value, dict):
            self._object(value, schema, path, out, depth)
        elif isinstance(value, list):
            self._array(value, schema, path, out, depth)
        elif isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append(f"{path}: expected a string of at least {schema['minLength']} characters")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                out.append(f"{path}: expected a string of at most {schema['maxLength']} characters")
        elif _is(value, "number"):
            self._number(value, schema, path, out)

    def _errors(self, value: Any, schema: Any, path: str, depth: int) -> list[str]:
        errs: list[str] = []
        self.check(value, schema, path, errs, depth + 1)
        return errs

    def _object(self, value: dict[str, Any], schema: Mapping[str, Any], path: str, out: list[str], depth: int) -> None:
        props = schema.get("properties") or {}
        for name in schema.get("required", ()):
            if name not in value:
                out.append(f"{path}.{name}: is required")
        for name, item in value.items():
            where = f"{path}.{name}"
            if name in props:
                self.check(item, props[name], where, out, depth + 1)
            elif schema.get("additionalProperties") is False:
                out.append(f"{where}: is not allowed (additionalProperties is false)")
            elif isinstance(schema.get("additionalProperties"), Mapping):
                self.check(item, schema["additionalProperties"], where, out, depth + 1)
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            out.append(f"{path}: expected at least {schema['minProperties']} properties")
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            out.append(f"{path}: expected at most {schema['maxProperties']} properties")

    def _array(self, value: list[Any], schema: Mapping[str, Any], path: str, out: list[str], depth: int) -> None:
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                self.check(item, items, f"{path}[{i}]", out, depth + 1)
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append(f"{path}: expected at least {schema['minItems']} items, got {len(value)}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(f"{path}: expected at most {schema['maxItems']} items, got {len(value)}")

    def _number(self, value: float, schema: Mapping[str, Any], path: str, out: list[str]) -> None:
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: expected >= {schema['minimum']}, got {value}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: expected <= {schema['maximum']}, got {value}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            out.append(f"{path}: expected > {schema['exclusiveMinimum']}, got {value}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            out.append(f"{path}: expected < {schema['exclusiveMaximum']}, got {value}")
        step = schema.get("multipleOf")
        if step and not math.isclose(value / step, round(value / step)):
            out.append(f"{path}: expected a multiple of {step}, got {value}")


def check_json_schema(value: Any, schema: Mapping[str, Any]) -> list[str]:
    """The errors of ``value`` against a JSON Schema (the subset above); empty when it fits."""
    out: list[str] = []
    _Checker(schema).check(value, schema, "$", out)
    return out
