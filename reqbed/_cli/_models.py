"""``reqbed models list|find|show``: the catalog (``reqbed.models``), with no HTTP stack imported."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ._output import Out

if TYPE_CHECKING:
    from reqbed.models import ModelInfo

__all__ = ["run_models"]


def _price(m: ModelInfo, region: str | None) -> str:
    p = m.prices.for_call("regional", region) or m.prices.for_call("global", region)
    if p is None:
        return "-"
    return f"${p.input}" if p.output is None else f"${p.input}/${p.output}"


def _rows(models: list[ModelInfo], region: str | None) -> list[list[str]]:
    return [
        [
            m.id,
            m.name,
            m.aliases[0] if m.aliases else "",
            "-" if m.context_window is None else f"{m.context_window:,}",
            _price(m, region),
            m.lifecycle.lower(),
        ]
        for m in models
    ]


_HEADER = ("ID", "NAME", "ALIAS", "CONTEXT", "USD/1M IN/OUT", "STATUS")


def _list(out: Out, models: list[ModelInfo], args: argparse.Namespace) -> int:
    if args.json:
        out.json([{**_info(m)} for m in models])
        return 0
    if not models:
        out.note("no model matches")
        return 0
    out.table(_HEADER, _rows(models, getattr(args, "region", None)))
    return 0


def _info(m: ModelInfo) -> dict[str, object]:
    from ._output import to_jsonable

    data: dict[str, object] = to_jsonable(m)
    data["family"] = m.family
    return data


def run_models(args: argparse.Namespace, out: Out) -> int:
    import reqbed.models

    if args.models_command == "list":
        found = reqbed.models.list(provider=args.provider, region=args.region, capability=args.capability)
        return _list(out, found, args)
    if args.models_command == "find":
        return _list(out, reqbed.models.find(args.text), args)
    assert args.models_command == "show"
    m = reqbed.models.get(args.id)
    if args.json:
        out.json(_info(m))
        return 0
    caps = m.capabilities
    on = [
        name
        for name in ("tools", "streaming_tools", "images", "documents", "video", "caching", "thinking")
        if getattr(caps, name)
    ]
    if caps.count_tokens:
        on.append("count_tokens")
    if caps.embedding_dimensions:
        on.append("embeddings " + "/".join(str(d) for d in caps.embedding_dimensions))
    rows = [
        ("id", m.id),
        ("name", m.name),
        ("family", m.family),
        ("aliases", ", ".join(m.aliases) or "-"),
        ("context window", "-" if m.context_window is None else f"{m.context_window:,}"),
        ("max output", "-" if m.max_output_tokens is None else f"{m.max_output_tokens:,}"),
        ("input", ", ".join(m.input_modalities)),
        ("output", ", ".join(m.output_modalities)),
        ("capabilities", ", ".join(on) or "-"),
        ("cache TTLs", ", ".join(caps.cache_ttls) or "-"),
        ("structured output", ", ".join(caps.structured_output) or "-"),
        ("on demand in", ", ".join(m.regions) or "- (through an inference profile)"),
        ("profiles", ", ".join(m.profiles) or "-"),
        ("lifecycle", m.lifecycle.lower()),
    ]
    for p in m.prices.entries:
        where = p.scope + (f" {','.join(p.regions)}" if p.regions else "")
        parts = [f"in ${p.input}"]
        for name in ("output", "cache_read", "cache_write_5m", "cache_write_1h"):
            v = getattr(p, name)
            if v is not None:
                parts.append(f"{name.replace('_', ' ')} ${v}")
        rows.append((f"USD/1M ({where})", ", ".join(parts)))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        out.line(f"{out.paint(k.ljust(width), '1')}  {v}")
    out.line(f"{'catalog as of'.ljust(width)}  {reqbed.models.as_of()}")
    return 0
