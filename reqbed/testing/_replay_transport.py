"""``ReplayTransport``: an httpx transport (sync and async) that answers from a fixture file.

It never touches the network. A request is matched on method + path + canonical JSON body (never
on signatures, dates or the host), against the fixture's exchanges in order; each exchange is
served once. Streams are replayed read by read, with the recorded boundaries.

Failures say what to do: a missing fixture names the command that records it; a request whose body
drifted from the recording shows a unified diff of the canonical JSON.
"""

from __future__ import annotations

import base64
import difflib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import msgspec

from .._errors import ReqbedError
from ._fixture_format import Exchange, Fixture, canonical_json, decode_body, load_fixture, pretty_json, redact_json

__all__ = [
    "FixtureError",
    "FixtureMismatchError",
    "FixtureMissingError",
    "ReplayStream",
    "ReplayTransport",
    "request_body_json",
]


class FixtureError(ReqbedError):
    """A fixture problem in a test: a ``reqbed.ReqbedError`` like every error reqbed raises. It is
    never retried nor sent to a fallback (not an ``APIError``), so it reaches the test unchanged;
    app code that catches ``ReqbedError`` broadly should re-raise it (``except FixtureError: raise``)."""


class FixtureMissingError(FixtureError):
    """No fixture file, or no recorded exchange for this request."""


class FixtureMismatchError(FixtureError):
    """The request differs from the recorded one (the message holds a diff)."""


class ReplayStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that yields the given chunks, one per read, sync or async."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


_NOT_JSON = object()


def request_body_json(content: bytes) -> object:
    """The request body as redacted JSON (what fixtures store), or a marker when not JSON."""
    if not content:
        return None
    try:
        return redact_json(json.loads(content))
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _path(url: str | httpx.URL) -> str:
    return httpx.URL(url).raw_path.decode("ascii")


def _live_key(request: httpx.Request) -> tuple[str, str, str]:
    content = request.read()
    body = request_body_json(content)
    canon = "b64:" + base64.b64encode(content).decode() if body is _NOT_JSON else canonical_json(body)
    return request.method.upper(), _path(request.url), canon


def _recorded_key(exchange: Exchange) -> tuple[str, str, str]:
    req = exchange.request
    canon = "b64:" + req.body_b64 if req.body_b64 is not None else canonical_json(req.body)
    return req.method.upper(), _path(req.url), canon


def _pretty(canon: str) -> str:
    if canon.startswith("b64:"):
        return canon
    return pretty_json(json.loads(canon))


def _shorten_context(line: str, limit: int = 160) -> str:
    """Unchanged diff lines cut to ``limit`` characters (changed lines are shown whole)."""
    if line.startswith(" ") and len(line) > limit:
        return line[: limit - 3] + "..."
    return line


def build_response(exchange: Exchange, request: httpx.Request) -> httpx.Response:
    """The httpx response an exchange recorded (streams: one chunk per recorded read)."""
    rec = exchange.response
    headers = {k: v for k, v in rec.headers.items() if k.lower() not in ("content-length", "transfer-encoding")}
    if rec.chunks is not None:
        chunks = [base64.b64decode(c.b64) for c in rec.chunks]
    else:
        body = decode_body(rec.body, rec.body_b64, rec.body_style)
        chunks = [body] if body else []
        headers["content-length"] = str(len(body))
    return httpx.Response(rec.status, headers=headers, stream=ReplayStream(chunks), request=request)


class ReplayTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serve requests from a fixture: ``Client(transport=t, async_transport=t)``.

    ``fixture`` is a ``Fixture`` or a path (read on first use, so a missing file fails the first
    request with ``record_command`` in the message). Thread-safe; usable from any event loop.
    """

    def __init__(self, fixture: Fixture | str | Path, *, record_command: str | None = None) -> None:
        self._path = None if isinstance(fixture, Fixture) else Path(fixture)
        self._fixture = fixture if isinstance(fixture, Fixture) else None
        self._record_command = record_command
        self._used: set[int] = set()
        self._lock = threading.Lock()
        self.requests: list[httpx.Request] = []

    def __repr__(self) -> str:
        return f"ReplayTransport({self._where()})"

    def _where(self) -> str:
        if self._path is not None:
            return str(self._path)
        return f"fixture {self._fixture.name!r}" if self._fixture is not None else "fixture"

    def _how_to_record(self) -> str:
        return f"\nRecord it with:\n    {self._record_command}" if self._record_command else ""

    def _load(self) -> Fixture:
        if self._fixture is None:
            assert self._path is not None
            if not self._path.is_file():
                raise FixtureMissingError(f"no reqbed fixture at {self._path}.{self._how_to_record()}")
            try:
                self._fixture = load_fixture(self._path)
            except msgspec.DecodeError as e:  # ValidationError too: a corrupt or hand-broken file
                raise FixtureError(f"unreadable reqbed fixture: {e}") from None
        return self._fixture

    @property
    def fixture(self) -> Fixture:
        """The fixture being served (loaded on first access)."""
        with self._lock:
            return self._load()

    @property
    def unplayed(self) -> list[int]:
        """Indexes of the exchanges no request has used yet."""
        with self._lock:
            return [i for i in range(len(self._load().exchanges)) if i not in self._used]

    def match(self, request: httpx.Request) -> Exchange:
        """The exchange that answers ``request`` (marked used), or a ``FixtureError`` explaining why not."""
        method, path, canon = _live_key(request)
        with self._lock:
            self.requests.append(request)
            fixture = self._load()
            keys = [_recorded_key(e) for e in fixture.exchanges]
            same_route = [i for i, k in enumerate(keys) if k[:2] == (method, path)]
            for i in same_route:
                if keys[i][2] == canon and i not in self._used:
                    self._used.add(i)
                    return fixture.exchanges[i]
            what = f"{method} {path}"
            if not same_route:
                have = sorted({f"{k[0]} {k[1]}" for k in keys}) or ["nothing"]
                raise FixtureMissingError(
                    f"{self._where()} has no exchange for {what} (it has: {', '.join(have)}).{self._how_to_record()}"
                )
            if any(keys[i][2] == canon for i in same_route):
                n = sum(keys[i][2] == canon for i in same_route)
                raise FixtureMismatchError(
                    f"{self._where()}: {what} with this body was already replayed ({n} recorded "
                    f"exchange(s) match it); the code made more calls than were recorded.{self._how_to_record()}"
                )
            nearest = next((i for i in same_route if i not in self._used), same_route[0])
            diff = difflib.unified_diff(
                _pretty(keys[nearest][2]).splitlines(),
                _pretty(canon).splitlines(),
                fromfile=f"recorded (exchange {nearest + 1}, canonical JSON)",
                tofile="this request (canonical JSON)",
                lineterm="",
            )
            raise FixtureMismatchError(
                f"{self._where()}: the body of {what} differs from the recorded one:\n"
                + "\n".join(_shorten_context(line) for line in diff)
                + "\nIf the change is intended, re-record the fixture."
                + self._how_to_record()
            )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return build_response(self.match(request), request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return build_response(self.match(request), request)

    def close(self) -> None:
        """Nothing to release."""

    async def aclose(self) -> None:
        """Nothing to release."""
