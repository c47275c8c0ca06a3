"""Helpers shared by the native-family tests: the pure pipeline up to the body, and refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

import reqbed
from reqbed._pipeline import Prepared, prepare

CREDS = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


def prepared(model: str, prompt: Any, *, stream: bool = False, **opts: Any) -> Prepared:
    """``prepare`` with example credentials, region us-east-1 and no environment."""
    po = {"region": "us-east-1", **CREDS, **opts.pop("provider_options", {})}
    return prepare(model, prompt, {**opts, "provider_options": po}, stream=stream, environ={})


def body_of(p: Prepared) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(p.body)
    return value


def refused(field: str, model: str, prompt: Any, **opts: Any) -> reqbed.ValidationError:
    """Assert that preparing the call is refused before any I/O, naming ``field``."""
    with pytest.raises(reqbed.ValidationError) as info:
        prepared(model, prompt, **opts)
    assert info.value.field == field, info.value
    return info.value
