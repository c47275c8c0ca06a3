"""reqbed's SigV4 signer against independent oracles.

1. botocore's ``SigV4Auth.add_auth`` over a few hundred generated Bedrock requests;
2. AWS's published SigV4 test suite (``tests/aws_sigv4_suite/cases.json``);
3. botocore's ``SigV4QueryAuth`` for ``presign_url``;
4. the signing-key cache lives on the credentials object only;
5. ``AwsCredentials`` never shows its secrets.

Only AWS's documented example credentials appear here (``AKIDEXAMPLE`` / ``AKIAIOSFODNN7EXAMPLE``,
``wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY``).
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import random
import time
import types
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, quote, urlsplit

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from reqbed._aws import sigv4 as _sigv4
from reqbed._aws.credentials_types import AwsCredentials
from reqbed._aws.sigv4 import amz_date, presign_url, sign_headers

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ACCESS_KEYS = ("AKIDEXAMPLE", "AKIAIOSFODNN7EXAMPLE")
# AWS's documented example session token, and obviously fake ones with base64's "/+=".
DOC_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTfl"
    "fKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlR"
    "d8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3"
    "iSIlTJabIQwj2ICCR/oLxBA=="
)
TOKENS = (None, DOC_TOKEN, "EXAMPLE/session+token=", "FAKE-EXAMPLE-TOKEN-" + "x" * 300)
CLOCKS = (
    datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc),
    datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone.utc),
    datetime(2025, 12, 31, 0, 0, 0, tzinfo=timezone.utc),
)
REGIONS = ("us-east-1", "us-west-2", "eu-west-3", "eu-central-1", "ap-northeast-1", "ap-south-1", "ca-central-1")
MODEL_IDS = (
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "meta.llama3-2-1b-instruct-v1:0",
    "us.meta.llama3-2-1b-instruct-v1:0",
    "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "apac.amazon.nova-lite-v1:0",
    "global.anthropic.claude-sonnet-4-20250514-v1:0",
    "amazon.titan-text-express-v1",
    "mistral.mistral-large-2407-v1:0",
    "cohere.command-r-plus-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-1b-instruct-v1:0",
    "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    "arn:aws:bedrock:eu-west-3:123456789012:application-inference-profile/a1b2c3d4e5f6",
    "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefgh1234",
    "arn:aws:bedrock:us-east-1:123456789012:imported-model/k2lmn3op4qr5",
)
OPERATIONS = ("converse", "converse-stream", "invoke", "invoke-with-response-stream")
TEXTS = (
    "Hello, world",
    "héllo wörld — ça va? 你好，世界 🚀 ሴ",
    'quotes " and \\ backslashes\n\ttabs',
    "Ünïcödé " * 40,
    "",
)
OPTIONAL_HEADERS = (
    ("X-Amzn-Bedrock-Trace", ("ENABLED", "DISABLED", "ENABLED_FULL")),
    ("X-Amzn-Bedrock-GuardrailIdentifier", ("gr-abc123example", "arn:aws:bedrock:us-east-1:123456789012:guardrail/ab")),
    ("X-Amzn-Bedrock-GuardrailVersion", ("1", "DRAFT")),
    ("X-Amzn-Bedrock-PerformanceConfig-Latency", ("standard", "optimized")),
    ("x-amzn-bedrock-service-tier", ("priority", "flex")),
    ("X-Custom-Spaces", ("  a   b\tc  ",)),
    # Never signed (botocore's blacklist): tracers and proxies may rewrite them.
    ("traceparent", ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",)),
    ("User-Agent", ("reqbed/0 python-httpx",)),
    ("X-Amzn-Trace-Id", ("Root=1-5759e988-bd862e3fe1be46a994272793",)),
    # Stale values from a previous attempt: both signers drop and replace them.
    ("Authorization", ("AWS4-HMAC-SHA256 stale",)),
)

FIXED_SUITE = datetime(2015, 8, 30, 12, 36, 0, tzinfo=timezone.utc)
SUITE = json.loads((Path(__file__).parent / "aws_sigv4_suite" / "cases.json").read_text("utf-8"))


# --------------------------------------------------------------------------- helpers


def _creds(access_key: str = ACCESS_KEYS[0], token: str | None = None) -> AwsCredentials:
    return AwsCredentials(access_key, SECRET, token)


def _signature(authorization: str) -> str:
    sig = authorization.rpartition("Signature=")[2]
    assert len(sig) == 64
    return sig


def _botocore_at(now: datetime) -> Any:
    """Fix botocore's clock: botocore 1.43's ``SigV4Auth.add_auth`` (and ``SigV4QueryAuth``) call
    ``get_current_datetime()``, imported into ``botocore.auth`` from ``botocore.compat``, and
    expect a naive UTC datetime."""
    naive = now.astimezone(timezone.utc).replace(tzinfo=None)
    return mock.patch.object(botocore.auth, "get_current_datetime", return_value=naive)


def _botocore_sign(
    method: str, url: str, headers: dict[str, str], body: bytes, creds: AwsCredentials, region: str,
    now: datetime, service: str = "bedrock",
) -> AWSRequest:
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    bc = Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    with _botocore_at(now):
        SigV4Auth(bc, service, region).add_auth(req)
    return req


def _model_url(region: str, model_id: str, operation: str, *, host_style: int = 0) -> str:
    segment = quote(model_id, safe="")  # one path segment: ":" -> %3A, "/" -> %2F
    host = f"bedrock-runtime.{region}.amazonaws.com"
    if host_style == 1:
        host += ":443"  # an explicit default port is not part of the signed Host
    elif host_style == 2:
        host = f"vpce-0123456789abcdef-abcdefgh.bedrock-runtime.{region}.vpce.amazonaws.com"
    return f"https://{host}/model/{segment}/{operation}"


def _generate_cases(n: int) -> list[dict[str, Any]]:
    rng = random.Random(20240506)
    cases = []
    for i in range(n):
        region = REGIONS[i % len(REGIONS)]
        model_id = MODEL_IDS[i % len(MODEL_IDS)]
        operation = OPERATIONS[rng.randrange(len(OPERATIONS))]
        text = TEXTS[rng.randrange(len(TEXTS))]
        if i % 9 == 0:
            body = b""
        else:
            body = json.dumps(
                {
                    "messages": [{"role": "user", "content": [{"text": text}]}],
                    "inferenceConfig": {"maxTokens": rng.randrange(1, 4096), "temperature": 0.5},
                },
                ensure_ascii=False,
            ).encode()
        stream = "stream" in operation
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/vnd.amazon.eventstream" if stream else "application/json",
        }
        for name, values in OPTIONAL_HEADERS:
            if rng.random() < 0.3:
                headers[name] = values[rng.randrange(len(values))]
        if i % 17 == 0:
            headers["Host"] = f"bedrock-runtime.{region}.amazonaws.com"
        cases.append(
            {
                "id": f"{i:03d}-{region}-{operation}",
                "method": "POST",
                "url": _model_url(region, model_id, operation, host_style=i % 3 if i % 5 == 0 else 0),
                "headers": headers,
                "body": body,
                "region": region,
                "access_key": ACCESS_KEYS[i % 2],
                "token": TOKENS[i % len(TOKENS)],
                "now": CLOCKS[i % len(CLOCKS)],
            }
        )
    # A few GETs with a botocore-style (already canonically encoded) query string.
    for i, region in enumerate(REGIONS):
        q = {"maxResults": str(10 + i), "nextToken": "ab/cd+ef==:" + "é" * i, "statusEquals": "InProgress"}
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in q.items())
        cases.append(
            {
                "id": f"get-{region}",
                "method": "GET",
                "url": f"https://bedrock-runtime.{region}.amazonaws.com/async-invoke?{query}",
                "headers": {"Accept": "application/json"},
                "body": b"",
                "region": region,
                "access_key": ACCESS_KEYS[0],
                "token": TOKENS[i % len(TOKENS)],
                "now": CLOCKS[0],
            }
        )
    return cases


PARITY_CASES = _generate_cases(240)


# --------------------------------------------------------------------------- 1. botocore parity


def test_parity_corpus_covers_the_brief() -> None:
    assert len(PARITY_CASES) >= 200
    assert {c["region"] for c in PARITY_CASES} == set(REGIONS)
    assert sum(c["token"] is not None for c in PARITY_CASES) >= 100
    assert sum(c["token"] is None for c in PARITY_CASES) >= 50
    assert sum(c["body"] == b"" for c in PARITY_CASES) >= 20
    assert sum("%3Aaws%3Abedrock%3A" in c["url"] and "%2F" in c["url"] for c in PARITY_CASES) >= 50
    assert sum(any(ord(ch) > 127 for ch in c["body"].decode()) for c in PARITY_CASES) >= 50
    assert sum("X-Amzn-Bedrock-Trace" in c["headers"] for c in PARITY_CASES) >= 30
    assert sum("traceparent" in c["headers"] for c in PARITY_CASES) >= 30
    assert any(":443/" in c["url"] for c in PARITY_CASES)


def test_botocore_clock_patch_is_effective() -> None:
    # If botocore stopped reading its clock through botocore.auth.get_current_datetime the patch
    # would silently do nothing and every parity test would compare against the wall clock.
    req = _botocore_sign("POST", _model_url("us-east-1", MODEL_IDS[0], "converse"), {}, b"{}", _creds(),
                         "us-east-1", FIXED_SUITE)
    assert req.headers["X-Amz-Date"] == "20150830T123600Z"
    assert "Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request" in req.headers["Authorization"]


@pytest.mark.parametrize("case", PARITY_CASES, ids=[c["id"] for c in PARITY_CASES])
def test_sign_headers_matches_botocore(case: dict[str, Any]) -> None:
    creds = _creds(case["access_key"], case["token"])
    ours = sign_headers(
        case["method"], case["url"], case["headers"], case["body"],
        credentials=creds, region=case["region"], now=case["now"],
    )
    # X-Amz-Content-SHA256 from an independent hash, not from reqbed: botocore trusts the header.
    payload_hash = hashlib.sha256(case["body"]).hexdigest()
    assert ours["X-Amz-Content-SHA256"] == payload_hash
    theirs = _botocore_sign(
        case["method"], case["url"], {**case["headers"], "X-Amz-Content-SHA256": payload_hash},
        case["body"], creds, case["region"], case["now"],
    )
    assert ours["X-Amz-Date"] == theirs.headers["X-Amz-Date"] == amz_date(case["now"])
    assert ours.get("X-Amz-Security-Token") == theirs.headers.get("X-Amz-Security-Token") == case["token"]
    assert ours["Authorization"] == theirs.headers["Authorization"]
    assert _signature(ours["Authorization"]) == _signature(theirs.headers["Authorization"])
    expected = {"X-Amz-Date", "X-Amz-Content-SHA256", "Authorization"}
    assert set(ours) == expected | ({"X-Amz-Security-Token"} if case["token"] else set())


def test_parity_detects_a_difference() -> None:
    # The oracle is sensitive: one changed body byte or one extra signed header changes the signature.
    case = PARITY_CASES[1]
    creds = _creds(case["access_key"], case["token"])
    ours = sign_headers("POST", case["url"], case["headers"], case["body"] + b" ", credentials=creds,
                        region=case["region"], now=case["now"])
    theirs = _botocore_sign("POST", case["url"], {**case["headers"], "X-Amz-Content-SHA256":
                            hashlib.sha256(case["body"]).hexdigest()}, case["body"], creds,
                            case["region"], case["now"])
    assert _signature(ours["Authorization"]) != _signature(theirs.headers["Authorization"])
    extra = sign_headers("POST", case["url"], {**case["headers"], "X-Extra": "1"}, case["body"],
                         credentials=creds, region=case["region"], now=case["now"])
    assert "x-extra" in extra["Authorization"]
    assert _signature(extra["Authorization"]) != _signature(theirs.headers["Authorization"])


def test_hop_by_hop_and_tracing_headers_are_not_signed() -> None:
    # botocore.auth.SIGNED_HEADERS_BLACKLIST: a proxy or tracer may rewrite these in flight.
    names = set(botocore.auth.SIGNED_HEADERS_BLACKLIST)
    headers = {n.title(): "v" for n in names} | {"Content-Type": "application/json"}
    out = sign_headers("POST", _model_url("us-east-1", MODEL_IDS[0], "converse"), headers, b"{}",
                       credentials=_creds(), region="us-east-1", now=CLOCKS[0])
    signed = out["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert signed == ["content-type", "host", "x-amz-content-sha256", "x-amz-date"]


def test_signed_host_has_no_default_port_or_userinfo_and_is_lower_case() -> None:
    now = CLOCKS[0]
    base = _model_url("us-east-1", MODEL_IDS[10], "converse")
    variants = [
        base.replace(".com/", ".com:443/"),
        base.replace("bedrock-runtime", "Bedrock-Runtime"),
        base.replace("https://", "https://user@"),
    ]
    reference = sign_headers("POST", base, {}, b"{}", credentials=_creds(), region="us-east-1", now=now)
    for url in variants:
        ours = sign_headers("POST", url, {}, b"{}", credentials=_creds(), region="us-east-1", now=now)
        theirs = _botocore_sign("POST", url, {"X-Amz-Content-SHA256": hashlib.sha256(b"{}").hexdigest()},
                                b"{}", _creds(), "us-east-1", now)
        assert ours["Authorization"] == theirs.headers["Authorization"] == reference["Authorization"], url
    # A non-default port is part of the host.
    odd = sign_headers("POST", base.replace(".com/", ".com:8443/"), {}, b"{}", credentials=_creds(),
                       region="us-east-1", now=now)
    assert odd["Authorization"] != reference["Authorization"]


def test_model_id_path_is_encoded_once_more_like_botocore() -> None:
    _, creq, _ = _sigv4._sign("POST", _model_url("us-east-1", MODEL_IDS[10], "converse"), {}, b"",
                              _creds(), "us-east-1", "bedrock", CLOCKS[0])
    assert creq.split("\n")[1] == (
        "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-profile"
        "%252Fus.meta.llama3-2-1b-instruct-v1%253A0/converse"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/a%3Ab/converse",
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        "https://bedrock.amazonaws.com?Action=CallWithBearerToken",
        "https://bedrock.amazonaws.com/?Action=CallWithBearerToken&X=%2F#frag",
        "HTTPS://User:pw@Example.COM:8443/a/b?c=d/e?f",
        "http://[::1]:8080/p?q",
        "https://host/path#frag?not-query",
    ],
)
def test_url_splitter_agrees_with_urlsplit(url: str) -> None:
    p = urlsplit(url)
    assert _sigv4._split_url(url) == (p.scheme, p.netloc, p.path, p.query)


def test_amz_date_treats_naive_as_utc_and_converts_aware(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")  # a local zone that is not UTC
    time.tzset()
    try:
        assert amz_date(datetime(2024, 5, 6, 7, 8, 9)) == "20240506T070809Z"
        assert amz_date(datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)) == "20240506T070809Z"
        tokyo = timezone(timedelta(hours=9))
        assert amz_date(datetime(2024, 5, 6, 7, 8, 9, tzinfo=tokyo)) == "20240505T220809Z"
        assert amz_date(datetime(2024, 5, 6, 7, 8, 9, 999999, tzinfo=timezone.utc)) == "20240506T070809Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_sign_headers_accepts_multi_valued_httpx_headers() -> None:
    url = _model_url("us-west-2", MODEL_IDS[0], "converse")
    headers = httpx.Headers([("Accept", "application/json"), ("X-Multi", "a"), ("x-multi", "b  c")])
    ours = sign_headers("POST", url, headers, b"{}", credentials=_creds(), region="us-west-2", now=CLOCKS[0])
    req = AWSRequest(method="POST", url=url, data=b"{}",
                     headers={"X-Amz-Content-SHA256": hashlib.sha256(b"{}").hexdigest()})
    req.headers["Accept"] = "application/json"
    req.headers["X-Multi"] = "a"
    req.headers["x-multi"] = "b  c"  # HTTPHeaders keeps both values, like the wire
    with _botocore_at(CLOCKS[0]):
        SigV4Auth(Credentials(ACCESS_KEYS[0], SECRET), "bedrock", "us-west-2").add_auth(req)
    assert ours["Authorization"] == req.headers["Authorization"]


# --------------------------------------------------------------------------- 2. AWS test suite


def _parse_req(text: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    head, _, body = text.partition("\n\n")
    line, *header_lines = head.split("\n")
    method = line.split(" ", 1)[0]
    target = line[len(method) + 1 : line.rindex(" HTTP/")]
    headers = []
    for h in header_lines:
        name, _, value = h.partition(":")
        headers.append((name, value))
    return method, target, headers, body.encode()


def _suite_creds(case: dict[str, Any]) -> AwsCredentials:
    ctx = SUITE["context"]
    return AwsCredentials(ctx["access_key_id"], ctx["secret_access_key"], case.get("session_token"))


def _suite_sign(case: dict[str, Any], drop: tuple[str, ...] = ()) -> tuple[dict[str, str], str, str]:
    method, target, headers, body = _parse_req(case["req"])
    headers = [(n, v) for n, v in headers if n not in drop]
    host = next(v for n, v in headers if n.lower() == "host")
    ctx = SUITE["context"]
    return _sigv4._sign(
        method, f"https://{host}{target}", httpx.Headers(headers), body, _suite_creds(case),
        ctx["region"], ctx["service"], FIXED_SUITE, content_sha256_header=False,
    )


def _suite_key() -> bytes:
    # The signing key derived from the AWS documentation's recipe, independently of reqbed.
    ctx = SUITE["context"]
    key = ("AWS4" + ctx["secret_access_key"]).encode()
    for part in (ctx["date"][:8], ctx["region"], ctx["service"], "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


SUITE_CASES = SUITE["cases"]


def test_suite_data_is_what_the_brief_asks_for() -> None:
    names = {c["name"] for c in SUITE_CASES}
    for required in ("get-vanilla", "post-vanilla", "post-x-www-form-urlencoded",
                     "get-vanilla-query-order-key-case", "get-header-value-trim", "post-sts-header-before",
                     "get-utf8", "get-slashes", "get-relative-relative"):
        assert required in names
    assert all(c["source"] for c in SUITE_CASES + SUITE["content_sha256_cases"])
    assert FIXED_SUITE.strftime("%Y%m%dT%H%M%SZ") == SUITE["context"]["date"]


@pytest.mark.parametrize("case", SUITE_CASES, ids=[c["name"] for c in SUITE_CASES])
def test_suite_data_is_self_consistent(case: dict[str, Any]) -> None:
    # Guards the hand transcription: sts hashes creq, authz signs sts (AWS's own errata excepted).
    key = _suite_key()
    assert _signature(case["authz"]) == hmac.new(key, case["sts"].encode(), hashlib.sha256).hexdigest()
    if "erratum" not in case:
        assert case["sts"].split("\n")[-1] == hashlib.sha256(case["creq"].encode()).hexdigest()
        assert f"SignedHeaders={case['creq'].split(chr(10))[-2]}," in case["authz"]


@pytest.mark.parametrize("case", SUITE_CASES, ids=[c["name"] for c in SUITE_CASES])
def test_aws_sigv4_suite(case: dict[str, Any]) -> None:
    if "skip" in case:
        pytest.skip(case["skip"])
    added, creq, sts = _suite_sign(case)
    checks = case.get("check", ["creq", "sts", "authz"])
    assert creq == case["creq"]
    if "sts" in checks:
        assert sts == case["sts"]
    if "authz" in checks:
        assert added["Authorization"] == case["authz"]
        assert added["X-Amz-Date"] == SUITE["context"]["date"]
    if "sts_authz_without_headers" in case:
        added, _, sts = _suite_sign(case, drop=tuple(case["sts_authz_without_headers"]))
        assert sts == case["sts"]
        assert added["Authorization"] == case["authz"]
    if case.get("session_token"):
        assert added["X-Amz-Security-Token"] == case["session_token"]
    assert "X-Amz-Content-SHA256" not in added


@pytest.mark.parametrize("case", SUITE["content_sha256_cases"], ids=lambda c: c["name"])
def test_aws_suite_with_content_sha256_through_sign_headers(case: dict[str, Any]) -> None:
    method, target, headers, body = _parse_req(case["req"])
    host = next(v for n, v in headers if n.lower() == "host")
    ctx = SUITE["context"]
    added = sign_headers(method, f"https://{host}{target}", dict(headers), body, credentials=_suite_creds(case),
                         region=ctx["region"], service=ctx["service"], now=FIXED_SUITE)
    assert added["X-Amz-Content-SHA256"] == case["x_amz_content_sha256"]
    assert added["Authorization"] == case["authz"]


def test_sign_headers_is_the_suite_signer_plus_content_sha256() -> None:
    case = next(c for c in SUITE_CASES if c["name"] == "get-vanilla")
    method, target, headers, body = _parse_req(case["req"])
    url = "https://example.amazonaws.com" + target
    public = sign_headers(method, url, dict(headers), body, credentials=_suite_creds(case), region="us-east-1",
                          service="service", now=FIXED_SUITE)
    internal, _, _ = _sigv4._sign(method, url, dict(headers), body, _suite_creds(case), "us-east-1", "service",
                                  FIXED_SUITE)
    assert public == internal
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date," in public["Authorization"]


# --------------------------------------------------------------------------- 3. presign_url


def _botocore_presign(method: str, url: str, params: dict[str, str], creds: AwsCredentials, region: str,
                      service: str, now: datetime, expires: int) -> str:
    req = AWSRequest(method=method, url=url, params=params)
    bc = Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    with _botocore_at(now):
        SigV4QueryAuth(bc, service, region, expires=expires).add_auth(req)
    return str(req.url)


PRESIGN_CASES = [
    # (method, url, extra params, region, service, expires, token)
    ("POST", "https://bedrock.amazonaws.com/", {"Action": "CallWithBearerToken"}, "us-east-1", "bedrock", 43200, None),
    ("POST", "https://bedrock.amazonaws.com/", {"Action": "CallWithBearerToken"}, "eu-west-3", "bedrock", 43200,
     DOC_TOKEN),
    ("POST", "https://bedrock.amazonaws.com/", {"Action": "CallWithBearerToken"}, "ap-northeast-1", "bedrock", 900,
     "EXAMPLE/session+token="),
    ("GET", "https://bedrock.amazonaws.com/?Action=CallWithBearerToken", {}, "us-west-2", "bedrock", 3600, None),
    ("GET", "https://bedrock.amazonaws.com/?Action=CallWithBearerToken", {}, "us-west-2", "bedrock", 3600,
     DOC_TOKEN),
    ("GET", "https://Bedrock.amazonaws.com:443/?Action=CallWithBearerToken&Note=a%2Fb%20c", {}, "us-east-1",
     "bedrock", 60, None),
    ("GET", "https://example.amazonaws.com/some/path", {"Param": "va lue/ሴ"}, "us-east-1", "service", 86400,
     DOC_TOKEN),
]


@pytest.mark.parametrize("case", PRESIGN_CASES, ids=[f"{c[0]}-{c[3]}-{bool(c[6])}-{i}" for i, c in
                                                      enumerate(PRESIGN_CASES)])
def test_presign_url_matches_botocore(case: tuple[Any, ...]) -> None:
    method, url, params, region, service, expires, token = case
    creds = _creds(ACCESS_KEYS[1], token)
    now = CLOCKS[1]
    ours = presign_url(method, url, credentials=creds, region=region, service=service, now=now,
                       expires_in=expires, extra_query=list(params.items()))
    theirs = _botocore_presign(method, url, params, creds, region, service, now, expires)
    o, t = urlsplit(ours), urlsplit(theirs)
    assert (o.scheme, o.netloc, o.path or "/") == (t.scheme, t.netloc, t.path or "/")
    # Exact encoded pairs, then decoded pairs; only the order of the pairs may differ.
    assert sorted(o.query.split("&")) == sorted(t.query.split("&"))
    oq, tq = dict(parse_qsl(o.query, keep_blank_values=True)), dict(parse_qsl(t.query, keep_blank_values=True))
    assert sorted(parse_qsl(o.query)) == sorted(parse_qsl(t.query))
    assert oq["X-Amz-Signature"] == tq["X-Amz-Signature"]
    assert o.query.endswith("&X-Amz-Signature=" + tq["X-Amz-Signature"])
    assert oq.get("X-Amz-Security-Token") == token
    assert oq["X-Amz-Expires"] == str(expires)
    assert oq["X-Amz-Date"] == amz_date(now)


def test_presign_signature_depends_on_every_input() -> None:
    base = dict(credentials=_creds(), region="us-east-1", service="bedrock", now=CLOCKS[0], expires_in=900)
    url = "https://bedrock.amazonaws.com/"
    sig = presign_url("POST", url, **base).rpartition("=")[2]
    changes: list[dict[str, Any]] = [
        {"region": "us-west-2"}, {"service": "sts"}, {"now": CLOCKS[0] + timedelta(seconds=1)},
        {"expires_in": 901}, {"credentials": _creds(token="EXAMPLE")}, {"credentials": _creds(ACCESS_KEYS[1])},
    ]
    for change in changes:
        assert presign_url("POST", url, **(base | change)).rpartition("=")[2] != sig, change
    assert presign_url("GET", url, **base).rpartition("=")[2] != sig


# --------------------------------------------------------------------------- 4. signing-key cache


def _derived_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def test_signing_key_is_cached_on_the_credentials_object() -> None:
    creds = _creds()
    assert creds._signing_keys == {}
    url = _model_url("us-east-1", MODEL_IDS[0], "converse")
    first = sign_headers("POST", url, {}, b"{}", credentials=creds, region="us-east-1", now=CLOCKS[0])
    assert creds._signing_keys == {("20240506", "us-east-1", "bedrock"): _derived_key(SECRET, "20240506",
                                                                                      "us-east-1", "bedrock")}
    # The cached key is really what signs: poison it and the signature follows the poison.
    creds._signing_keys[("20240506", "us-east-1", "bedrock")] = b"\0" * 32
    poisoned = sign_headers("POST", url, {}, b"{}", credentials=creds, region="us-east-1", now=CLOCKS[0])
    assert _signature(poisoned["Authorization"]) != _signature(first["Authorization"])
    _, _, sts = _sigv4._sign("POST", url, {}, b"{}", creds, "us-east-1", "bedrock", CLOCKS[0])
    assert _signature(poisoned["Authorization"]) == hmac.new(b"\0" * 32, sts.encode(), hashlib.sha256).hexdigest()
    # A fresh object with the same secret does not share the cache.
    assert sign_headers("POST", url, {}, b"{}", credentials=_creds(), region="us-east-1",
                        now=CLOCKS[0]) == first


def test_changed_date_or_region_gives_a_new_key_and_signature() -> None:
    creds = _creds()
    url = _model_url("us-east-1", MODEL_IDS[0], "converse")
    day1 = datetime(2024, 5, 6, 23, 59, 59, tzinfo=timezone.utc)
    sigs = {
        _signature(sign_headers("POST", url, {}, b"{}", credentials=creds, region=r, now=t)["Authorization"])
        for r, t in [("us-east-1", day1), ("us-east-1", day1 + timedelta(seconds=1)), ("us-west-2", day1)]
    }
    assert len(sigs) == 3
    assert set(creds._signing_keys) == {
        ("20240506", "us-east-1", "bedrock"), ("20240507", "us-east-1", "bedrock"),
        ("20240506", "us-west-2", "bedrock"),
    }
    for (date, region, service), key in creds._signing_keys.items():
        assert key == _derived_key(SECRET, date, region, service)


def test_signing_key_cache_is_bounded() -> None:
    creds = _creds()
    url = _model_url("us-east-1", MODEL_IDS[0], "converse")
    for day in range(40):
        sign_headers("POST", url, {}, b"", credentials=creds, region="us-east-1",
                     now=CLOCKS[0] + timedelta(days=day))
    assert 1 <= len(creds._signing_keys) <= 9


def _walk(obj: object, seen: set[int]) -> Iterator[object]:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    yield obj
    if callable(obj) and hasattr(obj, "cache_info"):  # an lru_cache would hold its arguments
        raise AssertionError(f"{obj!r} is a cache")
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(k, seen)
            yield from _walk(v, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            yield from _walk(v, seen)
    elif isinstance(obj, types.FunctionType):
        yield from _walk(obj.__defaults__ or (), seen)
        yield from _walk(obj.__kwdefaults__ or {}, seen)
        for cell in obj.__closure__ or ():
            yield from _walk(cell.cell_contents, seen)


def test_no_module_level_structure_holds_a_secret() -> None:
    # A secret unique to this test (same text as the example, a distinct object) and a token.
    secret = "".join(["wJalrXUtnFEMI/K7MDENG+", "bPxRfiCYEXAMPLEKEY"])
    token = "".join(["EXAMPLE-", "only-in-this-test"])
    creds = AwsCredentials(ACCESS_KEYS[0], secret, token)
    url = _model_url("eu-west-3", MODEL_IDS[12], "converse")
    sign_headers("POST", url, {"Accept": "application/json"}, b"{}", credentials=creds, region="eu-west-3",
                 now=CLOCKS[0])
    presign_url("POST", "https://bedrock.amazonaws.com/", credentials=creds, region="eu-west-3",
                service="bedrock", now=CLOCKS[0], expires_in=60, extra_query=[("Action", "CallWithBearerToken")])
    keys = list(creds._signing_keys.values())
    assert keys

    for obj in _walk(vars(_sigv4), set()):
        if isinstance(obj, str):
            assert secret not in obj
            assert token not in obj
        if isinstance(obj, bytes):
            assert obj not in keys
            assert secret.encode() not in obj

    # Whatever the garbage collector can see holding the derived key or the secret is the
    # credentials object or its own cache (gc may not track a dict of atoms, hence "subset").
    for key in keys:
        holders = [r for r in gc.get_referrers(key) if not isinstance(r, types.FrameType) and r is not keys]
        assert all(h is creds._signing_keys for h in holders), holders
    holders = [r for r in gc.get_referrers(secret) if not isinstance(r, types.FrameType)]
    assert all(h is creds for h in holders), holders


# --------------------------------------------------------------------------- 5. repr / str


@pytest.mark.parametrize("token", [None, DOC_TOKEN, "EXAMPLE/session+token="])
def test_credentials_repr_and_str_hide_secrets(token: str | None) -> None:
    creds = AwsCredentials(ACCESS_KEYS[1], SECRET, token, source="test")
    sign_headers("POST", _model_url("us-east-1", MODEL_IDS[0], "converse"), {}, b"{}", credentials=creds,
                 region="us-east-1", now=CLOCKS[0])  # with a cached key, too
    texts = [repr(creds), str(creds), f"{creds}", f"{creds!r}", repr([creds]), str({"c": creds}), repr((creds,))]
    for text in texts:
        assert SECRET not in text
        for i in range(0, len(SECRET) - 8):
            assert SECRET[i : i + 8] not in text
        if token:
            assert token not in text
            assert token[:12] not in text
        assert "<redacted:40>" in text


def test_repeated_url_signs_as_botocore_for_each_body_date_and_token() -> None:
    """The canonical parts cached per (method, URL, headers) never leak one request's date, body
    hash or session token into the next: each signature still equals botocore's."""
    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.amazon.nova-pro-v1%3A0/converse"
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    cases = [
        (b'{"a": 1}', datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc), "token-one"),
        (b'{"b": 22}', datetime(2024, 5, 6, 7, 8, 10, tzinfo=timezone.utc), "token-two"),
        (b"", datetime(2024, 5, 7, 0, 0, 0, tzinfo=timezone.utc), None),
        (b'{"a": 1}', datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc), "token-one"),
    ]
    for body, now, token in cases:
        creds = AwsCredentials("AKIDEXAMPLE", "secret", token)
        ours = sign_headers("POST", url, headers, body, credentials=creds, region="us-east-1", now=now)
        sent = {**headers, "X-Amz-Content-SHA256": ours["X-Amz-Content-SHA256"]}
        req = AWSRequest(method="POST", url=url, headers=sent, data=body)
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now.replace(tzinfo=None)):
            SigV4Auth(Credentials("AKIDEXAMPLE", "secret", token), "bedrock", "us-east-1").add_auth(req)
        assert ours["Authorization"] == req.headers["Authorization"]
        assert ours.get("X-Amz-Security-Token") == token
