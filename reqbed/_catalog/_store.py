"""Loading the catalog, looking models up, aliases and the alias resolver. Pure, apart from reading
``catalog.json`` once (on first use, under a lock).

Lookups take any of: a catalog id (``anthropic.claude-sonnet-4-5-20250929-v1:0``), a profile id
(``us.anthropic.…``), a foundation-model or inference-profile ARN, an alias (``claude-sonnet-4-5``), each
with or without the ``bedrock:`` prefix.

Alias resolution, worked (``resolve_alias(spec, region)`` returns the spec to call)::

    bedrock:claude-sonnet-4-5  us-east-1       -> bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0
    bedrock:claude-sonnet-4-5  eu-west-1       -> bedrock:eu.anthropic.claude-sonnet-4-5-20250929-v1:0
    bedrock:claude-sonnet-4-5  ap-northeast-1  -> bedrock:jp.anthropic.claude-sonnet-4-5-20250929-v1:0
    bedrock:claude-sonnet-4-5  sa-east-1       -> bedrock:global.anthropic.claude-sonnet-4-5-20250929-v1:0
    bedrock:nova-pro           us-east-1       -> bedrock:amazon.nova-pro-v1:0       (on demand there)
    bedrock:nova-pro           us-west-2       -> bedrock:us.amazon.nova-pro-v1:0    (a profile is needed)
    bedrock:gpt-oss-120b       us-west-2       -> bedrock:openai.gpt-oss-120b-1:0
    bedrock:anthropic.claude-3-haiku-20240307-v1:0   -> None (not an alias: called as written)
"""

from __future__ import annotations

import builtins
import os
import re
import threading
from collections.abc import Callable

import msgspec

from .._errors import ValidationError
from ._types import ModelCapabilities, ModelInfo

__all__ = [
    "Catalog",
    "add_alias",
    "capabilities_for",
    "catalog",
    "find",
    "geo_candidates",
    "get",
    "list_models",
    "lookup",
    "resolve_alias",
]

_PROVIDER_PREFIXES = ("bedrock:", "amazon_bedrock:", "aws_bedrock:")
_GEOS = ("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au")


class _CatalogFile(msgspec.Struct, kw_only=True, frozen=True):
    schema: int
    as_of: str
    sources: tuple[str, ...] = ()
    notes: str = ""
    models: tuple[ModelInfo, ...] = ()


class Catalog:
    """The loaded catalog: models by id and by alias (case-insensitive), plus user aliases."""

    __slots__ = ("_by_alias", "_by_id", "_lock", "_user", "as_of", "models", "sources")

    def __init__(self, data: _CatalogFile) -> None:
        self.as_of = data.as_of
        self.sources = data.sources
        self.models = data.models
        self._by_id = {m.id: m for m in data.models}
        self._by_alias: dict[str, ModelInfo] = {}
        for m in data.models:
            for a in m.aliases:
                if a.lower() in self._by_alias:
                    raise ValueError(f"alias {a!r} names two models")
                self._by_alias[a.lower()] = m
        self._user: dict[str, str] = {}
        self._lock = threading.Lock()

    def by_id(self, model_id: str) -> ModelInfo | None:
        return self._by_id.get(model_id)

    def by_alias(self, name: str) -> ModelInfo | None:
        return self._by_alias.get(name.lower())

    def user_alias(self, name: str) -> str | None:
        with self._lock:
            return self._user.get(name.lower())

    def set_user_alias(self, name: str, spec: str) -> None:
        with self._lock:
            self._user[name.lower()] = spec

    def user_aliases(self) -> dict[str, str]:
        with self._lock:
            return dict(self._user)

    def reset_user_aliases(self, aliases: dict[str, str] | None = None) -> None:
        """Replace the user aliases (tests restore a snapshot with this)."""
        with self._lock:
            self._user = dict(aliases or {})


_lock = threading.Lock()
_catalog: Catalog | None = None


