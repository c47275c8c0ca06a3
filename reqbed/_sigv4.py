"""AWS Signature Version 4, as a pure function of (request, credentials, region, clock). No I/O.

``sign_headers`` returns the headers to add to a request (``Authorization``, ``X-Amz-Date``,
``X-Amz-Content-SHA256`` and, with a session token, ``X-Amz-Security-Token``). ``presign_url``
signs a URL's query string (used to mint short-term Bedrock API keys).

The canonical URI follows botocore for every service but S3: the request's already
percent-encoded path is encoded once more (``%3A`` -> ``%253A``). Model ids reach the URL as one
encoded segment (see ``ModelSpec.path_segment``), so ARNs with ``/`` sign and route correctly.

The derived signing key is cached on the ``AwsCredentials`` object itself, keyed by
(date, region, service): no module-level cache ever holds a secret, as a key or a value.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

from ._credentials_types import AwsCredentials

__all__ = ["ALGORITHM", "amz_date", "presign_url", "sign_headers"]

ALGORITHM = "AWS4-HMAC-SHA256"
_UNSIGNED = frozenset({"authorization", "user-agent", "expect", "x-amzn-trace-id", "connection"})


def amz_date(now: datetime) -> str:
    """``YYYYMMDD'T'HHMMSS'Z'`` in UTC."""
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _signing_key(creds: AwsCredentials, date: str, region: str, service: str) -> bytes:
    cache = creds._signing_keys
    k = (date, region, service)
    key = cache.get(k)
    if key is None:
        key = hmac.digest(("AWS4" + creds.secret_access_key).encode(), date.encode(), "sha256")
        key = hmac.digest(key, region.encode(), "sha256")
        key = hmac.digest(key, service.encode(), "sha256")
        key = hmac.digest(key, b"aws4_request", "sha256")
        if len(cache) > 8:  # one day's key per region is all that is ever live
            cache.clear()
        cache[k] = key
    return key


def _canonical_uri(path: str) -> str:
    if not path:
        return "/"
    # botocore: quote(normalize_url_path(path), safe="/~"); reqbed never emits dot segments
    # or double slashes, so normalisation is the identity for its URLs.
    return quote(path, safe="/~")


def _canonical_query(query: str | Iterable[tuple[str, str]]) -> str:
    if isinstance(query, str):
        if not query:
            return ""
        pairs = []
        for item in query.split("&"):
            name, _, value = item.partition("=")
            pairs.append((name, value))
        # Already-encoded query from a URL: decode-free, just sort (botocore does the same).
        return "&".join(f"{n}={v}" for n, v in sorted(pairs))
    enc = sorted((quote(n, safe="-_.~"), quote(v, safe="-_.~")) for n, v in query)
    return "&".join(f"{n}={v}" for n, v in enc)


def _canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    items: dict[str, str] = {}
    for name, value in headers.items():
        lname = name.lower()
        if lname in _UNSIGNED:
            continue
        v = " ".join(str(value).split())
        items[lname] = f"{items[lname]},{v}" if lname in items else v
    names = sorted(items)
    canonical = "".join(f"{n}:{items[n]}\n" for n in names)
    return canonical, ";".join(names)


def sign_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: AwsCredentials,
    region: str,
    service: str = "bedrock",
    now: datetime,
) -> dict[str, str]:
    """Return the SigV4 headers for this request, signed at ``now``.

    ``headers`` are the headers that will be sent (``Host`` is taken from the URL when absent);
    stale ``Authorization`` / ``X-Amz-*`` entries in them are ignored and replaced.
    """
    parts = urlsplit(url)
    stamp = amz_date(now)
    date = stamp[:8]
    payload_hash = hashlib.sha256(body).hexdigest()
    to_sign: dict[str, str] = {}
    for k, v in headers.items():
        lk = k.lower()
        if lk in ("x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "authorization"):
            continue
        to_sign[lk] = v
    if "host" not in to_sign:
        to_sign["host"] = parts.netloc
    added = {"X-Amz-Date": stamp, "X-Amz-Content-SHA256": payload_hash}
    if credentials.session_token:
        added["X-Amz-Security-Token"] = credentials.session_token
    for k, v in added.items():
        to_sign[k.lower()] = v
    canonical_headers, signed = _canonical_headers(to_sign)
    canonical_request = "\n".join(
        (
            method.upper(),
            _canonical_uri(parts.path),
            _canonical_query(parts.query),
            canonical_headers,
            signed,
            payload_hash,
        )
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        (ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    signature = hmac.new(
        _signing_key(credentials, date, region, service), string_to_sign.encode(), "sha256"
    ).hexdigest()
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return added


def presign_url(
    method: str,
    url: str,
    *,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
    expires_in: int,
    extra_query: Iterable[tuple[str, str]] = (),
) -> str:
    """Return ``url`` with a SigV4 query-string signature (``X-Amz-Signature`` last).

    Only the ``host`` header is signed and the payload is ``UNSIGNED-PAYLOAD``, as botocore's
    ``SigV4QueryAuth`` does.
    """
    parts = urlsplit(url)
    stamp = amz_date(now)
    date = stamp[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    query: list[tuple[str, str]] = list(extra_query)
    if parts.query:
        for item in parts.query.split("&"):
            n, _, v = item.partition("=")
            query.append((n, v))
    query += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key_id}/{scope}"),
        ("X-Amz-Date", stamp),
        ("X-Amz-Expires", str(int(expires_in))),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if credentials.session_token:
        query.append(("X-Amz-Security-Token", credentials.session_token))
    cq = _canonical_query(query)
    canonical_request = "\n".join(
        (method.upper(), _canonical_uri(parts.path), cq, f"host:{parts.netloc}\n", "host",
         "UNSIGNED-PAYLOAD")
    )
    string_to_sign = "\n".join(
        (ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    signature = hmac.new(
        _signing_key(credentials, date, region, service), string_to_sign.encode(), "sha256"
    ).hexdigest()
    path = parts.path or "/"
    return f"{parts.scheme}://{parts.netloc}{path}?{cq}&X-Amz-Signature={signature}"
