"""Which credentials, region and endpoint a call uses. Pure functions over options and environ.

``resolve_auth`` precedence (the first source that has anything wins; within one source a Bedrock
API key wins over access keys):

1. the call's ``provider_options`` (``api_key``; ``access_key_id`` + ``secret_access_key``
   [+ ``session_token``]);
2. the ``put_key`` store (``"aws_bedrock_api_key"``, then ``"aws_bedrock"``);
3. environment variables: ``AWS_BEARER_TOKEN_BEDROCK``; ``AWS_ACCESS_KEY_ID`` +
   ``AWS_SECRET_ACCESS_KEY`` [+ ``AWS_SESSION_TOKEN``];
4. botocore's default chain (profiles, SSO, container, instance metadata ...): not decided here;
   ``resolve_auth`` returns None and the caller runs the chain (``_credential_chain``).

Region: ``provider_options.region`` -> region inside an ARN model id -> ``put_key`` ->
``AWS_REGION`` -> ``AWS_DEFAULT_REGION`` -> ``us-east-1``. (The ARN's region wins over every
default because the resource only exists there.)

Endpoint: ``endpoint_url`` -> ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` -> ``AWS_ENDPOINT_URL`` ->
``https://bedrock-runtime.{region}.amazonaws.com``. Credentials never travel over plain
``http://`` except to a loopback host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from . import _keystore
from ._credentials_types import Auth, AwsCredentials, BearerToken
from ._errors import CredentialsError, ValidationError

__all__ = [
    "DEFAULT_REGION",
    "SOURCES",
    "no_credentials_error",
    "resolve_auth",
    "resolve_endpoint",
    "resolve_region",
]

DEFAULT_REGION = "us-east-1"

#: Every place ``resolve_auth`` and the default chain look, in order (for error messages and docs).
SOURCES = (
    "provider_options (api_key, or access_key_id + secret_access_key)",
    "reqbed.put_key('aws_bedrock_api_key' / 'aws_bedrock')",
    "env AWS_BEARER_TOKEN_BEDROCK",
    "env AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY",
    "botocore default chain (AWS_PROFILE / shared config and credentials files, SSO, "
    "credential_process, web identity, container and instance metadata)",
)


def _from_mapping(d: Mapping[str, Any], source: str) -> Auth | None:
    api_key = d.get("api_key")
    if api_key:
        return BearerToken(api_key, source=source)
    akid, secret = d.get("access_key_id"), d.get("secret_access_key")
    if akid and secret:
        return AwsCredentials(akid, secret, d.get("session_token"), source=source)
    if akid or secret:
        raise CredentialsError(f"{source}: access_key_id and secret_access_key must be given together")
    return None


def resolve_auth(provider_options: Mapping[str, Any], environ: Mapping[str, str]) -> Auth | None:
    """Sources 1-3 of the precedence above; None means "run the default chain"."""
    # 1. the call's provider_options
    auth = _from_mapping(provider_options, "provider_options")
    if auth is not None:
        return auth
    # 2. the put_key store
    api_key = _keystore.get_key("aws_bedrock_api_key")
    if api_key:
        return BearerToken(api_key, source="put_key")
    stored = _keystore.get_key("aws_bedrock")
    if stored:
        auth = _from_mapping(stored, "put_key")
        if auth is not None:
            return auth
    # 3. environment variables
    token = environ.get("AWS_BEARER_TOKEN_BEDROCK")
    if token:
        return BearerToken(token, source="env")
    akid, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if akid and secret:
        return AwsCredentials(akid, secret, environ.get("AWS_SESSION_TOKEN"), source="env")
    # 4. the default chain: the caller's job
    return None


def no_credentials_error(chain_detail: str | None = None) -> CredentialsError:
    """The error naming every place reqbed looked."""
    looked = "; ".join(f"{i}. {s}" for i, s in enumerate(SOURCES, 1))
    extra = f" ({chain_detail})" if chain_detail else ""
    return CredentialsError(f"no AWS credentials found; looked in: {looked}{extra}")


def resolve_region(provider_options: Mapping[str, Any], arn_region: str | None, environ: Mapping[str, str]) -> str:
    """The region precedence above (``profile`` regions are honoured by the chain)."""
    region = provider_options.get("region") or arn_region
    if not region:
        stored = _keystore.get_key("aws_bedrock")
        region = stored.get("region") if isinstance(stored, dict) else None
    region = region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    return str(region)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_endpoint(provider_options: Mapping[str, Any], region: str, environ: Mapping[str, str]) -> str:
    """The endpoint base URL (no trailing slash), validated."""
    url = (
        provider_options.get("endpoint_url")
        or environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
        or environ.get("AWS_ENDPOINT_URL")
        or f"https://bedrock-runtime.{region}.amazonaws.com"
    )
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"{url!r} is not an http(s) URL", field="provider_options.endpoint_url")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValidationError(
            f"refusing to send AWS credentials over plain http to {parts.hostname!r}; "
            "use https (plain http is allowed only for loopback hosts such as the local emulator)",
            field="provider_options.endpoint_url",
        )
    if parts.query or parts.fragment:
        raise ValidationError("must not carry a query or fragment", field="provider_options.endpoint_url")
    return url.rstrip("/")
