"""The call options as types: what ``generate_text(model, prompt, **opts)`` and its siblings take.

``ChatOptions`` lists every call option and ``ProviderOptions`` every ``provider_options`` key, as
``TypedDict`` s: the facade's ``**opts: Unpack[ChatOptions]`` lets mypy, pyright and IDEs check a
call (a misspelt ``max_token=`` or ``temperature="hot"`` is an error). They are also the one list of
option names: ``_request`` derives its known-option set from ``ChatOptions``, and a test holds
``ProviderOptions`` equal to the validating ``_request.ProviderOptions`` Struct. Values are still
validated at run time (ranges, tool names ...), whatever a type checker said. docs/options.md
documents each option: type, default, and which families and endpoints honour it.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict, Union

from ._types import Guardrail, ImagePart, Message, TextPart, Tool

__all__ = [
    "NO_PROMPT",
    "ChatOptions",
    "CountTokensOptions",
    "EmbedInputs",
    "EmbedOptions",
    "Fallback",
    "ObjectOptions",
    "Prompt",
    "ProviderOptions",
    "ThinkingConfig",
    "ToolRunOptions",
]

#: What ``prompt`` may be: a string (one user turn), a ``Message``, or a list of ``Message`` s and
#: message dicts (``{"role": "user", "content": "hi"}``) mixed freely.
Prompt = Union[str, Message, Sequence[Union[Message, Mapping[str, Any]]]]  # noqa: UP007 - a runtime alias on 3.10


class _NoPrompt:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<no prompt>"


#: ``prompt``'s default: only so that a missing prompt (or OpenAI's ``messages=``) is a
#: ``ValidationError`` that says what to write, not a bare ``TypeError``.
NO_PROMPT: Any = _NoPrompt()


class ProviderOptions(TypedDict, total=False):
    """``provider_options``: credentials, routing and family extras (docs/options.md)."""

    # credentials (docs/credentials.md)
    api_key: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    profile: str
    role_arn: str
    role_session_name: str
    external_id: str
    duration_seconds: int
    # routing
    region: str
    endpoint_url: str
    use_converse: bool
    base_model: str
    # body extras
    additional_model_request_fields: dict[str, Any]
    anthropic_prompt_cache: bool
    anthropic_prompt_cache_ttl: Literal["5m", "1h"]
    anthropic_cache_messages: int
    anthropic_beta: list[str]
    cohere_documents: list[dict[str, Any]]
    additional_model_response_field_paths: list[str]


class ThinkingConfig(TypedDict, total=False):
    """``thinking``: ``{"budget_tokens": N}`` turns extended thinking on; ``{"type": "disabled"}`` off."""

    type: Literal["enabled", "disabled"]
    budget_tokens: int


class _FallbackModel(TypedDict):
    model: str


class Fallback(_FallbackModel, total=False):
    """One entry of ``fallbacks``: a model spec and, optionally, ``provider_options`` that replace
    the call's entirely (docs/reliability.md)."""

    provider_options: ProviderOptions


class GuardrailOptions(TypedDict, total=False):
    """``guardrail``: a Bedrock guardrail to apply (docs/guardrails.md); or a ``reqbed.Guardrail``."""

    id: str
    version: str
    trace: Literal["enabled", "enabled_full", "disabled"]
    stream_mode: Literal["sync", "async"]


class ToolRunOptions(TypedDict, total=False):
    """The options of ``run_tools`` / ``arun_tools`` besides their own (``tools`` are the functions,
    given apart): ``ChatOptions`` without ``tools`` and ``tool_choice``."""

    system: str
    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    stop: str | list[str]
    thinking: ThinkingConfig
    reasoning_effort: Literal["low", "medium", "high"]
    timeout: float
    max_retries: int
    fallbacks: Sequence[Fallback]
    provider_options: ProviderOptions
    # Bedrock request features (docs/guardrails.md, docs/endpoints.md)
    guardrail: GuardrailOptions | Guardrail
    service_tier: Literal["priority", "default", "flex"]
    latency: Literal["standard", "optimized"]
    request_metadata: Mapping[str, str]


class ChatOptions(ToolRunOptions, total=False):
    """The options of a chat call (``generate_text``, ``stream_text`` and their async twins)."""

    tools: Sequence[Tool | Mapping[str, Any]]
    tool_choice: str


class CountTokensOptions(ChatOptions, total=False):
    """``count_tokens``'s options: ``generate_text``'s (the count is of that request) plus
    ``estimate`` (docs/count-tokens.md)."""

    estimate: bool


#: What ``embed`` takes: a string, an image or text part, or a list of them; a list inside the list is
#: one input of several parts (one vector).
EmbedInputs = Union[  # noqa: UP007 - a runtime alias on 3.10
    str,
    TextPart,
    ImagePart,
    Mapping[str, Any],
    Sequence[Union[str, TextPart, ImagePart, Mapping[str, Any], Sequence[Union[str, TextPart, ImagePart]]]],  # noqa: UP007
]


class EmbedOptions(TypedDict, total=False):
    """The options of ``embed`` / ``aembed`` (docs/embeddings.md says which model honours which)."""

    dimensions: int
    normalize: bool
    input_type: str
    truncate: str
    embedding_type: Literal["float", "int8", "uint8", "binary", "ubinary"]
    max_concurrency: int
    timeout: float
    max_retries: int
    provider_options: ProviderOptions


class ObjectOptions(ChatOptions, total=False):
    """The options of ``generate_object`` and its siblings: a chat call's, plus how the object
    travels (docs/structured-output.md). ``tools`` and ``tool_choice`` are refused there (the verb
    brings its own tool)."""

    schema_name: str
    schema_description: str
    mode: Literal["auto", "native", "tool", "json"]
