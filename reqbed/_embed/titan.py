"""Amazon Titan embeddings: Text Embeddings v2 (and G1 - Text) and Multimodal Embeddings G1.

Bodies as AWS documents them:
- Text (v2 and G1): https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
  v2 request ``{"inputText", "dimensions": 1024|512|256, "normalize", "embeddingTypes": ["float"|"binary"]}``;
  answer ``{"embedding", "inputTextTokenCount", "embeddingsByType": {"float": [...], "binary": [...]}}``.
  G1 (``amazon.titan-embed-text-v1``) takes ``inputText`` only.
- Multimodal G1: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-mm.html
  request ``{"inputText"?, "inputImage"? (base64), "embeddingConfig": {"outputEmbeddingLength": 256|384|1024}}``
  (both: one vector averaging the two); answer ``{"embedding", "inputTextTokenCount", "message"}``.

Titan embeds one input per request: a list of N inputs becomes N bodies, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._base import EmbedInput, EmbedOptions, b64, expect_list, one_of, only, refuse

__all__ = ["TitanMultimodal", "TitanText"]

TEXT_V2 = "amazon.titan-embed-text-v2"
TEXT_G1 = "amazon.titan-embed-text-v1"
MULTIMODAL = "amazon.titan-embed-image-v1"


def _tokens(body: Any) -> int | None:
    n = body.get("inputTextTokenCount")
    return n if isinstance(n, int) and not isinstance(n, bool) else None


class TitanText:
    """``amazon.titan-embed-text-v2:0`` (and ``amazon.titan-embed-text-v1``): one text per request."""

    name = "titan-text"

    def serves(self, base_model: str) -> bool:
        return base_model.startswith((TEXT_V2, TEXT_G1))

    def check(self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions) -> None:
        for i, inp in enumerate(inputs):
            if inp.kind != "text" or len(inp.parts) != 1:
                raise refuse(base_model, "embeds text only (one string per input)", f"inputs[{i}]")
        why = "is a Titan text model: input_type and truncate are Cohere/Nova options"
        if base_model.startswith(TEXT_G1):
            g1 = "(Titan Embeddings G1 - Text) takes inputText only"
            only(base_model, opts, dict.fromkeys(("dimensions", "normalize", "embedding_type"), g1))
        only(base_model, opts, {"input_type": why, "truncate": why})
        one_of(base_model, "dimensions", opts.dimensions, (256, 512, 1024))
        one_of(base_model, "embedding_type", opts.embedding_type, ("float", "binary"))

    def bodies(
        self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions
    ) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
        out: list[tuple[dict[str, Any], tuple[int, ...]]] = []
        for i, inp in enumerate(inputs):
            body: dict[str, Any] = {"inputText": inp.texts[0]}
            if opts.dimensions is not None:
                body["dimensions"] = opts.dimensions
            if opts.normalize is not None:
                body["normalize"] = opts.normalize
            if opts.embedding_type is not None:
                body["embeddingTypes"] = [opts.embedding_type]
            out.append((body, (i,)))
        return out

    def parse(self, body: Any, opts: EmbedOptions, count: int) -> tuple[list[list[Any]], int | None]:
        kind = opts.embedding_type or "float"
        by_type = body.get("embeddingsByType")
        if isinstance(by_type, dict) and kind in by_type:
            vector = by_type[kind]
        elif kind == "float":
            vector = body["embedding"]
        else:
            raise KeyError(f"embeddingsByType.{kind}")
        return [expect_list(vector, "embedding")], _tokens(body)


class TitanMultimodal:
    """``amazon.titan-embed-image-v1``: one text and/or one image per request (one vector)."""

    name = "titan-multimodal"

    def serves(self, base_model: str) -> bool:
        return base_model.startswith(MULTIMODAL)

    def check(self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions) -> None:
        for i, inp in enumerate(inputs):
            if len(inp.texts) > 1 or len(inp.images) > 1:
                raise refuse(base_model, "embeds at most one text and one image per input", f"inputs[{i}]")
        why = "(Titan Multimodal Embeddings G1) takes only embeddingConfig.outputEmbeddingLength"
        only(base_model, opts, dict.fromkeys(("normalize", "input_type", "truncate"), why))
        one_of(base_model, "dimensions", opts.dimensions, (256, 384, 1024))
        one_of(base_model, "embedding_type", opts.embedding_type, ("float",))

    def bodies(
        self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions
    ) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
        out: list[tuple[dict[str, Any], tuple[int, ...]]] = []
        for i, inp in enumerate(inputs):
            body: dict[str, Any] = {}
            if inp.texts:
                body["inputText"] = inp.texts[0]
            if inp.images:
                body["inputImage"] = b64(inp.images[0])
            if opts.dimensions is not None:
                body["embeddingConfig"] = {"outputEmbeddingLength": opts.dimensions}
            out.append((body, (i,)))
        return out

    def parse(self, body: Any, opts: EmbedOptions, count: int) -> tuple[list[list[Any]], int | None]:
        return [expect_list(body["embedding"], "embedding")], _tokens(body)
