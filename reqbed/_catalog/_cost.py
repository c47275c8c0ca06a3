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
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from .._types import Usage
from ._store import _ARN, lookup
from ._types import Cost, PriceScope

if TYPE_CHECKING:
    from .._types import Response

__all__ = ["ModelTotals", "UsageTotals", "cost_of", "scope_of"]

_MILLION = Decimal(1_000_000)
_TIERS = ("priority", "flex")


def scope_of(model_id: str) -> tuple[PriceScope, str | None]:
    """The price scope of a called id and the region an ARN names (``None`` otherwise)."""
    region = None
    rest = model_id
    for p in ("bedrock:", "amazon_bedrock:", "aws_bedrock:"):
        if rest.startswith(p):
            rest = rest[len(p) :]
    if rest.startswith("arn:"):
        m = _ARN.match(rest)
        region = (m["region"] or None) if m else None
        rest = m["resource"] if m else rest
    head, _, tail = rest.partition(".")
    if tail and head == "global":
        return "global", region
    return "regional", region


def _unknown(reason: str) -> Cost:
    return Cost(reason=reason)


def _line(tokens: int, rate: Decimal | None) -> Decimal | None:
    if tokens == 0:
        return Decimal(0)
    if rate is None:
        return None
    return tokens * rate / _MILLION


def cost_of(
    model_id: str,
    region: str | None,
    usage: Usage | Mapping[str, int],
    *,
    service_tier: str | None = None,
    batch: bool = False,
    cache_write_by_ttl: Mapping[str, int] | None = None,
) -> Cost:
    """The USD cost of ``usage`` on ``model_id`` (as called: bare id, profile id, ARN or alias) from ``region``.

    ``usage`` is a ``reqbed.Usage`` or a mapping with its field names. Returns ``Cost(total=None, reason=...)``
    when any needed price is unknown.
    """
    u = _usage_fields(usage)
    info = lookup(model_id)
    if info is None:
        return _unknown(f"{model_id!r} is not in reqbed's model catalog; its price is unknown")
    scope, arn_region = scope_of(model_id)
    region = region or arn_region
    price = info.prices.for_call(scope, region)
    if price is None:
        return _unknown(f"no {scope} price for {info.id} in {region or 'any region'} in the catalog")
    mult = Decimal(1)
    if service_tier not in (None, "default", "standard"):
        if service_tier not in _TIERS:
            return _unknown(f"unknown service tier {service_tier!r} (priority, default, flex)")
        tier = info.prices.service_tiers.get(service_tier)
        if tier is None:
            return _unknown(f"{info.id} has no {service_tier} tier price in the catalog")
        mult *= tier
    if batch:
        if info.prices.batch is None:
            return _unknown(f"{info.id} has no batch price in the catalog")
        mult *= info.prices.batch

    writes = dict(cache_write_by_ttl or {})
    if writes:
        unknown_ttls = set(writes) - {"5m", "1h"}
        if unknown_ttls:
            return _unknown(f"unknown cache TTL(s) {sorted(unknown_ttls)} (5m, 1h)")
        if sum(writes.values()) != u["cache_write_tokens"] and u["cache_write_tokens"]:
            return _unknown(
                f"cache_write_by_ttl adds up to {sum(writes.values())}, "
                f"usage says {u['cache_write_tokens']} cache writes"
            )
    else:
        writes = {"5m": u["cache_write_tokens"]}

    def rate(r: Decimal | None) -> Decimal | None:
        return None if r is None else r * mult

    inp = _line(u["input_tokens"], rate(price.input))
    out = _line(u["output_tokens"], rate(price.output))
    read = _line(u["cache_read_tokens"], rate(price.cache_read))
    w5 = _line(writes.get("5m", 0), rate(price.cache_write_5m))
    w1 = _line(writes.get("1h", 0), rate(price.cache_write_1h))
    named = {"input": inp, "output": out, "cache_read": read, "cache_write_5m": w5, "cache_write_1h": w1}
    missing = [k for k, v in named.items() if v is None]
    if inp is None or out is None or read is None or w5 is None or w1 is None:
        return Cost(
            input=inp,
            output=out,
            cache_read=read,
            reason=f"no {', '.join(missing)} price for {info.id} ({scope}) in the catalog",
        )
    return Cost(input=inp, output=out, cache_read=read, cache_write=w5 + w1, total=inp + out + read + w5 + w1)


def _usage_fields(usage: Any) -> dict[str, int]:
    names = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    if isinstance(usage, Mapping):
        return {n: int(usage.get(n, 0)) for n in names}
    return {n: int(getattr(usage, n, 0)) for n in names}


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
