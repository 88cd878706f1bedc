"""Request validation with the real API's answers: the schema first, then the rules it cannot express
(`rules`), then the context window, whose prompt count the caller keeps for usage and rate limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.contract.errors import invalid_request, unknown_parameter
from mockserver.contract.fixtures import request_parameters
from mockserver.contract.models import model_info
from mockserver.core.validate.rules import check_context_window, semantic_rules
from mockserver.core.validate.schema import check_schema, type_name


def validate_request(body: Any, context_windows: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The body as a request the generator may trust, or the `ApiError` the real API would answer.

    `context_windows` overrides the model table's context window for the model ids it names. A
    compatibility profile's parameters are not the contract's: `mockserver.core.validate.profiles`
    takes them out of the body before it gets here.
    """
    return validate_and_count(body, context_windows)[0]


def validate_and_count(body: Any, context_windows: Mapping[str, int] | None = None) -> tuple[dict[str, Any], int]:
    """`validate_request`, and the prompt's token count it had to work out for the context window, so
    a server that bills and rate-limits by that count need not count again."""
    if not isinstance(body, dict):
        raise invalid_request(f"Invalid type for request body: expected an object, but got {type_name(body)} instead.")
    unknown = body.keys() - request_parameters()
    if unknown:
        raise unknown_parameter(min(unknown))
    check_schema(body)
    for rule, parameters in semantic_rules():
        if parameters is None or not parameters.isdisjoint(body):
            rule(body)
    model = body["model"]
    window = context_windows.get(model) if context_windows else None
    return body, check_context_window(body, model_info(model).context_window if window is None else window)
