"""Structured output (``generate_object``): everything that does not need the send path. No I/O.

- ``schema``: a caller's schema (a JSON Schema dict, or a type) -> JSON Schema, with msgspec's
  generator (pydantic's ``model_json_schema()`` for pydantic models); ``adapt`` shapes it for what
  Bedrock accepts.
- ``validate``: the answer's JSON -> the object (msgspec ``convert``, pydantic's own validation,
  or a JSON Schema subset check for dict schemas); errors name the first failing path.
- ``partial_json``: an incremental parser that turns streamed text into growing snapshots.
- ``extract``: JSON out of free text (``mode="json"``): code fences and leading prose stripped.
- ``modes``: which model can take which mode, as data, and ``mode="auto"``'s choice.
- ``shape``: the request additions for a mode (tool, tool choice, system instruction, outputConfig)
  and the object pulled back out of a ``Response``.
- ``result``: ``ObjectResponse`` and ``ObjectStreamState`` (the pure state of a streamed object).

``generate_object`` is then (``_operation.GenerateObject`` / ``StreamObject``, sent by the client's
one send path): per target, ``plan = shape.plan_object(model, prompt, schema, opts)`` -> the chat
pipeline (``_pipeline.prepare``) on ``plan.prompt`` and ``plan.chat_options``, its ``extra_body``
step adding ``plan.body_fields_for(formatter.name)`` -> ``plan.finish(response)``.
"""
