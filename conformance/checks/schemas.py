"""Validation against the contract's JSON Schemas (`fixtures/schemas/`), with a readable first error.

jsonschema loads on the first validation, so that importing the checks stays cheap for projects that
call only a few of them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from mockserver.contract.profiles import DEFAULT_PROFILE, reply_schema

if TYPE_CHECKING:
    import jsonschema


@functools.cache
def validator(name: str, profile: str = DEFAULT_PROFILE) -> jsonschema.Draft202012Validator:
    """Contract schema `name` as the profile's server keeps it (vLLM's null `annotations`, ...)."""
    import jsonschema

    return jsonschema.Draft202012Validator(reply_schema(profile, name))


def _first_error(validating: Any, instance: Any) -> str | None:
    from jsonschema.exceptions import best_match

    try:
        error = best_match(validating.iter_errors(instance))
    except RecursionError:
        return "a value nested too deeply to validate"
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"at {where}: {error.message}"


def schema_error(name: str, instance: Any, profile: str = DEFAULT_PROFILE) -> str | None:
    """None when `instance` validates against schema `name` (as `profile` keeps it), else where and why it
    does not."""
    return _first_error(validator(name, profile), instance)


def subschema_error(document: dict[str, Any], instance: Any) -> str | None:
    """The same for a schema that arrives in a request (tool parameters, response_format)."""
    import jsonschema

    return _first_error(jsonschema.Draft202012Validator(document), instance)
