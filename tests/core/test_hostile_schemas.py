"""Arbitrary JSON Schemas (every keyword, values at the numeric edges, references anywhere) as a tool's
`parameters`, a response format and a vLLM `guided_json`: validation answers with an `ApiError` or the
planner builds a reply that serialises, never anything else."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.contract.errors import ApiError
from mockserver.core.endpoints.chat import CHAT
from mockserver.core.endpoints.model import ServeOptions
from mockserver.core.generate.patterns import PatternError, search
from mockserver.core.generate.planner import Context

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "200"))
USER = [{"role": "user", "content": "Call the tool, in JSON."}]
EDGES = st.sampled_from([0, 1, -1, 2, 0.5, 1e308, -1e308, 5e-324, 2**53 + 1, 2**63, -(2**63) - 1, 1e30, 1e-300])
KEYWORDS = ["type", "properties", "required", "additionalProperties", "patternProperties", "minProperties",
            "maxProperties", "enum", "const", "not", "items", "prefixItems", "additionalItems", "minItems",
            "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
            "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "anyOf", "oneOf", "allOf", "$ref", "$defs",
            "$schema", "title", "default"]
TYPES = st.sampled_from(["null", "boolean", "integer", "number", "string", "array", "object", "nothing"])
PATTERNS = st.sampled_from(["^[a-z]+$", "(a|aa)+$", "((a{10}){10}){10}", "(?=x)y", "[", "^\\d{3}$", "(.)\\1",
                            "a{2,1}", "\\bword\\b", ""])
REFS = st.sampled_from(["#", "#/$defs/a", "#/$defs/missing", "#/properties/x", "http://example.com/s", "#/0"])
SCALARS = st.one_of(st.none(), st.booleans(), EDGES, st.text(max_size=6), TYPES, PATTERNS, REFS)


def _schemas(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    value = st.one_of(SCALARS, children, st.lists(children | SCALARS, max_size=3),
                      st.dictionaries(st.sampled_from(["x", "a", "b", "items"]), children, max_size=3))
    return st.dictionaries(st.sampled_from(KEYWORDS), value, max_size=5)


SCHEMAS = st.recursive(st.booleans() | st.fixed_dictionaries({"type": TYPES}), _schemas, max_leaves=12)


def _served(body: dict[str, Any], profile: str = "openai") -> None:
    """The body as the server reads it off the wire (orjson turns integers beyond 64 bits into floats)."""
    try:
        validated = CHAT.validate(orjson.loads(json.dumps(body)), ServeOptions(profile=profile))
    except ApiError as error:
        assert 400 <= error.status < 500
        return
    plan = CHAT.plan(validated.request, Context(prompt_tokens=validated.prompt_tokens))
    orjson.loads(CHAT.body(plan, ()))


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(schema=SCHEMAS, n=st.sampled_from([1, 3]))
def test_any_schema_is_refused_or_served(schema: Any, n: int) -> None:
    parameters = {"type": "object", "properties": {"x": schema}, "required": ["x"]}
    _served({"model": "gpt-4o-mini", "messages": USER, "n": n, "tool_choice": "required",
             "tools": [{"type": "function", "function": {"name": "f", "parameters": parameters}}]})
    if isinstance(schema, dict):
        _served({"model": "gpt-4o-mini", "messages": USER, "response_format": {
            "type": "json_schema", "json_schema": {"name": "s", "schema": schema}}})
        _served({"model": "gpt-4o-mini", "messages": USER, "guided_json": schema}, profile="vllm")


REGEX_TEXT = st.text(alphabet="ab()[]{}|*+?^$\\.-019,=!<>:#PdswbDSWBAZz", max_size=40)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=REGEX_TEXT, n=st.sampled_from([1, 2]))
def test_any_pattern_is_refused_or_served(pattern: str, n: int) -> None:
    grammar = {"type": "grammar", "grammar": {"syntax": "regex", "definition": pattern}}
    _served({"model": "gpt-4o-mini", "messages": USER, "n": n, "tool_choice": "required",
             "tools": [{"type": "custom", "custom": {"name": "c", "format": grammar}}]})
    _served({"model": "gpt-4o-mini", "messages": USER, "n": n, "tool_choice": "required", "tools": [
        {"type": "function", "function": {"name": "f", "parameters": {
            "type": "object", "required": ["x"], "patternProperties": {pattern: {"type": "integer"}},
            "properties": {"x": {"type": "string", "pattern": pattern, "not": {"pattern": pattern[::-1]}}}}}}]})
    _served({"model": "gpt-4o-mini", "messages": USER, "guided_regex": pattern}, profile="vllm")


@pytest.mark.filterwarnings("ignore::FutureWarning")
@settings(max_examples=EXAMPLES * 5)
@given(pattern=REGEX_TEXT, subjects=st.lists(st.text(alphabet="ab{}019-=<,:Z \n", max_size=12), max_size=5))
def test_the_matcher_that_checks_candidates_agrees_with_re(pattern: str, subjects: list[str]) -> None:
    """Candidates are checked in the `regex` module (it can be stopped); what it accepts is what `re` does."""
    try:
        compiled = re.compile(pattern)
    except (re.error, OverflowError, RecursionError):
        return
    for subject in subjects:
        try:
            found = search(pattern, subject)
        except PatternError as error:
            assert "backtracks" in str(error), error
            continue
        assert found == (compiled.search(subject) is not None), (pattern, subject)
