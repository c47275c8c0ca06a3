"""Record and replay Bedrock exchanges as fixture files (see docs/testing.md).

    REQBED_FIXTURES=replay   (the default) answer from fixtures; nothing reaches the network
    REQBED_FIXTURES=record   call the real service and write the fixtures
    REQBED_FIXTURES=off      no interception at all

Replay::

    client = replay_client("fixtures/anthropic-converse/basic.json")
    client.generate_text("bedrock:...", "Say hello")          # served from the file

Record (real AWS, credentials from the usual places)::

    client, recorder = recording_client()
    client.generate_text("bedrock:...", "Say hello")
    save_fixture("fixtures/mine/hello.json", recorder.exchanges, name="mine/hello", source="recorded")

``CallLog`` runs reqbed calls and keeps them (model, prompt, options, and the expected answer or
error) so a fixture can carry the calls that produced it and a test can re-issue them.
The pytest plugin (``reqbed.testing.pytest_plugin``) wraps all of this for tests.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import httpx
import msgspec

from .._aws.clock import Clock
from .._client import Client
from .._errors import APIError, ReqbedError
from .._types import Response
from ._fixture_format import (
    FORMAT_VERSION,
    Exchange,
    Fixture,
    StoredCall,
    canonical_json,
    dump_fixture,
    load_fixture,
)
from ._record_transport import Recorder, RecordingTransport
from ._replay_transport import FixtureError, FixtureMismatchError, FixtureMissingError, ReplayTransport
from ._secret_scan import scan_file
from .emulator import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY

__all__ = [
    "ENV_VAR",
    "MODES",
    "CallLog",
    "Exchange",
    "Fixture",
    "FixtureError",
    "FixtureMismatchError",
    "FixtureMissingError",
    "Mode",
    "Recorder",
    "RecordingTransport",
    "ReplayTransport",
    "StoredCall",
    "arun_call",
    "check_expectation",
    "expectation",
    "fixtures_mode",
    "load_fixture",
    "recording_client",
    "replay_client",
    "replay_environ",
    "run_call",
    "save_fixture",
    "source_of",
]

Mode = Literal["replay", "record", "off"]
MODES: tuple[Mode, ...] = ("replay", "record", "off")
ENV_VAR = "REQBED_FIXTURES"

#: provider_options that describe where and as whom a call ran, never what it asked: not stored.
_NOT_STORED = frozenset(
    {
        "endpoint_url",
        "api_key",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "profile",
        "role_arn",
        "role_session_name",
        "external_id",
        "duration_seconds",
    }
)
_ENV_AUTH = ("AWS_BEARER_TOKEN_BEDROCK", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def fixtures_mode(environ: Mapping[str, str] | None = None) -> Mode:
    """The mode ``REQBED_FIXTURES`` asks for (``replay`` when unset)."""
    env = os.environ if environ is None else environ
    value = (env.get(ENV_VAR) or "replay").strip().lower()
    if value not in MODES:
        raise ValueError(f"{ENV_VAR}={value!r} is not one of {', '.join(MODES)}")
    return value  # narrowed to Mode by the membership test


def replay_environ(base: Mapping[str, str] | None = None, *, region: str | None = None) -> dict[str, str]:
    """An environment for replay: AWS's documented example keys instead of whatever is configured,
    so a replayed call never looks for (or signs with) real credentials."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _ENV_AUTH}
    env["AWS_ACCESS_KEY_ID"] = EXAMPLE_ACCESS_KEY_ID
    env["AWS_SECRET_ACCESS_KEY"] = EXAMPLE_SECRET_ACCESS_KEY
    if region and not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        env["AWS_REGION"] = region
    return env


def replay_client(
    fixture: Fixture | str | Path | ReplayTransport,
    *,
    record_command: str | None = None,
    environ: Mapping[str, str] | None = None,
    region: str | None = None,
) -> Client:
    """A ``Client`` answered by ``fixture`` (a file, a ``Fixture`` or a ``ReplayTransport``), sync
    and async, with example credentials (and ``region`` when the environment names none)."""
    transport = (
        fixture if isinstance(fixture, ReplayTransport) else ReplayTransport(fixture, record_command=record_command)
    )
    # A private clock: a replayed "signature expired" answer must not skew the process's real clock.
    return Client(
        transport=transport, async_transport=transport, environ=replay_environ(environ, region=region), clock=Clock()
    )


def recording_client(
    recorder: Recorder | None = None,
    *,
    inner: httpx.BaseTransport | None = None,
    async_inner: httpx.AsyncBaseTransport | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Client, Recorder]:
    """A ``Client`` that records every exchange it makes through the real network."""
    transport = RecordingTransport(recorder, inner=inner, async_inner=async_inner)
    return Client(transport=transport, async_transport=transport, environ=environ), transport.recorder


def _model_of(exchanges: list[Exchange]) -> str:
    for e in exchanges:
        parts = httpx.URL(e.request.url).raw_path.decode("ascii").split("/")
        if len(parts) >= 3 and parts[1] == "model":
            return "bedrock:" + unquote(parts[2])
    return ""


def source_of(exchanges: Iterable[Exchange]) -> tuple[Literal["recorded", "emulator"], str | None]:
    """Where recorded exchanges came from: ``("emulator", None)`` for a loopback host, else
    ``("recorded", region)`` with the region read from the Bedrock host name when it has one."""
    for e in exchanges:
        host = httpx.URL(e.request.url).host
        if host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost"):
            return "emulator", None
        m = re.match(r"^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$", host)
        return "recorded", m.group(1) if m else None
    return "recorded", None


