"""``reqbed``'s public surface: ``__all__`` is sorted and complete, and every name in it resolves.

Modelled on httpx's ``tests/test_exported_members.py``: any public class or function defined in
reqbed and reachable as ``reqbed.<name>`` must be listed in ``__all__``.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

import reqbed


def test_all_is_sorted_and_unique() -> None:
    assert reqbed.__all__ == sorted(reqbed.__all__)
    assert len(set(reqbed.__all__)) == len(reqbed.__all__)


@pytest.mark.parametrize("name", reqbed.__all__)
def test_every_name_resolves(name: str) -> None:
    assert getattr(reqbed, name) is not None


_SHIPPED = """
import inspect, json, reqbed
bad = []
for name in reqbed.__all__:
    value = getattr(reqbed, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        if value.__module__ != "reqbed":  # shown as reqbed.X (see test_public_surface.py)
            bad.append(f"{name}: shows as {value.__module__}.{name}")
        if not (value.__doc__ or "").strip():
            bad.append(f"{name}: no docstring")
print(json.dumps(bad))
"""


def test_shipped_members_are_reqbeds_own_and_documented() -> None:
    """Checked in a fresh interpreter: the test session's plugins may patch ``reqbed.default_client``."""
    out = subprocess.run([sys.executable, "-c", _SHIPPED], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_every_public_member_is_exported() -> None:
    public = {
        name
        for name, value in vars(reqbed).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and (getattr(value, "__module__", None) or "").startswith("reqbed")
    }
    assert public - set(reqbed.__all__) == set()


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from reqbed import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(reqbed.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        reqbed.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def test_lazy_stream_types_are_the_real_ones() -> None:
    from reqbed._stream import AsyncStreamResponse, StreamResponse

    assert reqbed.StreamResponse is StreamResponse
    assert reqbed.AsyncStreamResponse is AsyncStreamResponse


def test_import_is_cheap_and_needs_no_botocore() -> None:
    """``import reqbed`` must not import botocore (the optional chain) nor any event loop library."""
    code = (
        "import sys, reqbed; print(sorted(m for m in ('botocore', 'aiobotocore', 'boto3', 'trio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
