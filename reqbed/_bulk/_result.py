"""What ``map`` returns and reports: ``MapResult`` (the results in input order) with ``MapStats``,
and the ``MapProgress`` snapshots given to ``on_progress``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from .._errors import ReqbedError

__all__ = ["MapProgress", "MapResult", "MapStats"]

T = TypeVar("T")


@dataclass(frozen=True)
class MapProgress:
    """A snapshot after each finished call: ``done`` (finished, ok or not), ``failed``, ``in_flight``,
    ``total``, the tokens and the cost (USD, known prices only) so far, and the current ``concurrency``."""

    done: int
    failed: int
    in_flight: int
    total: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    concurrency: int


@dataclass
class MapStats:
    """How a ``map`` went.

    ``concurrency`` is the ceiling asked for; ``final_concurrency`` and ``lowest_concurrency`` the
    adaptive limit at the end and at its lowest; ``concurrency_changes`` every change as
    ``(seconds since start, new limit)``; ``attempts``, ``retries`` and ``throttles`` count HTTP
    attempts, retries and throttled attempts (``ThrottlingError``) over all calls; ``cost`` sums the
    known costs (``unpriced`` counts results whose price the catalog does not know)."""

    total: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    concurrency: int = 0
    final_concurrency: int = 0
    lowest_concurrency: int = 0
    concurrency_changes: list[tuple[float, int]] = field(default_factory=list)
    attempts: int = 0
    retries: int = 0
    throttles: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)
    unpriced: int = 0
    elapsed: float = 0.0


class MapResult(list[T | ReqbedError], Generic[T]):
    """The results of ``map``, in input order: each a result (``Response`` for ``operation="text"``) or,
    where that call failed, its ``ReqbedError``. A ``list``, plus ``.stats`` (``MapStats``)."""

    stats: MapStats

    def __init__(self, items: list[Any], stats: MapStats) -> None:
        super().__init__(items)
        self.stats = stats

    @property
    def errors(self) -> list[tuple[int, ReqbedError]]:
        """``(index, error)`` for each failed call."""
        return [(i, r) for i, r in enumerate(self) if isinstance(r, ReqbedError)]
