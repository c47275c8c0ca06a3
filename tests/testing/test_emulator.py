"""The emulator, checked against independent oracles.

botocore is the oracle for the emulator's SigV4 verification (it must accept what botocore signs and
refuse what was changed after signing), for its error shape (botocore's parser must read it) and for
its event-stream encoding (botocore's decoder must decode its streams). The real 403 "Signature
expired" answer in ../shared/bedrock-recordings is the oracle for that message's exact shape.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import botocore.exceptions
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

import reqbed
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_API_KEY, EXAMPLE_SECRET_ACCESS_KEY, Emulator
from tests.support import RECORDINGS, REPO

MODEL_ID = "anthropic.claude-3-7-sonnet-20250219-v1:0"
TOKEN = "example-session-token-for-the-emulator"
EXPIRED_RE = re.compile(
    r"Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) - 5 min\.\)"
)
HELLO = [{"role": "user", "content": [{"text": "Hi there"}]}]


def boto_client(emu: Emulator, *, token: str | None = None, akid: str = EXAMPLE_ACCESS_KEY_ID) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=akid,
        aws_secret_access_key=EXAMPLE_SECRET_ACCESS_KEY,
        aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def boto(emulator: Emulator) -> Iterator[Any]:
    c = boto_client(emulator)
    yield c
    c.close()


def signed(
    emu: Emulator,
    body: bytes,
    path: str = f"/model/{MODEL_ID.replace(':', '%3A')}/converse",
    *,
    token: str | None = None,
    service: str = "bedrock",
    secret: str = EXAMPLE_SECRET_ACCESS_KEY,
) -> AWSRequest:
    """A request signed by botocore's own SigV4 signer."""
    request = AWSRequest(
        method="POST", url=emu.endpoint_url + path, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(EXAMPLE_ACCESS_KEY_ID, secret, token), service, "us-east-1").add_auth(request)
    return request


def send(request: AWSRequest, *, path: str | None = None, body: bytes | None = None, **headers: str) -> httpx.Response:
    """Send a botocore-signed request as it is, or with a part changed after signing."""
    url = httpx.URL(request.url)
    if path is not None:
        url = url.copy_with(raw_path=path.encode())
    h = dict(request.headers.items())
    h.update(headers)
    with httpx.Client() as c:
        return c.post(url, content=request.body if body is None else body, headers=h)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """(status, error code from x-amzn-ErrorType, message)."""
    return response.status_code, response.headers["x-amzn-errortype"].split(":")[0], response.json()["message"]


# -- botocore accepts the emulator ------------------------------------------------------------------------


def test_botocore_signed_converse_is_accepted(emulator: Emulator, boto: Any) -> None:
    r = boto.converse(modelId=MODEL_ID, messages=HELLO, inferenceConfig={"maxTokens": 50})
    assert r["output"]["message"] == {"role": "assistant", "content": [{"text": "You said: Hi there"}]}
    assert r["stopReason"] == "end_turn"
    assert r["usage"]["outputTokens"] == 4
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert emulator.requests[-1]["path"] == "/model/anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse"


def test_botocore_decodes_the_emulators_stream(boto: Any) -> None:
    tool = {
        "name": "get_weather",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
    r = boto.converse_stream(
        modelId="us." + MODEL_ID,
        messages=[{"role": "user", "content": [{"text": "Weather? use get_weather"}]}],
        toolConfig={"tools": [{"toolSpec": tool}]},
    )
    events = list(r["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart"
    assert kinds[-2:] == ["messageStop", "metadata"]
    text = "".join(e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e)
    assert text == "Calling get_weather."
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    args = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {})
    )
    assert json.loads(args) == {"city": "example"}
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0


def test_botocore_with_a_session_token_and_arn_model_id() -> None:
    with Emulator(credentials={EXAMPLE_ACCESS_KEY_ID: (EXAMPLE_SECRET_ACCESS_KEY, TOKEN)}) as emu:
        c = boto_client(emu, token=TOKEN)
        try:
            arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{MODEL_ID}"
            r = c.converse(modelId=arn, messages=HELLO)
            assert r["output"]["message"]["content"] == [{"text": "You said: Hi there"}]
            assert emu.requests[-1]["path"].startswith("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A")
            assert emu.requests[-1]["headers"]["x-amz-security-token"] == TOKEN
        finally:
            c.close()
        c = boto_client(emu, token="a-different-token")
        try:
            with pytest.raises(botocore.exceptions.ClientError) as info:
                c.converse(modelId=MODEL_ID, messages=HELLO)
        finally:
            c.close()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        ("throttling", "ThrottlingException", 429),
        ("model_not_ready", "ModelNotReadyException", 429),
        ("unavailable", "ServiceUnavailableException", 503),
        ("internal", "InternalServerException", 500),
        ("access_denied", "AccessDeniedException", 403),
        ("not_found", "ResourceNotFoundException", 404),
        ("model_timeout", "ModelTimeoutException", 408),
    ],
)
def test_botocore_reads_the_emulators_errors(emulator: Emulator, boto: Any, fault: str, code: str, status: int) -> None:
    emulator.inject(fault)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        boto.converse(modelId=MODEL_ID, messages=HELLO)
    response = info.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert re.fullmatch(r"[0-9a-f-]{36}", response["ResponseMetadata"]["RequestId"])
    assert response["Error"]["Message"]


