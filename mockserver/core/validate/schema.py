"""The request schema check, with the real API's wording for what it finds.

It runs twice only on failure: jsonschema-rs answers valid or not on the hot path in about a
microsecond, and jsonschema explains a failure precisely, so good requests pay almost nothing and bad
ones get an error message as specific as the real API's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match

from mockserver.contract.errors import ApiError
from mockserver.contract.fixtures import schema

_DISCRIMINATORS = ("role", "type")
_JSON_TYPE_NAMES = {
    "string": "a string", "integer": "an integer", "number": "a decimal", "boolean": "a boolean",
    "object": "an object", "array": "an array", "null": "null",
}


@functools.cache
def _fast_check() -> Callable[[Any], bool]:
    """Formats go unchecked, as in the explainer (and the real API): both must give the same verdict."""
    return jsonschema_rs.validator_for(schema("chat_completion_request"), validate_formats=False).is_valid


@functools.cache
def _explainer() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema("chat_completion_request"))


def param_path(parts: Iterable[Any]) -> str | None:
    """The real API's notation for a nested parameter: `messages.[0].content`."""
    text = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in parts)
    return text or None


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _discriminator_failed(errors: Sequence[ValidationError]) -> bool:
    return any(
        len(e.relative_path) == 1 and e.relative_path[0] in _DISCRIMINATORS and e.validator in ("enum", "const")
        for e in errors
    )


def _specific(error: ValidationError) -> ValidationError:
    """Descend through oneOf/anyOf into the branch the client evidently meant (the one whose `role` or
    `type` matched), so the message names the real mistake rather than "not valid under any schema"."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [errs for errs in branches.values() if not _discriminator_failed(errs)]
        if not meant:
            break
        if len(meant) > 1 and all(len(errs) == 1 and not errs[0].relative_path for errs in meant):
            break
        error = best_match(min(meant, key=len))
    return error


def _discriminator_error(error: ValidationError) -> ApiError | None:
    """When no branch of a union accepts the object's `role`/`type`, list the values that would."""
    if error.validator not in ("oneOf", "anyOf") or not isinstance(error.instance, dict):
        return None
    allowed: list[Any] = []
    key = None
    for sub in error.context or ():
        if len(sub.relative_path) == 1 and sub.relative_path[0] in _DISCRIMINATORS and sub.validator in ("enum", "const"):
            key = sub.relative_path[0]
            values = sub.validator_value if sub.validator == "enum" else [sub.validator_value]
            allowed += [v for v in values if v not in allowed]
    if key is None or len({s.relative_schema_path[0] for s in error.context}) != len(
            {s.relative_schema_path[0] for s in error.context if s.relative_path and s.relative_path[0] == key}):
        return None
    param = param_path([*error.absolute_path, key])
    listed = ", ".join(repr(v) for v in allowed)
    return ApiError("invalid_request", f"Invalid value: {error.instance.get(key)!r}. Supported values are: "
                    f"{listed}.", param=param, code="invalid_value")


def _schema_error(error: ValidationError) -> ApiError:
    error = _specific(error)
    by_discriminator = _discriminator_error(error)
    if by_discriminator is not None:
        return by_discriminator
    path = list(error.absolute_path)
    param = param_path(path)
    value = error.instance
    kind = error.validator
    if kind == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else ""
        return ApiError("invalid_request", f"Missing required parameter: '{param_path([*path, name])}'.",
                        param=param_path([*path, name]), code="missing_required_parameter")
    if kind == "type" or (kind in ("oneOf", "anyOf") and not isinstance(value, (dict, list))):
        expected = error.validator_value if kind == "type" else None
        if expected is None:
            expected = [b.get("type") for b in error.validator_value if isinstance(b, dict) and isinstance(b.get("type"), str)]
        if isinstance(expected, str):
            wanted = _JSON_TYPE_NAMES.get(expected, expected)
        elif expected:
            wanted = " or ".join(_JSON_TYPE_NAMES.get(t, t) for t in expected)
        else:
            wanted = "a value of another type"
        return ApiError("invalid_request", f"Invalid type for '{param}': expected {wanted}, but got "
                        f"{type_name(value)} instead.", param=param, code="invalid_type")
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        listed = ", ".join(repr(v) for v in allowed if v is not None)
        return ApiError("invalid_request", f"Invalid value: {value!r}. Supported values are: {listed}.",
                        param=param, code="invalid_value")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        number = "integer" if error.schema.get("type") in ("integer", ["integer", "null"]) else "decimal"
        below = kind in ("minimum", "exclusiveMinimum")
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[kind]
        word = "below minimum" if below else "above maximum"
        return ApiError("invalid_request", f"Invalid '{param}': {number} {word} value. Expected a value "
                        f"{sign} {error.validator_value}, but got {value} instead.",
                        param=param, code=f"{number}_{'below_min' if below else 'above_max'}_value")
    if kind == "minItems":
        return ApiError("invalid_request", f"Invalid '{param}': empty array. Expected an array with minimum "
                        f"length {error.validator_value}, but got an empty array instead.",
                        param=param, code="empty_array")
    if kind == "maxItems":
        return ApiError("invalid_request", f"Invalid '{param}': array too long. Expected an array with maximum "
                        f"length {error.validator_value}, but got an array with length {len(value)} instead.",
                        param=param, code="array_above_max_length")
    if kind in ("maxLength", "minLength"):
        which = "long" if kind == "maxLength" else "short"
        bound = "maximum" if kind == "maxLength" else "minimum"
        return ApiError("invalid_request", f"Invalid '{param}': string too {which}. Expected a string with "
                        f"{bound} length {error.validator_value}, but got a string with length {len(value)} "
                        "instead.", param=param, code=f"string_{'above_max' if kind == 'maxLength' else 'below_min'}_length")
    if kind == "additionalProperties":
        extra = re.search(r"\('([^']+)'", error.message)
        name = param_path([*path, extra.group(1)]) if extra else param
        return ApiError("invalid_request", f"Unrecognized request argument supplied: {name}", param=name)
    return ApiError("invalid_request", f"Invalid '{param}': {error.message}", param=param, code="invalid_value")


def check_schema(body: Mapping[str, Any]) -> None:
    """jsonschema has the last word: the fast check only spares valid requests the slow one. They differ
    at a few edges, such as an integer literal beyond 64 bits that the JSON parser widened to a float."""
    if not _fast_check()(body):
        error = best_match(_explainer().iter_errors(body))
        if error is not None:
            raise _schema_error(error)
