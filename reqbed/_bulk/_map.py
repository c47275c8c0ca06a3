"""``map`` / ``amap``: many calls from one process, results in input order, concurrency that adapts
to throttling (``_aimd``).

The runner is async (anyio: asyncio or trio). ``concurrency`` worker tasks pull the next input
from one shared iterator, each waiting for a free slot under the adaptive limit; every call goes
through the client's one send path (``Client._acall`` via ``agenerate_text`` ...), with its own
retries. Throttles and retries are seen through the core's attempt events (``_hooks``): while a
map runs, one observer is registered, and a context variable set in each worker task tells it
which map an event belongs to (events are emitted synchronously in the calling task).

The sync ``map`` runs the same runner on an event loop in a helper thread (anyio's blocking
portal): one implementation, one connection pool per ``map`` (closed with that loop), and no
thread per call; ``on_progress`` is then called from that helper thread.
"""

from __future__ import annotations

import contextvars
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, Literal, Protocol

import anyio

from .._errors import ReqbedError, ThrottlingError, ValidationError
from .._hooks import OBSERVERS, AttemptEnded, AttemptStarted, Event, RetryDecision
from ._aimd import Aimd
from ._result import MapProgress, MapResult, MapStats

__all__ = ["Caller", "Operation", "Progress", "amap", "map_sync", "run", "run_sync", "verb"]

Operation = Literal["text", "object", "embed"]
Progress = Callable[[MapProgress], None]
Call = Callable[[Any], Awaitable[Any]]
Sink = Callable[[Any, Any], None]


class Caller(Protocol):
    """What the runner needs of a ``Client`` (named by a Protocol: ``_client`` imports this module)."""

    async def agenerate_text(self, model: str, prompt: Any, **opts: Any) -> Any: ...


_RUN: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("reqbed_map_run", default=None)
_TICKET: contextvars.ContextVar[int] = contextvars.ContextVar("reqbed_map_ticket", default=0)
_observer_lock = threading.Lock()
_active = 0


def _observe(event: Event) -> None:
    run = _RUN.get()
    if run is not None:
        run.on_event(event)


def _register() -> None:
    global _active
    with _observer_lock:
        _active += 1
        if _active == 1:
            OBSERVERS.append(_observe)


def _unregister() -> None:
    global _active
    with _observer_lock:
        _active -= 1
        if _active == 0:
            OBSERVERS.remove(_observe)


def _check(concurrency: object, return_exceptions: object, operation: object) -> None:
    if type(concurrency) is not int or concurrency < 1:
        raise ValidationError(f"concurrency must be a positive int, got {concurrency!r}")
    if type(return_exceptions) is not bool:
        raise ValidationError(f"return_exceptions must be a bool, got {return_exceptions!r}")
    if operation not in ("text", "object", "embed"):
        raise ValidationError(f"operation must be 'text', 'object' or 'embed', got {operation!r}")


def verb(client: Caller, model: str, operation: str, opts: dict[str, Any]) -> Call:
    """The async call each input goes through."""
    if operation == "text":
        return functools.partial(_text, client, model, opts)
    if operation == "object":
        method: Any = getattr(client, "agenerate_object", None)
        if method is None:
            raise ValidationError("operation='object' needs generate_object, which this reqbed does not have")
        if "schema" not in opts:
            raise ValidationError("operation='object' needs schema=")
        rest = dict(opts)
        schema = rest.pop("schema")
        return lambda prompt: method(model, prompt, schema, **rest)
    embed: Any = getattr(client, "aembed", None)
    if embed is None:
        raise ValidationError("operation='embed' needs embed, which this reqbed does not have")
    return lambda prompt: embed(model, prompt, **opts)


async def _text(client: Caller, model: str, opts: dict[str, Any], prompt: Any) -> Any:
    return await client.agenerate_text(model, prompt, **opts)


