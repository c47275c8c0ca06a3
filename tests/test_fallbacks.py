"""Fallbacks: validated up front, tried in order on the documented errors only, never after output."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

import reqbed
from reqbed._errors import map_api_error
from reqbed._fallback import FALLBACK_ERRORS, Target, run_sync
from reqbed._retry import Deadline, RetryPolicy
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
OTHER = "bedrock:amazon.nova-lite-v1:0"
THIRD = "bedrock:anthropic.claude-3-5-haiku-20241022-v1:0"
WEATHER = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


def po(emu: Emulator, **extra: Any) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True, **extra}


def fast_client() -> reqbed.Client:
    return reqbed.Client(retry_policy=RetryPolicy(random=lambda: 0.0))


def attempts(emu: Emulator, marker: str) -> list[str]:
    """The model id of each request whose body carried ``marker``, in order."""
    return [unquote(r["path"].split("/")[2]) for r in emu.requests if marker.encode() in r["body"]]


# -- validation before any I/O ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fallbacks", "field"),
    [
        ("bedrock:x.y", "fallbacks"),
        ({"model": OTHER}, "fallbacks"),
        ([OTHER], "fallbacks[0]"),
        ([{"provider_options": {}}], "fallbacks[0].model"),
        ([{"model": 3}], "fallbacks[0].model"),
        ([{"model": OTHER, "max_tokens": 5}], "fallbacks[0]"),
        ([{"model": OTHER}, {"model": "anthropic.claude"}], "fallbacks[1].model"),
        ([{"model": OTHER, "provider_options": {"regoin": "us-west-2"}}], "fallbacks[0].provider_options.regoin"),
        ([{"model": OTHER, "provider_options": {"region": "Mars"}}], "fallbacks[0].provider_options.region"),
    ],
)
def test_bad_fallbacks_are_validation_errors_before_any_io(emulator: Emulator, fallbacks: Any, field: str) -> None:
    with fast_client() as client, pytest.raises(reqbed.ValidationError) as info:
        client.generate_text(MODEL, "never sent", provider_options=po(emulator), fallbacks=fallbacks)
    assert info.value.field == field
    assert emulator.requests == []


def test_a_fallback_that_cannot_do_the_request_is_refused_up_front(emulator: Emulator) -> None:
    """Tools are fine for the primary; the fallback model has none: refused before sending anything."""
    fallbacks = [{"model": "bedrock:meta.llama3-8b-instruct-v1:0"}]
    with fast_client() as client, pytest.raises(reqbed.ValidationError) as info:
        client.generate_text(MODEL, "x", provider_options=po(emulator), tools=[WEATHER], fallbacks=fallbacks)
    assert info.value.field is not None
    assert info.value.field.startswith("fallbacks[0].")
    assert emulator.requests == []


def test_the_primary_is_validated_first(emulator: Emulator) -> None:
    with fast_client() as client, pytest.raises(reqbed.ValidationError) as info:
        client.generate_text(MODEL, "x", provider_options=po(emulator), temperature=9, fallbacks=[{"model": OTHER}])
    assert info.value.field == "temperature"


# -- what moves a call to the next target --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "times", "primary_attempts"),
    [
        ("throttling", 3, 3),  # after the retries
        ("model_not_ready", 3, 3),
        ("unavailable", 3, 3),
        ("internal", 3, 3),
        ("drop", 3, 3),
        ("not_found", 1, 1),  # at once: never retried
        ("access_denied", 1, 1),
    ],
)
def test_fallback_serves_after_these_errors(emulator: Emulator, kind: str, times: int, primary_attempts: int) -> None:
    marker = f"fall back after {kind}"
    emulator.inject(kind, times, match=marker)
    with fast_client() as client:
        r = client.generate_text(MODEL, marker, provider_options=po(emulator), fallbacks=[{"model": OTHER}])
    assert r.text == f"You said: {marker}"
    assert r.served_by == OTHER
    primary = MODEL.removeprefix("bedrock:")
    assert attempts(emulator, marker) == [primary] * primary_attempts + [OTHER.removeprefix("bedrock:")]


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("validation", reqbed.BadRequestError),
        ("model_timeout", reqbed.ModelTimeoutError),
    ],
)
def test_other_errors_do_not_fall_back(emulator: Emulator, kind: str, error: type[Exception]) -> None:
    marker = f"no fallback after {kind}"
    emulator.inject(kind, 1, match=marker)
    with fast_client() as client, pytest.raises(error):
        client.generate_text(MODEL, marker, provider_options=po(emulator), fallbacks=[{"model": OTHER}])
    assert len(attempts(emulator, marker)) == 1


def test_bad_credentials_do_not_fall_back(emulator: Emulator) -> None:
    bad = po(emulator, secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ")
    with fast_client() as client, pytest.raises(reqbed.AuthenticationError):
        client.generate_text(MODEL, "bad creds", provider_options=bad, fallbacks=[{"model": OTHER}])
    assert len(attempts(emulator, "bad creds")) == 1


def test_fallbacks_are_tried_in_order_and_the_last_error_carries_the_chain(emulator: Emulator) -> None:
    marker = "everything is down"
    emulator.inject("not_found", 1, match=marker)
    emulator.inject("access_denied", 1, match=marker)
    emulator.inject("unavailable", 3, match=marker)
    fallbacks = [{"model": OTHER}, {"model": THIRD}]
    with fast_client() as client, pytest.raises(reqbed.ServiceUnavailableError) as info:
        client.generate_text(MODEL, marker, provider_options=po(emulator), fallbacks=fallbacks)
    ids = [m.removeprefix("bedrock:") for m in (MODEL, OTHER, THIRD)]
    assert attempts(emulator, marker) == [ids[0], ids[1], ids[2], ids[2], ids[2]]
    cause = info.value.__cause__
    assert isinstance(cause, reqbed.AccessDeniedError)
    assert isinstance(cause.__cause__, reqbed.ResourceNotFoundError)


def test_region_fallback_signs_for_its_region_and_says_so(emulator: Emulator) -> None:
    marker = "region fallback"
    emulator.inject("throttling", 3, match=marker)
    west = po(emulator, region="us-west-2")
    with fast_client() as client:
        r = client.generate_text(
            MODEL, marker, provider_options=po(emulator), fallbacks=[{"model": MODEL, "provider_options": west}]
        )
    assert r.served_by == f"{MODEL}@us-west-2"
    regions = [r["headers"]["authorization"].split("/")[2] for r in emulator.requests if marker.encode() in r["body"]]
    assert regions == ["us-east-1"] * 3 + ["us-west-2"]


def test_credential_fallback_uses_its_own_credentials(emulator: Emulator) -> None:
    """Same model and region, another credential (a Bedrock API key): labelled by position."""
    marker = "credential fallback"
    emulator.inject("access_denied", 1, match=marker)
    bearer = {**emulator.provider_options(bearer=True), "use_converse": True}
    with fast_client() as client:
        r = client.generate_text(
            MODEL, marker, provider_options=po(emulator), fallbacks=[{"provider_options": bearer, "model": MODEL}]
        )
    assert r.served_by == f"{MODEL}@us-east-1#1"
    auth = [r["headers"]["authorization"] for r in emulator.requests if marker.encode() in r["body"]]
    assert auth[0].startswith("AWS4-HMAC-SHA256")
    assert auth[1].startswith("Bearer ")


def test_without_provider_options_a_fallback_uses_the_calls(emulator: Emulator) -> None:
    emulator.inject("not_found", 1, match="inherit")
    with fast_client() as client:
        r = client.generate_text(MODEL, "inherit", provider_options=po(emulator), fallbacks=[{"model": OTHER}])
    assert r.served_by == OTHER


def test_primary_serves_when_healthy(emulator: Emulator) -> None:
    with fast_client() as client:
        r = client.generate_text(MODEL, "healthy", provider_options=po(emulator), fallbacks=[{"model": OTHER}])
    assert r.served_by == MODEL
    assert attempts(emulator, "healthy") == [MODEL.removeprefix("bedrock:")]


# -- streams -------------------------------------------------------------------------------------------


def test_stream_falls_back_before_content(emulator: Emulator) -> None:
    marker = "stream fallback"
    emulator.inject("exception_frame", 3, match=marker, after=0)
    with fast_client() as client:
        s = client.stream_text(MODEL, marker, provider_options=po(emulator), fallbacks=[{"model": OTHER}])
        with s:
            r = s.response()
    assert r.text == f"You said: {marker}"
    assert r.served_by == OTHER


def test_stream_never_falls_back_after_content(emulator: Emulator) -> None:
    marker = "partial then failure"
    emulator.inject("exception_frame", 1, match=marker, after=2)
    got: list[str] = []
    with fast_client() as client:
        s = client.stream_text(MODEL, marker, provider_options=po(emulator), fallbacks=[{"model": OTHER}])
        with pytest.raises(reqbed.ThrottlingError), s:
            got.extend(s.text_stream())
    assert got == ["You"]
    assert attempts(emulator, marker) == [MODEL.removeprefix("bedrock:")]


@pytest.mark.anyio
async def test_async_stream_falls_back(emulator: Emulator) -> None:
    marker = "async stream fallback"
    emulator.inject("unavailable", 3, match=marker)
    async with fast_client() as client:
        s = await client.astream_text(MODEL, marker, provider_options=po(emulator), fallbacks=[{"model": OTHER}])
        async with s:
            r = await s.response()
    assert r.served_by == OTHER
    assert r.text == f"You said: {marker}"


@pytest.mark.anyio
async def test_async_generate_falls_back(emulator: Emulator) -> None:
    marker = "async fallback"
    emulator.inject("not_found", 1, match=marker)
    async with fast_client() as client:
        r = await client.agenerate_text(MODEL, marker, provider_options=po(emulator), fallbacks=[{"model": OTHER}])
    assert r.served_by == OTHER


# -- the loop, without I/O -------------------------------------------------------------------------------


class _Req:
    timeout: float | None = None
    max_retries: int | None = None


class _Prepared:
    request = _Req()


def test_a_service_quota_is_not_retried_but_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    quota = map_api_error(429, {"x-amzn-errortype": "ServiceQuotaExceededException"}, b"{}")
    assert isinstance(quota, reqbed.ThrottlingError)
    calls: list[str] = []

    def once(t: Target, d: Deadline) -> str:
        calls.append(t.served_by)
        if t.index == 0:
            raise quota
        return "ok"

    targets = [Target(_Prepared(), "a", 0), Target(_Prepared(), "b", 1)]  # type: ignore[arg-type]
    assert run_sync(targets, once, RetryPolicy()) == "ok"
    assert calls == ["a", "b"]


def test_the_documented_fallback_errors() -> None:
    assert set(FALLBACK_ERRORS) == {
        reqbed.ThrottlingError,
        reqbed.ModelNotReadyError,
        reqbed.ServiceUnavailableError,
        reqbed.ServerError,
        reqbed.APIConnectionError,
        reqbed.ResourceNotFoundError,
        reqbed.AccessDeniedError,
    }
