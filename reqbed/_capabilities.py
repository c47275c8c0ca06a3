"""``Capabilities``: what a model can do (the families' capability functions fill it in).

Its own module, importing nothing of reqbed's, so that both the request (``_request.ChatRequest``
keeps the capabilities step 2 found) and the families (``_families``) can use it without an
import circle.
"""

from __future__ import annotations

import msgspec

__all__ = ["Capabilities"]


class Capabilities(msgspec.Struct, kw_only=True, frozen=True):
    """What a model can do. Asking for more is a ``ValidationError`` before sending."""

    tools: bool = True
    streaming_tools: bool = True
    images: bool = False
    documents: bool = False
    video: bool = False
    audio: bool = False
    caching: bool = False
    thinking: bool = False
    #: takes ``reasoning_effort`` as its own field (gpt-oss) rather than a thinking budget
    reasoning_effort: bool = False
    #: the highest ``temperature`` the model takes (AWS's inference-parameter pages)
    max_temperature: float = 1.0
    system_prompt: bool = True
    system_only_prompt: bool = False
    max_output_tokens: int | None = None
