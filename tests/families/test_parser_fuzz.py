"""Bad input: the event-stream decoder and every formatter's parsers, fed garbage and near-misses.

The only acceptable failure is a ``reqbed.ReqbedError`` (``EventStreamError``, ``ModelStreamError``,
...): never a ``KeyError``, ``TypeError``, ``IndexError``, ``RecursionError``, never a hang.

Sizes: the default run is a smoke test (a few thousand decoder inputs, ~100 examples per hypothesis
test). ``nox -s fuzz`` sets ``REQBED_FUZZ_INPUTS=1000000`` (the decoder mutation loop) and
``REQBED_FUZZ_EXAMPLES`` (per hypothesis test); the seed of the mutation loop is printed on failure.

Near-misses matter more than noise: random bytes die at the first CRC, so the mutation loop also
re-computes both CRCs after mutating (reaching the header parser with hostile header blocks), and
the parser tests start from the emulator's valid answers for each family and replace subtrees.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reqbed
from reqbed._aws.eventstream import MAX_FRAME_LENGTH, EventStreamDecoder, encode_frame
from reqbed._families import FAMILIES
from reqbed._pipeline import Prepared, prepare
from reqbed._stream import StreamCore
from reqbed.testing import _converse_responder, _responders

INPUTS = int(os.environ.get("REQBED_FUZZ_INPUTS", "3000"))
EXAMPLES = int(os.environ.get("REQBED_FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("REQBED_FUZZ_SEED", "20240601"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# -- the event-stream decoder ------------------------------------------------------------------------------


def _frames() -> list[bytes]:
    uuid16 = bytes(range(16))
    return [
        encode_frame({":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}, b"{}"),
        encode_frame({":message-type": "event", ":event-type": "contentBlockDelta"}, b'{"delta":{"text":"hi"}}'),
        encode_frame(
            {":message-type": "exception", ":exception-type": "throttlingException"}, b'{"message":"slow down"}'
        ),
        encode_frame(
            {
                "t": True,
                "f": False,
                "byte": (2, -7),
                "short": (3, 300),
                "int": 70000,
                "long": 2**40,
                "bytes": b"\x00\xff",
                "str": "x" * 300,
                "uuid": (9, uuid16),
                "ts": (8, 1_700_000_000_000),
            },
            b"payload" * 40,
        ),
        encode_frame({}, b""),
        encode_frame({":message-type": "event"}, bytes(70_000)),  # over the decoder's slice threshold
    ]


FRAMES = _frames()


def _recrc(frame: bytearray) -> bytes:
    """Make both CRCs of a (mutated) frame right again, so the mutation reaches the parser."""
    if len(frame) >= 12:
        frame[8:12] = struct.pack(">I", zlib.crc32(bytes(frame[:8])))
    if len(frame) >= 16:
        frame[-4:] = struct.pack(">I", zlib.crc32(bytes(frame[:-4])))
    return bytes(frame)


def _mutate_frame(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        if op == 0 and data:  # flip bits
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and data:  # overwrite a byte
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 2:  # insert bytes
            i = rng.randint(0, len(data))
            data[i:i] = rng.randbytes(rng.randint(1, 8))
        elif op == 3 and len(data) > 1:  # delete a range
            i = rng.randrange(len(data))
            del data[i : i + rng.randint(1, 16)]
        elif op == 4 and len(data) >= 8:  # a hostile total length
            data[0:4] = struct.pack(">I", rng.choice([0, 1, 15, 16, len(data) + 1, MAX_FRAME_LENGTH + 1, 2**32 - 1]))
        elif op == 5 and len(data) >= 8:  # a hostile headers length
            data[4:8] = struct.pack(">I", rng.choice([0, 1, len(data), max(0, len(data) - 15), 2**17 + 1, 2**32 - 1]))
        elif op == 6 and len(data) > 13:  # a header type code out of range / a name length past the block
            data[12 + rng.randrange(len(data) - 13)] = rng.choice([10, 11, 255, 0, 6, 7])
        elif op == 7:  # truncate
            del data[rng.randint(0, len(data)) :]
    return _recrc(data) if rng.random() < 0.7 else bytes(data)


def _mutated_stream(rng: random.Random) -> bytes:
    frames = [rng.choice(FRAMES) for _ in range(rng.randint(1, 4))]
    k = rng.randrange(len(frames))
    frames[k] = _mutate_frame(rng, frames[k])
    if rng.random() < 0.05:
        frames.append(rng.randbytes(rng.randint(0, 64)))  # plain noise at the end
    return b"".join(frames)


def _feed_all(data: bytes, cuts: list[int]) -> list[Any]:
    decoder = EventStreamDecoder()
    frames: list[Any] = []
    prev = 0
    for c in [*sorted(cuts), len(data)]:
        frames.extend(decoder.feed(data[prev:c]))
        prev = c
    decoder.close()
    return frames


def test_decoder_mutation_fuzz() -> None:
    """``REQBED_FUZZ_INPUTS`` mutated streams (1,000,000 in ``nox -s fuzz``), each fed in random pieces."""
    rng = random.Random(SEED)
    outcomes: dict[str, int] = {}
    for i in range(INPUTS):
        data = _mutated_stream(rng)
        cuts = [rng.randint(0, len(data)) for _ in range(rng.choice([0, 0, 1, 3, 8]))]
        try:
            _feed_all(data, cuts)
            kind = "decoded"
        except reqbed.EventStreamError as e:
            kind = _refusal_kind(e.message)
        except Exception as e:  # pragma: no cover - the failure this test exists to find
            pytest.fail(f"input {i} (REQBED_FUZZ_SEED={SEED}): {type(e).__name__}: {e}; data={data[:200]!r}")
        outcomes[kind] = outcomes.get(kind, 0) + 1
    print(f"\n{INPUTS} mutated streams: {dict(sorted(outcomes.items(), key=lambda kv: -kv[1]))}")
    assert sum(outcomes.values()) == INPUTS
    # every layer was reached: whole frames, both CRCs, the prelude limits, the header parser, truncation
    assert {"decoded", "prelude CRC", "message CRC", "prelude", "headers", "truncated"} <= set(outcomes)


def _refusal_kind(message: str) -> str:
    if "prelude CRC" in message:
        return "prelude CRC"
    if "message CRC" in message:
        return "message CRC"
    if "truncated" in message:
        return "truncated"
    if "total_length" in message or "headers_length" in message:
        return "prelude"
    return "headers"


@FUZZ
@given(st.binary(max_size=2048), st.lists(st.integers(0, 2048), max_size=6))
def test_decoder_random_bytes(data: bytes, cuts: list[int]) -> None:
    with contextlib.suppress(reqbed.EventStreamError):
        _feed_all(data, [min(c, len(data)) for c in cuts])


@FUZZ
@given(st.integers(MAX_FRAME_LENGTH + 1, 2**32 - 1), st.integers(0, 2**32 - 1), st.binary(max_size=256))
def test_oversized_frames_are_refused_on_their_prelude(total: int, hlen: int, tail: bytes) -> None:
    """A prelude announcing more than 16 MiB is refused as soon as its 12 bytes are in: nothing of the
    announced size is ever allocated or waited for."""
    prelude = struct.pack(">II", total, hlen)
    prelude += struct.pack(">I", zlib.crc32(prelude))
    decoder = EventStreamDecoder()
    decoder.feed(prelude[:5])
    tracemalloc.start()
    try:
        with pytest.raises(reqbed.EventStreamError, match=r"limit|headers_length|total_length"):
            decoder.feed(prelude[5:] + tail)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024
    assert decoder.pending == 0


@FUZZ
@given(st.integers(16, MAX_FRAME_LENGTH), st.binary(max_size=512), st.integers(1, 64))
def test_a_large_declared_frame_buffers_only_what_arrived(total: int, body: bytes, step: int) -> None:
    """Within the limit, a frame still waits for its bytes without reserving the announced size."""
    prelude = struct.pack(">II", total, 0)
    data = prelude + struct.pack(">I", zlib.crc32(prelude)) + body
    decoder = EventStreamDecoder()
    fed = 0
    try:
        for i in range(0, len(data), step):
            piece = data[i : i + step]
            decoder.feed(piece)
            fed += len(piece)
            assert decoder.pending <= fed
    except reqbed.EventStreamError:
        return


# -- the formatters' parsers ---------------------------------------------------------------------------------

MODELS = {
    "anthropic": "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "meta": "meta.llama3-1-70b-instruct-v1:0",
    "cohere": "cohere.command-r-plus-v1:0",
    "openai": "openai.gpt-oss-120b-1:0",
}
TOOL = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
#: (request options, prompt) seeds: a plain answer, a tool call, thinking: more parser branches to mutate.
SEED_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("hello there", {}),
    ("use get_weather please", {"tools": [TOOL]}),
    ("think about it", {"thinking": {"budget_tokens": 1024}}),
]
FORMATTERS = ["converse", *sorted(f for f, fam in FAMILIES.items() if fam.native is not None)]


def _prepared(formatter: str, prompt: str, opts: dict[str, Any], stream: bool) -> Prepared | None:
    family = "anthropic" if formatter == "converse" else formatter
    po = {"region": "us-east-1", "api_key": "ABSKexample", "use_converse": formatter == "converse"}
    try:
        return prepare(f"bedrock:{MODELS[family]}", prompt, {**opts, "provider_options": po}, stream=stream)
    except reqbed.ValidationError:
        return None  # this family cannot take that request (e.g. no tools natively)


def _seed(formatter: str, p: Prepared) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """The emulator's valid answer for ``p``: the whole body and the stream's events."""
    body = json.loads(p.body)
    if formatter == "converse":
        answer = _converse_responder.answer(body, cache=set())
        return answer, list(_converse_responder.stream_events(answer))
    answer, events = _responders.BUILTIN_NATIVE[formatter](MODELS[formatter], body)
    return answer, [("chunk", e) for e in events]


def _cases() -> list[tuple[str, Prepared, Prepared, dict[str, Any], list[tuple[str, dict[str, Any]]]]]:
    out = []
    for formatter in FORMATTERS:
        for prompt, opts in SEED_CALLS:
            whole, streamed = _prepared(formatter, prompt, opts, False), _prepared(formatter, prompt, opts, True)
            if whole is None or streamed is None:
                continue
            answer, events = _seed(formatter, whole)
            out.append((formatter, whole, streamed, answer, events))
    return out


CASES = _cases()


def test_every_formatter_is_fuzzed() -> None:
    assert {c[0] for c in CASES} == set(FORMATTERS)
    assert {"converse", "anthropic", "meta", "cohere", "openai"} <= set(FORMATTERS)
    for _, whole, streamed, answer, events in CASES:  # the seeds themselves parse
        assert whole.formatter.parse_response(json.dumps(answer).encode(), whole.request).text is not None
        core = StreamCore(streamed)
        for et, ev in events:
            core.feed(_wire(streamed, et, ev))
        core.close()


def _keys(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


VOCAB = sorted(set().union(*(_keys([a, [e for _, e in ev]], set()) for *_, a, ev in CASES)))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["", "end_turn", "tool_use", "stop", "length", "COMPLETE", "message_stop", "{", "[]"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(VOCAB) | st.text(max_size=8), inner),
    max_leaves=20,
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    if delete and not rest:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete)
    return copy


@st.composite
def _mutant(draw: st.DrawFn, seed: Any) -> Any:
    """The seed with a few subtrees replaced by random JSON, or deleted."""
    value = seed
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        delete = bool(path) and draw(st.booleans())
        value = _replace(value, path, None if delete else draw(JSON), delete)
    return value


def _only_reqbed_errors(fn: Callable[[], Any]) -> None:
    with contextlib.suppress(reqbed.ReqbedError):
        fn()


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@FUZZ
@given(data=st.data())
def test_parse_response_takes_any_json(case: int, data: st.DataObject) -> None:
    _, whole, _, answer, _ = CASES[case]
    body = data.draw(st.one_of(_mutant(answer), JSON), label="body")
    raw = msgspec.json.encode(body)
    _only_reqbed_errors(lambda: whole.parse(200, {}, raw))  # the path every answer takes


@pytest.mark.parametrize("formatter", FORMATTERS)
@FUZZ
@given(raw=st.binary(max_size=200) | st.sampled_from([b"", b"null", b"[]", b"{", b'"x"', b"1e999", b"{}"]))
def test_parse_response_takes_any_bytes(formatter: str, raw: bytes) -> None:
    whole = next(c[1] for c in CASES if c[0] == formatter)
    _only_reqbed_errors(lambda: whole.parse(200, {}, raw))  # the path every answer takes


def _wire(p: Prepared, event_type: str, event: Any) -> bytes:
    """One event as it arrives on the wire (``/invoke`` streams wrap it in a base64 ``chunk``)."""
    payload = msgspec.json.encode(event)
    if p.formatter.endpoint == "invoke":
        payload = msgspec.json.encode({"bytes": base64.b64encode(payload).decode()})
    return encode_frame({":event-type": event_type, ":message-type": "event"}, payload)


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@FUZZ
@given(data=st.data())
def test_stream_parsers_take_any_events(case: int, data: st.DataObject) -> None:
    """The seed's events, some mutated, some dropped, duplicated or reordered, fed through StreamCore."""
    _, _, streamed, _, events = CASES[case]
    seq = list(events)
    for _ in range(data.draw(st.integers(0, 3))):
        op = data.draw(st.sampled_from(["mutate", "drop", "dup", "swap", "insert"]))
        if not seq:
            break
        i = data.draw(st.integers(0, len(seq) - 1))
        et, ev = seq[i]
        if op == "mutate":
            seq[i] = (et, data.draw(_mutant(ev)))
        elif op == "drop":
            del seq[i]
        elif op == "dup":
            seq.insert(i, seq[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(seq) - 1))
            seq[i], seq[j] = seq[j], seq[i]
        else:
            name = data.draw(st.sampled_from([et, "chunk", "metadata", "messageStop", "unknownEvent"]))
            seq.insert(i, (name, data.draw(JSON)))
    core = StreamCore(streamed)

    def run() -> None:
        for et, ev in seq:
            core.feed(_wire(streamed, et, ev))
        core.close()

    _only_reqbed_errors(run)
