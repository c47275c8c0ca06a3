"""Cohere Embed v3 (English, Multilingual) and Cohere Embed v4 on Bedrock.

Bodies as AWS documents them:
- v3: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v3.html
  ``{"texts": [...] (<= 96), "images": [data URI] (one), "input_type":
  search_document|search_query|classification|clustering|image, "truncate": NONE|START|END,
  "embedding_types": [float|int8|uint8|binary|ubinary]}``; the answer's ``embeddings`` is a list of
  float vectors, or an object keyed by type when ``embedding_types`` is sent.
- v4: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v4.html
  ``{"input_type", "texts" | "images" | "inputs": [{"content": [{"type": "text", ...},
  {"type": "image_url", "image_url": data URI}]}], "embedding_types", "output_dimension":
  256|512|1024|1536, "truncate": NONE|LEFT|RIGHT}``, at most 96 texts or images a call.

reqbed always sends ``embedding_types`` (``["float"]`` unless asked otherwise), as the real
recordings do, so the answer is the by-type object; a plain list is read too. ``input_type`` is
required by Cohere: reqbed sends ``search_document`` unless given (v3 images always go with ``image``).
Consecutive inputs of one kind share a request, up to the model's limit; order is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._base import EMBEDDING_TYPES, EmbedInput, EmbedOptions, data_uri, expect_list, one_of, only, refuse

__all__ = ["MAX_BATCH", "CohereEmbed"]

#: Texts (or v4 images) per request, per AWS's pages.
MAX_BATCH = 96

V3 = ("cohere.embed-english-v3", "cohere.embed-multilingual-v3")
V4 = "cohere.embed-v4"
_INPUT_TYPES = ("search_document", "search_query", "classification", "clustering")


class CohereEmbed:
    """``cohere.embed-english-v3``, ``cohere.embed-multilingual-v3`` and ``cohere.embed-v4:0``."""

    name = "cohere"

    def serves(self, base_model: str) -> bool:
        return base_model.startswith((*V3, V4))

    @staticmethod
    def _v4(base_model: str) -> bool:
        return base_model.startswith(V4)

    def check(self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions) -> None:
        v4 = self._v4(base_model)
        for i, inp in enumerate(inputs):
            if v4:
                continue
            if inp.kind == "mixed" or len(inp.parts) != 1:
                raise refuse(base_model, "(Cohere Embed v3) embeds one text or one image per input", f"inputs[{i}]")
        if not v4 and opts.input_type == "image" and any(inp.kind != "image" for inp in inputs):
            raise refuse(base_model, 'takes input_type "image" for images only', "input_type")
        only(base_model, opts, {"normalize": "(Cohere) returns its own vectors; normalize is a Titan option"})
        if not v4:
            only(base_model, opts, {"dimensions": "(Cohere Embed v3) always answers 1024 dimensions"})
        one_of(base_model, "dimensions", opts.dimensions, (256, 512, 1024, 1536))
        one_of(base_model, "input_type", opts.input_type, _INPUT_TYPES if v4 else (*_INPUT_TYPES, "image"))
        one_of(base_model, "truncate", opts.truncate, ("NONE", "LEFT", "RIGHT") if v4 else ("NONE", "START", "END"))
        one_of(base_model, "embedding_type", opts.embedding_type, EMBEDDING_TYPES)

    def _batches(self, base_model: str, inputs: Sequence[EmbedInput]) -> list[tuple[str, list[int]]]:
        """Runs of consecutive inputs of one body field (texts, images, inputs), up to the limit."""
        v4 = self._v4(base_model)
        batches: list[tuple[str, list[int]]] = []
        for i, inp in enumerate(inputs):
            field = "inputs" if len(inp.parts) != 1 else ("texts" if inp.kind == "text" else "images")
            limit = 1 if (field == "images" and not v4) else MAX_BATCH  # v3: one image a call
            if batches and batches[-1][0] == field and len(batches[-1][1]) < limit:
                batches[-1][1].append(i)
            else:
                batches.append((field, [i]))
        return batches

    def bodies(
        self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions
    ) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
        v4 = self._v4(base_model)
        out: list[tuple[dict[str, Any], tuple[int, ...]]] = []
        for field, idx in self._batches(base_model, inputs):
            body: dict[str, Any] = {}
            if field == "texts":
                body["texts"] = [inputs[i].texts[0] for i in idx]
            elif field == "images":
                body["images"] = [data_uri(inputs[i].images[0]) for i in idx]
            else:
                body["inputs"] = [{"content": _content(inputs[i])} for i in idx]
            if field == "images" and not v4:
                body["input_type"] = "image"  # v3 embeds images with input_type "image" (AWS's page)
            else:
                body["input_type"] = opts.input_type or "search_document"
            if opts.truncate is not None:
                body["truncate"] = opts.truncate
            body["embedding_types"] = [opts.embedding_type or "float"]
            if opts.dimensions is not None:
                body["output_dimension"] = opts.dimensions
            out.append((body, tuple(idx)))
        return out

    def parse(self, body: Any, opts: EmbedOptions, count: int) -> tuple[list[list[Any]], int | None]:
        kind = opts.embedding_type or "float"
        embeddings = body["embeddings"]
        if isinstance(embeddings, dict):
            vectors = expect_list(embeddings[kind], f"embeddings.{kind}")
        elif kind == "float":
            vectors = expect_list(embeddings, "embeddings")
        else:
            raise KeyError(f"embeddings.{kind}")
        if len(vectors) != count:
            raise ValueError(f"{len(vectors)} vectors for {count} inputs")
        meta = body.get("meta")
        tokens = None
        if isinstance(meta, dict) and isinstance(meta.get("billed_units"), dict):
            n = meta["billed_units"].get("input_tokens")
            tokens = n if isinstance(n, int) and not isinstance(n, bool) else None
        return [expect_list(v, "embedding") for v in vectors], tokens


def _content(inp: EmbedInput) -> list[dict[str, Any]]:
    from .._types import TextPart

    return [
        {"type": "text", "text": p.text} if isinstance(p, TextPart) else {"type": "image_url", "image_url": data_uri(p)}
        for p in inp.parts
    ]
