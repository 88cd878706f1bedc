"""Compatibility profiles: which request parameters beyond OpenAI's the mock accepts, and their rules.

`openai` (the default) accepts exactly the contract's parameters, so a vendor extension gets the
real API's 400 "Unrecognized request argument supplied". `vllm` accepts the extra parameters vLLM's
OpenAI-compatible server documents for chat completions, checks their types the way vLLM does, and
the generator honours them (`mockserver.core.generate.vendor`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from mockserver.contract.errors import ApiError, invalid_request
from mockserver.core.validate.schemas import (
    meta_problem,
    pattern_problem,
    satisfiability_problem,
)

Checker = Callable[[Any], bool]

GUIDED_BACKENDS = ("outlines", "lm-format-enforcer")
_GUIDED = ("guided_json", "guided_regex", "guided_choice", "guided_grammar")


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _is_documents(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(d, dict) and all(isinstance(v, str) for v in d.values()) for d in value)


def _is_choices(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(c, str) for c in value)


def _is_schema_or_text(value: Any) -> bool:
    return isinstance(value, (str, dict))


_VLLM_TYPES: dict[str, tuple[Checker, str]] = {
    "echo": (_is_bool, "a boolean"),
    "add_generation_prompt": (_is_bool, "a boolean"),
    "continue_final_message": (_is_bool, "a boolean"),
    "add_special_tokens": (_is_bool, "a boolean"),
    "documents": (_is_documents, "a list of objects with string values"),
    "chat_template": (_is_str, "a string"),
    "chat_template_kwargs": (_is_object, "an object"),
    "guided_json": (_is_schema_or_text, "an object or a string"),
    "guided_regex": (_is_str, "a string"),
    "guided_choice": (_is_choices, "a non-empty list of strings"),
    "guided_grammar": (_is_str, "a string"),
    "guided_decoding_backend": (_is_str, "a string"),
    "guided_whitespace_pattern": (_is_str, "a string"),
    "priority": (_is_int, "an integer"),
    "request_id": (_is_str, "a string"),
    "include_reasoning": (_is_bool, "a boolean"),
}


def _check_guided(body: Mapping[str, Any]) -> None:
    used = [name for name in _GUIDED if body.get(name) is not None]
    if len(used) > 1:
        raise invalid_request("You can only use one kind of guided decoding ('guided_json', 'guided_regex', "
                              "'guided_choice' or 'guided_grammar').", used[1])
    backend = body.get("guided_decoding_backend")
    if backend is not None and backend not in GUIDED_BACKENDS:
        raise invalid_request(f"Invalid value for 'guided_decoding_backend': {backend!r}. It must be either "
                              "'outlines' or 'lm-format-enforcer'.", "guided_decoding_backend")
    guided_json = body.get("guided_json")
    if isinstance(guided_json, str):
        try:
            guided_json = orjson.loads(guided_json)
        except orjson.JSONDecodeError:
            raise invalid_request("Invalid value for 'guided_json': the string is not valid JSON.",
                                  "guided_json") from None
    if guided_json is not None:
        problem = meta_problem(guided_json) if isinstance(guided_json, (dict, bool)) else "not a JSON Schema"
        if problem is None:
            problem = satisfiability_problem(guided_json)
        if problem is not None:
            raise invalid_request(f"Invalid schema for guided_json: {problem}", "guided_json")
    if body.get("guided_regex") is not None:
        try:
            re.compile(body["guided_regex"])
        except re.error as exc:
            raise invalid_request(f"Invalid value for 'guided_regex': {exc}.", "guided_regex") from None
        problem = pattern_problem(body["guided_regex"])
        if problem is not None:
            raise invalid_request(f"Invalid guided_regex: {problem}", "guided_regex")


def _check_vllm(body: Mapping[str, Any]) -> None:
    for name, (is_valid, wanted) in _VLLM_TYPES.items():
        if name in body and body[name] is not None and not is_valid(body[name]):
            raise ApiError("invalid_request", f"Invalid type for '{name}': expected {wanted}.", param=name,
                           code="invalid_type")
    if body.get("continue_final_message") and body.get("add_generation_prompt", True):
        raise invalid_request("Cannot set both `continue_final_message` and `add_generation_prompt` to True "
                              "(`add_generation_prompt` defaults to True).", "continue_final_message")
    if body.get("continue_final_message") and body["messages"][-1].get("role") != "assistant":
        raise invalid_request("`continue_final_message` needs the final message to be from the assistant.",
                              "continue_final_message")
    _check_guided(body)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    parameters: frozenset[str] = frozenset()
    """Top-level request parameters accepted on top of the contract's."""
    check: Callable[[Mapping[str, Any]], None] = field(default=lambda body: None)
    """Rules for those parameters, raising `ApiError` like the server being emulated."""


PROFILES: dict[str, Profile] = {
    "openai": Profile("openai"),
    "vllm": Profile("vllm", frozenset(_VLLM_TYPES), _check_vllm),
}
