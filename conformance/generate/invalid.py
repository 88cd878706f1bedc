"""Invalid requests, each breaking exactly one rule, with the error kind (in `fixtures/errors.json`) it
earns: a type, a range, a required field, an unknown parameter, an enum, a semantic rule the schema
cannot state, the JSON syntax, the model id, the API key."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance.generate.requests import WORDS, Request, bounds, chat_request, conversation, json_types
from mockserver.contract import request_parameters, schema


@dataclass(frozen=True)
class InvalidCase:
    """A request that breaks exactly one rule, and the error kind (in `fixtures/errors.json`) it earns."""

    rule: str
    kind: str
    payload: Any = None
    raw: bytes | None = None
    auth: str | None = None
    """For auth cases: "missing" sends no key, "wrong" a wrong one."""

    def body(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.payload).encode()


Change = Callable[[Request], Any]
"""How a rule is broken: the valid body in, the invalid payload out (bytes for a malformed body)."""


def without(name: str) -> Change:
    return lambda body: {k: v for k, v in body.items() if k != name}


def with_fields(**fields: Any) -> Change:
    return lambda body: {**body, **fields}


def malformed(body: Request) -> bytes:
    return json.dumps(body).encode()[:-1]


def unknown_model(body: Request) -> Request:
    return {**body, "model": "no-such-model-anywhere"}


def one_rule_each(base: st.SearchStrategy[Request],
                  cases: tuple[tuple[str, str, Change], ...]) -> st.SearchStrategy[InvalidCase]:
    """Cases of `(rule, error kind, change)` applied to valid bodies from `base`, the rule drawn first so
    that finding the smallest example of each rule is immediate."""
    def build(case: tuple[str, str, Change], body: Request) -> InvalidCase:
        rule, kind, change = case
        made = change(body)
        return InvalidCase(rule, kind, raw=made) if isinstance(made, bytes) else InvalidCase(rule, kind, made)
    return st.sampled_from(cases).flatmap(lambda case: base.map(lambda body: build(case, body)))


_WRONG_VALUES: tuple[tuple[frozenset[str], Any], ...] = (
    (frozenset({"integer", "number"}), 12), (frozenset({"string"}), "many"), (frozenset({"boolean"}), True),
    (frozenset({"array"}), [1]), (frozenset({"object"}), {"a": 1}),
)
_TYPED_FIELDS = ("temperature", "top_p", "n", "max_tokens", "max_completion_tokens", "stream", "logprobs",
                 "presence_penalty", "frequency_penalty", "seed", "messages", "user", "stop")
_RANGED_FIELDS = ("temperature", "top_p", "n", "top_logprobs", "presence_penalty", "frequency_penalty")


def _base(model: str) -> st.SearchStrategy[Request]:
    return chat_request(model, conversation())


def _wrong_type(model: str) -> st.SearchStrategy[InvalidCase]:
    def build(base: Request, name: str) -> InvalidCase:
        allowed = json_types(name)
        value = next(value for types, value in _WRONG_VALUES if not types & allowed)
        return InvalidCase(f"wrong type for {name}", "invalid_request", {**base, name: value})
    return st.builds(build, _base(model), st.sampled_from(_TYPED_FIELDS))


def _out_of_range(model: str) -> st.SearchStrategy[InvalidCase]:
    def build(base: Request, name: str, above: bool, by: int) -> InvalidCase:
        low, high = bounds(name)
        value = high + by if above else low - by
        extra = {"logprobs": True} if name == "top_logprobs" else {}
        return InvalidCase(f"{name} {'above maximum' if above else 'below minimum'}", "invalid_request",
                           {**base, **extra, name: value})
    return st.builds(build, _base(model), st.sampled_from(_RANGED_FIELDS), st.booleans(), st.integers(1, 3))


def _missing_required(model: str) -> st.SearchStrategy[InvalidCase]:
    required = schema("chat_completion_request")["required"]

    def build(base: Request, name: str) -> InvalidCase:
        return InvalidCase(f"missing required {name}", "invalid_request",
                           {k: v for k, v in base.items() if k != name})

    missing_content = _base(model).map(lambda base: InvalidCase(
        "user message without content", "invalid_request", {**base, "messages": [{"role": "user"}]}))
    return st.one_of(st.builds(build, _base(model), st.sampled_from(required)), missing_content)


def _unknown_parameter(model: str) -> st.SearchStrategy[InvalidCase]:
    names = st.sampled_from(WORDS).map(lambda w: f"x_{w}").filter(lambda n: n not in request_parameters())
    return st.builds(lambda base, name: InvalidCase("unknown parameter", "invalid_request",
                                                    {**base, name: 1}), _base(model), names)


def _bad_enum(model: str) -> st.SearchStrategy[InvalidCase]:
    role = _base(model).map(lambda base: InvalidCase("unknown message role", "invalid_request", {
        **base, "messages": [{"role": "wizard", "content": "hi"}]}))
    response_format = _base(model).map(lambda base: InvalidCase(
        "unknown response_format type", "invalid_request", {**base, "response_format": {"type": "yaml"}}))
    empty = _base(model).map(lambda base: InvalidCase("empty messages", "invalid_request",
                                                      {**base, "messages": []}))
    return st.one_of(role, response_format, empty)


_TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
_SEMANTIC_CASES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("top_logprobs without logprobs", {"top_logprobs": 2}),
    ("stream_options without stream", {"stream_options": {"include_usage": True}}),
    ("tool_choice without tools", {"tool_choice": "required"}),
    ("tool_choice names an undeclared function",
     {"tools": [_TOOL], "tool_choice": {"type": "function", "function": {"name": "missing"}}}),
    ("max_tokens below 1", {"max_tokens": 0}),
    ("logit_bias value out of range", {"logit_bias": {"1000": 150}}),
    ("logit_bias key is not a token id", {"logit_bias": {"hello": 1}}),
    ("function_call without functions", {"function_call": "auto"}),
    ("audio output without the audio parameter", {"modalities": ["text", "audio"]}),
    ("json_object without the word json in the messages",
     {"messages": [{"role": "user", "content": "Describe a river."}], "response_format": {"type": "json_object"}}),
)
_ORPHAN = "tool message without a preceding tool call"
_UNANSWERED = "tool call left unanswered"


def _semantic(model: str) -> st.SearchStrategy[InvalidCase]:
    orphan = _base(model).map(lambda base: InvalidCase(_ORPHAN, "invalid_request", {**base, "messages": [
        *base["messages"], {"role": "tool", "tool_call_id": "call_1", "content": "x"}]}))
    unanswered = _base(model).map(lambda base: InvalidCase(_UNANSWERED, "invalid_request", {
        **base, "messages": [*base["messages"],
                             {"role": "assistant", "content": None, "tool_calls": [
                                 {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                             {"role": "user", "content": "and then?"}]}))
    return st.one_of(st.builds(lambda base, case: InvalidCase(case[0], "invalid_request", {**base, **case[1]}),
                               _base(model), st.sampled_from(_SEMANTIC_CASES)), orphan, unanswered)


def _malformed(model: str) -> st.SearchStrategy[InvalidCase]:
    return _base(model).map(lambda base: InvalidCase(
        "malformed JSON body", "invalid_request", raw=json.dumps(base).encode()[:-1]))


def _unknown_model(model: str) -> st.SearchStrategy[InvalidCase]:
    return st.builds(lambda base, word: InvalidCase("unknown model", "model_not_found",
                                                    {**base, "model": f"no-such-model-{word}"}),
                     _base(model), st.sampled_from(WORDS))


def invalid_requests(model: str) -> dict[str, st.SearchStrategy[InvalidCase]]:
    """Each example breaks exactly one rule: a type, a range, a required field, an unknown parameter, an
    enum, a semantic rule, the JSON syntax, or the model id. One strategy per kind of rule, so each kind
    is explored (and reported) even when another one fails."""
    return {"wrong type": _wrong_type(model), "out of range": _out_of_range(model),
            "missing required": _missing_required(model), "unknown parameter": _unknown_parameter(model),
            "unknown enum value": _bad_enum(model), "semantic rule": _semantic(model),
            "malformed JSON": _malformed(model), "unknown model": _unknown_model(model)}


def auth_requests(model: str) -> st.SearchStrategy[InvalidCase]:
    return st.builds(lambda base, how: InvalidCase(f"{how} API key", "invalid_api_key", base, auth=how),
                     _base(model), st.sampled_from(["missing", "wrong"]))


def rules() -> dict[str, tuple[str, ...]]:
    """Every rule each part of `invalid_requests` breaks, by part: what a default run covers in full."""
    return {
        "wrong type": tuple(f"wrong type for {name}" for name in _TYPED_FIELDS),
        "out of range": tuple(f"{name} {side}" for name in _RANGED_FIELDS
                              for side in ("above maximum", "below minimum")),
        "missing required": (*(f"missing required {name}" for name in schema("chat_completion_request")["required"]),
                             "user message without content"),
        "unknown parameter": ("unknown parameter",),
        "unknown enum value": ("unknown message role", "unknown response_format type", "empty messages"),
        "semantic rule": (*(name for name, _ in _SEMANTIC_CASES), _ORPHAN, _UNANSWERED),
        "malformed JSON": ("malformed JSON body",),
        "unknown model": ("unknown model",),
    }