def save_fixture(
    path: str | Path,
    exchanges: Iterable[Exchange],
    *,
    name: str,
    source: Literal["recorded", "aws-docs", "emulator"],
    calls: Iterable[StoredCall] = (),
    model: str | None = None,
    region: str | None = None,
    source_url: str | None = None,
    notes: str | None = None,
) -> Path:
    """Write a fixture, after checking it holds nothing secret-shaped (``FixtureError`` if it does)."""
    exchanges = list(exchanges)
    fixture = Fixture(
        format=FORMAT_VERSION,
        name=name,
        provider="amazon_bedrock",
        model=model or _model_of(exchanges),
        captured_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        source=source,
        region=region,
        source_url=source_url,
        notes=notes,
        calls=list(calls),
        exchanges=exchanges,
    )
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        draft = dump_fixture(fixture, Path(tmp) / path.name)
        findings = scan_file(draft)
        if findings:
            raise FixtureError(
                f"refusing to write {path}: it holds secret-shaped values:\n"
                + "\n".join(f"  {f.kind} at {f.where.replace(str(draft), str(path))}: {f.excerpt}" for f in findings)
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(draft.read_bytes())
    return path


# -- calls and expectations --------------------------------------------------------------------

Outcome = Response | ReqbedError


def _stored_options(opts: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(msgspec.to_builtins(dict(opts)))
    po = {k: v for k, v in (out.pop("provider_options", None) or {}).items() if k not in _NOT_STORED}
    if po:
        out["provider_options"] = po
    return out


def expectation(outcome: Outcome) -> dict[str, Any]:
    """What a fixture stores about an answer: text, thinking, finish, usage, tool calls; or the error."""
    if isinstance(outcome, ReqbedError):
        out: dict[str, Any] = {"error": type(outcome).__name__}
        if isinstance(outcome, APIError):
            out.update(status=outcome.status, code=outcome.code)
        return out
    return {
        "text": outcome.text,
        "thinking": outcome.thinking,
        "finish_reason": outcome.finish_reason,
        "usage": _usage(outcome.usage),
        "tool_calls": msgspec.to_builtins(outcome.tool_calls),
    }


def _usage(usage: Any) -> dict[str, Any]:
    """Usage as stored: ``cache_write_by_ttl`` only when Bedrock reported it (older fixtures lack it)."""
    out: dict[str, Any] = msgspec.to_builtins(usage)
    if not out.get("cache_write_by_ttl"):
        out.pop("cache_write_by_ttl", None)
    return out


def check_expectation(outcome: Outcome, expect: Mapping[str, Any]) -> list[str]:
    """Differences between an answer and a stored expectation (empty: it matches)."""
    got = expectation(outcome)
    problems = []
    for key, want in expect.items():
        have = got.get(key)
        if canonical_json(have) != canonical_json(want):
            problems.append(f"{key}: expected {want!r}, got {have!r}")
    for key in got.keys() - expect.keys():
        problems.append(f"{key}: not in the expectation (got {got[key]!r})")
    return problems


def run_call(client: Client, call: StoredCall, **extra_provider_options: Any) -> Outcome:
    """Issue a stored call (streams read to the end); reqbed errors are returned, not raised."""
    opts = _with_provider_options(call.options, extra_provider_options)
    try:
        if call.function == "stream_text":
            with client.stream_text(call.model, call.prompt, **opts) as stream:
                return stream.response()
        return client.generate_text(call.model, call.prompt, **opts)
    except ReqbedError as e:
        return e


async def arun_call(client: Client, call: StoredCall, **extra_provider_options: Any) -> Outcome:
    """The async ``run_call``."""
    opts = _with_provider_options(call.options, extra_provider_options)
    try:
        if call.function == "stream_text":
            async with await client.astream_text(call.model, call.prompt, **opts) as stream:
                return await stream.response()
        return await client.agenerate_text(call.model, call.prompt, **opts)
    except ReqbedError as e:
        return e


def _with_provider_options(options: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    opts = dict(options)
    if extra:
        opts["provider_options"] = {**(opts.get("provider_options") or {}), **extra}
    return opts


class CallLog:
    """Run calls against a client and keep them as ``StoredCall``s (with their expectations).

    ``provider_options`` given here (endpoint, credentials) are used for every call but never
    stored; ``log.calls`` goes into ``save_fixture(calls=...)``.
    """

    def __init__(self, client: Client, *, provider_options: Mapping[str, Any] | None = None) -> None:
        self.client = client
        self.calls: list[StoredCall] = []
        self._extra = dict(provider_options or {})

    def _run(self, function: Literal["generate_text", "stream_text"], model: str, prompt: Any, opts: Any) -> Outcome:
        call = StoredCall(
            function=function,
            model=model,
            prompt=msgspec.to_builtins(prompt),
            options=_stored_options(opts),
        )
        outcome = run_call(self.client, call, **self._extra)
        call.expect = expectation(outcome)
        self.calls.append(call)
        return outcome

    def generate_text(self, model: str, prompt: Any, **opts: Any) -> Outcome:
        """``Client.generate_text``, returning the error instead of raising it."""
        return self._run("generate_text", model, prompt, opts)

    def stream_text(self, model: str, prompt: Any, **opts: Any) -> Outcome:
        """``Client.stream_text`` read to the end: the assembled ``Response`` or the error."""
        return self._run("stream_text", model, prompt, opts)
