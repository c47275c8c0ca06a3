"""The emulator's embedding answers and its ``/model/{id}/count-tokens``: plain functions.

Embedding models (``embedding_model``): Titan Text v2 / G1, Titan Multimodal G1, Cohere Embed v3 /
v4 and Nova Multimodal Embeddings, each validating its body as AWS documents it (pages cited in
``reqbed/_embed/*``) and answering in its documented shape. Vectors are deterministic functions of
(model, input, dimensions, type): seeded from SHA-256, so the same input gives the same vector.
Every answer carries ``X-Amzn-Bedrock-Input-Token-Count`` (the input's words; 1 per image).

CountTokens (``count_tokens_answer``): foundation-model ids only (a geo-prefixed profile id or a
profile ARN is refused with AWS's 400), Anthropic Claude models only, ``input`` with exactly one of
``converse`` / ``invokeModel``. The count is the same word count the emulator's Converse and
Anthropic responders report as input tokens, so a count matches a later call's ``usage``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import uuid
from typing import Any

from . import _anthropic_responder as anthropic
from . import _converse_responder as converse
from ._converse_responder import BadRequest

__all__ = ["answer", "count_tokens_answer", "embed_answer", "embedding_model"]

_GEO = ("us.", "eu.", "apac.", "global.", "us-gov.", "ca.", "jp.", "au.")
_MODELS = (
    "amazon.titan-embed-text-v2",
    "amazon.titan-embed-text-v1",
    "amazon.titan-embed-image-v1",
    "cohere.embed-english-v3",
    "cohere.embed-multilingual-v3",
    "cohere.embed-v4",
    "amazon.nova-2-multimodal-embeddings-v1",
)
_COUNTABLE = (
    "anthropic.claude-3-5-haiku-",
    "anthropic.claude-3-5-sonnet-",
    "anthropic.claude-3-7-sonnet-",
    "anthropic.claude-sonnet-4",
    "anthropic.claude-opus-4",
    "anthropic.claude-haiku-4",
)
_COHERE_TYPES = ("float", "int8", "uint8", "binary", "ubinary")
_DATA_URI = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);base64,(.+)$", re.S)


def _base(model_id: str) -> str:
    for g in _GEO:
        if model_id.startswith(g):
            return model_id[len(g) :]
    return model_id


def embedding_model(model_id: str) -> str | None:
    """The emulated embedding model this id names, or None (then it is not an embedding call)."""
    base = _base(model_id.rsplit("/", 1)[-1])
    return next((m for m in _MODELS if base.startswith(m)), None)


def _words(text: str) -> int:
    return len(text.split())


def _rng(*material: Any) -> random.Random:
    seed = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))  # noqa: S311 - test data, not crypto


def _floats(rng: random.Random, n: int, *, normalize: bool = True) -> list[float]:
    v = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    if normalize:
        norm = sum(x * x for x in v) ** 0.5 or 1.0
        v = [x / norm for x in v]
    return v


def _typed(kind: str, material: Any, dims: int, *, normalize: bool = True) -> list[Any]:
    rng = _rng(material, dims, kind)
    if kind == "float":
        return _floats(rng, dims, normalize=normalize)
    if kind == "int8":
        return [rng.randint(-128, 127) for _ in range(dims)]
    if kind == "uint8":
        return [rng.randint(0, 255) for _ in range(dims)]
    if kind == "binary":  # Cohere: bit-packed, signed
        return [rng.randint(-128, 127) for _ in range(dims // 8)]
    if kind == "ubinary":
        return [rng.randint(0, 255) for _ in range(dims // 8)]
    raise BadRequest(f"unknown embedding type {kind!r}")


def _closed(body: dict[str, Any], allowed: set[str]) -> None:
    extra = set(body) - allowed
    if extra:
        raise BadRequest(f"Malformed input request: #: extraneous key [{sorted(extra)[0]}] is not permitted")


def _in(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if value not in allowed or isinstance(value, bool):
        raise BadRequest(f"Malformed input request: #/{name}: {value!r} is not a valid enum value")


def _b64(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Malformed input request: #/{name}: expected a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"Malformed input request: #/{name}: invalid base64") from None


def _text(value: Any, name: str, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest(f"Malformed input request: #/{name}: expected a non-empty string")
    if limit is not None and len(value) > limit:
        raise BadRequest(f"Malformed input request: #/{name}: expected maxLength: {limit}")
    return value


# -- Titan --------------------------------------------------------------------------------------


def _titan_text(model: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    if model == "amazon.titan-embed-text-v1":
        _closed(body, {"inputText"})
    else:
        _closed(body, {"inputText", "dimensions", "normalize", "embeddingTypes"})
    text = _text(body.get("inputText"), "inputText", 50_000)
    dims = body.get("dimensions", 1024 if model != "amazon.titan-embed-text-v1" else 1536)
    if model != "amazon.titan-embed-text-v1":
        _in("dimensions", dims, (256, 512, 1024))
    normalize = body.get("normalize", True)
    if not isinstance(normalize, bool):
        raise BadRequest("Malformed input request: #/normalize: expected type: Boolean")
    kinds = body.get("embeddingTypes", ["float"])
    if not isinstance(kinds, list) or not kinds:
        raise BadRequest("Malformed input request: #/embeddingTypes: expected a non-empty array")
    for k in kinds:
        _in("embeddingTypes", k, ("float", "binary"))
    by_type: dict[str, Any] = {}
    for k in kinds:
        if k == "float":
            by_type[k] = _typed("float", [model, text], dims, normalize=normalize)
        else:  # Titan's binary: one 0/1 value per dimension
            by_type[k] = [1 if x > 0 else 0 for x in _typed("float", [model, text], dims)]
    tokens = _words(text)
    answer: dict[str, Any] = {
        "embedding": _typed("float", [model, text], dims, normalize=normalize),
        "inputTextTokenCount": tokens,
    }
    if model != "amazon.titan-embed-text-v1":
        answer["embeddingsByType"] = by_type
    return answer, tokens


def _titan_multimodal(model: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    _closed(body, {"inputText", "inputImage", "embeddingConfig"})
    if "inputText" not in body and "inputImage" not in body:
        raise BadRequest("Malformed input request: at least one of inputText and inputImage is required")
    text = _text(body["inputText"], "inputText") if "inputText" in body else None
    image = _b64(body["inputImage"], "inputImage") if "inputImage" in body else None
    config = body.get("embeddingConfig", {})
    if not isinstance(config, dict):
        raise BadRequest("Malformed input request: #/embeddingConfig: expected type: JSONObject")
    _closed(config, {"outputEmbeddingLength"})
    dims = config.get("outputEmbeddingLength", 1024)
    _in("embeddingConfig/outputEmbeddingLength", dims, (256, 384, 1024))
    material = [model, text, hashlib.sha256(image).hexdigest() if image else None]
    tokens = _words(text) if text else 0
    return {"embedding": _typed("float", material, dims), "inputTextTokenCount": tokens}, tokens + (1 if image else 0)


# -- Cohere -------------------------------------------------------------------------------------


def _image_uri(value: Any, name: str) -> bytes:
    m = _DATA_URI.match(value) if isinstance(value, str) else None
    if not m:
        raise BadRequest(f"Malformed input request: #/{name}: expected a data URI (data:image/...;base64,...)")
    return _b64(m[2], name)


def _cohere(model: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    v4 = model == "cohere.embed-v4"
    allowed = {"texts", "images", "input_type", "truncate", "embedding_types"}
    if v4:
        allowed |= {"inputs", "output_dimension", "max_tokens"}
    _closed(body, allowed)
    given = [k for k in ("texts", "images", "inputs") if k in body]
    if len(given) != 1:
        raise BadRequest("Malformed input request: give exactly one of texts, images" + (", inputs" if v4 else ""))
    field = given[0]
    items = body[field]
    if not isinstance(items, list) or not items:
        raise BadRequest(f"Malformed input request: #/{field}: expected a non-empty array")
    limit = 1 if (field == "images" and not v4) else 96
    if len(items) > limit:
        raise BadRequest(f"Malformed input request: #/{field}: expected maxItems: {limit}, actual: {len(items)}")
    if "input_type" not in body:
        raise BadRequest("Malformed input request: #: required key [input_type] not found")
    types = ["search_document", "search_query", "classification", "clustering"] + ([] if v4 else ["image"])
    _in("input_type", body["input_type"], tuple(types))
    if "truncate" in body:
        _in("truncate", body["truncate"], ("NONE", "LEFT", "RIGHT") if v4 else ("NONE", "START", "END"))
    dims = body.get("output_dimension", 1536) if v4 else 1024
    if v4:
        _in("output_dimension", dims, (256, 512, 1024, 1536))
    materials: list[Any] = []
    tokens = 0
    for i, item in enumerate(items):
        where = f"{field}/{i}"
        if field == "texts":
            text = _text(item, where, None if v4 else 2048)
            materials.append(text)
            tokens += _words(text)
        elif field == "images":
            materials.append(hashlib.sha256(_image_uri(item, where)).hexdigest())
            tokens += 1
        else:
            content = item.get("content") if isinstance(item, dict) else None
            if not isinstance(content, list) or not content:
                raise BadRequest(f"Malformed input request: #/{where}/content: expected a non-empty array")
            parts: list[str] = []
            for j, c in enumerate(content):
                if isinstance(c, dict) and c.get("type") == "text":
                    parts.append(_text(c.get("text"), f"{where}/content/{j}/text"))
                    tokens += _words(parts[-1])
                elif isinstance(c, dict) and c.get("type") == "image_url":
                    parts.append(hashlib.sha256(_image_uri(c.get("image_url"), f"{where}/content/{j}")).hexdigest())
                    tokens += 1
                else:
                    raise BadRequest(f"Malformed input request: #/{where}/content/{j}: unknown content type")
            materials.append(parts)
    kinds = body.get("embedding_types")
    answer: dict[str, Any] = {"id": str(uuid.UUID(int=_rng(model, materials).getrandbits(128)))}
    if kinds is None:
        answer["embeddings"] = [_typed("float", [model, m], dims) for m in materials]
        answer["response_type"] = "embeddings_floats"
    else:
        if not isinstance(kinds, list) or not kinds:
            raise BadRequest("Malformed input request: #/embedding_types: expected a non-empty array")
        for k in kinds:
            _in("embedding_types", k, _COHERE_TYPES)
        answer["embeddings"] = {k: [_typed(k, [model, m], dims) for m in materials] for k in kinds}
        answer["response_type"] = "embeddings_by_type"
    if field == "texts":
        answer["texts"] = items
    return answer, tokens


# -- Nova ---------------------------------------------------------------------------------------

_PURPOSES = (
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


def _nova(model: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    _closed(body, {"schemaVersion", "taskType", "singleEmbeddingParams"})
    if body.get("schemaVersion", "nova-multimodal-embed-v1") != "nova-multimodal-embed-v1":
        raise BadRequest("Malformed input request: #/schemaVersion: unknown schema version")
    _in("taskType", body.get("taskType"), ("SINGLE_EMBEDDING",))
    params = body.get("singleEmbeddingParams")
    if not isinstance(params, dict):
        raise BadRequest("Malformed input request: #: required key [singleEmbeddingParams] not found")
    _closed(params, {"embeddingPurpose", "embeddingDimension", "text", "image", "audio", "video"})
    _in("embeddingPurpose", params.get("embeddingPurpose"), _PURPOSES)
    dims = params.get("embeddingDimension", 3072)
    _in("embeddingDimension", dims, (256, 384, 1024, 3072))
    given = [k for k in ("text", "image", "audio", "video") if k in params]
    if len(given) != 1:
        raise BadRequest("Malformed input request: give exactly one of text, image, audio, video")
    kind = given[0]
    if kind == "text":
        t = params["text"]
        _closed(t, {"truncationMode", "value", "source"})
        _in("text/truncationMode", t.get("truncationMode"), ("START", "END", "NONE"))
        value = _text(t.get("value"), "text/value")
        material: Any = value
        tokens = _words(value)
    elif kind == "image":
        img = params["image"]
        _closed(img, {"detailLevel", "format", "source"})
        _in("image/format", img.get("format"), ("png", "jpeg", "gif", "webp"))
        material = hashlib.sha256(_b64((img.get("source") or {}).get("bytes"), "image/source/bytes")).hexdigest()
        tokens = 1
    else:
        raise BadRequest(f"the emulator does not embed {kind}")
    vector = _typed("float", [model, material], dims)
    return {"embeddings": [{"embeddingType": kind.upper(), "embedding": vector}]}, tokens


def embed_answer(model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """(answer body, input tokens) for an embedding model's ``/invoke``; ``BadRequest`` if invalid."""
    model = embedding_model(model_id)
    if model is None or not isinstance(body, dict):
        raise BadRequest("Malformed input request: #: expected type: JSONObject")
    if model.startswith("amazon.titan-embed-text"):
        return _titan_text(model, body)
    if model == "amazon.titan-embed-image-v1":
        return _titan_multimodal(model, body)
    if model.startswith("cohere."):
        return _cohere(model, body)
    return _nova(model, body)


