"""Fixture record/replay: the format, ReplayTransport, RecordingTransport, and the pytest plugin.

The central check records real exchanges from the emulator over a loopback socket (through the
same RecordingTransport that records real AWS), writes the file, and proves that replaying it gives
back exactly what was recorded: the same ``Response``, and for streams the same raw reads with the
same boundaries and the same chunks.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

import reqbed
from reqbed.testing import Emulator
from reqbed.testing._fixture_format import (
    decode_body,
    encode_body,
    is_secret_name,
    redact_headers,
    redact_json,
)
from reqbed.testing.fixtures import (
    Exchange,
    Fixture,
    FixtureMismatchError,
    FixtureMissingError,
    ReplayTransport,
    fixtures_mode,
    load_fixture,
    recording_client,
    replay_client,
    save_fixture,
)
from tests.support import REPO

pytest_plugins = ["pytester"]

ROOT = REPO
MODEL = "bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0"
PATH = "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse"


def _fixture(*exchanges: dict[str, Any]) -> Fixture:
    return msgspec.convert(
        {
            "format": 1,
            "name": "t/x",
            "provider": "amazon_bedrock",
            "model": MODEL,
            "captured_at": "2025-01-01T00:00:00Z",
            "source": "emulator",
            "exchanges": list(exchanges),
        },
        Fixture,
    )


def untimed(resp: reqbed.Response) -> reqbed.Response:
    """``resp`` without its timings (``elapsed``, ``time_to_first_token``): they are this run's."""
    return msgspec.structs.replace(resp, elapsed=None, time_to_first_token=None)


def _exchange(body: Any, answer: Any, status: int = 200, **response: Any) -> dict[str, Any]:
    return {
        "request": {"method": "POST", "url": "https://bedrock-runtime.us-east-1.amazonaws.com" + PATH, "body": body},
        "response": {"status": status, "headers": {"content-type": "application/json"}, "body": answer, **response},
    }


def _post(
    transport: httpx.BaseTransport, body: Any, *, host: str = "example.invalid", **headers: str
) -> httpx.Response:
    with httpx.Client(transport=transport) as c:
        r = c.post(f"https://{host}{PATH}", content=json.dumps(body).encode(), headers=headers)
        r.read()
        return r


