"""The catalog's capabilities in the shape the pipeline checks (``reqbed._capabilities.Capabilities``).

Step 2 (``_pipeline.prepare``) asks here first: a model the catalog knows answers from the catalog (one
source of truth, ``reqbed.models``); a model it does not know falls back to its family's rule in
``_families/capabilities.py`` (itself permissive: Bedrock decides). ``max_output_tokens`` is left unset, as
the rules leave it, so no request is refused on it yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._capabilities import Capabilities
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
        video=c.video,
        caching=c.caching,
        thinking=c.thinking,
        reasoning_effort=c.reasoning_effort,
        max_temperature=c.max_temperature,
        system_prompt=c.system_prompt,
        system_only_prompt=c.system_only_prompt,
    )
