"""httpx transports that sign each attempt immediately before it is sent, and error translation.

A request carries its signer in ``request.extensions["reqbed.sign"]`` (a callable returning the
auth headers). ``SigningTransport`` calls it right before handing the request to the real
transport, so retries, backoff and queueing never send a stale signature: stale
``Authorization`` / ``X-Amz-*`` headers are dropped and the request is signed afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httpx

from ._aws.secret import SignedHeaders
from ._errors import APIConnectionError, CredentialsError, RequestTimeoutError, ValidationError

__all__ = [
    "SIGN_EXTENSION",
    "AsyncSigningTransport",
    "RequestBody",
    "Signer",
    "SigningTransport",
    "apply_signature",
    "default_timeout",
    "translate_transport_errors",
]

SIGN_EXTENSION = "reqbed.sign"
Signer = Callable[[httpx.Request], Mapping[str, str]]
_STALE = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")


def default_timeout() -> httpx.Timeout:
    """Connect 10 s; read 120 s *between bytes* (a long stream never times out while tokens flow)."""
    return httpx.Timeout(connect=10.0, read=120.0, write=60.0, pool=30.0)


def apply_signature(request: httpx.Request) -> None:
    signer: Signer | None = request.extensions.get(SIGN_EXTENSION)
    if signer is None:
        return
    for name in _STALE:
        if name in request.headers:
            del request.headers[name]
    # Held as ``Secret`` values until written: a traceback's locals never show a credential.
    signed = signer(request)
    if not isinstance(signed, SignedHeaders):
        signed = SignedHeaders(signed)
    for name, secret in signed.secrets():
        if not _header_safe(secret.reveal()):
            # Caught here because httpx's own error would quote the header, credential and all.
            what = "the session token" if name.lower() == "x-amz-security-token" else "the API key or access key id"
            raise CredentialsError(
                f"{what} contains whitespace, a control character or a non-ASCII character "
                "(a stray newline from a file or an environment variable?); it cannot be sent"
            )
    request.headers.update(dict(signed))


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable() and value == value.strip()


class RequestBody(httpx.ByteStream):
    """A request body: httpx's ``ByteStream``, iterated asynchronously by a plain iterator object
    instead of an async generator. An attempt cancelled while its body is being written (a task
    group cancelling its siblings, a deadline) would otherwise leave a half-run async generator to the
    garbage collector, which trio reports as a ``ResourceWarning``."""

    def __aiter__(self) -> _Once:
        return _Once(bytes(self._stream))


class _Once:
    """Yields one ``bytes`` chunk, then stops: nothing to finalize."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def __aiter__(self) -> _Once:
        return self

    async def __anext__(self) -> bytes:
        data, self._data = self._data, None
        if data is None:
            raise StopAsyncIteration
        return data


class SigningTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        apply_signature(request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class AsyncSigningTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        apply_signature(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class translate_transport_errors:
    """httpx's exceptions -> reqbed's (``RequestTimeoutError``, ``APIConnectionError``, ...).

    Runs around every network read of a stream: a plain class (not a generator context manager),
    so entering and leaving cost next to nothing unless an error happens.
    """

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, e: BaseException | None, tb: object) -> None:
        if e is None:
            return
        url = self.url
        if isinstance(e, httpx.TimeoutException):
            raise RequestTimeoutError(f"{type(e).__name__} talking to {_host(url)}") from None
        if isinstance(e, httpx.ConnectError) and _is_dns_failure(e):
            raise APIConnectionError(
                f"could not resolve {_host(url)} (DNS: {e}): check the region (provider_options.region, "
                "AWS_REGION) and endpoint_url for a typo"
            ) from None
        if isinstance(e, (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)):
            raise APIConnectionError(f"could not talk to {_host(url)}: {type(e).__name__}: {e}") from None
        if isinstance(e, httpx.LocalProtocolError):
            # Its message quotes the offending header value, which may hold a credential: never echoed.
            raise ValidationError(f"the request to {_host(url)} could not be sent: an invalid header value") from None
        if isinstance(e, httpx.DecodingError):
            raise APIConnectionError(f"could not decode the answer from {_host(url)}: {type(e).__name__}") from None


_DNS_SIGNS = (
    "name or service not known",  # glibc
    "nodename nor servname",  # macOS
    "temporary failure in name resolution",
    "no address associated with hostname",
    "getaddrinfo failed",  # Windows
    "name resolution",
)


def _is_dns_failure(e: BaseException) -> bool:
    import socket

    seen: BaseException | None = e
    for _ in range(5):  # httpx -> httpcore -> socket.gaierror
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(e).lower()
    return any(sign in text for sign in _DNS_SIGNS)


def _host(url: str) -> str:
    return urlsplit(url).netloc
