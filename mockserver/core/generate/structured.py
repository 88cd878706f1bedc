"""Text replies whose shape the request dictates: Structured Outputs, JSON mode, and the vLLM-style
guided decoding parameters (which only reach the generator when the vLLM profile accepted them)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import orjson

from mockserver.core.generate import witness
from mockserver.core.generate.instances import UnsatisfiableSchema, generate
from mockserver.core.generate.patterns import PatternError, matching_string
from mockserver.core.generate.tokenizer import tokenize

_JSON_MODE_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"},
                                     "minProperties": 2, "maxProperties": 4}


def _json_tokens(schema: Any, rng: random.Random) -> list[str]:
    try:
        value = generate(schema, rng)
    except UnsatisfiableSchema:
        value = witness.instance(schema)
    return tokenize(orjson.dumps(value).decode())


def guided_json_schema(request: Mapping[str, Any]) -> Any:
    """`guided_json` as a schema: vLLM takes it as an object or as JSON text."""
    guided = request["guided_json"]
    return orjson.loads(guided) if isinstance(guided, str) else guided


def structured_tokens(request: Mapping[str, Any], rng: random.Random) -> list[str] | None:
    """The reply's tokens when the request fixes its shape, else None (free prose)."""
    if request.get("guided_choice") is not None:
        choices = request["guided_choice"]
        return tokenize(choices[rng.randrange(len(choices))])
    if request.get("guided_regex") is not None:
        try:
            return tokenize(matching_string(request["guided_regex"], rng))
        except PatternError:
            return tokenize(witness.string(request["guided_regex"]))
    if request.get("guided_json") is not None:
        return _json_tokens(guided_json_schema(request), rng)
    response_format = request.get("response_format") or {}
    kind = response_format.get("type")
    if kind == "json_schema":
        return _json_tokens(response_format["json_schema"].get("schema", {"type": "object"}), rng)
    if kind == "json_object":
        return _json_tokens(_JSON_MODE_SCHEMA, rng)
    return None
