"""Evaluate pydantic's ``genai-prices`` as reqbed's price source (not a test; needs ``pip install genai-prices``).

    python benchmarks/eval_genai_prices.py

For every catalog model and every id reqbed can call it by (the bare id where served on demand, each
inference-profile id ``us.``/``eu.``/``apac.``/``jp.``/``au.``/``global.``), it asks genai-prices for
the price of 1M input + 1M output tokens, plus 1M cache-read and 1M cache-write tokens (5m, and 1h
where the model takes it) for models that cache, and compares with
reqbed's ``cost_of`` for the same usage. It also measures both imports in fresh interpreters
(``python -X importtime`` totals) and reports what genai-prices lacks (batch, service tiers).
"""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal

from reqbed._catalog._cost import cost_of
from reqbed._catalog._store import catalog


def _import_us(module: str) -> int:
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True, check=True).stderr  # fmt: skip
    rows = [line for line in err.splitlines() if re.search(rf"\|\s+{re.escape(module)}$", line)]
    return int(rows[-1].split("|")[1])


def main() -> None:
    import genai_prices
    from genai_prices import Usage, calc_price

    ids = []
    for m in catalog().models:
        ids += [(m, m.id)] if m.regions else []
        ids += [(m, f"{g}.{m.id}") for g in m.profiles]
    found = same = 0
    missing: list[str] = []
    differ: list[str] = []
    for m, ref in ids:
        mil = 1_000_000
        caching = m.capabilities.caching
        one_hour = "1h" in m.capabilities.cache_ttls
        mine_usage = {"input_tokens": mil, "output_tokens": 0 if m.is_embedding else mil}
        ttl = None
        if caching:
            mine_usage.update(cache_read_tokens=mil, cache_write_tokens=2 * mil if one_hour else mil)
            ttl = {"5m": mil, "1h": mil} if one_hour else None
        # genai-prices counts cache tokens inside input_tokens; reqbed (like Bedrock) reports them apart
        theirs = {**mine_usage, "input_tokens": mil + mine_usage.get("cache_read_tokens", 0)
                  + mine_usage.get("cache_write_tokens", 0)}  # fmt: skip
        if one_hour:
            theirs["cache_write_1h_tokens"] = mil
        try:
            res = calc_price(Usage(**theirs), model_ref=ref, provider_id="aws")
        except LookupError:
            missing.append(ref)
            continue
        found += 1
        mine = cost_of(ref, None, mine_usage, cache_write_by_ttl=ttl)
        if mine.total is not None and Decimal(str(res.total_price)) == mine.total:
            same += 1
        else:
            differ.append(f"{ref}: genai-prices {res.total_price} vs reqbed {mine.total}")
    print(f"genai-prices {getattr(genai_prices, '__version__', '?')}: callable ids {len(ids)}, "
          f"priced {found} ({found / len(ids):.0%}), same price as reqbed {same}")  # fmt: skip
    print(f"  not priced ({len(missing)}): " + ", ".join(missing[:25]) + (" ..." if len(missing) > 25 else ""))
    print(f"  priced differently ({len(differ)}):")
    for d in differ[:25]:
        print("   ", d)
    print("  batch prices: none; service tiers (priority/flex): none")
    g, r = _import_us("genai_prices"), _import_us("reqbed")
    print(f"import genai_prices: {g / 1000:.0f} ms cumulative; import reqbed: {r / 1000:.0f} ms; ratio {g / r:.1f}x")


if __name__ == "__main__":
    main()
