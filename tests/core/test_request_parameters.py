"""Every request parameter of the contract is accepted with a valid value and type/range checked.

The lists of parameters, roles, content part kinds, types and bounds are read from the request schema,
so a field added to `fixtures/schemas/` without an example here fails `test_every_parameter_has_an_example`.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import PLAIN, assert_completion, assert_error, chat, post

from mockserver import MockServer
from mockserver.contract import schema
from mockserver.contract.errors import ApiError
from mockserver.core.validate.request import validate_request

REQUEST = schema("chat_completion_request")
DEFS = REQUEST["$defs"]
USER = {"role": "user", "content": "What is the weather like?"}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                                              "parameters": {"type": "object",
                                                             "properties": {"city": {"type": "string"}},
                                                             "required": ["city"]}}}
SEARCH = {"type": "custom", "custom": {"name": "search", "description": "Free-text search",
                                       "format": {"type": "text"}}}

# One valid use of each parameter, with the companions it needs (top_logprobs needs logprobs, ...).
VALID: dict[str, dict[str, Any]] = {
    "audio": {"model": "gpt-4o-audio-preview", "audio": {"voice": "alloy", "format": "mp3"}},
    "frequency_penalty": {"frequency_penalty": 1.5},
    "function_call": {"function_call": "none", "functions": [WEATHER["function"]]},
    "functions": {"functions": [WEATHER["function"]]},
    "logit_bias": {"logit_bias": {"1000": -100, "2000": 5}},
    "logprobs": {"logprobs": True},
    "max_completion_tokens": {"max_completion_tokens": 7},
    "max_tokens": {"max_tokens": 7},
    "messages": {"messages": [{"role": "system", "content": "Be brief."}, USER]},
    "metadata": {"metadata": {"team": "billing", "ticket": "42"}},
    "modalities": {"modalities": ["text"]},
    "model": {"model": "gpt-4.1"},
    "moderation": {"moderation": {"model": "omni-moderation-latest",
                                  "policy": {"input": {"mode": "block"}, "output": {"mode": "score"}}}},
    "n": {"n": 3},
    "parallel_tool_calls": {"parallel_tool_calls": False, "tools": [WEATHER]},
    "prediction": {"prediction": {"type": "content", "content": "The weather is sunny."}},
    "presence_penalty": {"presence_penalty": -1.0},
    "prompt_cache_key": {"prompt_cache_key": "tenant-17"},
    "prompt_cache_options": {"prompt_cache_options": {"ttl": "30m", "mode": "implicit"}},
    "prompt_cache_retention": {"prompt_cache_retention": "24h"},
    "reasoning_effort": {"model": "o3-mini", "reasoning_effort": "high"},
    "response_format": {"response_format": {"type": "json_object"},
                        "messages": [{"role": "user", "content": "Answer in JSON."}]},
    "safety_identifier": {"safety_identifier": "user-7f3a"},
    "seed": {"seed": 1234},
    "service_tier": {"service_tier": "flex"},
    "stop": {"stop": ["\n\n", "END"]},
    "store": {"store": True},
    "stream": {"stream": False},
    "stream_options": {"stream": True, "stream_options": {"include_usage": True}},
    "temperature": {"temperature": 0.2},
    "tool_choice": {"tool_choice": "none", "tools": [WEATHER]},
    "tools": {"tools": [WEATHER, SEARCH], "tool_choice": "none"},
    "top_logprobs": {"logprobs": True, "top_logprobs": 5},
    "top_p": {"top_p": 0.9},
    "user": {"user": "customer-77"},
    "verbosity": {"verbosity": "low"},
    "web_search_options": {"web_search_options": {
        "search_context_size": "low",
        "user_location": {"type": "approximate", "approximate": {"country": "FR", "city": "Paris"}}}},
}

# Extra values that exercise the other branches of a parameter's union.
VARIANTS: list[dict[str, Any]] = [
    {"stop": "END"},
    {"stop": None},
    {"response_format": {"type": "text"}},
    {"response_format": {"type": "json_schema", "json_schema": {
        "name": "answer", "strict": True,
        "schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
                   "additionalProperties": False}}}},
    {"tools": [WEATHER], "tool_choice": "auto"},
    {"tools": [WEATHER], "tool_choice": "required"},
    {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    {"tools": [SEARCH], "tool_choice": {"type": "custom", "custom": {"name": "search"}}},
    {"tools": [WEATHER, SEARCH], "tool_choice": {"type": "allowed_tools", "allowed_tools": {
        "mode": "auto", "tools": [{"type": "function", "function": {"name": "get_weather"}}]}}},
    {"functions": [WEATHER["function"]], "function_call": {"name": "get_weather"}},
    {"functions": [WEATHER["function"]], "function_call": "auto"},
    {"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"],
     "audio": {"voice": {"id": "voice_custom_1"}, "format": "wav"}},
    {"prediction": {"type": "content", "content": [{"type": "text", "text": "Sunny."}]}},
    {"model": "gpt-5", "reasoning_effort": "minimal", "temperature": 1},
    {"service_tier": None, "seed": None, "temperature": None, "top_p": None, "n": None, "user": "u"},
]


def _needs_stream(fields: dict[str, Any]) -> bool:
    return fields.get("stream") is True


def test_every_parameter_has_an_example() -> None:
    assert set(VALID) == set(REQUEST["properties"])
    for name, fields in VALID.items():
        assert name in fields


@pytest.mark.parametrize("name", sorted(VALID))
def test_parameter_is_accepted(server: MockServer, name: str) -> None:
    reply = chat(server.url, **VALID[name])
    if _needs_stream(VALID[name]):
        assert reply.status == 200, reply.raw[:300]
        return
    body = assert_completion(reply)
    assert body["model"] == VALID[name].get("model", PLAIN["model"])


@pytest.mark.parametrize("fields", VARIANTS, ids=lambda f: ",".join(f"{k}={json.dumps(v)[:30]}" for k, v in f.items()))
def test_parameter_variant_is_accepted(server: MockServer, fields: dict[str, Any]) -> None:
    assert_completion(chat(server.url, **fields))


CANDIDATES = ["text", 17, 0.5, True, [1], {"key": 1}, None]


def _subschema(name: str) -> dict[str, Any]:
    return {"$defs": DEFS, **REQUEST["properties"][name]}


def _wrong_values(name: str) -> list[Any]:
    """Values of each JSON type the schema refuses for this parameter."""
    checker = jsonschema.Draft202012Validator(_subschema(name))
    return [value for value in CANDIDATES if not checker.is_valid(value)]


WRONG_TYPES = [(name, value) for name in sorted(REQUEST["properties"]) for value in _wrong_values(name)]


def test_wrong_type_table_is_not_empty() -> None:
    assert {name for name, _ in WRONG_TYPES} == set(REQUEST["properties"])


@pytest.mark.parametrize(("name", "value"), WRONG_TYPES, ids=[f"{n}={json.dumps(v)}" for n, v in WRONG_TYPES])
def test_wrong_type_is_refused(server: MockServer, name: str, value: Any) -> None:
    error = assert_error(chat(server.url, **{name: value}))
    assert error["type"] == "invalid_request_error"
    assert error["param"] == name or error["param"].startswith(name + "."), error
    assert error["message"]


def _bounds(node: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(keyword, bound, json type) for every numeric bound declared on a parameter or its union branches."""
    found = []
    for branch in [node, *node.get("anyOf", ()), *node.get("oneOf", ())]:
        types = branch.get("type", ())
        kind = "integer" if "integer" in types else "number"
        for keyword in ("minimum", "maximum"):
            if keyword in branch:
                found.append((keyword, branch[keyword], kind))
    return found


