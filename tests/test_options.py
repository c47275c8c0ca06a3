"""The typed options (``reqbed.ChatOptions``, ``reqbed.ProviderOptions``) are the one list of option
names: the validator's known-option set comes from them, and the validating Struct agrees with them."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

import reqbed
from reqbed import _options, _request

DOCS = Path(__file__).parent.parent / "docs" / "options.md"


def test_known_options_are_the_typeddict_keys() -> None:
    assert set(reqbed.ChatOptions.__annotations__) == _request._KNOWN_OPTS
    assert reqbed.ChatOptions.__required_keys__ == frozenset()


def test_an_option_missing_from_chat_options_is_refused() -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.generate_text("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "hi", max_token=5)  # type: ignore[call-arg]
    assert info.value.field == "max_token"
    assert "max_tokens" in str(info.value)  # the known options are listed


def _strip_none(hint: object) -> object:
    args = typing.get_args(hint)
    if type(None) in args:
        rest = tuple(a for a in args if a is not type(None))
        return rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007
    return hint


def test_provider_options_typeddict_matches_the_validating_struct() -> None:
    typed = typing.get_type_hints(reqbed.ProviderOptions)
    struct = typing.get_type_hints(_request.ProviderOptions)
    assert list(typed) == list(_request.ProviderOptions.__struct_fields__)
    for key, hint in typed.items():
        assert _strip_none(struct[key]) == hint, key


def test_fallback_requires_a_model() -> None:
    assert _options.Fallback.__required_keys__ == {"model"}
    assert _options.Fallback.__optional_keys__ == {"provider_options"}


def test_the_facade_takes_unpacked_chat_options() -> None:
    for fn in (reqbed.generate_text, reqbed.agenerate_text, reqbed.stream_text, reqbed.astream_text):
        opts = inspect.signature(fn).parameters["opts"]
        assert opts.kind is inspect.Parameter.VAR_KEYWORD
        assert opts.annotation == "Unpack[ChatOptions]"


def test_options_md_documents_every_option_and_provider_option() -> None:
    text = DOCS.read_text()
    for key in [*reqbed.ChatOptions.__annotations__, *reqbed.ProviderOptions.__annotations__]:
        assert f"| `{key}`" in text, key
