"""STS AssumeRole for ``provider_options`` ``role_arn`` (+ ``role_session_name``, ``external_id``,
``duration_seconds``), written on reqbed's own signer and httpx; sync and async.

The call is ``POST {endpoint}/`` with the form ``Action=AssumeRole&Version=2011-06-15&RoleArn=...
&RoleSessionName=...[&DurationSeconds=...][&ExternalId=...]``, SigV4-signed for service ``sts`` in
the call's region by the transport right before sending, and sent through the same clock-skew
flow as every Bedrock attempt (``_flow.resign_on_skew``: one corrected retry after a refused
clock). The endpoint is ``AWS_ENDPOINT_URL_STS``, else ``AWS_ENDPOINT_URL``, else
``https://sts.{region}.amazonaws.com``. The XML answer is read with ``xml.etree``.

Assumed credentials are cached process-wide, keyed by (role ARN, session name, external id,
source access key id, endpoint): never by a secret. They are refreshed when less than
``REFRESH_MARGIN`` (5 minutes) of their life remains. One refresh at a time per key: while it is
in flight, other callers keep using credentials with more than ``MIN_REMAINING`` (1 minute) left
and otherwise wait for it, however many threads, tasks or event loops ask at once. No lock is
held across an ``await``: a ``threading.Lock`` guards the two dicts only; waiting threads block on
a ``threading.Event``, waiting tasks on an ``anyio.Event`` of their own loop, set thread-safely.

STS errors: ``AccessDenied`` -> ``AccessDeniedError``; a refused clock -> ``SignatureExpiredError``
(after one corrected retry); anything else -> ``CredentialsError``; each with AWS's message.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio
import httpx
import msgspec

from .._errors import AccessDeniedError, APIError, CredentialsError, ValidationError, map_api_error
from .._flow import Action, Read, drive_async, drive_sync, resign_on_skew
from .._flow import Send as SendAction
from .._transport import SIGN_EXTENSION, translate_transport_errors
from .._version import __version__
from .clock import Clock, endpoint_of, parse_iso8601
from .credentials import is_loopback
from .credentials_types import AwsCredentials
from .sigv4 import sign_headers

__all__ = [
    "MIN_REMAINING",
    "REFRESH_MARGIN",
    "AsyncSend",
    "RoleSpec",
    "Send",
    "assume_role_async",
    "assume_role_sync",
    "clear_cache",
    "role_spec",
    "sts_endpoint",
]

#: Assumed credentials with less life than this left are refreshed before use (seconds).
REFRESH_MARGIN = 300.0
#: While a refresh is in flight, credentials with more life than this left are still used (seconds).
MIN_REMAINING = 60.0
#: A thread waits this long (s) for another caller's refresh before doing its own.
_WAIT_LIMIT = 120.0
_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0).as_dict()
_MAX_BODY = 1 << 20

#: Sends one request and returns the (unread) response: the client's pooled transport.
Send = Callable[[httpx.Request], httpx.Response]
AsyncSend = Callable[[httpx.Request], Awaitable[httpx.Response]]

_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")


@dataclass(frozen=True)
class RoleSpec:
    """A validated AssumeRole request (no secrets)."""

    role_arn: str
    session_name: str
    external_id: str | None = None
    duration_seconds: int | None = None

    def form(self) -> bytes:
        params = [
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", self.role_arn),
            ("RoleSessionName", self.session_name),
        ]
        if self.duration_seconds is not None:
            params.append(("DurationSeconds", str(self.duration_seconds)))
        if self.external_id is not None:
            params.append(("ExternalId", self.external_id))
        return urlencode(params).encode()


def default_session_name() -> str:
    """``reqbed-<pid>``: stable for the process, so cached credentials are reused."""
    return f"reqbed-{os.getpid()}"


def role_spec(provider_options: Mapping[str, Any]) -> RoleSpec:
    """Validate the role options (``ValidationError`` naming the field, before any I/O)."""
    arn = provider_options.get("role_arn")
    if not isinstance(arn, str) or not _ROLE_ARN.fullmatch(arn):
        raise ValidationError(
            f"{arn!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
            field="provider_options.role_arn",
        )
    name = provider_options.get("role_session_name") or default_session_name()
    if not _SESSION_NAME.fullmatch(name):
        raise ValidationError(
            "must be 2-64 characters of letters, digits and +=,.@_-", field="provider_options.role_session_name"
        )
    external_id = provider_options.get("external_id")
    if external_id is not None and not _EXTERNAL_ID.fullmatch(external_id):
        raise ValidationError(
            "must be 2-1224 characters of letters, digits and +=,.@:/_-", field="provider_options.external_id"
        )
    return RoleSpec(arn, name, external_id, provider_options.get("duration_seconds"))


def sts_endpoint(region: str, environ: Mapping[str, str]) -> str:
    """``AWS_ENDPOINT_URL_STS`` -> ``AWS_ENDPOINT_URL`` -> ``https://sts.{region}.amazonaws.com``."""
    url = environ.get("AWS_ENDPOINT_URL_STS") or environ.get("AWS_ENDPOINT_URL")
    if not url:
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        return f"https://sts.{region}.{suffix}/"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"{url!r} is not an http(s) URL", field="AWS_ENDPOINT_URL_STS")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValidationError(
            f"refusing to send AWS credentials over plain http to {parts.hostname!r}; use https",
            field="AWS_ENDPOINT_URL_STS",
        )
    return url.rstrip("/") + "/"


