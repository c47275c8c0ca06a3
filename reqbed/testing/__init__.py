"""Test helpers for reqbed and for apps built on it: the local Bedrock emulator and fixtures.

``Emulator`` (``python -m reqbed.testing.emulator``) serves Bedrock Runtime on loopback.
``set_network_guard`` installs the hook that vets every real network request reqbed sends (the
pytest plugin's replay mode uses it).

The names load on first use, so ``python -m reqbed.testing.emulator`` runs the emulator module
once, as ``__main__`` (no ``RuntimeWarning``), and ``import reqbed.testing`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._network_guard import NetworkGuard, network_guard, set_network_guard
    from .emulator import (
        EXAMPLE_ACCESS_KEY_ID,
        EXAMPLE_API_KEY,
        EXAMPLE_SECRET_ACCESS_KEY,
        FAULTS,
        MODELS,
        Emulator,
        Fault,
        FaultKind,
    )

__all__ = [
    "EXAMPLE_ACCESS_KEY_ID",
    "EXAMPLE_API_KEY",
    "EXAMPLE_SECRET_ACCESS_KEY",
    "FAULTS",
    "MODELS",
    "Emulator",
    "Fault",
    "FaultKind",
    "NetworkGuard",
    "network_guard",
    "set_network_guard",
]

_HOMES = {
    "EXAMPLE_ACCESS_KEY_ID": "reqbed.testing.emulator",
    "EXAMPLE_API_KEY": "reqbed.testing.emulator",
    "EXAMPLE_SECRET_ACCESS_KEY": "reqbed.testing.emulator",
    "Emulator": "reqbed.testing.emulator",
    "FAULTS": "reqbed.testing.emulator",
    "MODELS": "reqbed.testing.emulator",
    "Fault": "reqbed.testing.emulator",
    "FaultKind": "reqbed.testing.emulator",
    "NetworkGuard": "reqbed._network_guard",
    "network_guard": "reqbed._network_guard",
    "set_network_guard": "reqbed._network_guard",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'reqbed.testing' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
