"""The emulator's native bodies for Cohere Command R / R+, OpenAI gpt-oss and Meta Llama 3.x.

Listed in the emulator's responder table (``_responders``); the emulator turns ``BadRequest`` into a 400
``ValidationException`` and wraps each stream event in a ``chunk`` event. Each handler checks the
request's shape as AWS documents it (required fields, types, ranges; unknown top-level fields are
refused for Cohere and Llama, as Bedrock does) and answers deterministically, like
``_converse_responder`` (tokens are whitespace-separated words):

- tool results in the last turn -> ``"Tool results: <their text>"``;
- a tool named in the last user text (Cohere, gpt-oss) or forced by ``tool_choice`` (gpt-oss)
  -> a call of that tool with arguments made from its schema;
- otherwise ``"You said: <last user text>"``.
The token limit cuts the answer word by word (``MAX_TOKENS`` / ``length``); a stop sequence cuts
it too. gpt-oss answers start with ``<reasoning>...</reasoning>``; its streams wrap each reasoning
piece in its own tags, as Bedrock's recorded streams do. Every stream's last chunk carries
``amazon-bedrock-invocationMetrics``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from ._converse_responder import BadRequest, arguments_for

__all__ = ["handle_cohere", "handle_meta", "handle_openai"]

Handler = Callable[[str, dict[str, Any]], tuple[dict[str, Any], list[dict[str, Any]]]]


def _words(text: str) -> int:
    return len(text.split())


def _limit(text: str, budget: int | None, stops: list[str]) -> tuple[str, str | None]:
    """(text, "stop" | "length" | None): cut at the first stop sequence, then to ``budget`` words."""
    reason = None
    for s in stops:
        at = text.find(s)
        if at >= 0:
            text, reason = text[:at], "stop"
    if budget is not None and _words(text) > budget:
        text, reason = " ".join(text.split()[:budget]), "length"
    return text, reason


def _pieces(text: str) -> list[str]:
    """``text`` cut before each run of whitespace: the pieces join back to exactly ``text``."""
    return [p for p in re.split(r"(?<=\S)(?=\s)", text) if p]


def _metrics(inp: int, out: int) -> dict[str, int]:
    return {"inputTokenCount": inp, "outputTokenCount": out, "invocationLatency": 1, "firstByteLatency": 1}


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _number(body: dict[str, Any], name: str, lo: float, hi: float, *, integer: bool = False) -> None:
    v = body.get(name)
    if v is None:
        return
    ok = isinstance(v, int) if integer else isinstance(v, (int, float))
    if isinstance(v, bool) or not ok or not lo <= v <= hi:
        raise BadRequest(f"{name}: must be {'an integer' if integer else 'a number'} between {lo} and {hi}")


def _closed(keys: set[str], allowed: frozenset[str]) -> None:
    for k in sorted(keys - allowed):
        raise BadRequest(f"Malformed input request: extraneous key [{k}] is not permitted, please reformat your input")


def _guarded(handler: Handler) -> Handler:
    """Any shape the checks missed is still a 400, never a dropped connection."""

    def run(model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        try:
            return handler(model_id, body)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise BadRequest(f"Malformed input request: {type(e).__name__}: {e}") from None

    return run


# -- Cohere Command R / R+ ---------------------------------------------------------------------

#: The request fields AWS documents for Command R / R+.
_COHERE_FIELDS = frozenset(
    {
        *("message", "chat_history", "documents", "search_queries_only", "preamble", "max_tokens"),
        *("temperature", "p", "k", "prompt_truncation", "frequency_penalty", "presence_penalty", "seed"),
        *("return_prompt", "tools", "tool_results", "stop_sequences", "raw_prompting"),
    }
)
_COHERE_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object"}


def _cohere_call(c: Any, where: str) -> None:
    if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not isinstance(c.get("parameters", {}), dict):
        raise BadRequest(f"{where}: a tool call is {{name: string, parameters: object}}")


def _cohere_results(results: Any, where: str) -> None:
    if not isinstance(results, list) or not results:
        raise BadRequest(f"{where}: must be a non-empty list")
    for r in results:
        _cohere_call(r.get("call") if isinstance(r, dict) else None, f"{where}.call")
        outputs = r.get("outputs")
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            raise BadRequest(f"{where}.outputs: must be a list of objects")


def _cohere_validate(body: dict[str, Any]) -> None:
    _closed(set(body), _COHERE_FIELDS)
    if not isinstance(body.get("message"), str):
        raise BadRequest("Malformed input request: required key [message] not found")
    if not body["message"].strip() and not body.get("tool_results"):
        raise BadRequest("message: must not be empty")
    uses_tools = bool(body.get("tool_results"))
    for i, h in enumerate(body.get("chat_history") or []):
        role = h.get("role") if isinstance(h, dict) else None
        if role not in ("USER", "CHATBOT", "SYSTEM", "TOOL"):
            raise BadRequest(f"chat_history.{i}.role: must be USER, CHATBOT, SYSTEM or TOOL")
        if role == "TOOL":
            _cohere_results(h.get("tool_results"), f"chat_history.{i}.tool_results")
            uses_tools = True
            continue
        if not isinstance(h.get("message"), str) or (role != "CHATBOT" and not h["message"].strip()):
            raise BadRequest(f"chat_history.{i}.message: must be a non-empty string")
        for c in h.get("tool_calls") or []:
            _cohere_call(c, f"chat_history.{i}.tool_calls")
            uses_tools = True
    names: set[str] = set()
    for t in body.get("tools") or []:
        if not isinstance(t, dict) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(t.get("name"))):
            raise BadRequest("tools: each tool needs a name")
        if not isinstance(t.get("description"), str) or not isinstance(t.get("parameter_definitions", {}), dict):
            raise BadRequest(f"tools.{t['name']}: description must be a string, parameter_definitions an object")
        for p in (t.get("parameter_definitions") or {}).values():
            if not isinstance(p, dict) or not isinstance(p.get("type"), str):
                raise BadRequest(f"tools.{t['name']}.parameter_definitions: each needs a type")
        names.add(t["name"])
    if body.get("tool_results") is not None:
        _cohere_results(body["tool_results"], "tool_results")
        for r in body["tool_results"]:
            if r["call"]["name"] not in names:
                raise BadRequest(f"tool_results: {r['call']['name']!r} is not one of the tools")
    if uses_tools and not names:
        raise BadRequest("tools must be given when the request holds tool calls or tool results")
    docs = body.get("documents")
    if docs is not None and (
        not isinstance(docs, list)
        or not all(isinstance(d, dict) and d for d in docs)
        or not all(isinstance(v, str) for d in docs for v in d.values())
    ):
        raise BadRequest("documents: must be a list of objects of strings")
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops)):
        raise BadRequest("stop_sequences: must be a list of non-empty strings")
    if body.get("preamble") is not None and not isinstance(body["preamble"], str):
        raise BadRequest("preamble: must be a string")
    _number(body, "temperature", 0, 1)
    _number(body, "p", 0.01, 0.99)
    _number(body, "k", 0, 500, integer=True)
    _number(body, "max_tokens", 1, 4000, integer=True)


def _cohere_arguments(definitions: dict[str, Any]) -> dict[str, Any]:
    props = {}
    for name, d in definitions.items():
        t = d["type"]
        props[name] = {"type": "array" if t.startswith(("List", "list")) else _COHERE_TYPES.get(t, "string")}
    return arguments_for({"properties": props})


@_guarded
def handle_cohere(model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Command R / R+ chat: (response body, stream events)."""
    _cohere_validate(body)
    history = body.get("chat_history") or []
    tools = {t["name"]: t for t in body.get("tools") or []}
    message = body["message"]
    calls: list[dict[str, Any]] = []
    if body.get("tool_results"):
        outputs = [" ".join(str(v) for o in r["outputs"] for v in o.values()) for r in body["tool_results"]]
        text = "Tool results: " + "; ".join(outputs)
    else:
        named = next((n for n in tools if n in message), None)
        if named is not None:
            calls = [{"name": named, "parameters": _cohere_arguments(tools[named].get("parameter_definitions") or {})}]
            text = f"I will use {named}."
        else:
            text = f"You said: {message}"
    text, cut = _limit(text, body.get("max_tokens"), body.get("stop_sequences") or [])
    finish = {"stop": "STOP_SEQUENCE", "length": "MAX_TOKENS", None: "COMPLETE"}[cut]
    calls = calls if cut is None else []
    seen = [body.get("preamble") or "", message]
    seen += [h.get("message") or json.dumps(h.get("tool_results")) for h in history]
    seen += [json.dumps(r) for r in body.get("tool_results") or []]
    in_tokens = sum(_words(s) for s in seen)
    out_tokens = _words(text) + sum(_words(json.dumps(c)) for c in calls)
    digest = _digest(body)
    response: dict[str, Any] = {
        "response_id": f"resp-{digest[:12]}",
        "text": text,
        "generation_id": f"gen-{digest[12:24]}",
        "chat_history": [*history, {"role": "USER", "message": message}, {"role": "CHATBOT", "message": text}],
        "finish_reason": finish,
        "meta": {
            "api_version": {"version": "1"},
            "billed_units": {"input_tokens": in_tokens, "output_tokens": out_tokens},
        },
    }
    if calls:
        response["tool_calls"] = calls
    if body.get("documents") and text:
        response["citations"] = [
            {"start": 0, "end": len(text.split()[0]), "text": text.split()[0], "document_ids": ["doc_0"]}
        ]
    events: list[dict[str, Any]] = [
        {"is_finished": False, "event_type": "stream-start", "generation_id": response["generation_id"]}
    ]
    events += [{"is_finished": False, "event_type": "text-generation", "text": p} for p in _pieces(text) if p]
    if "citations" in response:
        events.append({"is_finished": False, "event_type": "citation-generation", "citations": response["citations"]})
    if calls:
        events.append({"is_finished": False, "event_type": "tool-calls-generation", "text": text, "tool_calls": calls})
    events.append(
        {
            "is_finished": True,
            "event_type": "stream-end",
            "finish_reason": finish,
            "response": response,
            "amazon-bedrock-invocationMetrics": _metrics(in_tokens, out_tokens),
        }
    )
    return response, events


