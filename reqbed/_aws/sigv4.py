"""AWS Signature Version 4, as a pure function of (request, credentials, region, clock). No I/O.

``sign_headers`` returns the headers to add to a request (``Authorization``, ``X-Amz-Date``,
``X-Amz-Content-SHA256`` and, with a session token, ``X-Amz-Security-Token``). ``presign_url``
signs a URL's query string (used to mint short-term Bedrock API keys).

Both follow botocore's ``SigV4Auth`` / ``SigV4QueryAuth`` (the reference every AWS service
accepts); ``tests/aws/test_sigv4.py`` checks them against botocore and AWS's published test suite.

* Canonical URI: as botocore for every service but S3, the request's already percent-encoded
  path has dot segments and empty segments removed and is then encoded once more
  (``%3A`` -> ``%253A``). Model ids reach the URL as one encoded segment (see
  ``ModelSpec.path_segment``), so ARNs with ``/`` sign and route correctly.
* Canonical query: each name and value is percent-decoded and re-encoded with the SigV4
  unreserved set, then the pairs are sorted. For a query that is already canonically encoded
  (all botocore and reqbed ever build) this is exactly botocore's result; for anything else it is
  what the service computes from what it receives (``?ሴ=bar`` signs as ``%E1%88%B4=bar``).
* Host: the URL's host, lower-cased, without userinfo or a default port, unless ``headers``
  carry a ``Host``.
* Hop-by-hop and tracing headers that proxies or tracers may rewrite (``traceparent``,
  ``transfer-encoding``, ...) are never signed, as in botocore.
* ``now`` may be aware (any zone) or naive; a naive ``now`` is taken to be UTC, as in botocore.

The derived signing key is cached on the ``AwsCredentials`` object itself, keyed by
(date, region, service): no module-level cache ever holds a secret, as a key or a value.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from hashlib import sha256
from urllib.parse import parse_qsl, quote, unquote

from .credentials_types import AwsCredentials

__all__ = ["ALGORITHM", "amz_date", "presign_url", "sign_headers"]

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# botocore.auth.SIGNED_HEADERS_BLACKLIST (hop-by-hop and tracing headers) plus Authorization.
_UNSIGNED = frozenset(
    {
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
# Headers the signer itself sets: stale copies in the caller's headers are dropped.
_SKIP = _UNSIGNED | {"x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}
_DEFAULT_PORT = {"https": ":443", "http": ":80"}
# A path made only of these needs nothing from ``quote(path, safe="/~")`` but ``%`` -> ``%25``.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/%]*")
_UTC = timezone.utc
# HMAC pads (RFC 2104): byte translation tables, as in the stdlib's pure-Python ``hmac``.
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def amz_date(now: datetime) -> str:
    """``YYYYMMDD'T'HHMMSS'Z'`` in UTC (a naive ``now`` is taken to be UTC already)."""
    tz = now.tzinfo
    if tz is not None and tz is not _UTC:
        now = now.astimezone(_UTC)
    # %-formatting: twice as fast as strftime or an f-string with format specs.
    return "%04d%02d%02dT%02d%02d%02dZ" % (  # noqa: UP031
        now.year,
        now.month,
        now.day,
        now.hour,
        now.minute,
        now.second,
    )


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


def _hmac_hex(key: bytes, msg: bytes) -> str:
    """HMAC-SHA256 of ``msg`` as hex. The signature's one HMAC is computed from two plain SHA-256
    calls: ``hmac.digest`` spends longer setting up OpenSSL's HMAC than hashing ~200 bytes."""
    if len(key) > 64:
        key = sha256(key).digest()
    k = key.ljust(64, b"\0")
    return sha256(k.translate(_OPAD) + sha256(k.translate(_IPAD) + msg).digest()).hexdigest()


def _split_url(url: str) -> tuple[str, str, str, str]:
    """``(scheme, netloc, path, query)`` of an absolute URL; a cheap ``urlsplit``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not an absolute URL: {url!r}")
    if "#" in rest:
        rest = rest.partition("#")[0]
    end = len(rest)
    for ch in "/?":
        i = rest.find(ch, 0, end)
        if i >= 0:
            end = i
    netloc = rest[:end]
    path, _, query = rest[end:].partition("?")
    return scheme.lower(), netloc, path, query


def _host(scheme: str, netloc: str) -> str:
    """The ``Host`` botocore signs: no userinfo, lower case, no default port."""
    host = netloc.rpartition("@")[2].lower()
    port = _DEFAULT_PORT.get(scheme)
    if port is not None and host.endswith(port):
        host = host[: -len(port)]
    return host


def _remove_dot_segments(path: str) -> str:
    # botocore.utils.remove_dot_segments: RFC 3986 5.2.4, plus AWS's removal of empty segments.
    out: list[str] = []
    for seg in path.split("/"):
        if seg and seg != ".":
            if seg == "..":
                if out:
                    out.pop()
            else:
                out.append(seg)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and out else ""
    return first + "/".join(out) + last


def _canonical_uri(path: str) -> str:
    if not path:
        return "/"
    if "//" in path or "/." in path or path[0] != "/":
        path = _remove_dot_segments(path)
    if _PLAIN_PATH.fullmatch(path):
        return path.replace("%", "%25")
    return quote(path, safe="/~")


def _encode_sorted(pairs: Iterable[tuple[str, str]]) -> str:
    enc = sorted((quote(n, safe="-_.~"), quote(v, safe="-_.~")) for n, v in pairs)
    return "&".join([f"{n}={v}" for n, v in enc])


def _canonical_query(query: str) -> str:
    """Canonical form of a URL's (percent-encoded) query string."""
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        name, _, value = item.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return _encode_sorted(pairs)


