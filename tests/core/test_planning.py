"""Planning is total on validated input: whatever validation lets through, the planner answers.

Every 400 a request can earn comes from validation, so a request gets the same verdict whether the
generator or a scenario rule would answer it, and the planner never fails half-way through a reply.
"""

from __future__ import annotations

import threading
from typing import Any

import jsonschema
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from wire import api_post

from mockserver import Config, MockServer
from mockserver.contract.errors import ApiError
from mockserver.controls.rules import parse_scenario
from mockserver.core.generate.instances import generate
from mockserver.core.generate.planner import Context, plan_completion
from mockserver.core.generate.seeding import DigestRandom
from mockserver.core.validate.request import validate_request

NUMBERS = st.integers(-5, 5) | st.floats(-5, 5, allow_nan=False)
LEAVES = st.one_of(
    st.builds(lambda lo, hi: {"type": "integer", "minimum": lo, "maximum": hi}, NUMBERS, NUMBERS),
    st.builds(lambda lo, hi: {"type": "string", "minLength": lo, "maxLength": hi}, st.integers(0, 6),
              st.integers(0, 6)),
    st.sampled_from([{"type": "string", "pattern": "^[a-c]{2}$"}, {"type": "string", "pattern": "(?=x)y"},
                     {"type": "string", "format": "email"}, {"enum": []}, {"enum": ["a", 1]}, {"const": None},
                     {"type": "boolean"}, {"not": {}}, False, True, {"type": "null"}]),
    st.builds(lambda n: {"type": "array", "items": {"type": "integer"}, "minItems": n, "uniqueItems": True,
                         "maxItems": 4}, st.integers(0, 6)),
)
SCHEMAS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda props, required: {"type": "object", "properties": props,
                                           "required": [name for name in props if name in required]},
                  st.dictionaries(st.sampled_from(["a", "b", "city", "email"]), inner, max_size=3),
                  st.sets(st.sampled_from(["a", "b", "city", "email"]))),
        st.builds(lambda branches: {"anyOf": branches}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda branches: {"oneOf": branches}, st.lists(inner, min_size=1, max_size=2)),
        st.builds(lambda item: {"type": "array", "items": item, "maxItems": 3}, inner),
    ),
    max_leaves=8,
)


def _request(parameters: Any, fmt: Any, choice: str) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Answer in JSON."}],
            "tools": [{"type": "function", "function": {"name": "act", "parameters": parameters}},
                      {"type": "custom", "custom": {"name": "grep", "format": {
                          "type": "grammar", "grammar": {"syntax": "regex", "definition": "^[0-9]{3}$"}}}}],
            "tool_choice": choice,
            "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": fmt}}}


@settings(max_examples=150)
@given(st.builds(lambda props: {"type": "object", "properties": props}, st.dictionaries(
           st.sampled_from(["a", "b", "c"]), SCHEMAS, max_size=3)),
       st.builds(lambda props: {"type": "object", "properties": props}, st.dictionaries(
           st.sampled_from(["x", "y"]), SCHEMAS, max_size=2)),
       st.sampled_from(["auto", "required", "none"]), st.integers(0, 2**32), st.integers(1, 3))
def test_whatever_validation_accepts_plans_without_failing(parameters: Any, fmt: Any, choice: str, seed: int,
                                                           n: int) -> None:
    try:
        request = validate_request({**_request(parameters, fmt, choice), "seed": seed, "n": n})
    except ApiError:
        assume(False)
    plan = plan_completion(request, Context(server_seed=seed % 7))
    for choice_plan in plan.choices:
        for call in choice_plan.tool_calls:
            if call.kind == "function":
                jsonschema.validate(jsonschema.validators.json.loads(call.arguments), parameters)


def test_an_unsatisfiable_schema_is_refused_whoever_would_answer() -> None:
    """The same request gets the same 400 with and without a rule that would answer it."""
    body = _request({"type": "object", "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}},
                     "required": ["n"]}, {"type": "object"}, "required")
    rule = parse_scenario([{"reply": "scripted"}], "inline")
    verdicts = []
    for config in (Config(), Config(scenario=rule)):
        with MockServer(config) as mock:
            status, reply = api_post(mock.base_url, body)
            verdicts.append((status, reply["error"]["param"]))
    assert verdicts == [(400, "tools.[0].function.parameters")] * 2


SCHEMA_WITH_FAKER = {"type": "object", "required": ["email", "city", "when", "id"],
                     "properties": {"email": {"type": "string", "format": "email"}, "city": {"type": "string"},
                                    "when": {"type": "string", "format": "date-time"},
                                    "id": {"type": "string", "format": "uuid"}}}


def test_values_are_the_same_when_threads_generate_at_once() -> None:
    """Servers in several threads of one process (as in a test suite) must each get their own values."""
    seeds = range(200)
    alone = [generate(SCHEMA_WITH_FAKER, DigestRandom(f"s{seed}".encode())) for seed in seeds]
    together: list[Any] = [None] * len(alone)
    start = threading.Barrier(4)

    def work(offset: int) -> None:
        start.wait()
        for seed in range(offset, len(alone), 4):
            together[seed] = generate(SCHEMA_WITH_FAKER, DigestRandom(f"s{seed}".encode()))

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone
