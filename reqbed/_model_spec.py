"""Parse a ``"bedrock:<model-id>"`` spec into what the rest of the pipeline needs. No I/O, no deps.

Worked examples (``family`` is what picks the formatter; ``region`` is only set by an ARN)::

    bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0
        model_id=anthropic.claude-3-5-sonnet-20240620-v1:0  family=anthropic  geo=None
    bedrock:us.anthropic.claude-3-7-sonnet-20250219-v1:0
        family=anthropic  geo=us  base_model=anthropic.claude-3-7-sonnet-20250219-v1:0
    bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0      family=anthropic  geo=global
    bedrock:meta.llama3-3-70b-instruct-v1:0                       family=meta
    bedrock:arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.meta.llama3-2-1b-instruct-v1:0
        family=meta  region=eu-west-1  resource_type=inference-profile
    bedrock:arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123
        family=None unless base_model="anthropic.claude-..." is given
    bedrock:claude-sonnet-4-5   (an alias; region eu-west-1)
        model_id=eu.anthropic.claude-sonnet-4-5-20250929-v1:0  family=anthropic  geo=eu

The id becomes ONE percent-encoded path segment (``:`` -> ``%3A``, ``/`` -> ``%2F``), see
``ModelSpec.path_segment``; SigV4's canonical URI is computed from that encoded path.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import msgspec

from ._errors import ValidationError

__all__ = ["GEO_PREFIXES", "KNOWN_FAMILIES", "ModelSpec", "parse_model_spec"]

PROVIDER_PREFIXES = ("bedrock", "amazon_bedrock", "aws_bedrock")

#: Cross-region inference profile prefixes AWS uses (``global`` routes anywhere).
GEO_PREFIXES = frozenset({"us", "eu", "apac", "global", "us-gov", "ca", "jp", "au"})

#: Model vendors whose ids Bedrock serves; the family is the vendor (``anthropic.claude-...``).
KNOWN_FAMILIES = frozenset(
    {
        "ai21",
        "amazon",
        "anthropic",
        "cohere",
        "deepseek",
        "google",
        "meta",
        "minimax",
        "mistral",
        "moonshot",
        "moonshotai",
        "nvidia",
        "openai",
        "qwen",
        "stability",
        "twelvelabs",
        "writer",
        "zai",
    }
)

_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d*):"
    r"(?P<rtype>foundation-model|inference-profile|application-inference-profile|"
    r"provisioned-model|custom-model|custom-model-deployment|imported-model|"
    r"prompt|default-prompt-router|prompt-router)/(?P<resource>.+)$"
)
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+-]*$")


class ModelSpec(msgspec.Struct, kw_only=True, frozen=True):
    """A parsed model spec.

    ``model_id`` is what goes in the URL; ``base_model`` the underlying foundation model id
    (geo prefix stripped; from the ARN or the ``base_model`` option); ``family`` the vendor.
    """

    spec: str
    model_id: str
    base_model: str | None
    family: str | None
    geo: str | None = None
    region: str | None = None
    resource_type: str | None = None

    @property
    def path_segment(self) -> str:
        """The model id percent-encoded as ONE path segment (``:`` and ``/`` encoded)."""
        return quote(self.model_id, safe="-_.~")


def _split_geo(model_id: str) -> tuple[str | None, str]:
    head, _, rest = model_id.partition(".")
    if rest and head in GEO_PREFIXES:
        return head, rest
    return None, model_id


def _family_of(base: str | None) -> str | None:
    if not base:
        return None
    head = base.split(".", 1)[0]
    return head if head in KNOWN_FAMILIES else None


def _resolve_alias(spec: str, region: str | None) -> str | None:
    """The catalog's answer for an alias (loads the catalog on first use); the region defaults as the
    pipeline's does (``put_key``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, ``us-east-1``)."""
    import os

    from ._aws.credentials import DEFAULT_REGION, explicit_region
    from ._catalog._store import resolve_alias

    where = explicit_region({"region": region} if region else {}, None, os.environ) or DEFAULT_REGION
    return resolve_alias(spec, where)


