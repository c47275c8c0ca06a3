"""Replay every fixture under fixtures/ through reqbed's public API and check the stored answers.

Each fixture carries the reqbed calls that produced it (model, prompt, options) and what they
returned (text, thinking, finish reason, usage, tool calls; or the error class). Re-issuing the
calls through ``Client(transport=ReplayTransport(...))`` must send the recorded requests (a body
that drifted fails with a diff) and give back the recorded answers, sync and async.

With ``REQBED_FIXTURES=record`` (and AWS credentials) the catalog scenarios selected with ``-k``
are recorded against real Amazon Bedrock instead.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from fixtures._record import record_aws
from fixtures._scenarios import catalog
from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator
from reqbed.testing.fixtures import (
    Fixture,
    ReplayTransport,
    arun_call,
    check_expectation,
    fixtures_mode,
    load_fixture,
    replay_client,
    run_call,
)
from tests.support import REPO

ROOT = REPO
FIXTURES = ROOT / "fixtures"
FILES = sorted(FIXTURES.glob("*/*.json"))
MODE = fixtures_mode()


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _record_command(name: str) -> str:
    return f"nox -s record -- --emulator {shlex.quote(name)}   (real AWS: nox -s record -- {shlex.quote(name)})"


def _load(path: Path) -> Fixture:
    if MODE == "record":
        pytest.skip("REQBED_FIXTURES=record: see test_record_catalog_scenario")
    fixture = load_fixture(path)
    assert fixture.name == _name(path), "a fixture's name is its path under fixtures/"
    assert fixture.calls, "each of reqbed's own fixtures carries the calls that produced it"
    return fixture


def _problems(outcome: object, expect: dict[str, object], i: int) -> list[str]:
    return [f"call {i + 1}: {p}" for p in check_expectation(outcome, expect)]  # type: ignore[arg-type]


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_replay_fixture(path: Path) -> None:
    fixture = _load(path)
    transport = ReplayTransport(fixture, record_command=_record_command(fixture.name))
    with replay_client(transport, environ={}, region=fixture.region) as client:
        problems = []
        for i, call in enumerate(fixture.calls):
            problems += _problems(run_call(client, call), call.expect, i)
    assert not problems, "\n".join(problems)
    assert transport.unplayed == [], f"exchanges never requested: {transport.unplayed}"


@pytest.mark.anyio
@pytest.mark.parametrize("path", FILES, ids=_name)
async def test_replay_fixture_async(path: Path) -> None:
    fixture = _load(path)
    async with replay_client(fixture, environ={}, region=fixture.region) as client:
        problems = []
        for i, call in enumerate(fixture.calls):
            problems += _problems(await arun_call(client, call), call.expect, i)
    assert not problems, "\n".join(problems)


def test_every_catalog_scenario_has_a_fixture() -> None:
    """The suite covers every family x scenario the catalog lists (and nothing stale)."""
    if MODE == "record":
        pytest.skip("REQBED_FIXTURES=record")
    wanted = set(catalog())
    have = {_name(p) for p in FILES}
    missing = sorted(wanted - have)
    assert not missing, (
        f"{len(missing)} catalog scenario(s) have no fixture: {', '.join(missing)}\n"
        f"Record them with:\n    nox -s record -- --emulator {' '.join(missing)}\n"
        f"(against real AWS, with credentials: REQBED_FIXTURES=record nox -s record -- {' '.join(missing)})"
    )
    stale = sorted(n for n in have - wanted if load_fixture(FIXTURES / f"{n}.json").source == "emulator")
    assert not stale, f"emulator fixtures for scenarios no longer in the catalog: {stale}"


#: The environment as it was before conftest's ``clean_aws_env`` hid the AWS settings (record mode needs them).
_STARTING_ENV = dict(os.environ)


@pytest.mark.parametrize("name", sorted(catalog()) if MODE == "record" else [])
def test_record_catalog_scenario(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``REQBED_FIXTURES=record pytest tests/testing/test_fixture_replay_suite.py -k <name>``: real AWS,
    with the AWS settings of the shell that started pytest."""
    for key in {k for k in (*_STARTING_ENV, *os.environ) if k.startswith("AWS_")}:
        if key in _STARTING_ENV:
            monkeypatch.setenv(key, _STARTING_ENV[key])
        else:
            monkeypatch.delenv(key, raising=False)
    line = record_aws(name)
    if line.startswith("skipped"):
        pytest.skip(line)
    assert line.startswith("wrote"), line


def test_the_real_aws_recorder_writes_fixtures_that_replay(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``record_aws`` takes endpoint and credentials from where reqbed finds them for real AWS; here
    AWS's own environment variables point it at the emulator (so the file says ``emulator``)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", emulator.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EXAMPLE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_ACCESS_KEY)
    assert record_aws("meta-converse/tool_round_trip", root=tmp_path).startswith("wrote")
    assert len(emulator.requests) == 2
    assert record_aws("meta-converse/error_throttling", root=tmp_path).startswith("skipped")
    fixture = load_fixture(tmp_path / "meta-converse" / "tool_round_trip.json")
    assert (fixture.source, fixture.region) == ("emulator", None)
    with replay_client(fixture, environ={}) as client:
        problems = [p for i, c in enumerate(fixture.calls) for p in _problems(run_call(client, c), c.expect, i)]
    assert not problems
    assert fixture.calls[1].expect["text"] == "Tool results: 18 degrees Celsius and sunny"