# -- OpenAI gpt-oss --------------------------------------------------------------------------


def _oai_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    raise BadRequest(f"{where}.content: must be a string or a list of text parts")


def _oai_validate(model_id: str, body: dict[str, Any]) -> None:
    if "model" in body and body["model"] != model_id:
        raise BadRequest("The model field must match the model in the request URL.")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise BadRequest("stream: must be a boolean")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: at least one message is required")
    call_ids: set[str] = set()
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ("system", "developer", "user", "assistant", "tool"):
            raise BadRequest(f"messages.{i}.role: must be system, developer, user, assistant or tool")
        if role == "assistant":
            for c in m.get("tool_calls") or []:
                fn = c.get("function") or {}
                if (
                    c.get("type") != "function"
                    or not isinstance(c.get("id"), str)
                    or not isinstance(fn.get("name"), str)
                ):
                    raise BadRequest(
                        f"messages.{i}.tool_calls: each is {{id, type: function, function: {{name, arguments}}}}"
                    )
                if not isinstance(json.loads(fn.get("arguments") or "{}"), dict):
                    raise BadRequest(f"messages.{i}.tool_calls: arguments must be a JSON object")
                call_ids.add(c["id"])
            if m.get("content") is not None:
                _oai_text(m["content"], f"messages.{i}")
            continue
        if not _oai_text(m.get("content"), f"messages.{i}").strip() and role != "tool":
            raise BadRequest(f"messages.{i}.content: must not be empty")
        if role == "tool" and m.get("tool_call_id") not in call_ids:
            raise BadRequest(f"messages.{i}.tool_call_id: no earlier assistant tool call has this id")
    names = set()
    for t in body.get("tools") or []:
        fn = t.get("function") if isinstance(t, dict) else None
        if t.get("type") != "function" or not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise BadRequest("tools: each is {type: function, function: {name, description, parameters}}")
        names.add(fn["name"])
    choice = body.get("tool_choice")
    if choice is not None:
        if not names:
            raise BadRequest("tool_choice: needs tools")
        if isinstance(choice, dict):
            if (choice.get("function") or {}).get("name") not in names:
                raise BadRequest("tool_choice: names no given tool")
        elif choice not in ("auto", "none", "required"):
            raise BadRequest("tool_choice: must be auto, none, required or a function")
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str) and (not isinstance(stop, list) or len(stop) > 4):
        raise BadRequest("stop: must be a string or a list of at most 4 strings")
    if body.get("reasoning_effort") not in (None, "low", "medium", "high"):
        raise BadRequest("reasoning_effort: must be low, medium or high")
    _number(body, "max_tokens", 1, 131072, integer=True)
    _number(body, "max_completion_tokens", 1, 131072, integer=True)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)


