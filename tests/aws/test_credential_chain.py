"""Source 4, botocore's default chain, observed on the wire (the emulator's log shows which key id
signed and for which region), plus the lazy-import promise checked in fresh interpreters.

Each test writes its own shared config / credentials files (conftest points AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE into the test's tmp_path) and never sees the developer's AWS setup.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

import reqbed
from reqbed._aws import credential_chain as _credential_chain
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator
from tests.support import REPO

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
AKID_2, SECRET_2 = "AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"  # AWS's second example pair
PROCESS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
PROCESS_KEYS = {f"ASIAEXAMPLE{i:09d}": (PROCESS_SECRET, f"example-token-{i}") for i in range(1, 6)}


@pytest.fixture(autouse=True)
def _fresh_chain() -> Iterator[None]:
    _credential_chain.clear_cache()
    yield
    _credential_chain.clear_cache()


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    creds: dict[str, tuple[str, str | None]] = {
        EXAMPLE_ACCESS_KEY_ID: (EXAMPLE_SECRET_ACCESS_KEY, None),
        AKID_2: (SECRET_2, None),
        **PROCESS_KEYS,
    }
    with Emulator(credentials=creds) as e:
        yield e


@pytest.fixture
def bedrock(emu: Emulator) -> Emulator:
    emu.requests.clear()
    return emu


def files(tmp_path: Path, *, config: str = "", credentials: str = "") -> None:
    (tmp_path / "aws-config").write_text(config)
    (tmp_path / "aws-credentials").write_text(credentials)


def keys(section: str, akid: str = EXAMPLE_ACCESS_KEY_ID, secret: str = EXAMPLE_SECRET_ACCESS_KEY) -> str:
    return f"[{section}]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n"


def signed_by(emu: Emulator) -> tuple[str, str]:
    """(access key id, credential-scope region) of the last request."""
    auth = emu.requests[-1]["headers"]["authorization"]
    scope = auth.split("Credential=")[1].split(",")[0].split("/")
    return scope[0], scope[2]


def call(emu: Emulator, **po: Any) -> reqbed.Response:
    with reqbed.Client() as client:
        return client.generate_text(MODEL, "hi", provider_options={"endpoint_url": emu.endpoint_url, **po})


# -- the chain finds credentials -------------------------------------------------------------------


def test_shared_credentials_file(tmp_path: Path, bedrock: Emulator) -> None:
    files(tmp_path, credentials=keys("default"))
    assert call(bedrock).text
    assert signed_by(bedrock) == (EXAMPLE_ACCESS_KEY_ID, "us-east-1")


@pytest.mark.anyio
async def test_async_chain_never_blocks_the_loop(
    tmp_path: Path, bedrock: Emulator, monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    files(tmp_path, credentials=keys("default", AKID_2, SECRET_2))
    threads: list[threading.Thread] = []
    real = _credential_chain.resolve_default_sync

    def spy(profile: str | None) -> Any:
        threads.append(threading.current_thread())
        return real(profile)

    monkeypatch.setattr(_credential_chain, "resolve_default_sync", spy)
    async with reqbed.Client() as client:
        for _ in range(2):
            await client.agenerate_text(MODEL, "hi", provider_options={"endpoint_url": bedrock.endpoint_url})
    assert signed_by(bedrock)[0] == AKID_2
    if anyio_backend == "asyncio":
        assert threads == []  # aiobotocore, on the loop
        assert len(_credential_chain._aio_sessions) == 1
    else:
        assert len(threads) == 2  # botocore in a worker thread
        assert all(t is not threading.main_thread() for t in threads)


def test_profile_option_and_its_region(tmp_path: Path, bedrock: Emulator) -> None:
    files(
        tmp_path,
        config="[default]\nregion = us-west-2\n[profile dev]\nregion = eu-west-3\n",
        credentials=keys("default") + keys("dev", AKID_2, SECRET_2),
    )
    call(bedrock, profile="dev")
    assert signed_by(bedrock) == (AKID_2, "eu-west-3")
    call(bedrock)
    assert signed_by(bedrock) == (EXAMPLE_ACCESS_KEY_ID, "us-west-2")


def test_profile_region_routes_the_default_endpoint(tmp_path: Path) -> None:
    files(tmp_path, config="[profile dev]\nregion = ap-south-1\n", credentials=keys("dev"))
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(403, json={"message": "stop"}, headers={"x-amzn-ErrorType": "AccessDeniedException"})

    with reqbed.Client(transport=httpx.MockTransport(handler)) as client, pytest.raises(reqbed.AccessDeniedError):
        client.generate_text(MODEL, "hi", provider_options={"profile": "dev"}, max_retries=0)
    assert seen[0].host == "bedrock-runtime.ap-south-1.amazonaws.com"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("provider_options", "ca-central-1"),
        ("AWS_REGION", "sa-east-1"),
        ("AWS_DEFAULT_REGION", "eu-north-1"),
        ("put_key", "me-south-1"),
        ("nowhere", "eu-west-3"),  # the profile's
    ],
)
def test_explicit_regions_beat_the_profiles(
    where: str, expected: str, tmp_path: Path, bedrock: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    files(tmp_path, config="[default]\nregion = eu-west-3\n", credentials=keys("default"))
    po: dict[str, Any] = {}
    if where == "provider_options":
        po["region"] = expected
    elif where == "put_key":
        reqbed.put_key("aws_bedrock", {"region": expected})
    elif where != "nowhere":
        monkeypatch.setenv(where, expected)
    call(bedrock, **po)
    assert signed_by(bedrock) == (EXAMPLE_ACCESS_KEY_ID, expected)


def test_aws_profile_environment_variable(tmp_path: Path, bedrock: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    files(tmp_path, config="[profile ops]\nregion = us-east-2\n", credentials=keys("ops", AKID_2, SECRET_2))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    call(bedrock)
    assert signed_by(bedrock) == (AKID_2, "us-east-2")


def test_explicit_profile_beats_environment_keys_but_aws_profile_does_not(
    tmp_path: Path, bedrock: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore's rule: a profile named in code skips the environment's keys; AWS_PROFILE does not.
    files(tmp_path, credentials=keys("dev", AKID_2, SECRET_2))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EXAMPLE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_ACCESS_KEY)
    call(bedrock, profile="dev")
    assert signed_by(bedrock)[0] == AKID_2
    monkeypatch.setenv("AWS_PROFILE", "dev")
    call(bedrock)
    assert signed_by(bedrock)[0] == EXAMPLE_ACCESS_KEY_ID
    call(bedrock, profile="dev", access_key_id=EXAMPLE_ACCESS_KEY_ID, secret_access_key=EXAMPLE_SECRET_ACCESS_KEY)
    assert signed_by(bedrock)[0] == EXAMPLE_ACCESS_KEY_ID  # keys in the call itself still win


def test_missing_profile_is_a_credentials_error_before_io(tmp_path: Path, bedrock: Emulator) -> None:
    files(tmp_path, credentials=keys("default"))
    with pytest.raises(reqbed.CredentialsError) as info:
        call(bedrock, profile="nope")
    assert "ProfileNotFound" in str(info.value)
    assert "nope" in str(info.value)
    assert bedrock.requests == []


# -- refreshable credentials -----------------------------------------------------------------------

PROCESS = """
import json, pathlib, sys
from datetime import datetime, timedelta, timezone
counter = pathlib.Path(sys.argv[1])
n = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(n))
expires = datetime.now(timezone.utc) + timedelta(minutes=int(sys.argv[2]))
print(json.dumps({"Version": 1, "AccessKeyId": f"ASIAEXAMPLE{n:09d}", "SecretAccessKey": sys.argv[3],
                  "SessionToken": f"example-token-{n}", "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))
"""


def process_profile(tmp_path: Path, minutes: int) -> Path:
    script = tmp_path / "creds.py"
    script.write_text(PROCESS)
    counter = tmp_path / "counter"
    command = f"{sys.executable} {script} {counter} {minutes} {PROCESS_SECRET}"
    files(tmp_path, config=f"[default]\ncredential_process = {command}\n")
    return counter


def test_refreshable_credentials_are_refreshed_between_calls(tmp_path: Path, bedrock: Emulator) -> None:
    counter = process_profile(tmp_path, minutes=5)  # inside botocore's mandatory refresh window
    with reqbed.Client() as client:
        for _ in range(3):
            client.generate_text(MODEL, "hi", provider_options={"endpoint_url": bedrock.endpoint_url})
    used = [signed_by_request(r) for r in bedrock.requests]
    assert len(set(used)) == 3  # fresh keys for every call: botocore refreshed them
    runs = int(counter.read_text())
    assert used[-1] == f"ASIAEXAMPLE{runs:09d}"  # the newest keys the process handed out
    assert bedrock.requests[-1]["headers"]["x-amz-security-token"] == f"example-token-{runs}"
    assert len(_credential_chain._sessions) == 1  # one cached botocore session did all of it


def test_long_lived_process_credentials_are_reused(tmp_path: Path, bedrock: Emulator) -> None:
    counter = process_profile(tmp_path, minutes=60)
    creds = [_credential_chain.resolve_default_sync(None)[0] for _ in range(3)]
    assert counter.read_text() == "1"
    assert creds[0] is creds[1] is creds[2]  # same keys: the same object, with its cached signing keys
    assert creds[0].expiration is not None
    assert creds[0].expiration - datetime.now(timezone.utc) > timedelta(minutes=55)
    assert creds[0].source == "botocore:custom-process"


def signed_by_request(request: dict[str, Any]) -> str:
    return str(request["headers"]["authorization"]).split("Credential=")[1].split("/")[0]


def test_a_failing_credential_process_is_a_credentials_error(tmp_path: Path, bedrock: Emulator) -> None:
    files(tmp_path, config=f"[default]\ncredential_process = {sys.executable} -c 'import sys; sys.exit(3)'\n")
    with pytest.raises(reqbed.CredentialsError) as info:
        call(bedrock)
    assert "CredentialRetrievalError" in str(info.value)
    assert bedrock.requests == []


def test_sessions_are_never_keyed_by_secrets(tmp_path: Path, bedrock: Emulator) -> None:
    files(tmp_path, credentials=keys("default") + keys("dev", AKID_2, SECRET_2))
    call(bedrock)
    call(bedrock, profile="dev")
    flat = [str(part) for key in _credential_chain._sessions for part in key]
    assert len(_credential_chain._sessions) == 2
    assert not any(s in part for part in flat for s in (EXAMPLE_SECRET_ACCESS_KEY, SECRET_2, AKID_2))


def test_expired_environment_credentials_with_a_known_expiry(
    monkeypatch: pytest.MonkeyPatch, bedrock: Emulator
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE000000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", PROCESS_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "example-token-1")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat())
    with pytest.raises(reqbed.CredentialsError) as info:
        call(bedrock)
    assert "expired" in str(info.value)
    assert bedrock.requests == []
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "not a time")
    with pytest.raises(reqbed.CredentialsError, match="AWS_CREDENTIAL_EXPIRATION"):
        call(bedrock)


# -- botocore is imported only when the chain runs -------------------------------------------------

IMPORT_CHECK = """
import json, os, sys
import anyio, reqbed
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator
MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
mode = sys.argv[1]
with Emulator() as emu, reqbed.Client() as client:
    if mode == "keys":
        client.generate_text(MODEL, "hi", provider_options=emu.provider_options())
        async def main():
            async with reqbed.Client() as ac:
                await ac.agenerate_text(MODEL, "hi", provider_options=emu.provider_options())
                await ac.agenerate_text(MODEL, "hi", provider_options=emu.provider_options(bearer=True))
        anyio.run(main)
        anyio.run(main, backend="trio")
    elif mode == "bearer":
        client.generate_text(MODEL, "hi", provider_options=emu.provider_options(bearer=True))
    elif mode == "env":
        os.environ["AWS_ACCESS_KEY_ID"] = EXAMPLE_ACCESS_KEY_ID
        os.environ["AWS_SECRET_ACCESS_KEY"] = EXAMPLE_SECRET_ACCESS_KEY
        client.generate_text(MODEL, "hi", provider_options={"endpoint_url": emu.endpoint_url})
    elif mode == "chain":
        try:
            client.generate_text(MODEL, "hi", provider_options={"endpoint_url": emu.endpoint_url})
        except reqbed.CredentialsError:
            pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("botocore", "aiobotocore", "boto3")
                        or m in ("reqbed._aws.sts", "xml.etree.ElementTree"))))
"""


@pytest.mark.parametrize("mode", ["keys", "bearer", "env", "chain"])
def test_bearer_and_static_keys_never_import_botocore(mode: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    env.update(
        PYTHONPATH=str(REPO),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK, mode], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    if mode == "chain":
        assert "botocore" in loaded  # the check can see an import when there is one
    else:
        assert loaded == [], loaded


def test_chain_error_names_every_source(bedrock: Emulator) -> None:
    with pytest.raises(reqbed.CredentialsError) as info:
        call(bedrock)
    message = str(info.value)
    for needle in ("provider_options", "put_key", "AWS_BEARER_TOKEN_BEDROCK", "AWS_ACCESS_KEY_ID", "botocore"):
        assert needle in message
