"""Credential value types. Their ``repr`` and ``str`` never show a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

__all__ = ["Auth", "AwsCredentials", "BearerToken", "mask"]


def mask(value: str | None) -> str:
    """A safe hint of a secret: its length only (``<redacted:40>``)."""
    return "None" if value is None else f"<redacted:{len(value)}>"


class AwsCredentials:
    """IAM credentials for SigV4. ``expiration`` is set for temporary credentials when known.

    ``source`` says where they came from (``provider_options``, ``put_key``, ``env``, ...).
    Immutable: the signing keys cached on the object can never outlive a changed secret.
    """

    __slots__ = (
        "_signing_keys",
        "access_key_id",
        "expiration",
        "secret_access_key",
        "session_token",
        "source",
    )
    kind: Literal["sigv4"] = "sigv4"
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expiration: datetime | None
    source: str
    _signing_keys: dict[tuple[str, str, str], bytes]

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        *,
        expiration: datetime | None = None,
        source: str = "",
    ) -> None:
        set_ = object.__setattr__
        set_(self, "access_key_id", access_key_id)
        set_(self, "secret_access_key", secret_access_key)
        set_(self, "session_token", session_token or None)
        set_(self, "expiration", expiration)
        set_(self, "source", source)
        # derived SigV4 signing keys, by (date, region, service); valid because the object is immutable
        set_(self, "_signing_keys", {})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"AwsCredentials is immutable; create a new one instead of setting {name!r}")

    def __repr__(self) -> str:
        key_hint = self.access_key_id[:4] + "…" if self.access_key_id else "''"
        return (
            f"AwsCredentials(access_key_id={key_hint}, secret_access_key={mask(self.secret_access_key)}, "
            f"session_token={mask(self.session_token)}, expiration={self.expiration!r}, "
            f"source={self.source!r})"
        )

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AwsCredentials):
            return NotImplemented
        return (
            self.access_key_id == other.access_key_id
            and self.secret_access_key == other.secret_access_key
            and self.session_token == other.session_token
        )

    __hash__ = None  # type: ignore[assignment]


class BearerToken:
    """A Bedrock API key, sent as ``Authorization: Bearer <key>``.

    Long-term keys start with ``ABSK``; short-term keys with ``bedrock-api-key-``.
    """

    __slots__ = ("source", "token")
    kind: Literal["bearer"] = "bearer"

    def __init__(self, token: str, *, source: str = "") -> None:
        self.token = token
        self.source = source

    def __repr__(self) -> str:
        return f"BearerToken(token={mask(self.token)}, source={self.source!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BearerToken):
            return NotImplemented
        return self.token == other.token

    __hash__ = None  # type: ignore[assignment]


Auth = AwsCredentials | BearerToken
