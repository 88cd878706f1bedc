"""`/v1/embeddings`: the official client (float and base64), dimensions, unit length, usage, the real
limits, and vectors that retrieve by shared words."""

from __future__ import annotations

import base64
import json
import math
import struct

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import assert_error, post_raw, validator

from mockserver import MockServer
from mockserver.core.endpoints.embeddings import embed
from mockserver.core.generate.tokenizer import count, encode

SMALL = "text-embedding-3-small"
DOCUMENTS = ["The river flows past the old mill into the sea.",
             "Quarterly revenue grew by twelve percent in Europe.",
             "Our cat sleeps on the warm kitchen windowsill."]


def _client(server: MockServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def _post(server: MockServer, body: dict) -> object:
    return post_raw(server.url, json.dumps(body).encode(), path="/v1/embeddings")


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _decoded(text: str) -> list[float]:
    raw = base64.b64decode(text)
    return [value for (value,) in struct.iter_unpack("<f", raw)]


def test_float_reply_has_the_contract_shape(server: MockServer) -> None:
    reply = _post(server, {"model": SMALL, "input": DOCUMENTS, "encoding_format": "float"})
    body = reply.json()
    validator("embedding_list").validate(body)
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert all(len(item["embedding"]) == 1536 for item in body["data"])
    assert all(abs(math.sqrt(_cosine(v, v)) - 1) < 1e-5 for v in (item["embedding"] for item in body["data"]))
    tokens = sum(count(text, "cl100k_base") for text in DOCUMENTS)
    assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}


def test_base64_decodes_to_the_float_values(server: MockServer) -> None:
    as_float = _post(server, {"model": SMALL, "input": "hello world", "encoding_format": "float"}).json()
    as_base64 = _post(server, {"model": SMALL, "input": "hello world", "encoding_format": "base64"}).json()
    assert _decoded(as_base64["data"][0]["embedding"]) == as_float["data"][0]["embedding"]


def test_official_client_float_and_base64(server: MockServer) -> None:
    client = _client(server)
    default = client.embeddings.create(model=SMALL, input="hello world")  # the client asks for base64 and decodes
    floats = client.embeddings.create(model=SMALL, input="hello world", encoding_format="float")
    assert default.data[0].embedding == floats.data[0].embedding
    raw = client.embeddings.create(model=SMALL, input="hello world", encoding_format="base64")
    assert _decoded(raw.data[0].embedding) == floats.data[0].embedding


async def test_async_client_and_dimensions(server: MockServer) -> None:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as client:
        large = await client.embeddings.create(model="text-embedding-3-large", input=["a", "b"])
        short = await client.embeddings.create(model="text-embedding-3-large", input="a", dimensions=256)
        ada = await client.embeddings.create(model="text-embedding-ada-002", input="a")
    assert [len(item.embedding) for item in large.data] == [3072, 3072]
    assert len(short.data[0].embedding) == 256
    assert abs(math.sqrt(_cosine(short.data[0].embedding, short.data[0].embedding)) - 1) < 1e-5
    assert len(ada.data[0].embedding) == 1536


def test_retrieval_finds_the_document_with_the_query_words(server: MockServer) -> None:
    client = _client(server)
    vectors = [item.embedding for item in client.embeddings.create(model=SMALL, input=DOCUMENTS).data]
    for query, expected in (("where does the river flow", 0), ("revenue in Europe", 1), ("a sleeping cat", 2)):
        wanted = client.embeddings.create(model=SMALL, input=query).data[0].embedding
        ranked = sorted(range(len(DOCUMENTS)), key=lambda i: -_cosine(wanted, vectors[i]))
        assert ranked[0] == expected, (query, ranked)


def test_same_text_same_vector_and_token_input(server: MockServer) -> None:
    client = _client(server)
    one = client.embeddings.create(model=SMALL, input="stable text").data[0].embedding
    two = client.embeddings.create(model=SMALL, input=["other", "stable text"]).data[1].embedding
    as_tokens = client.embeddings.create(model=SMALL, input=[encode("stable text", "cl100k_base")]).data[0].embedding
    assert one == two == as_tokens


@pytest.mark.parametrize(("body", "param", "needle"), [
    ({"input": ""}, "input", "'$.input' is invalid"),
    ({"input": ["fine", ""]}, "input", "'$.input' is invalid"),
    ({"input": []}, "input", "empty array"),
    ({"input": ["x"] * 2049}, "input", "maximum length 2048"),
    ({"input": "word " * 9000}, None, "maximum context length is 8192 tokens"),
    ({"input": "x", "model": "text-embedding-ada-002", "dimensions": 8}, "dimensions", "does not support"),
    ({"input": "x", "dimensions": 5000}, "dimensions", "1536"),
    ({"input": "x", "dimensions": 0}, "dimensions", "minimum"),
    ({"input": "x", "encoding_format": "hex"}, "encoding_format", "Supported values"),
    ({"input": "x", "stream": True}, None, "Unrecognized request argument supplied: stream"),
    ({}, "input", "Missing required parameter"),
])
def test_refusals(server: MockServer, body: dict, param: str | None, needle: str) -> None:
    error = assert_error(_post(server, {"model": SMALL, **body}), param=param)
    assert needle in error["message"]


def test_request_token_total_is_bounded(server: MockServer) -> None:
    inputs = ["word " * 8000] * 40
    error = assert_error(_post(server, {"model": SMALL, "input": inputs}), param="input")
    assert "max 300000 tokens per request" in error["message"]


def test_a_chat_model_is_not_an_embeddings_model(server: MockServer) -> None:
    error = assert_error(_post(server, {"model": "gpt-4o", "input": "x"}), status=404, param="model")
    assert "v1/embeddings" in error["message"]


_LEFT = st.text(alphabet="abcdefghijkl", min_size=3, max_size=8)
_RIGHT = st.text(alphabet="mnopqrstuvwx", min_size=3, max_size=8)


@settings(max_examples=200)
@given(left=st.lists(_LEFT, min_size=1, max_size=12, unique=True), right=st.lists(_RIGHT, min_size=1, max_size=12),
       picks=st.lists(st.integers(0, 11), min_size=1, max_size=3), seed=st.integers(0, 2**32))
def test_a_query_is_nearer_the_document_that_holds_its_words(left: list[str], right: list[str], picks: list[int],
                                                             seed: int) -> None:
    """Lexical similarity: a query made of some words of one document is closer to it than to a document
    that shares no word (nor any piece of a word) with it, whatever the words, lengths and server seed."""
    query = " ".join(left[i % len(left)] for i in picks)
    holder, stranger = " ".join(left), " ".join(right)
    wanted = list(embed(query, SMALL, 1536, seed))
    assert _cosine(wanted, list(embed(holder, SMALL, 1536, seed))) > _cosine(wanted, list(embed(stranger, SMALL,
                                                                                                  1536, seed)))


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_the_body_written_vector_by_vector_is_the_list_object_encoded(encoding_format: str) -> None:
    import orjson

    from mockserver.core.endpoints.embeddings import body, embedding_list, plan
    from mockserver.core.generate.planner import Context

    planned = plan({"model": "text-embedding-3-large", "input": ["a river", "the sea", "x"],
                    "encoding_format": encoding_format, "dimensions": 64}, Context(server_seed=2, prompt_tokens=5))
    assert body(planned, ()) == orjson.dumps(embedding_list(planned))
