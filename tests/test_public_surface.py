"""What users see of reqbed's names: ``reqbed.X`` in reprs and tracebacks, a ``dir()`` without the
facade's own imports, and the connection error renamed so that it no longer shadows the builtin."""

from __future__ import annotations

import builtins
import inspect
import json
import pickle
import subprocess
import sys
import traceback
import typing

import msgspec
import pytest

import reqbed

_MODULES = """
import inspect, json, reqbed
print(json.dumps({
    name: getattr(reqbed, name).__module__
    for name in reqbed.__all__
    if inspect.isclass(getattr(reqbed, name)) or inspect.isfunction(getattr(reqbed, name))
}))
"""


def test_every_exported_class_and_function_says_reqbed() -> None:
    """Checked in a fresh interpreter (the lazy ``Client`` and stream types included)."""
    out = subprocess.run([sys.executable, "-c", _MODULES], capture_output=True, text=True, check=True).stdout
    modules = json.loads(out)
    assert {"Client", "StreamResponse", "ValidationError", "TextChunk", "ChatOptions", "put_key"} <= set(modules)
    assert {name for name, module in modules.items() if module != "reqbed"} == set()


def test_reprs_and_tracebacks_show_reqbed_x() -> None:
    assert repr(reqbed.TextChunk) == "<class 'reqbed.TextChunk'>"
    assert repr(reqbed.Client) == "<class 'reqbed.Client'>"
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.generate_text("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "hi", temperature=3)
    last = traceback.format_exception(info.value)[-1]
    assert last.startswith("reqbed.ValidationError: temperature: must be between")


@pytest.mark.parametrize("name", [n for n in reqbed.__all__ if inspect.isclass(getattr(reqbed, n))])
def test_annotations_of_exported_classes_still_resolve(name: str) -> None:
    """msgspec and ``typing.get_type_hints`` resolve annotations in ``__module__``, now the facade."""
    typing.get_type_hints(getattr(reqbed, name))


def test_structs_still_encode_decode_and_pickle() -> None:
    msg = reqbed.Message(role="assistant", content=[reqbed.TextPart(text="hi"), reqbed.ToolCall(id="1", name="f")])
    assert msgspec.json.decode(msgspec.json.encode(msg), type=reqbed.Message) == msg
    assert msgspec.convert({"type": "usage", "usage": {"input_tokens": 1}}, reqbed.Chunk) == reqbed.UsageChunk(
        usage=reqbed.Usage(input_tokens=1)
    )
    assert pickle.loads(pickle.dumps(msg)) == msg
    err = pickle.loads(pickle.dumps(reqbed.APIConnectionError("could not talk to x")))
    assert type(err) is reqbed.APIConnectionError
    assert msgspec.json.schema(reqbed.Response)["$ref"] == "#/$defs/Response"


def test_dir_shows_the_public_names_not_the_imports() -> None:
    names = dir(reqbed)
    assert {"Any", "TYPE_CHECKING", "annotations"} & set(names) == set()
    assert set(reqbed.__all__) <= set(names)
    extra = {n for n in names if not n.startswith("__")} - set(reqbed.__all__)
    assert all(isinstance(getattr(reqbed, n), type(reqbed)) for n in extra), extra  # only loaded submodules


def test_api_connection_error_does_not_shadow_the_builtin() -> None:
    assert "APIConnectionError" in reqbed.__all__
    assert "ConnectionError" not in reqbed.__all__
    namespace: dict[str, object] = {}
    exec("from reqbed import *", namespace)
    assert "ConnectionError" not in namespace
    assert not issubclass(reqbed.APIConnectionError, builtins.ConnectionError)


def test_the_old_name_is_a_deprecated_alias_of_the_same_class() -> None:
    with pytest.warns(DeprecationWarning, match=r"reqbed\.ConnectionError is deprecated.*reqbed\.APIConnectionError"):
        old = reqbed.ConnectionError  # type: ignore[attr-defined]
    assert old is reqbed.APIConnectionError
    with pytest.warns(DeprecationWarning, match="APIConnectionError"):
        from reqbed import ConnectionError as Old  # type: ignore[attr-defined]
    try:
        raise reqbed.APIConnectionError("could not talk to bedrock-runtime.us-east-1.amazonaws.com")
    except Old as e:  # ``except reqbed.ConnectionError`` still catches the new class
        assert "could not talk" in str(e)  # noqa: PT017


def test_an_unreachable_endpoint_raises_api_connection_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    po: reqbed.ProviderOptions = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "region": "us-east-1",
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    }
    with reqbed.Client() as client, pytest.raises(reqbed.APIConnectionError, match=r"could not talk to 127\.0\.0\.1"):
        client.generate_text(
            "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "hi", max_retries=0, provider_options=po
        )
