"""Validation against the contract's JSON Schemas (`fixtures/schemas/`), with a readable first error."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from mockserver.contract import schema


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(name))


def schema_error(name: str, instance: Any) -> str | None:
    """None when `instance` validates against schema `name`, else where and why it does not."""
    error = best_match(validator(name).iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"at {where}: {error.message}"


def subschema_error(document: dict[str, Any], instance: Any) -> str | None:
    """The same for a schema that arrives in a request (tool parameters, response_format)."""
    error = best_match(jsonschema.Draft202012Validator(document).iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"at {where}: {error.message}"
