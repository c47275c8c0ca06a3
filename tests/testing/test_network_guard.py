"""The network guard hook (``reqbed.testing.set_network_guard``): what the pytest plugin's replay
mode uses instead of patching reqbed's private transport classes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import reqbed
from reqbed import _client, _transport
from reqbed.testing import Emulator, NetworkGuard, network_guard, set_network_guard

pytest_plugins = ["pytester"]

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"


class Refused(Exception):
    pass


@pytest.fixture(autouse=True)
def no_guard() -> Iterator[None]:
    """These tests install their own guards: start from none (the suite's replay guard is put back)."""
    previous = set_network_guard(None)
    yield
    set_network_guard(previous)


def recording_guard(seen: list[str], *, refuse: bool = False) -> NetworkGuard:
    def guard(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.path.rpartition('/')[2]}")
        if refuse:
            raise Refused(str(request.url))

    return guard


def test_the_guard_sees_each_signed_request(emulator: Emulator) -> None:
    seen: list[str] = []
    with network_guard(recording_guard(seen)), reqbed.Client() as client:
        client.generate_text(MODEL, "Hi", provider_options=emulator.provider_options())
        with client.stream_text(MODEL, "streamed", provider_options=emulator.provider_options()) as s:
            assert s.response().text == "You said: streamed"
    assert seen == ["POST invoke", "POST invoke-with-response-stream"]
    assert emulator.requests[0]["headers"]["authorization"].startswith("AWS4-HMAC-SHA256")


def test_a_refusing_guard_stops_the_request(emulator: Emulator) -> None:
    with network_guard(recording_guard([], refuse=True)), reqbed.Client() as client, pytest.raises(Refused):
        client.generate_text(MODEL, "Hi", max_retries=0, provider_options=emulator.provider_options())
    assert emulator.requests == []


@pytest.mark.anyio
async def test_the_guard_applies_to_each_event_loops_pool(emulator: Emulator) -> None:
    seen: list[str] = []
    with network_guard(recording_guard(seen)):
        async with reqbed.Client() as client:
            r = await client.agenerate_text(MODEL, "Hi", provider_options=emulator.provider_options())
    assert r.text == "You said: Hi"
    assert len(seen) == 1


def test_a_transport_given_to_the_client_is_not_guarded(emulator: Emulator) -> None:
    """Only reqbed's own network pools are guarded: a caller's transport (replay, tests) is not."""
    seen: list[str] = []
    with (
        network_guard(recording_guard(seen, refuse=True)),
        reqbed.Client(transport=httpx.HTTPTransport()) as client,
    ):
        assert client.generate_text(MODEL, "Hi", provider_options=emulator.provider_options()).text
    assert seen == []


def test_pools_built_before_the_guard_stay_unguarded(emulator: Emulator) -> None:
    seen: list[str] = []
    with reqbed.Client() as client:
        client.generate_text(MODEL, "first", provider_options=emulator.provider_options())
        with network_guard(recording_guard(seen, refuse=True)):
            assert client.generate_text(MODEL, "second", provider_options=emulator.provider_options()).text
    assert seen == []


def test_set_network_guard_returns_the_previous_one_and_the_block_restores_it() -> None:
    first: NetworkGuard = recording_guard([])
    second: NetworkGuard = recording_guard([])
    assert set_network_guard(first) is None
    with network_guard(second):
        assert set_network_guard(second) is second
    assert set_network_guard(None) is first


def test_the_replay_guard_does_not_patch_private_classes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin's replay mode blocks a real host through the hook; reqbed's transport classes stay
    reqbed's own while it does."""
    pytester.makepyfile(
        """
        import pytest, reqbed
        from reqbed import _client, _transport
        from reqbed.testing.pytest_plugin import NetworkBlockedError

        def test_blocked():
            assert _client.SigningTransport is _transport.SigningTransport
            assert _client.AsyncSigningTransport is _transport.AsyncSigningTransport
            with reqbed.Client() as c, pytest.raises(NetworkBlockedError):
                c.generate_text("bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "Hi", max_retries=0,
                                provider_options={"endpoint_url": "https://bedrock-runtime.eu-west-1.amazonaws.com",
                                                  "region": "eu-west-1", "api_key": "ABSKZXhhbXBsZQ=="})
        """
    )
    monkeypatch.setenv("REQBED_FIXTURES", "replay")
    result = pytester.runpytest_subprocess("-W", "error")  # the plugin comes from its entry point
    result.assert_outcomes(passed=1)
    assert _client.SigningTransport is _transport.SigningTransport
