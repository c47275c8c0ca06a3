"""``embed`` / ``aembed`` on the operations core: one plan, many ``/invoke`` requests, one call.

``Embed`` plans the whole call purely (``plan_embed``: validation, batches, bodies) and prepares
the target every request shares (steps 5-6's pure part: region, endpoint, credentials sources 1-3),
so bad input fails before anything is sent. Each request of the plan is then its own operation,
``EmbedRequest``, sent through the client's one send path (``Client._call`` / ``_acall``): the
same attempt flow as every verb, so each request is retried on its own (throttling, 5xx,
``max_retries``), re-signed after a clock-skew refusal, and answers into an ``EmbedPart``.

One deadline for the whole call: ``Embed`` starts it (``timeout=``) and every request's target
carries only the time left when that request starts, so no request outlives the call's deadline;
a request that would start after it raises the call's ``RequestTimeoutError``.

Concurrency, bounded by ``plan.max_concurrency`` (default 16), order kept (each answer lands at
its call's number; ``assemble`` puts vectors in input order):

- sync (``run_sync``): a ``ThreadPoolExecutor`` of ``min(max_concurrency, requests)`` threads,
  created for the call, over the client's ONE shared sync connection pool (httpx's pool is
  thread-safe); a single request runs on the calling thread. Chosen over sequential sending
  because Titan and Nova take one input a request: 1,000 texts one after another would take
  1,000 round trips.
- async (``run_async``): an anyio task group, a ``CapacityLimiter`` of ``max_concurrency``.

A request that fails for good (its retries used up, or an error that is never retried) fails the
call: the error is raised with its message prefixed by the inputs the request carried
(``inputs[23]: ...``, ``EmbedCall.describe``) and the rest are cancelled: async tasks at once;
sync requests not yet started are dropped, those in flight finish their attempt.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

import msgspec

from .._aws.credentials import DEFAULT_REGION, explicit_region, resolve_auth, resolve_endpoint
from .._errors import ReqbedError, RequestTimeoutError
from .._fallback import Target
from .._operation import WholeAnswer
from .._pipeline import Prepared
from .plan import EmbedCall, Embeddings, EmbedPart, EmbedPlan, plan_embed

if TYPE_CHECKING:
    from .._retry import Deadline, RetryPolicy

__all__ = ["Embed", "EmbedRequest", "run_async", "run_sync"]

_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class Embed:
    """One ``embed`` call: its plan, the target its requests share, and its deadline."""

    __slots__ = ("base", "deadline", "plan", "region")

    def __init__(self, model: str, inputs: Any, opts: Mapping[str, Any], environ: Mapping[str, str]) -> None:
        self.plan: EmbedPlan = plan_embed(model, inputs, opts)  # every ValidationError is raised here
        self.base: Prepared = _prepare(self.plan, environ)
        self.region = self.base.region
        self.deadline: Deadline | None = None

    def start(self, policy: RetryPolicy) -> None:
        """Start the call's one deadline (``timeout=``) on the client's retry clock."""
        self.deadline = policy.deadline(self.plan.timeout)

    def request(self, call: EmbedCall) -> EmbedRequest:
        return EmbedRequest(self, call)

    def failed(self, call: EmbedCall, error: ReqbedError) -> ReqbedError:
        """``error`` (a request's permanent failure) naming the inputs that request carried; the
        call's own deadline error when that is what ended it."""
        d = self.deadline
        if isinstance(error, RequestTimeoutError) and d is not None and d.expired():
            timeout = d.error()
            if timeout.message != error.message:
                timeout.__cause__ = error
            error = timeout
        where = call.describe()
        if not error.message.startswith(where):
            error.message = f"{where}: {error.message}"
            error.args = (error.message, *error.args[1:])
        return error

    def assemble(self, parts: list[EmbedPart | None]) -> Embeddings:
        done = [p for p in parts if p is not None]
        result = self.plan.assemble(done)
        return msgspec.structs.replace(result, region=self.region)


def _prepare(plan: EmbedPlan, environ: Mapping[str, str]) -> Prepared:
    """Steps 5-6 (pure) of an embedding call: the target every request shares (body set per request)."""
    po = plan.provider_options
    options = po.as_mapping()
    given_region = explicit_region(options, plan.spec.region, environ)
    region = given_region or DEFAULT_REGION
    return Prepared(
        method="POST",
        site=resolve_endpoint,
        path=plan.path,
        url=resolve_endpoint(options, region, environ) + plan.path,
        body=b"",
        headers=dict(_HEADERS),
        region=region,
        region_explicit=given_region is not None,
        provider_options=po,
        auth=resolve_auth(options, environ),
        label=plan.spec.spec,
        environ=environ,
        timeout=plan.timeout,
        max_retries=plan.max_retries,
    )


class EmbedRequest(WholeAnswer[EmbedPart]):
    """One ``/invoke`` request of an ``Embed`` call, through the one send path."""

    __slots__ = ("call", "embed")

    def __init__(self, embed: Embed, call: EmbedCall) -> None:
        self.embed = embed
        self.call = call

    def plan(self, environ: Mapping[str, str]) -> list[Target]:
        p = copy.copy(self.embed.base)
        p.body = self.call.body
        d = self.embed.deadline
        if d is not None and d.at is not None:
            d.check()  # the call's deadline passed before this request started
            p.timeout = d.remaining()
        return [Target(p, p.label)]

    def parse(self, target: Target, status: int, headers: Mapping[str, str], body: bytes) -> EmbedPart:
        return self.embed.plan.parse(self.call, status, headers, body)


def run_sync(call_one: Callable[[EmbedRequest], EmbedPart], embed: Embed, policy: RetryPolicy) -> Embeddings:
    """Send every request of ``embed`` (``call_one``: ``Client._call``), bounded, order kept."""
    embed.start(policy)
    calls = embed.plan.calls
    parts: list[EmbedPart | None] = [None] * len(calls)

    def one(call: EmbedCall) -> None:
        try:
            parts[call.number] = call_one(embed.request(call))
        except ReqbedError as e:
            raise embed.failed(call, e) from e.__cause__

    if len(calls) == 1:
        one(calls[0])
        return embed.assemble(parts)
    width = min(embed.plan.max_concurrency, len(calls))
    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="reqbed-embed")
    try:
        futures = [pool.submit(one, c) for c in calls]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for f in futures:  # the first failure in call order among those finished
            if f in done and f.exception() is not None:
                for other in futures:
                    other.cancel()
                f.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return embed.assemble(parts)


async def run_async(
    acall_one: Callable[[EmbedRequest], Awaitable[EmbedPart]], embed: Embed, policy: RetryPolicy
) -> Embeddings:
    """Async ``run_sync`` (asyncio or trio): a task group, at most ``max_concurrency`` in flight."""
    import anyio

    embed.start(policy)
    calls = embed.plan.calls
    parts: list[EmbedPart | None] = [None] * len(calls)
    limiter = anyio.CapacityLimiter(embed.plan.max_concurrency)
    failure: list[ReqbedError] = []

    async def one(call: EmbedCall, cancel: Callable[[], None]) -> None:
        async with limiter:
            try:
                parts[call.number] = await acall_one(embed.request(call))
            except ReqbedError as e:
                if not failure:
                    failure.append(embed.failed(call, e))
                cancel()

    if len(calls) == 1:
        try:
            parts[0] = await acall_one(embed.request(calls[0]))
        except ReqbedError as e:
            raise embed.failed(calls[0], e) from e.__cause__
        return embed.assemble(parts)
    async with anyio.create_task_group() as tg:
        for call in calls:
            tg.start_soon(one, call, tg.cancel_scope.cancel)
    if failure:
        error = failure[0]
        raise error from error.__cause__
    return embed.assemble(parts)
