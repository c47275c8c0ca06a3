"""Pure request shaping and result extraction for ``generate_object``. No I/O.

``plan_object(model, prompt, schema, opts, stream=...)`` reads the object options (``schema_name``,
``schema_description``, ``mode``) out of the caller's options and returns an ``ObjectPlan``:

- ``prompt``: the caller's prompt (with json mode's instruction in front when the model takes no
  system prompt);
- ``chat_options``: the caller's other options plus what the mode needs, ready for the chat
  pipeline (``build_chat_request`` validates them like any call's):
  ``tool`` mode: one tool named ``schema_name`` (default ``structured_output``) whose input
  schema is the schema, ``tool_choice`` naming it when the model honours a forced choice, else an
  instruction in the system prompt naming it; ``json`` mode: the schema and an instruction in the
  system prompt; ``native``: nothing more.
- ``body_fields_for(formatter_name)``: native mode's body additions for the endpoint the pipeline
  chose: Converse ``outputConfig.textFormat`` (``type: json_schema``, ``structure.jsonSchema``
  with the schema as a JSON *string*, ``name``, ``description``), Claude ``/invoke``
  ``output_config.format`` (``{"type": "json_schema", "schema": {...}}``), gpt-oss ``/invoke``
  ``response_format`` (``{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}``).
- ``finish(response)``: the object out of a ``Response`` (the tool call's arguments, or the
  text's JSON), validated; else ``ObjectGenerationError`` carrying the raw text.

So ``generate_object`` = ``plan_object`` -> the chat pipeline on ``plan.prompt`` and
``plan.chat_options`` (merging ``body_fields_for`` into the body) -> ``finish``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from .._errors import ObjectGenerationError, ValidationError
from .._model_spec import parse_model_spec
from .._types import Response, Tool
from .extract import decode_json_text
from .modes import Mode, ModeRow, choose_mode, modes_for
from .result import ObjectResponse
from .schema import WRAP_KEY, ResolvedSchema, adapt, resolve_schema
from .validate import Invalid, validate_object

__all__ = ["DEFAULT_SCHEMA_NAME", "OBJECT_OPTIONS", "ObjectPlan", "plan_object"]

DEFAULT_SCHEMA_NAME = "structured_output"
#: The options ``generate_object`` adds to ``generate_text``'s.
OBJECT_OPTIONS = frozenset({"schema_name", "schema_description", "mode"})
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_TOOL_DESCRIPTION = "Give the answer as this tool's arguments: an object matching its input schema."


@dataclasses.dataclass(frozen=True)
class ObjectPlan:
    """Everything ``generate_object`` decided before sending (see the module docstring)."""

    mode: Mode
    forced: bool
    row: ModeRow
    schema: ResolvedSchema
    sent_schema: dict[str, Any]
    wrapped: bool
    name: str
    description: str | None
    prompt: Any
    chat_options: dict[str, Any]

    # -- the request -------------------------------------------------------------------------------

    def body_fields_for(self, formatter_name: str) -> dict[str, Any]:
        """Native mode's body additions for the chosen endpoint (``{}`` in other modes)."""
        if self.mode != "native":
            return {}
        if formatter_name == "converse":
            structure: dict[str, Any] = {"schema": json.dumps(self.sent_schema), "name": self.name}
            if self.description:
                structure["description"] = self.description
            return {"outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": structure}}}}
        if formatter_name == "anthropic" and self.row.native_invoke == "anthropic":
            return {"output_config": {"format": {"type": "json_schema", "schema": self.sent_schema}}}
        if formatter_name == "openai" and self.row.native_invoke == "openai":
            spec: dict[str, Any] = {"name": self.name, "schema": self.sent_schema, "strict": True}
            if self.description:
                spec["description"] = self.description
            return {"response_format": {"type": "json_schema", "json_schema": spec}}
        raise ValidationError(
            f"the {formatter_name} /invoke body has no structured-output field; "
            "set provider_options.use_converse=True (or leave it unset) for mode='native'",
            field="provider_options.use_converse",
        )

    # -- the answer --------------------------------------------------------------------------------

    def _fail(self, why: str, response: Response, text: str, errors: list[str] | None = None) -> ObjectGenerationError:
        if response.finish_reason == "length":
            why += " (the answer was cut off by max_tokens)"
        elif response.finish_reason == "content_filter":
            why += " (the answer was filtered or refused)"
        return ObjectGenerationError(why, text=text, response=response, errors=errors)

    def finish_with_value(self, response: Response) -> tuple[ObjectResponse[Any], Any]:
        """(the ``ObjectResponse``, the plain JSON value it was validated from)."""
        if self.mode == "tool":
            call = next((c for c in response.tool_calls if c.name == self.name), None)
            if call is None:
                raise self._fail(f"the model did not call the {self.name!r} tool", response, response.text)
            value: Any = call.arguments
            text = msgspec.json.encode(value).decode()
        else:
            text = response.text
            found, value = decode_json_text(text)
            if not found:
                raise self._fail("the answer holds no JSON", response, text)
        try:
            obj = validate_object(value, self.schema, wrapped=self.wrapped)
        except Invalid as e:
            raise self._fail(e.errors[0], response, text, e.errors) from None
        plain = value.get(WRAP_KEY) if self.wrapped and isinstance(value, dict) else value
        return ObjectResponse(object=obj, response=response), plain

    def finish(self, response: Response) -> ObjectResponse[Any]:
        """The validated object out of ``response``, or ``ObjectGenerationError``."""
        return self.finish_with_value(response)[0]


