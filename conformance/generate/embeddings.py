"""Requests for `/embeddings`: valid ones of every input form (with `dimensions` where the model takes it),
and invalid ones that each break one rule (the real limits: an empty input, more than 2048 inputs)."""

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
from mockserver.contract import known_models

MAX_INPUTS = 2048
_TOKENS = st.lists(st.integers(100, 999), min_size=1, max_size=6)
_INPUTS = st.one_of(text(), st.lists(text(), min_size=1, max_size=3), _TOKENS,
                    st.lists(_TOKENS, min_size=1, max_size=2))


def shortens(model: str) -> bool:
    """Whether `dimensions` is sent: only to a model of the contract's table that takes it."""
    known = known_models().get(model)
    return known is not None and known.shortens


def embedding_requests(model: str) -> st.SearchStrategy[Request]:
    optional: dict[str, st.SearchStrategy[Any]] = {"encoding_format": st.sampled_from(["float", "base64"]),
                                                   "user": st.sampled_from(WORDS)}
    if shortens(model):
        optional["dimensions"] = st.integers(8, 512)
    return st.fixed_dictionaries({"model": st.just(model), "input": _INPUTS}, optional=optional)


def _input_form(value: Any) -> str:
    if isinstance(value, str):
        return "input as a string"
    if value and all(isinstance(item, int) for item in value):
        return "input as tokens"
    if value and all(isinstance(item, list) for item in value):
        return "input as lists of tokens"
    return "input as a list of strings"


def _variants(request: Any) -> frozenset[str]:
    if not isinstance(request, dict):
        return frozenset()
    seen = {_input_form(request.get("input"))}
    seen |= {name for name in ("dimensions", "user") if name in request}
    return frozenset(seen)


_CLAIMED = ("input as a string", "input as a list of strings", "input as tokens", "input as lists of tokens",
            "dimensions", "user")


def valid_coverage(model: str) -> Coverage:
    return Coverage(tuple(v for v in _CLAIMED if v != "dimensions" or shortens(model)), _variants)


_CASES: tuple[tuple[str, str, Change], ...] = (
    ("wrong type for input", "invalid_request", with_fields(input=12)),
    ("wrong type for encoding_format", "invalid_request", with_fields(encoding_format=12)),
    ("wrong type for dimensions", "invalid_request", with_fields(dimensions="many")),
    ("dimensions below minimum", "invalid_request", with_fields(dimensions=0)),
    ("unknown encoding_format", "invalid_request", with_fields(encoding_format="hex")),
    ("unknown parameter", "invalid_request", with_fields(x_table=1)),
    ("empty input", "invalid_request", with_fields(input="")),
    ("more than 2048 inputs", "invalid_request", with_fields(input=["a"] * (MAX_INPUTS + 1))),
    ("missing required model", "invalid_request", without("model")),
    ("missing required input", "invalid_request", without("input")),
    ("malformed JSON body", "invalid_request", malformed),
    ("unknown model", "model_not_found", unknown_model),
)
RULES = tuple(rule for rule, _, _ in _CASES)


def _invalid(model: str) -> st.SearchStrategy[InvalidCase]:
    return one_rule_each(text().map(lambda words: {"model": model, "input": words}), _CASES)


def parts(model: str) -> dict[str, st.SearchStrategy[Any]]:
    return {"vectors": embedding_requests(model), "invalid requests": _invalid(model)}


def coverage(model: str) -> dict[str, Coverage]:
    return {"vectors": valid_coverage(model), "invalid requests": Coverage(RULES, rule_of)}