# -- CountTokens --------------------------------------------------------------------------------


def count_tokens_answer(model_id: str, body: Any) -> dict[str, Any]:
    """``{"inputTokens": n}`` for a valid CountTokens request; ``BadRequest`` (AWS's 400) otherwise."""
    foundation = model_id
    if model_id.startswith("arn:"):
        m = re.match(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:foundation-model/(.+)$", model_id)
        if not m:
            raise BadRequest("The provided model identifier is invalid.")
        foundation = m[1]
    if _base(foundation) != foundation or not re.fullmatch(r"[a-zA-Z_.\-/0-9:]{1,256}", foundation):
        raise BadRequest("The provided model identifier is invalid.")
    if not foundation.startswith(_COUNTABLE):
        raise BadRequest("The provided model doesn't support counting tokens.")
    inp = body.get("input") if isinstance(body, dict) else None
    if (
        not isinstance(inp, dict)
        or set(body) != {"input"}
        or len(inp) != 1
        or next(iter(inp))
        not in (
            "converse",
            "invokeModel",
        )
    ):
        raise BadRequest("Malformed input request: input must hold exactly one of converse, invokeModel")
    if "converse" in inp:
        req = inp["converse"]
        if not isinstance(req, dict) or not isinstance(req.get("messages"), list):
            raise BadRequest("Malformed input request: #/input/converse: required key [messages] not found")
        extra = set(req) - {"messages", "system", "toolConfig", "additionalModelRequestFields"}
        if extra:
            raise BadRequest(f"Malformed input request: #/input/converse: extraneous key [{sorted(extra)[0]}]")
        converse.validate(req)
        return {"inputTokens": sum(converse._input_tokens(req, cache=set()))}
    invoke = inp["invokeModel"]
    if not isinstance(invoke, dict) or set(invoke) != {"body"}:
        raise BadRequest("Malformed input request: #/input/invokeModel: required key [body] not found")
    try:
        native = json.loads(_b64(invoke["body"], "input/invokeModel/body"))
    except ValueError:
        raise BadRequest("Malformed input request: the invokeModel body is not JSON") from None
    anthropic.validate(native)
    blocks: list[dict[str, Any]] = [{"text": json.dumps(t, sort_keys=True), **t} for t in native.get("tools") or []]
    system = native.get("system")
    blocks += anthropic._blocks(system) if system else []
    for m in native["messages"]:
        blocks += anthropic._blocks(m["content"])
    texts = anthropic._texts([{**b, "type": b.get("type", "text")} for b in blocks])
    return {"inputTokens": sum(_words(t) for t in texts)}


def answer(action: str, model_id: str, payload: Any) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The emulator's hook: (body, extra headers) for ``count-tokens`` and embedding ``invoke`` calls,
    None for every other call. A body of the wrong shape is AWS's 400 (``BadRequest``)."""
    try:
        if action == "count-tokens":
            return count_tokens_answer(model_id, payload), {}
        if action == "invoke" and embedding_model(model_id) is not None:
            body, tokens = embed_answer(model_id, payload)
            return body, {"x-amzn-bedrock-input-token-count": str(tokens)}
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
        raise BadRequest(
            f"Malformed input request, please reformat your input and try again. (emulator: {type(e).__name__}: {e})"
        ) from None
    return None
