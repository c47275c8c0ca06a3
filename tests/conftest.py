"""Shared fixtures: anyio backends, a clean AWS environment, the emulator, the real recordings.

The emulator comes from reqbed's own pytest plugin (``reqbed_emulator``: one per session, reset
for each test); ``emulator`` is the suite's short name for it. Helpers live in ``tests/support``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import reqbed
from reqbed.testing import Emulator
from tests.support import BACKENDS, RECORDINGS

# reqbed's own suite runs in replay mode: any real (non-loopback) request reqbed makes raises.
os.environ.setdefault("REQBED_FIXTURES", "replay")


def pytest_configure(config: pytest.Config) -> None:
    """reqbed's pytest plugin: its entry point loads it when reqbed is installed; register it here
    otherwise (a ``pytest_plugins`` line would clash with the entry point)."""
    from reqbed.testing import pytest_plugin

    pytest_plugin.register(config)


_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's AWS settings, profiles or instance metadata."""
    for name in _AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reqbed.clear_keys()
    yield
    reqbed.clear_keys()


@pytest.fixture
def emulator(reqbed_emulator: Emulator) -> Emulator:
    """The plugin's session emulator (``reqbed_emulator``), reset for this test, cutting stream frames
    at random offsets (``chunking="split"``): the suite stresses incremental decoding."""
    reqbed_emulator.chunking = "split"
    return reqbed_emulator


@pytest.fixture
def client() -> Iterator[reqbed.Client]:
    with reqbed.Client() as c:
        yield c


@pytest.fixture
def recordings_dir() -> Path:
    if not RECORDINGS.is_dir():
        pytest.skip("../shared/bedrock-recordings is absent (it sits beside the repo in the team's checkout)")
    return RECORDINGS
