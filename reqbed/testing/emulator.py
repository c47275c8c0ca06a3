"""A local Amazon Bedrock Runtime emulator on loopback, for demos and tests.

    python -m reqbed.testing.emulator --port 8765

    with Emulator() as emu:                     # a free port, served from a background thread
        reqbed.generate_text("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "Hi",
                             provider_options=emu.provider_options())

It serves ``POST /model/{id}/converse``, ``/converse-stream``, ``/invoke``,
``/invoke-with-response-stream`` and ``/count-tokens`` (embedding models' ``/invoke`` and CountTokens:
``_embed_responders``), the control plane's ``GET /foundation-models`` and ``/inference-profiles``
(from reqbed's model catalog), and STS ``AssumeRole`` at ``POST /`` (``_sts_responder``), over
HTTP/1.1 (h11, keep-alive, chunked streams):

- authentication as AWS does it: SigV4 recomputed from the received request (session tokens
  checked), or a Bedrock API key as ``Authorization: Bearer`` (a configured long-term key, or a
  short-term ``bedrock-api-key-...`` key signed by known credentials, checked for expiry and
  region); a stale ``X-Amz-Date`` gets AWS's 403 ``Signature expired`` answer. The emulator's
  clock is ``clock`` (injectable).
- a model catalogue (``models``, ``extra_models``; ``_models``): an unknown id gets AWS's 400
  "The provided model identifier is invalid.";
- answers are deterministic functions of the request (see ``_converse_responder``; native
  ``/invoke`` bodies per family from the responder table in ``_responders``);
- errors in AWS's shape (``x-amzn-ErrorType``, ``x-amzn-RequestId``, ``{"message": ...}``);
- streams are binary event streams written in pieces split at random offsets;
- faults on demand: ``emu.inject("throttling")`` and friends (see ``FAULTS``); ``emu.faults`` lists
  the pending ones, ``emu.clear_faults()`` drops them, ``emu.reset()`` starts afresh.

Credentials it accepts by default are AWS's documented example key pair and an obviously fake
API key (``EXAMPLE_*`` below); never real ones.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import json
import random
import re
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

import h11

from .._aws.eventstream import encode_frame
from .._options import ProviderOptions
from . import _converse_responder as converse
from . import _embed_responders as _embed
from . import _features_responder as features
from . import _object_responder as _object  # structured output
from ._api_key_check import check_api_key
from ._models import MODELS, default_models, is_known
from ._responders import NativeHandler, native_handlers, register_native
from ._sigv4_check import SignatureProblem, verify
from ._sts_responder import Issued, StsError, assume_role, error_xml

__all__ = [
    "EXAMPLE_ACCESS_KEY_ID",
    "EXAMPLE_API_KEY",
    "EXAMPLE_SECRET_ACCESS_KEY",
    "FAULTS",
    "MODELS",
    "Emulator",
    "Fault",
    "FaultKind",
    "NativeHandler",
    "register_native",
]

EXAMPLE_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EXAMPLE_API_KEY = "ABSKZW11bGF0b3ItZXhhbXBsZS1rZXk="  # base64("emulator-example-key"): fake

#: The fault kinds ``Emulator.inject`` takes (``FAULTS`` says what each does).
FaultKind = Literal[
    "throttling",
    "model_not_ready",
    "unavailable",
    "internal",
    "access_denied",
    "not_found",
    "model_timeout",
    "validation",
    "exception_frame",
    "bad_crc",
    "truncate",
    "slow",
    "drop",
    "stall",
    "bad_object",
]

#: Fault kinds and what they do.
FAULTS: dict[FaultKind, str] = {
    "throttling": "429 ThrottlingException before any content",
    "model_not_ready": "429 ModelNotReadyException",
    "unavailable": "503 ServiceUnavailableException",
    "internal": "500 InternalServerException",
    "access_denied": "403 AccessDeniedException",
    "not_found": "404 ResourceNotFoundException",
    "model_timeout": "408 ModelTimeoutException",
    "validation": "400 ValidationException (a request Bedrock refuses, e.g. a limit reqbed cannot know)",
    "exception_frame": "streams: an exception frame after `after` events (param `exception`)",
    "bad_crc": "streams: a frame with a corrupt message CRC after `after` events",
    "truncate": "streams: the body ends cleanly, but mid-frame, after `after` events",
    "slow": "streams: sleep `delay` seconds before each event",
    "drop": "close the connection without answering",
    "stall": "send headers and nothing more until the client gives up (streams) / never answer",
    # structured output (reqbed.testing._object_responder)
    "bad_object": "the next structured answer is not JSON (param `how`: not_json) or misses the schema (mismatch)",
}
# Every fault also takes ``match="text"``: it then hits only requests whose body contains that text
# (faults aimed at chosen calls among many concurrent ones). Status faults take ``retry_after=<s>``
# (sent as a ``Retry-After`` header). Faults hit Bedrock Runtime calls only, never STS.

_STATUS_CODES = {
    "throttling": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "model_not_ready": (429, "ModelNotReadyException", "Model is not ready for inference. Wait and try again."),
    "unavailable": (503, "ServiceUnavailableException", "Bedrock is unable to process your request."),
    "internal": (500, "InternalServerException", "The server encountered an internal error."),
    "access_denied": (403, "AccessDeniedException", "You don't have access to the model with the specified model ID."),
    "not_found": (404, "ResourceNotFoundException", "The provided model identifier is invalid."),
    "model_timeout": (408, "ModelTimeoutException", "Model has timed out in processing the request."),
    "validation": (400, "ValidationException", "Malformed input request, please reformat your input and try again."),
}

_MAX_LOGGED = 10_000  # requests kept in ``Emulator.requests``
_FRONT_END = "com.amazon.coral.service"  # the x-amzn-ErrorType namespace of AWS's signature errors

_INVALID_MODEL = "The provided model identifier is invalid."
#: STS names the signature errors of Bedrock's front end differently.
_STS_CODES = {
    "UnrecognizedClientException": "InvalidClientTokenId",
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "IncompleteSignatureException": "IncompleteSignature",
    "ExpiredTokenException": "ExpiredToken",
}
_SIGV4_KEY_ID = re.compile(r"Credential=([^/]+)/")


@dataclass
class Fault:
    """A pending fault: the next ``times`` requests (whose body contains ``match``, if set) get
    ``kind``, with ``params`` (``retry_after``, ``after``, ``delay``, ``exception``, ``message``)."""

    kind: FaultKind
    times: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    match: bytes | None = None  # only requests whose body contains this


class _Reply:
    __slots__ = ("body", "chunks", "delay", "drop", "headers", "stall", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        self.status, self.headers, self.body = status, headers, body
        self.chunks: list[bytes] | None = None
        self.delay = 0.0
        self.stall = False
        self.drop = False


class Emulator:
    """The emulator. Use as a context manager (background thread) or ``serve_forever()``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: dict[str, tuple[str, str | None]] | None = None,
        api_keys: set[str] | None = None,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        backlog: int = 2048,
        region: str = "us-east-1",
        models: Iterable[str] | None = None,
        extra_models: Iterable[str] = (),
        native_handlers: Mapping[str, NativeHandler] | None = None,
    ) -> None:
        """``credentials`` maps access key id -> (secret, session token or None); ``api_keys`` are
        the long-term Bedrock API keys accepted; ``region`` is the region short-term API keys must
        be made for; ``models`` replaces the model catalogue (default ``MODELS`` plus reqbed's own model
        catalog) and
        ``extra_models`` adds to it; ``native_handlers`` adds or replaces native ``/invoke``
        bodies by family for this emulator (see ``_responders``)."""
        self.host, self.port = host, port
        self.backlog = backlog  # listen backlog: room for many clients connecting at once
        self.credentials = dict(credentials or {EXAMPLE_ACCESS_KEY_ID: (EXAMPLE_SECRET_ACCESS_KEY, None)})
        self.api_keys = set(api_keys or {EXAMPLE_API_KEY})
        self.clock = clock
        self.seed = seed
        self.region = region
        self.models: frozenset[str] = (default_models() if models is None else frozenset(models)) | frozenset(
            extra_models
        )
        self.native_handlers: dict[str, NativeHandler] = dict(native_handlers or {})
        self.requests: list[dict[str, Any]] = []  # what arrived: method, path, headers, body
        self._faults: deque[Fault] = deque()
        self._issued: dict[str, Issued] = {}  # STS credentials handed out, by access key id
        self._cache: set[str] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self.open_connections = 0

    # -- control -----------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def provider_options(self, *, bearer: bool = False, region: str | None = None) -> ProviderOptions:
        """``provider_options`` that point reqbed at this emulator with its example credentials
        (``region`` defaults to the emulator's)."""
        opts: ProviderOptions = {"endpoint_url": self.endpoint_url, "region": region or self.region}
        if bearer:
            opts["api_key"] = next(iter(self.api_keys))
        else:
            akid, (secret, token) = next(iter(self.credentials.items()))
            opts["access_key_id"], opts["secret_access_key"] = akid, secret
            if token:
                opts["session_token"] = token
        return opts

    def inject(self, kind: FaultKind, times: int = 1, *, match: str | None = None, **params: Any) -> None:
        """Make the next ``times`` requests fail with ``kind`` (see ``FAULTS``); with ``match``, the
        next ``times`` requests whose body contains that text."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {sorted(FAULTS)}")
        if not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive int, got {times!r}")
        with self._lock:
            self._faults.append(Fault(kind, times, params, None if match is None else match.encode()))

    @property
    def faults(self) -> tuple[Fault, ...]:
        """The pending faults, oldest first (copies: changing them changes nothing)."""
        with self._lock:
            return tuple(dataclasses.replace(f, params=dict(f.params)) for f in self._faults)

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        """Back to a fresh emulator's state: no pending faults, an empty ``requests`` log, and the
        prompt cache forgotten. Credentials, API keys, the clock, the catalogue, and the STS
        credentials already handed out (they expire on their own) stay."""
        with self._lock:
            self._faults.clear()
            self._cache.clear()
            self.requests.clear()

    def _next_fault(self, body: bytes = b"") -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.match is None or f.match in body:
                    f.times -= 1
                    if f.times <= 0:
                        self._faults.remove(f)
                    return f
            return None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run_thread, name="reqbed-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("emulator did not start")

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run_thread(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, self.host, self.port, backlog=self.backlog)
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            tasks = [t for t in self._handlers if not t.done()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._run_thread()

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        self.open_connections += 1
        try:
            while True:
                request, body = await self._read_request(conn, reader)
                if request is None:
                    return
                try:
                    reply = self._respond(request, body)
                except Exception as e:  # an emulator bug: answer 500 rather than drop the connection
                    reply = self._error(500, "InternalServerException", f"emulator error: {type(e).__name__}: {e}")
                if reply.drop:
                    return
                await self._write_reply(conn, writer, reply, reader)
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                try:
                    conn.start_next_cycle()
                except h11.LocalProtocolError:
                    return
        except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # a cancelled handler (emulator shutting down) ends quietly
        finally:
            self.open_connections -= 1
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request | None, bytes]:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data and request is None:
                    return None, b""
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return request, bytes(body)
            elif isinstance(event, h11.ConnectionClosed):
                return None, b""

    async def _write_reply(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        reply: _Reply,
        reader: asyncio.StreamReader | None = None,
    ) -> None:
        headers = list(reply.headers)
        if reply.chunks is None:
            headers.append(("content-length", str(len(reply.body))))
        writer.write(conn.send(h11.Response(status_code=reply.status, headers=headers)))
        if reply.chunks is None:
            if reply.stall:
                await writer.drain()
                await _stall(reader)
            writer.write(conn.send(h11.Data(data=reply.body)))
        else:
            await writer.drain()
            if reply.stall:
                await _stall(reader)
            for piece in reply.chunks:
                if piece == b"":  # marks the end of one event: where `slow` waits
                    if reply.delay:
                        await asyncio.sleep(reply.delay)
                    continue
                writer.write(conn.send(h11.Data(data=piece)))
                await writer.drain()
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()

    # -- routing -----------------------------------------------------------------------------

    def _error(self, status: int, code: str, message: str, *, namespace: str = "com.amazon.bedrock") -> _Reply:
        """AWS's error answer. Signature errors come from AWS's front end, whose namespace differs."""
        body = json.dumps({"message": message}).encode()
        return _Reply(
            status,
            [
                *self._base_headers("application/json"),
                ("x-amzn-errortype", f"{code}:http://internal.amazon.com/coral/{namespace}/"),
            ],
            body,
        )

    def _base_headers(self, content_type: str) -> list[tuple[str, str]]:
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        return [
            ("content-type", content_type),
            ("date", now.strftime("%a, %d %b %Y %H:%M:%S GMT")),
            ("x-amzn-requestid", str(uuid.uuid4())),
        ]

    def _respond(self, request: h11.Request, body: bytes) -> _Reply:
        target = request.target.decode("latin-1")
        raw_path, _, raw_query = target.partition("?")
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in request.headers}
        method = request.method.decode()
        if len(self.requests) >= _MAX_LOGGED:  # a long-running emulator keeps only recent requests
            del self.requests[: _MAX_LOGGED // 2]
        self.requests.append({"method": method, "path": raw_path, "headers": headers, "body": body})
        if method == "POST" and raw_path == "/":
            return self._sts(raw_path, raw_query, headers, body)
        # the control plane: ListFoundationModels / ListInferenceProfiles (_control_plane_responder)
        if method == "GET" and raw_path in ("/foundation-models", "/inference-profiles"):
            return self._control_plane(raw_path, raw_query, headers)
        parts = raw_path.split("/")
        if method != "POST" or len(parts) != 4 or parts[1] != "model":
            return self._error(404, "UnknownOperationException", f"no route for {method} {raw_path}")
        model_id, action = unquote(parts[2]), parts[3]
        known = ("converse", "converse-stream", "invoke", "invoke-with-response-stream", "count-tokens")  # [embed]
        if action not in known:
            return self._error(404, "UnknownOperationException", f"unknown action {action!r}")
        problem = self._authenticate(method, raw_path, raw_query, headers, body)
        if problem is not None:
            return problem
        if not is_known(model_id, self.models):
            return self._error(400, "ValidationException", _INVALID_MODEL)
        fault = self._next_fault(body)
        if fault is not None:
            if fault.kind in _STATUS_CODES:
                reply = self._error(*_STATUS_CODES[fault.kind])
                if "retry_after" in fault.params:
                    reply.headers.append(("retry-after", str(fault.params["retry_after"])))
                return reply
            if fault.kind == "drop":
                reply = _Reply(0, [])
                reply.drop = True
                return reply
        try:
            payload: dict[str, Any] = json.loads(body) if body else {}
        except ValueError:
            return self._error(
                400, "ValidationException", "Malformed input request, please reformat your input and try again."
            )
        try:  # [embed] embedding answers and CountTokens: reqbed/testing/_embed_responders.py
            special = _embed.answer(action, model_id, payload)
        except converse.BadRequest as e:
            return self._error(400, "ValidationException", str(e))
        if special is not None:
            headers_out = [*self._base_headers("application/json"), *special[1].items()]
            return _Reply(200, headers_out, json.dumps(special[0]).encode())  # [embed] end
        stream = action.endswith("stream")
        extra_headers: list[tuple[str, str]] = []
        try:
            # structured output: _object_responder answers outputConfig / output_config and the bad_object fault
            bad = fault.params.get("how", "not_json") if fault is not None and fault.kind == "bad_object" else None
            if action.startswith("converse"):
                answer = features.converse(payload, _object.converse_answer(payload, cache=self._cache, bad=bad))
                events = [(et, json.dumps(ev).encode()) for et, ev in converse.stream_events(answer)]
            else:
                family = _family(model_id)
                handler = self.native_handlers.get(family) or native_handlers().get(family)
                if handler is None:
                    return self._error(
                        400, "ValidationException", f"The emulator has no native body for {family!r}; use Converse"
                    )
                answer, native_events = _object.invoke_answer(family, model_id, payload, bad=bad) or handler(
                    model_id, payload
                )  # structured output first (_object_responder)
                features.native(headers, payload, answer, native_events)
                extra_headers = features.native_reply_headers(headers, native_events)
                events = [
                    ("chunk", json.dumps({"bytes": base64.b64encode(json.dumps(e).encode()).decode()}).encode())
                    for e in native_events
                ]
        except converse.BadRequest as e:
            return self._error(400, "ValidationException", str(e))
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
            # A body of the wrong shape: AWS answers its generic 400; the detail helps whoever sent it.
            return self._error(
                400,
                "ValidationException",
                "Malformed input request, please reformat your input and try again. "
                f"(emulator: {type(e).__name__}: {e})",
            )
        if not stream:
            reply = _Reply(200, self._base_headers("application/json") + extra_headers, json.dumps(answer).encode())
            if fault is not None and fault.kind == "stall":
                reply.stall = True
            return reply
        return self._stream_reply(events, fault, body)

    def _control_plane(self, raw_path: str, raw_query: str, headers: dict[str, str]) -> _Reply:
        """``GET /foundation-models`` and ``/inference-profiles`` (see ``_control_plane_responder``)."""
        from . import _control_plane_responder as control_plane  # the catalog loads on first use

        problem = self._authenticate("GET", raw_path, raw_query, headers, b"")
        if problem is not None:
            return problem
        fault = self._next_fault(b"")
        if fault is not None and fault.kind in _STATUS_CODES:
            return self._error(*_STATUS_CODES[fault.kind])
        query = {k: v for k, v in parse_qsl(raw_query, keep_blank_values=True)}
        region = control_plane.region_of(headers.get("authorization", ""))
        try:
            payload = control_plane.answer(raw_path, query, region)
        except control_plane.BadQuery as e:
            return self._error(400, "ValidationException", str(e))
        return _Reply(200, self._base_headers("application/json"), json.dumps(payload).encode())

    def _authenticate(
        self, method: str, raw_path: str, raw_query: str, headers: dict[str, str], body: bytes
    ) -> _Reply | None:
        auth = headers.get("authorization", "")
        if not auth:
            return self._error(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token", namespace=_FRONT_END
            )
        try:
            if auth.startswith("Bearer "):
                check_api_key(
                    auth[7:],
                    long_term=self.api_keys,
                    secret_of=self._secret_of,
                    region=self.region,
                    now=datetime.fromtimestamp(self.clock(), timezone.utc),
                )
            else:
                self._verify_sigv4(method, raw_path, raw_query, headers, body, "bedrock")
        except SignatureProblem as p:
            return self._error(p.status, p.code, p.message, namespace=_FRONT_END)
        return None

    def _verify_sigv4(
        self, method: str, raw_path: str, raw_query: str, headers: dict[str, str], body: bytes, service: str
    ) -> None:
        """SigV4 as AWS checks it, with the configured keys and the STS credentials handed out
        (refused once expired: 403 ``ExpiredTokenException``)."""
        m = _SIGV4_KEY_ID.search(headers.get("authorization", ""))
        issued = self._issued.get(m.group(1)) if m else None
        secrets: Mapping[str, tuple[str, str | None]] = self.credentials
        if issued is not None:
            if self.clock() >= issued.expires_at:
                raise SignatureProblem("ExpiredTokenException", "The security token included in the request is expired")
            secrets = {issued.access_key_id: (issued.secret_access_key, issued.session_token)}
        verify(
            method,
            raw_path,
            raw_query,
            headers,
            body,
            secrets=secrets,
            now=datetime.fromtimestamp(self.clock(), timezone.utc),
            service=service,
        )

    def _secret_of(self, access_key_id: str) -> tuple[str, str | None] | None:
        issued = self._issued.get(access_key_id)
        if issued is not None:
            return issued.secret_access_key, issued.session_token
        return self.credentials.get(access_key_id)

    # -- STS -----------------------------------------------------------------------------------

    def _sts(self, raw_path: str, raw_query: str, headers: dict[str, str], body: bytes) -> _Reply:
        """STS ``AssumeRole`` (``_sts_responder``): SigV4 for service ``sts``, then temporary
        credentials this emulator will accept."""
        request_id = str(uuid.uuid4())
        if not headers.get("authorization"):
            return self._sts_error(
                StsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token"), request_id
            )
        try:
            self._verify_sigv4("POST", raw_path, raw_query, headers, body, "sts")
        except SignatureProblem as p:
            return self._sts_error(StsError(p.status, _STS_CODES.get(p.code, p.code), p.message), request_id)
        try:
            with self._lock:
                serial = len(self._issued)
            issued, xml, _ = assume_role(body, now=self.clock(), serial=serial, seed=self.seed, request_id=request_id)
        except StsError as e:
            return self._sts_error(e, request_id)
        with self._lock:
            self._issued[issued.access_key_id] = issued
        return _Reply(200, self._sts_headers(request_id), xml.encode())

    def _sts_headers(self, request_id: str) -> list[tuple[str, str]]:
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        return [
            ("content-type", "text/xml"),
            ("date", now.strftime("%a, %d %b %Y %H:%M:%S GMT")),
            ("x-amzn-requestid", request_id),
        ]

    def _sts_error(self, e: StsError, request_id: str) -> _Reply:
        return _Reply(e.status, self._sts_headers(request_id), error_xml(e.code, e.message, request_id).encode())

    def _stream_reply(self, events: list[tuple[str, bytes]], fault: Fault | None, seed_material: bytes) -> _Reply:
        frames: list[bytes] = []
        # a fault positioned past the last event replaces the last one: it always happens
        after = min(int(fault.params.get("after", 2)), len(events) - 1) if fault else -1
        for i, (event_type, payload) in enumerate(events):
            if fault is not None and i == after:
                if fault.kind == "exception_frame":
                    exc = fault.params.get("exception", "throttlingException")
                    msg = {"message": fault.params.get("message", "Too many tokens, please wait.")}
                    if exc == "modelStreamErrorException":
                        msg.update(originalStatusCode=500, originalMessage="model failed")
                    frames.append(
                        encode_frame(
                            {":message-type": "exception", ":exception-type": exc, ":content-type": "application/json"},
                            json.dumps(msg).encode(),
                        )
                    )
                    break
                if fault.kind == "bad_crc":
                    good = bytearray(encode_frame(_event_headers(event_type), payload))
                    good[-1] ^= 0xFF
                    frames.append(bytes(good))
                    break
                if fault.kind == "truncate":
                    # a clean end of body in the middle of a frame
                    frames.append(encode_frame(_event_headers(event_type), payload)[:-5])
                    break
            frames.append(encode_frame(_event_headers(event_type), payload))
            frames.append(b"")
        rng = random.Random(zlib.crc32(seed_material, self.seed))  # noqa: S311 - test data, not crypto
        chunks: list[bytes] = []
        pending = b""
        for f in frames:
            if f == b"":
                if pending:
                    chunks.append(pending)
                    pending = b""
                chunks.append(f)
                continue
            data = pending + f
            # split at random offsets; carry the tail into the next write
            cut = rng.randrange(1, len(data) + 1)
            chunks.append(data[:cut])
            pending = data[cut:]
        if pending:
            chunks.append(pending)
        reply = _Reply(200, self._base_headers("application/vnd.amazon.eventstream"))
        reply.chunks = chunks
        if fault is not None and fault.kind == "slow":
            reply.delay = float(fault.params.get("delay", 0.05))
        if fault is not None and fault.kind == "stall":
            reply.stall = True
        return reply


async def _stall(reader: asyncio.StreamReader | None, limit: float = 3600.0) -> None:
    """Send nothing until the client hangs up (or ``limit`` s), then end the connection: a stalled
    answer never outlives the client that gave up on it."""
    if reader is None:
        await asyncio.sleep(limit)
    else:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_until_eof(reader), limit)
    raise ConnectionResetError("the client gave up on a stalled answer")


async def _until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


def _event_headers(event_type: str) -> dict[str, Any]:
    return {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}


def _family(model_id: str) -> str:
    from .._errors import ValidationError
    from .._model_spec import parse_model_spec

    try:
        return parse_model_spec("bedrock:" + model_id).family or "unknown"
    except ValidationError:
        return "unknown"


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[Emulator]:
    """``with running() as emu:`` - the same as ``with Emulator(**kwargs) as emu:``."""
    with Emulator(**kwargs) as emu:
        yield emu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reqbed.testing.emulator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    emu = Emulator(host=args.host, port=args.port)
    print(f"reqbed Bedrock emulator on http://{args.host}:{args.port}")
    print(f"  access key id {EXAMPLE_ACCESS_KEY_ID} / secret {EXAMPLE_SECRET_ACCESS_KEY} (AWS's documented example)")
    print(f"  API key {EXAMPLE_API_KEY}")
    print("  export AWS_ENDPOINT_URL_BEDROCK_RUNTIME=" + f"http://{args.host}:{args.port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        emu.serve_forever()


if __name__ == "__main__":
    main()
