"""What every embedding family shares: the normalised inputs, the options, the plan and its calls.

An embedding call is planned purely (``plan_embed`` in ``reqbed._embed``): inputs and options are
validated, the family splits the inputs into request bodies (``EmbedCall``), each naming the input
indexes it carries. Whatever sends them (bounded concurrency, retries per call, one deadline) gets
one ``EmbedPart`` per call from ``EmbedPlan.parse`` and hands them all to ``EmbedPlan.assemble``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import msgspec

from .._errors import ValidationError
from .._types import ImagePart, TextPart

__all__ = [
    "EMBEDDING_TYPES",
    "EmbedCall",
    "EmbedFamily",
    "EmbedInput",
    "EmbedOptions",
    "EmbedPart",
    "EmbeddingType",
    "b64",
    "data_uri",
    "expect_list",
    "one_of",
    "only",
    "refuse",
]

EmbeddingType = Literal["float", "int8", "uint8", "binary", "ubinary"]
EMBEDDING_TYPES: tuple[str, ...] = ("float", "int8", "uint8", "binary", "ubinary")


class EmbedInput(msgspec.Struct, kw_only=True, frozen=True):
    """One thing to embed (one vector out): its parts in order (text and/or images)."""

    parts: tuple[TextPart | ImagePart, ...]

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.parts if isinstance(p, TextPart)]

    @property
    def images(self) -> list[ImagePart]:
        return [p for p in self.parts if isinstance(p, ImagePart)]

    @property
    def kind(self) -> Literal["text", "image", "mixed"]:
        if all(isinstance(p, TextPart) for p in self.parts):
            return "text"
        if all(isinstance(p, ImagePart) for p in self.parts):
            return "image"
        return "mixed"


class EmbedOptions(msgspec.Struct, kw_only=True, frozen=True):
    """The validated options (``None``: not given, the model's default applies)."""

    dimensions: int | None = None
    normalize: bool | None = None
    input_type: str | None = None
    truncate: str | None = None
    embedding_type: EmbeddingType | None = None


class EmbedCall(msgspec.Struct, kw_only=True, frozen=True):
    """One ``/invoke`` request of a plan: its JSON body and the input indexes it carries, in order."""

    number: int
    body: bytes
    indexes: tuple[int, ...]

    def describe(self) -> str:
        """The inputs this call carries, for error messages: ``inputs[3]`` or ``inputs[96..191]``."""
        first, last = self.indexes[0], self.indexes[-1]
        if first == last:
            return f"inputs[{first}]"
        if last - first + 1 == len(self.indexes):
            return f"inputs[{first}..{last}]"
        return "inputs" + repr(list(self.indexes))


class EmbedPart(msgspec.Struct, kw_only=True, frozen=True):
    """What one call answered: one vector per input it carried, and its input-token count (if told)."""

    vectors: list[list[float]] | list[list[int]]
    input_tokens: int | None
    raw: Any = None


class EmbedFamily(Protocol):
    """An embedding family: which models it serves, what options they honour, bodies and answers.

    Adding a family: write ``reqbed/_embed/<vendor>.py`` with a class implementing this protocol
    (cite AWS's page for the body), and add an instance to ``FAMILIES`` in ``reqbed/_embed/__init__.py``.
    """

    name: str

    def serves(self, base_model: str) -> bool: ...

    def check(self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions) -> None:
        """Refuse (``ValidationError`` naming the field) what this model cannot honour."""
        ...

    def bodies(
        self, base_model: str, inputs: Sequence[EmbedInput], opts: EmbedOptions
    ) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
        """The request bodies, each with the input indexes it carries (order kept)."""
        ...

    def parse(self, body: Any, opts: EmbedOptions, count: int) -> tuple[list[list[Any]], int | None]:
        """One answer's vectors (``count`` of them, in order) and the input tokens its body reports."""
        ...


def refuse(model: str, what: str, field: str) -> ValidationError:
    return ValidationError(f"{model} {what}", field=field)


def data_uri(image: ImagePart) -> str:
    """``data:<media type>;base64,<bytes>``: how Cohere takes images."""
    return f"data:{image.media_type};base64,{base64.b64encode(image.data).decode()}"


def b64(image: ImagePart) -> str:
    return base64.b64encode(image.data).decode()


def one_of(model: str, field: str, value: Any, allowed: Sequence[Any]) -> None:
    if value is not None and value not in allowed:
        raise ValidationError(f"{model} takes one of {list(allowed)}, got {value!r}", field=field)


def only(model: str, opts: EmbedOptions, honoured: Mapping[str, str]) -> None:
    """Refuse every option given that this model cannot honour (``honoured``: option -> why not)."""
    for name in ("dimensions", "normalize", "input_type", "truncate", "embedding_type"):
        if getattr(opts, name) is not None and name in honoured:
            raise refuse(model, honoured[name], name)


def expect_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} is not a list")
    return value