def _oai_plan(body: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None]:
    """(reasoning, text, tool call or None)."""
    messages = body["messages"]
    last = messages[-1]
    user_text = next((_oai_text(m["content"], "") for m in reversed(messages) if m["role"] == "user"), "")
    if last["role"] == "tool":
        trailing: list[str] = []
        for m in reversed(messages):
            if m["role"] != "tool":
                break
            trailing.insert(0, _oai_text(m["content"], ""))
        return "The tool answered; I report it.", "Tool results: " + "; ".join(trailing), None
    tools = {t["function"]["name"]: t["function"] for t in body.get("tools") or []}
    choice = body.get("tool_choice")
    chosen = None
    if tools and choice != "none":
        if isinstance(choice, dict):
            chosen = tools[choice["function"]["name"]]
        elif choice == "required":
            chosen = next(iter(tools.values()))
        else:
            chosen = next((t for n, t in tools.items() if n in user_text), None)
    if chosen is not None:
        digest = _digest(body)[:24]
        call = {
            "id": f"chatcmpl-tool-{digest}",
            "type": "function",
            "function": {
                "name": chosen["name"],
                "arguments": json.dumps(arguments_for(chosen.get("parameters") or {})),
            },
        }
        return f"I should call {chosen['name']}.", "", call
    return f"The user said: {user_text}", f"You said: {user_text}", None


