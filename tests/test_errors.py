"""The exception tree and ``map_api_error``.

The expected mapping is written from AWS's Bedrock Runtime API reference (each operation's
"Errors" section: exception name and HTTP status) and from how AWS's JSON protocols carry the
code: the ``x-amzn-ErrorType`` header (``Name:http://internal.amazon.com/...``), the body's
``__type`` (``com.amazon.coral.service#Name``), and event-stream exception frames whose
``:exception-type`` is camelCase (``throttlingException``).
"""

from __future__ import annotations

import builtins
import pickle
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reqbed
from reqbed import _errors
from reqbed._errors import map_api_error

# exception name -> (HTTP status in AWS's reference, reqbed class)
AWS_ERRORS: dict[str, tuple[int, type[reqbed.APIError]]] = {
    "ThrottlingException": (429, reqbed.ThrottlingError),
    "ServiceQuotaExceededException": (400, reqbed.ThrottlingError),
    "ModelNotReadyException": (429, reqbed.ModelNotReadyError),
    "ModelTimeoutException": (408, reqbed.ModelTimeoutError),
    "ModelErrorException": (424, reqbed.ServerError),
    "ModelStreamErrorException": (424, reqbed.ModelStreamError),
    "ValidationException": (400, reqbed.BadRequestError),
    "AccessDeniedException": (403, reqbed.AccessDeniedError),
    "ResourceNotFoundException": (404, reqbed.ResourceNotFoundError),
    "InternalServerException": (500, reqbed.ServerError),
    "ServiceUnavailableException": (503, reqbed.ServiceUnavailableError),
    "UnrecognizedClientException": (403, reqbed.AuthenticationError),
    "InvalidSignatureException": (403, reqbed.AuthenticationError),
    "ExpiredTokenException": (403, reqbed.AuthenticationError),
    "IncompleteSignatureException": (403, reqbed.AuthenticationError),
    "MissingAuthenticationTokenException": (403, reqbed.AuthenticationError),
}
CORAL = "http://internal.amazon.com/coral/com.amazon.coral.service/"


def _camel(name: str) -> str:
    return name[0].lower() + name[1:]


def _forms(name: str) -> list[tuple[str, dict[str, str], bytes, str | None]]:
    """Every way AWS spells one error code: (form, headers, body, code argument)."""
    msg = b'"message": "something went wrong"'
    return [
        ("header+url", {"x-amzn-ErrorType": f"{name}:{CORAL}"}, b"{" + msg + b"}", None),
        ("header plain", {"X-Amzn-Errortype": name}, b"{" + msg + b"}", None),
        ("body coral __type", {}, b'{"__type": "com.amazon.coral.service#' + name.encode() + b'", ' + msg + b"}", None),
        ("body plain __type", {}, b'{"__type": "' + name.encode() + b'", ' + msg + b"}", None),
        ("stream camelCase", {}, b"{" + msg + b"}", _camel(name)),
        ("stream PascalCase", {}, b"{" + msg + b"}", name),
    ]


TABLE = [
    pytest.param(name, status, cls, *form[1:], id=f"{name}-{form[0]}")
    for name, (status, cls) in AWS_ERRORS.items()
    for form in _forms(name)
]


@pytest.mark.parametrize(("name", "status", "cls", "headers", "body", "code"), TABLE)
def test_every_code_in_every_form(
    name: str, status: int, cls: type[reqbed.APIError], headers: dict[str, str], body: bytes, code: str | None
) -> None:
    for st_ in (status, None) if code else (status,):  # stream frames carry no HTTP status of their own
        err = map_api_error(st_, headers, body, code=code)
        assert type(err) is cls
        assert err.code == name
        assert err.status == st_
        assert err.aws_message == "something went wrong"
        assert name in str(err)
        assert "something went wrong" in str(err)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, reqbed.BadRequestError),
        (401, reqbed.AuthenticationError),
        (403, reqbed.AccessDeniedError),
        (404, reqbed.ResourceNotFoundError),
        (408, reqbed.ModelTimeoutError),
        (424, reqbed.ServerError),
        (429, reqbed.ThrottlingError),
        (500, reqbed.ServerError),
        (502, reqbed.ServerError),
        (503, reqbed.ServiceUnavailableError),
        (504, reqbed.ServerError),
        (409, reqbed.APIError),
        (418, reqbed.APIError),
    ],
)
def test_status_alone(status: int, cls: type[reqbed.APIError]) -> None:
    err = map_api_error(status, {}, b"")
    assert type(err) is cls
    assert (err.status, err.code, err.aws_message) == (status, None, None)
    assert f"HTTP {status}" in str(err)