def catalog() -> Catalog:
    """The catalog, read from the package's ``catalog.json`` on first use."""
    global _catalog
    if _catalog is None:
        with _lock:
            if _catalog is None:
                raw = _read_catalog_file()
                _catalog = Catalog(msgspec.json.decode(raw, type=_CatalogFile))
    return _catalog


def _read_catalog_file() -> bytes:
    """``catalog.json`` beside this module; through ``importlib.resources`` only when the package is not
    on disk (a zip): that import costs more than reading the file (``reqbed models list``'s start-up)."""
    path = os.path.join(os.path.dirname(__file__), "catalog.json")
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:  # pragma: no cover - zipimport
        from importlib import resources

        return resources.files(__package__).joinpath("catalog.json").read_bytes()


def _strip_provider(spec: str) -> str:
    for p in _PROVIDER_PREFIXES:
        if spec.startswith(p):
            return spec[len(p) :]
    return spec


_ARN = re.compile(r"^arn:[^:]+:bedrock:(?P<region>[^:]*):[^:]*:(?P<rtype>[a-z-]+)/(?P<resource>.+)$")


def _base_id(model_id: str) -> str:
    """``us.x`` -> ``x``; an ARN's resource (geo stripped); else the id."""
    if model_id.startswith("arn:"):
        m = _ARN.match(model_id)
        if m is None or m["rtype"] not in ("foundation-model", "inference-profile"):
            return model_id
        model_id = m["resource"]
    head, _, rest = model_id.partition(".")
    return rest if rest and head in _GEOS else model_id


def lookup(id_or_alias: str) -> ModelInfo | None:
    """The catalog entry for an id, profile id, ARN or alias (user aliases followed); ``None`` if unknown."""
    cat = catalog()
    name = _strip_provider(id_or_alias.strip())
    for _ in range(8):  # user aliases may name other aliases; a cycle ends here
        target = cat.user_alias(name)
        if target is None:
            break
        name = _strip_provider(target)
    return cat.by_id(_base_id(name)) or cat.by_alias(name)


def get(id_or_alias: str) -> ModelInfo:
    """The catalog entry for ``id_or_alias``; ``ValidationError`` (field ``model``) when unknown."""
    info = lookup(id_or_alias)
    if info is None:
        stem = re.sub(r"-v\d.*$", "", _base_id(_strip_provider(id_or_alias.strip())))
        hint = ", ".join(m.id for m in find(stem)[:3]) if stem else ""
        raise ValidationError(
            f"{id_or_alias!r} is not in reqbed's model catalog" + (f"; did you mean {hint}?" if hint else ""),
            field="model",
        )
    return info


def find(text: str) -> builtins.list[ModelInfo]:
    """Models whose id, name or an alias contains every word of ``text`` (case-insensitive; ``.`` and ``-``
    are the same: ``find("llama 3.3")`` finds ``meta.llama3-3-70b-instruct-v1:0``)."""
    words = text.lower().replace(".", "-").split()
    out = []
    for m in catalog().models:
        hay = " ".join((m.id, m.name, m.provider, *m.aliases)).lower().replace(".", "-")
        if all(w in hay for w in words):
            out.append(m)
    return out


def geo_candidates(region: str) -> tuple[str, ...]:
    """Inference-profile prefixes that serve calls from ``region``, most specific first."""
    if region.startswith("us-gov-"):
        return ("us-gov",)
    head = region.split("-", 1)[0]
    if head == "us":
        return ("us",)
    if head == "ca":
        return ("ca", "us")
    if head == "eu":
        return ("eu",)
    if region == "ap-northeast-1":
        return ("jp", "apac")
    if region in ("ap-southeast-2", "ap-southeast-4"):
        return ("au", "apac")
    if head == "ap":
        return ("apac",)
    return ()


