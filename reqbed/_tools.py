"""The tool runner: ``reqbed.tool`` (a ``Tool`` from a typed Python function) and ``run_tools``.

``run_tools(model, prompt, tools=[fn, ...])`` calls the model; while it asks for tools, it runs
every call of the turn (sync or async functions), sends all the results back in ONE tool turn
(Bedrock refuses a turn that leaves a ``tool_use`` id unanswered), and calls the model again, up to
``max_steps`` model calls. A tool that raises, an unknown tool name or arguments that do not fit the
signature are answered as error results (``is_error``: Bedrock's ``status: "error"``), so the
model can recover; they never escape. Reaching ``max_steps`` raises ``MaxStepsError`` with the
transcript. docs/tools.md is the user's guide.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_type_hints, overload

import msgspec

from ._errors import ReqbedError, ValidationError
from ._types import Message, Response, TextPart, Tool, ToolCall, ToolResultPart, Usage

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._client import Client
    from ._options import Prompt, ToolRunOptions

__all__ = ["MaxStepsError", "ToolFunction", "ToolRun", "arun_tools", "run_tools", "tool"]

F = TypeVar("F", bound=Callable[..., Any])

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Returns?|Raises|Yields?|Examples?|Notes?|Attributes|See Also):\s*$"
)
_ARG_LINE = re.compile(r"^\s+(\*{0,2}\w+)(?:\s*\([^)]*\))?:\s*(.*)$")


class ToolFunction(Generic[F]):
    """A Python function and the ``Tool`` that describes it (``.tool``). Calling it calls the function."""

    __slots__ = ("__wrapped__", "_args", "_params", "tool")

    def __init__(self, fn: F, *, name: str | None = None, description: str | None = None) -> None:
        self.__wrapped__ = fn
        doc_text, arg_docs = _parse_doc(inspect.getdoc(fn) or "")
        self._args, self._params = _arguments_struct(fn, arg_docs)
        schema = _schema(self._args)
        self.tool = Tool(
            name=name or fn.__name__,
            description=description if description is not None else doc_text,
            parameters=schema,
        )

    def __repr__(self) -> str:
        return f"ToolFunction({self.tool.name!r})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    def _bind(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The model's arguments converted to the signature's types (``msgspec.ValidationError`` if not)."""
        args = msgspec.convert(dict(arguments), self._args, strict=False)
        return {p: getattr(args, p) for p in self._params}


@overload
def tool(fn: F, /) -> ToolFunction[F]: ...
@overload
def tool(*, name: str | None = None, description: str | None = None) -> Callable[[F], ToolFunction[F]]: ...
def tool(
    fn: F | None = None, /, *, name: str | None = None, description: str | None = None
) -> ToolFunction[F] | Callable[[F], ToolFunction[F]]:
    """Describe a typed Python function as a tool: ``@reqbed.tool`` or ``reqbed.tool(fn)``.

    The name is the function's; the description its docstring (without the ``Args:`` section); the
    parameters schema comes from the signature's annotations (msgspec's JSON schema: ``int``,
    ``str``, ``Literal``, ``list[...]``, ``TypedDict``, msgspec Structs, dataclasses ...), each
    parameter described by its ``Args:`` line. Parameters with defaults are optional.
    """
    if fn is None:
        return lambda f: ToolFunction(f, name=name, description=description)
    return ToolFunction(fn, name=name, description=description)


def _parse_doc(doc: str) -> tuple[str, dict[str, str]]:
    """The docstring's text before its first Google-style section, and its ``Args:`` lines."""
    text: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    last: str | None = None
    for line in doc.splitlines():
        header = _SECTION.match(line)
        if header:
            section = "args" if header[1] in ("Args", "Arguments", "Parameters") else "other"
            continue
        if section is None:
            text.append(line)
        elif section == "args":
            m = _ARG_LINE.match(line)
            if m:
                last = m[1].lstrip("*")
                args[last] = m[2].strip()
            elif line.strip() and last:
                args[last] = f"{args[last]} {line.strip()}".strip()
    return "\n".join(text).strip(), args


