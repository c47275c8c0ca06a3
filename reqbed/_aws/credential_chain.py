"""Step 6 in the I/O shell: finish resolving a call's credentials (and, with them, its region).

``resolve_sync`` / ``resolve_async`` take what sources 1-3 found (pure,
``credentials.resolve_auth``; None when nothing), the call's options and region, and:

* check what sources 1-3 found: a short-term Bedrock API key's expiry and region
  (``_api_keys.check_api_key``), temporary credentials' known expiry;
* with ``role_arn``: find the source credentials (sources 1-3, IAM keys only, else the default
  chain) and assume the role (``_sts``);
* otherwise run source 4, botocore's default chain: the ``profile`` option / ``AWS_PROFILE``,
  shared config and credentials files, SSO, ``credential_process``, web identity, container
  (ECS, EKS pod identity) and EC2 instance metadata. On asyncio it runs through aiobotocore
  (never blocking the loop); under trio botocore runs in a worker thread; sync code calls
  botocore directly. The profile's region is reported back and used when the call named none.

They return what they found, ``(auth, region)``, and change nothing: the caller moves the call to
that region (``_pipeline.relocate``, step 5 again). This package never imports the pipeline. The
order of the sources is written once, as an I/O-free flow (``_chain_flow``) that the two
functions run with ``_flow``'s drivers; only the botocore and STS calls differ between them.

botocore is imported here lazily, only when source 4 runs: the bearer and static-key paths never
import it. botocore sessions are cached per (profile, config file, credentials file), never by
a secret; the frozen credentials are re-read on every call (cheap), so refreshable credentials
(SSO, IMDS, container, assume-role profiles) refresh when botocore decides they must.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from .._errors import CredentialsError
from .._flow import drive_async, drive_sync
from .api_keys import check_api_key
from .clock import Clock
from .credentials import no_credentials_error, resolve_iam
from .credentials_types import Auth, AwsCredentials, BearerToken

if TYPE_CHECKING:
    from .sts import AsyncSend, RoleSpec, Send

__all__ = [
    "Found",
    "Options",
    "check_expiry",
    "clear_cache",
    "resolve_async",
    "resolve_default_async",
    "resolve_default_sync",
    "resolve_iam_async",
    "resolve_iam_sync",
    "resolve_sync",
]

_ChainKey = tuple[str | None, str | None, str | None]


class _Cached:
    """One botocore session and the last credentials it gave (reused while unchanged)."""

    __slots__ = ("last", "lock", "session")

    def __init__(self, session: Any) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.last: AwsCredentials | None = None


_lock = threading.Lock()
_sessions: dict[_ChainKey, _Cached] = {}
_aio_sessions: weakref.WeakKeyDictionary[object, dict[_ChainKey, _Cached]] = weakref.WeakKeyDictionary()


def clear_cache() -> None:
    """Forget the cached botocore sessions (and assumed-role credentials)."""
    with _lock:
        _sessions.clear()
        _aio_sessions.clear()
    from . import sts as _sts  # imported only when a role is assumed

    _sts.clear_cache()


def _chain_key(profile: str | None) -> _ChainKey:
    return (profile, os.environ.get("AWS_CONFIG_FILE"), os.environ.get("AWS_SHARED_CREDENTIALS_FILE"))


def _chain_failed(e: Exception, what: str) -> CredentialsError:
    # botocore's own errors are written for users (ProfileNotFound, SSO token expired, ...).
    detail = str(e) if type(e).__module__.startswith(("botocore", "aiobotocore")) else ""
    return no_credentials_error(f"{what} failed: {type(e).__name__}" + (f": {detail[:300]}" if detail else ""))


def _ours(cached: _Cached, frozen: Any, expiry: Any, method: str) -> AwsCredentials:
    last = cached.last
    if (
        last is not None
        and last.access_key_id == frozen.access_key
        and last.secret_access_key == frozen.secret_key
        and last.session_token == (frozen.token or None)
        and last.expiration == expiry
    ):
        return last  # unchanged: keep the object (and the signing keys cached on it)
    creds = AwsCredentials(
        frozen.access_key, frozen.secret_key, frozen.token, expiration=expiry, source=f"botocore:{method}"
    )
    cached.last = creds
    return creds


def _profile_region(session: Any) -> str | None:
    try:
        region = session.get_scoped_config().get("region")
    except Exception:  # a broken or missing profile already surfaced through the credentials
        return None
    return str(region) if region else None


def resolve_default_sync(profile: str | None) -> tuple[AwsCredentials, str | None]:
    """Source 4 with botocore (blocking): (credentials, the profile's region or None)."""
    try:
        import botocore.session
    except ImportError:  # pragma: no cover - depends on the install
        raise no_credentials_error("botocore is not installed: pip install 'reqbed[chain]'") from None
    key = _chain_key(profile)
    with _lock:
        cached = _sessions.get(key)
        if cached is None:
            cached = _sessions[key] = _Cached(botocore.session.Session(profile=profile))
    try:
        with cached.lock:  # the first load may do I/O (IMDS, SSO); one thread does it
            creds = cached.session.get_credentials()
        if creds is None:
            raise no_credentials_error()
        frozen = creds.get_frozen_credentials()  # refreshes refreshable credentials when due
    except CredentialsError:
        raise
    except Exception as e:
        raise _chain_failed(e, "botocore's credential chain") from None
    return _ours(cached, frozen, getattr(creds, "_expiry_time", None), creds.method), _profile_region(cached.session)


def _on_asyncio() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def resolve_default_async(profile: str | None) -> tuple[AwsCredentials, str | None]:
    """asyncio: aiobotocore's chain; any other event loop (trio): botocore in a worker thread."""
    import anyio.to_thread

    if not _on_asyncio():
        return await anyio.to_thread.run_sync(resolve_default_sync, profile)
    try:
        from aiobotocore.session import AioSession
    except ImportError:
        return await anyio.to_thread.run_sync(resolve_default_sync, profile)
    import asyncio

    loop = asyncio.get_running_loop()
    key = _chain_key(profile)
    with _lock:
        per_loop = _aio_sessions.setdefault(loop, {})
        cached = per_loop.get(key)
        if cached is None:
            cached = per_loop[key] = _Cached(AioSession(profile=profile))
    try:
        creds = await cached.session.get_credentials()
        if creds is None:
            raise no_credentials_error()
        frozen = await creds.get_frozen_credentials()
    except CredentialsError:
        raise
    except Exception as e:
        raise _chain_failed(e, "aiobotocore's credential chain") from None
    return _ours(cached, frozen, getattr(creds, "_expiry_time", None), creds.method), _profile_region(cached.session)


def resolve_iam_sync(profile: str | None = None) -> tuple[AwsCredentials, str | None]:
    """IAM credentials as a call with no options would find them (put_key, env, default chain)."""
    creds = resolve_iam({"profile": profile} if profile else {}, os.environ)
    return (creds, None) if creds is not None else resolve_default_sync(profile)


async def resolve_iam_async(profile: str | None = None) -> tuple[AwsCredentials, str | None]:
    creds = resolve_iam({"profile": profile} if profile else {}, os.environ)
    return (creds, None) if creds is not None else await resolve_default_async(profile)


# -- the auth step ---------------------------------------------------------------------------------


def check_expiry(creds: AwsCredentials, clock: Clock) -> AwsCredentials:
    """Refuse temporary credentials whose known expiry has passed (before anything is sent)."""
    exp = creds.expiration
    if exp is not None and exp.timestamp() <= clock.time():
        raise CredentialsError(
            f"the temporary AWS credentials from {creds.source or 'the caller'} expired at "
            f"{exp:%Y-%m-%d %H:%M:%S %Z}; get new ones (or let reqbed's chain refresh them)"
        )
    return creds


#: What step 6 found: the credentials, and a region they brought (a profile's; a short-term API
#: key's when the call named none), else None. The caller moves a call that named no region there
#: (``_pipeline.relocate``).
Found = tuple[Auth, "str | None"]


class Options(Protocol):
    """The call's ``provider_options`` as step 6 reads them (``_request.ProviderOptions``)."""

    @property
    def role_arn(self) -> str | None: ...

    @property
    def profile(self) -> str | None: ...

    def as_mapping(self) -> dict[str, Any]: ...


def _checked(auth: Auth, region: str, region_explicit: bool, clock: Clock) -> Found:
    if isinstance(auth, BearerToken):
        return auth, check_api_key(auth, region=region, region_explicit=region_explicit, now=clock.now())
    return check_expiry(auth, clock), None


def _at(region: str, region_explicit: bool, learned: str | None) -> str:
    """The region STS is called in: the call's, or the one the source credentials' profile named."""
    return learned if learned and not region_explicit else region


class _DefaultChain:
    """Run source 4 (botocore's default chain) for ``profile``. Answer: (credentials, its region)."""

    __slots__ = ("profile",)

    def __init__(self, profile: str | None) -> None:
        self.profile = profile


class _AssumeRole:
    """Call STS AssumeRole. Answer: the assumed credentials."""

    __slots__ = ("region", "source", "spec", "url")

    def __init__(self, spec: RoleSpec, source: AwsCredentials, region: str, url: str) -> None:
        self.spec, self.source, self.region, self.url = spec, source, region, url


def _chain_flow(
    options: Options, region: str, region_explicit: bool, environ: Mapping[str, str], clock: Clock
) -> Generator[_DefaultChain | _AssumeRole, Any, Found]:
    """Step 6 when sources 1-3 found nothing, written once without I/O (``_flow``'s drivers run it):
    with ``role_arn``, source credentials (sources 1-3, IAM keys only, else the chain) then STS;
    otherwise the default chain."""
    if options.role_arn:
        from . import sts as _sts

        mapping = options.as_mapping()
        spec = _sts.role_spec(mapping)
        source, learned = resolve_iam(mapping, environ), cast("str | None", None)
        if source is None:
            source, learned = yield _DefaultChain(options.profile)
        check_expiry(source, clock)
        at = _at(region, region_explicit, learned)
        assumed: AwsCredentials = yield _AssumeRole(spec, source, at, _sts.sts_endpoint(at, environ))
        return assumed, learned
    creds, learned = yield _DefaultChain(options.profile)
    return check_expiry(creds, clock), learned


def resolve_sync(
    auth: Auth | None,
    options: Options,
    *,
    region: str,
    region_explicit: bool,
    environ: Mapping[str, str],
    clock: Clock,
    send: Send,
) -> Found:
    """The credentials to sign a call with (may run botocore's chain and/or STS; blocking).

    ``auth``: what sources 1-3 found (None: run the chain); ``region``: the call's region
    (``region_explicit`` False: the default, which the credentials may replace)."""
    if auth is not None:
        return _checked(auth, region, region_explicit, clock)

    def perform(need: _DefaultChain | _AssumeRole) -> Any:
        if isinstance(need, _DefaultChain):
            return resolve_default_sync(need.profile)
        from .sts import assume_role_sync

        return assume_role_sync(need.spec, need.source, region=need.region, url=need.url, clock=clock, send=send)

    return drive_sync(_chain_flow(options, region, region_explicit, environ, clock), perform)


async def resolve_async(
    auth: Auth | None,
    options: Options,
    *,
    region: str,
    region_explicit: bool,
    environ: Mapping[str, str],
    clock: Clock,
    send: AsyncSend,
) -> Found:
    """Async ``resolve_sync`` (asyncio or trio)."""
    if auth is not None:
        return _checked(auth, region, region_explicit, clock)

    async def perform(need: _DefaultChain | _AssumeRole) -> Any:
        if isinstance(need, _DefaultChain):
            return await resolve_default_async(need.profile)
        from .sts import assume_role_async

        return await assume_role_async(need.spec, need.source, region=need.region, url=need.url, clock=clock, send=send)

    return await drive_async(_chain_flow(options, region, region_explicit, environ, clock), perform)
