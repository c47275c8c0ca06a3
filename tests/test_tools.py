"""The tool runner: ``reqbed.tool`` schemas from signatures, ``run_tools`` / ``arun_tools``.

The loop's rules are tested against a scripted client (parallel calls, errors, step limit) and
the whole thing against the emulator over a real socket, sync and async (asyncio and trio).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import msgspec
import pytest

import reqbed
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"


@reqbed.tool
def get_weather(city: str, days: int = 1, unit: Literal["c", "f"] = "c") -> dict[str, Any]:
    """Weather for a city.

    Args:
        city: the city's name
        days: how many days
            ahead (a continued line)

    Returns:
        a forecast
    """
    return {"city": city, "days": days, "unit": unit, "temp": 18}


# -- reqbed.tool -------------------------------------------------------------------------------------


def test_tool_schema_from_signature_and_docstring() -> None:
    t = get_weather.tool
    assert t.name == "get_weather"
    assert t.description == "Weather for a city."
    assert t.parameters == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "the city's name"},
            "days": {"type": "integer", "default": 1, "description": "how many days ahead (a continued line)"},
            "unit": {"enum": ["c", "f"], "default": "c"},
        },
        "required": ["city"],
        "additionalProperties": False,
    }
    assert get_weather("Oslo") == {"city": "Oslo", "days": 1, "unit": "c", "temp": 18}  # still the function


class Point(msgspec.Struct):
    x: int
    y: int


def test_tool_with_name_nested_types_and_no_parameters() -> None:
    def move(points: list[Point]) -> int:
        return len(points)

    t = reqbed.tool(move, name="mover", description="Moves.").tool
    assert (t.name, t.description) == ("mover", "Moves.")
    assert t.parameters["properties"]["points"] == {"type": "array", "items": {"$ref": "#/$defs/Point"}}
    assert set(t.parameters["$defs"]) == {"Point"}

    @reqbed.tool()
    def now() -> str:
        return "noon"

    assert now.tool.parameters["properties"] == {}
    assert now.tool.parameters["type"] == "object"


def test_tool_refuses_untyped_and_star_parameters() -> None:
    def untyped(x):  # type: ignore[no-untyped-def]
        return x

    def star(*args: int) -> None: ...

    with pytest.raises(reqbed.ValidationError, match="'x' has no type annotation"):
        reqbed.tool(untyped)
    with pytest.raises(reqbed.ValidationError, match=r"takes \*args"):
        reqbed.tool(star)


# -- the loop, against a scripted client ---------------------------------------------------------------


def _answer(*calls: reqbed.ToolCall, text: str = "") -> reqbed.Response:
    parts: list[Any] = ([reqbed.TextPart(text=text)] if text else []) + list(calls)
    return reqbed.Response(
        text=text,
        thinking=None,
        tool_calls=list(calls),
        finish_reason="tool_calls" if calls else "stop",
        usage=reqbed.Usage(input_tokens=10, output_tokens=2, total_tokens=12),
        model="m",
        message=reqbed.Message(role="assistant", content=parts),
    )


class Scripted:
    """A stand-in ``Client``: answers in order and keeps each prompt it was sent (copied)."""

    def __init__(self, answers: Sequence[reqbed.Response]) -> None:
        self.answers = list(answers)
        self.prompts: list[list[reqbed.Message]] = []
        self.opts: list[dict[str, Any]] = []

    def generate_text(self, model: str, prompt: list[reqbed.Message], **opts: Any) -> reqbed.Response:
        self.prompts.append(list(prompt))
        self.opts.append(opts)
        return self.answers.pop(0)

    async def agenerate_text(self, model: str, prompt: list[reqbed.Message], **opts: Any) -> reqbed.Response:
        return self.generate_text(model, prompt, **opts)


def _call(i: int, name: str = "get_weather", **args: Any) -> reqbed.ToolCall:
    return reqbed.ToolCall(id=f"t{i}", name=name, arguments=args)


def boom(city: str) -> str:
    """Always fails."""
    raise RuntimeError(f"no data for {city}")


async def slow_weather(city: str) -> str:
    """An async tool."""
    import anyio

    await anyio.sleep(0)
    return f"sunny in {city}"


def _script() -> Scripted:
    first = _answer(
        _call(1, city="Paris"),
        _call(2, "boom", city="Rome"),
        _call(3, "nope"),
        _call(4, days="many"),
        _call(5, "slow_weather", city="Oslo"),
        text="Let me check.",
    )
    return Scripted([first, _answer(text="Done.")])


def _check_run(run: reqbed.ToolRun, client: Scripted) -> None:
    assert run.text == "Done."
    assert run.steps == 2
    assert run.usage == reqbed.Usage(input_tokens=20, output_tokens=4, total_tokens=24)
    # user, the assistant turn ONCE, ONE tool turn answering all five calls, the final answer
    assert [m.role for m in run.messages] == ["user", "assistant", "user", "assistant"]
    results = run.messages[2].content
    assert isinstance(results, list)
    assert [r.tool_call_id for r in results if isinstance(r, reqbed.ToolResultPart)] == ["t1", "t2", "t3", "t4", "t5"]
    by_id = {r.tool_call_id: r for r in results if isinstance(r, reqbed.ToolResultPart)}
    assert msgspec.json.decode(str(by_id["t1"].content)) == {"city": "Paris", "days": 1, "unit": "c", "temp": 18}
    assert not by_id["t1"].is_error
    assert by_id["t2"].is_error
    assert by_id["t2"].content == "RuntimeError: no data for Rome"
    assert by_id["t3"].is_error
    assert "unknown tool 'nope'" in str(by_id["t3"].content)
    assert by_id["t4"].is_error
    assert "invalid arguments for get_weather" in str(by_id["t4"].content)
    assert by_id["t5"].content == "sunny in Oslo"
    assert not by_id["t5"].is_error
    # the second call was sent the whole transcript so far, and every call the tools' schemas
    assert client.prompts[1] == run.messages[:3]
    assert [t.name for t in client.opts[0]["tools"]] == ["get_weather", "boom", "slow_weather"]
    assert client.opts[0]["max_tokens"] == 99


def test_run_tools_answers_parallel_calls_in_one_turn_and_returns_errors() -> None:
    client = _script()
    tools = [get_weather, boom, slow_weather]
    run = reqbed.run_tools(MODEL, "Weather?", tools=tools, client=client, max_tokens=99)  # type: ignore[arg-type]
    _check_run(run, client)


@pytest.mark.anyio
async def test_arun_tools_answers_parallel_calls_in_one_turn_and_returns_errors() -> None:
    client = _script()
    tools = [get_weather, boom, slow_weather]
    run = await reqbed.arun_tools(MODEL, "Weather?", tools=tools, client=client, max_tokens=99)  # type: ignore[arg-type]
    _check_run(run, client)


def test_max_steps_raises_with_the_transcript() -> None:
    client = Scripted([_answer(_call(i, city="X")) for i in range(3)])
    with pytest.raises(reqbed.MaxStepsError, match="max_steps=3") as e:
        reqbed.run_tools(MODEL, "Loop", tools=[get_weather], max_steps=3, client=client)  # type: ignore[arg-type]
    assert isinstance(e.value, reqbed.ReqbedError)
    assert [m.role for m in e.value.messages] == ["user"] + ["assistant", "user"] * 3
    assert e.value.usage.total_tokens == 36
    assert e.value.response.tool_calls[0].id == "t2"


def test_run_tools_refuses_bad_input_before_calling() -> None:
    client = Scripted([])
    for kwargs, field in [
        ({"tools": []}, "tools"),
        ({"tools": [reqbed.Tool(name="x")]}, "tools[0]"),
        ({"tools": [get_weather, get_weather]}, "tools[1]"),
        ({"tools": [get_weather], "max_steps": 0}, "max_steps"),
        ({"tools": [get_weather], "tool_choice": "any"}, "tool_choice"),
    ]:
        with pytest.raises(reqbed.ValidationError) as e:
            reqbed.run_tools(MODEL, "x", client=client, **kwargs)  # type: ignore[arg-type]
        assert e.value.field == field
    assert client.prompts == []


# -- against the emulator ------------------------------------------------------------------------------


def _po(emu: Emulator) -> Any:
    return {**emu.provider_options(), "use_converse": True}


def test_run_tools_against_the_emulator(emulator: Emulator) -> None:
    run = reqbed.run_tools(MODEL, "Use get_weather please", tools=[get_weather], provider_options=_po(emulator))
    assert run.steps == 2
    assert run.text == 'Tool results: {"city":"example","days":2,"unit":"c","temp":18}'
    assert run.usage.total_tokens > run.response.usage.total_tokens  # both model calls counted
    prompt = [*run.messages, {"role": "user", "content": "thanks"}]  # the transcript continues as is
    follow = reqbed.generate_text(MODEL, prompt, tools=[get_weather.tool], provider_options=_po(emulator))
    assert follow.text == "You said: thanks"


@pytest.mark.anyio
async def test_arun_tools_against_the_emulator(emulator: Emulator) -> None:
    run = await reqbed.arun_tools(MODEL, "Use get_weather please", tools=[get_weather], provider_options=_po(emulator))
    assert run.steps == 2
    assert run.text.startswith("Tool results: ")
    assert run.usage.total_tokens > run.response.usage.total_tokens
