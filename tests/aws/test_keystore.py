"""``put_key`` / ``get_key`` / ``clear_keys``: the process-wide credential store.

What the stored credentials do on a call (precedence, regions) is in test_credentials_precedence.py.
"""

from __future__ import annotations

import threading
from types import MappingProxyType
from typing import Any

import pytest

import reqbed
from reqbed._aws import keystore as _keystore

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FAKE_API_KEY = "ABSK-fake-key-for-keystore-tests"


def test_string_forms() -> None:
    reqbed.put_key("aws_bedrock", FAKE_API_KEY)
    assert reqbed.get_key("aws_bedrock") == {"api_key": FAKE_API_KEY}
    reqbed.put_key("aws_bedrock_api_key", FAKE_API_KEY)
    assert reqbed.get_key("aws_bedrock_api_key") == FAKE_API_KEY


def test_dict_form_drops_empty_values_and_returns_copies() -> None:
    reqbed.put_key(
        "aws_bedrock",
        {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET, "session_token": None, "region": ""},
    )
    stored = reqbed.get_key("aws_bedrock")
    assert stored == {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET}
    stored["access_key_id"] = "changed"
    assert reqbed.get_key("aws_bedrock")["access_key_id"] == "AKIDEXAMPLE"


def test_any_mapping_is_accepted() -> None:
    reqbed.put_key("aws_bedrock", MappingProxyType({"region": "eu-west-1"}))
    assert reqbed.get_key("aws_bedrock") == {"region": "eu-west-1"}


def test_a_later_put_replaces_the_earlier_one() -> None:
    reqbed.put_key("aws_bedrock", {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET})
    reqbed.put_key("aws_bedrock", {"region": "us-west-2"})
    assert reqbed.get_key("aws_bedrock") == {"region": "us-west-2"}


def test_clear_one_or_all() -> None:
    reqbed.put_key("aws_bedrock", FAKE_API_KEY)
    reqbed.put_key("aws_bedrock_api_key", FAKE_API_KEY)
    reqbed.clear_keys("aws_bedrock")
    assert reqbed.get_key("aws_bedrock") is None
    assert reqbed.get_key("aws_bedrock_api_key") == FAKE_API_KEY
    reqbed.clear_keys("aws_bedrock")  # clearing twice is fine
    reqbed.clear_keys()
    assert reqbed.get_key("aws_bedrock_api_key") is None
    assert reqbed.get_key("unknown") is None


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("openai", FAKE_API_KEY, "name"),
        ("aws_bedrock", "", "aws_bedrock"),
        ("aws_bedrock", "   ", "aws_bedrock"),
        ("aws_bedrock_api_key", "", "aws_bedrock_api_key"),
        ("aws_bedrock_api_key", {"api_key": FAKE_API_KEY}, "aws_bedrock_api_key"),
        ("aws_bedrock", 42, "aws_bedrock"),
        ("aws_bedrock", None, "aws_bedrock"),
        ("aws_bedrock", {"acces_key_id": "AKIDEXAMPLE"}, "aws_bedrock"),
        ("aws_bedrock", {1: "x"}, "aws_bedrock"),
        ("aws_bedrock", {"region": 1}, "aws_bedrock.region"),
        ("aws_bedrock", {"access_key_id": "AKIDEXAMPLE"}, "aws_bedrock"),
        ("aws_bedrock", {"secret_access_key": SECRET}, "aws_bedrock"),
        ("aws_bedrock", {"session_token": "example-token"}, "aws_bedrock"),
        ("aws_bedrock", {"region": "Europe"}, "aws_bedrock.region"),
        ("aws_bedrock", {"region": "evil.example.com/"}, "aws_bedrock.region"),
        ("aws_bedrock", FAKE_API_KEY + "\n", "aws_bedrock"),
        ("aws_bedrock_api_key", " " + FAKE_API_KEY, "aws_bedrock_api_key"),
        ("aws_bedrock", {"api_key": FAKE_API_KEY + "\r\n"}, "aws_bedrock.api_key"),
        (
            "aws_bedrock",
            {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET + "\n"},
            "aws_bedrock.secret_access_key",
        ),
        (
            "aws_bedrock",
            {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SECRET, "session_token": "tok\x00en"},
            "aws_bedrock.session_token",
        ),
        ("aws_bedrock_api_key", "ABSK-clé", "aws_bedrock_api_key"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(name: str, value: Any, field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as info:
        reqbed.put_key(name, value)
    assert info.value.field == field
    for secret in (SECRET, FAKE_API_KEY, "tok\x00en", "example-token"):
        assert secret not in str(info.value)
    assert reqbed.get_key(name) is None  # nothing half-stored


def test_a_failed_put_keeps_the_previous_value() -> None:
    reqbed.put_key("aws_bedrock_api_key", FAKE_API_KEY)
    with pytest.raises(reqbed.ValidationError):
        reqbed.put_key("aws_bedrock_api_key", "")
    assert reqbed.get_key("aws_bedrock_api_key") == FAKE_API_KEY


def test_key_names_are_documented() -> None:
    assert _keystore.KEY_NAMES == ("aws_bedrock", "aws_bedrock_api_key")
    with pytest.raises(reqbed.ValidationError, match="aws_bedrock, aws_bedrock_api_key"):
        reqbed.put_key("aws", FAKE_API_KEY)


def test_threads_see_whole_values_only() -> None:
    pairs = [{"access_key_id": f"AKIDEXAMPLE{i}", "secret_access_key": f"{SECRET}{i}"} for i in range(8)]
    torn: list[Any] = []
    stop = threading.Event()

    def writer(pair: dict[str, str]) -> None:
        for _ in range(300):
            reqbed.put_key("aws_bedrock", pair)

    def reader() -> None:
        while not stop.is_set():
            v = reqbed.get_key("aws_bedrock")
            if v is not None and v["access_key_id"][len("AKIDEXAMPLE") :] != v["secret_access_key"][len(SECRET) :]:
                torn.append(v)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(p,)) for p in pairs]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert torn == []
    assert reqbed.get_key("aws_bedrock") in pairs