def parse_model_spec(
    spec: str, *, base_model: str | None = None, region: str | None = None, aliases: bool = True
) -> ModelSpec:
    """Parse ``"bedrock:<id>"``; raise ``ValidationError`` (field ``model``) for anything else.

    An alias (``"bedrock:claude-sonnet-4-5"``, or one added with ``reqbed.models.alias``) is resolved
    first, for ``region`` (see ``reqbed._catalog._store.resolve_alias``): the result names the model
    id actually called, with the inference-profile prefix the region needs. ``aliases=False`` parses
    ``spec`` as Bedrock itself would (an alias is then not a model id)."""
    if not isinstance(spec, str):
        raise ValidationError(f"must be a string like 'bedrock:<model-id>', got {type(spec).__name__}", field="model")
    provider, sep, model_id = spec.partition(":")
    if not spec:
        raise ValidationError("is empty", field="model")
    if spec.startswith(("bedrock/", "amazon-bedrock/")) and not spec.startswith("bedrock:"):
        # LiteLLM's spelling (``bedrock/anthropic.claude-...``)
        rest = spec.partition("/")[2]
        raise ValidationError(f"{spec!r} is LiteLLM's spelling; reqbed writes 'bedrock:{rest}'", field="model")
    if not sep or provider == "arn" or (provider not in PROVIDER_PREFIXES and "." in provider):
        # a bare model id pasted from the console (``anthropic.claude-...-v1:0`` has a colon of its own)
        raise ValidationError(f"{spec!r} has no provider prefix; write 'bedrock:{spec}'", field="model")
    if not model_id:
        raise ValidationError(f"{spec!r} names no model; write 'bedrock:<model-id>'", field="model")
    if provider not in PROVIDER_PREFIXES:
        raise ValidationError(
            f"unknown provider {provider!r} in {spec!r}; reqbed serves 'bedrock:<model-id>'",
            field="model",
        )
    model_id = model_id.strip()
    if not _ID_RE.match(model_id) or len(model_id) > 2048:
        raise ValidationError(f"{model_id!r} is not a Bedrock model id, profile id or ARN", field="model")
    if base_model is not None and (not isinstance(base_model, str) or not base_model):
        raise ValidationError("must be a non-empty model id string", field="provider_options.base_model")

    if model_id.startswith("arn:"):
        m = _ARN_RE.match(model_id)
        if not m:
            raise ValidationError(f"{model_id!r} is not a Bedrock ARN", field="model")
        rtype, resource = m["rtype"], m["resource"]
        geo, inner = (None, resource)
        if rtype in ("foundation-model", "inference-profile"):
            geo, inner = _split_geo(resource)
        hinted = _split_geo(base_model)[1] if base_model else None
        base = hinted or (inner if rtype in ("foundation-model", "inference-profile") else None)
        return ModelSpec(
            spec=spec,
            model_id=model_id,
            base_model=base,
            family=_family_of(base),
            geo=geo,
            region=m["region"] or None,
            resource_type=rtype,
        )

    geo, base = _split_geo(model_id)
    vendor, _, model = base.partition(".")
    if aliases and (vendor not in KNOWN_FAMILIES or not model) and not base_model:
        resolved = _resolve_alias(spec, region)  # catalog aliases: "bedrock:claude-sonnet-4-5" ...
        if resolved is not None and resolved != spec:
            return parse_model_spec(resolved, base_model=base_model, region=region)
    if base_model:
        base = _split_geo(base_model)[1]
    family = _family_of(base)
    vendor, _, model = base.partition(".")
    if not vendor or not model:
        raise ValidationError(
            f"{model_id!r} names no model family (expected '<vendor>.<model>', e.g. "
            "'anthropic.claude-3-5-sonnet-20240620-v1:0')",
            field="model",
        )
    return ModelSpec(spec=spec, model_id=model_id, base_model=base, family=family, geo=geo)
