"""The ``reqbed`` parser and dispatch. Exit codes: 0 ok, 1 the call failed, 2 bad usage, 130 Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ._output import Out, fix_for

__all__ = ["build_parser", "main"]


def _connection(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where and as whom (override the environment, as provider_options do)")
    g.add_argument("--region", help="AWS region (default: AWS_REGION, the profile's, us-east-1)")
    g.add_argument("--profile", help="a named profile of ~/.aws/config")
    g.add_argument("--endpoint-url", help="another Bedrock runtime endpoint (a VPC endpoint, the emulator)")


def _chat_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--system", help="a system prompt")
    p.add_argument("--max-tokens", type=int, help="the most tokens to generate")
    p.add_argument("--temperature", type=float)


def _models(models: argparse.ArgumentParser) -> None:
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="list catalog models")
    ls.add_argument("--provider", help="anthropic, amazon, meta, mistral, cohere, openai, ...")
    ls.add_argument("--region", help="only models reachable from this region")
    ls.add_argument("--capability", help="tools, images, documents, caching, thinking, embeddings, count_tokens, ...")
    ls.add_argument("--json", action="store_true", help="JSON output")
    find = msub.add_parser("find", help="models whose id, name or alias matches TEXT")
    find.add_argument("text")
    find.add_argument("--json", action="store_true", help="JSON output")
    show = msub.add_parser("show", help="one model's facts, capabilities, regions and prices")
    show.add_argument("id", help="an id, alias, inference-profile id or ARN")
    show.add_argument("--json", action="store_true", help="JSON output")


def _chat(chat: argparse.ArgumentParser) -> None:
    chat.add_argument("model", help="an alias (nova-pro) or id, with or without bedrock:")
    chat.add_argument("prompt", nargs="?")
    _chat_flags(chat)
    chat.add_argument("--json", action="store_true", help="no streaming: print the answer as JSON")
    _connection(chat)


def _object(obj: argparse.ArgumentParser) -> None:
    obj.add_argument("model")
    obj.add_argument("prompt")
    obj.add_argument("--schema", required=True, help="a JSON Schema file")
    _chat_flags(obj)
    obj.add_argument("--json", action="store_true", help="the object with usage and cost as JSON")
    _connection(obj)


def _embed(emb: argparse.ArgumentParser) -> None:
    emb.add_argument("model")
    emb.add_argument("text", nargs="+")
    emb.add_argument("--dimensions", type=int, help="output size (models that take one)")
    emb.add_argument("--json", action="store_true", help="the vectors as JSON")
    _connection(emb)


def _count_tokens(ct: argparse.ArgumentParser) -> None:
    ct.add_argument("model")
    ct.add_argument("prompt")
    _chat_flags(ct)
    ct.add_argument("--estimate", action="store_true", help="estimate locally where CountTokens does not serve")
    ct.add_argument("--json", action="store_true", help="JSON output")
    _connection(ct)


def _key(key: argparse.ArgumentParser) -> None:
    key.add_argument("--region", help="the region the key is for")
    key.add_argument("--profile", help="a named profile of ~/.aws/config")
    key.add_argument("--expires-in", type=int, default=43200, help="seconds (at most 43200, 12 hours)")
    key.add_argument("--json", action="store_true", help="JSON output")


def _emulator(emu: argparse.ArgumentParser) -> None:
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=8765, help="0 picks a free port")


#: Each subcommand: its help line and what adds its arguments.
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "models": ("the model catalog: list, find, show", _models),
    "chat": ("chat with a model (streams; no PROMPT: an interactive session)", _chat),
    "object": ("a JSON object matching a JSON Schema", _object),
    "embed": ("embed texts", _embed),
    "count-tokens": ("count a prompt's input tokens (Bedrock CountTokens)", _count_tokens),
    "key": ("mint a short-term Bedrock API key from the current AWS credentials", _key),
    "emulator": ("run the local Bedrock emulator (for trying reqbed without AWS)", _emulator),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser. With ``argv`` naming a subcommand, only that subcommand is built: each argparse
    parser costs file-system look-ups (gettext), enough to matter to ``reqbed models list``'s start-up."""
    from reqbed import __version__

    parser = argparse.ArgumentParser(
        prog="reqbed", description="Try Amazon Bedrock models from the terminal (reqbed's command line)."
    )
    parser.add_argument("--version", action="version", version=f"reqbed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    first = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    only = first if first in _COMMANDS else None
    for name, (help_text, populate) in _COMMANDS.items():
        if only is None or name == only:  # each parser costs gettext look-ups: build only the one needed
            populate(sub.add_parser(name, help=help_text))
    return parser


def _runner(args: argparse.Namespace) -> Callable[[argparse.Namespace, Out], int]:
    if args.command == "models":
        from ._models import run_models

        return run_models
    from . import _calls

    return {
        "chat": _calls.run_chat,
        "object": _calls.run_object,
        "embed": _calls.run_embed,
        "count-tokens": _calls.run_count_tokens,
        "key": _calls.run_key,
        "emulator": _calls.run_emulator,
    }[args.command]


def main(argv: Sequence[str] | None = None, out: Out | None = None) -> int:
    """Run ``reqbed`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    out = out or Out()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    from reqbed import ReqbedError

    try:
        return _runner(args)(args, out)
    except ReqbedError as e:
        out.error(str(e), fix_for(e))
        return 1
    except KeyboardInterrupt:
        out.line()
        return 130
    except BrokenPipeError:  # `reqbed models list | head`
        sys.stderr.close()
        return 0


def entry() -> None:
    """The console script."""
    sys.exit(main())