def list_models(
    provider: str | None = None, region: str | None = None, capability: str | None = None
) -> builtins.list[ModelInfo]:
    """Catalog models, filtered: ``provider`` (``anthropic``, ``amazon`` ...), ``region`` (served there on
    demand or through a profile reachable from it), ``capability`` (a true ``ModelCapabilities`` field,
    e.g. ``"tools"``, ``"thinking"``, ``"images"``; ``"embeddings"`` for embeddings models)."""
    if capability is not None and capability != "embeddings" and capability not in ModelCapabilities.__struct_fields__:
        raise ValidationError(
            f"unknown capability {capability!r}; known: embeddings, {', '.join(ModelCapabilities.__struct_fields__)}",
            field="capability",
        )
    out = []
    for m in catalog().models:
        if provider is not None and m.provider != provider.lower():
            continue
        if region is not None and not _reachable(m, region):
            continue
        if capability == "embeddings":
            if not m.is_embedding:
                continue
        elif capability is not None and not getattr(m.capabilities, capability):
            continue
        out.append(m)
    return out


def _reachable(m: ModelInfo, region: str) -> bool:
    return region in m.regions or any(g in m.profiles for g in geo_candidates(region)) or "global" in m.profiles


def _pick(m: ModelInfo, region: str) -> str:
    if region in m.regions:
        return m.id
    for g in (*geo_candidates(region), "global"):
        if g in m.profiles:
            return f"{g}.{m.id}"
    return m.id  # not offered from there as far as the catalog knows: let Bedrock answer


def resolve_alias(spec: str, region: str) -> str | None:
    """The model spec to call for ``spec`` from ``region`` if ``spec`` is an alias, else ``None``.

    A user alias (``reqbed.models.alias``) gives its target (itself resolved if it is an alias); a catalog
    alias gives the model id, prefixed with the inference profile for ``region`` when the model is not
    served on demand there (``us.``/``eu.``/``apac.``/``jp.``/``au.``, else ``global.``). Pure: no I/O
    beyond the first read of the catalog.
    """
    if not isinstance(spec, str):
        return None
    provider, sep, name = spec.partition(":")
    if sep and f"{provider}:" not in _PROVIDER_PREFIXES:
        return None
    name = name if sep else spec
    cat = catalog()
    for _ in range(8):  # user aliases may name other aliases; a cycle ends here
        target = cat.user_alias(name)
        if target is None:
            break
        inner = _strip_provider(target)
        if cat.user_alias(inner) is None and cat.by_alias(inner) is None:
            return target if target.startswith(_PROVIDER_PREFIXES) else f"bedrock:{target}"
        name = inner
    m = cat.by_alias(name)
    if m is None:
        return None
    return f"bedrock:{_pick(m, region)}"


def add_alias(name: str, model_spec: str, check_spec: Callable[[str], object]) -> None:
    """Make ``name`` (``"fast"`` or ``"bedrock:fast"``) call ``model_spec`` (a model spec or another alias).
    ``check_spec`` parses a target that is not an alias (``parse_model_spec``: passed in, since the
    model-spec parser itself asks this module about aliases)."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("must be a non-empty string", field="name")
    name = _strip_provider(name.strip())
    if ":" in name or "." in name or "/" in name:
        raise ValidationError(f"{name!r} looks like a model id; an alias is a plain name such as 'fast'", field="name")
    if not isinstance(model_spec, str) or not model_spec.strip():
        raise ValidationError("must be a model spec such as 'bedrock:us.amazon.nova-micro-v1:0'", field="model_spec")
    target = model_spec.strip()
    inner = _strip_provider(target)
    cat = catalog()
    if cat.by_alias(inner) is None and cat.user_alias(inner) is None:
        check_spec(target if target != inner else f"bedrock:{inner}")  # a real spec, or ValidationError
    cat.set_user_alias(name, target)


def capabilities_for(model_id: str) -> ModelCapabilities:
    """Capabilities of ``model_id`` (id, profile id, ARN or alias) from the catalog; permissive defaults
    for models the catalog does not know."""
    info = lookup(model_id)
    return ModelCapabilities() if info is None else info.capabilities