@pytest.mark.parametrize(
    "exc", ["throttlingException", "modelStreamErrorException", "validationException", "internalServerException"]
)
def test_botocore_reads_the_emulators_stream_exceptions(emulator: Emulator, boto: Any, exc: str) -> None:
    emulator.inject("exception_frame", exception=exc, after=2)
    stream = boto.converse_stream(modelId=MODEL_ID, messages=HELLO)["stream"]
    seen: list[str] = []
    try:
        with pytest.raises(botocore.exceptions.EventStreamError) as info:
            seen.extend(next(iter(e)) for e in stream)
    finally:
        stream.close()  # botocore leaves a failed stream's connection open
    assert seen == ["messageStart", "contentBlockDelta"]
    assert info.value.response["Error"]["Code"] == exc


def test_botocore_detects_the_bad_crc_fault(emulator: Emulator, boto: Any) -> None:
    from botocore.eventstream import ChecksumMismatch

    emulator.inject("bad_crc", after=1)
    stream = boto.converse_stream(modelId=MODEL_ID, messages=HELLO)["stream"]
    try:
        with pytest.raises(ChecksumMismatch):
            list(stream)
    finally:
        stream.close()


# -- the emulator refuses what botocore would not have signed ---------------------------------------------

BODY = json.dumps({"messages": HELLO}).encode()


def test_an_untouched_botocore_signature_passes(emulator: Emulator) -> None:
    r = send(signed(emulator, BODY))
    assert r.status_code == 200
    assert r.json()["output"]["message"]["content"] == [{"text": "You said: Hi there"}]


@pytest.mark.parametrize(
    "tamper",
    ["signature", "body", "path", "signed_header", "date", "secret", "akid_scope"],
)
def test_tampered_requests_are_refused(emulator: Emulator, tamper: str) -> None:
    wrong = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY"
    req = signed(emulator, BODY, secret=wrong) if tamper == "secret" else signed(emulator, BODY)
    auth = req.headers["Authorization"]
    if tamper == "signature":
        last = auth[-1]
        r = send(req, Authorization=auth[:-1] + ("0" if last != "0" else "1"))
    elif tamper == "body":
        r = send(req, body=BODY.replace(b"Hi there", b"Hi thera"))
    elif tamper == "path":
        r = send(req, path="/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse")
    elif tamper == "signed_header":
        r = send(req, **{"Content-Type": "application/x-amz-json-1.1"})
    elif tamper == "date":
        stamp = req.headers["X-Amz-Date"]
        r = send(req, **{"X-Amz-Date": stamp[:-3] + ("00Z" if stamp[-3:] != "00Z" else "01Z")})
    elif tamper == "akid_scope":
        r = send(req, Authorization=auth.replace("/us-east-1/", "/us-west-2/"))
    else:
        r = send(req)
    status, code, message = error_of(r)
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match the signature you provided.")


def test_a_signature_for_another_service_is_refused(emulator: Emulator) -> None:
    status, code, message = error_of(send(signed(emulator, BODY, service="s3")))
    assert (status, code) == (403, "InvalidSignatureException")
    assert "bedrock" in message


def test_session_tokens_are_checked() -> None:
    with Emulator(credentials={EXAMPLE_ACCESS_KEY_ID: (EXAMPLE_SECRET_ACCESS_KEY, TOKEN)}) as emu:
        assert send(signed(emu, BODY, token=TOKEN)).status_code == 200
        for token in (None, "a-wrong-token"):
            status, code, message = error_of(send(signed(emu, BODY, token=token)))
            assert (status, code) == (403, "UnrecognizedClientException")
            assert message == "The security token included in the request is invalid."


