"""ApplyGuardrail's pure parts: the request (path and body) and the parsed answer. No I/O.

``POST /guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply`` on bedrock-runtime
(botocore's ``ApplyGuardrail`` operation): screens content with a guardrail without calling a
model. ``reqbed.apply_guardrail`` / ``aapply_guardrail`` will send what ``build_request`` makes
and read the answer with ``parse_response``, as an Operation of the client's core (not wired yet).

Content is a string, or a list of strings and guard content parts (``GuardContentPart`` or its
dict form: text with ``qualifiers``, or a png / jpeg image).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import msgspec

from ._errors import ModelStreamError, ValidationError
from ._features import parse_features
from ._types import GuardContentPart, Guardrail

__all__ = ["ApplyGuardrailResult", "build_request", "parse_response"]

_QUALIFIERS = ("grounding_source", "query", "guard_content")


class ApplyGuardrailResult(msgspec.Struct, kw_only=True, frozen=True):
    """The guardrail's verdict on some content: ``action`` (``"GUARDRAIL_INTERVENED"`` or
    ``"NONE"``), the texts it would output instead (``outputs``, e.g. masked), its
    ``assessments`` and ``usage`` (policy units) as Bedrock gives them."""

    action: Literal["GUARDRAIL_INTERVENED", "NONE"]
    outputs: list[str]
    assessments: list[dict[str, Any]]
    usage: dict[str, Any]
    action_reason: str | None = None
    coverage: dict[str, Any] | None = None

    @property
    def intervened(self) -> bool:
        return self.action == "GUARDRAIL_INTERVENED"


def _fail(message: str, field: str) -> ValidationError:
    return ValidationError(message, field=field)


def _block(item: Any, field: str) -> dict[str, Any]:
    if isinstance(item, str):
        if not item:
            raise _fail("is empty", field)
        return {"text": {"text": item}}
    if isinstance(item, Mapping):
        try:
            item = msgspec.convert({"type": "guard_content", **item}, GuardContentPart, strict=False)
        except msgspec.ValidationError as e:
            raise _fail(str(e), field) from None
    if not isinstance(item, GuardContentPart):
        raise _fail(f"must be a string or a guard content part, got {type(item).__name__}", field)
    if (item.text is None) == (item.data is None):
        raise _fail("holds either text or an image (data and media_type)", field)
    if item.data is not None:
        if item.media_type not in ("image/png", "image/jpeg") or not item.data:
            raise _fail("an image must be png or jpeg bytes", f"{field}.media_type")
        fmt = item.media_type.rpartition("/")[2]
        return {"image": {"format": fmt, "source": {"bytes": base64.b64encode(item.data).decode("ascii")}}}
    for k, q in enumerate(item.qualifiers):
        if q not in _QUALIFIERS:
            raise _fail(f"must be one of {list(_QUALIFIERS)}, got {q!r}", f"{field}.qualifiers[{k}]")
    text: dict[str, Any] = {"text": item.text}
    if item.qualifiers:
        text["qualifiers"] = list(item.qualifiers)
    return {"text": text}


def build_request(
    guardrail: Guardrail | Mapping[str, Any],
    content: str | Sequence[Any],
    *,
    source: Literal["INPUT", "OUTPUT"] = "INPUT",
    output_scope: Literal["INTERVENTIONS", "FULL"] | None = None,
) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) of one ApplyGuardrail call; ``ValidationError`` naming the field."""
    g = parse_features({"guardrail": guardrail}).guardrail
    assert g is not None
    if g.trace is not None or g.stream_mode is not None:
        field = "guardrail.trace" if g.trace is not None else "guardrail.stream_mode"
        raise _fail("applies to model calls; ApplyGuardrail always returns its assessments", field)
    if source not in ("INPUT", "OUTPUT"):
        raise _fail(f'must be "INPUT" or "OUTPUT", got {source!r}', "source")
    if output_scope not in (None, "INTERVENTIONS", "FULL"):
        raise _fail(f'must be "INTERVENTIONS" or "FULL", got {output_scope!r}', "output_scope")
    items = [content] if isinstance(content, str) else list(content)
    if not items:
        raise _fail("is empty", "content")
    body: dict[str, Any] = {"source": source, "content": [_block(x, f"content[{i}]") for i, x in enumerate(items)]}
    if output_scope is not None:
        body["outputScope"] = output_scope
    path = f"/guardrail/{quote(g.id, safe='')}/version/{quote(g.version, safe='')}/apply"
    return path, body


_decode = msgspec.json.Decoder().decode


def parse_response(body: bytes) -> ApplyGuardrailResult:
    """An ApplyGuardrail answer -> ApplyGuardrailResult (an odd shape is ``ModelStreamError``)."""
    try:
        data = _decode(body)
    except msgspec.DecodeError as e:
        raise ModelStreamError(f"unexpected answer from Bedrock: ApplyGuardrail answer is not JSON ({e})") from None
    action = data.get("action") if isinstance(data, dict) else None
    if action not in ("GUARDRAIL_INTERVENED", "NONE"):
        raise ModelStreamError("unexpected answer from Bedrock: ApplyGuardrail answer has no action")
    assert isinstance(data, dict)
    outputs = [o.get("text", "") for o in data.get("outputs") or [] if isinstance(o, dict)]
    assessments = [a for a in data.get("assessments") or [] if isinstance(a, dict)]
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    coverage = data.get("guardrailCoverage")
    return ApplyGuardrailResult(
        action=action,
        outputs=outputs,
        assessments=assessments,
        usage=usage,
        action_reason=data.get("actionReason") if isinstance(data.get("actionReason"), str) else None,
        coverage=coverage if isinstance(coverage, dict) else None,
    )
