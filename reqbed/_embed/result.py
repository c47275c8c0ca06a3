"""``Embeddings``: the answer of ``reqbed.embed`` (a public type, re-exported by ``reqbed``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from .._types import Usage

if TYPE_CHECKING:
    from .._catalog._types import Cost

__all__ = ["Embeddings"]


class Embeddings(msgspec.Struct, kw_only=True, frozen=True):
    """Vectors in input order, one per input.

    ``vectors``: ``list[float]`` each for ``embedding_type="float"``; ``list[int]`` for int8, uint8,
    binary and ubinary, with the values the model gives (signed for int8 and binary; binary and
    ubinary are bit-packed by Cohere: dimensions / 8 values). ``numpy.asarray(e.vectors)`` gives a
    2-D array. ``usage.input_tokens`` sums the input tokens Bedrock reported over every request
    (the ``X-Amzn-Bedrock-Input-Token-Count`` header, else the body's count). ``model`` is the model
    id called; ``raw`` the decoded answer bodies, one per request, in request order; ``region`` the
    region the requests went to. ``cost`` prices ``usage`` from the model catalog (embeddings bill
    input tokens only; docs/cost.md).
    """

    vectors: list[list[float | int]]
    embedding_type: str
    usage: Usage
    model: str
    raw: list[Any] = msgspec.field(default_factory=list)
    region: str | None = None

    @property
    def cost(self) -> Cost:
        """What this call cost in USD, from the catalog's input-token price (computed on access;
        ``cost.total`` is ``None`` with a ``reason`` when the price is unknown)."""
        from .._catalog._pricing import cost_of

        return cost_of(self.model, self.region, self.usage)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dimensions(self) -> int:
        """The length of each vector (0 when there are none)."""
        return len(self.vectors[0]) if self.vectors else 0
