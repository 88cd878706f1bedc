"""Requests for `/completions` (the legacy endpoint): valid ones of every prompt form and option, and
invalid ones that each break one rule, with the variants a run claims to send.

Field bounds come from the contract's request schema (`fixtures/schemas/completion_request.schema.json`);
the rules it cannot state (`best_of` at least `n` and never streamed, `stream_options` only with
`stream`) are the mock's. Token prompts use ids below 1000, which every byte-pair vocabulary has.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.generate.coverage import Coverage, rule_of
from conformance.generate.invalid import (
    Change,
    InvalidCase,
    malformed,
    one_rule_each,
    unknown_model,
    with_fields,
    without,
)
from conformance.generate.requests import WORDS, Request, text
from mockserver.contract import schema

SCHEMA = "completion_request"
_STOPS = st.sampled_from([" ", ".", "e", "the", "\n"])


def _bounds(name: str) -> tuple[int, int]:
    node = schema(SCHEMA)["properties"][name]
    return node["minimum"], node["maximum"]


_TOKENS = st.lists(st.integers(100, 999), min_size=1, max_size=6)
_PROMPTS = st.one_of(text(), st.lists(text(), min_size=1, max_size=2), _TOKENS,
                     st.lists(_TOKENS, min_size=1, max_size=2))


@st.composite
def _valid(draw: st.DrawFn, model: str) -> Request:
    request: Request = {"model": model, "prompt": draw(_PROMPTS)}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "max_tokens": st.integers(0, 24), "n": st.integers(1, 3), "echo": st.just(True),
        "logprobs": st.integers(*_bounds("logprobs")), "stop": st.one_of(_STOPS, st.lists(_STOPS, min_size=1,
                                                                                          max_size=4, unique=True)),
        "temperature": st.sampled_from([0, 0.5, 1]), "seed": st.integers(0, 2**31 - 1), "user": st.sampled_from(WORDS),
        "stream": st.just(True),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            request[name] = draw(strategy)
    if request.get("stream"):
        if draw(st.booleans()):
            request["stream_options"] = {"include_usage": draw(st.booleans())}
    elif draw(st.booleans()):
        request["best_of"] = draw(st.integers(request.get("n", 1), 4))
    return request


def completion_requests(model: str) -> st.SearchStrategy[Request]:
    """Every prompt form with the options that shape the reply: limits (the default 16 too), `n`,
    `best_of`, `echo`, `logprobs`, `stop`, streaming with and without usage."""
    return _valid(model)


def _prompt_form(prompt: Any) -> str:
    if isinstance(prompt, str):
        return "prompt as a string"
    if prompt and all(isinstance(item, int) for item in prompt):
        return "prompt as tokens"
    if prompt and all(isinstance(item, list) for item in prompt):
        return "prompt as lists of tokens"
    return "prompt as a list of strings"


def _variants(request: Any) -> frozenset[str]:
    if not isinstance(request, dict):
        return frozenset()
    seen = {_prompt_form(request.get("prompt")), "max_tokens" if "max_tokens" in request else "default max_tokens"}
    if request.get("echo") and isinstance(request.get("prompt"), str):
        seen.add("echo")
    seen |= {name for name in ("logprobs", "best_of", "stop") if name in request}
    if request.get("n", 1) > 1:
        seen.add("n above 1")
    if request.get("stream"):
        seen.add("streamed")
        if (request.get("stream_options") or {}).get("include_usage"):
            seen.add("include_usage")
    return frozenset(seen)


VALID = Coverage(("prompt as a string", "prompt as a list of strings", "prompt as tokens", "prompt as lists of tokens",
                  "max_tokens", "default max_tokens", "n above 1", "best_of", "echo", "logprobs", "stop", "streamed",
                  "include_usage"), _variants)


_CASES: tuple[tuple[str, str, Change], ...] = (
    ("wrong type for prompt", "invalid_request", with_fields(prompt=12)),
    ("wrong type for max_tokens", "invalid_request", with_fields(max_tokens="many")),
    ("wrong type for echo", "invalid_request", with_fields(echo="many")),
    ("wrong type for logprobs", "invalid_request", with_fields(logprobs="many")),
    ("logprobs above maximum", "invalid_request", with_fields(logprobs=_bounds("logprobs")[1] + 1)),
    ("n below minimum", "invalid_request", with_fields(n=_bounds("n")[0] - 1)),
    ("best_of above maximum", "invalid_request", with_fields(best_of=_bounds("best_of")[1] + 1)),
    ("temperature above maximum", "invalid_request", with_fields(temperature=3)),
    ("unknown parameter", "invalid_request", with_fields(x_table=1)),
    ("best_of below n", "invalid_request", with_fields(n=3, best_of=2)),
    ("best_of with stream", "invalid_request", with_fields(best_of=2, stream=True)),
    ("stream_options without stream", "invalid_request", with_fields(stream_options={"include_usage": True})),
    ("missing required model", "invalid_request", without("model")),
    ("missing required prompt", "invalid_request", without("prompt")),
    ("malformed JSON body", "invalid_request", malformed),
    ("unknown model", "model_not_found", unknown_model),
)
RULES = tuple(rule for rule, _, _ in _CASES)


def _invalid(model: str) -> st.SearchStrategy[InvalidCase]:
    return one_rule_each(text().map(lambda prompt: {"model": model, "prompt": prompt}), _CASES)


def parts(model: str) -> dict[str, st.SearchStrategy[Any]]:
    return {"replies": completion_requests(model), "invalid requests": _invalid(model)}


def coverage(model: str) -> dict[str, Coverage]:
    return {"replies": VALID, "invalid requests": Coverage(RULES, rule_of)}
