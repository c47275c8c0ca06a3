"""What a call cost: ``cost_of`` (pure) and ``UsageTotals`` (a thread- and task-safe accumulator).

How a cost is computed (docs/cost.md has the worked examples):

1. the model is looked up in the catalog from the id that was called (profile prefix and ARN understood);
2. the id's prefix picks the price scope: ``global.`` -> global prices; a geo profile (``us.``, ``eu.`` ...)
   or an in-region call -> regional prices; the most specific entry for the region wins;
3. ``service_tier`` (``priority``/``flex``) and ``batch`` multiply the standard prices by the model's
   published multipliers; a tier or batch the model does not offer is an unknown price;
4. each token class at its own rate, per million: ``input_tokens`` (never including cache tokens),
   ``output_tokens``, ``cache_read_tokens``, cache writes by TTL (``cache_write_by_ttl={"5m": n, "1h": m}``;
   without the split, every cache write is priced at the 5-minute rate);
5. any price needed but unknown gives ``Cost(total=None, reason=...)``: never 0.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from .._types import Usage
from ._pricing import cost_of, scope_of
from ._types import Cost

if TYPE_CHECKING:
    from .._types import Response

__all__ = ["ModelTotals", "UsageTotals", "cost_of", "scope_of"]


def _add_costs(a: Cost, b: Cost) -> Cost:
    if a.total is None or b.total is None:
        return Cost(reason=a.reason or b.reason)

    def s(x: Decimal | None, y: Decimal | None) -> Decimal:
        return (x or Decimal(0)) + (y or Decimal(0))

    return Cost(
        input=s(a.input, b.input),
        output=s(a.output, b.output),
        cache_read=s(a.cache_read, b.cache_read),
        cache_write=s(a.cache_write, b.cache_write),
        total=a.total + b.total,
    )


_ZERO = Cost(input=Decimal(0), output=Decimal(0), cache_read=Decimal(0), cache_write=Decimal(0), total=Decimal(0))


class ModelTotals(msgspec.Struct, kw_only=True, frozen=True):
    """One model's totals inside ``UsageTotals.by_model``."""

    calls: int
    usage: Usage
    cost: Cost


class UsageTotals:
    """Adds up usage and cost over many responses; safe to share between threads and tasks.

        totals = reqbed.UsageTotals()
        totals.add(resp)            # any number of times, from any thread or task
        totals.usage, totals.cost, totals.by_model["us.anthropic.claude-..."]

    ``cost.total`` is ``None`` (with the first ``reason``) once any response's price was unknown.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # never held across an await: add() does no I/O
        self._by_model: dict[str, ModelTotals] = {}

    def add(self, response: Response) -> None:
        """Count ``response`` (its ``usage`` and ``cost``)."""
        cost = response.cost
        with self._lock:
            prev = self._by_model.get(response.model)
            if prev is None:
                self._by_model[response.model] = ModelTotals(calls=1, usage=response.usage, cost=cost)
            else:
                self._by_model[response.model] = ModelTotals(
                    calls=prev.calls + 1, usage=_add_usage(prev.usage, response.usage), cost=_add_costs(prev.cost, cost)
                )

    @property
    def calls(self) -> int:
        with self._lock:
            return sum(t.calls for t in self._by_model.values())

    @property
    def usage(self) -> Usage:
        with self._lock:
            total = Usage()
            for t in self._by_model.values():
                total = _add_usage(total, t.usage)
            return total

    @property
    def cost(self) -> Cost:
        with self._lock:
            total = _ZERO
            for t in self._by_model.values():
                total = _add_costs(total, t.cost)
            return total

    @property
    def by_model(self) -> dict[str, ModelTotals]:
        """A snapshot: model id as called -> its calls, usage and cost."""
        with self._lock:
            return dict(self._by_model)

    def __repr__(self) -> str:
        c = self.cost
        return f"UsageTotals(calls={self.calls}, total={'unknown' if c.total is None else f'${c.total}'})"


def _add_usage(a: Usage, b: Usage) -> Usage:
    return Usage(
        input_tokens=a.input_tokens + b.input_tokens,
        output_tokens=a.output_tokens + b.output_tokens,
        total_tokens=a.total_tokens + b.total_tokens,
        cache_read_tokens=a.cache_read_tokens + b.cache_read_tokens,
        cache_write_tokens=a.cache_write_tokens + b.cache_write_tokens,
    )
