"""The pipeline, in order. This is the only place the step order is written.

    1. validate     ``build_chat_request``: model spec, prompt, options -> ChatRequest
    2. capabilities refuse what the model cannot do (``check_capabilities``)
    3. formatter    the endpoint rule picks Converse or the family's native /invoke formatter
    4. body         the formatter builds the JSON body; encoded once to bytes
    5. route        region and endpoint URL; the model id is ONE encoded path segment
    6. credentials  sources 1-3 here (pure); source 4 (botocore's chain, STS) in the I/O shell
    7. sign         SigV4 or bearer, inside the transport, immediately before the bytes go out
    8. send         the transport (the only code with sync and async variants: ``_client.py``)
    9. decode       error mapping; the formatter parses the body, or the stream is decoded

Steps 1-5 and 9 are pure and live here; 6's chain, 7 and 8 run in ``_client.py``.
Around them: every target (the model, then each of ``fallbacks``) goes through 1-5 before any
I/O; steps 6-9 then run once per attempt inside ``_fallback.run_sync`` / ``run_async`` (retries
with backoff, fallbacks, the call's deadline), a clock-skew refusal re-running 7-8 once
(``_clock``). A stream leaves that loop once its first chunk is decoded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import msgspec

from ._aws.credentials import DEFAULT_REGION, explicit_region, resolve_auth, resolve_endpoint
from ._aws.credentials_types import Auth, AwsCredentials, BearerToken
from ._aws.sigv4 import sign_headers
from ._errors import APIError, map_api_error
from ._families import Formatter, choose_formatter, family_for, request_headers
from ._families._common import check_capabilities, unexpected_shapes
from ._request import ChatRequest, build_chat_request
from ._types import Response

__all__ = ["Prepared", "prepare", "sign_for"]

_encode = msgspec.json.Encoder().encode

_PATHS = {
    ("converse", False): "converse",
    ("converse", True): "converse-stream",
    ("invoke", False): "invoke",
    ("invoke", True): "invoke-with-response-stream",
}


class Prepared:
    """Everything about one call that does not need I/O: what to send, where, how to read it."""

    __slots__ = ("auth", "body", "environ", "formatter", "headers", "region", "region_explicit", "request", "url")

    def __init__(
        self,
        request: ChatRequest,
        formatter: Formatter,
        url: str,
        body: bytes,
        region: str,
        headers: dict[str, str],
        auth: Auth | None,
        *,
        region_explicit: bool = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.request = request
        self.formatter = formatter
        self.url = url
        self.body = body
        self.region = region
        self.headers = headers
        self.auth = auth  # None until the shell ran the default chain
        self.region_explicit = region_explicit  # False: ``region`` is the default; a profile may set it
        self.environ = environ

    def __repr__(self) -> str:
        return f"Prepared({self.request.spec.spec!r}, {self.url!r}, formatter={self.formatter.name!r})"

    def parse(self, status: int, headers: Mapping[str, str], body: bytes) -> Response:
        """Step 9 for a non-streaming answer: raise the mapped error, or parse the body."""
        if status >= 300:
            raise self.error(status, headers, body)
        with unexpected_shapes(f"the {self.formatter.name} answer"):
            response = self.formatter.parse_response(body, self.request, headers)
        return msgspec.structs.replace(response, served_by=self.request.spec.spec)

    def error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIError:
        return map_api_error(status, headers, body)

    def adopt_region(self, region: str | None) -> None:
        """Step 5 again, for a region learned in step 6 (the profile's, or a short-term API key's):
        used only when no region was given explicitly. Recomputes the URL for the new region."""
        if not region or self.region_explicit or region == self.region:
            return
        env = os.environ if self.environ is None else self.environ
        base = resolve_endpoint(self.request.provider_options.as_mapping(), region, env)
        self.url = _model_url(base, self.request, self.formatter)
        self.region = region
        self.region_explicit = True


def _model_url(base: str, request: ChatRequest, formatter: Formatter) -> str:
    return f"{base}/model/{request.spec.path_segment}/{_PATHS[formatter.endpoint, request.stream]}"


def prepare(
    model: str,
    prompt: Any,
    opts: Mapping[str, Any],
    *,
    stream: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Prepared:
    """Steps 1-6 (sources 1-3): everything that can fail on bad input fails here."""
    env = os.environ if environ is None else environ
    request = build_chat_request(model, prompt, opts, stream=stream)  # 1
    check_capabilities(request, family_for(request.spec).capabilities(request.spec))  # 2
    formatter = choose_formatter(request)  # 3
    body = _encode(formatter.build_body(request))  # 4
    po = request.provider_options.as_mapping()
    given_region = explicit_region(po, request.spec.region, env)  # 5
    region = given_region or DEFAULT_REGION
    base = resolve_endpoint(po, region, env)
    url = _model_url(base, request, formatter)
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/vnd.amazon.eventstream" if stream else "application/json",
        **request_headers(request, formatter),
    }
    auth = resolve_auth(po, env)  # 6 (sources 1-3)
    return Prepared(
        request, formatter, url, body, region, headers, auth, region_explicit=given_region is not None, environ=env
    )


def sign_for(
    auth: Auth,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    region: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """Step 7: the auth headers for one attempt (called by the transport right before sending)."""
    if isinstance(auth, BearerToken):
        return {"Authorization": f"Bearer {auth.token}"}
    assert isinstance(auth, AwsCredentials)
    return sign_headers(
        method,
        url,
        headers,
        body,
        credentials=auth,
        region=region,
        service="bedrock",
        now=now or datetime.now(timezone.utc),
    )
