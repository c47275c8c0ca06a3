"""Fallback targets and the attempt flow: targets x attempts, under one deadline.

``fallbacks=[{"model": ..., "provider_options": {...}}, ...]`` names further targets to try, in
order, when the call's own target fails in a way another target may not (docs/reliability.md):

- ``ThrottlingError`` (including ``ServiceQuotaExceededException``), ``ModelNotReadyError``,
  ``ServiceUnavailableError``, ``ServerError``, ``APIConnectionError``: after that target's retries
  are used up;
- ``ResourceNotFoundError`` and ``AccessDeniedError``: the model does not exist, or is not
  enabled, in that region or account: at once (these are never retried).

Nothing else moves to a fallback, and nothing does once content has reached the caller: a stream
only returns from ``stream_text`` after its first chunk was decoded, and failures after that are
the caller's. Each fallback is validated with the whole request before any I/O (a bad one is a
``ValidationError`` whose field starts with ``fallbacks[i]``). A fallback's ``provider_options``
replace the call's entirely (credentials, region, endpoint); without them it uses the call's.

``call_flow`` is the loop, written once and free of I/O (``_flow``): for each target, attempt
(``resign_on_skew``: one send, or two after a clock-skew refusal); on an error ask the
``RetryPolicy`` for a delay, sleep (the driver: ``time.sleep`` / ``anyio.sleep``) and attempt
again; when it says no, move to the next target if the error allows it, else raise. The deadline
bounds it all. Every attempt is reported to the observers of ``_hooks``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from logging import DEBUG
from typing import TYPE_CHECKING, Any

import msgspec

from ._aws.clock import Clock, endpoint_of
from ._errors import (
    AccessDeniedError,
    APIConnectionError,
    ModelNotReadyError,
    ReqbedError,
    RequestTimeoutError,
    ResourceNotFoundError,
    ServerError,
    ServiceUnavailableError,
    ThrottlingError,
    ValidationError,
)
from ._flow import ErrorFactory, Flow, Sleep, resign_on_skew
from ._hooks import AttemptEnded, AttemptStarted, RetryDecision, emit, wanted
from ._retry import Deadline, RetryPolicy

if TYPE_CHECKING:
    from ._pipeline import Prepared
    from ._types import Response

__all__ = ["FALLBACK_ERRORS", "Target", "call_flow", "plan_targets", "should_fallback"]


#: The errors that move a call on to its next fallback target.
FALLBACK_ERRORS: tuple[type[ReqbedError], ...] = (
    ThrottlingError,
    ModelNotReadyError,
    ServiceUnavailableError,
    ServerError,
    APIConnectionError,
    ResourceNotFoundError,
    AccessDeniedError,
)
_FALLBACK_KEYS = frozenset({"model", "provider_options"})


def should_fallback(error: BaseException) -> bool:
    return isinstance(error, FALLBACK_ERRORS)


class Target:
    """One place a call can be served: a prepared request and the ``served_by`` label it answers with.

    ``prepared`` is replaced (never changed) when step 6 learns the call's region
    (``_pipeline.relocate``): later attempts at this target go there too."""

    __slots__ = ("index", "prepared", "served_by")

    def __init__(self, prepared: Prepared, served_by: str, index: int = 0) -> None:
        self.prepared = prepared
        self.served_by = served_by
        self.index = index  # 0: the call's own target; i + 1: fallbacks[i]

    def __repr__(self) -> str:
        return f"Target({self.served_by!r}, index={self.index})"

    def endpoint(self) -> str:
        """The skew-store key (``host[:port]``) of where this target is sent now."""
        return endpoint_of(self.prepared.url)

    def stamp(self, response: Response) -> Response:
        """``response`` with this target's ``served_by``."""
        if response.served_by == self.served_by:
            return response
        return msgspec.structs.replace(response, served_by=self.served_by)


#: Steps 1-5 for one target: (model spec, the call's options for it) -> ``Prepared``.
PrepareFn = Callable[[str, Mapping[str, Any]], "Prepared"]


def plan_targets(model: str, opts: Mapping[str, Any], prepare: PrepareFn) -> list[Target]:
    """Validate the call and every fallback (no I/O; ``prepare`` runs steps 1-5 for one target)
    and return the targets in the order to try."""
    raw = opts.get("fallbacks")
    own = {k: v for k, v in opts.items() if k != "fallbacks"}
    prepared = [prepare(model, own)]
    if raw is None:
        return [Target(prepared[0], prepared[0].label)]
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes, bytearray)):
        raise ValidationError(
            f'must be a list of {{"model": ..., "provider_options": {{...}}}}, got {type(raw).__name__}',
            field="fallbacks",
        )
    for i, fb in enumerate(raw):
        where = f"fallbacks[{i}]"
        if not isinstance(fb, Mapping):
            raise ValidationError('must be a dict {"model": ..., "provider_options": {...}}', field=where)
        unknown = sorted(str(k) for k in set(fb) - _FALLBACK_KEYS)
        if unknown:
            raise ValidationError(f"unknown key(s) {unknown}; known: ['model', 'provider_options']", field=where)
        fb_model = fb.get("model")
        if not isinstance(fb_model, str):
            raise ValidationError("is required: a model spec string", field=f"{where}.model")
        fb_opts = dict(own)
        if "provider_options" in fb:
            fb_opts["provider_options"] = fb["provider_options"]
        try:
            prepared.append(prepare(fb_model, fb_opts))
        except ValidationError as e:
            raise _under(e, where) from None
    labels = _labels(prepared)
    return [Target(p, labels[i], i) for i, p in enumerate(prepared)]


