"""Source 4 of the credential precedence: botocore's default chain. Imported lazily.

On asyncio it runs through aiobotocore (never blocking the event loop); in sync code and under
trio it runs botocore's chain in the calling thread / a worker thread. The bearer and static-key
paths never reach this module, so they never import botocore.
"""

from __future__ import annotations

from typing import Any

from ._credentials import no_credentials_error
from ._credentials_types import AwsCredentials

__all__ = ["resolve_default_async", "resolve_default_sync"]


def _frozen_to_ours(frozen: Any, source: str) -> AwsCredentials:
    return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token, source=source)


def resolve_default_sync(profile: str | None) -> AwsCredentials:
    """Run botocore's chain (blocking)."""
    try:
        import botocore.session
    except ImportError:  # pragma: no cover - depends on the install
        raise no_credentials_error("botocore is not installed: pip install 'reqbed[chain]'") from None
    try:
        session = botocore.session.Session(profile=profile)
        creds = session.get_credentials()
    except Exception as e:
        raise no_credentials_error(f"botocore chain failed: {type(e).__name__}") from None
    if creds is None:
        raise no_credentials_error()
    return _frozen_to_ours(creds.get_frozen_credentials(), f"botocore:{creds.method}")


async def resolve_default_async(profile: str | None) -> AwsCredentials:
    """asyncio: aiobotocore's chain; any other event loop (trio): botocore in a worker thread."""
    import anyio.to_thread

    try:
        import asyncio

        asyncio.get_running_loop()
        on_asyncio = True
    except RuntimeError:
        on_asyncio = False
    if not on_asyncio:
        return await anyio.to_thread.run_sync(resolve_default_sync, profile)
    try:
        from aiobotocore.session import AioSession
    except ImportError:
        return await anyio.to_thread.run_sync(resolve_default_sync, profile)
    try:
        session = AioSession(profile=profile)
        creds = await session.get_credentials()
    except Exception as e:
        raise no_credentials_error(f"aiobotocore chain failed: {type(e).__name__}") from None
    if creds is None:
        raise no_credentials_error()
    frozen = await creds.get_frozen_credentials()
    return _frozen_to_ours(frozen, f"botocore:{creds.method}")
