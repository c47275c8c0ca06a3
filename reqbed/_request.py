"""Turn a user's ``(model, prompt, **opts)`` into one validated ``ChatRequest``. No I/O.

Everything a user can get wrong is caught here, before any request leaves the process, as a
``ValidationError`` whose ``field`` names the culprit (``prompt[2].content[0]``, ``temperature``,
``provider_options.region`` ...). Family-specific rules (capabilities, thinking budgets) are
checked by the family formatter when it builds the body, still before any I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from . import _options
from ._aws.secret import shown
from ._capabilities import Capabilities
from ._errors import ValidationError
from ._features import NONE as NO_FEATURES
from ._features import Features, parse_features
from ._json_check import check_json_value
from ._model_spec import ModelSpec, parse_model_spec
from ._retry import MAX_RETRIES_LIMIT
from ._types import (
    AudioPart,
    ContentPart,
    DocumentPart,
    GuardContentPart,
    ImagePart,
    Message,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCall,
    ToolResultPart,
    VideoPart,
)

__all__ = [
    "REASONING_EFFORT_BUDGETS",
    "ChatRequest",
    "GenerationOptions",
    "ProviderOptions",
    "build_chat_request",
]

#: ``reasoning_effort`` -> thinking budget in tokens (documented in docs/options.md).
REASONING_EFFORT_BUDGETS = {"low": 1024, "medium": 4096, "high": 16384}

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SECRET_FIELDS = ("api_key", "secret_access_key", "session_token")


class _Redacted:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<redacted>"


_REDACTED = _Redacted()


class ProviderOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """``provider_options`` validated: credentials, routing and family extras. ``repr`` hides secrets.

    Its fields are exactly the keys of the public ``reqbed.ProviderOptions`` TypedDict
    (``_options.ProviderOptions``; a test keeps the two equal)."""

    # credentials (see docs/credentials.md)
    api_key: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    role_session_name: str | None = None
    external_id: str | None = None
    duration_seconds: int | None = None
    # routing
    region: str | None = None
    endpoint_url: str | None = None
    use_converse: bool | None = None
    base_model: str | None = None
    # body extras
    additional_model_request_fields: dict[str, Any] | None = None
    anthropic_prompt_cache: bool = False
    anthropic_prompt_cache_ttl: Literal["5m", "1h"] | None = None
    anthropic_cache_messages: int | None = None
    anthropic_beta: list[str] | None = None
    #: Cohere Command R / R+ RAG ``documents`` (``[{"title": ..., "snippet": ...}]``): native body only.
    cohere_documents: list[dict[str, Any]] | None = None
    #: Converse ``additionalModelResponseFieldPaths`` (JSON Pointers into the model's own answer)
    additional_model_response_field_paths: list[str] | None = None

    def __repr__(self) -> str:
        shown = []
        for f in self.__struct_fields__:
            v = getattr(self, f)
            if v is None or v is False:
                continue
            shown.append(f"{f}=<redacted>" if f in _SECRET_FIELDS else f"{f}={v!r}")
        return f"ProviderOptions({', '.join(shown)})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """What rich / pretty printers show (msgspec's default would list the secrets)."""
        shown = [(f, getattr(self, f)) for f in self.__struct_fields__]
        return [(f, _REDACTED if f in _SECRET_FIELDS else v) for f, v in shown if v is not None and v is not False]

    def as_mapping(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not None}


class GenerationOptions(msgspec.Struct, kw_only=True, frozen=True):
    """The sampling and tool options common to every family."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = msgspec.field(default_factory=list)
    tools: list[Tool] = msgspec.field(default_factory=list)
    tool_choice: str | None = None
    thinking_budget: int | None = None
    #: the ``reasoning_effort`` asked for; families that take it natively (gpt-oss) send it as is,
    #: thinking families use ``thinking_budget`` (derived from it)
    reasoning_effort: str | None = None


class ChatRequest(msgspec.Struct, kw_only=True):
    """A validated call. ``messages`` hold only user/assistant/tool turns with list content;
    system text (from the ``system`` option and system turns) is in ``system``."""

    spec: ModelSpec
    system: list[TextPart]
    messages: list[Message]
    options: GenerationOptions
    provider_options: ProviderOptions
    stream: bool = False
    timeout: float | None = None
    max_retries: int | None = None
    #: what the model can do: found once, in step 2 (``_pipeline.prepare``), and read by the formatters
    capabilities: Capabilities = Capabilities()
    #: guardrail, service tier, latency, request metadata (``_features``)
    features: Features = NO_FEATURES

    @property
    def has_tool_history(self) -> bool:
        return any(
            isinstance(p, (ToolCall, ToolResultPart))
            for m in self.messages
            for p in m.content
            if not isinstance(p, str)
        )


def _fail(msg: str, field: str) -> ValidationError:
    return ValidationError(msg, field=field)


def _convert(value: Any, typ: Any, field: str) -> Any:
    try:
        return msgspec.convert(value, typ, strict=False)
    except msgspec.ValidationError as e:
        # msgspec says "... - at `$[0].content`": rewrite its path onto ours.
        text = str(e)
        where = ""
        if " - at `$" in text:
            text, _, path = text.rpartition(" - at `$")
            where = path.rstrip("`")
        m = _UNKNOWN_FIELD.match(text)
        if m:  # name the key itself: nothing a user wrote is silently dropped
            raise _fail(f"unknown key {m[1]!r}", f"{field}{where}.{m[1]}") from None
        raise _fail(text, field + where) from None


def _message(m: Any, field: str) -> Message:
    """Validate one prompt item, dict or ``Message``: a Struct built by hand is checked like a dict."""
    try:
        plain = msgspec.to_builtins(m, builtin_types=(bytes, bytearray, memoryview))
    except TypeError as e:
        raise _fail(str(e), field) from None
    msg: Message = _convert(plain, Message, field)
    return msg


_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `([^`]+)`")


def _provider_options_error(text: str) -> ValidationError:
    m = _UNKNOWN_FIELD.match(text)
    if m:
        return _fail(f"unknown option {m[1]!r}", f"provider_options.{m[1]}")
    where = ""
    if " - at `$" in text:
        text, _, path = text.rpartition(" - at `$")
        where = path.rstrip("`")
    return _fail(text, "provider_options" + where)


_S3_URI = re.compile(r"s3://[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9](/.*)?")


def _check_s3(s3: dict[str, str], field: str) -> None:
    """An S3 source (botocore's S3Location: ``uri`` and an optional 12-digit ``bucket_owner``)."""
    unknown = set(s3) - {"uri", "bucket_owner"}
    if unknown:
        raise _fail(f"unknown key(s) {sorted(unknown)}; an S3 source has uri and bucket_owner", field)
    uri = s3.get("uri")
    if not isinstance(uri, str) or len(uri) > 1024 or not _S3_URI.fullmatch(uri):
        raise _fail(f"must be an s3://bucket/key URI, got {uri!r}", f"{field}.uri")
    owner = s3.get("bucket_owner")
    if owner is not None and not re.fullmatch(r"[0-9]{12}", owner):
        raise _fail("must be a 12-digit AWS account id", f"{field}.bucket_owner")


def _check_media(p: ContentPart, field: str) -> None:
    """Images, documents, video and audio (also inside tool results) hold bytes or an S3 source."""
    if isinstance(p, (ImagePart, DocumentPart, VideoPart, AudioPart)):
        if p.s3 is not None:
            if p.data:
                raise _fail("give either data or s3, not both", field)
            _check_s3(p.s3, f"{field}.s3")
        elif not p.data:
            raise _fail("holds no bytes", f"{field}.data")
    if isinstance(p, ToolResultPart) and not isinstance(p.content, str):
        for k, q in enumerate(p.content):
            _check_media(q, f"{field}.content[{k}]")


_GUARD_QUALIFIERS = ("grounding_source", "query", "guard_content")


def _check_guard_content(p: GuardContentPart, field: str) -> None:
    if (p.text is None) == (p.data is None):
        raise _fail("guard content holds either text or an image (data and media_type)", field)
    if p.data is not None:
        if p.media_type not in ("image/png", "image/jpeg"):
            raise _fail(f"must be image/png or image/jpeg, got {p.media_type!r}", f"{field}.media_type")
        if not p.data:
            raise _fail("holds no bytes", f"{field}.data")
        if p.qualifiers:
            raise _fail("qualifiers apply to text guard content only", f"{field}.qualifiers")
    for k, q in enumerate(p.qualifiers):
        if q not in _GUARD_QUALIFIERS:
            raise _fail(f"must be one of {list(_GUARD_QUALIFIERS)}, got {q!r}", f"{field}.qualifiers[{k}]")


def _normalize_messages(prompt: Any) -> tuple[list[TextPart], list[Message]]:
    if isinstance(prompt, str):
        if not prompt.strip():
            raise _fail("is empty", "prompt")
        return [], [Message(role="user", content=[TextPart(text=prompt)])]
    if isinstance(prompt, Message):
        prompt = [prompt]
    if not isinstance(prompt, Sequence) or isinstance(prompt, (bytes, bytearray)):
        raise _fail(f"must be a string or a list of messages, got {type(prompt).__name__}", "prompt")
    if not prompt:
        raise _fail("is empty", "prompt")
    raw = [_message(m, f"prompt[{i}]") for i, m in enumerate(prompt)]
    system: list[TextPart] = []
    messages: list[Message] = []
    first_turn: int | None = None  # index in ``prompt`` of the first kept user/assistant/tool turn
    seen_calls: set[str] = set()
    for i, m in enumerate(raw):
        field = f"prompt[{i}]"
        parts: list[ContentPart] = [TextPart(text=m.content)] if isinstance(m.content, str) else list(m.content)
        if m.role == "system":
            for j, p in enumerate(parts):
                if not isinstance(p, TextPart):
                    raise _fail(f"system turns hold text only, got a {p.type} part", f"{field}.content[{j}]")
                if p.text.strip():
                    system.append(p)
            continue
        for j, p in enumerate(parts):
            pf = f"{field}.content[{j}]"
            _check_media(p, pf)
            if isinstance(p, ToolCall):
                if m.role != "assistant":
                    raise _fail("tool calls belong in assistant turns", pf)
                seen_calls.add(p.id)
            elif isinstance(p, ToolResultPart):
                if m.role not in ("user", "tool"):
                    raise _fail("tool results belong in user or tool turns", pf)
                if p.tool_call_id not in seen_calls:
                    raise _fail(f"tool result for {p.tool_call_id!r} has no earlier tool call with that id", pf)
            elif isinstance(p, (ThinkingPart, RedactedThinkingPart)) and m.role != "assistant":
                raise _fail("thinking belongs in assistant turns", pf)
            elif isinstance(p, GuardContentPart):
                if m.role != "user":
                    raise _fail("guard content belongs in user turns", pf)
                _check_guard_content(p, pf)
            elif m.role == "tool":
                raise _fail("tool turns hold tool results only", pf)
        parts = [p for p in parts if not (isinstance(p, TextPart) and not p.text.strip() and p.cache_control is None)]
        if not parts:
            continue
        if first_turn is None:
            first_turn = i
        messages.append(Message(role=m.role, content=parts))
    if not messages and not system:
        raise _fail("has no content (every turn is empty)", "prompt")
    if messages and messages[0].role == "assistant":
        raise _fail("the conversation must start with a user turn", f"prompt[{first_turn}]")
    return system, messages


def _number(opts: Mapping[str, Any], name: str, lo: float, hi: float) -> float | None:
    v = opts.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(f"must be a number, got {type(v).__name__}", name)
    if not lo <= v <= hi:
        raise _fail(f"must be between {lo} and {hi}, got {v}", name)
    return float(v)


def _positive_int(opts: Mapping[str, Any], name: str, hi: int = 1_000_000) -> int | None:
    v = opts.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise _fail(f"must be an integer, got {type(v).__name__}", name)
    if not 1 <= v <= hi:
        raise _fail(f"must be between 1 and {hi}, got {v}", name)
    return v


def _tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise _fail("must be a list of reqbed.Tool or dicts", "tools")
    tools: list[Tool] = []
    names: set[str] = set()
    for i, t in enumerate(value):
        if isinstance(t, Mapping) and "input_schema" in t:  # Anthropic's spelling of ``parameters``
            if "parameters" in t:
                raise _fail("give parameters or input_schema (its Anthropic name), not both", f"tools[{i}]")
            t = {("parameters" if k == "input_schema" else k): v for k, v in t.items()}
        tool = t if isinstance(t, Tool) else _convert(t, Tool, f"tools[{i}]")
        if not _TOOL_NAME.match(tool.name):
            raise _fail(f"tool name {tool.name!r} must match [a-zA-Z0-9_-]{{1,64}}", f"tools[{i}].name")
        if tool.name in names:
            raise _fail(f"duplicate tool name {tool.name!r}", f"tools[{i}].name")
        if tool.parameters.get("type", "object") != "object":
            raise _fail("a tool's parameters schema must describe an object", f"tools[{i}].parameters")
        names.add(tool.name)
        tools.append(tool)
    return tools


def _thinking_budget(opts: Mapping[str, Any]) -> int | None:
    thinking, effort = opts.get("thinking"), opts.get("reasoning_effort")
    if thinking is not None and effort is not None:
        raise _fail("give either thinking or reasoning_effort, not both", "thinking")
    if effort is not None:
        if effort not in REASONING_EFFORT_BUDGETS:
            raise _fail(f"must be one of {sorted(REASONING_EFFORT_BUDGETS)}, got {effort!r}", "reasoning_effort")
        return REASONING_EFFORT_BUDGETS[effort]
    if thinking is None:
        return None
    if not isinstance(thinking, Mapping) or set(thinking) - {"budget_tokens", "type"}:
        raise _fail('must be {"budget_tokens": N}', "thinking")
    kind = thinking.get("type", "enabled")
    if kind not in ("enabled", "disabled"):
        raise _fail(f'must be "enabled" or "disabled", got {kind!r}', "thinking.type")
    if kind == "disabled":
        if thinking.get("budget_tokens") is not None:
            raise _fail('a "disabled" thinking takes no budget_tokens', "thinking.budget_tokens")
        return None
    if thinking.get("budget_tokens") is None:
        raise _fail("is required", "thinking.budget_tokens")
    return _positive_int({"thinking.budget_tokens": thinking["budget_tokens"]}, "thinking.budget_tokens")


def _max_retries(opts: Mapping[str, Any]) -> int | None:
    """``max_retries``: an integer from 0 to ``MAX_RETRIES_LIMIT`` (docs/reliability.md)."""
    v = opts.get("max_retries")
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_RETRIES_LIMIT:
        raise _fail(f"must be an integer from 0 to {MAX_RETRIES_LIMIT}, got {v!r}", "max_retries")
    return v


def _check_json_inputs(prompt: Any, opts: Mapping[str, Any], po_raw: Any) -> None:
    """What goes into the body as JSON, checked before anything converts or encodes it: too deep
    or self-referencing values, NaN/infinity, lone surrogates (``_json_check``)."""
    check_json_value(prompt, "prompt")
    for name in ("system", "stop", "tools"):
        check_json_value(opts.get(name), name)
    for name in ("additional_model_request_fields", "cohere_documents"):
        value = po_raw.get(name) if isinstance(po_raw, Mapping) else getattr(po_raw, name)
        check_json_value(value, f"provider_options.{name}")


#: The option names ``build_chat_request`` takes: the keys of ``_options.ChatOptions`` (one list;
#: ``fallbacks`` is validated target by target in ``_fallback.plan_targets``).
_KNOWN_OPTS = frozenset(_options.ChatOptions.__optional_keys__)


def _check_names(opts: Mapping[str, Any]) -> None:
    if "messages" in opts:
        raise _fail(
            "is not an option: pass the conversation as prompt, the second argument "
            "(generate_text(model, [{'role': 'user', 'content': ...}, ...]); reqbed.from_openai converts "
            "OpenAI-shaped messages)",
            "messages",
        )
    unknown = set(opts) - _KNOWN_OPTS
    if unknown:
        raise _fail(f"unknown option(s) {sorted(unknown)}; known: {sorted(_KNOWN_OPTS)}", sorted(unknown)[0])


def _provider_options(opts: Mapping[str, Any]) -> ProviderOptions:
    po_raw = opts.get("provider_options") or {}
    if not isinstance(po_raw, (Mapping, ProviderOptions)):
        raise _fail(f"must be a dict, got {type(po_raw).__name__}", "provider_options")
    if isinstance(po_raw, ProviderOptions):
        return po_raw
    try:
        return msgspec.convert(dict(po_raw), ProviderOptions)
    except msgspec.ValidationError as e:
        # Never echo a secret's value back: msgspec messages name the field, not the value.
        raise _provider_options_error(str(e)) from None


def check_options(opts: Mapping[str, Any], *, where: str) -> None:
    """Validate call options given ahead of any call (``Client(defaults=...)``): the checks that need
    no model and no prompt. A failure names the field under ``where`` (``defaults.temperature``)."""
    try:
        _check_names(opts)
        po_raw = opts.get("provider_options") or {}
        _check_json_inputs(None, opts, po_raw if isinstance(po_raw, Mapping) else {})
        po = _provider_options(opts)
        if po.region is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", po.region):
            raise _fail(f"{shown(po.region)} is not an AWS region name", "provider_options.region")
        _number(opts, "timeout", 0.001, 86_400)
        _max_retries(opts)
        _positive_int(opts, "max_tokens")
        _number(opts, "temperature", 0.0, 2.0)
        _number(opts, "top_p", 0.0, 1.0)
        _positive_int(opts, "top_k", 10_000)
        _tools(opts.get("tools"))
        _thinking_budget(opts)
        if opts.get("system") is not None and not isinstance(opts["system"], str):
            raise _fail(f"must be a string, got {type(opts['system']).__name__}", "system")
    except ValidationError as e:
        text = e.message.removeprefix(f"{e.field}: ") if e.field else e.message
        raise _fail(text, f"{where}.{e.field}" if e.field else where) from None


def build_chat_request(model: str, prompt: Any, opts: Mapping[str, Any], *, stream: bool = False) -> ChatRequest:
    """Validate everything and return the normalized request."""
    _check_names(opts)
    if prompt is _options.NO_PROMPT:
        raise _fail("is required: a string or a list of messages, the second argument", "prompt")
    po_raw = opts.get("provider_options") or {}
    if not isinstance(po_raw, (Mapping, ProviderOptions)):
        raise _fail(f"must be a dict, got {type(po_raw).__name__}", "provider_options")
    _check_json_inputs(prompt, opts, po_raw)
    po = _provider_options(opts)
    spec = parse_model_spec(model, base_model=po.base_model, region=po.region)  # region: for aliases
    if po.region is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", po.region):
        raise _fail(f"{shown(po.region)} is not an AWS region name", "provider_options.region")
    if po.duration_seconds is not None and not 900 <= po.duration_seconds <= 43200:
        raise _fail("must be between 900 and 43200", "provider_options.duration_seconds")
    if po.cohere_documents is not None and (spec.family != "cohere" or po.use_converse):
        raise _fail(
            "is a field of Cohere Command R's native /invoke body: it needs a cohere model and use_converse unset",
            "provider_options.cohere_documents",
        )

    system, messages = _normalize_messages(prompt)
    sys_opt = opts.get("system")
    if sys_opt is not None:
        if not isinstance(sys_opt, str):
            raise _fail(f"must be a string, got {type(sys_opt).__name__}", "system")
        if sys_opt.strip():
            system = [TextPart(text=sys_opt), *system]

    stop = opts.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop)):
        raise _fail("must be a string or a list of non-empty strings", "stop")

    tools = _tools(opts.get("tools"))
    choice = opts.get("tool_choice")
    if choice is not None:
        if not isinstance(choice, str):
            raise _fail('must be "auto", "any", "none" or a tool name', "tool_choice")
        if choice == "required":  # OpenAI's name for "any"
            choice = "any"
        if choice == "any" and not tools:
            raise _fail(f"{opts['tool_choice']!r} needs tools: give tools=[...] too", "tool_choice")
        if choice not in ("auto", "any", "none") and choice not in {t.name for t in tools}:
            known = ", ".join(repr(t.name) for t in tools) or "none given"
            raise _fail(
                f'{choice!r} is not "auto", "any" ("required"), "none" or a given tool name (tools: {known})',
                "tool_choice",
            )

    timeout = _number(opts, "timeout", 0.001, 86_400)
    max_retries = _max_retries(opts)

    options = GenerationOptions(
        max_tokens=_positive_int(opts, "max_tokens"),
        temperature=_number(opts, "temperature", 0.0, 2.0),
        top_p=_number(opts, "top_p", 0.0, 1.0),
        top_k=_positive_int(opts, "top_k", 10_000),
        stop=list(stop or []),
        tools=tools,
        tool_choice=choice,
        thinking_budget=_thinking_budget(opts),
        reasoning_effort=opts.get("reasoning_effort"),
    )
    features = parse_features(opts, po.additional_model_response_field_paths)
    return ChatRequest(
        features=features,
        spec=spec,
        system=system,
        messages=messages,
        options=options,
        provider_options=po,
        stream=stream,
        timeout=timeout,
        max_retries=max_retries,
    )
