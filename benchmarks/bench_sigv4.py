"""Benchmark: reqbed's SigV4 ``sign_headers`` against botocore on a typical 2 KB Converse request.

Run from the repository root::

    python benchmarks/bench_sigv4.py [--number N] [--repeat R]

botocore's side is what botocore does per request: build an ``AWSRequest`` and call
``SigV4Auth.add_auth`` (the signer object and frozen credentials are built once, in its favour).
reqbed's side includes reading the clock (``datetime.now``), as botocore's ``add_auth`` does.
Before timing, both sign the same request at a fixed clock and must produce the same
``Authorization`` header. Figures are medians over ``--repeat`` runs of ``--number`` calls (the
two sides' runs interleaved, so both see the same machine load).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import botocore
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from reqbed._aws.credentials_types import AwsCredentials
from reqbed._aws.sigv4 import sign_headers

# AWS's documented example credentials and an obviously fake session token.
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "EXAMPLE-SESSION-TOKEN/" + "x" * 400 + "=="
REGION = "us-east-1"
MODEL = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
URL = f"https://bedrock-runtime.{REGION}.amazonaws.com/model/{quote(MODEL, safe='')}/converse"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def converse_body(size: int = 2048) -> bytes:
    """A Converse request body of ``size`` bytes: system prompt, a short chat, inference config."""
    doc = {
        "system": [{"text": "You are a concise assistant. Answer in plain English."}],
        "messages": [
            {"role": "user", "content": [{"text": "Summarise the following notes."}]},
            {"role": "assistant", "content": [{"text": "Sure, please share them."}]},
            {"role": "user", "content": [{"text": ""}]},
        ],
        "inferenceConfig": {"maxTokens": 512, "temperature": 0.2, "topP": 0.9},
    }
    base = len(json.dumps(doc, ensure_ascii=False).encode())
    filler = ("Quarterly numbers were flat; the team shipped the new ingestion path. " * 64)[: size - base]
    doc["messages"][2]["content"][0]["text"] = filler
    body = json.dumps(doc, ensure_ascii=False).encode()
    assert len(body) == size, len(body)
    return body


def check_same_signature(body: bytes, token: str | None) -> None:
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    ours = sign_headers("POST", URL, HEADERS, body, credentials=AwsCredentials(ACCESS_KEY, SECRET, token),
                        region=REGION, now=now)
    req = AWSRequest(method="POST", url=URL, headers={**HEADERS, "X-Amz-Content-SHA256":
                                                      ours["X-Amz-Content-SHA256"]}, data=body)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now.replace(tzinfo=None)):
        SigV4Auth(Credentials(ACCESS_KEY, SECRET, token).get_frozen_credentials(), "bedrock", REGION).add_auth(req)
    if req.headers["Authorization"] != ours["Authorization"]:
        raise SystemExit(f"signatures differ:\n  reqbed   {ours['Authorization']}\n  botocore "
                         f"{req.headers['Authorization']}")


def bench(body: bytes, token: str | None, number: int, repeat: int) -> tuple[float, float]:
    creds = AwsCredentials(ACCESS_KEY, SECRET, token)
    now = datetime.now
    utc = timezone.utc

    def reqbed_call() -> None:
        sign_headers("POST", URL, HEADERS, body, credentials=creds, region=REGION, now=now(utc))

    frozen = Credentials(ACCESS_KEY, SECRET, token).get_frozen_credentials()
    signer = SigV4Auth(frozen, "bedrock", REGION)

    def botocore_call() -> None:
        # reqbed adds X-Amz-Content-SHA256 itself; give botocore the header-less request it would
        # normally sign (it then hashes the body itself, the same work).
        signer.add_auth(AWSRequest(method="POST", url=URL, headers=dict(HEADERS), data=body))

    reqbed_call()  # warm caches (signing key, imports)
    botocore_call()
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(repeat):  # interleaved, so both see the same machine load
        ours.append(timeit.timeit(reqbed_call, number=number))
        theirs.append(timeit.timeit(botocore_call, number=number))
    return statistics.median(ours) / number * 1e6, statistics.median(theirs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=15, help="timing runs (the median is reported)")
    args = parser.parse_args()

    body = converse_body()
    print(f"Python {sys.version.split()[0]}, botocore {botocore.__version__}; "
          f"Converse body {len(body)} B; median of {args.repeat} x {args.number} calls")
    for label, token in (("session token", TOKEN), ("long-term key", None)):
        check_same_signature(body, token)
        ours, theirs = bench(body, token, args.number, args.repeat)
        print(f"  {label:14s} reqbed sign_headers {ours:7.2f} us/call | botocore AWSRequest+SigV4Auth.add_auth "
              f"{theirs:7.2f} us/call | reqbed is {theirs / ours:5.1f}x faster")


if __name__ == "__main__":
    main()
