"""Embeddings, planned and assembled without I/O: the family registry, ``plan_embed``, ``EmbedPlan``.

    plan = plan_embed("bedrock:amazon.titan-embed-text-v2:0", ["a", "b"], {"dimensions": 256})
    for call in plan.calls:                     # POST {endpoint}{plan.path} with call.body
        part = plan.parse(call, status, headers, body)
    result = plan.assemble(parts)               # parts in call order -> Embeddings

The sender (an operation on the core) runs ``plan.calls`` with bounded concurrency
(``plan.max_concurrency``), retries each call on its own and holds one deadline (``plan.timeout``)
for the whole call; when a call fails for good it names the inputs it carried (``call.describe()``).

Families (one module each, registered in ``FAMILIES``; see ``EmbedFamily`` for adding one):
Titan Text Embeddings v2 / G1 and Titan Multimodal G1 (``titan``), Cohere Embed v3 / v4
(``cohere``), Amazon Nova Multimodal Embeddings (``nova``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from .._errors import ValidationError, map_api_error
from .._families._common import unexpected_shapes
from .._model_spec import ModelSpec, parse_model_spec
from .._options import EmbedOptions as EmbedOptionsDict
from .._request import ProviderOptions
from .._retry import MAX_RETRIES_LIMIT
from .._types import ImagePart, TextPart, Usage
from ._base import EMBEDDING_TYPES, EmbedCall, EmbedFamily, EmbedInput, EmbedOptions, EmbedPart
from .cohere import CohereEmbed
from .nova import NovaEmbed
from .result import Embeddings
from .titan import TitanMultimodal, TitanText

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FAMILIES",
    "EmbedCall",
    "EmbedPart",
    "EmbedPlan",
    "Embeddings",
    "embed_family",
    "normalize_inputs",
    "plan_embed",
]

FAMILIES: tuple[EmbedFamily, ...] = (TitanText(), TitanMultimodal(), CohereEmbed(), NovaEmbed())

#: Requests in flight at once for one ``embed`` call unless ``max_concurrency`` says otherwise.
DEFAULT_CONCURRENCY = 16

#: The option names ``plan_embed`` takes: the keys of ``_options.EmbedOptions`` (one list).
_OPTIONS = frozenset(EmbedOptionsDict.__optional_keys__)
_TOKEN_HEADER = "x-amzn-bedrock-input-token-count"
_decode = msgspec.json.Decoder().decode
_FLOATS = list[list[float]]
_INTS = list[list[int]]
_encode = msgspec.json.Encoder().encode


def embed_family(spec: ModelSpec) -> EmbedFamily:
    """The family serving this model, or a ``ValidationError`` naming the models reqbed embeds with."""
    base = spec.base_model
    for family in FAMILIES:
        if base and family.serves(base):
            return family
    hint = " (an application inference profile or custom ARN: give provider_options base_model)" if not base else ""
    raise ValidationError(
        f"{base or spec.model_id} is not an embedding model reqbed knows{hint}; known: "
        "amazon.titan-embed-text-v2:0, amazon.titan-embed-text-v1, amazon.titan-embed-image-v1, "
        "cohere.embed-english-v3, cohere.embed-multilingual-v3, cohere.embed-v4:0, "
        "amazon.nova-2-multimodal-embeddings-v1:0",
        field="model",
    )


def _part(item: Any, field: str) -> TextPart | ImagePart:
    if isinstance(item, str):
        if not item.strip():
            raise ValidationError("is empty", field=field)
        return TextPart(text=item)
    if isinstance(item, (TextPart, ImagePart)):
        part = item
    elif isinstance(item, Mapping):
        try:
            part = msgspec.convert(dict(item), TextPart | ImagePart, strict=False)
        except msgspec.ValidationError as e:
            raise ValidationError(str(e), field=field) from None
    else:
        raise ValidationError(
            f"must be a string, a reqbed.ImagePart or TextPart, got {type(item).__name__}", field=field
        )
    if isinstance(part, TextPart) and not part.text.strip():
        raise ValidationError("is empty", field=field)
    if isinstance(part, ImagePart) and not part.data:
        raise ValidationError("holds no bytes", field=field + ".data")
    return part


def normalize_inputs(inputs: Any) -> list[EmbedInput]:
    """A string, a part, or a list of them -> one ``EmbedInput`` each. A list inside the list is one
    input made of several parts (text and image together, for the models that take that)."""
    if isinstance(inputs, (str, TextPart, ImagePart, Mapping)):
        items: list[Any] = [inputs]
    elif isinstance(inputs, Sequence) and not isinstance(inputs, (bytes, bytearray)):
        items = list(inputs)
    else:
        raise ValidationError(
            f"must be a string, an image part or a list of them, got {type(inputs).__name__}", field="inputs"
        )
    if not items:
        raise ValidationError("is empty", field="inputs")
    out = []
    for i, item in enumerate(items):
        field = f"inputs[{i}]"
        if isinstance(item, Sequence) and not isinstance(item, (str, bytes, bytearray)):
            if not item:
                raise ValidationError("is empty", field=field)
            out.append(EmbedInput(parts=tuple(_part(p, f"{field}[{j}]") for j, p in enumerate(item))))
        else:
            out.append(EmbedInput(parts=(_part(item, field),)))
    return out


def _options(opts: Mapping[str, Any]) -> EmbedOptions:
    unknown = set(opts) - _OPTIONS
    if unknown:
        first = sorted(unknown)[0]
        raise ValidationError(f"unknown option(s) {sorted(unknown)}; known: {sorted(_OPTIONS)}", field=first)
    dims = opts.get("dimensions")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims < 1):
        raise ValidationError(f"must be a positive integer, got {dims!r}", field="dimensions")
    normalize = opts.get("normalize")
    if normalize is not None and not isinstance(normalize, bool):
        raise ValidationError(f"must be True or False, got {normalize!r}", field="normalize")
    for name in ("input_type", "truncate"):
        v = opts.get(name)
        if v is not None and not isinstance(v, str):
            raise ValidationError(f"must be a string, got {type(v).__name__}", field=name)
    etype = opts.get("embedding_type")
    if etype is not None and etype not in EMBEDDING_TYPES:
        raise ValidationError(f"must be one of {list(EMBEDDING_TYPES)}, got {etype!r}", field="embedding_type")
    return EmbedOptions(
        dimensions=dims,
        normalize=normalize,
        input_type=opts.get("input_type"),
        truncate=opts.get("truncate"),
        embedding_type=etype,
    )


def _provider_options(raw: Any) -> ProviderOptions:
    if raw is None:
        return ProviderOptions()
    if isinstance(raw, ProviderOptions):
        return raw
    if not isinstance(raw, Mapping):
        raise ValidationError(f"must be a dict, got {type(raw).__name__}", field="provider_options")
    try:
        return msgspec.convert(dict(raw), ProviderOptions)
    except msgspec.ValidationError as e:
        text = str(e)  # names the field, never its value
        raise ValidationError(text, field="provider_options") from None


def _count(opts: Mapping[str, Any], name: str, lo: int, hi: int) -> int | None:
    v = opts.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValidationError(f"must be an integer between {lo} and {hi}, got {v!r}", field=name)
    return v


class EmbedPlan(msgspec.Struct, kw_only=True, frozen=True):
    """A validated embedding call, as request bodies. Pure: nothing here does I/O."""

    spec: ModelSpec
    family: str
    options: EmbedOptions
    calls: list[EmbedCall]
    input_count: int
    provider_options: ProviderOptions
    timeout: float | None = None
    max_retries: int | None = None
    max_concurrency: int = DEFAULT_CONCURRENCY

    @property
    def path(self) -> str:
        """The request path (every call of a plan goes to the same one)."""
        return f"/model/{self.spec.path_segment}/invoke"

    def _family(self) -> EmbedFamily:
        return next(f for f in FAMILIES if f.name == self.family)

    def parse(self, call: EmbedCall, status: int, headers: Mapping[str, str], body: bytes) -> EmbedPart:
        """One call's answer: its vectors (in the call's input order) and input tokens, or the
        mapped ``APIError`` for an error answer."""
        if status >= 300:
            raise map_api_error(status, headers, body)
        header_tokens = None
        for k, v in headers.items():
            if k.lower() == _TOKEN_HEADER and v.strip().isdigit():
                header_tokens = int(v)
        with unexpected_shapes(f"the {self.spec.base_model} embedding answer for {call.describe()}"):
            decoded = _decode(body)
            if not isinstance(decoded, dict):
                raise TypeError("the answer is not a JSON object")
            vectors, body_tokens = self._family().parse(decoded, self.options, len(call.indexes))
            if len(vectors) != len(call.indexes):
                raise ValueError(f"{len(vectors)} vectors for {len(call.indexes)} inputs")
            kind = self.options.embedding_type or "float"
            # float vectors as floats (a JSON ``0`` too); int types as ints (never a float or a bool)
            typed: list[list[Any]] = msgspec.convert(vectors, _FLOATS if kind == "float" else _INTS)
        return EmbedPart(
            vectors=typed, input_tokens=header_tokens if header_tokens is not None else body_tokens, raw=decoded
        )

    def assemble(self, parts: Sequence[EmbedPart]) -> Embeddings:
        """All calls' parts (in ``calls`` order) -> one ``Embeddings`` with vectors in input order."""
        if len(parts) != len(self.calls):
            raise ValueError(f"{len(parts)} answers for {len(self.calls)} calls")
        vectors: list[Any] = [None] * self.input_count
        tokens = 0
        for call, part in zip(self.calls, parts, strict=True):
            for i, v in zip(call.indexes, part.vectors, strict=True):
                vectors[i] = v
            tokens += part.input_tokens or 0
        return Embeddings(
            vectors=vectors,
            embedding_type=self.options.embedding_type or "float",
            usage=Usage(input_tokens=tokens, total_tokens=tokens),
            model=self.spec.model_id,
            raw=[p.raw for p in parts],
        )


def plan_embed(model: str, inputs: Any, opts: Mapping[str, Any]) -> EmbedPlan:
    """Validate everything and split the inputs into request bodies. Raises ``ValidationError``."""
    options = _options(opts)
    po = _provider_options(opts.get("provider_options"))
    spec = parse_model_spec(model, base_model=po.base_model)
    family = embed_family(spec)
    items = normalize_inputs(inputs)
    base = spec.base_model or spec.model_id
    family.check(base, items, options)
    calls = [
        EmbedCall(number=n, body=_encode(body), indexes=idx)
        for n, (body, idx) in enumerate(family.bodies(base, items, options))
    ]
    timeout = opts.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ValidationError(f"must be a positive number of seconds, got {timeout!r}", field="timeout")
    return EmbedPlan(
        spec=spec,
        family=family.name,
        options=options,
        calls=calls,
        input_count=len(items),
        provider_options=po,
        timeout=None if timeout is None else float(timeout),
        max_retries=_count(opts, "max_retries", 0, MAX_RETRIES_LIMIT),
        max_concurrency=_count(opts, "max_concurrency", 1, 1024) or DEFAULT_CONCURRENCY,
    )
