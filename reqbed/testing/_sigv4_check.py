"""Server-side SigV4 verification for the emulator, written from the received bytes.

It recomputes the signature from what arrived on the wire (the raw path, the headers the client
listed in ``SignedHeaders``, the body) the way AWS does, so it accepts any correct client
(botocore's signer included) and rejects reqbed if reqbed signs something other than what it sends.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import quote

__all__ = ["SignatureProblem", "verify"]

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?Signature=(?P<sig>[0-9a-f]{64})$"
)


class SignatureProblem(Exception):
    """Why a request's signature was refused: ``code`` is AWS's error type."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def verify(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Mapping[str, tuple[str, str | None]],
    now: datetime,
    max_skew_seconds: int = 300,
    service: str = "bedrock",
) -> tuple[str, str]:
    """Verify; return (access key id, region). ``secrets`` maps key id -> (secret, session token)."""
    auth = headers.get("authorization", "")
    m = _AUTH_RE.match(auth)
    if not m:
        raise SignatureProblem("IncompleteSignatureException", "Authorization header is not a SigV4 header", 400)
    akid = m["akid"]
    if akid not in secrets:
        raise SignatureProblem("UnrecognizedClientException", "The security token included in the request is invalid.")
    secret, token = secrets[akid]
    if token is not None and headers.get("x-amz-security-token") != token:
        raise SignatureProblem("UnrecognizedClientException", "The security token included in the request is invalid.")
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureProblem("IncompleteSignatureException", "X-Amz-Date is missing or malformed", 400) from None
    delta = (now - signed_at).total_seconds()
    fmt = "%Y%m%dT%H%M%SZ"
    if delta > max_skew_seconds:
        earliest = datetime.fromtimestamp(now.timestamp() - max_skew_seconds, timezone.utc)
        raise SignatureProblem(
            "InvalidSignatureException",
            f"Signature expired: {stamp} is now earlier than {earliest.strftime(fmt)} ({now.strftime(fmt)} - 5 min.)",
        )
    if delta < -max_skew_seconds:
        latest = datetime.fromtimestamp(now.timestamp() + max_skew_seconds, timezone.utc)
        raise SignatureProblem(
            "InvalidSignatureException",
            f"Signature not yet current: {stamp} is still later than {latest.strftime(fmt)} "
            f"({now.strftime(fmt)} + 5 min.)",
        )
    if m["date"] != stamp[:8]:
        raise SignatureProblem("InvalidSignatureException", "Credential date does not match X-Amz-Date")
    signed = m["signed"].split(";")
    if "host" not in signed:
        raise SignatureProblem("InvalidSignatureException", "'Host' must be a signed header")
    canonical_headers = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
    payload_hash = hashlib.sha256(body).hexdigest()
    claimed = headers.get("x-amz-content-sha256")
    if claimed is not None and claimed != payload_hash:
        raise SignatureProblem("InvalidSignatureException", "X-Amz-Content-SHA256 does not match the body", 400)
    query = "&".join(sorted(raw_query.split("&"))) if raw_query else ""
    canonical = "\n".join((method, quote(raw_path, safe="/~"), query, canonical_headers, m["signed"], payload_hash))
    scope = f"{m['date']}/{m['region']}/{m['service']}/aws4_request"
    to_sign = "\n".join(("AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    key = _hmac(("AWS4" + secret).encode(), m["date"])
    for part in (m["region"], m["service"], "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, m["sig"]):
        raise SignatureProblem(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )
    if m["service"] != service:
        raise SignatureProblem("InvalidSignatureException", f"Credential should be scoped to service '{service}'")
    return akid, m["region"]
