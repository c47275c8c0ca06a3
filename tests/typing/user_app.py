"""A user's module written from README.md and docs/ (getting-started, streaming, errors, testing, options).

It is never run (it would call Bedrock): ``test_type_check.py`` type-checks it with ``mypy --strict`` and
``pyright`` (strict) and expects 0 errors, so the documented calls stay well typed: options are checked
(``ChatOptions``), ``provider_options`` keys are checked (``ProviderOptions``), and ``chunk.type == "text"``
narrows a ``Chunk`` to a ``TextChunk``.
"""

from __future__ import annotations

from typing import Any

import msgspec

import reqbed
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0"
FALLBACK = "bedrock:us.anthropic.claude-3-5-sonnet-20240620-v1:0"


def hello() -> str:
    resp = reqbed.generate_text(MODEL, "Hello", provider_options={"region": "us-east-1"})
    print(resp.text, resp.usage.total_tokens, resp.finish_reason)
    return resp.text


def tool_round_trip() -> reqbed.Response:
    weather = reqbed.Tool(
        name="get_weather",
        description="Weather for a city",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    prompt: list[reqbed.Message | dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    resp = reqbed.generate_text(MODEL, prompt, tools=[weather], tool_choice="auto", max_tokens=512)
    if resp.tool_calls:
        prompt.append(resp.message)
        results = [
            {"type": "tool_result", "tool_call_id": call.id, "content": f"18°C in {call.arguments.get('city')}"}
            for call in resp.tool_calls
        ]
        prompt.append({"role": "tool", "content": results})
    return reqbed.generate_text(MODEL, prompt, tools=[weather])


def every_option() -> reqbed.Response:
    return reqbed.generate_text(
        MODEL,
        [reqbed.Message(role="user", content="Think, then answer.")],
        system="You are terse.",
        max_tokens=4096,
        temperature=1.0,
        top_p=0.99,
        stop=["\n\nHuman:"],
        thinking={"budget_tokens": 2048},
        timeout=60.0,
        max_retries=2,
        fallbacks=[{"model": FALLBACK, "provider_options": {"region": "us-west-2"}}, {"model": FALLBACK}],
        provider_options={
            "region": "us-east-1",
            "profile": "dev",
            "anthropic_prompt_cache": True,
            "anthropic_prompt_cache_ttl": "5m",
            "additional_model_request_fields": {"anthropic_beta": ["token-efficient-tools-2025-02-19"]},
        },
    )


def options_built_apart(prompt: str) -> str:
    options: reqbed.ChatOptions = {"max_tokens": 200, "reasoning_effort": "low"}
    provider: reqbed.ProviderOptions = {"api_key": "ABSK-example", "region": "eu-west-1"}
    options["provider_options"] = provider
    return reqbed.generate_text(MODEL, prompt, **options).text


def stream_with_narrowing() -> reqbed.Response:
    text: list[str] = []
    with reqbed.stream_text(MODEL, "Tell me a joke", max_tokens=300) as stream:
        for chunk in stream:
            if chunk.type == "text":
                text.append(chunk.text)
            elif chunk.type == "thinking":
                print("thinking:", chunk.text, chunk.signature is not None)
            elif chunk.type == "tool_call_delta":
                print(chunk.index, chunk.name, chunk.arguments_delta)
            elif chunk.type == "tool_call":
                print(chunk.tool_call.name, chunk.tool_call.arguments)
            elif chunk.type == "usage":
                print(chunk.usage.input_tokens, chunk.usage.output_tokens)
            elif chunk.type == "citation":
                print("cites:", chunk.citation)
            elif chunk.type == "guardrail":
                print("guardrail:", chunk.result.action)
            else:
                print("finished:", chunk.finish_reason)
        resp = stream.response()
    assert resp.text == "".join(text)
    return resp


def stream_text_only() -> str:
    with reqbed.stream_text("bedrock:us.amazon.nova-lite-v1:0", "Tell me a joke") as stream:
        for piece in stream.text_stream():
            print(piece, end="")
        return stream.response().text


def message_parts(resp: reqbed.Response) -> list[str]:
    content = resp.message.content
    out: list[str] = []
    for part in [] if isinstance(content, str) else content:
        if part.type == "text":
            out.append(part.text)
        elif part.type == "tool_call":
            out.append(part.name)
    return out


async def async_calls() -> str:
    resp = await reqbed.agenerate_text("bedrock:meta.llama3-3-70b-instruct-v1:0", "Hi", max_tokens=64)
    pieces: list[str] = [resp.text]
    async with await reqbed.astream_text(MODEL, "Count to three", temperature=0.2) as stream:
        async for chunk in stream:
            if chunk.type == "text":
                pieces.append(chunk.text)
        final = await stream.response()
    return "".join(pieces) + final.finish_reason


def errors() -> str | None:
    try:
        reqbed.generate_text(MODEL, "Hi", max_retries=0)
    except reqbed.ThrottlingError as e:
        print("slow down", e.retry_after, e.request_id)
    except reqbed.APIConnectionError as e:
        print("unreachable", e)
    except reqbed.ValidationError as e:
        return e.field
    except reqbed.ReqbedError as e:
        print("failed", e)
    return None


def against_the_emulator() -> None:
    with Emulator() as emu:
        r = reqbed.generate_text(MODEL, "Hello", provider_options=emu.provider_options())
        assert r.text == "You said: Hello"
        emu.inject("throttling", retry_after=2)
        try:
            reqbed.generate_text(MODEL, "Hi", max_retries=0, provider_options=emu.provider_options())
        except reqbed.ThrottlingError as e:
            print(e.status, e.retry_after)


def embeddings() -> list[list[float | int]]:  # docs/embeddings.md
    resp = reqbed.embed("bedrock:amazon.titan-embed-text-v2:0", ["first", "second"], dimensions=512, normalize=True)
    png = reqbed.ImagePart(data=b"\x89PNG", media_type="image/png")
    reqbed.embed("bedrock:cohere.embed-v4:0", ["page one", png, ["figure 3", png]], embedding_type="int8")
    print(resp.usage.input_tokens, resp.dimensions, resp.cost.total)
    return resp.vectors


async def aembeddings() -> int:
    resp = await reqbed.aembed("bedrock:cohere.embed-english-v3", "a query", input_type="search_query")
    return len(resp)


def counting() -> int:  # docs/count-tokens.md
    n = reqbed.count_tokens(MODEL, "How long is this?", system="Be brief.", max_tokens=100)
    return n + reqbed.count_tokens("bedrock:amazon.nova-pro-v1:0", "How long?", estimate=True)


async def acounting() -> int:
    return await reqbed.acount_tokens(MODEL, [{"role": "user", "content": "Hi"}])


class Person(msgspec.Struct):
    name: str
    age: int


def structured_output() -> Person:
    """docs/structured-output.md: ``.object`` is a ``Person`` for a class, ``Any`` for a dict schema."""
    out = reqbed.generate_object(MODEL, "Invent a person", Person, schema_name="person", mode="auto", max_tokens=300)
    person: Person = out.object
    print(person.age + 1, out.usage.total_tokens, out.finish_reason, out.cost.total, out.response.text)
    loose = reqbed.generate_object(MODEL, "Invent a person", {"type": "object"}, schema_description="A person")
    print(loose.object["name"])
    with reqbed.stream_object(MODEL, "Invent a team", list[Person]) as stream:
        for partial in stream.partial_objects():
            print(partial)
        team: list[Person] = stream.response().object
    print(len(team))
    return person


async def astructured_output() -> Person:
    out = await reqbed.agenerate_object(MODEL, "Invent a person", Person, thinking={"budget_tokens": 1024})
    stream: reqbed.AsyncObjectStreamResponse[Person] = await reqbed.astream_object(MODEL, "Invent a person", Person)
    async with stream:
        async for partial in stream.partial_objects():
            print(partial)
        print((await stream.response()).object.name)
    with reqbed.Client() as client:
        mine: Person = client.generate_object(MODEL, "Invent a person", Person, mode="tool").object
        print(mine)
    return out.object


def client_calls() -> str:
    """``Client`` methods take the same typed prompt and options as the module functions (docs/options.md)."""
    prompt: list[reqbed.Message | dict[str, Any]] = [
        {"role": "user", "content": "Hi"},
        reqbed.Message(role="assistant", content="Hello"),
        {"role": "user", "content": "Bye"},
    ]
    with reqbed.Client(region="us-east-1", defaults={"max_tokens": 256, "temperature": 0.0}) as client:
        resp = client.generate_text(MODEL, prompt, max_tokens=64, provider_options={"region": "us-west-2"})
        with client.stream_text(MODEL, "Hi", temperature=0.5) as stream:
            for chunk in stream:
                if chunk.type == "text":
                    print(chunk.text)
        return resp.text + str(resp.usage + resp.usage)


async def aclient_calls() -> str:
    async with reqbed.Client() as client:
        resp = await client.agenerate_text(MODEL, [reqbed.Message(role="user", content="Hi")], max_tokens=64)
        stream = await client.astream_text(MODEL, "Hi", stop=["\n"])
        async for text in stream.text_stream():
            print(text)
        return resp.text


@reqbed.tool
def get_weather(city: str, days: int = 1) -> dict[str, Any]:
    """Weather for a city.

    Args:
        city: the city's name
        days: how many days ahead
    """
    return {"city": city, "days": days, "temp_c": 18}


def tool_runner() -> str:
    run = reqbed.run_tools(MODEL, "Weather in Paris?", tools=[get_weather], max_steps=5, max_tokens=512)
    run.messages.append(reqbed.Message(role="user", content="And tomorrow?"))
    total: reqbed.Usage = run.usage + sum([run.usage], reqbed.Usage())
    try:
        reqbed.run_tools(MODEL, run.messages, tools=[get_weather])
    except reqbed.MaxStepsError as e:
        print(len(e.messages), e.usage.total_tokens)
    return run.text + str(total.total_tokens) + str(get_weather.tool.parameters)
