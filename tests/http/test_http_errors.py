"""Whatever arrives on the wire, the answer is a 4xx OpenAI error envelope, never a 5xx or a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import CHAT, PLAIN, assert_error, post, post_raw, send

from mockserver import Config, MockServer
from mockserver.contract import request_parameters
from mockserver.http.request import MAX_VALUES

LIMIT = 4096


@pytest.fixture(scope="module")
def small_server() -> Iterator[MockServer]:
    with MockServer(Config(seed=3, max_body_bytes=LIMIT)) as running:
        yield running


@pytest.mark.parametrize("data", [b"{", b'{"model": "gpt-4o",}', b"", b"nul", b"{'model': 'gpt-4o'}",
                                  b'{"temperature": NaN}', b'{"n": Infinity}'],
                         ids=["truncated", "trailing comma", "empty", "bare word", "single quotes", "NaN", "Infinity"])
def test_malformed_json(server: MockServer, data: bytes) -> None:
    error = assert_error(post_raw(server.url, data), param=None)
    assert "could not parse the JSON body" in error["message"]


@pytest.mark.parametrize("body", [[PLAIN], "text", 42, None, True],
                         ids=["array", "string", "number", "null", "boolean"])
def test_body_that_is_not_an_object(server: MockServer, body: Any) -> None:
    error = assert_error(post(server.url, body))
    assert "expected an object" in error["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_wrong_content_type(server: MockServer, content_type: str) -> None:
    error = assert_error(post_raw(server.url, json.dumps(PLAIN).encode(), content_type=content_type), status=415)
    assert content_type in error["message"]


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.api+json", None])
def test_json_content_types_and_none_are_read(server: MockServer, content_type: str | None) -> None:
    assert post_raw(server.url, json.dumps(PLAIN).encode(), content_type=content_type).status == 200


@pytest.mark.parametrize("data", [b'{"model": "\xff\xfe", "messages": []}', b"\xef\xbb\xbf\xc3\x28",
                                  b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "\\ud800"}]}'],
                         ids=["invalid byte", "bad continuation", "lone surrogate escape"])
def test_invalid_utf8(server: MockServer, data: bytes) -> None:
    assert_error(post_raw(server.url, data))


def test_oversized_body_with_length(small_server: MockServer) -> None:
    body = {**PLAIN, "messages": [{"role": "user", "content": "x" * LIMIT}]}
    error = assert_error(post(small_server.url, body), status=413, code="request_too_large")
    assert str(LIMIT) in error["message"]


def test_oversized_chunked_body(small_server: MockServer) -> None:
    data = json.dumps({**PLAIN, "messages": [{"role": "user", "content": "x" * LIMIT}]}).encode()
    reply = send(small_server.url, "POST", CHAT, iter([data[:100], data[100:]]), {"Content-Type": "application/json"})
    assert_error(reply, status=413, code="request_too_large")


def test_body_at_the_limit_is_served(small_server: MockServer) -> None:
    data = json.dumps(PLAIN).encode()
    padded = data[:-1] + b" " * (LIMIT - len(data)) + b"}"
    assert len(padded) == LIMIT
    assert post_raw(small_server.url, padded).status == 200


def test_deeply_nested_body(server: MockServer) -> None:
    nested = b"[" * 300 + b"]" * 300
    data = json.dumps({**PLAIN, "tools": ["HOLE"]}).encode().replace(b'"HOLE"', nested)
    error = assert_error(post_raw(server.url, data))
    assert "levels deep" in error["message"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/nowhere", 404),
    ("POST", "/v1/moderations", 404),
    ("GET", "/v1/completions", 405),
    ("POST", "/v2/chat/completions", 404),
    ("GET", "/v1/chat/completions", 405),
    ("PUT", "/v1/chat/completions", 405),
    ("DELETE", "/v1/models", 405),
    ("POST", "/v1/models", 405),
])
def test_unknown_route_or_method(server: MockServer, method: str, path: str, status: int) -> None:
    error = assert_error(send(server.url, method, path, b"{}", {"Content-Type": "application/json"}), status=status)
    assert path in error["message"]


def test_unprefixed_route_is_served(server: MockServer) -> None:
    assert post_raw(server.url, json.dumps(PLAIN).encode(), path="/chat/completions").status == 200


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
ROLES = st.sampled_from(["user", "system", "developer", "assistant", "tool", "function", "robot"])
MESSAGE = st.fixed_dictionaries({"role": ROLES}, optional={
    "content": JSON_VALUES | st.text(max_size=30), "name": JSON_VALUES, "tool_call_id": JSON_VALUES,
    "tool_calls": JSON_VALUES, "refusal": JSON_VALUES})
PARAMETER_NAMES = st.sampled_from(sorted(request_parameters()))
NEAR_VALID = st.builds(
    lambda base, extra: {**base, **extra},
    st.fixed_dictionaries({"model": st.sampled_from(["gpt-4o-mini", "o3-mini", "gpt-4"]) | JSON_VALUES,
                           "messages": st.lists(MESSAGE, max_size=3) | JSON_VALUES}),
    st.dictionaries(PARAMETER_NAMES | st.text(max_size=10), JSON_VALUES, max_size=4),
)


@settings(max_examples=150)
@given(body=JSON_VALUES | NEAR_VALID)
def test_arbitrary_json_never_gets_a_server_error(server: MockServer, body: Any) -> None:
    reply = post_raw(server.url, json.dumps(body).encode())
    if reply.status == 200:
        return
    assert_error(reply, status=reply.status)
    assert 400 <= reply.status < 500


def test_a_body_of_millions_of_tiny_values_is_refused_before_parsing(server: MockServer) -> None:
    data = json.dumps({**PLAIN, "metadata": {"x": "HOLE"}}).encode().replace(b'"HOLE"', b"[" + b"{}," * MAX_VALUES + b"{}]")
    error = assert_error(post_raw(server.url, data), status=413, code="request_too_large")
    assert "JSON values" in error["message"]


def _near_valid(base: st.SearchStrategy[dict[str, Any]], schema_name: str) -> st.SearchStrategy[dict[str, Any]]:
    names = st.sampled_from(sorted(request_parameters(schema_name)))
    return st.builds(lambda body, extra: {**body, **extra}, base,
                     st.dictionaries(names | st.text(max_size=10), JSON_VALUES, max_size=4))


_ITEM_TYPES = st.sampled_from(["message", "function_call", "function_call_output", "reasoning", "web_search_call"])
_ITEM = st.fixed_dictionaries({}, optional={
    "type": _ITEM_TYPES | JSON_VALUES, "role": ROLES | JSON_VALUES, "content": JSON_VALUES | st.text(max_size=20),
    "call_id": st.sampled_from(["call_1", "call_2"]) | JSON_VALUES, "name": JSON_VALUES, "arguments": JSON_VALUES,
    "output": JSON_VALUES, "summary": JSON_VALUES})
_TOOL = st.fixed_dictionaries({"type": st.sampled_from(["function", "web_search"]) | JSON_VALUES},
                              optional={"name": st.sampled_from(["f", "g"]) | JSON_VALUES, "parameters": JSON_VALUES,
                                        "strict": JSON_VALUES})
_PROMPTS = st.text(max_size=30) | st.lists(st.integers(-5, 300_000), max_size=4) | JSON_VALUES
OTHER_BODIES = {
    "/v1/completions": _near_valid(st.fixed_dictionaries(
        {"model": st.sampled_from(["gpt-3.5-turbo-instruct", "davinci-002", "gpt-4o"]) | JSON_VALUES,
         "prompt": _PROMPTS | st.lists(_PROMPTS, max_size=3)}), "completion_request"),
    "/v1/embeddings": _near_valid(st.fixed_dictionaries(
        {"model": st.sampled_from(["text-embedding-3-small", "text-embedding-ada-002", "tiny"]) | JSON_VALUES,
         "input": _PROMPTS | st.lists(_PROMPTS, max_size=3)}), "embedding_request"),
    "/v1/responses": _near_valid(st.fixed_dictionaries(
        {"model": st.sampled_from(["gpt-4o-mini", "o3-mini"]) | JSON_VALUES,
         "input": st.text(max_size=20) | st.lists(_ITEM, max_size=4) | JSON_VALUES},
        optional={"tools": st.lists(_TOOL, max_size=2), "tool_choice": JSON_VALUES | st.sampled_from(
            ["auto", "required", "none"]), "text": JSON_VALUES, "previous_response_id": JSON_VALUES}),
        "response_request"),
}


@pytest.mark.parametrize("path", sorted(OTHER_BODIES))
def test_arbitrary_bodies_for_the_other_endpoints_never_get_a_server_error(server: MockServer, path: str) -> None:
    @settings(max_examples=150)
    @given(body=OTHER_BODIES[path] | JSON_VALUES)
    def check(body: Any) -> None:
        reply = post_raw(server.url, json.dumps(body).encode(), path=path)
        if reply.status == 200:
            return
        assert_error(reply, status=reply.status)
        assert 400 <= reply.status < 500

    check()
