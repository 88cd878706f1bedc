"""A profile's request parameters: split from the body, checked, and the rules a schema cannot state.

Each profile's parameters and their JSON Schemas are data (`fixtures/profiles.json`, read through
`mockserver.contract.profiles`). A request's profile parameters are taken out of the body before the
endpoint checks the rest against the contract, checked against their schemas with the same wording as
the contract's own parameters (400 `invalid_type` naming the parameter), then against the rules below,
and handed back to the planner with the validated request. So an endpoint needs no code of its own for
a profile's parameters, and a parameter a profile does not define still gets the real API's
"Unrecognized request argument supplied". Under `openai` there are none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from mockserver.contract.errors import ApiError, invalid_request
from mockserver.contract.profiles import profile, profiles
from mockserver.contract.request import completion_limit
from mockserver.core.generate.budget import Budget
from mockserver.core.generate.tokenizer import encoding_of, is_token
from mockserver.core.validate.schema import check_schema
from mockserver.core.validate.schemas import pattern_problem, schema_problem

_GUIDED = ("guided_json", "guided_regex", "guided_choice", "guided_grammar")


def _check_guided(body: Mapping[str, Any]) -> None:
    used = [name for name in _GUIDED if body.get(name) is not None]
    if len(used) > 1:
        raise invalid_request("You can only use one kind of guided decoding ('guided_json', 'guided_regex', "
                              "'guided_choice' or 'guided_grammar').", used[1])
    guided_json = body.get("guided_json")
    if isinstance(guided_json, str):
        try:
            guided_json = orjson.loads(guided_json)
        except orjson.JSONDecodeError:
            raise invalid_request("Invalid value for 'guided_json': the string is not valid JSON.",
                                  "guided_json") from None
    budget = Budget()
    if guided_json is not None:
        problem = (schema_problem(guided_json, False, budget) if isinstance(guided_json, (dict, bool))
                   else "not a JSON Schema")
        if problem is not None:
            raise invalid_request(f"Invalid schema for guided_json: {problem}", "guided_json")
    if body.get("guided_regex") is not None:
        problem = pattern_problem(body["guided_regex"], budget)
        if problem is not None:
            raise invalid_request(f"Invalid guided_regex: {problem}", "guided_regex")


def _check_token_ids(body: Mapping[str, Any], name: str) -> None:
    """Ids the model's vocabulary does not have are refused, as vLLM refuses them."""
    encoding = encoding_of(body["model"])
    for position, token_id in enumerate(body.get(name) or ()):
        if not is_token(token_id, encoding):
            raise invalid_request(f"{name} contains out-of-vocab token id {token_id}.", f"{name}.[{position}]")


def _check_vllm(body: Mapping[str, Any]) -> None:
    if body.get("continue_final_message") and body.get("add_generation_prompt", True):
        raise invalid_request("Cannot set both `continue_final_message` and `add_generation_prompt` to True "
                              "(`add_generation_prompt` defaults to True).", "continue_final_message")
    if body.get("continue_final_message") and body["messages"][-1].get("role") != "assistant":
        raise invalid_request("`continue_final_message` needs the final message to be from the assistant.",
                              "continue_final_message")
    limit = completion_limit(body)
    if body.get("min_tokens") and limit is not None and body["min_tokens"] > limit:
        raise invalid_request(f"min_tokens must be less than or equal to max_tokens={limit}, got "
                              f"{body['min_tokens']}.", "min_tokens")
    _check_token_ids(body, "allowed_token_ids")
    _check_guided(body)


def _check_watsonx(body: Mapping[str, Any]) -> None:
    cache = body.get("cache") or {}
    if cache.get("enabled") and body.get("stream"):
        raise invalid_request("Cache is only supported for non-streaming requests: set cache.enabled to false or "
                              "stream to false.", "cache")
    if cache.get("enabled") and cache.get("threshold") is None:
        raise ApiError("invalid_request", "Missing required parameter: 'cache.threshold' (required when the cache "
                       "is enabled).", param="cache.threshold", code="missing_required_parameter")


_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {"vllm": _check_vllm, "watsonx-gateway": _check_watsonx}


def _no_check(body: Mapping[str, Any]) -> None:
    """Profiles whose parameters need nothing beyond their schemas."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    parameters: frozenset[str] = frozenset()
    """Top-level request parameters accepted on top of the contract's, on any route."""
    check: Callable[[Mapping[str, Any]], None] = field(default=_no_check)
    """Rules for those parameters a schema cannot state, raising `ApiError` like the server emulated."""


PROFILES: dict[str, Profile] = {
    name: Profile(name, frozenset(table.parameters), _CHECKS.get(name, _no_check)) for name, table in profiles().items()
}


@functools.cache
def _integers(profile_name: str, route: str) -> frozenset[str]:
    return frozenset(name for name, parameter in profile(profile_name).parameters_for(route).items()
                     if "integer" in (parameter.schema.get("type") or ()))


def split_parameters(profile_name: str, route: str, body: Any) -> tuple[Any, dict[str, Any]]:
    """The body without the profile's parameters for `route`, and those parameters (checked against their
    schemas). A body that is no object is left to the endpoint to refuse."""
    if not isinstance(body, dict):
        return body, {}
    names = profile(profile_name).parameters_for(route)
    extras = {name: body[name] for name in names if name in body}
    if not extras:
        return body, {}
    check_schema(extras, ("profile", profile_name, route))
    for name in sorted(_integers(profile_name, route) & extras.keys()):
        if isinstance(extras[name], float):
            raise ApiError("invalid_request", f"Invalid type for '{name}': expected an integer, but got a decimal "
                           "instead.", param=name, code="invalid_type")
    return {k: v for k, v in body.items() if k not in extras}, extras
