"""How each model gets structured output, as data, and ``mode="auto"``'s choice.

``MODE_TABLE`` is read top to bottom; the first row whose family matches and whose pattern is
found in the base model id wins. docs/structured-output.md prints the same table.

Sources: AWS's "Get validated JSON results from models" page (structured outputs: Converse
``outputConfig.textFormat``; ``/invoke`` ``output_config.format`` for Claude and
``response_format`` for open-weight models; Claude Haiku 4.5, Sonnet 4.5, Opus 4.5 and later, and
a list of open-weight models) and the Converse "supported models and model features" table
(``toolChoice`` ``any``/``tool`` is honoured by Anthropic Claude, Amazon Nova and Mistral Large;
other tool-using models take the tool unforced). The recordings confirm tool answers from Claude
(three models), Cohere Command R/R+, Llama 3.3 and gpt-oss (forced with ``tool_choice``).
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Literal

from .._errors import ValidationError

if TYPE_CHECKING:
    from .._families._base import Capabilities
    from .._model_spec import ModelSpec

__all__ = ["MODE_TABLE", "Mode", "ModeChoice", "ModeRow", "RequestedMode", "choose_mode", "modes_for"]

Mode = Literal["native", "tool", "json"]
RequestedMode = Literal["auto", "native", "tool", "json"]
NativeInvoke = Literal["anthropic", "openai"]


@dataclasses.dataclass(frozen=True)
class ModeRow:
    """One row: which models (``family``, ``pattern`` searched in the base model id) can do what.

    ``native``: Converse ``outputConfig.textFormat``; ``native_invoke``: the ``/invoke`` body's
    own field (``anthropic``: ``output_config.format``; ``openai``: ``response_format``);
    ``tool``: a tool call carries the object; ``forced_tool``: ``toolChoice`` can force it.
    A model without tools (its capabilities say so) gets ``json`` whatever the row says.
    """

    family: str
    pattern: str
    native: bool
    native_invoke: NativeInvoke | None
    tool: bool
    forced_tool: bool
    note: str = ""


MODE_TABLE: tuple[ModeRow, ...] = (
    ModeRow("anthropic", r"claude-(?:sonnet|haiku|opus)-(?:4-[5-9]|[5-9])", True, "anthropic", True, True,
            "Claude 4.5 and later: structured outputs"),
    ModeRow("anthropic", r"claude-v2|claude-instant", False, None, False, False, "no tools"),
    ModeRow("anthropic", r"", False, None, True, True, "Claude 3.x, 4, 4.1: forced tool"),
    ModeRow("openai", r"gpt-oss", True, "openai", True, True, "gpt-oss: response_format; tool_choice function"),
    ModeRow("amazon", r"\.nova", False, None, True, True, "Nova: forced tool"),
    ModeRow("mistral", r"mistral-large", False, None, True, True, "Mistral Large: forced tool"),
    ModeRow("deepseek", r"\.v3", True, None, True, False, "DeepSeek V3.x: structured outputs"),
    ModeRow("qwen", r"qwen3", True, None, True, False, "Qwen3: structured outputs"),
    ModeRow("", r"", False, None, True, False, "anything else with tools: the sole tool, unforced"),
)  # fmt: skip

_COMPILED = tuple((row, re.compile(row.pattern)) for row in MODE_TABLE)


def modes_for(spec: ModelSpec, caps: Capabilities, *, stream: bool = False) -> ModeRow:
    """The table row for ``spec``, with ``tool`` cleared when the model cannot take tools."""
    base = (spec.base_model or spec.model_id).lower()
    for row, pattern in _COMPILED:
        if row.family and row.family != spec.family:
            continue
        if pattern.search(base):
            tools = caps.streaming_tools if stream else caps.tools
            if row.tool and not tools:
                return dataclasses.replace(row, tool=False, forced_tool=False)
            return row
    raise AssertionError("the table's last row matches everything")  # pragma: no cover


@dataclasses.dataclass(frozen=True)
class ModeChoice:
    """The mode a call uses; ``forced``: the tool is forced with ``toolChoice`` (tool mode)."""

    mode: Mode
    forced: bool
    row: ModeRow


def choose_mode(row: ModeRow, requested: str, *, thinking: bool) -> ModeChoice:
    """``mode="auto"``: native, else tool, else json. An explicit mode the model lacks: ``ValidationError``.

    Extended thinking cannot go with a forced tool on Claude (Bedrock rejects it), so with thinking
    the tool is offered unforced, with an instruction naming it.
    """
    forced = row.forced_tool and not thinking
    if requested == "auto":
        if row.native:
            return ModeChoice("native", False, row)
        if row.tool:
            return ModeChoice("tool", forced, row)
        return ModeChoice("json", False, row)
    if requested == "native":
        if not row.native:
            raise ValidationError(
                "this model has no native structured output on Bedrock; use mode='tool', 'json' or 'auto'", field="mode"
            )
        return ModeChoice("native", False, row)
    if requested == "tool":
        if not row.tool:
            raise ValidationError("this model cannot call tools; use mode='json' or 'auto'", field="mode")
        return ModeChoice("tool", forced, row)
    if requested == "json":
        return ModeChoice("json", False, row)
    raise ValidationError(f"must be 'auto', 'native', 'tool' or 'json', got {requested!r}", field="mode")