def _under(e: ValidationError, where: str) -> ValidationError:
    """The same error, its field moved under ``fallbacks[i]``."""
    if e.field is None:
        return ValidationError(e.message, field=where)
    text = e.message.removeprefix(f"{e.field}: ")
    field = f"{where}.model" if e.field == "model" else f"{where}.{e.field}"
    return ValidationError(text, field=field)


def _labels(prepared: Sequence[Prepared]) -> list[str]:
    """``served_by`` for each target: the model spec; ``spec@region`` where specs repeat; and
    ``spec@region#i`` where spec and region both repeat (only credentials or endpoint differ)."""
    specs = [p.label for p in prepared]
    places = [(p.label, p.region) for p in prepared]
    out = []
    for i, (spec, region) in enumerate(places):
        if specs.count(spec) == 1:
            out.append(spec)
        elif places.count((spec, region)) == 1:
            out.append(f"{spec}@{region}")
        else:
            out.append(f"{spec}@{region}#{i}")
    return out


def _retry_or_give_up(
    policy: RetryPolicy, target: Target, error: ReqbedError, retries: int, deadline: Deadline
) -> float | None:
    return policy.next_delay(error, retries, target.prepared.max_retries, deadline.remaining())


def _after_target(
    targets: Sequence[Target],
    target: Target,
    error: ReqbedError,
    previous: ReqbedError | None,
    deadline: Deadline,
    attempt: int,
) -> ReqbedError:
    """The target's last error, chained to the previous target's; raises it when no fallback follows."""
    if previous is not None and error.__cause__ is None and error is not previous:
        error.__cause__ = previous
    final: ReqbedError | None = None
    if isinstance(error, RequestTimeoutError) and deadline.expired():
        final = deadline.error()
        if final.message != error.message:  # a connect/read timeout cut short by the deadline: say so
            final.__cause__ = error
        else:
            final = error
    elif target.index + 1 >= len(targets) or not should_fallback(error):
        final = error
    if final is not None:
        if attempt > 1 and isinstance(final, APIConnectionError) and "attempts" not in final.message:
            _say_attempts(final, attempt)
        if wanted():
            emit(RetryDecision(target.served_by, target.index, attempt, "give_up", error=final))
        raise final
    following = targets[target.index + 1].served_by
    if wanted():
        emit(RetryDecision(target.served_by, target.index, attempt, "fallback", fallback_to=following, error=error))
    return error


def _say_attempts(error: ReqbedError, attempts: int) -> None:
    """An unreachable endpoint was tried ``attempts`` times: the message says so (the retries took time)."""
    error.message = f"{error.message} (gave up after {attempts} attempts: {attempts - 1} retries)"
    error.args = (error.message,)


def call_flow(
    targets: Sequence[Target], policy: RetryPolicy, deadline: Deadline, clock: Clock, error_of: ErrorFactory
) -> Flow[Any]:
    """Every attempt of one call, under its deadline: each target in turn, with retries, until
    one attempt succeeds (see the module doc). I/O-free: run it with ``_flow.drive_sync`` or
    ``drive_async``; ``error_of`` maps the endpoint's error answers (for the clock-skew check)."""
    previous: ReqbedError | None = None
    for target in targets:
        retries = 0
        while True:
            deadline.check()
            attempt = retries + 1
            started = time.monotonic()
            if wanted(DEBUG):
                emit(AttemptStarted(target.served_by, target.index, attempt, getattr(target.prepared, "method", None)))
            try:
                result = yield from resign_on_skew(target, target.endpoint, clock, error_of)
            except ReqbedError as e:
                error = e
            else:
                if wanted(DEBUG):
                    emit(AttemptEnded(target.served_by, target.index, attempt, elapsed=time.monotonic() - started))
                return result
            if wanted(DEBUG):
                took, status = time.monotonic() - started, getattr(error, "status", None)
                emit(AttemptEnded(target.served_by, target.index, attempt, error, took, status))
            delay = _retry_or_give_up(policy, target, error, retries, deadline)
            if delay is None:
                break
            if wanted():
                emit(RetryDecision(target.served_by, target.index, attempt, "retry", delay=delay, error=error))
            yield Sleep(delay)
            retries += 1
        previous = _after_target(targets, target, error, previous, deadline, attempt)
    raise AssertionError("unreachable")  # pragma: no cover - the last target raises
