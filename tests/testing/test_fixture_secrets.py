"""No secret in any file under fixtures/, and the scanner and the recorder's redaction that ensure it.

Every file under fixtures/ is scanned (JSON files also inside their base64 stream reads) for
secret-shaped values: access key ids other than AWS's documented examples, 40-character secrets
next to key-ish names, session tokens, Bedrock API keys, bearer values, SigV4 authorization
material. The scanner is then shown to catch each kind (with values built at run time, so this
file holds none), and recording with real-looking credentials is shown to leave none behind.
"""

from __future__ import annotations

import base64
import json
import string
from pathlib import Path

import msgspec
import pytest

import reqbed
from reqbed.testing import Emulator
from reqbed.testing._secret_scan import scan_file, scan_text
from reqbed.testing.fixtures import FixtureError, recording_client, save_fixture
from tests.support import REPO

ROOT = REPO
FILES = sorted(p for p in (ROOT / "fixtures").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
MODEL = "bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0"

# Secret-shaped values, assembled at run time (never written out in this file).
_ALNUM = string.ascii_uppercase + string.digits
FAKE_KEY_ID = "AK" + "IA" + "".join(_ALNUM[(i * 7) % 36] for i in range(16))
FAKE_SECRET = "".join((string.ascii_letters + string.digits + "/+")[(i * 11) % 64] for i in range(40))
FAKE_SESSION_TOKEN = "IQoJb3Jp" + "Z2lu" + base64.b64encode(bytes(range(120))).decode()
FAKE_API_KEY = "AB" + "SK" + base64.b64encode(b"bedrock-api-key-user-at-123456789012:fake").decode()


def test_there_are_fixtures_to_scan() -> None:
    assert len([p for p in FILES if p.suffix == ".json"]) >= 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_secret_shaped_value_in_fixture_files(path: Path) -> None:
    findings = scan_file(path)
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f'"access_key_id": "{FAKE_KEY_ID}"', "AWS access key id"),
        (f"ASIA{FAKE_KEY_ID[4:]} in a log line", "AWS access key id"),
        (f'"aws_secret_access_key": "{FAKE_SECRET}"', "secret access key"),
        (f"SecretAccessKey={FAKE_SECRET}", "secret access key"),
        (f'"sessionToken": "{base64.b64encode(bytes(range(90))).decode()}"', "session token"),
        (f"{FAKE_SESSION_TOKEN}", "session token"),
        (f'"api_key": "{FAKE_API_KEY}"', "Bedrock API key"),
        ("token bedrock-api-key-" + "YmVkcm9jay5hbWF6b25hd3MuY29t", "Bedrock API key"),
        ("Authorization: Bearer " + "abc.def-123456789", "bearer token"),
        ("AWS4-HMAC-SHA256 " + "Credential=x/20250101/us-east-1/bedrock/aws4_request", "SigV4 authorization"),
        ("?X-Amz-Signature=" + "ab" * 32, "SigV4 signature"),
    ],
)
def test_the_scanner_catches_each_kind_of_secret(text: str, kind: str) -> None:
    assert kind in {f.kind for f in scan_text(text)}


@pytest.mark.parametrize(
    "text",
    [
        '"access_key_id": "AKIAIOSFODNN7EXAMPLE"',  # AWS's documented examples
        '"secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"',
        '"authorization": "<redacted>", "x-amz-security-token": "<redacted>"',
        '"x-amz-content-sha256": "' + "e3b0c442" * 8 + '"',
        '"usage": {"inputTokens": 12, "cacheReadInputTokens": 0}, "maxTokens": 4096',
        '"signature": "' + "0f" * 32 + '"',  # a thinking signature is not a credential
    ],
)
def test_the_scanner_leaves_ordinary_values_alone(text: str) -> None:
    assert scan_text(text) == []


def test_the_scanner_looks_inside_base64_stream_reads(tmp_path: Path) -> None:
    hidden = base64.b64encode(f'{{"text": "{FAKE_KEY_ID}"}}'.encode()).decode()
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"exchanges": [{"response": {"chunks": [{"b64": hidden}]}}]}))
    (finding,) = scan_file(path)
    assert finding.kind == "AWS access key id"
    assert finding.where.endswith("chunks[0].b64 (decoded)")
    assert FAKE_KEY_ID not in str(finding), "findings never repeat the secret"


