"""A process-wide, thread-safe store for credentials handed over once with ``put_key``.

Names: ``"aws_bedrock"`` takes a dict (``access_key_id``, ``secret_access_key``,
``session_token``, ``region``, ``api_key``) or a plain string (a Bedrock API key);
``"aws_bedrock_api_key"`` takes a Bedrock API key string.

Values are checked when stored (``ValidationError`` naming the field, never echoing a secret):
strings only, no whitespace or control characters in credentials, key id and secret together,
a session token only with them, ``region`` an AWS region name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from .._errors import ValidationError
from .secret import shown

__all__ = ["KEY_NAMES", "clear_keys", "get_key", "put_key"]

KEY_NAMES = ("aws_bedrock", "aws_bedrock_api_key")
_DICT_FIELDS = frozenset({"access_key_id", "secret_access_key", "session_token", "region", "api_key"})
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")

_lock = threading.Lock()
_store: dict[str, Any] = {}


def put_key(name: str, value: str | Mapping[str, Any]) -> None:
    """Store credentials for every later call in this process (see the module docstring)."""
    if name not in KEY_NAMES:
        raise ValidationError(f"unknown key name {shown(name)}; use one of {', '.join(KEY_NAMES)}", field="name")
    if isinstance(value, str):
        if not value.strip():
            raise ValidationError("must not be empty", field=name)
        _check_secret(value, name)
        stored: Any = {"api_key": value} if name == "aws_bedrock" else value
    elif isinstance(value, Mapping) and name == "aws_bedrock":
        unknown = set(map(str, value)) - _DICT_FIELDS
        if unknown:
            raise ValidationError(f"unknown fields {sorted(unknown)}; allowed: {sorted(_DICT_FIELDS)}", field=name)
        for k, v in value.items():
            if v is not None and not isinstance(v, str):
                raise ValidationError(f"must be a string, got {type(v).__name__}", field=f"{name}.{k}")
            if v and k != "region":
                _check_secret(v, f"{name}.{k}")
        if bool(value.get("access_key_id")) != bool(value.get("secret_access_key")):
            raise ValidationError("access_key_id and secret_access_key go together", field=name)
        if value.get("session_token") and not value.get("access_key_id"):
            raise ValidationError("session_token needs access_key_id and secret_access_key", field=name)
        region = value.get("region")
        if region and not _REGION_RE.fullmatch(region):
            raise ValidationError(f"{shown(region)} is not an AWS region name", field=f"{name}.region")
        stored = {k: v for k, v in value.items() if v}
    else:
        raise ValidationError(
            f"must be {'a dict or a string' if name == 'aws_bedrock' else 'a string'}, got {type(value).__name__}",
            field=name,
        )
    with _lock:
        _store[name] = stored


def _check_secret(value: str, field: str) -> None:
    """Credentials are printable ASCII with no surrounding whitespace (the value is never echoed)."""
    if not (value.isascii() and value.isprintable() and value == value.strip()):
        raise ValidationError(
            "contains whitespace, a control character or a non-ASCII character (a stray newline?)", field=field
        )


def get_key(name: str) -> Any:
    """The value stored under ``name``, or None. Returns a copy for dict values."""
    with _lock:
        v = _store.get(name)
        return dict(v) if isinstance(v, dict) else v


def clear_keys(name: str | None = None) -> None:
    """Forget one stored key, or all of them."""
    with _lock:
        if name is None:
            _store.clear()
        else:
            _store.pop(name, None)