def _sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
    content_sha256_header: bool = True,
) -> tuple[dict[str, str], str, str]:
    """``sign_headers`` plus the canonical request and string to sign (for tests and debugging).

    ``content_sha256_header=False`` leaves out ``X-Amz-Content-SHA256`` (AWS's test suite and
    botocore do not send it for non-S3 services); reqbed always sends it.
    """
    multi = getattr(headers, "multi_items", None)  # httpx.Headers: one pair per header line
    pairs = tuple(multi() if multi is not None else headers.items())
    token = credentials.session_token
    key = (method, url, pairs, content_sha256_header, bool(token))
    template = _TEMPLATES.get(key)
    if template is None:
        template = _template(method, url, pairs, content_sha256_header, bool(token))
        if len(_TEMPLATES) >= _TEMPLATES_MAX:
            _TEMPLATES.clear()
        _TEMPLATES[key] = template
    head, after_hash, after_date, tail, signed = template
    stamp = amz_date(now)
    date = stamp[:8]
    payload_hash = sha256(body).hexdigest()
    # Only what changes per request is computed: the date, the body's hash, the token's line.
    parts = [head, payload_hash, after_hash, stamp, after_date] if content_sha256_header else [head, stamp, after_date]
    if token:
        parts.append(" ".join(token.split()))
    parts.append(tail)
    parts.append(payload_hash)
    canonical_request = "".join(parts)
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{sha256(canonical_request.encode()).hexdigest()}"
    signature = _hmac_hex(_signing_key(credentials, date, region, service), string_to_sign.encode())
    added = {"X-Amz-Date": stamp}
    if content_sha256_header:
        added["X-Amz-Content-SHA256"] = payload_hash
    if token:
        added["X-Amz-Security-Token"] = token
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    return added, canonical_request, string_to_sign


# The canonical request's parts that repeat for one (method, URL, headers): built once. Keys and
# values hold no secret: the headers signed never include ``Authorization`` or the session token
# (``_SKIP``), whose line is filled in per request. Bounded: cleared when full.
_Template = tuple[str, str, str, str, str]
_TEMPLATES: dict[tuple[str, str, tuple[tuple[str, str], ...], bool, bool], _Template] = {}
_TEMPLATES_MAX = 256
# Placeholders for the per-request values: a header line always holds ``:`` and the URI and query
# are percent-encoded, so no other part of the canonical request can contain one.
_HASH, _DATE, _TOKEN = "\n\0hash\n", "\n\0date\n", "\n\0token\n"


def _template(
    method: str, url: str, pairs: tuple[tuple[str, str], ...], content_sha256: bool, token: bool
) -> _Template:
    """``(head, after_hash, after_date, tail, signed headers)``: the canonical request is
    ``head + hash + after_hash + date + after_date [+ token] + tail + hash`` (without the
    content-hash header: ``head + date + after_date [+ token] + tail + hash``)."""
    scheme, netloc, path, query = _split_url(url)
    items: dict[str, str] = {}
    for name, value in pairs:
        lname = name.lower()
        if lname in _SKIP:
            continue
        v = " ".join(str(value).split())
        items[lname] = f"{items[lname]},{v}" if lname in items else v
    if "host" not in items:
        items["host"] = _host(scheme, netloc)
    items["x-amz-date"] = _DATE
    if content_sha256:
        items["x-amz-content-sha256"] = _HASH
    if token:
        items["x-amz-security-token"] = _TOKEN
    names = sorted(items)
    signed = ";".join(names)
    text = "\n".join(
        (
            method.upper(),
            _canonical_uri(path),
            _canonical_query(query),
            "".join([f"{n}:{items[n]}\n" for n in names]),
            signed,
            "",
        )
    )
    # Sorted, the three always come in this order: x-amz-content-sha256 < x-amz-date < x-amz-security-token.
    if content_sha256:
        head, _, rest = text.partition(_HASH)
        after_hash, _, rest = rest.partition(_DATE)
    else:
        head, _, rest = text.partition(_DATE)
        after_hash = ""
    if token:
        after_date, _, tail = rest.partition(_TOKEN)
    else:
        after_date, tail = rest, ""
    return head, after_hash, after_date, tail, signed


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
    stale ``Authorization`` / ``X-Amz-*`` entries in them are ignored and replaced. Repeated
    headers in an ``httpx.Headers`` sign as SigV4 wants, as one ``a,b`` value (not httpx's ``a, b``).
    """
    return _sign(method, url, headers, body, credentials, region, service, now)[0]


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

    As botocore's ``SigV4QueryAuth``: only ``host`` is signed, the payload is the (empty) body's
    hash, and the URL's own query is decoded (form rules) and re-encoded with ``extra_query``
    (raw, unencoded pairs). The returned query is in canonical (sorted) order.
    """
    scheme, netloc, path, query = _split_url(url)
    stamp = amz_date(now)
    date = stamp[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    params: list[tuple[str, str]] = parse_qsl(query, keep_blank_values=True) if query else []
    params.extend(extra_query)
    params += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key_id}/{scope}"),
        ("X-Amz-Date", stamp),
        ("X-Amz-Expires", str(int(expires_in))),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if credentials.session_token:
        params.append(("X-Amz-Security-Token", credentials.session_token))
    cq = _encode_sorted(params)
    canonical_request = "\n".join(
        (
            method.upper(),
            _canonical_uri(path),
            cq,
            f"host:{_host(scheme, netloc)}\n",
            "host",
            EMPTY_SHA256,
        )
    )
    string_to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{sha256(canonical_request.encode()).hexdigest()}"
    signature = _hmac_hex(_signing_key(credentials, date, region, service), string_to_sign.encode())
    return f"{scheme}://{netloc}{path or '/'}?{cq}&X-Amz-Signature={signature}"
