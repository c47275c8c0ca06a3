"""Embeddings without I/O: golden bodies per family (each golden cites its AWS page), answers parsed
and assembled in input order, every option refused on a model that cannot honour it, batching, the
real Cohere Embed v3 recordings rebuilt and parsed, and ``numpy.asarray`` over the vectors.

The end-to-end tests against the emulator are in tests/test_embed_emulator.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reqbed
from reqbed._embed.plan import FAMILIES, EmbedPlan, normalize_inputs, plan_embed
from tests.conftest import RECORDINGS

GOLDEN = Path(__file__).parent / "golden" / "embed"
PNG = reqbed.ImagePart(data=b"\x89PNG\r\n\x1a\n", media_type="image/png")

TITAN_V2 = "bedrock:amazon.titan-embed-text-v2:0"
TITAN_G1 = "bedrock:amazon.titan-embed-text-v1"
TITAN_MM = "bedrock:amazon.titan-embed-image-v1"
COHERE_EN = "bedrock:cohere.embed-english-v3"
COHERE_ML = "bedrock:cohere.embed-multilingual-v3"
COHERE_V4 = "bedrock:cohere.embed-v4:0"
NOVA = "bedrock:amazon.nova-2-multimodal-embeddings-v1:0"
ALL_MODELS = [TITAN_V2, TITAN_G1, TITAN_MM, COHERE_EN, COHERE_ML, COHERE_V4, NOVA]


def bodies(plan: EmbedPlan) -> list[dict[str, Any]]:
    return [json.loads(c.body) for c in plan.calls]


def answer(plan: EmbedPlan, answers: list[dict[str, Any]]) -> reqbed.Embeddings:
    parts = [
        plan.parse(call, 200, a.get("headers", {}), json.dumps(a["body"]).encode())
        for call, a in zip(plan.calls, answers, strict=True)
    ]
    return plan.assemble(parts)


# -- goldens (tests/golden/embed) -------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden_bodies_and_answers(path: Path) -> None:
    g = json.loads(path.read_text())
    assert g["source"].startswith("https://docs.aws.amazon.com/")
    plan = plan_embed(g["model"], g["inputs"], g["options"])
    assert bodies(plan) == g["bodies"]
    result = answer(plan, g["answers"])
    assert result.vectors == g["expect"]["vectors"]
    assert result.usage.input_tokens == g["expect"]["input_tokens"]
    assert result.embedding_type == g["expect"]["embedding_type"]
    assert result.model == g["model"].removeprefix("bedrock:")
    assert result.raw == [a["body"] for a in g["answers"]]
    kind = float if g["expect"]["embedding_type"] == "float" else int
    assert all(type(x) is kind for v in result.vectors for x in v)


def test_every_family_has_a_golden() -> None:
    covered = {plan_embed(json.loads(p.read_text())["model"], "x", {}).family for p in GOLDEN.glob("*.json")}
    assert covered == {f.name for f in FAMILIES}


def test_the_code_cites_each_golden_page() -> None:
    sources = {json.loads(p.read_text())["source"] for p in GOLDEN.glob("*.json")}
    code = "".join(p.read_text() for p in (Path(reqbed.__file__).parent / "_embed").glob("*.py"))
    for s in sources:
        assert s in code, s


# -- answers --------------------------------------------------------------------------------------


def test_cohere_plain_list_answer_is_read_as_float() -> None:
    """Without embedding_types Cohere answers ``embeddings`` as a plain list (AWS's page)."""
    plan = plan_embed(COHERE_EN, ["a", "b"], {})
    body = {"id": "x", "embeddings": [[1, 0.5], [0.25, 2]], "response_type": "embeddings_floats", "texts": ["a", "b"]}
    result = answer(plan, [{"body": body}])
    assert result.vectors == [[1.0, 0.5], [0.25, 2.0]]
    assert all(type(x) is float for v in result.vectors for x in v)
    assert result.usage.input_tokens == 0  # no header, no body count: nothing invented


def test_header_token_count_wins_over_the_body() -> None:
    plan = plan_embed(TITAN_V2, "hi", {})
    body = {"embedding": [0.5], "inputTextTokenCount": 7, "embeddingsByType": {"float": [0.5]}}
    assert answer(plan, [{"headers": {}, "body": body}]).usage.input_tokens == 7
    assert answer(plan, [{"headers": {"X-Amzn-Bedrock-Input-Token-Count": "2"}, "body": body}]).usage.input_tokens == 2


@pytest.mark.parametrize(
    "body",
    [
        {"embeddings": {"int8": [[1, 2]]}},  # asked float, answered int8
        {"embeddings": [[1.0], [2.0]]},  # two vectors for one input
        {"embeddings": "nope"},
        [],
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_clear_error(body: Any) -> None:
    plan = plan_embed(COHERE_EN, ["one"], {})
    with pytest.raises(reqbed.ModelStreamError, match=r"inputs\[0\]"):
        plan.parse(plan.calls[0], 200, {}, json.dumps(body).encode())


def test_int_types_refuse_non_integers() -> None:
    plan = plan_embed(COHERE_EN, ["one"], {"embedding_type": "int8"})
    with pytest.raises(reqbed.ModelStreamError):
        plan.parse(plan.calls[0], 200, {}, b'{"embeddings": {"int8": [[1.5]]}}')


def test_error_answers_map_to_the_error_tree() -> None:
    plan = plan_embed(TITAN_V2, ["a"], {})
    headers = {"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    with pytest.raises(reqbed.ThrottlingError):
        plan.parse(plan.calls[0], 429, headers, b'{"message": "Too many requests"}')
    with pytest.raises(reqbed.BadRequestError):
        plan.parse(plan.calls[0], 400, {"x-amzn-ErrorType": "ValidationException"}, b'{"message": "bad"}')


def test_assemble_needs_one_part_per_call() -> None:
    plan = plan_embed(TITAN_V2, ["a", "b"], {})
    part = plan.parse(plan.calls[0], 200, {}, b'{"embedding": [0.5], "inputTextTokenCount": 1}')
    with pytest.raises(ValueError, match="1 answers for 2 calls"):
        plan.assemble([part])


def test_embeddings_is_a_frozen_public_struct() -> None:
    e = reqbed.Embeddings(vectors=[[1.0, 2.0]], embedding_type="float", usage=reqbed.Usage(), model="m")
    assert len(e) == 1
    assert e.dimensions == 2
    with pytest.raises(AttributeError):
        e.model = "other"  # type: ignore[misc]
    assert msgspec.json.decode(msgspec.json.encode(e), type=reqbed.Embeddings) == e


def test_numpy_asarray_gives_a_2d_array() -> None:
    np = pytest.importorskip("numpy")
    plan = plan_embed(COHERE_EN, ["a", "b"], {"embedding_type": "int8"})
    body = {"embeddings": {"int8": [[-1, 2, 3], [4, -5, 6]]}}
    arr = np.asarray(answer(plan, [{"body": body}]).vectors)
    assert arr.shape == (2, 3)
    assert arr.dtype.kind == "i"
    floats = np.asarray(answer(plan_embed(COHERE_EN, ["a"], {}), [{"body": {"embeddings": [[0.5, 1]]}}]).vectors)
    assert floats.shape == (1, 2)
    assert floats.dtype == np.float64


# -- planning: one text per Titan request, Cohere batches of 96 ----------------------------------------


def test_titan_sends_one_text_per_request_in_order() -> None:
    texts = [f"text {i}" for i in range(25)]
    plan = plan_embed(TITAN_V2, texts, {"dimensions": 256})
    assert [c.indexes for c in plan.calls] == [(i,) for i in range(25)]
    assert [b["inputText"] for b in bodies(plan)] == texts
    assert plan.calls[7].describe() == "inputs[7]"


def test_cohere_splits_into_batches_of_96_in_order() -> None:
    texts = [f"t{i}" for i in range(200)]
    plan = plan_embed(COHERE_EN, texts, {})
    assert [len(c.indexes) for c in plan.calls] == [96, 96, 8]
    assert [t for b in bodies(plan) for t in b["texts"]] == texts
    assert plan.calls[1].describe() == "inputs[96..191]"
    vectors = [[float(i)] for i in range(200)]
    answers = [{"body": {"embeddings": {"float": [vectors[i] for i in c.indexes]}}} for c in plan.calls]
    assert answer(plan, answers).vectors == vectors


def test_cohere_v3_keeps_images_alone_and_order() -> None:
    plan = plan_embed(COHERE_EN, ["a", PNG, PNG, "b", "c"], {"input_type": "search_query"})
    assert [c.indexes for c in plan.calls] == [(0,), (1,), (2,), (3, 4)]
    assert [b["input_type"] for b in bodies(plan)] == ["search_query", "image", "image", "search_query"]
    with pytest.raises(reqbed.ValidationError) as e:
        plan_embed(COHERE_EN, ["a", PNG], {"input_type": "image"})
    assert e.value.field == "input_type"
    assert len(plan_embed(COHERE_EN, [PNG], {"input_type": "image"}).calls) == 1


def test_a_plan_never_shows_a_secret() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    po = {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": secret, "api_key": "ABSK-secret-key"}
    plan = plan_embed(TITAN_V2, ["a"], {"provider_options": po})
    assert secret not in repr(plan)
    assert "ABSK-secret-key" not in repr(plan)
    with pytest.raises(reqbed.ValidationError) as e:
        plan_embed(TITAN_V2, ["a"], {"provider_options": {**po, "regoin": "x"}})
    assert secret not in str(e.value)


def test_plan_carries_the_sender_settings() -> None:
    plan = plan_embed(TITAN_V2, ["a"], {"timeout": 30, "max_retries": 2, "max_concurrency": 4})
    assert (plan.timeout, plan.max_retries, plan.max_concurrency) == (30.0, 2, 4)
    assert plan.path == "/model/amazon.titan-embed-text-v2%3A0/invoke"
    assert plan_embed(TITAN_V2, ["a"], {}).max_concurrency == 16


def test_profiles_and_arns_resolve_the_family() -> None:
    plan = plan_embed("bedrock:us.cohere.embed-v4:0", ["a"], {"dimensions": 256})
    assert plan.family == "cohere"
    assert plan.path == "/model/us.cohere.embed-v4%3A0/invoke"
    arn = "bedrock:arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    with pytest.raises(reqbed.ValidationError, match="base_model") as e:
        plan_embed(arn, ["a"], {})
    assert e.value.field == "model"
    plan = plan_embed(arn, ["a"], {"provider_options": {"base_model": "amazon.titan-embed-text-v2:0"}})
    assert plan.family == "titan-text"


# -- validation: every option refused where the model cannot honour it --------------------------------

REFUSED = [
    # (model, option, value)
    (TITAN_V2, "input_type", "search_query"),
    (TITAN_V2, "truncate", "END"),
    (TITAN_V2, "embedding_type", "int8"),
    (TITAN_V2, "dimensions", 384),
    (TITAN_G1, "dimensions", 1024),
    (TITAN_G1, "normalize", True),
    (TITAN_G1, "embedding_type", "float"),
    (TITAN_G1, "input_type", "search_query"),
    (TITAN_MM, "normalize", True),
    (TITAN_MM, "input_type", "search_query"),
    (TITAN_MM, "truncate", "END"),
    (TITAN_MM, "embedding_type", "binary"),
    (TITAN_MM, "dimensions", 512),
    (COHERE_EN, "dimensions", 512),
    (COHERE_EN, "normalize", True),
    (COHERE_EN, "truncate", "LEFT"),
    (COHERE_EN, "input_type", "GENERIC_INDEX"),
    (COHERE_ML, "dimensions", 1024),
    (COHERE_V4, "normalize", False),
    (COHERE_V4, "truncate", "START"),
    (COHERE_V4, "dimensions", 384),
    (COHERE_V4, "input_type", "image"),
    (NOVA, "normalize", True),
    (NOVA, "embedding_type", "int8"),
    (NOVA, "dimensions", 512),
    (NOVA, "input_type", "search_query"),
    (NOVA, "truncate", "LEFT"),
]


@pytest.mark.parametrize(("model", "option", "value"), REFUSED)
def test_options_a_model_cannot_honour_are_refused(model: str, option: str, value: Any) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        plan_embed(model, ["hello"], {option: value})
    assert e.value.field == option
    assert model.removeprefix("bedrock:") in str(e.value)


ACCEPTED = [
    (TITAN_V2, {"dimensions": 256, "normalize": True, "embedding_type": "float"}),
    (TITAN_MM, {"dimensions": 1024}),
    (COHERE_EN, {"input_type": "clustering", "truncate": "START", "embedding_type": "uint8"}),
    (COHERE_ML, {"input_type": "classification", "embedding_type": "binary"}),
    (COHERE_V4, {"dimensions": 1536, "truncate": "LEFT", "embedding_type": "int8"}),
    (NOVA, {"dimensions": 3072, "input_type": "CLUSTERING", "truncate": "START"}),
]


@pytest.mark.parametrize(("model", "opts"), ACCEPTED)
def test_options_a_model_honours_are_sent(model: str, opts: dict[str, Any]) -> None:
    sent = json.dumps(bodies(plan_embed(model, ["hello"], opts)))
    for v in opts.values():
        assert json.dumps(v) in sent


@pytest.mark.parametrize(
    ("inputs", "opts", "field"),
    [
        ([], {}, "inputs"),
        ("", {}, "inputs[0]"),
        (["ok", "  "], {}, "inputs[1]"),
        ([1], {}, "inputs[0]"),
        (b"bytes", {}, "inputs"),
        ([[]], {}, "inputs[0]"),
        ([{"type": "image", "data": "", "media_type": "image/png"}], {}, "inputs[0].data"),
        (["ok"], {"dimension": 256}, "dimension"),
        (["ok"], {"dimensions": True}, "dimensions"),
        (["ok"], {"dimensions": "256"}, "dimensions"),
        (["ok"], {"normalize": "yes"}, "normalize"),
        (["ok"], {"embedding_type": "float16"}, "embedding_type"),
        (["ok"], {"input_type": 3}, "input_type"),
        (["ok"], {"max_concurrency": 0}, "max_concurrency"),
        (["ok"], {"timeout": -1}, "timeout"),
        (["ok"], {"provider_options": {"regoin": "us-east-1"}}, "provider_options"),
    ],
)
def test_bad_input_is_refused_naming_the_field(inputs: Any, opts: dict[str, Any], field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        plan_embed(TITAN_V2, inputs, opts)
    assert e.value.field == field


@pytest.mark.parametrize(
    ("model", "inputs", "field"),
    [
        (TITAN_V2, [PNG], "inputs[0]"),
        (TITAN_V2, [["a", "b"]], "inputs[0]"),
        (TITAN_MM, [["a", "b"]], "inputs[0]"),
        (TITAN_MM, ["ok", [PNG, PNG]], "inputs[1]"),
        (COHERE_EN, [["a", PNG]], "inputs[0]"),
        (NOVA, [["a", PNG]], "inputs[0]"),
        (NOVA, [reqbed.ImagePart(data=b"x", media_type="image/bmp")], "inputs[0]"),
    ],
)
def test_inputs_a_model_cannot_take_are_refused(model: str, inputs: Any, field: str) -> None:
    with pytest.raises(reqbed.ValidationError) as e:
        plan_embed(model, inputs, {})
    assert e.value.field == field


@pytest.mark.parametrize(
    "model", ["bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock:amazon.titan-embed-g9"]
)
def test_models_that_do_not_embed_are_refused(model: str) -> None:
    with pytest.raises(reqbed.ValidationError, match="not an embedding model") as e:
        plan_embed(model, ["a"], {})
    assert e.value.field == "model"


def test_inputs_take_strings_parts_dicts_and_groups() -> None:
    items = normalize_inputs(["a", reqbed.TextPart(text="b"), {"type": "text", "text": "c"}, ["d", PNG]])
    assert [i.kind for i in items] == ["text", "text", "text", "mixed"]
    assert normalize_inputs(PNG)[0].images == [PNG]


@pytest.mark.parametrize("model", ALL_MODELS)
def test_every_model_plans_a_plain_string(model: str) -> None:
    plan = plan_embed(model, "hello", {})
    assert len(plan.calls) == 1
    assert plan.input_count == 1


# -- real Bedrock recordings: Cohere Embed v3, single and batch -------------------------------------

needs_recordings = pytest.mark.skipif(not RECORDINGS.is_dir(), reason="../shared/bedrock-recordings is absent")


@needs_recordings
@pytest.mark.parametrize("name", ["embed_basic", "embed_batch"])
def test_real_cohere_v3_exchanges(name: str) -> None:
    rec = json.loads((RECORDINGS / "amazon_bedrock" / "cohere_embed_english_v3" / f"{name}.json").read_text())
    sent = rec["request"]["canonical_json"]
    plan = plan_embed(
        "bedrock:cohere.embed-english-v3",
        sent["texts"],
        {"input_type": sent["input_type"], "truncate": sent["truncate"], "embedding_type": sent["embedding_types"][0]},
    )
    assert len(plan.calls) == 1
    call = plan.calls[0]
    assert json.loads(call.body) == sent
    # byte-for-byte: the recorded x-amz-content-sha256 is of the canonical (sorted, compact) JSON
    canonical = json.dumps(json.loads(call.body), sort_keys=True, separators=(",", ":")).encode()
    assert hashlib.sha256(canonical).hexdigest() == rec["request"]["headers"]["x-amz-content-sha256"][0]
    assert urlsplit(rec["request"]["url"]).path == plan.path
    # The recorder normalised the answer ({"data": [{"embedding", "index"}]}); Bedrock's raw body is
    # {"embeddings": {"float": [...]}, ...} when embedding_types is sent: rebuild it from the values.
    data = sorted(rec["response"]["body"]["data"], key=lambda d: d["index"])
    raw = {"id": "recorded", "embeddings": {"float": [d["embedding"] for d in data]}, "texts": sent["texts"]}
    headers = {k: v[0] for k, v in rec["response"]["headers"].items()}
    result = plan.assemble([plan.parse(call, rec["response"]["status"], headers, json.dumps(raw).encode())])
    assert result.vectors == [d["embedding"] for d in data]
    assert len(result.vectors) == len(sent["texts"])
    assert result.dimensions == 1024
    assert result.usage.input_tokens == int(headers["x-amzn-bedrock-input-token-count"])


# -- planning, as a property: every input exactly once, in order, within the model's limits -----------

_ITEM = st.one_of(
    st.text(alphabet="abc xyz", min_size=1, max_size=8).filter(str.strip),
    st.just(PNG),
    st.just(["caption", PNG]),
)


@settings(max_examples=40, deadline=None)
@given(items=st.lists(_ITEM, min_size=1, max_size=220), model=st.sampled_from([COHERE_EN, COHERE_V4, TITAN_MM]))
def test_plans_cover_every_input_once_in_order(items: list[Any], model: str) -> None:
    if model == COHERE_EN:
        items = [i for i in items if not isinstance(i, list)] or ["x"]
    plan = plan_embed(model, items, {})
    flat = [i for c in plan.calls for i in c.indexes]
    assert flat == list(range(len(items)))
    for call, body in zip(plan.calls, bodies(plan), strict=True):
        fields = [k for k in ("texts", "images", "inputs") if k in body]
        if model == TITAN_MM:
            assert len(call.indexes) == 1
            continue
        assert len(fields) == 1
        assert len(body[fields[0]]) == len(call.indexes) <= (1 if (model == COHERE_EN and fields == ["images"]) else 96)