@_guarded
def handle_openai(model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """gpt-oss chat completions: (response body, stream chunks)."""
    _oai_validate(model_id, body)
    reasoning, text, call = _oai_plan(body)
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    reasoning, cut = _limit(reasoning, budget, [])
    finish = "tool_calls" if call else "stop"
    if cut:
        text, call, finish = "", None, "length"
    else:
        text, cut = _limit(text, None if budget is None else budget - _words(reasoning), stops)
        finish = {"length": "length", "stop": "stop", None: finish}[cut]
    in_tokens = sum(_words(_oai_text(m.get("content") or "", "")) for m in body["messages"])
    out_tokens = _words(reasoning) + _words(text) + (_words(call["function"]["arguments"]) if call else 0)
    usage = {"prompt_tokens": in_tokens, "completion_tokens": out_tokens, "total_tokens": in_tokens + out_tokens}
    message: dict[str, Any] = {
        "role": "assistant",
        "content": f"<reasoning>{reasoning}</reasoning>{text}",
        "refusal": None,
    }
    if call:
        message["tool_calls"] = [call]
    cid = "chatcmpl-" + _digest(body)[:32]
    head = {"id": cid, "created": 1762103642, "model": model_id, "service_tier": "auto"}
    response = {
        **head,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }

    def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": reason}
        return {**head, "object": "chat.completion.chunk", "choices": [choice]}

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": f"<reasoning>{p}</reasoning>"}) for p in _pieces(reasoning) if p]
    if call:
        args = call["function"]["arguments"]
        first = {
            **call,
            "index": 0,
            "function": {"name": call["function"]["name"], "arguments": args[: len(args) // 2]},
        }
        events.append(chunk({"tool_calls": [first]}))
        events.append(
            chunk({"tool_calls": [{"index": 0, "type": "function", "function": {"arguments": args[len(args) // 2 :]}}]})
        )
    events += [chunk({"content": p}) for p in _pieces(text) if p]
    events.append(chunk({}, finish))
    metrics = {"amazon-bedrock-invocationMetrics": _metrics(in_tokens, out_tokens)}
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage, **metrics})
    else:
        events[-1].update(metrics)
    return response, events


# -- Meta Llama 3.x ----------------------------------------------------------------------------

_META_FIELDS = frozenset({"prompt", "temperature", "top_p", "max_gen_len"})
_TURN = re.compile(
    r"<\|start_header_id\|>(system|user|assistant|ipython)<\|end_header_id\|>\n\n(.*?)<\|eot_id\|>", re.S
)
_OPEN = re.compile(r"<\|start_header_id\|>assistant<\|end_header_id\|>\n\n(.*)\Z", re.S)
_SPECIAL = re.compile(r"<\|[a-z_]+\|>")


def _llama_turns(prompt: str) -> list[tuple[str, str]]:
    """The Llama 3 template's turns (ending with the open assistant turn), or BadRequest."""
    begin = "<|begin_of_text|>"
    if not prompt.startswith(begin):
        raise BadRequest("emulator: the prompt is not in Llama 3's chat format (no <|begin_of_text|>)")
    pos, turns = len(begin), []
    while (m := _TURN.match(prompt, pos)) is not None:
        if _SPECIAL.search(m[2]):
            raise BadRequest("emulator: a turn holds a special token")
        turns.append((m[1], m[2]))
        pos = m.end()
    tail = _OPEN.match(prompt, pos)
    if tail is None or _SPECIAL.search(tail[1]):
        raise BadRequest("emulator: the prompt must end with an open assistant turn (Llama 3's chat format)")
    turns.append(("assistant", tail[1]))
    return turns


@_guarded
def handle_meta(model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Llama 3.x: (response body, stream chunks)."""
    _closed(set(body), _META_FIELDS)
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        raise BadRequest("Malformed input request: required key [prompt] not found")
    _number(body, "temperature", 0, 1)
    _number(body, "top_p", 0, 1)
    _number(body, "max_gen_len", 1, 2048, integer=True)
    turns = _llama_turns(body["prompt"])
    user_text = next((t for r, t in reversed(turns) if r == "user"), "")
    text, cut = _limit(f"You said: {user_text}", body.get("max_gen_len"), [])
    reason = "length" if cut else "stop"
    in_tokens = sum(_words(t) for _, t in turns)
    out_tokens = _words(text)
    response = {
        "generation": text,
        "prompt_token_count": in_tokens,
        "generation_token_count": out_tokens,
        "stop_reason": reason,
    }
    events: list[dict[str, Any]] = []
    for i, p in enumerate(_pieces(text)):
        first = in_tokens if i == 0 else None
        events.append(
            {"generation": p, "prompt_token_count": first, "generation_token_count": i + 1, "stop_reason": None}
        )
    events.append(
        {
            "generation": "",
            "prompt_token_count": None,
            "generation_token_count": out_tokens,
            "stop_reason": reason,
            "amazon-bedrock-invocationMetrics": _metrics(in_tokens, out_tokens),
        }
    )
    return response, events
