"""The network guard: one documented hook that vets every request reqbed sends to the network.

``reqbed.testing.set_network_guard(guard)`` installs ``guard`` (a function of the
``httpx.Request`` about to go out, which raises to refuse it); ``set_network_guard(None)`` removes
it; ``with reqbed.testing.network_guard(guard):`` does both. The pytest plugin's replay mode uses it
to refuse real (non-loopback) requests.

Where it applies: a ``reqbed.Client`` consults the guard when it builds a network transport (its
sync pool on first use, each event loop's pool on first use in that loop) and wraps that
transport so the guard sees each signed request before it leaves (STS calls included). A transport
you pass yourself (``Client(transport=...)``, fixture replay) is never wrapped: it is not the
network. Pools built before the guard was installed stay unguarded.

The guard is process-wide state, set by test set-up code, not a per-call option; this module has
no dependency (``httpx`` only when a transport is wrapped), so ``import reqbed`` stays light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["NetworkGuard", "guard_async_transport", "guard_transport", "network_guard", "set_network_guard"]

#: Vets one outgoing request; raises (any exception) to refuse it.
NetworkGuard = Callable[["httpx.Request"], None]

_guard: NetworkGuard | None = None


def set_network_guard(guard: NetworkGuard | None) -> NetworkGuard | None:
    """Install ``guard`` for the network transports reqbed builds from now on (``None`` removes
    it); returns the guard it replaces, so a caller can put it back."""
    global _guard
    previous, _guard = _guard, guard
    return previous


@contextlib.contextmanager
def network_guard(guard: NetworkGuard | None) -> Iterator[None]:
    """``with network_guard(guard):``: ``guard`` is installed inside the block, the previous one after."""
    previous = set_network_guard(guard)
    try:
        yield
    finally:
        set_network_guard(previous)


def guard_transport(inner: httpx.BaseTransport) -> httpx.BaseTransport:
    """``inner`` behind the current guard (``inner`` itself when none is installed); the wrapper
    keeps it as ``.inner``."""
    if _guard is None:
        return inner
    guard: NetworkGuard = _guard
    import httpx

    class Guarded(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = inner

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            guard(request)
            return inner.handle_request(request)

        def close(self) -> None:
            inner.close()

    return Guarded()


def guard_async_transport(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
    """The async twin of ``guard_transport``."""
    if _guard is None:
        return inner
    guard: NetworkGuard = _guard
    import httpx

    class AsyncGuarded(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            guard(request)
            return await inner.handle_async_request(request)

        async def aclose(self) -> None:
            await inner.aclose()

    return AsyncGuarded()