def _thinking(opts: Mapping[str, Any]) -> bool:
    thinking = opts.get("thinking")
    if opts.get("reasoning_effort") is not None:
        return True
    return isinstance(thinking, Mapping) and thinking.get("type", "enabled") == "enabled"


def _instruction(mode: Mode, name: str, schema: Mapping[str, Any]) -> str | None:
    if mode == "json":
        return (
            "Answer with a single JSON value that conforms to the JSON Schema below: no prose, no code fence.\n"
            + json.dumps(schema)
        )
    if mode == "tool":
        return f"Answer by calling the tool {name} exactly once, with the answer as its arguments."
    return None


def plan_object(model: str, prompt: Any, schema: Any, opts: Mapping[str, Any], *, stream: bool = False) -> ObjectPlan:
    """Decide the mode and shape the request (see the module docstring). Bad input: ``ValidationError``."""
    from .._families import family_for  # the registry; imported on first use (it loads every family)

    for taken in ("tools", "tool_choice"):
        if opts.get(taken) is not None:
            raise ValidationError("generate_object uses its own tool; it takes no tools or tool_choice", field=taken)
    name = opts.get("schema_name", DEFAULT_SCHEMA_NAME)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError("must match [a-zA-Z0-9_-]{1,64}", field="schema_name")
    description = opts.get("schema_description")
    if description is not None and not isinstance(description, str):
        raise ValidationError(f"must be a string, got {type(description).__name__}", field="schema_description")
    requested = opts.get("mode", "auto")

    resolved = resolve_schema(schema)
    po = opts.get("provider_options") or {}
    base_model = po.get("base_model") if isinstance(po, Mapping) else getattr(po, "base_model", None)
    spec = parse_model_spec(model, base_model=base_model)
    caps = family_for(spec).capabilities(spec)
    choice = choose_mode(modes_for(spec, caps, stream=stream), requested, thinking=_thinking(opts))
    sent, wrapped = adapt(resolved.json_schema, strict=choice.mode == "native")

    chat = {k: v for k, v in opts.items() if k not in OBJECT_OPTIONS}
    if choice.mode == "tool":
        chat["tools"] = [Tool(name=name, description=description or _TOOL_DESCRIPTION, parameters=sent)]
        if choice.forced:
            chat["tool_choice"] = name
    instruction = None if choice.forced else _instruction(choice.mode, name, sent)
    if instruction and not caps.system_prompt:
        if not isinstance(prompt, str):
            raise ValidationError(
                f"{spec.model_id} takes no system prompt: mode={choice.mode!r} needs a string prompt to carry "
                "its instruction",
                field="prompt",
            )
        prompt = f"{instruction}\n\n{prompt}"
    elif instruction:
        system = chat.get("system")
        chat["system"] = f"{system}\n\n{instruction}" if isinstance(system, str) and system.strip() else instruction
    return ObjectPlan(
        mode=choice.mode,
        forced=choice.forced,
        row=choice.row,
        schema=resolved,
        sent_schema=sent,
        wrapped=wrapped,
        name=name,
        description=description,
        prompt=prompt,
        chat_options=chat,
    )