def _arguments_struct(fn: Callable[..., Any], docs: Mapping[str, str]) -> tuple[type[msgspec.Struct], list[str]]:
    try:
        hints = get_type_hints(fn, include_extras=True)
    except Exception as e:  # a name the annotations use is not importable here
        raise ValidationError(f"cannot read the annotations of {fn.__name__}: {e}", field="tools") from None
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    names: list[str] = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValidationError(f"{fn.__name__} takes *{p.name}: a tool needs named parameters", field="tools")
        if p.name not in hints:
            raise ValidationError(f"{fn.__name__}'s parameter {p.name!r} has no type annotation", field="tools")
        typ = hints[p.name]
        if p.name in docs:
            from typing import Annotated

            typ = Annotated[typ, msgspec.Meta(description=docs[p.name])]
        fields.append((p.name, typ) if p.default is p.empty else (p.name, typ, p.default))
        names.append(p.name)
    struct = msgspec.defstruct(f"{fn.__name__}_arguments", fields, kw_only=True, forbid_unknown_fields=True)
    return struct, names


def _schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The arguments object's JSON schema, inlined (other types it uses stay under ``$defs``)."""
    (ref,), components = msgspec.json.schema_components([struct], ref_template="#/$defs/{name}")
    name = ref["$ref"].rsplit("/", 1)[1]
    schema: dict[str, Any] = dict(components.pop(name))
    schema.pop("title", None)
    schema.setdefault("properties", {})
    if components:
        schema["$defs"] = components
    return schema


# -- the run -----------------------------------------------------------------------------------------


class ToolRun(msgspec.Struct, kw_only=True):
    """What ``run_tools`` returns: ``response`` (the model's last answer), ``messages`` (the whole
    transcript, the prompt's turns first, ready to append to and continue), ``usage`` (summed over
    every model call) and ``steps`` (the number of model calls)."""

    response: Response
    messages: list[Message]
    usage: Usage
    steps: int

    @property
    def text(self) -> str:
        """The final answer's text."""
        return self.response.text


class MaxStepsError(ReqbedError):
    """``run_tools`` made ``max_steps`` model calls and the model still asked for tools.

    ``messages`` is the transcript (it ends with the last turn's tool results, so
    ``generate_text(model, e.messages, tools=...)`` continues it), ``usage`` the summed usage and
    ``response`` the last answer."""

    def __init__(self, message: str, *, messages: list[Message], usage: Usage, response: Response) -> None:
        super().__init__(message)
        self.messages = messages
        self.usage = usage
        self.response = response


ToolLike = Callable[..., Any]


def _tool_functions(tools: Sequence[ToolLike]) -> dict[str, ToolFunction[Any]]:
    if isinstance(tools, (str, bytes)) or not isinstance(tools, Sequence) or not tools:
        raise ValidationError("must be a non-empty list of functions (or reqbed.tool(...) objects)", field="tools")
    out: dict[str, ToolFunction[Any]] = {}
    for i, t in enumerate(tools):
        if isinstance(t, Tool):
            raise ValidationError(
                "a reqbed.Tool has no function to run: give the function (or @reqbed.tool)", field=f"tools[{i}]"
            )
        if not callable(t):
            raise ValidationError(f"must be a function, got {type(t).__name__}", field=f"tools[{i}]")
        fn = t if isinstance(t, ToolFunction) else ToolFunction(t)
        if fn.tool.name in out:
            raise ValidationError(f"duplicate tool name {fn.tool.name!r}", field=f"tools[{i}]")
        out[fn.tool.name] = fn
    return out


def _transcript(prompt: Prompt) -> list[Message]:
    from ._request import _message  # the prompt's own validation, dicts and Messages alike

    if isinstance(prompt, str):
        return [Message(role="user", content=[TextPart(text=prompt)])]
    if isinstance(prompt, Message):
        return [prompt]
    if isinstance(prompt, (bytes, bytearray)) or not isinstance(prompt, Sequence):
        raise ValidationError(f"must be a string or a list of messages, got {type(prompt).__name__}", field="prompt")
    return [_message(m, f"prompt[{i}]") for i, m in enumerate(prompt)]


def _check_opts(opts: Mapping[str, Any]) -> None:
    if "tool_choice" in opts:
        raise ValidationError("run_tools lets the model choose: give no tool_choice", field="tool_choice")


def _result(call: ToolCall, value: Any) -> ToolResultPart:
    content = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return ToolResultPart(tool_call_id=call.id, content=content)


def _failure(call: ToolCall, error: BaseException | str) -> ToolResultPart:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return ToolResultPart(tool_call_id=call.id, content=text, is_error=True)


