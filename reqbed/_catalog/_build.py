"""Rebuild ``catalog.json`` from Bedrock's control plane (needs AWS credentials).

    python -m reqbed._catalog._build --regions us-east-1 us-west-2 eu-west-1 ap-northeast-1
    python -m reqbed._catalog._build --check          # print what would change, write nothing

For each region: ``ListFoundationModels`` and every page of ``ListInferenceProfiles`` on
``bedrock.{region}.amazonaws.com``, signed with ``reqbed._aws.sigv4`` (service ``bedrock``), merged into the
curated catalog (``_control_plane.merge``): on-demand regions, profile prefixes, lifecycle and modalities
come from AWS; capabilities, aliases and prices stay curated (a new model arrives with permissive
capabilities and no prices). ``as_of`` becomes today's date. Credentials: ``provider_options``-style
IAM keys from the environment (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``) or
``reqbed.put_key``. ``--endpoint-url`` points it at the emulator (``reqbed.testing``).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from .._aws.credentials import resolve_iam
from .._aws.sigv4 import sign_headers
from ._control_plane import (
    list_foundation_models_request,
    list_inference_profiles_request,
    merge,
    parse_foundation_models,
    parse_inference_profiles,
)
from ._store import _CatalogFile
from ._types import ModelInfo

if TYPE_CHECKING:
    import httpx

    from .._aws.credentials_types import AwsCredentials

__all__ = ["fetch_region", "main", "rebuild"]

CATALOG = Path(__file__).with_name("catalog.json")
DEFAULT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "ap-southeast-2")


def _get(client: httpx.Client, url: str, credentials: AwsCredentials, region: str) -> bytes:
    headers = sign_headers("GET", url, {}, b"", credentials=credentials, region=region, now=datetime.now(timezone.utc))
    r = client.get(url, headers=headers)
    if r.status_code != 200:
        raise RuntimeError(f"GET {url.split('?')[0]}: HTTP {r.status_code} {r.text[:200]}")
    return r.content


def fetch_region(
    client: httpx.Client,
    region: str,
    models: tuple[ModelInfo, ...],
    credentials: AwsCredentials,
    *,
    endpoint_url: str | None = None,
) -> tuple[ModelInfo, ...]:
    """``models`` merged with what ``region``'s ``ListFoundationModels`` and ``ListInferenceProfiles`` say."""
    req = list_foundation_models_request(region, endpoint_url=endpoint_url)
    foundation = parse_foundation_models(_get(client, req.url, credentials, region))
    profiles = []
    token: str | None = None
    for _ in range(100):
        preq = list_inference_profiles_request(region, next_token=token, endpoint_url=endpoint_url)
        page, token = parse_inference_profiles(_get(client, preq.url, credentials, region))
        profiles += page
        if not token:
            break
    return merge(models, region, foundation, profiles)


def rebuild(
    client: httpx.Client,
    regions: tuple[str, ...],
    credentials: AwsCredentials,
    *,
    endpoint_url: str | None = None,
    source: Path = CATALOG,
) -> bytes:
    """The new ``catalog.json`` text."""
    data = msgspec.json.decode(source.read_bytes(), type=_CatalogFile)
    models = data.models
    for region in regions:
        models = fetch_region(client, region, models, credentials, endpoint_url=endpoint_url)
    sources = tuple(dict.fromkeys((*data.sources, *(f"bedrock:ListFoundationModels@{r}" for r in regions))))
    new = msgspec.structs.replace(
        data, models=models, as_of=datetime.now(timezone.utc).date().isoformat(), sources=sources
    )
    return msgspec.json.format(msgspec.json.encode(new), indent=1) + b"\n"


def main(argv: list[str] | None = None) -> int:
    import httpx

    parser = argparse.ArgumentParser(prog="python -m reqbed._catalog._build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", nargs="+", default=list(DEFAULT_REGIONS))
    parser.add_argument("--endpoint-url", default=None, help="control-plane endpoint (e.g. the emulator)")
    parser.add_argument("--out", type=Path, default=CATALOG)
    parser.add_argument("--check", action="store_true", help="report whether the catalog would change")
    args = parser.parse_args(argv)
    creds = resolve_iam({}, os.environ)
    if creds is None:
        print(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)",
            file=sys.stderr,
        )
        return 2
    with httpx.Client(timeout=30) as client:
        text = rebuild(client, tuple(args.regions), creds, endpoint_url=args.endpoint_url)
    if args.check:
        changed = not args.out.exists() or args.out.read_bytes() != text
        print("catalog would change" if changed else "catalog is up to date")
        return 1 if changed else 0
    args.out.write_bytes(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