class _Run:
    """One map in progress: the limiter, the counters, and the slot condition."""

    def __init__(self, ceiling: int, total: int, on_progress: Progress | None) -> None:
        self.aimd = Aimd(ceiling)
        self.stats = MapStats(total=total, concurrency=ceiling)
        self.on_progress = on_progress
        self.start = time.monotonic()
        self.cond = anyio.Condition()
        self.first_error: ReqbedError | None = None

    def _changed(self) -> None:
        self.stats.concurrency_changes.append((time.monotonic() - self.start, self.aimd.limit))

    def on_event(self, event: Event) -> None:
        if type(event) is AttemptStarted:
            self.stats.attempts += 1
            _TICKET.set(self.aimd.attempt())
        elif type(event) is AttemptEnded:
            if isinstance(event.error, ThrottlingError):
                self.stats.throttles += 1
                if self.aimd.throttled(_TICKET.get()):
                    self._changed()
        elif type(event) is RetryDecision and event.action == "retry":
            self.stats.retries += 1

    def account(self, result: Any) -> bool:
        """Count a finished call; True when the limit grew."""
        s = self.stats
        if isinstance(result, ReqbedError):
            s.failed += 1
            return False
        s.succeeded += 1
        usage = getattr(result, "usage", None)
        if usage is not None:
            s.input_tokens += getattr(usage, "input_tokens", 0) or 0
            s.output_tokens += getattr(usage, "output_tokens", 0) or 0
        total = _price(result)
        if total is None:
            s.unpriced += 1
        else:
            s.cost += total
        grew = self.aimd.succeeded()
        if grew:
            self._changed()
        return grew

    def progress(self) -> None:
        if self.on_progress is not None:
            s = self.stats
            self.on_progress(
                MapProgress(
                    done=s.succeeded + s.failed,
                    failed=s.failed,
                    in_flight=self.aimd.in_flight,
                    total=s.total,
                    input_tokens=s.input_tokens,
                    output_tokens=s.output_tokens,
                    cost=s.cost,
                    concurrency=self.aimd.limit,
                )
            )


def _price(result: Any) -> Decimal | None:
    """The known USD cost of one result (a ``Response``, or a result that holds one), else None."""
    from .._types import Response

    response = result if isinstance(result, Response) else getattr(result, "response", None)
    if not isinstance(response, Response):
        return None
    total: Decimal | None = response.cost.total
    return total


async def run(
    call: Call,
    items: Iterator[tuple[Any, Any]],
    sink: Sink,
    *,
    total: int,
    concurrency: int,
    return_exceptions: bool,
    on_progress: Progress | None,
) -> MapStats:
    """Call ``call(prompt)`` for each ``(key, prompt)`` of ``items`` and give ``sink(key, result)``
    each result (or ``ReqbedError``) as it completes; the stats at the end. With
    ``return_exceptions=False`` the first error cancels the calls in flight and is raised."""
    state = _Run(concurrency, total, on_progress)
    exhausted = False

    async def worker() -> None:
        nonlocal exhausted
        _RUN.set(state)
        cond, aimd = state.cond, state.aimd
        while True:
            async with cond:
                while not aimd.may_start():
                    await cond.wait()
                if exhausted:
                    cond.notify()  # pass the wake-up on: another waiter sees the end too
                    return
                try:
                    key, prompt = next(items)
                except StopIteration:
                    exhausted = True
                    cond.notify()
                    return
                aimd.started()
            result: Any
            try:
                result = await call(prompt)
            except ReqbedError as e:
                result = e
            finally:
                with anyio.CancelScope(shield=True):
                    async with cond:
                        aimd.finished()
                        cond.notify()
            if isinstance(result, ReqbedError) and not return_exceptions:
                if state.first_error is None:
                    state.first_error = result
                    tg.cancel_scope.cancel()
                return
            if state.account(result):
                async with cond:
                    cond.notify()
            sink(key, result)
            state.progress()

    _register()
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(concurrency):
                tg.start_soon(worker)
    finally:
        _unregister()
    stats = state.stats
    stats.final_concurrency = state.aimd.limit
    stats.lowest_concurrency = state.aimd.lowest
    stats.elapsed = time.monotonic() - state.start
    if state.first_error is not None:
        raise state.first_error
    return stats


def run_sync(fn: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``fn()`` on an event loop in a helper thread (anyio's blocking portal) and return its result."""
    with anyio.from_thread.start_blocking_portal() as portal:
        return portal.call(fn)


def _counted(prompts: Iterable[Any]) -> tuple[list[Any], int]:
    items = prompts if isinstance(prompts, list) else list(prompts)
    return items, len(items)


async def amap(
    client: Caller,
    model: str,
    prompts: Iterable[Any],
    *,
    concurrency: int = 16,
    return_exceptions: bool = True,
    operation: Operation = "text",
    on_progress: Progress | None = None,
    **opts: Any,
) -> MapResult[Any]:
    """``Client.amap``: see ``reqbed.amap``."""
    _check(concurrency, return_exceptions, operation)
    call = verb(client, model, operation, opts)
    items, total = _counted(prompts)
    results: list[Any] = [None] * total

    def sink(i: int, result: Any) -> None:
        results[i] = result

    stats = await run(
        call,
        iter(enumerate(items)),
        sink,
        total=total,
        concurrency=concurrency,
        return_exceptions=return_exceptions,
        on_progress=on_progress,
    )
    return MapResult(results, stats)


def map_sync(client: Caller, model: str, prompts: Iterable[Any], **kwargs: Any) -> MapResult[Any]:
    """``Client.map``: ``amap`` on an event loop in a helper thread."""
    _check(kwargs.get("concurrency", 16), kwargs.get("return_exceptions", True), kwargs.get("operation", "text"))
    result: MapResult[Any] = run_sync(functools.partial(amap, client, model, prompts, **kwargs))
    return result