def _prepare_call(
    fns: Mapping[str, ToolFunction[Any]], call: ToolCall
) -> tuple[ToolFunction[Any], dict[str, Any]] | str:
    fn = fns.get(call.name)
    if fn is None:
        return f"unknown tool {call.name!r}; the tools are {sorted(fns)}"
    try:
        return fn, fn._bind(call.arguments)
    except msgspec.ValidationError as e:
        return f"invalid arguments for {call.name}: {e}"


def _run_sync(fns: Mapping[str, ToolFunction[Any]], call: ToolCall) -> ToolResultPart:
    prepared = _prepare_call(fns, call)
    if isinstance(prepared, str):
        return _failure(call, prepared)
    fn, kwargs = prepared
    try:
        value = fn.__wrapped__(**kwargs)
        if inspect.isawaitable(value):
            import anyio

            value = anyio.run(_await, value)
    except Exception as e:
        return _failure(call, e)
    return _result(call, value)


async def _await(value: Awaitable[Any]) -> Any:
    return await value


async def _run_async(fns: Mapping[str, ToolFunction[Any]], call: ToolCall) -> ToolResultPart:
    prepared = _prepare_call(fns, call)
    if isinstance(prepared, str):
        return _failure(call, prepared)
    fn, kwargs = prepared
    try:
        value = fn.__wrapped__(**kwargs)
        if inspect.isawaitable(value):
            value = await value
    except Exception as e:
        return _failure(call, e)
    return _result(call, value)


def _step_done(resp: Response, messages: list[Message], usage: Usage, step: int) -> ToolRun | None:
    messages.append(resp.message)  # once per answer, whatever the number of its tool calls
    if not resp.tool_calls:
        return ToolRun(response=resp, messages=messages, usage=usage, steps=step)
    return None


def _check_steps(max_steps: int) -> None:
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValidationError(f"must be a positive integer, got {max_steps!r}", field="max_steps")


def _too_many(max_steps: int, messages: list[Message], usage: Usage, resp: Response) -> MaxStepsError:
    return MaxStepsError(
        f"the model still asked for tools after max_steps={max_steps} model calls",
        messages=messages,
        usage=usage,
        response=resp,
    )


def run_tools(
    client: Client,
    model: str,
    prompt: Prompt,
    *,
    tools: Sequence[ToolLike],
    max_steps: int = 10,
    **opts: Unpack[ToolRunOptions],
) -> ToolRun:
    """``reqbed.run_tools`` through ``client`` (the facade passes the default client)."""
    _check_steps(max_steps)
    _check_opts(opts)
    fns = _tool_functions(tools)
    messages = _transcript(prompt)
    specs = [f.tool for f in fns.values()]
    usage = Usage()
    for step in range(1, max_steps + 1):
        resp = client.generate_text(model, messages, tools=specs, **opts)
        usage += resp.usage
        done = _step_done(resp, messages, usage, step)
        if done is not None:
            return done
        results: list[Any] = [_run_sync(fns, c) for c in resp.tool_calls]
        messages.append(Message(role="user", content=results))  # ONE turn answers every call
    raise _too_many(max_steps, messages, usage, resp)


async def _run_turn(fns: Mapping[str, ToolFunction[Any]], calls: Sequence[ToolCall]) -> list[Any]:
    """Every call of one turn, concurrently; the results in the calls' order."""
    import anyio

    results: list[Any] = [None] * len(calls)

    async def one(i: int, call: ToolCall) -> None:
        results[i] = await _run_async(fns, call)

    async with anyio.create_task_group() as tg:
        for i, call in enumerate(calls):
            tg.start_soon(one, i, call)
    return results


async def arun_tools(
    client: Client,
    model: str,
    prompt: Prompt,
    *,
    tools: Sequence[ToolLike],
    max_steps: int = 10,
    **opts: Unpack[ToolRunOptions],
) -> ToolRun:
    """Async ``run_tools`` (asyncio or trio): a turn's tool calls run concurrently (async functions;
    sync functions run in the event loop's thread, one after the other)."""
    _check_steps(max_steps)
    _check_opts(opts)
    fns = _tool_functions(tools)
    messages = _transcript(prompt)
    specs = [f.tool for f in fns.values()]
    usage = Usage()
    for step in range(1, max_steps + 1):
        resp = await client.agenerate_text(model, messages, tools=specs, **opts)
        usage += resp.usage
        done = _step_done(resp, messages, usage, step)
        if done is not None:
            return done
        results = await _run_turn(fns, resp.tool_calls)
        messages.append(Message(role="user", content=results))
    raise _too_many(max_steps, messages, usage, resp)
