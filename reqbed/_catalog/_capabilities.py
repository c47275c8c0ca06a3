"""The catalog's capabilities in the shape the family formatters check (``_families._base.Capabilities``).

The switch from ``_families/capabilities.py``'s substring rules, once the branches touching that path have
merged, is one function at the two places that ask (``_pipeline.prepare`` step 2 and
``_families._common``)::

    caps = family_capabilities(spec) or family_for(spec).capabilities(spec)

Known models then answer from the catalog; unknown ones keep the family rule (itself permissive).
``max_output_tokens`` is left unset, as the rules leave it, so no request is refused on it yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._families._base import Capabilities
from ._store import lookup

if TYPE_CHECKING:
    from .._model_spec import ModelSpec

__all__ = ["family_capabilities"]


def family_capabilities(spec: ModelSpec) -> Capabilities | None:
    """The catalog's facts for ``spec``'s model, or ``None`` when the catalog does not know it."""
    info = lookup(spec.base_model or spec.model_id)
    if info is None:
        return None
    c = info.capabilities
    return Capabilities(
        tools=c.tools,
        streaming_tools=c.streaming_tools,
        images=c.images,
        documents=c.documents,
        caching=c.caching,
        thinking=c.thinking,
        reasoning_effort=c.reasoning_effort,
        max_temperature=c.max_temperature,
        system_prompt=c.system_prompt,
        system_only_prompt=c.system_only_prompt,
    )