def test_the_scanner_flags_an_authorization_value_that_is_not_redacted(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"request": {"headers": {"Authorization": "Basic dXNlcjpwYXNz"}}}))
    assert [f.kind for f in scan_file(path)] == ["Authorization value (must be '<redacted>')"]


def test_recording_with_real_looking_credentials_leaves_no_secret(tmp_path: Path) -> None:
    """Session credentials, then a Bedrock API key: the fixture keeps neither (nor a signature)."""
    with Emulator(credentials={FAKE_KEY_ID: (FAKE_SECRET, FAKE_SESSION_TOKEN)}, api_keys={FAKE_API_KEY}) as emu:
        client, recorder = recording_client()
        with client:
            base = {"endpoint_url": emu.endpoint_url, "region": "us-east-1", "use_converse": True}
            sigv4 = {
                **base,
                "access_key_id": FAKE_KEY_ID,
                "secret_access_key": FAKE_SECRET,
                "session_token": FAKE_SESSION_TOKEN,
            }
            assert client.generate_text(MODEL, "Hi", provider_options=sigv4).text == "You said: Hi"
            assert client.generate_text(MODEL, "Hi", provider_options={**base, "api_key": FAKE_API_KEY}).text
        sent = [r["headers"] for r in emu.requests]
    assert sent[0]["x-amz-security-token"] == FAKE_SESSION_TOKEN, "the secrets really were on the wire"
    assert sent[1]["authorization"] == f"Bearer {FAKE_API_KEY}"
    path = save_fixture(tmp_path / "creds.json", recorder.exchanges, name="creds", source="emulator")
    text = path.read_text()
    for secret in (FAKE_KEY_ID, FAKE_SECRET, FAKE_SESSION_TOKEN, FAKE_API_KEY, "Signature="):
        assert secret not in text
    headers = [e["request"]["headers"] for e in json.loads(text)["exchanges"]]
    assert [h["authorization"] for h in headers] == ["<redacted>", "<redacted>"]
    assert headers[0]["x-amz-security-token"] == "<redacted>"
    assert headers[0]["x-amz-date"].endswith("Z"), "dates are kept"
    assert scan_file(path) == []


def test_save_refuses_a_fixture_with_a_secret_in_it(tmp_path: Path, emulator: Emulator) -> None:
    client, recorder = recording_client()
    with client:
        client.generate_text(
            MODEL, f"my key is {FAKE_KEY_ID}", provider_options={**emulator.provider_options(), "use_converse": True}
        )
    with pytest.raises(FixtureError, match=r"(?s)refusing to write .*leak\.json.*AWS access key id") as e:
        save_fixture(tmp_path / "leak.json", recorder.exchanges, name="leak", source="emulator")
    assert FAKE_KEY_ID not in str(e.value)
    assert not (tmp_path / "leak.json").exists()


def test_request_json_members_naming_secrets_are_redacted_and_still_replay(tmp_path: Path, emulator: Emulator) -> None:
    """A secret inside the body (here a model field named ``api_key``) is redacted in the file, and
    replay still matches, because the live body is redacted the same way before comparing."""
    extra = {"additional_model_request_fields": {"api_key": FAKE_API_KEY}}
    client, recorder = recording_client()
    with client:
        live = client.generate_text(
            MODEL, "Hi", provider_options={**emulator.provider_options(), "use_converse": True, **extra}
        )
    path = save_fixture(tmp_path / "body.json", recorder.exchanges, name="body", source="emulator")
    assert FAKE_API_KEY not in path.read_text()
    from reqbed.testing.fixtures import replay_client

    with replay_client(path) as replayed:
        again = replayed.generate_text(MODEL, "Hi", provider_options={"use_converse": True, **extra})
        assert msgspec.structs.replace(again, elapsed=None) == msgspec.structs.replace(live, elapsed=None)
    assert isinstance(live, reqbed.Response)
