"""Valid requests broken at every JSON path (numbers at the float and 64-bit edges, deep nesting, unicode
edges, wrong types, huge lists) get an answer within seconds: a reply, or a 4xx error envelope, never a
5xx. Requests that ask for unbounded work are refused by validation, naming the cause, while a cheap
request sent alongside is served."""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from wire import PLAIN, Reply, assert_completion, assert_error, chat, validator

from mockserver import Config, MockServer

REPLY_SECONDS = 10
"""Every reply must arrive within this (the mock's work budget is a fraction of a second)."""
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "250"))
"""Mutated requests per run; `HOSTILE_EXAMPLES=20000` for a long hunt."""
TOOL_SCHEMAS = json.loads((Path(__file__).parents[1] / "fixtures" / "tool_schemas.json").read_text())
USER = {"role": "user", "content": "What is the weather in Paris? Answer in JSON."}


def _function(name: str, parameters: Any) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


BOUNDS = {"type": "object", "properties": {
    "days": {"type": "integer", "minimum": 1, "maximum": 14},
    "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "multipleOf": 0.25},
    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{2,5}$"}, "minItems": 1, "maxItems": 3},
    "mode": {"enum": ["fast", "slow"]},
    "code": {"type": "string", "minLength": 2, "maxLength": 8}}, "required": ["days", "ratio", "tags"]}
RECURSIVE = {"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"}, "children": {
    "type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["value"]}}, "$ref": "#/$defs/node"}
SEEDS: list[dict[str, Any]] = [
    {**PLAIN},
    {**PLAIN, "messages": [{"role": "system", "content": "Be brief."}, USER], "n": 2, "logprobs": True,
     "top_logprobs": 2, "max_tokens": 12, "stop": ["."], "temperature": 0.5, "seed": 3},
    {**PLAIN, "messages": [USER], "tools": [_function("plan", BOUNDS), _function("tree", RECURSIVE)],
     "tool_choice": "required"},
    {**PLAIN, "messages": [USER], "tools": [
        {"type": "custom", "custom": {"name": "shell", "format": {"type": "grammar", "grammar": {
            "syntax": "regex", "definition": "^(ls|cat) [a-z]{1,8}\\.txt$"}}}},
        {"type": "custom", "custom": {"name": "notes"}}]},
    {**PLAIN, "messages": [USER], "response_format": {"type": "json_schema", "json_schema": {
        "name": TOOL_SCHEMAS[0]["name"], "strict": True, "schema": TOOL_SCHEMAS[0]["schema"]}}, "stream": True,
     "stream_options": {"include_usage": True}},
    {**PLAIN, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Describe"},
                                     {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "plan", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "sunny"}]}],
     "tools": [_function("plan", BOUNDS)]},
]


