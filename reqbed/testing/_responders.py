"""The emulator's responder table: which module answers which native ``/invoke`` body.

An explicit table, built here from the responder modules; nothing registers itself on import. The
responders import only ``_converse_responder`` (shared rules and ``BadRequest``), never the
emulator, so the emulator -> table -> responders imports run one way.

Adding a family's native body: write ``handle(model_id, body) -> (answer, stream events)`` in a
responder module and add it to ``BUILTIN_NATIVE`` below. An application can teach one emulator
more bodies with ``Emulator(native_handlers={...})``, or every emulator with ``register_native``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from . import _anthropic_responder, _native_responders

__all__ = ["BUILTIN_NATIVE", "NativeHandler", "native_handlers", "register_native"]

#: A native handler: (model id, request body) -> (response body, stream events). Raising
#: ``_converse_responder.BadRequest`` answers a 400 ``ValidationException`` with its message.
NativeHandler = Callable[[str, dict[str, Any]], tuple[dict[str, Any], list[dict[str, Any]]]]

#: reqbed's own native bodies, by family (the ``family`` of ``reqbed``'s model-spec parser).
BUILTIN_NATIVE: Mapping[str, NativeHandler] = MappingProxyType(
    {
        "anthropic": _anthropic_responder.handle,
        "cohere": _native_responders.handle_cohere,
        "openai": _native_responders.handle_openai,
        "meta": _native_responders.handle_meta,
    }
)

_registered: dict[str, NativeHandler] = {}


def register_native(family: str, handler: NativeHandler) -> None:
    """Teach every emulator in this process a family's native ``/invoke`` body (replacing reqbed's
    own for that family). ``Emulator(native_handlers=...)`` does it for one emulator only."""
    _registered[family] = handler


def native_handlers() -> dict[str, NativeHandler]:
    """reqbed's built-in handlers with the ``register_native`` ones on top (a new dict)."""
    return {**BUILTIN_NATIVE, **_registered}
