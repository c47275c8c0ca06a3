"""``map`` / ``amap``: many calls from one process, results in input order, concurrency that adapts
to throttling (``_aimd``).

Two runners share one state (``_Run``: the limiter and the counters) and differ only in how they
wait for a slot:

- ``run`` (async, anyio: asyncio or trio): ``concurrency`` worker tasks pull the next input from
  one shared iterator, each waiting under an ``anyio.Condition`` for a free slot;
- ``run_threads`` (sync): the same with ``concurrency`` threads and a ``threading.Condition``. Each
  call is the blocking ``generate_text`` on the client's one sync pool. Measured against running the
  async runner on a loop in a helper thread, this costs less CPU per call and gives more throughput
  (httpx's sync transport is lighter than its async one: benchmarks/bench_map.py), so the sync
  ``map`` uses threads. ``on_progress`` and the sink are called with the state's lock held, one at a
  time, from the worker threads. A thread cannot cancel a blocking call, so with
  ``return_exceptions=False`` the sync runner stops starting calls at the first error and raises it
  once the calls in flight end (each within its own deadline).

Every call goes through the client's one send path (``generate_text`` / ``agenerate_text`` ...), with
its own retries. Throttles and retries are seen through the core's attempt events (``_hooks``):
while a map runs one observer is registered, and a context variable set in each worker (task or
thread) tells it which map an event belongs to (events are emitted synchronously in the calling
task or thread).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .._errors import ReqbedError, ThrottlingError, ValidationError
from .._hooks import OBSERVERS, AttemptEnded, AttemptStarted, Event, RetryDecision
from ._aimd import Aimd
from ._result import MapProgress, MapResult, MapStats

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._options import ChatOptions

__all__ = ["Caller", "Operation", "Progress", "amap", "map_sync", "run", "run_threads", "verb"]

Operation = Literal["text", "object", "embed"]
Progress = Callable[[MapProgress], None]
Sink = Callable[[Any, Any], None]


class Caller(Protocol):
    """What the runners need of a ``Client`` (named by a Protocol: ``_client`` imports this module)."""

    def generate_text(self, model: str, prompt: Any, **opts: Unpack[ChatOptions]) -> Any: ...

    async def agenerate_text(self, model: str, prompt: Any, **opts: Unpack[ChatOptions]) -> Any: ...


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


def check(concurrency: object, return_exceptions: object, operation: object) -> None:
    """The arguments every map checks before any call (``ValidationError`` naming the field)."""
    if type(concurrency) is not int or concurrency < 1:
        raise ValidationError(f"concurrency must be a positive int, got {concurrency!r}")
    if type(return_exceptions) is not bool:
        raise ValidationError(f"return_exceptions must be a bool, got {return_exceptions!r}")
    if operation not in ("text", "object", "embed"):
        raise ValidationError(f"operation must be 'text', 'object' or 'embed', got {operation!r}")


def verb(client: Caller, model: str, operation: str, opts: dict[str, Any], *, sync: bool) -> Callable[[Any], Any]:
    """The call each input goes through: ``prompt -> result`` (sync) or ``prompt -> awaitable`` (async)."""
    prefix = "" if sync else "a"
    if operation == "text":
        text: Any = getattr(client, f"{prefix}generate_text")
        return lambda prompt: text(model, prompt, **opts)
    if operation == "object":
        method: Any = getattr(client, f"{prefix}generate_object", None)
        if method is None:
            raise ValidationError("operation='object' needs generate_object, which this reqbed does not have")
        if "schema" not in opts:
            raise ValidationError("operation='object' needs schema=")
        rest = dict(opts)
        schema = rest.pop("schema")
        return lambda prompt: method(model, prompt, schema, **rest)
    embed: Any = getattr(client, f"{prefix}embed", None)
    if embed is None:
        raise ValidationError("operation='embed' needs embed, which this reqbed does not have")
    return lambda prompt: embed(model, prompt, **opts)


def _price(result: Any) -> Decimal | None:
    """The known USD cost of one result (a ``Response``, or a result that holds one), else None."""
    from .._types import Response

    response = result if isinstance(result, Response) else getattr(result, "response", None)
    if not isinstance(response, Response):
        return None
    total: Decimal | None = response.cost.total
    return total


class _Run:
    """One map in progress: the limiter and the counters. ``lock`` guards them (attempt events
    arrive from worker threads in the sync runner; in the async one it is never contended)."""

    def __init__(self, ceiling: int, total: int, on_progress: Progress | None) -> None:
        self.aimd = Aimd(ceiling)
        self.stats = MapStats(total=total, concurrency=ceiling)
        self.on_progress = on_progress
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.first_error: ReqbedError | None = None

    def _changed(self) -> None:
        self.stats.concurrency_changes.append((time.monotonic() - self.start, self.aimd.limit))

    def on_event(self, event: Event) -> None:
        with self.lock:
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
            with self.lock:
                s.failed += 1
            return False
        price = _price(result)  # outside the lock: the catalog may load on first use
        with self.lock:
            s.succeeded += 1
            usage = getattr(result, "usage", None)
            if usage is not None:
                s.input_tokens += getattr(usage, "input_tokens", 0) or 0
                s.output_tokens += getattr(usage, "output_tokens", 0) or 0
            if price is None:
                s.unpriced += 1
            else:
                s.cost += price
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

    def finish(self) -> MapStats:
        stats = self.stats
        stats.final_concurrency = self.aimd.limit
        stats.lowest_concurrency = self.aimd.lowest
        stats.elapsed = time.monotonic() - self.start
        if self.first_error is not None:
            raise self.first_error
        return stats


async def run(
    call: Callable[[Any], Awaitable[Any]],
    items: Iterator[tuple[Any, Any]],
    sink: Sink,
    *,
    total: int,
    concurrency: int,
    return_exceptions: bool,
    on_progress: Progress | None,
) -> MapStats:
    """Await ``call(prompt)`` for each ``(key, prompt)`` of ``items`` and give ``sink(key, result)``
    each result (or ``ReqbedError``) as it completes; the stats at the end. With
    ``return_exceptions=False`` the first error cancels the calls in flight and is raised."""
    import anyio

    state = _Run(concurrency, total, on_progress)
    cond = anyio.Condition()
    aimd = state.aimd
    exhausted = False

    crashed: list[Exception] = []

    async def worker() -> None:
        try:
            await work()
        except Exception as e:  # a bug, or a sink / on_progress that raised: stop the map, re-raise it
            if not crashed:
                crashed.append(e)
            tg.cancel_scope.cancel()

    async def work() -> None:
        nonlocal exhausted
        _RUN.set(state)
        while True:
            async with cond:
                while not (exhausted or aimd.may_start()):
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
    if crashed:
        raise crashed[0]
    return state.finish()


def run_threads(
    call: Callable[[Any], Any],
    items: Iterator[tuple[Any, Any]],
    sink: Sink,
    *,
    total: int,
    concurrency: int,
    return_exceptions: bool,
    on_progress: Progress | None,
) -> MapStats:
    """``run`` with ``concurrency`` threads and blocking calls (see the module doc for ``return_exceptions``)."""
    state = _Run(concurrency, total, on_progress)
    cond = threading.Condition()
    aimd = state.aimd
    stop = False
    crashed: list[BaseException] = []

    def worker() -> None:
        nonlocal stop
        _RUN.set(state)
        try:
            while True:
                with cond:
                    while not (stop or aimd.may_start()):
                        cond.wait()
                    if stop:
                        return
                    try:
                        key, prompt = next(items)
                    except StopIteration:
                        stop = True
                        cond.notify_all()
                        return
                    aimd.started()
                result: Any
                try:
                    result = call(prompt)
                except ReqbedError as e:
                    result = e
                finally:
                    with cond:
                        aimd.finished()
                        cond.notify()
                if isinstance(result, ReqbedError) and not return_exceptions:
                    with cond:
                        if state.first_error is None:
                            state.first_error = result
                        stop = True
                        cond.notify_all()
                    return
                grew = state.account(result)
                with cond:
                    if grew:
                        cond.notify()
                    sink(key, result)
                    state.progress()
        except BaseException as e:  # a bug, or a sink / on_progress that raised: stop the map, re-raise it
            with cond:
                crashed.append(e)
                stop = True
                cond.notify_all()

    _register()
    try:
        threads = [threading.Thread(target=worker, name=f"reqbed-map-{i}", daemon=True) for i in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        _unregister()
    if crashed:
        raise crashed[0]
    return state.finish()


def _listed(prompts: Iterable[Any]) -> list[Any]:
    return prompts if isinstance(prompts, list) else list(prompts)


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
    check(concurrency, return_exceptions, operation)
    call = verb(client, model, operation, opts, sync=False)
    items = _listed(prompts)
    results: list[Any] = [None] * len(items)
    stats = await run(
        call,
        iter(enumerate(items)),
        results.__setitem__,
        total=len(items),
        concurrency=concurrency,
        return_exceptions=return_exceptions,
        on_progress=on_progress,
    )
    return MapResult(results, stats)


def map_sync(
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
    """``Client.map``: see ``reqbed.map``."""
    check(concurrency, return_exceptions, operation)
    call = verb(client, model, operation, opts, sync=True)
    items = _listed(prompts)
    results: list[Any] = [None] * len(items)
    stats = run_threads(
        call,
        iter(enumerate(items)),
        results.__setitem__,
        total=len(items),
        concurrency=concurrency,
        return_exceptions=return_exceptions,
        on_progress=on_progress,
    )
    return MapResult(results, stats)
