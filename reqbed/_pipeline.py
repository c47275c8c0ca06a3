"""The pipeline, in order. This is the only place the step order is written.

    1. validate     ``build_chat_request``: model spec, prompt, options -> ChatRequest
    2. capabilities what the model can do, found once and kept on the request; refuse what it cannot
    3. formatter    the endpoint rule picks Converse or the family's native /invoke formatter
    4. body         the formatter builds the JSON body; encoded once to bytes
    5. route        region and endpoint URL; the model id is ONE encoded path segment
    6. credentials  sources 1-3 here (pure); source 4 (botocore's chain, STS) in the I/O shell
    7. sign         SigV4 or bearer, inside the transport, immediately before the bytes go out
    8. send         the transport
    9. decode       error mapping; the operation parses the body, or the stream is decoded

Steps 1-5 (and 6's sources 1-3) are pure and live here: ``prepare`` runs them for a chat call,
``relocate`` runs step 5 again for a region step 6 learned. Each verb is an *operation*
(``_operation``): it runs its own steps 1-5 into a ``Prepared`` and says how to do step 9; every
verb shares 6-8. Around them: every target (the call's, then each of ``fallbacks``) goes through
1-5 before any I/O; then one I/O-free flow (``_fallback.call_flow``) decides every attempt:
retries with backoff, fallbacks, the call's deadline, and one re-signed attempt after a
clock-skew refusal (``_flow.resign_on_skew``). ``Client._call`` / ``Client._acall`` (the only
send path, one sync and one async) run that flow, doing 6-8 and the operation's 9 for each
attempt. A stream leaves the flow once its first chunk is decoded.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import msgspec

from ._aws.credentials import DEFAULT_REGION, explicit_region, resolve_auth, resolve_endpoint
from ._aws.credentials_types import Auth, AwsCredentials, BearerToken
from ._aws.secret import SignedHeaders
from ._aws.sigv4 import sign_headers
from ._catalog._capabilities import family_capabilities
from ._errors import APIError, map_api_error
from ._families import Formatter, choose_formatter, family_for, request_headers
from ._families._common import check_capabilities, unexpected_shapes
from ._request import ChatRequest, ProviderOptions, build_chat_request
from ._types import Response

__all__ = ["ChatPrepared", "Prepared", "Site", "prepare", "relocate", "sign_for"]

_encode = msgspec.json.Encoder().encode

_PATHS = {
    ("converse", False): "converse",
    ("converse", True): "converse-stream",
    ("invoke", False): "invoke",
    ("invoke", True): "invoke-with-response-stream",
}

#: Step 5's endpoint rule for one kind of host: (provider options, region, environ) -> base URL.
Site = Callable[[Mapping[str, Any], str, Mapping[str, str]], str]


class Prepared:
    """One target of one call, ready to send: everything about it that needs no I/O.

    What every operation gives the send path: the HTTP method, the URL (``site`` for the region,
    then ``path``), body and headers; the SigV4 ``service``; the region (``region_explicit``
    False: it is the default, and a profile or a short-term API key may still set it); the
    credentials sources 1-3 found (``auth``; None until the shell runs the default chain); and
    ``label``, ``timeout``, ``max_retries`` for the attempt flow.
    """

    __slots__ = (
        "auth",
        "body",
        "environ",
        "headers",
        "label",
        "max_retries",
        "method",
        "path",
        "provider_options",
        "region",
        "region_explicit",
        "service",
        "site",
        "timeout",
        "url",
    )

    def __init__(
        self,
        *,
        method: str,
        site: Site,
        path: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        region: str,
        region_explicit: bool,
        provider_options: ProviderOptions,
        auth: Auth | None,
        label: str,
        environ: Mapping[str, str],
        service: str = "bedrock",
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.method = method
        self.site = site
        self.path = path
        self.url = url  # site(provider options, region, environ) + path
        self.body = body
        self.headers = headers
        self.region = region
        self.region_explicit = region_explicit
        self.provider_options = provider_options
        self.auth = auth
        self.label = label
        self.environ = environ
        self.service = service
        self.timeout = timeout
        self.max_retries = max_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r}, {self.method} {self.url!r})"


class ChatPrepared(Prepared):
    """A chat call's target: a ``Prepared`` plus the validated request and its formatter."""

    __slots__ = ("formatter", "request")

    def __init__(self, request: ChatRequest, formatter: Formatter, **wire: Any) -> None:
        super().__init__(**wire)
        self.request = request
        self.formatter = formatter

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


def relocate(p: Prepared, region: str | None) -> Prepared:
    """Step 5 again, for a region learned in step 6 (the profile's, or a short-term API key's):
    ``p`` moved to ``region`` (a copy; ``p`` is unchanged). Used only when no region was given
    explicitly; otherwise, or with no region learned, ``p`` itself."""
    if not region or p.region_explicit or region == p.region:
        return p
    moved = copy.copy(p)
    moved.url = p.site(p.provider_options.as_mapping(), region, p.environ) + p.path
    moved.region = region
    moved.region_explicit = True
    return moved


def prepare(
    model: str,
    prompt: Any,
    opts: Mapping[str, Any],
    *,
    stream: bool = False,
    environ: Mapping[str, str] | None = None,
) -> ChatPrepared:
    """Steps 1-6 (sources 1-3) of a chat call: everything that can fail on bad input fails here."""
    env = os.environ if environ is None else environ
    request = build_chat_request(model, prompt, opts, stream=stream)  # 1
    request.capabilities = caps = family_capabilities(request.spec) or family_for(request.spec).capabilities(
        request.spec
    )  # 2
    check_capabilities(request, caps)
    formatter = choose_formatter(request)  # 3
    body = _encode(formatter.build_body(request))  # 4
    po = request.provider_options
    options = po.as_mapping()
    given_region = explicit_region(options, request.spec.region, env)  # 5
    region = given_region or DEFAULT_REGION
    path = f"/model/{request.spec.path_segment}/{_PATHS[formatter.endpoint, stream]}"
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/vnd.amazon.eventstream" if stream else "application/json",
        **request_headers(request, formatter),
    }
    return ChatPrepared(
        request,
        formatter,
        method="POST",
        site=resolve_endpoint,
        path=path,
        url=resolve_endpoint(options, region, env) + path,
        body=body,
        headers=headers,
        region=region,
        region_explicit=given_region is not None,
        provider_options=po,
        auth=resolve_auth(options, env),  # 6 (sources 1-3)
        label=request.spec.spec,
        environ=env,
        timeout=request.timeout,
        max_retries=request.max_retries,
    )


def sign_for(
    auth: Auth,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    region: str,
    now: datetime | None = None,
    service: str = "bedrock",
) -> SignedHeaders:
    """Step 7: the auth headers for one attempt (called by the transport right before sending),
    held so that no ``repr`` (a traceback's locals) ever shows them."""
    if isinstance(auth, BearerToken):
        return SignedHeaders({"Authorization": f"Bearer {auth.token}"})
    assert isinstance(auth, AwsCredentials)
    return SignedHeaders(
        sign_headers(
            method,
            url,
            headers,
            body,
            credentials=auth,
            region=region,
            service=service,
            now=now or datetime.now(timezone.utc),
        )
    )