def test_precedence_code_argument_then_header_then_body_then_status() -> None:
    both = {"x-amzn-ErrorType": "ThrottlingException:" + CORAL}
    body = b'{"__type": "com.amazon.coral.validate#ValidationException", "message": "m"}'
    assert type(map_api_error(400, both, body)) is reqbed.ThrottlingError
    assert type(map_api_error(400, {}, body)) is reqbed.BadRequestError
    assert type(map_api_error(400, both, body, code="modelTimeoutException")) is reqbed.ModelTimeoutError
    # an empty header does not hide the body's code
    assert type(map_api_error(400, {"x-amzn-ErrorType": ""}, b'{"__type": "ThrottlingException"}')) is (
        reqbed.ThrottlingError
    )
    # a code reqbed does not know falls back to the status, and is still reported
    err = map_api_error(400, {"x-amzn-ErrorType": "BrandNewException:" + CORAL}, b"{}")
    assert (type(err), err.code) == (reqbed.BadRequestError, "BrandNewException")
    assert type(map_api_error(None, {}, b"{}", code="brandNewException")) is reqbed.APIError


@pytest.mark.parametrize(
    "message",
    [
        "Signature expired: 20251117T063822Z is now earlier than 20251117T063849Z (20251117T064349Z - 5 min.)",
        "Signature not yet current: 20251117T070000Z is still later than 20251117T064849Z (20251117T064349Z + 5 min.)",
        "Request time too skewed",
    ],
)
@pytest.mark.parametrize("status", [400, 403])
def test_clock_skew_messages_are_signature_expired(message: str, status: int) -> None:
    headers = {"x-amzn-ErrorType": "InvalidSignatureException:" + CORAL, "x-amzn-RequestId": "req-1"}
    err = map_api_error(status, headers, b'{"message": "' + message.encode() + b'"}')
    assert type(err) is reqbed.SignatureExpiredError
    assert isinstance(err, reqbed.AuthenticationError)
    assert (err.status, err.code, err.aws_message, err.request_id) == (
        status,
        "InvalidSignatureException",
        message,
        "req-1",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("0", 0.0),
        ("-1", 0.0),
        (" 7 ", 7.0),
        ("soon", None),
        ("", None),
        ("inf", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
    ],
)
@pytest.mark.parametrize("header", ["Retry-After", "retry-after", "RETRY-AFTER"])
def test_retry_after(header: str, value: str, expected: float | None) -> None:
    assert map_api_error(429, {header: value}, b"{}").retry_after == expected


def test_retry_after_absent() -> None:
    assert map_api_error(429, {}, b"{}").retry_after is None


@pytest.mark.parametrize("header", ["x-amzn-RequestId", "X-Amzn-RequestId", "x-amzn-requestid", "x-amz-request-id"])
def test_request_id(header: str) -> None:
    err = map_api_error(500, {header: "7d243dfd-6f43-4621-8425-7192436c60c1"}, b"{}")
    assert err.request_id == "7d243dfd-6f43-4621-8425-7192436c60c1"
    assert "[request id 7d243dfd-6f43-4621-8425-7192436c60c1]" in str(err)


@pytest.mark.parametrize(
    ("body", "aws_message"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "<html><body>502 Bad Gateway</body></html>"),
        (b"upstream connect error", "upstream connect error"),
        (b"", None),
        (b"   ", None),
        (b"null", None),
        (b"[1, 2]", None),
        (b'"just a string"', None),
        (b'{"message": 5, "__type": 7}', None),
        (b'{"Message": "capitalized"}', "capitalized"),
        (b'{"errorMessage": "lambda-style"}', "lambda-style"),
        (b"\xff\xfe\x00 not utf-8", "\ufffd\ufffd\x00 not utf-8"),
        ('{"message": "caf\u00e9"}'.encode("latin-1"), '{"message": "caf\ufffd"}'),
        (b"x" * 5000, "x" * 300),
    ],
)
def test_non_json_and_odd_bodies(body: bytes, aws_message: str | None) -> None:
    err = map_api_error(502, {}, body)
    assert type(err) is reqbed.ServerError
    assert err.aws_message == aws_message
    assert err.status == 502


