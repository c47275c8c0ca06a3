"""Amazon Bedrock API keys: checking the ones given, and minting short-term ones.

Two kinds exist (both are sent as ``Authorization: Bearer <key>``):

* long-term keys (``ABSK...``): opaque to reqbed, used as given;
* short-term keys: ``bedrock-api-key-`` followed by the base64 of a SigV4-presigned URL without
  its scheme, the format of AWS's ``aws-bedrock-token-generator`` libraries::

      bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256
        &X-Amz-Credential=<key id>/<yyyymmdd>/<region>/bedrock/aws4_request&X-Amz-Date=<yyyymmddThhmmssZ>
        &X-Amz-Expires=<seconds>&X-Amz-SignedHeaders=host[&X-Amz-Security-Token=<token>]
        &X-Amz-Signature=<hex>&Version=1

  so reqbed can read when the key expires and which region it works in (a short-term key is
  valid only in the region it was made for, for at most 12 hours, and never longer than the
  credentials that signed it). Before sending one, reqbed refuses an expired key
  (``CredentialsError``) and a key for another region than the call's (``ValidationError``; a
  call with no explicit region adopts the key's region instead), and logs a warning (logger
  ``"reqbed"``) when less than 5 minutes remain. Anything that does not decode is treated as an
  opaque key and sent as given.

Minting keys (``bedrock_api_key()`` / ``abedrock_api_key()``) lives in ``mint_key``, which needs the
credential chain; this module stays pure (no I/O, no chain import).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .._errors import CredentialsError, ValidationError
from .credentials_types import AwsCredentials, BearerToken
from .sigv4 import presign_url

__all__ = [
    "LONG_TERM_PREFIX",
    "MAX_EXPIRES_IN",
    "SHORT_TERM_PREFIX",
    "WARN_REMAINING",
    "ShortTermKeyInfo",
    "check_api_key",
    "decode_short_term_key",
    "make_short_term_key",
]

logger = logging.getLogger("reqbed")

SHORT_TERM_PREFIX = "bedrock-api-key-"
LONG_TERM_PREFIX = "ABSK"
#: The longest a short-term key can live (AWS's limit).
MAX_EXPIRES_IN = timedelta(hours=12)
#: Below this much remaining life, using a short-term key logs a warning.
WARN_REMAINING = timedelta(minutes=5)
_PRESIGN_URL = "https://bedrock.amazonaws.com/?Action=CallWithBearerToken"
_VERSION = "&Version=1"
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_STAMP = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_READ = frozenset({"Action", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires"})
_UTC = timezone.utc

_warned_lock = threading.Lock()
_warned: set[tuple[datetime, str]] = set()  # (expiry, region) of keys already warned about: no secrets


@dataclass(frozen=True)
class ShortTermKeyInfo:
    """What a short-term key says about itself (nothing secret)."""

    region: str
    issued_at: datetime
    expires_at: datetime

    def remaining(self, now: datetime) -> timedelta:
        return self.expires_at - now


def decode_short_term_key(key: str) -> ShortTermKeyInfo | None:
    """Read a short-term key's region and lifetime; None for a long-term, opaque or malformed key."""
    if not isinstance(key, str) or not key.startswith(SHORT_TERM_PREFIX):
        return None
    encoded = key[len(SHORT_TERM_PREFIX) :].strip()
    encoded += "=" * (-len(encoded) % 4)
    try:
        url = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    _, sep, query = url.partition("?")
    if not sep:
        return None
    params: dict[str, str] = {}
    for item in query.split("&"):  # only the three fields below are read; first occurrence wins
        name, _, value = item.partition("=")
        if name in _READ and name not in params:
            params[name] = value
    if params.get("Action") != "CallWithBearerToken":
        return None
    scope = params.get("X-Amz-Credential", "").replace("%2F", "/").replace("%2f", "/").split("/")
    if len(scope) != 5 or scope[3] != "bedrock" or scope[4] != "aws4_request" or not scope[2]:
        return None
    stamp, expires_s = params.get("X-Amz-Date", ""), params.get("X-Amz-Expires", "")
    if not (_STAMP.fullmatch(stamp) and expires_s.isdigit() and expires_s.isascii()):
        return None
    try:
        issued_at = datetime(
            int(stamp[0:4]),
            int(stamp[4:6]),
            int(stamp[6:8]),
            int(stamp[9:11]),
            int(stamp[11:13]),
            int(stamp[13:15]),
            tzinfo=_UTC,
        )
    except ValueError:
        return None
    expires = int(expires_s)
    if expires <= 0:
        return None
    return ShortTermKeyInfo(region=scope[2], issued_at=issued_at, expires_at=issued_at + timedelta(seconds=expires))


def check_api_key(token: BearerToken, *, region: str, region_explicit: bool, now: datetime) -> str | None:
    """Refuse an expired or wrong-region short-term key before it is sent; warn when it is nearly
    expired. Returns the key's region when the call should adopt it (no explicit region given)."""
    info = decode_short_term_key(token.token)
    if info is None:
        return None  # long-term or opaque: AWS is the judge
    where = f" (from {token.source})" if token.source else ""
    remaining = info.remaining(now)
    if remaining <= timedelta(0):
        raise CredentialsError(
            f"the short-term Bedrock API key{where} expired at {info.expires_at:%Y-%m-%d %H:%M:%S} UTC "
            f"({_span(-remaining)} ago); generate a new one (reqbed.bedrock_api_key() or the Bedrock console)"
        )
    if remaining < WARN_REMAINING:
        with _warned_lock:
            first = (info.expires_at, info.region) not in _warned
            if first:
                if len(_warned) > 256:
                    _warned.clear()
                _warned.add((info.expires_at, info.region))
        if first:
            logger.warning(
                "the short-term Bedrock API key%s expires in %s (at %s UTC); generate a new one soon",
                where,
                _span(remaining),
                f"{info.expires_at:%Y-%m-%d %H:%M:%S}",
            )
    if info.region != region:
        if region_explicit:
            raise ValidationError(
                f"the short-term Bedrock API key{where} was made for region {info.region!r}, but this call "
                f"goes to {region!r}; a short-term key works only in its own region",
                field="region",
            )
        return info.region
    return None


def _span(delta: timedelta) -> str:
    s = int(delta.total_seconds())
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


# The order botocore's SigV4QueryAuth writes the query in (so keys match AWS's generator byte for byte).
_QUERY_ORDER = {
    name: i
    for i, name in enumerate(
        (
            "Action",
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Security-Token",
            "X-Amz-Signature",
        )
    )
}


def make_short_term_key(credentials: AwsCredentials, region: str, expires_in: int, now: datetime) -> str:
    """A short-term key: presign ``POST https://bedrock.amazonaws.com/?Action=CallWithBearerToken``
    (service ``bedrock``), drop the scheme, append ``&Version=1``, base64, prefix. Pure; the same
    bytes as AWS's ``aws-bedrock-token-generator`` for the same credentials, region and time."""
    url = presign_url(
        "POST",
        _PRESIGN_URL,
        credentials=credentials,
        region=region,
        service="bedrock",
        now=now,
        expires_in=expires_in,
    )
    base, _, query = url.removeprefix("https://").partition("?")
    pairs = sorted(query.split("&"), key=lambda kv: _QUERY_ORDER.get(kv.partition("=")[0], len(_QUERY_ORDER)))
    body = f"{base}?{'&'.join(pairs)}{_VERSION}"
    return SHORT_TERM_PREFIX + base64.b64encode(body.encode()).decode()
