"""``cost_of``: what a call cost, from the catalog's prices (pure; the steps are in ``_cost``'s docstring).

It reads a usage by its field names (a ``reqbed.Usage`` or a mapping), so the wire types do not
have to be imported here: ``Response.cost`` calls it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ._store import _ARN, lookup
from ._types import Cost, PriceScope

__all__ = ["cost_of", "scope_of"]

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
    usage: Any,
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