def test_unknown_access_key_and_missing_or_bad_authorization(emulator: Emulator) -> None:
    req = signed(emulator, BODY)
    r = send(req, Authorization=req.headers["Authorization"].replace(EXAMPLE_ACCESS_KEY_ID, "AKIAI44QH8DHBEXAMPLE"))
    assert error_of(r)[:2] == (403, "UnrecognizedClientException")
    with httpx.Client() as c:
        url = emulator.endpoint_url + f"/model/{MODEL_ID}/converse"
        r = c.post(url, content=BODY, headers={"content-type": "application/json"})
        assert error_of(r)[:2] == (403, "MissingAuthenticationTokenException")
        r = c.post(url, content=BODY, headers={"authorization": "Bearer ABSK-not-the-emulators-key"})
        assert error_of(r)[:2] == (403, "UnrecognizedClientException")
        r = c.post(url, content=BODY, headers={"authorization": f"Bearer {EXAMPLE_API_KEY}"})
        assert r.status_code == 200
        r = c.post(url, content=BODY, headers={"authorization": "AWS4-HMAC-SHA256 garbage"})
        assert error_of(r)[:2] == (400, "IncompleteSignatureException")


def _stamp(s: str) -> datetime:
    return datetime.strptime(s, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def test_a_stale_date_gets_aws_exact_signature_expired_answer() -> None:
    with Emulator(clock=lambda: time.time() + 600) as emu:
        req = signed(emu, BODY)
        r = send(req)
    status, code, message = error_of(r)
    assert status == 403
    assert code == "InvalidSignatureException"
    assert r.headers["x-amzn-errortype"].startswith("InvalidSignatureException:")
    m = EXPIRED_RE.fullmatch(message)
    assert m, message
    sent, earliest, now = (_stamp(x) for x in m.groups())
    assert m[1] == req.headers["X-Amz-Date"]
    assert (now - earliest).total_seconds() == 300
    assert 590 <= (now - sent).total_seconds() <= 610
    assert abs((now - _stamp_from_http_date(r.headers["date"])).total_seconds()) <= 1


def _stamp_from_http_date(value: str) -> datetime:
    return datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=timezone.utc)


def test_the_signature_expired_shape_matches_a_real_aws_answer() -> None:
    recording = RECORDINGS / "amazon_bedrock" / "anthropic_claude_opus_4_1_20250805_v1_0" / "usage.json"
    if not recording.is_file():
        pytest.skip("../shared/bedrock-recordings is absent")
    real = json.loads(recording.read_text())["response"]
    assert real["status"] == 403
    assert EXPIRED_RE.fullmatch(real["body"]["message"])  # the emulator's message regex fits AWS's
    real_type = real["headers"]["x-amzn-errortype"][0]
    with Emulator(clock=lambda: time.time() + 600) as emu:
        r = send(signed(emu, BODY))
    assert r.headers["x-amzn-errortype"] == real_type
    assert set(r.json()) == set(real["body"])


def test_a_future_date_is_not_yet_current() -> None:
    with Emulator(clock=lambda: time.time() - 600) as emu:
        status, code, message = error_of(send(signed(emu, BODY)))
    assert (status, code) == (403, "InvalidSignatureException")
    assert re.fullmatch(
        r"Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)", message
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("PUT", "/"),
        ("POST", f"/model/{MODEL_ID}/converse-nope"),
        ("POST", f"/model/{MODEL_ID}/converse/extra"),
        ("GET", f"/model/{MODEL_ID}/converse"),
        ("POST", "/models/x/converse"),
    ],
)
def test_unknown_routes_are_404(emulator: Emulator, method: str, path: str) -> None:
    with httpx.Client() as c:
        r = c.request(method, emulator.endpoint_url + path)
    assert error_of(r)[:2] == (404, "UnknownOperationException")


# -- the responder's Converse rules -------------------------------------------------------------------------

