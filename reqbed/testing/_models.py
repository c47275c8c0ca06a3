"""The emulator's model catalogue: the foundation model ids it serves.

A model id the catalogue does not know gets AWS's own answer: 400 ``ValidationException``, "The
provided model identifier is invalid." An id is known when it is in the catalogue, or is a
cross-region inference profile of one (``us.``, ``eu.``, ``apac.``, ``global.`` ... + a catalogue
id), or a ``foundation-model`` / ``inference-profile`` ARN of one. ARNs of an account's own
resources (application inference profiles, provisioned, custom and imported models, prompt
routers) are accepted as they are: the emulator cannot know your account.

Extend it per emulator: ``Emulator(extra_models={"vendor.new-model-v1:0"})`` adds ids;
``Emulator(models=...)`` replaces the catalogue.
"""

from __future__ import annotations

from collections.abc import Set

from .._errors import ValidationError
from .._model_spec import parse_model_spec

__all__ = ["MODELS", "default_models", "is_known"]

#: Bedrock foundation model ids the emulator serves by default (every id reqbed's tests, fixtures
#: and docs use is here; ``tests/testing/test_emulator_models.py`` checks it).
MODELS: frozenset[str] = frozenset(
    {
        # Anthropic
        "anthropic.claude-v2:1",
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0:48k",
        "anthropic.claude-3-haiku-20240307-v1:0:200k",
        "anthropic.claude-3-sonnet-20240229-v1:0",
        "anthropic.claude-3-opus-20240229-v1:0",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-opus-4-20250514-v1:0",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        # Meta
        "meta.llama2-13b-chat-v1",
        "meta.llama2-70b-chat-v1",
        "meta.llama3-8b-instruct-v1:0",
        "meta.llama3-70b-instruct-v1:0",
        "meta.llama3-1-8b-instruct-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
        "meta.llama3-1-405b-instruct-v1:0",
        "meta.llama3-2-1b-instruct-v1:0",
        "meta.llama3-2-3b-instruct-v1:0",
        "meta.llama3-2-11b-instruct-v1:0",
        "meta.llama3-2-90b-instruct-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "meta.llama4-scout-17b-instruct-v1:0",
        "meta.llama4-maverick-17b-instruct-v1:0",
        # Cohere
        "cohere.command-text-v14",
        "cohere.command-light-text-v14",
        "cohere.command-r-v1:0",
        "cohere.command-r-plus-v1:0",
        # OpenAI
        "openai.gpt-oss-20b-1:0",
        "openai.gpt-oss-120b-1:0",
        # Amazon
        "amazon.nova-micro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "amazon.nova-premier-v1:0",
        "amazon.titan-text-express-v1",
        "amazon.titan-text-lite-v1",
        "amazon.titan-text-premier-v1:0",
        # Embeddings
        "amazon.titan-embed-text-v1",
        "amazon.titan-embed-text-v2:0",
        "amazon.titan-embed-image-v1",
        "amazon.nova-2-multimodal-embeddings-v1:0",
        "cohere.embed-english-v3",
        "cohere.embed-multilingual-v3",
        "cohere.embed-v4:0",
        # Mistral
        "mistral.mistral-7b-instruct-v0:2",
        "mistral.mixtral-8x7b-instruct-v0:1",
        "mistral.mistral-small-2402-v1:0",
        "mistral.mistral-large-2402-v1:0",
        "mistral.mistral-large-2407-v1:0",
        "mistral.pixtral-large-2502-v1:0",
        # AI21, DeepSeek, Writer
        "ai21.jamba-1-5-mini-v1:0",
        "ai21.jamba-1-5-large-v1:0",
        "deepseek.r1-v1:0",
        "writer.palmyra-x4-v1:0",
        "writer.palmyra-x5-v1:0",
    }
)


def default_models() -> frozenset[str]:
    """``MODELS`` plus every model in reqbed's own catalog (``reqbed.models``, loaded on first use)."""
    from .._catalog._store import catalog

    return MODELS | frozenset(m.id for m in catalog().models)


_FOUNDATION = ("foundation-model", "inference-profile")


def is_known(model_id: str, models: Set[str]) -> bool:
    """Whether the emulator serves ``model_id`` (a URL's model segment, decoded) with ``models``."""
    if model_id in models:
        return True
    try:
        spec = parse_model_spec("bedrock:" + model_id, aliases=False)
    except ValidationError:
        return False
    if spec.resource_type is not None and spec.resource_type not in _FOUNDATION:
        return True  # an account's own resource: the emulator cannot know it
    if spec.resource_type is None and spec.geo is None:
        return False  # a plain id not in the catalogue
    return spec.base_model is not None and spec.base_model in models
