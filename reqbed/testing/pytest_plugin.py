"""reqbed's pytest plugin: record and replay your app's Bedrock calls (see docs/testing.md).

Installed with reqbed (entry point ``pytest11``: ``reqbed``). It gives tests:

- ``reqbed_fixtures``: a ``reqbed.Client`` served from a fixture file, which also becomes the
  default client behind ``reqbed.generate_text`` & co. for the test;
- ``reqbed_emulator``: the local Bedrock emulator (one per session, on loopback, ``reset()`` for
  each test);
- ``@pytest.mark.reqbed_fixture("name")``: names the file (``<reqbed_fixtures_dir>/name.json``)
  and switches the fixture on for the test without asking for it;
- ``reqbed_fixtures_dir`` (default: ``reqbed_fixtures/`` beside the test module) and
  ``reqbed_fixtures_mode`` (default: ``$REQBED_FIXTURES``, else ``replay``): override them in a
  ``conftest.py`` to change them.

Modes: ``replay`` serves the file and blocks every real request reqbed would make from a test
(loopback hosts, such as the local emulator, stay allowed) through the public network guard hook
(``reqbed.testing.set_network_guard``; nothing private is patched); ``record`` calls the real service
and writes the file at the end of the test; ``off`` changes nothing. Blocking is opt-in: it applies
to tests that use fixtures, and to every test only when ``REQBED_FIXTURES=replay`` is set (as
reqbed's own suite does).

A project that runs its tests without installing reqbed registers the plugin from its
``conftest.py`` with ``reqbed.testing.pytest_plugin.register(config)`` in ``pytest_configure``
(a ``pytest_plugins`` line would clash with the entry point once reqbed is installed).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import reqbed

from .._aws.credentials import is_loopback
from .._network_guard import NetworkGuard, set_network_guard
from ._replay_transport import FixtureError
from .emulator import Emulator
from .fixtures import ENV_VAR, Mode, fixtures_mode, recording_client, replay_client, save_fixture, source_of

__all__ = ["NetworkBlockedError", "register"]

PLUGIN_NAME = "reqbed"
MARK = "reqbed_fixture"


class NetworkBlockedError(FixtureError):
    """A test tried to reach a real endpoint while fixtures are in replay mode."""


def register(config: pytest.Config) -> None:
    """Register this plugin unless its entry point already did (or ``-p no:reqbed`` blocks it)."""
    module = sys.modules[__name__]
    manager = config.pluginmanager
    if not manager.is_registered(module) and not manager.is_blocked(PLUGIN_NAME):
        manager.register(module, PLUGIN_NAME)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARK}(name): replay this test's Bedrock calls from <reqbed_fixtures_dir>/<name>.json "
        "(REQBED_FIXTURES=record writes it)",
    )


def _record_command(request: pytest.FixtureRequest) -> str:
    return f"REQBED_FIXTURES=record python -m pytest {shlex.quote(request.node.nodeid)}"


def _blocked(request: httpx.Request, command: str) -> NetworkBlockedError:
    url = request.url.copy_with(query=None)
    return NetworkBlockedError(
        f"reqbed fixtures are in replay mode: the real request {request.method} {url} was blocked.\n"
        "Serve it from a fixture (the `reqbed_fixtures` fixture or @pytest.mark.reqbed_fixture(...)) and record "
        f"that with:\n    {command}\nor let requests through with REQBED_FIXTURES=off."
    )


def _replay_guard(command: str) -> NetworkGuard:
    """A network guard (``reqbed.testing.set_network_guard``) refusing every non-loopback host."""

    def guard(request: httpx.Request) -> None:
        if not is_loopback(request.url.host):
            raise _blocked(request, command)

    return guard


@pytest.fixture(scope="session")
def _reqbed_emulator_session() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def reqbed_emulator(_reqbed_emulator_session: Emulator) -> Iterator[Emulator]:
    """reqbed's local Bedrock emulator (one per test session, on loopback), reset for each test
    (``Emulator.reset()``: no pending faults, an empty request log, a cold prompt cache).

    ``reqbed_emulator.provider_options()`` points reqbed at it with its example credentials;
    ``reqbed_emulator.inject("throttling")`` and friends make the next calls fail."""
    emu = _reqbed_emulator_session
    emu.reset()
    yield emu
    emu.clear_faults()


@pytest.fixture
def reqbed_fixtures_mode() -> Mode:
    """``replay``, ``record`` or ``off``: ``$REQBED_FIXTURES``, else ``replay``."""
    return fixtures_mode()


@pytest.fixture
def reqbed_fixtures_dir(request: pytest.FixtureRequest) -> Path:
    """Where fixture files live: ``reqbed_fixtures/`` beside the test module."""
    return Path(request.path).parent / "reqbed_fixtures"


def _fixture_name(request: pytest.FixtureRequest) -> str:
    mark = request.node.get_closest_marker(MARK)
    if mark is not None:
        if len(mark.args) != 1 or not isinstance(mark.args[0], str) or not mark.args[0].strip("/"):
            raise pytest.UsageError(f'use @pytest.mark.{MARK}("name"), got args={mark.args!r}')
        name = mark.args[0].strip("/")
        if ".." in Path(name).parts:
            raise pytest.UsageError(f"{MARK} name {name!r} must stay inside reqbed_fixtures_dir")
        return name.removesuffix(".json")
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
    return f"{Path(request.path).stem}/{test}"


@pytest.fixture
def reqbed_fixtures(
    request: pytest.FixtureRequest,
    reqbed_fixtures_mode: Mode,
    reqbed_fixtures_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[reqbed.Client]:
    """A ``reqbed.Client`` (sync and async) replaying or recording ``<dir>/<name>.json``; it is also
    the default client behind ``reqbed.generate_text`` & co. while the test runs."""
    name = _fixture_name(request)
    path = reqbed_fixtures_dir / f"{name}.json"
    recorder = None
    if reqbed_fixtures_mode == "replay":
        client = replay_client(path, record_command=_record_command(request))
    elif reqbed_fixtures_mode == "record":
        client, recorder = recording_client()
    else:
        client = reqbed.Client()
    monkeypatch.setattr(reqbed, "default_client", lambda: client)
    try:
        yield client
    finally:
        client.close()
        if recorder is not None and recorder.exchanges:
            exchanges = recorder.exchanges
            source, region = source_of(exchanges)
            save_fixture(path, exchanges, name=name, source=source, region=region)


@pytest.fixture(autouse=True)
def _reqbed_fixtures_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Replay mode: block reqbed's real requests (every ``Client`` network pool built during the
    test, and a fresh default client) through the public hook ``reqbed.testing.set_network_guard``.
    A ``reqbed_fixture`` mark turns the ``reqbed_fixtures`` fixture on.

    Opt-in: installing reqbed never changes a suite that does not ask for fixtures. Blocking applies
    when ``REQBED_FIXTURES=replay`` is set, or to tests that use fixtures (the mark or the fixture).
    """
    mode: Mode = request.getfixturevalue("reqbed_fixtures_mode")
    made: list[reqbed.Client] = []
    uses_fixtures = request.node.get_closest_marker(MARK) is not None or "reqbed_fixtures" in request.fixturenames
    asked = os.environ.get(ENV_VAR, "").strip().lower() == "replay"
    guarding = mode == "replay" and (asked or uses_fixtures)
    previous: NetworkGuard | None = None
    if guarding:
        previous = set_network_guard(_replay_guard(_record_command(request)))

        def default_client() -> reqbed.Client:
            if not made:
                made.append(reqbed.Client())
            return made[0]

        monkeypatch.setattr(reqbed, "default_client", default_client)
    try:
        if request.node.get_closest_marker(MARK) is not None and "reqbed_fixtures" not in request.fixturenames:
            request.getfixturevalue("reqbed_fixtures")
        yield
    finally:
        for client in made:
            client.close()
        if guarding:
            set_network_guard(previous)
