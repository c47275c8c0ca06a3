"""How the emulator checks a Bedrock API key sent as ``Authorization: Bearer``, as AWS does.

A long-term key (``ABSK...``) passes when the emulator was given it. A short-term key
(``bedrock-api-key-`` + base64 of a SigV4-presigned URL, ``reqbed._aws.api_keys``) passes when the
presigned URL, made again with the secret (and session token) of the access key that signed it,
matches byte for byte, it has not expired, and it was made for the emulator's region.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Collection
from datetime import datetime

from .._aws.api_keys import SHORT_TERM_PREFIX, decode_short_term_key, make_short_term_key
from .._aws.credentials_types import AwsCredentials
from ._sigv4_check import SignatureProblem

__all__ = ["check_api_key"]

#: access key id -> (secret, session token or None), or None when the emulator does not know it.
SecretOf = Callable[[str], "tuple[str, str | None] | None"]


def check_api_key(key: str, *, long_term: Collection[str], secret_of: SecretOf, region: str, now: datetime) -> None:
    """Pass, or raise ``SignatureProblem`` with AWS's status, code and message."""
    if key in long_term:
        return
    info = decode_short_term_key(key)
    if info is None:
        raise SignatureProblem(
            "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix"
        )
    akid = _signer_of(key)
    secret = secret_of(akid) if akid else None
    if akid is None or secret is None:
        raise SignatureProblem("UnrecognizedClientException", "The security token included in the request is invalid.")
    expires_in = int((info.expires_at - info.issued_at).total_seconds())
    expected = make_short_term_key(AwsCredentials(akid, secret[0], secret[1]), info.region, expires_in, info.issued_at)
    if not hmac.compare_digest(expected.encode(), key.encode()):
        raise SignatureProblem(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    if now >= info.expires_at:
        raise SignatureProblem("ExpiredTokenException", "The security token included in the request is expired")
    if info.region != region:
        raise SignatureProblem(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{info.region}'. This endpoint serves '{region}'.",
        )


def _signer_of(key: str) -> str | None:
    """The access key id that signed a short-term key (from its ``X-Amz-Credential``)."""
    encoded = key[len(SHORT_TERM_PREFIX) :].strip()
    try:
        url = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    for item in url.partition("?")[2].split("&"):
        name, _, value = item.partition("=")
        if name == "X-Amz-Credential":
            return value.replace("%2F", "/").replace("%2f", "/").split("/")[0] or None
    return None