class Raw:
    """JSON text spliced into the body as it is (what `json.dumps` cannot write, like `1e400`)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _deep(depth: int, leaf: Any) -> Any:
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"a": leaf}
    return leaf


EDGE_NUMBERS = st.sampled_from([
    1e308, -1e308, 1.7976931348623157e308, 5e-324, -0.0, 0.1, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1,
    2**64, 2**70, -(2**70), 10**30, 0, -1, 1, 1.5, Raw("1e400"), Raw("-1e400"), Raw("1e-400"), Raw("123456789" * 8)])
UNICODE = st.sampled_from(["", "\x00", "\u0000nul", "\ud800", "\udfff", "\uffff", "\U0010ffff", "\u202eevil",
                           "e\u0301", "\U0001f600" * 50, "x" * 100_000, "\\u0000", "\u2028\u2029", "NaN", "1e400"])
WRONG_TYPES = st.sampled_from([None, True, False, 0, -1, 1.5, "", "x", [], {}, [None], [{}], {"": None}])
HUGE_LISTS = st.sampled_from([
    [None] * 5_000, ["x"] * 20_000, [{}] * 5_000, [{"type": "text", "text": "x"}] * 5_000, [[[]]] * 2_000,
    list(range(10_000)), [{"role": "user", "content": "x"}] * 3_000])
DEEP = st.sampled_from([_deep(150, 1), _deep(199, None), _deep(400, "x"), _deep(60, [1] * 10)])
HOSTILE = st.one_of(EDGE_NUMBERS, UNICODE, WRONG_TYPES, HUGE_LISTS, DEEP,
                    st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                                                       allow_infinity=False)
                                 | st.text(max_size=20),
                                 lambda children: st.lists(children, max_size=4)
                                 | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*path, key))


def _put(node: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    copy = list(node) if isinstance(node, list) else dict(node)
    if len(path) == 1 and delete:
        del copy[path[0]]
    else:
        copy[path[0]] = _put(node[path[0]], path[1:], value, delete)
    return copy


def _encode(body: Any) -> bytes:
    raws: list[str] = []

    def default(value: Any) -> str:
        raws.append(value.text)
        return f"\x00raw{len(raws) - 1}\x00"

    text = json.dumps(body, default=default)
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{index}\x00"), raw)
    return text.encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(SEEDS))
    paths = list(_paths(seed))
    path = draw(st.sampled_from(paths[1:]))
    delete = draw(st.booleans()) and draw(st.booleans())
    body = _put(seed, path, draw(HOSTILE), delete)
    if draw(st.booleans()) and isinstance(body, dict):
        body = {**body, draw(st.sampled_from(["tools", "n", "messages", "response_format", "stop", "logit_bias"])):
                draw(HOSTILE)}
    return _encode(body)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(Config(seed=11, clock=1_700_000_000)) as running:
        yield running


def _post(server: MockServer, data: bytes) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REPLY_SECONDS)
    try:
        connection.request("POST", "/v1/chat/completions", data, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutated())
def test_broken_requests_get_a_reply_or_an_envelope_in_time(server: MockServer, data: bytes) -> None:
    reply = _post(server, data)
    event(f"status {reply.status}")
    assert reply.status < 500, reply.raw[:500]
    if reply.status == 200:
        assert reply.headers["content-type"].startswith(("application/json", "text/event-stream")), reply.headers
        if reply.headers["content-type"].startswith("application/json"):
            validator("chat_completion").validate(reply.json())
        return
    assert_error(reply, status=reply.status)


CUSTOM_TOOLS = [{"type": "custom", "custom": {"name": "shell"}}, {"type": "custom", "custom": {
    "name": "sql", "format": {"type": "grammar", "grammar": {"syntax": "regex", "definition": "^SELECT [a-z]+$"}}}}]


@pytest.mark.parametrize("content", [Raw("1e400"), [{"a": 1}], [None] * 3, [None] * 100_000, ["x"] * 100_000,
                                     [{"type": "text", "text": "x"}] * 50_000 + [{"type": "text"}]],
                         ids=["1e400", "list holding an object", "list of nulls", "100,000 nulls", "100,000 strings",
                              "bad part after 50,000 good ones"])
def test_content_the_schema_refuses_is_refused_before_generation(server: MockServer, content: Any) -> None:
    body = {**PLAIN, "messages": [{"role": "user", "content": content}], "tools": CUSTOM_TOOLS}
    reply = _post(server, _encode(body))
    error = assert_error(reply)
    assert error["param"] is None or error["param"].startswith("messages.[0].content"), error


def _grammar(definition: str) -> dict[str, Any]:
    return {"type": "custom", "custom": {"name": "c", "format": {"type": "grammar", "grammar": {
        "syntax": "regex", "definition": definition}}}}


WIDE = {"type": "object", "required": [f"p{i}" for i in range(20)], "properties": {
    f"p{i}": {"type": "array", "minItems": 50, "items": {"type": "array", "minItems": 50, "items": {
        "type": "string", "minLength": 40}}} for i in range(20)}}
GRAMMAR = "tools.[0].custom.format.grammar.definition"
BUDGET_CASES = [
    ("nested exact repetition", {"tools": [_grammar("((a{100}){100}){100}")]}, GRAMMAR),
    ("huge pattern", {"tools": [_grammar("(ab|cd)" * 20_000)]}, GRAMMAR),
    ("many values", {"tools": [_function("wide", WIDE)]}, "tools.[0].function.parameters"),
    ("many values in a response format", {"response_format": {"type": "json_schema", "json_schema": {
        "name": "wide", "schema": WIDE}}}, "response_format"),
]


@pytest.mark.parametrize(("fields", "param"), [(fields, param) for _, fields, param in BUDGET_CASES],
                         ids=[name for name, _, _ in BUDGET_CASES])
def test_work_beyond_the_budget_is_refused_by_validation(server: MockServer, fields: dict[str, Any],
                                                         param: str) -> None:
    error = assert_error(chat(server.url, messages=[USER], **fields), param=param)
    assert "steps of work the mock spends on one request" in error["message"]


def test_the_budget_names_the_place_in_the_schema(server: MockServer) -> None:
    error = assert_error(chat(server.url, messages=[USER], tools=[_function("wide", WIDE)]))
    assert "(at #/properties/p" in error["message"]


@pytest.mark.parametrize("bound", [1e308, -1e308, 2**70, -(2**70), 10**30])
def test_numeric_bounds_at_the_edges_are_served_or_refused_by_name(server: MockServer, bound: Any) -> None:
    for kind in ("integer", "number"):
        for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            schema = {"type": "object", "properties": {"days": {"type": kind, keyword: bound}}, "required": ["days"]}
            reply = chat(server.url, messages=[USER], tools=[_function("f", schema)], tool_choice="required")
            if reply.status == 200:
                arguments = json.loads(assert_completion(reply)["choices"][0]["message"]["tool_calls"][0]
                                       ["function"]["arguments"])
                value = arguments["days"]
                assert isinstance(value, (int, float))
                if kind == "integer":
                    assert isinstance(value, int) and -(2**63) <= value < 2**63
            else:
                error = assert_error(reply, param="tools.[0].function.parameters")
                assert "(at #/properties/days)" in error["message"], error


def test_a_cheap_request_is_served_while_another_uses_up_its_budget(server: MockServer) -> None:
    heavy = json.dumps({**PLAIN, "messages": [USER], "tools": [_function("wide", WIDE)]}).encode()
    outcomes: list[int] = []
    workers = [threading.Thread(target=lambda: outcomes.append(_post(server, heavy).status)) for _ in range(4)]
    for worker in workers:
        worker.start()
    cheap = [assert_completion(chat(server.url)) for _ in range(5)]
    for worker in workers:
        worker.join(REPLY_SECONDS)
    assert len(cheap) == 5 and outcomes == [400] * 4


@pytest.mark.parametrize(("messages", "param"), [
    ([{"role": "user", "content": [{"type": "text", "text": "x"}] * 50_000 + [{"type": "text"}]}],
     "messages.[0].content.[50000].text"),
    ([{"role": "user", "content": "x"}] * 30_000 + [{"role": "robot", "content": "x"}], "messages.[30000].role"),
    ([{"role": "user", "content": "x"}] * 300 + [{"role": "user"}], "messages.[300].content"),
])
def test_an_error_deep_in_a_long_list_names_its_real_index(server: MockServer, messages: list[Any],
                                                           param: str) -> None:
    assert_error(chat(server.url, messages=messages), param=param)


def test_a_list_too_long_reports_its_real_length(server: MockServer) -> None:
    error = assert_error(chat(server.url, stop=["x"] * 100_000), param="stop")
    assert "length 100000" in error["message"]
