"""A hostile (or merely broken) HTTP server on loopback, for tests of reqbed's defences.

Each test hands it a *responder*: ``(method, path, body) -> Reply``. The server answers every
request with what the responder returns, byte for byte, so a test can send what a real endpoint
never would: JSON nested 5,000 levels, a 5 MB error message, an endless body, a huge
``Content-Length``, a gzip bomb, headers one byte per second, 16 MiB event-stream frames.

Bounded, so a defence that fails cannot take the test run down with it:

* ``Reply.chunks`` may be any iterable (an endless generator too); the server stops writing after
  ``max_bytes`` (default 64 MiB) or ``max_seconds`` (default 20 s) per reply, whichever comes
  first, and when the client hangs up;
* each connection's socket times out after ``max_seconds``; the server thread is a daemon and
  ``close()`` (or leaving the ``with`` block) shuts it down.

The generators below build the classic hostile bodies lazily (nothing big is held in memory).
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

__all__ = [
    "HostileServer",
    "Reply",
    "deep_json",
    "endless",
    "gzip_bomb",
    "trickle",
]


@dataclass
class Reply:
    """One answer. ``head`` replaces the status line and headers when given (raw bytes, CRLFs and
    all); otherwise they are built from ``status`` and ``headers`` (a ``Content-Length`` is added
    when ``body`` is given and no length or chunking header is)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    chunks: Iterable[bytes] | None = None  # written one by one after the head (no framing added)
    head: Iterable[bytes] | None = None  # raw head pieces, written one by one (for trickling)
    delay: float = 0.0  # seconds between two pieces of ``head`` / ``chunks``


Responder = Callable[[str, str, bytes], Reply]

_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests", 500: "Internal Server Error"}


class HostileServer:
    """``with HostileServer(responder) as srv: ... srv.endpoint_url ...``; ``srv.requests`` counts."""

    def __init__(self, responder: Responder, *, max_bytes: int = 64 << 20, max_seconds: float = 20.0) -> None:
        self.responder = responder
        self.max_bytes, self.max_seconds = max_bytes, max_seconds
        self.requests = 0
        self.bytes_sent = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._main = threading.Thread(target=self._accept_loop, name="hostile-server", daemon=True)
        self._main.start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._main.join(5)
        for t in self._threads:
            t.join(5)
        self._sock.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(self.max_seconds)
        with conn:
            buf = b""
            while not self._stop.is_set():
                try:
                    request, buf = _read_request(conn, buf)
                except (OSError, ValueError):
                    return
                if request is None:
                    return
                with self._lock:
                    self.requests += 1
                method, path, body = request
                if not self._write(conn, self.responder(method, path, body)):
                    return

    def _write(self, conn: socket.socket, reply: Reply) -> bool:
        """Write one reply; False when the connection is done (limits hit, client gone, no length)."""
        if reply.head is not None:
            head: Iterable[bytes] = reply.head
        else:
            headers = list(reply.headers)
            names = {k.lower() for k, _ in headers}
            if reply.body is not None and not names & {"content-length", "transfer-encoding"}:
                headers.append(("Content-Length", str(len(reply.body))))
            if reply.body is None and not names & {"content-length", "transfer-encoding"}:
                headers.append(("Connection", "close"))  # the body ends when the connection does
            lines = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
            lines += [f"{k}: {v}" for k, v in headers]
            head = [("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")]
        pieces: Iterator[bytes] = _chain(head, [reply.body] if reply.body is not None else reply.chunks or [])
        started, sent = time.monotonic(), 0
        try:
            for i, piece in enumerate(pieces):
                if self._stop.is_set() or sent >= self.max_bytes or time.monotonic() - started > self.max_seconds:
                    return False
                if i and reply.delay:
                    time.sleep(reply.delay)
                piece = piece[: self.max_bytes - sent]
                conn.sendall(piece)
                sent += len(piece)
                with self._lock:
                    self.bytes_sent += len(piece)
        except OSError:
            return False
        return reply.body is not None and reply.head is None


def _chain(*parts: Iterable[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield from part


def _read_request(conn: socket.socket, buf: bytes) -> tuple[tuple[str, str, bytes] | None, bytes]:
    """One HTTP/1.1 request (Content-Length bodies only: what httpx sends). None at a clean EOF."""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, b""
        buf += data
        if len(buf) > 1 << 20:
            raise ValueError("request head too large")
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length > 64 << 20:
        raise ValueError("request body too large")
    while len(rest) < length:
        data = conn.recv(65536)
        if not data:
            return None, b""
        rest += data
    return (method, path, rest[:length]), rest[length:]


# -- hostile bodies ------------------------------------------------------------------------------


def deep_json(depth: int, inner: bytes = b"1", *, key: str | None = None) -> bytes:
    """JSON nested ``depth`` arrays deep (``[[[...1...]]]``); with ``key``, inside ``{"key": ...}``."""
    nested = b"[" * depth + inner + b"]" * depth
    return b'{"' + key.encode() + b'":' + nested + b"}" if key is not None else nested


def endless(piece: bytes = b"x" * 65536) -> Iterator[bytes]:
    """A body that never ends (the server's ``max_bytes`` / ``max_seconds`` stop it)."""
    while True:
        yield piece


def gzip_bomb(inflated: int, piece: int = 1 << 20) -> bytes:
    """A gzip body that inflates to ``inflated`` zero bytes (about 1,000:1)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    zeros = bytes(piece)
    out = [comp.compress(zeros) for _ in range(inflated // piece)]
    out.append(comp.compress(bytes(inflated % piece)))
    out.append(comp.flush())
    return b"".join(out)


def trickle(data: bytes, size: int = 1) -> list[bytes]:
    """``data`` cut into ``size``-byte pieces (pair with ``Reply.delay`` to send them slowly)."""
    return [data[i : i + size] for i in range(0, len(data), size)]