def test_model_stream_error_original_fields() -> None:
    body = b'{"message": "model failed", "originalStatusCode": 500, "originalMessage": "CUDA out of memory"}'
    err = map_api_error(None, {}, body, code="modelStreamErrorException")
    assert type(err) is reqbed.ModelStreamError
    assert (err.original_status_code, err.original_message, err.aws_message) == (
        500,
        "CUDA out of memory",
        "model failed",
    )
    assert err.status is None
    odd = map_api_error(
        None, {}, b'{"originalStatusCode": true, "originalMessage": 5}', code="modelStreamErrorException"
    )
    assert (odd.original_status_code, odd.original_message) == (None, None)  # type: ignore[attr-defined]
    assert map_api_error(424, {}, b"\xff", code="modelStreamErrorException").original_status_code is None  # type: ignore[attr-defined]


status_st = st.none() | st.integers(100, 599)
headers_st = st.dictionaries(
    st.sampled_from(["x-amzn-ErrorType", "Retry-After", "x-amzn-RequestId", "content-type"]) | st.text(max_size=8),
    st.text(max_size=40),
    max_size=4,
)


@given(
    status_st,
    headers_st,
    st.binary(max_size=200) | st.builds(str.encode, st.text(max_size=100)),
    st.none() | st.text(max_size=30),
)
def test_map_api_error_never_raises(status: int | None, headers: dict[str, str], body: bytes, code: str | None) -> None:
    err = map_api_error(status, headers, body, code=code)
    assert isinstance(err, reqbed.APIError)
    assert isinstance(str(err), str)
    assert err.status == status


# -- the tree ------------------------------------------------------------------------------------

ERROR_NAMES = [n for n in _errors.__all__ if n != "map_api_error"]


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_every_class_is_public(name: str) -> None:
    assert getattr(reqbed, name) is getattr(_errors, name)
    assert name in reqbed.__all__
    assert issubclass(getattr(reqbed, name), reqbed.ReqbedError)


def _docstring_tree() -> dict[str, str | None]:
    """child -> parent, read from the box drawing in ``reqbed._errors``'s docstring."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (_errors.__doc__ or "").splitlines():
        m = re.match(r"^([\s│├└─]*)([A-Z][A-Za-z]+Error)\b", line)
        if not m:
            continue
        depth = len(m[1])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[m[2]] = stack[-1][1] if stack else None
        stack.append((depth, m[2]))
    return parents


def test_tree_matches_the_docstring() -> None:
    tree = _docstring_tree()
    assert set(tree) == set(ERROR_NAMES)
    for child, parent in tree.items():
        cls = getattr(reqbed, child)
        ours = [b for b in cls.__bases__ if issubclass(b, reqbed.ReqbedError)]
        if parent is None:
            assert ours == []
        else:
            assert ours == [getattr(reqbed, parent)], (child, parent)


def test_tree_shape() -> None:
    e = reqbed
    assert issubclass(e.SignatureExpiredError, e.AuthenticationError)
    assert issubclass(e.AuthenticationError, e.APIError)
    api = (e.AccessDeniedError, e.BadRequestError, e.ResourceNotFoundError, e.ThrottlingError, e.ModelNotReadyError)
    for cls in (*api, e.ModelTimeoutError, e.ModelStreamError, e.ServiceUnavailableError, e.ServerError):
        assert issubclass(cls, e.APIError)
        assert not issubclass(cls, e.AuthenticationError)
    for cls in (e.ValidationError, e.CredentialsError, e.APIConnectionError, e.RequestTimeoutError, e.EventStreamError):
        assert issubclass(cls, e.ReqbedError)
        assert not issubclass(cls, e.APIError)
    assert issubclass(e.ValidationError, ValueError)
    # reqbed's connection error / timeout are its own, not the builtins (OSError subclasses)
    assert e.APIConnectionError is not builtins.ConnectionError
    assert not issubclass(e.APIConnectionError, OSError)
    assert not issubclass(e.RequestTimeoutError, OSError)


@pytest.mark.parametrize(
    "err",
    [
        reqbed.ValidationError("bad", field="temperature"),
        map_api_error(429, {"x-amzn-RequestId": "r", "Retry-After": "2"}, b'{"message": "slow down"}'),
        map_api_error(None, {}, b'{"message": "m", "originalStatusCode": 500}', code="modelStreamErrorException"),
        reqbed.CredentialsError("none found"),
    ],
    ids=type,
)
def test_errors_pickle_with_their_attributes(err: Any) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert vars(back) == vars(err)
    assert str(back) == str(err)


def test_validation_error_field_and_repr() -> None:
    err = reqbed.ValidationError("must be between 0 and 1", field="top_p")
    assert (err.field, str(err), err.message) == ("top_p", "top_p: must be between 0 and 1", str(err))
    assert repr(err) == "ValidationError('top_p: must be between 0 and 1')"
    assert reqbed.ValidationError("plain").field is None