# -- format ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("X-Amz-Security-Token", True),
        ("api_key", True),
        ("apiKey", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("sessionToken", True),
        ("password", True),
        ("set-cookie", True),
        ("aws_access_key_id", True),
        ("inputTokens", False),
        ("maxTokens", False),
        ("budget_tokens", False),
        ("x-amzn-bedrock-input-token-count", False),
        ("signature", False),
        ("x-amz-date", False),
        ("x-amz-content-sha256", False),
        ("toolUseId", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_redaction_keeps_dates_and_hides_secrets() -> None:
    headers = redact_headers(
        [
            ("Authorization", "AWS4-HMAC-SHA256 Credential=..."),
            ("X-Amz-Date", "20250101T000000Z"),
            ("X-Amz-Security-Token", "tok"),
            ("Accept", "a"),
            ("accept", "b"),
        ]
    )
    assert headers == {
        "authorization": "<redacted>",
        "x-amz-date": "20250101T000000Z",
        "x-amz-security-token": "<redacted>",
        "accept": "a, b",
    }
    body = {"messages": [{"text": "hi"}], "usage": {"inputTokens": 3}, "extra": {"api_key": "k", "password": ""}}
    assert redact_json(body) == {
        "messages": [{"text": "hi"}],
        "usage": {"inputTokens": 3},
        "extra": {"api_key": "<redacted>", "password": ""},
    }


@pytest.mark.parametrize(
    "raw",
    [b'{"a":1,"b":[true,null]}', b'{"a": 1, "b": "\xc3\xa9"}', b'{"a":1, "b":2}', b"\x00\x01binary", b"not json", b""],
)
def test_bodies_round_trip_byte_for_byte(raw: bytes) -> None:
    fields = encode_body(raw)
    assert decode_body(fields.get("body"), fields.get("body_b64"), fields.get("body_style")) == raw
    if raw.startswith(b'{"a":1,"b":[') or raw.startswith(b'{"a": 1'):
        assert "body" in fields, "JSON is kept readable"


def test_fixtures_mode_reads_the_environment() -> None:
    assert fixtures_mode({}) == "replay"
    assert fixtures_mode({"REQBED_FIXTURES": "Record"}) == "record"
    with pytest.raises(ValueError, match="REQBED_FIXTURES='live'"):
        fixtures_mode({"REQBED_FIXTURES": "live"})


# -- replay ---------------------------------------------------------------------------------


def test_replay_matches_on_method_path_and_body_not_headers_or_host() -> None:
    t = ReplayTransport(_fixture(_exchange({"b": 1, "a": [1, 2]}, {"ok": True}), _exchange({"x": 1}, {"ok": 2})))
    r = _post(t, {"a": [1, 2], "b": 1}, host="other.invalid", authorization="anything", **{"x-amz-date": "1999"})
    assert (r.status_code, r.json()) == (200, {"ok": True})
    assert t.unplayed == [1]
    assert _post(t, {"x": 1}).json() == {"ok": 2}
    assert t.unplayed == []


def test_identical_requests_are_served_in_recorded_order_once_each() -> None:
    throttled = _exchange({"q": 1}, {"message": "slow down"}, status=429)
    t = ReplayTransport(_fixture(throttled, _exchange({"q": 1}, {"ok": True})))
    assert _post(t, {"q": 1}).status_code == 429
    assert _post(t, {"q": 1}).json() == {"ok": True}
    with pytest.raises(FixtureMismatchError, match=r"already replayed \(2 recorded exchange"):
        _post(t, {"q": 1})


def test_a_drifted_body_fails_with_a_unified_diff_and_the_record_command() -> None:
    t = ReplayTransport(_fixture(_exchange({"inferenceConfig": {"maxTokens": 256}}, {})), record_command="REC CMD")
    with pytest.raises(FixtureMismatchError) as e:
        _post(t, {"inferenceConfig": {"maxTokens": 512}})
    msg = str(e.value)
    assert f"POST {PATH}" in msg
    assert "--- recorded (exchange 1, canonical JSON)\n+++ this request (canonical JSON)" in msg
    assert '-    "maxTokens": 256' in msg
    assert '+    "maxTokens": 512' in msg
    assert msg.endswith("Record it with:\n    REC CMD")


def test_a_missing_fixture_names_the_command_that_records_it(tmp_path: Path) -> None:
    cmd = "REQBED_FIXTURES=record python -m pytest 'tests/test_app.py::test_answer'"
    t = ReplayTransport(tmp_path / "nope.json", record_command=cmd)
    with pytest.raises(FixtureMissingError, match=r"no reqbed fixture at .*nope\.json") as e:
        _post(t, {})
    assert str(e.value).endswith(f"Record it with:\n    {cmd}")


def test_an_unknown_route_lists_what_the_fixture_has() -> None:
    t = ReplayTransport(_fixture(_exchange({}, {})))
    with httpx.Client(transport=t) as c, pytest.raises(FixtureMissingError, match=f"it has: POST {PATH}"):
        c.post("https://h.invalid/model/x/invoke", content=b"{}")


def test_streams_replay_each_recorded_read_with_its_boundaries() -> None:
    reads = [b"\x00\x00\x01", b"", b"frame-part", b"x" * 5000, b"\xff"]
    t = ReplayTransport(
        _fixture(
            _exchange(
                {},
                None,
                chunks=[{"b64": base64.b64encode(r).decode()} for r in reads],
                headers={"content-type": "application/vnd.amazon.eventstream"},
            )
        )
    )
    with httpx.Client(transport=t) as c, c.stream("POST", f"https://h.invalid{PATH}", content=b"{}") as r:
        assert list(r.iter_raw()) == [r for r in reads if r]  # httpx itself skips empty reads


@pytest.mark.anyio
async def test_streams_replay_async_with_the_same_boundaries() -> None:
    reads = [b"ab", b"c", b"defgh"]
    t = ReplayTransport(_fixture(_exchange({}, None, chunks=[{"b64": base64.b64encode(r).decode()} for r in reads])))
    async with httpx.AsyncClient(transport=t) as c, c.stream("POST", f"https://h.invalid{PATH}", content=b"{}") as r:
        assert [b async for b in r.aiter_raw()] == reads


# -- record against the emulator, then replay -------------------------------------------------


def _po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


def test_record_then_replay_gives_back_exactly_what_was_recorded(emulator: Emulator, tmp_path: Path) -> None:
    client, recorder = recording_client()
    with client:
        live = client.generate_text(MODEL, "Hello there", max_tokens=50, provider_options=_po(emulator))
        with client.stream_text(MODEL, "Count to three", provider_options=_po(emulator)) as s:
            live_chunks = list(s)
            live_stream = s.response()
    assert [r["path"] for r in emulator.requests] == [PATH, PATH + "-stream"]
    exchanges = recorder.exchanges
    recorded_reads = [base64.b64decode(c.b64) for c in exchanges[1].response.chunks or []]
    assert len(recorded_reads) > 1, "the emulator splits streams into several writes"
    path = save_fixture(tmp_path / "rec.json", exchanges, name="rec", source="emulator")

    fixture = load_fixture(path)
    assert fixture.exchanges == exchanges
    assert fixture.model == MODEL
    assert fixture.source == "emulator"
    before = len(emulator.requests)
    with replay_client(path) as replayed:
        again = replayed.generate_text(MODEL, "Hello there", max_tokens=50, provider_options={"use_converse": True})
        with replayed.stream_text(MODEL, "Count to three", provider_options={"use_converse": True}) as s:
            again_chunks = list(s)
            again_stream = s.response()
    assert len(emulator.requests) == before, "replay never touched the network"
    assert untimed(again) == untimed(live)  # the request id replays; timings are this run's
    assert again_chunks == live_chunks
    assert untimed(again_stream) == untimed(live_stream)
    t = ReplayTransport(path)
    body = decode_body(exchanges[1].request.body, exchanges[1].request.body_b64)
    stream_request = httpx.Request("POST", "http://h.invalid" + PATH + "-stream", content=body)
    replayed_reads = list(t.handle_request(stream_request).stream)  # type: ignore[arg-type]
    assert replayed_reads == recorded_reads


@pytest.mark.anyio
async def test_async_record_then_replay(emulator: Emulator, tmp_path: Path) -> None:
    client, recorder = recording_client()
    async with client:
        live = await client.agenerate_text(MODEL, "Hi", provider_options=_po(emulator))
        async with await client.astream_text(MODEL, "Hi again", provider_options=_po(emulator)) as s:
            live_chunks = [c async for c in s]
    path = save_fixture(tmp_path / "a.json", recorder.exchanges, name="a", source="emulator")
    async with replay_client(path) as replayed:
        again = await replayed.agenerate_text(MODEL, "Hi", provider_options={"use_converse": True})
        assert untimed(again) == untimed(live)
        async with await replayed.astream_text(MODEL, "Hi again", provider_options={"use_converse": True}) as s:
            assert [c async for c in s] == live_chunks


def test_recorded_errors_replay_as_the_same_errors(emulator: Emulator, tmp_path: Path) -> None:
    emulator.inject("throttling")
    client, recorder = recording_client()
    with client, pytest.raises(reqbed.ThrottlingError) as live:
        client.generate_text(MODEL, "Hi", max_retries=0, provider_options=_po(emulator))
    path = save_fixture(tmp_path / "e.json", recorder.exchanges, name="e", source="emulator")
    with replay_client(path) as replayed, pytest.raises(reqbed.ThrottlingError) as again:
        replayed.generate_text(MODEL, "Hi", max_retries=0, provider_options={"use_converse": True})
    assert (again.value.status, again.value.code, again.value.aws_message) == (
        live.value.status,
        live.value.code,
        live.value.aws_message,
    )


def test_a_stream_closed_early_is_recorded_as_incomplete(emulator: Emulator) -> None:
    client, recorder = recording_client()
    with client, client.stream_text(MODEL, "one two three four", provider_options=_po(emulator)) as s:
        next(iter(s))
    (exchange,) = recorder.exchanges
    assert exchange.response.complete is False


def test_our_fixtures_directory_holds_only_reqbed_fixtures() -> None:
    for path in sorted((ROOT / "fixtures").glob("*/*.json")):
        fixture = load_fixture(path)
        assert fixture.source in ("recorded", "aws-docs", "emulator")
        assert fixture.source != "aws-docs" or (fixture.source_url or "").startswith("https://docs.aws.amazon.com/")
        assert fixture.source != "recorded" or fixture.region, f"{path}: a recording names its region"
        assert isinstance(fixture.exchanges[0], Exchange)


# -- the pytest plugin, from a user's point of view --------------------------------------------

APP_TEST = """
import reqbed, pytest

def answer():  # the user's app code: the module-level API, nothing test-specific
    return reqbed.generate_text("bedrock:anthropic.claude-3-haiku-20240307-v1:0", "Hello app",
                                provider_options={"use_converse": True}).text

@pytest.mark.reqbed_fixture("greetings/hello")
def test_answer():
    assert answer() == "You said: Hello app"

def test_with_client(reqbed_fixtures):
    assert reqbed_fixtures.generate_text("bedrock:anthropic.claude-3-haiku-20240307-v1:0", "Hi",
                                         provider_options={"use_converse": True}).text == "You said: Hi"
"""


def _plugin_installed() -> bool:
    """True when reqbed is installed, so pytest loads the plugin through its pytest11 entry point."""
    from importlib.metadata import entry_points

    return any(ep.value == "reqbed.testing.pytest_plugin" for ep in entry_points(group="pytest11"))


#: How a pytester run gets the plugin: the entry point when installed (``-p`` again would clash).
PLUGIN_ARGS: tuple[str, ...] = () if _plugin_installed() else ("-p", "reqbed.testing.pytest_plugin")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An in-process run with the plugin (already imported here, hence no assertion rewriting)."""
    return pytester.runpytest(*PLUGIN_ARGS, "-W", "ignore::pytest.PytestAssertRewriteWarning", *args)


@pytest.fixture
def app_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The user's environment: credentials and endpoint for the emulator."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return emulator


def test_plugin_records_then_replays_a_users_calls(
    pytester: pytest.Pytester, app_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_app=APP_TEST)
    monkeypatch.setenv("REQBED_FIXTURES", "record")
    _run(pytester, "--strict-markers").assert_outcomes(passed=2)
    written = sorted(str(p.relative_to(pytester.path)) for p in pytester.path.rglob("*.json"))
    assert written == ["reqbed_fixtures/greetings/hello.json", "reqbed_fixtures/test_app/test_with_client.json"]
    assert load_fixture(pytester.path / written[0]).source == "emulator"
    seen = len(app_env.requests)
    monkeypatch.setenv("REQBED_FIXTURES", "replay")
    _run(pytester, "--strict-markers").assert_outcomes(passed=2)
    assert len(app_env.requests) == seen, "replay served everything from the files"


def test_plugin_replay_without_a_fixture_fails_with_the_record_command(
    pytester: pytest.Pytester, app_env: Emulator
) -> None:
    pytester.makepyfile(test_app=APP_TEST)
    result = _run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*FixtureMissingError: no reqbed fixture at *greetings/hello.json*",
            "*REQBED_FIXTURES=record python -m pytest test_app.py::test_answer*",
        ]
    )
    assert app_env.requests == []


GUARD_TEST = """
import reqbed, pytest
from reqbed.testing.pytest_plugin import NetworkBlockedError

AWS = {"endpoint_url": "https://bedrock-runtime.eu-west-1.amazonaws.com", "use_converse": True}

def test_real_aws_is_blocked():
    with pytest.raises(NetworkBlockedError, match="replay mode: the real request POST https://bedrock-runtime"):
        reqbed.generate_text("bedrock:meta.llama3-3-70b-instruct-v1:0", "Hi", provider_options=AWS)

def test_explicit_clients_too():
    with reqbed.Client() as c, pytest.raises(NetworkBlockedError, match="REQBED_FIXTURES=record python -m pytest"):
        c.generate_text("bedrock:meta.llama3-3-70b-instruct-v1:0", "Hi", provider_options={**AWS, "api_key": "x"})

def test_loopback_is_allowed():  # the emulator, named by AWS_ENDPOINT_URL_BEDROCK_RUNTIME
    model = "bedrock:meta.llama3-3-70b-instruct-v1:0"
    answer = reqbed.generate_text(model, "Hi", provider_options={"use_converse": True})
    assert answer.text == "You said: Hi"
"""


def test_plugin_blocks_real_requests_in_replay_mode(
    pytester: pytest.Pytester, app_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_guard=GUARD_TEST)
    monkeypatch.delenv("REQBED_FIXTURES", raising=False)
    _run(pytester).assert_outcomes(passed=3)


@pytest.mark.parametrize("reqbed_fixtures_mode", ["off"])  # this test's own mode too: nothing patched
def test_plugin_off_mode_changes_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, reqbed_fixtures_mode: str
) -> None:
    pytester.makepyfile(
        """
        import reqbed._client, reqbed._transport
        def test_untouched(reqbed_fixtures_mode):
            assert reqbed_fixtures_mode == "off"
            assert reqbed._client.SigningTransport is reqbed._transport.SigningTransport
        """
    )
    monkeypatch.setenv("REQBED_FIXTURES", "off")
    _run(pytester).assert_outcomes(passed=1)


USES_FIXTURE = """
def test_plugin_loaded(reqbed_fixtures_mode, request):
    assert reqbed_fixtures_mode == "replay"
    assert request.config.pluginmanager.get_plugin("reqbed") is not None
"""


@pytest.mark.parametrize("installed", [False, True], ids=["conftest-only", "entry-point-and-conftest"])
def test_our_conftest_registers_the_plugin_once_either_way(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, installed: bool
) -> None:
    """tests/conftest.py registers the plugin when reqbed is not installed, and steps aside when
    the pytest11 entry point already loaded it (a plain ``pytest_plugins`` line would fail then)."""
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_loaded=USES_FIXTURE)
    path = [str(ROOT)]
    if installed:  # what `pip install reqbed` provides: a dist-info with the pytest11 entry point
        dist = tmp_path / "site" / "reqbed_fake-0.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: reqbed-fake\nVersion: 0.0\n")
        (dist / "entry_points.txt").write_text("[pytest11]\nreqbed = reqbed.testing.pytest_plugin\n")
        path.append(str(dist.parent))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    if installed:  # and the hazard the conftest avoids is real:
        pytester.makeconftest('pytest_plugins = ["reqbed.testing.pytest_plugin"]')
        clash = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        assert clash.ret != 0
        clash.stderr.fnmatch_lines(["*already registered*"])


def test_plugin_blocks_nothing_unless_asked(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installing reqbed must not change a user's suite: without REQBED_FIXTURES and without the
    fixture or mark, no network guard is installed; with REQBED_FIXTURES=replay one is (through the
    public hook: reqbed's transport classes are never patched)."""
    pytester.makepyfile(
        test_user="""
        import reqbed._client as c
        from reqbed._transport import SigningTransport
        from reqbed.testing import set_network_guard

        def test_untouched():
            assert c.SigningTransport is SigningTransport
            guard = set_network_guard(None)
            set_network_guard(guard)
            assert guard is None
        """
    )
    # A subprocess: in-process, the outer suite's own replay guard would already be in place.
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("REQBED_FIXTURES", raising=False)
    args = (*PLUGIN_ARGS, "-p", "no:cacheprovider")
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
    monkeypatch.setenv("REQBED_FIXTURES", "replay")
    pytester.runpytest_subprocess(*args).assert_outcomes(failed=1)


def test_plugin_gives_users_the_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_emu="""
        import pytest
        import reqbed

        def test_call(reqbed_emulator):
            po = reqbed_emulator.provider_options()
            resp = reqbed.generate_text("bedrock:us.amazon.nova-lite-v1:0", "Hi", provider_options=po)
            assert resp.text == "You said: Hi"

        def test_fault(reqbed_emulator):
            reqbed_emulator.inject("throttling", times=5)
            with pytest.raises(reqbed.ThrottlingError):
                reqbed.generate_text("bedrock:us.amazon.nova-lite-v1:0", "Hi", max_retries=0,
                                     provider_options=reqbed_emulator.provider_options())

        def test_faults_do_not_leak_between_tests(reqbed_emulator):
            assert not reqbed_emulator.faults
        """
    )
    _run(pytester).assert_outcomes(passed=3)
