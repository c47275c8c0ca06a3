"""Amazon Nova Multimodal Embeddings (``amazon.nova-2-multimodal-embeddings-v1:0``), synchronous.

Body as AWS documents it (https://docs.aws.amazon.com/nova/latest/userguide/embeddings-schema.html):
``{"schemaVersion": "nova-multimodal-embed-v1", "taskType": "SINGLE_EMBEDDING",
"singleEmbeddingParams": {"embeddingPurpose": GENERIC_INDEX|GENERIC_RETRIEVAL|TEXT_RETRIEVAL|...,
"embeddingDimension": 256|384|1024|3072, "text": {"truncationMode": START|END|NONE, "value"} |
"image": {"format": png|jpeg|gif|webp, "source": {"bytes": base64}}}}``; the answer is
``{"embeddings": [{"embeddingType": "TEXT"|"IMAGE", "embedding": [...]}]}``.

One input (one text or one image) per request. ``input_type`` takes Nova's ``embeddingPurpose``
values (default ``GENERIC_INDEX``); ``truncate`` its ``truncationMode`` (default ``END``, as AWS's
example sends); ``dimensions`` its ``embeddingDimension`` (default 3072). Audio, video and S3
sources are not covered by reqbed's inputs. The input-token count comes from the answer's header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._types import TextPart
from ._base import EmbedInput, EmbedOptions, b64, expect_list, one_of, only, refuse

__all__ = ["NovaEmbed"]

MODEL = "amazon.nova-2-multimodal-embeddings-v1"
PURPOSES = (
    "GENERIC_INDEX",
    "GENERIC_RETRIEVAL",
    "TEXT_RETRIEVAL",
    "IMAGE_RETRIEVAL",
    "VIDEO_RETRIEVAL",
    "DOCUMENT_RETRIEVAL",
    "AUDIO_RETRIEVAL",
    "CLASSIFICATION",
    "CLUSTERING",
)
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}


class NovaEmbed:
    name = "nova"

    def serves(self, base_model: str) -> bool:
        return base_model.startswith(MODEL)

    def check(self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions) -> None:
        for i, inp in enumerate(inputs):
            if len(inp.parts) != 1:
                raise refuse(base_model, "(Nova) embeds one text or one image per input", f"inputs[{i}]")
            for p in inp.images:
                if p.media_type not in _FORMATS:
                    raise refuse(
                        base_model, f"takes png, jpeg, gif or webp images, got {p.media_type!r}", f"inputs[{i}]"
                    )
        only(base_model, opts, {"normalize": "(Nova) has no normalize option"})
        one_of(base_model, "dimensions", opts.dimensions, (256, 384, 1024, 3072))
        one_of(base_model, "input_type", opts.input_type, PURPOSES)
        one_of(base_model, "truncate", opts.truncate, ("START", "END", "NONE"))
        one_of(base_model, "embedding_type", opts.embedding_type, ("float",))

    def bodies(
        self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions
    ) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
        out: list[tuple[dict[str, Any], tuple[int, ...]]] = []
        for i, inp in enumerate(inputs):
            part = inp.parts[0]
            params: dict[str, Any] = {
                "embeddingPurpose": opts.input_type or "GENERIC_INDEX",
                "embeddingDimension": opts.dimensions or 3072,
            }
            if isinstance(part, TextPart):
                params["text"] = {"truncationMode": opts.truncate or "END", "value": part.text}
            else:
                params["image"] = {"format": _FORMATS[part.media_type], "source": {"bytes": b64(part)}}
            body = {"schemaVersion": "nova-multimodal-embed-v1", "taskType": "SINGLE_EMBEDDING"}
            out.append(({**body, "singleEmbeddingParams": params}, (i,)))
        return out

    def parse(self, body: Any, opts: EmbedOptions, count: int) -> tuple[list[list[Any]], int | None]:
        embeddings = expect_list(body["embeddings"], "embeddings")
        return [expect_list(embeddings[0]["embedding"], "embedding")], None
