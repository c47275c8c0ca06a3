"""Operations: a new verb is one small object; ``Client``'s send path (``_call`` / ``_acall``) does not change.

``RawConverse`` and ``Probe`` below are verbs the library does not have: one posts a hand-built
body and returns the status and the raw bytes, the other GETs another path and returns only the
status. Each is an ``Operation`` subclass and nothing else; they run end to end against the
emulator (sync, asyncio, trio) with signing, retries and the deadline, through the same send path
as ``generate_text``.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from collections.abc import Mapping
from typing import Any

import msgspec
import pytest

import reqbed
from reqbed._aws.credentials import DEFAULT_REGION, resolve_auth, resolve_endpoint
from reqbed._capabilities import Capabilities
from reqbed._fallback import Target
from reqbed._families import CONVERSE, family_for
from reqbed._operation import Operation, WholeAnswer
from reqbed._pipeline import Prepared, prepare, relocate
from reqbed._request import ProviderOptions
from reqbed._retry import RetryPolicy
from reqbed.testing import EXAMPLE_API_KEY, Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
MODEL_ID = "anthropic.claude-3-7-sonnet-20250219-v1:0"


def _prepared(emu: Emulator, *, method: str, path: str, body: bytes, headers: dict[str, str]) -> Prepared:
    po = msgspec.convert(emu.provider_options(), ProviderOptions)
    options = po.as_mapping()
    return Prepared(
        method=method,
        site=resolve_endpoint,
        path=path,
        url=resolve_endpoint(options, "us-east-1", {}) + path,
        body=body,
        headers=headers,
        region="us-east-1",
        region_explicit=True,
        provider_options=po,
        auth=resolve_auth(options, {}),
        label="raw",
        environ={},
    )


class RawConverse(WholeAnswer[tuple[int, bytes]]):
    """POST /model/{id}/converse with a body written by hand; the result: (status, raw body)."""

    __slots__ = ("emu", "text")

    def __init__(self, emu: Emulator, text: str) -> None:
        self.emu = emu
        self.text = text

    def plan(self, environ: Mapping[str, str]) -> list[Target]:
        body = json.dumps({"messages": [{"role": "user", "content": [{"text": self.text}]}]}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        path = f"/model/{MODEL_ID.replace(':', '%3A')}/converse"
        return [Target(_prepared(self.emu, method="POST", path=path, body=body, headers=headers), "raw")]

    def parse(self, target: Target, status: int, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        if status >= 300:
            raise self.error(status, headers, body)  # so that throttling is retried like any call's
        return status, body


class Probe(WholeAnswer[int]):
    """GET a path the emulator does not serve; the result is only the status."""

    __slots__ = ("emu",)

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def plan(self, environ: Mapping[str, str]) -> list[Target]:
        p = _prepared(self.emu, method="GET", path="/no-such-route", body=b"", headers={"Accept": "*/*"})
        return [Target(p, "probe")]

    def parse(self, target: Target, status: int, headers: Mapping[str, str], body: bytes) -> int:
        return status


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations that went through ``Client._call`` / ``_acall``, by class name."""
    seen: list[str] = []
    call, acall = reqbed.Client._call, reqbed.Client._acall

    def spy(self: reqbed.Client, op: Operation[Any, Any]) -> Any:
        seen.append(type(op).__name__)
        return call(self, op)

    async def aspy(self: reqbed.Client, op: Operation[Any, Any]) -> Any:
        seen.append(type(op).__name__)
        return await acall(self, op)

    monkeypatch.setattr(reqbed.Client, "_call", spy)
    monkeypatch.setattr(reqbed.Client, "_acall", aspy)
    return seen


def fast() -> reqbed.Client:
    return reqbed.Client(retry_policy=RetryPolicy(random=lambda: 0.0))


def test_a_new_operation_runs_through_the_same_send_path(emulator: Emulator, sends: list[str]) -> None:
    emulator.inject("throttling", 1, match="raw sync")
    with fast() as c:
        status, raw = c._call(RawConverse(emulator, "raw sync"))
        assert c._call(Probe(emulator)) == 404
        c.generate_text(MODEL, "chat sync", provider_options=emulator.provider_options())
    assert status == 200
    assert json.loads(raw)["output"]["message"]["content"][0]["text"] == "You said: raw sync"
    assert sends == ["RawConverse", "Probe", "GenerateText"]
    raw_requests = [r for r in emulator.requests if b"raw sync" in r["body"]]
    assert len(raw_requests) == 2  # throttled, retried by the shared flow, then answered (the emulator checks SigV4)
    probe = next(r for r in emulator.requests if r["path"] == "/no-such-route")
    assert probe["method"] == "GET"
    assert probe["headers"]["accept"] == "*/*"
    assert probe["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")


