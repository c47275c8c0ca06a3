"""Minting short-term Bedrock API keys from IAM credentials (``reqbed.bedrock_api_key``).

The key format itself (pure) is in ``api_keys``; this module adds credential resolution, which may
run botocore's default chain.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .._errors import CredentialsError, ValidationError
from . import clock as _clock
from .api_keys import _REGION, MAX_EXPIRES_IN, make_short_term_key
from .credentials import DEFAULT_REGION, explicit_region
from .credentials_types import AwsCredentials

__all__ = ["abedrock_api_key", "bedrock_api_key"]


def _coerce_credentials(credentials: Any) -> AwsCredentials:
    if isinstance(credentials, AwsCredentials):
        return credentials
    if isinstance(credentials, Mapping):
        unknown = set(credentials) - {"access_key_id", "secret_access_key", "session_token", "expiration"}
        if unknown:
            raise ValidationError(f"unknown fields {sorted(unknown)}", field="credentials")
        akid, secret = credentials.get("access_key_id"), credentials.get("secret_access_key")
        if not (isinstance(akid, str) and akid and isinstance(secret, str) and secret):
            raise ValidationError("needs access_key_id and secret_access_key", field="credentials")
        token = credentials.get("session_token")
        exp = credentials.get("expiration")
        if exp is not None and not isinstance(exp, datetime):
            raise ValidationError("expiration must be a datetime", field="credentials")
        return AwsCredentials(akid, secret, token, expiration=exp, source="credentials")
    frozen = getattr(credentials, "get_frozen_credentials", None)  # botocore Credentials
    if callable(frozen):
        f = frozen()
        exp = getattr(credentials, "_expiry_time", None)
        return AwsCredentials(
            f.access_key, f.secret_key, f.token, expiration=exp if isinstance(exp, datetime) else None
        )
    raise ValidationError(
        f"must be reqbed.AwsCredentials, a dict or botocore credentials, got {type(credentials).__name__}",
        field="credentials",
    )


def _expires_seconds(expires_in: timedelta | int | float, credentials: AwsCredentials, now: datetime) -> int:
    if isinstance(expires_in, bool) or not isinstance(expires_in, (timedelta, int, float)):
        raise ValidationError("must be a timedelta or a number of seconds", field="expires_in")
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else float(expires_in)
    if not 1 <= seconds <= MAX_EXPIRES_IN.total_seconds():
        raise ValidationError("must be between 1 second and 12 hours", field="expires_in")
    if credentials.expiration is not None:
        left = (credentials.expiration - now).total_seconds()
        if left < 1:
            raise CredentialsError(f"the credentials from {credentials.source or 'the caller'} have expired")
        seconds = min(seconds, left)  # the key cannot outlive the credentials that signed it
    return int(seconds)


def _check_region(region: str) -> None:
    if not _REGION.fullmatch(region):
        raise ValidationError(f"{region!r} is not an AWS region name", field="region")


def bedrock_api_key(
    credentials: Any = None,
    *,
    region: str | None = None,
    expires_in: timedelta | int = MAX_EXPIRES_IN,
    profile: str | None = None,
) -> str:
    """Mint a short-term Bedrock API key (``bedrock-api-key-...``) from IAM credentials.

    ``credentials``: ``reqbed.AwsCredentials``, a dict (``access_key_id``, ``secret_access_key``,
    ``session_token``) or botocore credentials; None resolves them like a call does (``put_key``,
    environment, then botocore's default chain with ``profile``). ``region`` defaults like a
    call's region. The key lives ``expires_in`` (at most 12 hours, and never past the
    credentials' own expiry). No network I/O unless the default chain needs it.
    """
    from .credential_chain import resolve_iam_sync

    now = _clock.SYSTEM_CLOCK.now()
    if credentials is None:
        creds, chain_region = resolve_iam_sync(profile)
    else:
        creds, chain_region = _coerce_credentials(credentials), None
    region = region or _default_region(chain_region)
    _check_region(region)
    return make_short_term_key(creds, region, _expires_seconds(expires_in, creds, now), now)


async def abedrock_api_key(
    credentials: Any = None,
    *,
    region: str | None = None,
    expires_in: timedelta | int = MAX_EXPIRES_IN,
    profile: str | None = None,
) -> str:
    """Async ``bedrock_api_key`` (the default chain runs without blocking the event loop)."""
    from .credential_chain import resolve_iam_async

    if credentials is None:
        creds, chain_region = await resolve_iam_async(profile)
    else:
        creds, chain_region = _coerce_credentials(credentials), None
    now = _clock.SYSTEM_CLOCK.now()
    region = region or _default_region(chain_region)
    _check_region(region)
    return make_short_term_key(creds, region, _expires_seconds(expires_in, creds, now), now)


def _default_region(chain_region: str | None) -> str:
    """The region a call without options would use: put_key, env, the profile's, us-east-1."""
    return explicit_region({}, None, os.environ) or chain_region or DEFAULT_REGION