BOUNDED = [(name, *bound) for name, node in sorted(REQUEST["properties"].items()) for bound in _bounds(node)]
COMPANIONS: dict[str, dict[str, Any]] = {"top_logprobs": {"logprobs": True}}


def test_bounded_parameters_are_found() -> None:
    names = {name for name, *_ in BOUNDED}
    assert {"n", "temperature", "top_p", "top_logprobs", "frequency_penalty", "presence_penalty", "seed"} <= names


@pytest.mark.parametrize(("name", "keyword", "bound", "kind"), BOUNDED)
def test_value_at_bound_is_accepted(server: MockServer, name: str, keyword: str, bound: float, kind: str) -> None:
    value = int(bound) if kind == "integer" else bound
    assert_completion(chat(server.url, **{name: value}, **COMPANIONS.get(name, {})))


@pytest.mark.parametrize(("name", "keyword", "bound", "kind"), BOUNDED)
def test_value_past_bound_is_refused(server: MockServer, name: str, keyword: str, bound: float, kind: str) -> None:
    step = 1 if kind == "integer" else 0.01
    value = bound - step if keyword == "minimum" else bound + step
    value = int(value) if kind == "integer" else value
    error = assert_error(chat(server.url, **{name: value}, **COMPANIONS.get(name, {})), param=name)
    number = "integer" if kind == "integer" else "decimal"
    assert error["code"] == f"{number}_{'below_min' if keyword == 'minimum' else 'above_max'}_value"
    # Literals outside 64 bits (signed or unsigned) reach the server widened to floats and are not quoted back.
    assert (str(value) if -2**63 <= value < 2**64 else "beyond 64 bits") in error["message"]