@pytest.mark.anyio
async def test_a_new_operation_runs_through_the_same_async_send_path(emulator: Emulator, sends: list[str]) -> None:
    marker = f"raw async {len(emulator.requests)}"
    emulator.inject("throttling", 1, match=marker)
    async with fast() as c:
        status, raw = await c._acall(RawConverse(emulator, marker))
        assert await c._acall(Probe(emulator)) == 404
        await c.agenerate_text(MODEL, "chat async", provider_options=emulator.provider_options())
    assert status == 200
    assert json.loads(raw)["output"]["message"]["content"][0]["text"] == f"You said: {marker}"
    assert sends == ["RawConverse", "Probe", "GenerateText"]
    assert len([r for r in emulator.requests if marker.encode() in r["body"]]) == 2


def test_the_public_verbs_are_one_line_over_the_send_path() -> None:
    calls = {"generate_text": "_call", "stream_text": "_call", "agenerate_text": "_acall", "astream_text": "_acall"}
    for name, path in calls.items():
        tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(reqbed.Client, name))))
        fn = tree.body[0]
        assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        assert len(body) == 1, name
        called = body[0].value  # type: ignore[attr-defined]
        called = called.value if isinstance(called, ast.Await) else called
        assert isinstance(called, ast.Call), name
        assert isinstance(called.func, ast.Attribute), name
        assert called.func.attr == path, name


def test_the_send_path_names_no_verb() -> None:
    """``_call`` / ``_acall`` and the steps they run know operations only through ``Operation``."""
    verbs = {"GenerateText", "StreamText", "ChatPrepared", "StreamResponse", "AsyncStreamResponse", "formatter"}
    for name in ("_call", "_acall", "_send_sync", "_send_async", "_auth_sync", "_auth_async", "_request"):
        source = inspect.getsource(getattr(reqbed.Client, name))
        assert not [v for v in verbs if v in source], name


# -- step 5 again, and capabilities once: pure -----------------------------------------------------


def test_relocate_moves_a_copy_and_never_an_explicit_region() -> None:
    p = prepare(MODEL, "hi", {"provider_options": {"api_key": EXAMPLE_API_KEY}}, environ={})
    assert (p.region, p.region_explicit) == (DEFAULT_REGION, False)
    moved = relocate(p, "eu-west-1")
    assert moved is not p
    assert moved.url == p.url.replace(DEFAULT_REGION, "eu-west-1")
    assert (moved.region, moved.region_explicit) == ("eu-west-1", True)
    assert (p.region, p.region_explicit) == (DEFAULT_REGION, False)  # unchanged
    assert relocate(moved, "ap-south-1") is moved  # explicit now: stays
    assert relocate(p, None) is p
    given = prepare(MODEL, "hi", {"provider_options": {"api_key": EXAMPLE_API_KEY, "region": "us-west-2"}}, environ={})
    assert relocate(given, "eu-west-1") is given


def test_capabilities_are_found_once_and_read_by_the_formatter() -> None:
    model = "bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0"
    opts = {"provider_options": {"api_key": EXAMPLE_API_KEY, "use_converse": True}, "reasoning_effort": "medium"}
    p = prepare(model, "hi", opts, environ={})
    assert p.request.capabilities == family_for(p.request.spec).capabilities(p.request.spec)
    assert "thinking" in json.loads(p.body)["additionalModelRequestFields"]
    # The formatter believes the request's capabilities; it does not look them up again.
    without = msgspec.structs.replace(p.request, capabilities=Capabilities(thinking=False))
    assert "thinking" not in CONVERSE.build_body(without).get("additionalModelRequestFields", {})


def test_the_aws_wing_never_imports_the_pipeline() -> None:
    from pathlib import Path

    wing = Path(reqbed.__file__).parent / "_aws"
    for module in wing.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
                assert not [n for n in names if "_pipeline" in n or "_client" in n], module.name
