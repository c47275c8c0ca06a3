"""The size-limit policy (``reqbed._limits``) and the hostile test server it will be tested against.

The policy is not enforced by the send path yet (issue 19 item 2 lands with the rewritten core);
these tests pin its defaults, its validation and its counter, and check that the hostile server's
own bounds hold, so later tests can rely on it.
"""

from __future__ import annotations

import zlib
from typing import Any

import httpx
import pytest

from reqbed import ValidationError
from reqbed._limits import Limits, ResponseTooLargeError
from tests.support.hostile_server import HostileServer, Reply, deep_json, endless, gzip_bomb, trickle

MIB = 1 << 20


def test_defaults_are_documented_values() -> None:
    limits = Limits()
    assert limits.max_response_bytes == 64 * MIB
    assert limits.max_error_body_bytes == 64 * 1024
    assert limits.max_stream_bytes == 512 * MIB
    assert limits.max_event_bytes == 16 * MIB


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_response_bytes": 0}, "limits.max_response_bytes"),
        ({"max_stream_bytes": -1}, "limits.max_stream_bytes"),
        ({"max_error_body_bytes": True}, "limits.max_error_body_bytes"),
        ({"max_event_bytes": 1.5}, "limits.max_event_bytes"),
        ({"max_event_bytes": 32 * MIB}, "limits.max_event_bytes"),
        ({"max_stream_bytes": 1024, "max_event_bytes": 2048}, "limits.max_event_bytes"),
        ({"max_response_bytes": 1024, "max_error_body_bytes": 2048}, "limits.max_error_body_bytes"),
    ],
)
def test_bad_limits_are_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Limits(**kwargs)
    assert info.value.field == field


def test_budget_raises_once_past_the_limit() -> None:
    budget = Limits(max_response_bytes=100, max_error_body_bytes=10).budget("response")
    budget.add(60)
    budget.add(40)
    assert budget.left() == 0
    with pytest.raises(ResponseTooLargeError, match=r"100 bytes.*max_response_bytes") as info:
        budget.add(1)
    assert info.value.limit == 100
    assert info.value.field == "max_response_bytes"
    assert Limits().budget("error_body").limit == 64 * 1024
    with pytest.raises(ValueError, match="unknown budget"):
        Limits().budget("other")


# -- the hostile server's own bounds ------------------------------------------------------------


def test_endless_body_is_bounded_by_the_server() -> None:
    with HostileServer(lambda m, p, b: Reply(200, [], chunks=endless()), max_bytes=2 * MIB) as srv:
        with httpx.Client() as client, client.stream("POST", srv.endpoint_url + "/x", content=b"{}") as resp:
            got = sum(len(c) for c in resp.iter_raw())
        assert got <= 2 * MIB
        assert got > MIB
        assert srv.requests == 1


def test_gzip_bomb_inflates_as_announced() -> None:
    bomb = gzip_bomb(8 * MIB)
    assert len(bomb) < 64 * 1024
    inflater = zlib.decompressobj(31)
    total = 0
    data = bomb
    while data:
        total += len(inflater.decompress(data, MIB))
        data = inflater.unconsumed_tail
    assert total == 8 * MIB


def test_trickle_and_deep_json() -> None:
    assert trickle(b"abcde", 2) == [b"ab", b"cd", b"e"]
    assert deep_json(3) == b"[[[1]]]"
    assert deep_json(2, key="k") == b'{"k":[[1]]}'


def test_raw_head_trickled_byte_by_byte() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    with HostileServer(lambda m, p, b: Reply(head=trickle(head, 8), delay=0.001)) as srv:
        resp = httpx.post(srv.endpoint_url + "/x", content=b"{}")
    assert resp.status_code == 200
    assert resp.content == b"ok"