@pytest.mark.parametrize("name", ["n", "max_tokens", "max_completion_tokens", "seed", "top_logprobs"])
def test_decimal_in_integer_parameter_is_refused(server: MockServer, name: str) -> None:
    error = assert_error(chat(server.url, **{name: 2.0}, **COMPANIONS.get(name, {})), param=name, code="invalid_type")
    assert "expected an integer" in error["message"]


def test_enum_value_is_refused_with_the_supported_values(server: MockServer) -> None:
    error = assert_error(chat(server.url, reasoning_effort="extreme"), param="reasoning_effort", code="invalid_value")
    assert "'low'" in error["message"] and "'high'" in error["message"]


@pytest.mark.parametrize(("fields", "param"), [
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"stop": []}, "stop"),
    ({"messages": []}, "messages"),
    ({"safety_identifier": "x" * 65}, "safety_identifier"),
    ({"functions": [{"name": f"f{i}"} for i in range(129)]}, "functions"),
])
def test_length_limits_are_refused(server: MockServer, fields: dict[str, Any], param: str) -> None:
    assert_error(chat(server.url, **fields), param=param)


@pytest.mark.parametrize("missing", ["model", "messages"])
def test_required_parameter_missing(server: MockServer, missing: str) -> None:
    body = {k: v for k, v in PLAIN.items() if k != missing}
    error = assert_error(post(server.url, body), param=missing, code="missing_required_parameter")
    assert missing in error["message"]


def test_unknown_parameter_is_named(server: MockServer) -> None:
    error = assert_error(chat(server.url, temprature=0.5), param=None, code=None)
    assert error["message"] == "Unrecognized request argument supplied: temprature"



JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6)


def _mutated(value: Any) -> st.SearchStrategy[Any]:
    """The value with one part, at any depth, replaced by arbitrary JSON: near-valid requests reach the
    deep branches of the schema that random bodies never get past the first type check to see."""
    options = [JSON_VALUES]
    if isinstance(value, dict) and value:
        options.append(st.sampled_from(sorted(value)).flatmap(
            lambda key: _mutated(value[key]).map(lambda new: {**value, key: new})))
    if isinstance(value, list) and value:
        options.append(st.integers(0, len(value) - 1).flatmap(
            lambda i: _mutated(value[i]).map(lambda new: [*value[:i], new, *value[i + 1:]])))
    return st.one_of(options)


@settings(max_examples=400)
@given(fields=st.sampled_from(sorted(VALID)).flatmap(lambda name: _mutated(VALID[name])))
def test_every_body_the_schema_refuses_is_refused_by_name(fields: Any) -> None:
    """The fast schema check may only speed up valid requests: whatever jsonschema refuses, the server
    refuses, naming the offending field."""
    body = {"model": "gpt-4o-mini", "messages": [USER], **(fields if isinstance(fields, dict) else {})}
    if jsonschema.Draft202012Validator(REQUEST).is_valid(body):
        return
    with pytest.raises(ApiError) as refused:
        validate_request(body)
    assert refused.value.status == 400
    assert refused.value.param is not None
