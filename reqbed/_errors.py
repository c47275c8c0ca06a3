"""reqbed's exception tree: every error reqbed raises is one of these.

    ReqbedError                      base; ``str()`` never contains a secret
    ├── ValidationError              bad input, raised before any I/O; ``.field`` names it
    ├── CredentialsError             no usable credentials, or an expired one
    ├── APIConnectionError           could not reach the endpoint
    ├── RequestTimeoutError          reqbed's own connect/read/deadline timeout
    ├── EventStreamError             a corrupt or truncated binary event stream
    ├── ObjectGenerationError        the model answered but no valid object came out (``.text``, ``.errors``)
    └── APIError                     AWS answered with an error (``.status``, ``.code``, ``.request_id``)
        ├── AuthenticationError      401/403 UnrecognizedClient, invalid token or key
        │   └── SignatureExpiredError    403 "Signature expired" / clock skew (``.skew``)
        ├── AccessDeniedError        403 AccessDeniedException
        ├── BadRequestError          400 ValidationException from AWS
        ├── ResourceNotFoundError    404
        ├── ThrottlingError          429 / ThrottlingException / ServiceQuotaExceeded
        ├── ModelNotReadyError       429 ModelNotReadyException
        ├── ModelTimeoutError        408 ModelTimeoutException (Bedrock's, not reqbed's timeout)
        ├── ModelStreamError         ModelStreamErrorException in a stream, bad streamed tool JSON
        ├── ServiceUnavailableError  503
        └── ServerError              other 5xx

``map_api_error`` is the one place an AWS answer (HTTP status, ``x-amzn-ErrorType`` header,
``__type`` / ``message`` body fields, or an event-stream exception frame) becomes one of these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = [
    "APIConnectionError",
    "APIError",
    "AccessDeniedError",
    "AuthenticationError",
    "BadRequestError",
    "CredentialsError",
    "EventStreamError",
    "ModelNotReadyError",
    "ModelStreamError",
    "ModelTimeoutError",
    "ObjectGenerationError",
    "ReqbedError",
    "RequestTimeoutError",
    "ResourceNotFoundError",
    "ServerError",
    "ServiceUnavailableError",
    "SignatureExpiredError",
    "ThrottlingError",
    "ValidationError",
    "map_api_error",
]


class ReqbedError(Exception):
    """Base class of every reqbed error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ValidationError(ReqbedError, ValueError):
    """Bad input, found before any request left the process. ``field`` names the culprit."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class CredentialsError(ReqbedError):
    """No usable credentials were found, or the ones found cannot be used (expired, malformed)."""


class APIConnectionError(ReqbedError):
    """The endpoint could not be reached (DNS, refused, reset, TLS).

    Named so that it does not shadow the builtin ``ConnectionError``; ``reqbed.ConnectionError``
    remains as a deprecated alias of this class (the same object).
    """


#: The deprecated name (reqbed 0.1), the same class; kept out of ``__all__``.
ConnectionError = APIConnectionError


class RequestTimeoutError(ReqbedError):
    """reqbed's own timeout (connect, read, or the call's deadline) ran out."""


class EventStreamError(ReqbedError):
    """The binary event stream was corrupt (bad CRC, bad lengths) or ended mid-frame."""


class ObjectGenerationError(ReqbedError):
    """The model answered, but no valid object came out of the answer.

    Not JSON, a schema mismatch, a refusal, an answer cut off by ``max_tokens``, or the tool not
    called. ``text`` is the raw answer (or the tool call's arguments as JSON), ``response`` the
    ``Response`` it came from (None when there was none), ``errors`` the validation errors, the
    first failing path first (``$.age: expected int, got str``); the message names that first one.
    """

    def __init__(self, message: str, *, text: str, response: Any = None, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.text = text
        self.response = response
        self.errors = list(errors or [])


class APIError(ReqbedError):
    """AWS answered with an error.

    Attributes: ``status`` (HTTP status, or the original status for stream errors), ``code``
    (AWS's error code, e.g. ``ThrottlingException``), ``request_id`` (``x-amzn-RequestId``),
    ``aws_message`` (AWS's own message) and ``retry_after`` (seconds, when AWS said).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        aws_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.aws_message = aws_message
        self.retry_after = retry_after


class AuthenticationError(APIError):
    """The credentials were refused (unknown key, bad signature, invalid bearer key)."""


class SignatureExpiredError(AuthenticationError):
    """AWS refused the signature as too old or the clock as skewed. ``skew`` is server minus local, s."""

    skew: float | None = None


class AccessDeniedError(APIError):
    """The identity may not invoke this model (IAM policy, model access not granted)."""


class BadRequestError(APIError):
    """AWS rejected the request body (``ValidationException``)."""


class ResourceNotFoundError(APIError):
    """The model, profile or endpoint does not exist in this region/account."""


class ThrottlingError(APIError):
    """Too many requests or tokens (``ThrottlingException``, ``ServiceQuotaExceededException``)."""


class ModelNotReadyError(APIError):
    """The model is not ready to serve (``ModelNotReadyException``); retryable."""


class ModelTimeoutError(APIError):
    """Bedrock's model took too long (``ModelTimeoutException``); not reqbed's own timeout."""


class ModelStreamError(APIError):
    """The model failed mid-stream (``ModelStreamErrorException``) or streamed unusable output.

    ``original_status_code`` / ``original_message`` carry what the model itself reported.
    """

    def __init__(
        self,
        message: str,
        *,
        original_status_code: int | None = None,
        original_message: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.original_status_code = original_status_code
        self.original_message = original_message


class ServiceUnavailableError(APIError):
    """Bedrock is unavailable (503); retryable."""


class ServerError(APIError):
    """Bedrock failed (5xx other than 503, ``InternalServerException``); retryable."""


_BY_CODE: dict[str, type[APIError]] = {
    "ThrottlingException": ThrottlingError,
    "TooManyRequestsException": ThrottlingError,
    "ServiceQuotaExceededException": ThrottlingError,
    "ModelNotReadyException": ModelNotReadyError,
    "ModelTimeoutException": ModelTimeoutError,
    "ModelStreamErrorException": ModelStreamError,
    "ModelErrorException": ServerError,
    "ValidationException": BadRequestError,
    "SerializationException": BadRequestError,
    "AccessDeniedException": AccessDeniedError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "UnrecognizedClientException": AuthenticationError,
    "InvalidSignatureException": AuthenticationError,
    "IncompleteSignatureException": AuthenticationError,
    "MissingAuthenticationTokenException": AuthenticationError,
    "ExpiredTokenException": AuthenticationError,
    "InvalidClientTokenId": AuthenticationError,
    "InternalServerException": ServerError,
    "InternalFailure": ServerError,
    "ServiceUnavailableException": ServiceUnavailableError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AccessDeniedError,
    404: ResourceNotFoundError,
    408: ModelTimeoutError,
    424: ServerError,
    429: ThrottlingError,
    503: ServiceUnavailableError,
}

_SKEW_MARKERS = ("signature expired", "signature not yet current", "request time too skewed")


def _normalize_code(raw: str) -> str:
    # ``x-amzn-ErrorType`` looks like "ThrottlingException:http://internal.amazon.com/..." and
    # ``__type`` may be "com.amazon.coral.service#ThrottlingException"; camelCase stream event
    # types ("throttlingException") are upper-cased at the front.
    code = raw.split(":", 1)[0].rsplit("#", 1)[-1].strip()
    return code[:1].upper() + code[1:]


#: The most characters of AWS's error message kept (in ``str(exc)``, ``APIError.aws_message`` and the
#: DEBUG retry log line): the head is kept and the cut is said. An error code is kept to ``_MAX_CODE``.
MAX_ERROR_MESSAGE = 2000
_MAX_CODE = 200


def cap_text(text: str, limit: int = MAX_ERROR_MESSAGE) -> str:
    """``text`` cut to its first ``limit`` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters cut]"


def _decode_body(body: bytes) -> tuple[Any, str | None]:
    """The JSON of an error body, or (None, why it could not be read). Never raises."""
    if not body:
        return None, None
    try:
        return msgspec.json.decode(body), None
    except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the latter for bytes that are not UTF-8
        return None, "not JSON"
    except RecursionError:  # JSON nested deeper than the interpreter's recursion limit (~1,000 levels)
        return None, "JSON nested too deeply to read"


def _body_fields(body: bytes, data: Any, problem: str | None) -> tuple[str | None, str | None]:
    if problem == "not JSON":
        return None, body[:300].decode("utf-8", "replace").strip() or None
    if not isinstance(data, dict):
        return None, None
    code = data.get("__type") or data.get("code")
    message = data.get("message") or data.get("Message") or data.get("errorMessage")
    return (
        cap_text(code, _MAX_CODE) if isinstance(code, str) else None,
        cap_text(message) if isinstance(message, str) else None,
    )


def map_api_error(
    status: int | None,
    headers: Mapping[str, str],
    body: bytes,
    *,
    code: str | None = None,
) -> APIError:
    """Turn an AWS error answer into the matching ``APIError`` subclass. Never raises itself."""
    lower = {k.lower(): v for k, v in headers.items()}
    data, problem = _decode_body(body)
    body_code, aws_message = _body_fields(body, data, problem)
    raw_code = code or lower.get("x-amzn-errortype") or body_code
    norm = cap_text(_normalize_code(raw_code), _MAX_CODE) if raw_code else None
    cls: type[APIError] = (
        _BY_CODE.get(norm or "")
        or (_BY_STATUS.get(status) if status is not None else None)
        or (ServerError if status is not None and status >= 500 else APIError)
    )
    if aws_message and any(m in aws_message.lower() for m in _SKEW_MARKERS):
        cls = SignatureExpiredError
    retry_after: float | None = None
    if "retry-after" in lower:
        try:
            seconds = float(lower["retry-after"])
        except ValueError:  # an HTTP-date: AWS sends seconds, so this is left unread
            seconds = math.nan
        retry_after = max(0.0, seconds) if math.isfinite(seconds) else None
    request_id = lower.get("x-amzn-requestid") or lower.get("x-amz-request-id")
    message = norm or f"HTTP {status}"
    if status is not None and norm:
        message += f" (HTTP {status})"
    if aws_message:
        message += f": {aws_message}"
    elif problem is not None and problem != "not JSON":
        message += f" (the error body could not be read: {problem})"
    if request_id:
        message += f" [request id {request_id}]"
    if cls is ModelStreamError:
        return ModelStreamError(
            message,
            status=status,
            code=norm,
            request_id=request_id,
            aws_message=aws_message,
            retry_after=retry_after,
            original_status_code=_int_or_none(_json_field(data, "originalStatusCode")),
            original_message=_str_or_none(_json_field(data, "originalMessage")),
        )
    return cls(
        message,
        status=status,
        code=norm,
        request_id=request_id,
        aws_message=aws_message,
        retry_after=retry_after,
    )


def _json_field(data: Any, key: str) -> object:
    return data.get(key) if isinstance(data, dict) else None


def _int_or_none(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _str_or_none(v: object) -> str | None:
    return cap_text(v) if isinstance(v, str) else None
