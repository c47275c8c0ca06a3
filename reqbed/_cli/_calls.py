"""``reqbed chat|object|embed|count-tokens|key|emulator``: thin shells over reqbed's public functions.

Credentials and region are found as the library finds them (docs/credentials.md); ``--region``,
``--profile`` and ``--endpoint-url`` become ``provider_options`` and override them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from typing import TYPE_CHECKING, Any

from ._output import Out, fix_for

if TYPE_CHECKING:
    import reqbed

__all__ = ["run_chat", "run_count_tokens", "run_embed", "run_emulator", "run_key", "run_object"]


def provider_options(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that override the library's own lookup, as ``provider_options``."""
    names = {"region": "region", "profile": "profile", "endpoint_url": "endpoint_url"}
    return {key: getattr(args, attr) for attr, key in names.items() if getattr(args, attr, None)}


def chat_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if args.system is not None:
        opts["system"] = args.system
    if args.max_tokens is not None:
        opts["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        opts["temperature"] = args.temperature
    po = provider_options(args)
    if po:
        opts["provider_options"] = po
    return opts


def model_spec(model: str) -> str:
    """``"nova-pro"`` and ``"bedrock:nova-pro"`` alike (ids and ARNs too): the ``bedrock:`` prefix is optional."""
    return model if model.startswith("bedrock:") else f"bedrock:{model}"


def _usage_line(response: reqbed.Response) -> str:
    u = response.usage
    parts = [response.model, f"{u.input_tokens} in", f"{u.output_tokens} out"]
    if u.cache_read_tokens:
        parts.append(f"{u.cache_read_tokens} cache read")
    if u.cache_write_tokens:
        parts.append(f"{u.cache_write_tokens} cache write")
    parts.append(_cost_text(response.cost))
    return " · ".join(parts)


def _cost_text(cost: reqbed.Cost) -> str:
    return f"${cost.total:f}" if cost.total is not None else f"cost unknown ({cost.reason})"


def _answer_json(response: reqbed.Response) -> dict[str, Any]:
    return {
        "text": response.text,
        "model": response.model,
        "finish_reason": response.finish_reason,
        "usage": response.usage,
        "cost": response.cost,
    }


# -- chat ------------------------------------------------------------------------------------------


def _stream_turn(out: Out, model: str, prompt: Any, opts: dict[str, Any]) -> reqbed.Response:
    import reqbed

    with reqbed.stream_text(model, prompt, **opts) as stream:
        for text in stream.text_stream():
            out.out.write(text)
            out.out.flush()
        response = stream.response()
    out.line()
    return response


def run_chat(args: argparse.Namespace, out: Out) -> int:
    import reqbed

    model, opts = model_spec(args.model), chat_options(args)
    if args.prompt is not None:
        if args.json:
            out.json(_answer_json(reqbed.generate_text(model, args.prompt, **opts)))
            return 0
        out.note(_usage_line(_stream_turn(out, model, args.prompt, opts)))
        return 0
    return _interactive(out, model, opts)


def _interactive(out: Out, model: str, opts: dict[str, Any]) -> int:
    """A session with history (readline's line editing where available): each turn sees the ones before."""
    import reqbed

    with contextlib.suppress(ImportError):  # Windows has none
        import readline  # noqa: F401 - line editing and up-arrow history for input()
    history: list[reqbed.Message] = []
    totals = reqbed.UsageTotals()
    out.note(f"chatting with {model}; an empty line or Ctrl-D ends the session")
    while True:
        try:
            line = input(out.paint("you> ", "1;36"))
        except EOFError:
            out.line()
            break
        if not line.strip() or line.strip() in ("/exit", "/quit"):
            break
        history.append(reqbed.Message(role="user", content=line))
        try:
            response = _stream_turn(out, model, list(history), opts)
        except reqbed.ReqbedError as e:  # say so, and let the user try again
            history.pop()
            out.error(str(e), fix_for(e))
            continue
        except BaseException:
            history.pop()
            raise
        history.append(response.message)
        totals.add(response)
        out.note(_usage_line(response))
    u = totals.usage
    cost = totals.cost
    out.note(f"session: {u.input_tokens} in · {u.output_tokens} out · {_cost_text(cost)}")
    return 0


# -- object, embed, count-tokens ----------------------------------------------------------------------


def _verb(name: str) -> Any:
    """``reqbed.<name>``, or a one-line error when this version of reqbed does not have it."""
    import reqbed

    fn = getattr(reqbed, name, None)
    if fn is None:
        raise reqbed.ReqbedError(f"this reqbed ({reqbed.__version__}) has no reqbed.{name}: upgrade reqbed")
    return fn


def run_object(args: argparse.Namespace, out: Out) -> int:
    import reqbed

    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
    except OSError as e:
        raise reqbed.ValidationError(f"cannot read {args.schema!r}: {e.strerror}", field="--schema") from None
    except ValueError as e:
        raise reqbed.ValidationError(f"{args.schema!r} is not JSON: {e}", field="--schema") from None
    result = _verb("generate_object")(model_spec(args.model), args.prompt, schema, **chat_options(args))
    if args.json:
        out.json({"object": result.object, **_answer_json(result.response)})
        return 0
    out.line(json.dumps(result.object, indent=2, ensure_ascii=False))
    out.note(_usage_line(result.response))
    return 0


def run_embed(args: argparse.Namespace, out: Out) -> int:
    opts: dict[str, Any] = {}
    if args.dimensions is not None:
        opts["dimensions"] = args.dimensions
    po = provider_options(args)
    if po:
        opts["provider_options"] = po
    result = _verb("embed")(model_spec(args.model), list(args.text), **opts)
    cost = getattr(result, "cost", None)
    if args.json:
        data: dict[str, Any] = {
            "model": result.model,
            "dimensions": result.dimensions,
            "vectors": result.vectors,
            "usage": result.usage,
        }
        if cost is not None:
            data["cost"] = cost
        out.json(data)
        return 0
    for text, vector in zip(args.text, result.vectors, strict=False):
        head = ", ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in vector[:4])
        out.line(f"{text[:40]!r}: [{head}, ...] ({len(vector)} values)")
    note = f"{result.model} · {result.usage.input_tokens} in"
    if cost is not None:
        note += f" · {_cost_text(cost)}"
    out.note(note)
    return 0


def run_count_tokens(args: argparse.Namespace, out: Out) -> int:
    opts = chat_options(args)
    if args.estimate:
        opts["estimate"] = True
    n = _verb("count_tokens")(model_spec(args.model), args.prompt, **opts)
    estimated = bool(getattr(n, "estimated", False))
    if args.json:
        out.json({"input_tokens": int(n), "estimated": estimated})
    else:
        out.line(str(int(n)))
        if estimated:
            out.note("estimated locally: CountTokens does not serve this model")
    return 0


# -- key, emulator -----------------------------------------------------------------------------------------


def run_key(args: argparse.Namespace, out: Out) -> int:
    import reqbed

    key = reqbed.bedrock_api_key(region=args.region, profile=args.profile, expires_in=args.expires_in)
    if args.json:
        out.json({"api_key": key, "expires_in": args.expires_in})
    else:
        out.line(key)
        out.note(f"a short-term Bedrock API key, valid {args.expires_in} s: export AWS_BEARER_TOKEN_BEDROCK=<key>")
    return 0


def run_emulator(args: argparse.Namespace, out: Out) -> int:
    from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_API_KEY, EXAMPLE_SECRET_ACCESS_KEY, Emulator

    emu = Emulator(host=args.host, port=args.port)
    emu.start()
    try:
        url = emu.endpoint_url
        out.line(f"reqbed Bedrock emulator on {url}")
        out.line(f"export AWS_ENDPOINT_URL_BEDROCK_RUNTIME={url}")
        out.line(f"export AWS_ACCESS_KEY_ID={EXAMPLE_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY={EXAMPLE_SECRET_ACCESS_KEY}")
        out.line(f"# or: export AWS_BEARER_TOKEN_BEDROCK={EXAMPLE_API_KEY}")
        import threading

        threading.Event().wait()  # until Ctrl-C / SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0
