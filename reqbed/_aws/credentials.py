"""Which credentials, region and endpoint a call uses. Pure functions over options and environ.

``resolve_auth`` precedence (the first source that has anything wins; within one source a Bedrock
API key wins over access keys):

1. the call's ``provider_options`` (``api_key``; ``access_key_id`` + ``secret_access_key``
   [+ ``session_token``]);
2. the ``put_key`` store (``"aws_bedrock_api_key"``, then ``"aws_bedrock"``);
3. environment variables: ``AWS_BEARER_TOKEN_BEDROCK``; ``AWS_ACCESS_KEY_ID`` +
   ``AWS_SECRET_ACCESS_KEY`` [+ ``AWS_SESSION_TOKEN``, ``AWS_CREDENTIAL_EXPIRATION``];
4. botocore's default chain (profiles, SSO, container, instance metadata ...): not decided here;
   ``resolve_auth`` returns None and the caller runs the chain (``_credential_chain``).

An explicit ``provider_options.profile`` skips 2 and 3 (as botocore skips environment keys when
a profile is named explicitly). With ``provider_options.role_arn`` the call's credentials come
from STS AssumeRole (``_sts``): ``resolve_auth`` returns None and sources 1-4, IAM keys only
(``resolve_iam``), provide the credentials that call AssumeRole.

Region: ``provider_options.region`` -> region inside an ARN model id -> ``put_key`` ->
``AWS_REGION`` -> ``AWS_DEFAULT_REGION`` -> the profile's region (reported by the default chain,
when it runs) -> ``us-east-1``. (The ARN's region wins over every default because the resource
only exists there.) ``explicit_region`` is this list without the last two steps.

Endpoint: ``endpoint_url`` -> ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` -> ``AWS_ENDPOINT_URL`` ->
``https://bedrock-runtime.{region}.amazonaws.com``. Credentials never travel over plain
``http://`` except to a loopback host.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._errors import CredentialsError, ValidationError
from . import keystore as _keystore
from .credentials_types import Auth, AwsCredentials, BearerToken
from .secret import shown

__all__ = [
    "DEFAULT_REGION",
    "SOURCES",
    "check_endpoint_text",
    "explicit_region",
    "is_loopback",
    "no_credentials_error",
    "resolve_auth",
    "resolve_endpoint",
    "resolve_iam",
    "resolve_region",
]

DEFAULT_REGION = "us-east-1"
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")

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
    """Sources 1-3 of the precedence above; None means "run the default chain" (or AssumeRole)."""
    if provider_options.get("role_arn"):
        return None  # the credentials come from STS; see resolve_iam for the source credentials
    # 1. the call's provider_options
    auth = _from_mapping(provider_options, "provider_options")
    if auth is not None:
        return auth
    if provider_options.get("profile"):
        return None  # an explicit profile: straight to the default chain
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
    return _env_keys(environ)  # None: 4. the default chain is the caller's job


def _env_keys(environ: Mapping[str, str]) -> AwsCredentials | None:
    akid, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if not (akid and secret):
        return None
    expiration = None
    raw = environ.get("AWS_CREDENTIAL_EXPIRATION")
    if raw:
        from .clock import parse_iso8601

        expiration = parse_iso8601(raw)
        if expiration is None:
            raise CredentialsError(f"AWS_CREDENTIAL_EXPIRATION={raw!r} is not an ISO 8601 time")
    return AwsCredentials(akid, secret, environ.get("AWS_SESSION_TOKEN"), expiration=expiration, source="env")


def resolve_iam(provider_options: Mapping[str, Any], environ: Mapping[str, str]) -> AwsCredentials | None:
    """IAM access keys from sources 1-3 (Bedrock API keys skipped): what signs STS AssumeRole or
    mints a short-term API key. ``provider_options`` may not pair ``role_arn`` with ``api_key``."""
    if provider_options.get("role_arn") and provider_options.get("api_key"):
        raise ValidationError(
            "role_arn needs IAM credentials to call STS AssumeRole; it cannot be combined with api_key",
            field="provider_options.role_arn",
        )
    akid, secret = provider_options.get("access_key_id"), provider_options.get("secret_access_key")
    if akid or secret:
        auth = _from_mapping({k: v for k, v in provider_options.items() if k != "api_key"}, "provider_options")
        assert isinstance(auth, AwsCredentials)
        return auth
    if provider_options.get("profile"):
        return None
    stored = _keystore.get_key("aws_bedrock")
    if isinstance(stored, dict) and stored.get("access_key_id"):
        return AwsCredentials(
            stored["access_key_id"], stored["secret_access_key"], stored.get("session_token"), source="put_key"
        )
    return _env_keys(environ)


def no_credentials_error(chain_detail: str | None = None) -> CredentialsError:
    """The error naming every place reqbed looked."""
    looked = "; ".join(f"{i}. {s}" for i, s in enumerate(SOURCES, 1))
    extra = f" ({chain_detail})" if chain_detail else ""
    return CredentialsError(f"no AWS credentials found; looked in: {looked}{extra}")


def explicit_region(
    provider_options: Mapping[str, Any], arn_region: str | None, environ: Mapping[str, str]
) -> str | None:
    """The region if one was given (options, ARN, ``put_key``, env); None means "use a default"."""
    region = provider_options.get("region") or arn_region
    if not region:
        stored = _keystore.get_key("aws_bedrock")
        region = stored.get("region") if isinstance(stored, dict) else None
    region = region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    return str(region) if region else None


def resolve_region(provider_options: Mapping[str, Any], arn_region: str | None, environ: Mapping[str, str]) -> str:
    """The region precedence above (``profile`` regions are honoured by the chain)."""
    return explicit_region(provider_options, arn_region, environ) or DEFAULT_REGION


def is_loopback(host: str) -> bool:
    """localhost, *.localhost or a loopback address: the only hosts credentials may reach over http."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_endpoint(provider_options: Mapping[str, Any], region: str, environ: Mapping[str, str]) -> str:
    """The endpoint base URL (no trailing slash), validated. Errors name where the URL came from."""
    url, field = f"https://bedrock-runtime.{region}.amazonaws.com", "region"
    for name, value in (
        ("provider_options.endpoint_url", provider_options.get("endpoint_url")),
        ("env AWS_ENDPOINT_URL_BEDROCK_RUNTIME", environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")),
        ("env AWS_ENDPOINT_URL", environ.get("AWS_ENDPOINT_URL")),
    ):
        if value:
            url, field = value, name
            break
    else:
        # The region (possibly from the environment or put_key) becomes part of the host name.
        if not _REGION_RE.fullmatch(region):
            raise ValidationError(f"{shown(region)} is not an AWS region name", field="region")
    check_endpoint_text(url, field)
    # With an endpoint_url the region only enters the signature's scope, but it still must be a name.
    if not _REGION_TOKEN.fullmatch(region):
        raise ValidationError(
            f"{shown(region)} is not a region name (from provider_options.region, put_key, AWS_REGION "
            "or AWS_DEFAULT_REGION)",
            field="region",
        )
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        raise ValidationError(f"has an invalid port (host part {_shown_host(parts.netloc)})", field=field) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"is not an http(s) URL (scheme {shown(parts.scheme)})", field=field)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValidationError(
            f"refusing to send AWS credentials over plain http to {parts.hostname!r}; "
            "use https (plain http is allowed only for loopback hosts such as the local emulator)",
            field=field,
        )
    if parts.query or parts.fragment:
        raise ValidationError("must not carry a query or fragment", field=field)
    return url.rstrip("/")


def _shown_host(netloc: str) -> str:
    return repr(netloc) if re.fullmatch(r"[a-z0-9.:\[\]_-]{0,100}", netloc) else shown(netloc)


#: What a region may look like when an ``endpoint_url`` is given (any name a signing scope can hold).
_REGION_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_endpoint_text(url: str, field: str) -> None:
    """Before parsing: no whitespace or control characters (``urlsplit`` silently drops CR/LF/TAB;
    httpx would raise ``InvalidURL``) and no ``user:password@`` (it would be shown in connection
    errors). Neither error echoes the URL, which may hold the password."""
    if not (url.isascii() and url.isprintable()) or url != url.strip() or " " in url:
        raise ValidationError(
            "contains whitespace, a control character or a non-ASCII character (a stray newline?)", field=field
        )
    if "@" in url:  # anywhere: a password holding "/" would end the host part early
        raise ValidationError(
            "must not carry user information (user:password@host); reqbed authenticates with AWS credentials",
            field=field,
        )