TOOLS = {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]}
CACHE = {"cachePoint": {"type": "default"}}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"messages": HELLO + HELLO}, "must alternate between user and assistant"),
        ({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}, "must start with a user message"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "x"}]}}]}
                ],
                "toolConfig": TOOLS,
            },
            "toolResult blocks must match toolUse blocks",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"text": "hi"}]},
                    {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "t", "input": {}}}]},
                ]
            },
            "toolConfig field must be defined",
        ),
        (
            {"messages": HELLO, "system": [{"text": "a"}, CACHE, CACHE, CACHE, CACHE, CACHE]},
            "maximum of 4 cache points",
        ),
        (
            {
                "messages": [{"role": "user", "content": [{"text": "a"}, CACHE, CACHE]}],
                "system": [{"text": "s"}, CACHE, CACHE, CACHE],
            },
            "maximum of 4 cache points",
        ),
    ],
)
def test_converse_rules_answer_400_validation_exception(boto: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        boto.converse(modelId=MODEL_ID, **kwargs)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message in info.value.response["Error"]["Message"]


def test_four_cache_points_are_allowed(boto: Any) -> None:
    r = boto.converse(
        modelId=MODEL_ID,
        messages=[{"role": "user", "content": [{"text": "a"}, CACHE]}],
        system=[{"text": "s"}, CACHE, CACHE, CACHE],
    )
    assert r["stopReason"] == "end_turn"


def test_malformed_json_is_a_validation_exception(emulator: Emulator) -> None:
    status, code, _ = error_of(send(signed(emulator, b"{not json")))
    assert (status, code) == (400, "ValidationException")


# -- the command line ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_python_dash_m_starts_the_emulator() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-W", "error", "-m", "reqbed.testing.emulator", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the emulator did not start: {proc.communicate()[1]}") from None
                time.sleep(0.05)
        with reqbed.Client() as client:
            r = client.generate_text(
                f"bedrock:{MODEL_ID}",
                "from the command line",
                provider_options={
                    "endpoint_url": f"http://127.0.0.1:{port}",
                    "api_key": EXAMPLE_API_KEY,
                    "use_converse": True,
                },
            )
            # the native /invoke bodies come from the responder table, also when run as __main__
            native = client.generate_text(
                f"bedrock:{MODEL_ID}",
                "natively",
                provider_options={
                    "endpoint_url": f"http://127.0.0.1:{port}",
                    "api_key": EXAMPLE_API_KEY,
                    "use_converse": False,
                },
            )
        assert r.text == "You said: from the command line"
        assert native.text == "You said: natively"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}" in out
    assert EXAMPLE_ACCESS_KEY_ID in out
    assert "Traceback" not in err
    assert "RuntimeWarning" not in err


def test_the_request_log_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import reqbed.testing.emulator as emulator_module

    monkeypatch.setattr(emulator_module, "_MAX_LOGGED", 4)
    with Emulator() as emu, httpx.Client() as c:
        for i in range(9):
            c.post(f"{emu.endpoint_url}/nowhere/{i}")
        assert 2 <= len(emu.requests) <= 4
        assert emu.requests[-1]["path"] == "/nowhere/8"


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [{"role": "user", "content": [{"toolUse": {"name": "x", "input": {}}}]}]},
        {"messages": ["hi"]},
        {"messages": [{"role": "user", "content": [{"text": 5}]}]},
        {"messages": HELLO, "inferenceConfig": "x"},
        {"messages": HELLO, "inferenceConfig": {"maxTokens": True}},
        {"messages": HELLO, "inferenceConfig": {"stopSequences": "ab"}},
        {"messages": HELLO, "toolConfig": {"tools": "x"}},
        {"messages": HELLO, "system": "x"},
        {"messages": HELLO, "additionalModelRequestFields": {"thinking": "x"}},
        {"messages": HELLO, "toolConfig": {"tools": [{"toolSpec": {"name": "t"}}], "toolChoice": {"tool": {}}}},
        [1, 2],
    ],
)
@pytest.mark.parametrize("action", ["converse", "converse-stream"])
def test_malformed_bodies_are_400_not_a_dropped_connection(emulator: Emulator, body: Any, action: str) -> None:
    path = f"/model/{MODEL_ID.replace(':', '%3A')}/{action}"
    status, code, message = error_of(send(signed(emulator, json.dumps(body).encode(), path)))
    assert (status, code) == (400, "ValidationException")
    assert message
    assert send(signed(emulator, BODY)).status_code == 200  # and the emulator keeps serving


@pytest.mark.parametrize("kind", ["exception_frame", "bad_crc", "truncate"])
def test_a_stream_fault_placed_past_the_end_still_happens(emulator: Emulator, kind: str) -> None:
    emulator.inject(kind, after=10_000)
    with reqbed.Client() as client, pytest.raises(reqbed.ReqbedError):
        client.stream_text(
            f"bedrock:{MODEL_ID}",
            "Hi",
            provider_options={**emulator.provider_options(), "use_converse": True},
            max_retries=0,
        ).response()