# -- the STS call --------------------------------------------------------------------------------


def _build(spec: RoleSpec, source: AwsCredentials, region: str, url: str, clock: Clock) -> httpx.Request:
    body = spec.form()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "text/xml"}
    endpoint = endpoint_of(url)

    def signer(_: httpx.Request) -> Mapping[str, str]:
        now = clock.signing_time(endpoint)
        return sign_headers("POST", url, headers, body, credentials=source, region=region, service="sts", now=now)

    return httpx.Request(
        "POST",
        url,
        content=body,
        headers={**headers, "User-Agent": f"reqbed/{__version__}"},
        extensions={"timeout": _TIMEOUT, SIGN_EXTENSION: signer},
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xml_fields(body: bytes) -> dict[str, str]:
    """Leaf elements of an STS answer by local name (first occurrence wins); {} if not XML."""
    if len(body) > _MAX_BODY:
        return {}
    try:
        root = ET.fromstring(body)  # noqa: S314 - the answer of the STS endpoint the caller configured
    except ET.ParseError:
        return {}
    out: dict[str, str] = {}
    for el in root.iter():
        if len(el) == 0 and el.text is not None:
            out.setdefault(_local(el.tag), el.text.strip())
    return out


def _api_error(status: int, headers: httpx.Headers, body: bytes) -> APIError:
    """An STS error answer as reqbed's ``APIError`` (through ``map_api_error``)."""
    fields = _xml_fields(body)
    code = fields.get("Code")
    message = fields.get("Message") or (body[:200].decode("utf-8", "replace").strip() if not fields else None)
    hdrs = {"x-amzn-requestid": fields.get("RequestId") or headers.get("x-amzn-requestid") or ""}
    if not hdrs["x-amzn-requestid"]:
        hdrs = {}
    payload = msgspec.json.encode({"message": message}) if message else b""
    return map_api_error(status, hdrs, payload, code=code)


def _result(spec: RoleSpec, response: httpx.Response, body: bytes) -> AwsCredentials:
    status = response.status_code
    if status >= 300:
        err = _api_error(status, response.headers, body)
        prefix = f"STS AssumeRole of {spec.role_arn} failed: "
        if err.code in ("AccessDenied", "AccessDeniedException"):
            raise AccessDeniedError(
                prefix + err.message,
                status=err.status,
                code=err.code,
                request_id=err.request_id,
                aws_message=err.aws_message,
            )
        raise CredentialsError(prefix + err.message)
    fields = _xml_fields(body)
    akid, secret, token = fields.get("AccessKeyId"), fields.get("SecretAccessKey"), fields.get("SessionToken")
    expiration = parse_iso8601(fields.get("Expiration", ""))
    if not (akid and secret and token and expiration):
        raise CredentialsError(f"STS AssumeRole of {spec.role_arn} answered HTTP {status} without usable credentials")
    return AwsCredentials(akid, secret, token, expiration=expiration, source=f"sts:{spec.role_arn}")


def _call_sync(
    spec: RoleSpec, source: AwsCredentials, region: str, url: str, clock: Clock, send: Send
) -> AwsCredentials:
    """One AssumeRole call: the same clock-skew flow as every Bedrock attempt (``_flow``)."""
    flow = resign_on_skew(None, lambda: endpoint_of(url), clock, _api_error)

    def perform(action: Action) -> Any:
        with translate_transport_errors(url):
            if type(action) is SendAction:
                return send(_build(spec, source, region, url, clock))
            response = action.response  # type: ignore[union-attr]
            try:
                body = response.read()
            finally:
                response.close()
        return body if type(action) is Read else _result(spec, response, body)

    creds: AwsCredentials = drive_sync(flow, perform)
    return creds


async def _call_async(
    spec: RoleSpec, source: AwsCredentials, region: str, url: str, clock: Clock, send: AsyncSend
) -> AwsCredentials:
    """Async ``_call_sync``."""
    flow = resign_on_skew(None, lambda: endpoint_of(url), clock, _api_error)

    async def perform(action: Action) -> Any:
        with translate_transport_errors(url):
            if type(action) is SendAction:
                return await send(_build(spec, source, region, url, clock))
            response = action.response  # type: ignore[union-attr]
            try:
                body = await response.aread()
            finally:
                await response.aclose()
        return body if type(action) is Read else _result(spec, response, body)

    creds: AwsCredentials = await drive_async(flow, perform)
    return creds


# -- the cache and its single flight ---------------------------------------------------------------

_Key = tuple[str, str, str, str, str]
_lock = threading.Lock()
_cache: dict[_Key, AwsCredentials] = {}
_flights: dict[_Key, _Flight] = {}


class _Flight:
    """One refresh in progress. Waiters: threads (``event``) and tasks on any loop (``wait_async``)."""

    __slots__ = ("_lock", "_wakers", "error", "event")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.error: Exception | None = None  # None after success, or when the leader was cancelled
        self._lock = threading.Lock()
        self._wakers: list[Callable[[], None]] | None = []

    def finish(self, error: Exception | None) -> None:
        self.error = error
        with self._lock:
            wakers, self._wakers = self._wakers, None
        self.event.set()
        for wake in wakers or ():
            wake()

    async def wait_async(self) -> None:
        event = anyio.Event()
        wake = _threadsafe_setter(event)
        with self._lock:
            if self._wakers is None:
                return
            self._wakers.append(wake)
        await event.wait()


def _threadsafe_setter(event: anyio.Event) -> Callable[[], None]:
    """A function any thread may call to set ``event``, which belongs to the running loop."""
    try:
        import asyncio

        loop = asyncio.get_running_loop()
    except RuntimeError:
        import trio

        token = trio.lowlevel.current_trio_token()

        def wake_trio() -> None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(event.set)

        return wake_trio

    def wake_asyncio() -> None:
        with contextlib.suppress(RuntimeError):  # the loop already closed: nobody is waiting
            loop.call_soon_threadsafe(event.set)

    return wake_asyncio


def clear_cache() -> None:
    """Forget every assumed-role credential (the next call assumes the role again)."""
    with _lock:
        _cache.clear()


def _left(creds: AwsCredentials, now: float) -> float:
    return float("inf") if creds.expiration is None else creds.expiration.timestamp() - now


def _lookup(key: _Key, now: float) -> tuple[AwsCredentials | None, _Flight | None, bool]:
    """(credentials to use now | None, the flight to lead or wait for, whether to lead it)."""
    with _lock:
        creds = _cache.get(key)
        left = _left(creds, now) if creds is not None else -1.0
        if left > REFRESH_MARGIN:
            return creds, None, False
        flight = _flights.get(key)
        if flight is None:
            flight = _flights[key] = _Flight()
            return None, flight, True
        if left > MIN_REMAINING:
            return creds, None, False  # a refresh is on its way; these are still good
        return None, flight, False


def _land(key: _Key, flight: _Flight | None, creds: AwsCredentials | None, error: Exception | None) -> None:
    with _lock:
        if creds is not None:
            if len(_cache) > 256:
                _cache.clear()
            _cache[key] = creds
        if flight is not None and _flights.get(key) is flight:
            del _flights[key]
    if flight is not None:
        flight.finish(error)


def _key(spec: RoleSpec, source: AwsCredentials, url: str) -> _Key:
    return (spec.role_arn, spec.session_name, spec.external_id or "", source.access_key_id, url)


def assume_role_sync(
    spec: RoleSpec, source: AwsCredentials, *, region: str, url: str, clock: Clock, send: Send
) -> AwsCredentials:
    """Cached AssumeRole credentials, refreshed before they expire (one STS call per refresh)."""
    key = _key(spec, source, url)
    while True:
        creds, flight, lead = _lookup(key, clock.time())
        if creds is not None:
            return creds
        assert flight is not None
        if lead:
            try:
                creds = _call_sync(spec, source, region, url, clock, send)
            except Exception as e:
                _land(key, flight, None, e)
                raise
            except BaseException:
                _land(key, flight, None, None)
                raise
            _land(key, flight, creds, None)
            return creds
        if not flight.event.wait(_WAIT_LIMIT):
            # The leader is stuck (e.g. a coroutine on an event loop this very thread is blocking).
            creds = _call_sync(spec, source, region, url, clock, send)
            _land(key, None, creds, None)
            return creds
        if flight.error is not None:
            raise copy.copy(flight.error)


async def assume_role_async(
    spec: RoleSpec, source: AwsCredentials, *, region: str, url: str, clock: Clock, send: AsyncSend
) -> AwsCredentials:
    """The async twin of ``assume_role_sync`` (asyncio or trio); shares its cache."""
    key = _key(spec, source, url)
    while True:
        creds, flight, lead = _lookup(key, clock.time())
        if creds is not None:
            return creds
        assert flight is not None
        if lead:
            try:
                creds = await _call_async(spec, source, region, url, clock, send)
            except Exception as e:
                _land(key, flight, None, e)
                raise
            except BaseException:  # cancelled: a waiter takes over
                _land(key, flight, None, None)
                raise
            _land(key, flight, creds, None)
            return creds
        await flight.wait_async()
        if flight.error is not None:
            raise copy.copy(flight.error)
