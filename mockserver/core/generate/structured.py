"""Text replies whose shape the request dictates: Structured Outputs, JSON mode, and the vLLM-style
guided decoding parameters (which only reach the generator when the vLLM profile accepted them)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import orjson

from mockserver.contract.errors import ApiError
from mockserver.core.generate.instances import UnsatisfiableSchema, generate
from mockserver.core.generate.patterns import PatternError, matching_string
from mockserver.core.generate.tokenizer import encoding_of, tokenize

_JSON_MODE_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"},
                                     "minProperties": 2, "maxProperties": 4}


def _json_tokens(schema: Any, rng: random.Random, name: str, param: str, encoding: str) -> list[str]:
    try:
        value = generate(schema, rng)
    except UnsatisfiableSchema as exc:
        raise ApiError("invalid_request", f"Invalid schema for {name}: {exc}.", param=param) from None
    return tokenize(orjson.dumps(value).decode(), encoding)


def guided_json_schema(request: Mapping[str, Any]) -> Any:
    """`guided_json` as a schema: vLLM takes it as an object or as JSON text."""
    guided = request["guided_json"]
    return orjson.loads(guided) if isinstance(guided, str) else guided


def structured_tokens(request: Mapping[str, Any], rng: random.Random) -> list[str] | None:
    """The reply's tokens when the request fixes its shape, else None (free prose)."""
    encoding = encoding_of(request["model"])
    if request.get("guided_choice") is not None:
        choices = request["guided_choice"]
        return tokenize(choices[rng.randrange(len(choices))], encoding)
    if request.get("guided_regex") is not None:
        try:
            return tokenize(matching_string(request["guided_regex"], rng), encoding)
        except PatternError as exc:
            raise ApiError("invalid_request", f"Invalid guided_regex: {exc}.", param="guided_regex") from None
    if request.get("guided_json") is not None:
        return _json_tokens(guided_json_schema(request), rng, "guided_json", "guided_json", encoding)
    response_format = request.get("response_format") or {}
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format["json_schema"]
        schema = spec.get("schema", {"type": "object"})
        return _json_tokens(schema, rng, f"response_format '{spec.get('name')}'", "response_format", encoding)
    if kind == "json_object":
        return _json_tokens(_JSON_MODE_SCHEMA, rng, "json_object", "response_format", encoding)
    return None
