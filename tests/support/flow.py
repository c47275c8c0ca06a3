"""Run the call's attempt flow (``_fallback.call_flow``) without any I/O, for the loop's unit tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from reqbed._aws.clock import Clock
from reqbed._errors import map_api_error
from reqbed._fallback import Target, call_flow
from reqbed._flow import Action, Send, drive_async, drive_sync
from reqbed._retry import Deadline, RetryPolicy

T = TypeVar("T")


class FakePrepared:
    """Just what the flow reads from a Prepared."""

    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse"
    timeout: float | None = None
    max_retries: int | None = None


class OK:
    """An answer's stand-in: what the flow reads from the ``httpx.Response`` a send returns."""

    status_code = 200


def run_sync(targets: list[Target], once: Callable[[Target, Deadline], T], policy: RetryPolicy) -> T:
    """Drive the call's flow without I/O: every send "answers", and ``once`` is the attempt's step 9."""
    deadline = policy.deadline(targets[0].prepared.timeout)

    def perform(action: Action) -> Any:
        return OK() if isinstance(action, Send) else once(action.target, deadline)  # type: ignore[union-attr]

    result: T = drive_sync(call_flow(targets, policy, deadline, Clock(), map_api_error), perform)
    return result


async def run_async(targets: list[Target], once: Callable[[Target, Deadline], Awaitable[T]], policy: RetryPolicy) -> T:
    deadline = policy.deadline(targets[0].prepared.timeout)

    async def perform(action: Action) -> Any:
        return OK() if isinstance(action, Send) else await once(action.target, deadline)  # type: ignore[union-attr]

    result: T = await drive_async(call_flow(targets, policy, deadline, Clock(), map_api_error), perform, deadline)
    return result
