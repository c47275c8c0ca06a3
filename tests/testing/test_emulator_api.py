"""The emulator's public surface: the fault API (``inject``, ``faults``, ``clear_faults``),
``reset()``, and the explicit responder table (``_responders``, ``native_handlers=``)."""

from __future__ import annotations

import ast
from typing import Any, get_args

import httpx
import pytest

import reqbed
from reqbed.testing import EXAMPLE_API_KEY, Emulator, _responders
from reqbed.testing import emulator as emulator_module
from reqbed.testing.emulator import FAULTS, FaultKind
from tests.support import REPO

MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
MODEL = f"bedrock:{MODEL_ID}"


def converse(emu: Emulator, body: dict[str, Any], model_id: str = MODEL_ID) -> httpx.Response:
    """A Converse request with the example API key (no reqbed in between)."""
    with httpx.Client() as c:
        return c.post(
            f"{emu.endpoint_url}/model/{model_id.replace(':', '%3A')}/converse",
            json=body,
            headers={"Authorization": f"Bearer {EXAMPLE_API_KEY}"},
        )


# -- faults ----------------------------------------------------------------------------------------


def test_the_typed_fault_kinds_are_the_documented_ones() -> None:
    assert set(get_args(FaultKind)) == set(FAULTS)


def test_pending_faults_are_listed_and_consumed(emulator: Emulator) -> None:
    emulator.inject("throttling", times=2, match="boom", retry_after=1)
    [fault] = emulator.faults
    assert (fault.kind, fault.times, fault.match, fault.params) == ("throttling", 2, b"boom", {"retry_after": 1})
    r = reqbed.generate_text(MODEL, "no fault here", max_retries=0, provider_options=emulator.provider_options())
    assert r.text == "You said: no fault here"
    with pytest.raises(reqbed.ThrottlingError):
        reqbed.generate_text(MODEL, "boom", max_retries=0, provider_options=emulator.provider_options())
    assert [f.times for f in emulator.faults] == [1]
    with pytest.raises(reqbed.ThrottlingError):
        reqbed.generate_text(MODEL, "boom", max_retries=0, provider_options=emulator.provider_options())
    assert emulator.faults == ()


def test_faults_are_copies(emulator: Emulator) -> None:
    emulator.inject("internal", exception="x")
    copy = emulator.faults[0]
    copy.times = 99
    copy.params["exception"] = "changed"
    assert (emulator.faults[0].times, emulator.faults[0].params) == (1, {"exception": "x"})


def test_clear_faults_drops_them_all(emulator: Emulator) -> None:
    emulator.inject("internal", times=3)
    emulator.inject("drop")
    emulator.clear_faults()
    assert emulator.faults == ()
    assert reqbed.generate_text(MODEL, "Hi", max_retries=0, provider_options=emulator.provider_options()).text


def test_inject_refuses_an_unknown_kind_and_a_bad_count(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault 'nope'"):
        emulator.inject("nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times must be a positive int"):
        emulator.inject("internal", times=0)
    assert emulator.faults == ()


# -- reset -----------------------------------------------------------------------------------------

CACHED = {
    "messages": [
        {
            "role": "user",
            "content": [{"text": "a long shared prefix"}, {"cachePoint": {"type": "default"}}, {"text": "q"}],
        }
    ]
}


def test_reset_forgets_faults_requests_and_the_prompt_cache(emulator: Emulator) -> None:
    first = converse(emulator, CACHED).json()["usage"]
    second = converse(emulator, CACHED).json()["usage"]
    assert (first["cacheWriteInputTokens"] > 0, second["cacheReadInputTokens"] > 0) == (True, True)
    emulator.inject("throttling")
    emulator.reset()
    assert (emulator.faults, emulator.requests) == ((), [])
    again = converse(emulator, CACHED)
    assert again.status_code == 200
    assert again.json()["usage"]["cacheWriteInputTokens"] == first["cacheWriteInputTokens"]
    assert again.json()["usage"]["cacheReadInputTokens"] == 0
    assert len(emulator.requests) == 1


def test_the_plugin_fixture_hands_each_test_a_reset_emulator(reqbed_emulator: Emulator) -> None:
    """Whatever an earlier test left (it injected, it called): nothing pending, an empty log."""
    assert (reqbed_emulator.faults, reqbed_emulator.requests) == ((), [])
    reqbed_emulator.inject("internal", times=5)  # left behind on purpose: the next test must not see it


def test_the_plugin_fixture_hands_each_test_a_reset_emulator_again(reqbed_emulator: Emulator) -> None:
    assert (reqbed_emulator.faults, reqbed_emulator.requests) == ((), [])


# -- the responder table ----------------------------------------------------------------------------


def test_the_builtin_table_names_each_native_family() -> None:
    from reqbed.testing import _anthropic_responder, _native_responders

    assert dict(_responders.BUILTIN_NATIVE) == {
        "anthropic": _anthropic_responder.handle,
        "cohere": _native_responders.handle_cohere,
        "openai": _native_responders.handle_openai,
        "meta": _native_responders.handle_meta,
    }
    with pytest.raises(TypeError):
        _responders.BUILTIN_NATIVE["x"] = _anthropic_responder.handle  # type: ignore[index]


def _imports(path: str) -> set[str]:
    tree = ast.parse((REPO / path).read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
            found.update("." * node.level + (node.module or "") + "." + a.name for a in node.names)
    return found


@pytest.mark.parametrize(
    "responder",
    ["reqbed/testing/_anthropic_responder.py", "reqbed/testing/_native_responders.py", "reqbed/testing/_responders.py"],
)
def test_responders_never_import_the_emulator(responder: str) -> None:
    assert not {name for name in _imports(responder) if "emulator" in name}


def test_an_emulator_takes_its_own_native_handlers() -> None:
    def handler(model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return {"echo": model_id, "body": body}, [{"echo": 1}]

    with Emulator(native_handlers={"anthropic": handler}) as emu, httpx.Client() as c:
        r = c.post(
            f"{emu.endpoint_url}/model/{MODEL_ID.replace(':', '%3A')}/invoke",
            json={"x": 1},
            headers={"Authorization": f"Bearer {EXAMPLE_API_KEY}"},
        )
    assert r.json() == {"echo": MODEL_ID, "body": {"x": 1}}
    assert emulator_module.native_handlers()["anthropic"] is _responders.BUILTIN_NATIVE["anthropic"]


def test_register_native_teaches_every_emulator(monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> None:
    monkeypatch.setattr(_responders, "_registered", {})

    def handler(model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return {"registered": True}, []

    emulator_module.register_native("mistral", handler)
    with httpx.Client() as c:
        r = c.post(
            f"{emulator.endpoint_url}/model/mistral.mistral-large-2407-v1%3A0/invoke",
            json={"prompt": "hi"},
            headers={"Authorization": f"Bearer {EXAMPLE_API_KEY}"},
        )
    assert r.json() == {"registered": True}


def test_the_testing_package_exports_its_names_lazily() -> None:
    """``import reqbed.testing`` does not import the emulator (so ``python -m reqbed.testing.emulator``
    runs it once, as ``__main__``); each exported name resolves on first use."""
    import subprocess
    import sys

    code = (
        "import sys, reqbed.testing as t; assert 'reqbed.testing.emulator' not in sys.modules; "
        "names = [getattr(t, n) for n in t.__all__]; assert 'reqbed.testing.emulator' in sys.modules; "
        "print(len(names))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    import reqbed.testing

    assert out.stdout.strip() == str(len(reqbed.testing.__all__))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        reqbed.testing.nope  # noqa: B018
