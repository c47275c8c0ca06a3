"""Flows: I/O-free generators that decide what to send, and the two drivers that do the I/O.

A *flow* yields actions and receives their answers, the way httpx's ``Auth.auth_flow`` does: it
never touches a socket, a clock it was not given, or a sleep. Its actions:

- ``Send(target)``: build, sign and send one request for ``target``; the answer is the
  ``httpx.Response`` (headers read, body not yet);
- ``Read(target, response)``: read a refused answer's whole body and release the connection; the
  answer is the bytes;
- ``Finish(target, response)``: step 9 on the answer (the operation parses it, or opens and
  primes the stream); the answer is the call's result;
- ``Sleep(seconds)``: back off before the next attempt (the driver does it itself).

An action that fails with a ``ReqbedError`` is thrown into the flow at its ``yield``, which decides
what follows (retry, fall back, raise). ``drive_sync`` runs a flow with blocking I/O;
``drive_async`` with anyio (asyncio or trio), each I/O action cancelled at the call's deadline
(``enforce_deadline``). Anything else (a cancellation, a bug) closes the flow and propagates.

``resign_on_skew`` is the flow of one attempt: send, and when AWS refuses the signature's time
(a skewed clock) learn the server's time (``_aws.clock``) and send once more, re-signed. The
call's flow (``_fallback.call_flow``) runs it for every attempt; STS (``_aws.sts``) runs it alone.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from ._aws.clock import SKEW_STATUSES, Clock, learn_skew, skew_error
from ._errors import APIError, ReqbedError
from ._retry import Deadline, enforce_deadline

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Action",
    "ErrorFactory",
    "Finish",
    "Flow",
    "Read",
    "Send",
    "Sleep",
    "drive_async",
    "drive_sync",
    "resign_on_skew",
    "sleep_async",
    "sleep_sync",
]

T = TypeVar("T")


class Send:
    """Build, sign and send one request for ``target``. Answer: the ``httpx.Response``."""

    __slots__ = ("target",)

    def __init__(self, target: Any) -> None:
        self.target = target


class Read:
    """Read ``response``'s whole body (for ``target``) and release its connection. Answer: the body."""

    __slots__ = ("response", "target")

    def __init__(self, target: Any, response: httpx.Response) -> None:
        self.target = target
        self.response = response


class Finish:
    """Step 9: turn ``response`` (for ``target``) into the call's result. Answer: that result."""

    __slots__ = ("response", "target")

    def __init__(self, target: Any, response: httpx.Response) -> None:
        self.target = target
        self.response = response


class Sleep:
    """Wait ``seconds`` before the next attempt (done by the driver)."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


Action = Send | Read | Finish | Sleep
Flow = Generator[Action, Any, T]
#: An endpoint's error answer (status, headers, body) as reqbed's error.
ErrorFactory = Callable[[int, "httpx.Headers", bytes], APIError]


def sleep_sync(seconds: float) -> None:
    time.sleep(seconds)


async def sleep_async(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


def drive_sync(flow: Generator[Any, Any, T], perform: Callable[[Any], Any]) -> T:
    """Run ``flow`` to its result, doing each action with ``perform`` (blocking). Any flow: the
    call's (``Action``), or another with actions of its own (``_aws.credential_chain``)."""
    answer: Any = None
    error: ReqbedError | None = None
    try:
        while True:
            try:
                action = flow.send(answer) if error is None else flow.throw(error)
            except StopIteration as done:
                result: T = done.value
                return result
            answer = error = None
            try:
                if type(action) is Sleep:
                    sleep_sync(action.seconds)
                else:
                    answer = perform(action)
            except ReqbedError as e:
                error = e
    finally:
        flow.close()


async def drive_async(
    flow: Generator[Any, Any, T], perform: Callable[[Any], Awaitable[Any]], deadline: Deadline | None = None
) -> T:
    """``drive_sync`` for async code (asyncio or trio): each I/O action runs under the call's
    deadline, which cancels it in flight (``anyio.fail_after``); sleeps use ``anyio.sleep``."""
    answer: Any = None
    error: ReqbedError | None = None
    try:
        while True:
            try:
                action = flow.send(answer) if error is None else flow.throw(error)
            except StopIteration as done:
                result: T = done.value
                return result
            answer = error = None
            try:
                if type(action) is Sleep:
                    await sleep_async(action.seconds)
                else:
                    with enforce_deadline(deadline):
                        answer = await perform(action)
            except ReqbedError as e:
                error = e
    finally:
        flow.close()


def resign_on_skew(target: Any, endpoint: Callable[[], str], clock: Clock, error: ErrorFactory) -> Flow[Any]:
    """One attempt at ``target``: send it and finish it; on a clock-skew refusal (AWS: "Signature
    expired" ...) learn the server's time for ``endpoint()`` (``host[:port]``, read after the send:
    step 6 may move the target) and send once more, signed with the corrected time. Any other
    answer is finished untouched (an error answer's body already read); a second skew refusal
    raises ``SignatureExpiredError`` with ``.skew``."""
    skew: float | None = None
    for _ in range(2):
        response: httpx.Response = yield Send(target)
        if response.status_code not in SKEW_STATUSES:
            return (yield Finish(target, response))
        local = clock.time()
        body: bytes = yield Read(target, response)
        refusal = error(response.status_code, response.headers, body)
        is_skew, learned = learn_skew(clock, endpoint(), response.headers, refusal, local)
        if not is_skew:
            return (yield Finish(target, response))
        skew = learned if learned is not None else skew
    raise skew_error(refusal, skew, retried=True)
