"""Test helpers for reqbed and for apps built on it: the local Bedrock emulator and fixtures.

``Emulator`` (``python -m reqbed.testing.emulator``) serves Bedrock Runtime on loopback.
"""

from __future__ import annotations

from .emulator import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_API_KEY, EXAMPLE_SECRET_ACCESS_KEY, Emulator

__all__ = ["EXAMPLE_ACCESS_KEY_ID", "EXAMPLE_API_KEY", "EXAMPLE_SECRET_ACCESS_KEY", "Emulator"]
