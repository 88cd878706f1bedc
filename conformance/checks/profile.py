"""The checks of what a compatibility profile adds to the contract, judged only in runs under that profile
(`conformance --profile NAME`): vLLM's guided decoding, a gateway's reply fields and cache, a guardrail
proxy's detections. What each profile adds is read from `fixtures/profiles.json` through
`mockserver.contract.profiles`, the table the mock serves the profiles from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from conformance.checks.catalogue import register
from conformance.checks.outcome import fail
from conformance.checks.schemas import schema_error, subschema_error
from mockserver.contract import FINISH_STOP
from mockserver.contract.profiles import DEFAULT_PROFILE, profiles
from mockserver.contract.profiles import profile as profile_table
from mockserver.contract.request import last_user_text

Request = Mapping[str, Any]
Completion = Mapping[str, Any]
ROUTE = "/chat/completions"
_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def _contents(completion: Completion) -> list[tuple[str | None, Any]]:
    """Each choice's finish reason and content."""
    choices = completion.get("choices")
    return [(choice.get("finish_reason"), (choice.get("message") or {}).get("content"))
            for choice in choices if isinstance(choice, Mapping)] if isinstance(choices, list) else []


def _finished(completion: Completion) -> list[Any]:
    """The contents of the choices that ended by themselves (a choice cut by a limit may be partial)."""
    return [content for finish, content in _contents(completion) if finish == FINISH_STOP]


@register("profile", profiles=("vllm",))
def guided_choice_honoured(request: Request, completion: Completion) -> bool:
    """With vLLM's `guided_choice`, every content is exactly one of the choices."""
    choices = request.get("guided_choice")
    if not choices:
        return False
    for _, content in _contents(completion):
        if content not in choices:
            raise fail("guided_choice_honoured", f"one of {choices}", content)
    return True


@register("profile", profiles=("vllm",))
def guided_regex_honoured(request: Request, completion: Completion) -> bool:
    """With vLLM's `guided_regex`, every content that ended by itself matches the expression whole."""
    pattern = request.get("guided_regex")
    if pattern is None:
        return False
    for content in _finished(completion):
        if not isinstance(content, str) or re.fullmatch(pattern, content) is None:
            raise fail("guided_regex_honoured", f"text matching {pattern!r}", content)
    return True


@register("profile", profiles=("vllm",))
def guided_json_valid(request: Request, completion: Completion) -> bool:
    """With vLLM's `guided_json`, every content that ended by itself is JSON valid against the schema."""
    schema = request.get("guided_json")
    if schema is None:
        return False
    schema = json.loads(schema) if isinstance(schema, str) else schema
    for content in _finished(completion):
        try:
            value = json.loads(content)
        except (TypeError, ValueError):
            raise fail("guided_json_valid", "JSON text", content) from None
        problem = subschema_error(schema, value)
        if problem is not None:
            raise fail("guided_json_valid", "JSON valid against guided_json", problem)
    return True


def _type_name(value: Any) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), "a value")


@register("profile", on_stream=False, profiles=tuple(name for name, table in profiles().items() if table.reply))
def profile_reply_fields(request: Request, completion: Completion, profile: str = DEFAULT_PROFILE) -> bool:
    """A non-streamed reply carries the fields the profile's server adds (vLLM's `stop_reason` and
    `prompt_token_ids`, the gateway's `cached`, the proxy's detections), of the type they have there."""
    table = profile_table(profile)
    levels: dict[str, list[Mapping[str, Any]]] = {"top": [completion], "usage": [completion.get("usage") or {}]}
    choices = [choice for choice in completion.get("choices") or () if isinstance(choice, Mapping)]
    levels["choice"] = choices
    levels["message"] = [choice.get("message") or {} for choice in choices]
    for level, held in levels.items():
        for name, default in table.reply_fields(ROUTE, level).items():
            for where in held:
                if name not in where:
                    raise fail("profile_reply_fields", f"{level} field {name!r} ({profile})", sorted(where))
                if default is not None and where[name] is not None and \
                        _type_name(where[name]) != _type_name(default):
                    raise fail("profile_reply_fields", f"{name} as {_type_name(default)}", where[name])
    return bool(table.reply_fields(ROUTE, "top") or table.reply_fields(ROUTE, "choice"))


@register("consistency", profiles=("watsonx-gateway",))
def gateway_cache_served(request: Request, completion: Completion, again: Completion) -> bool:
    """With the gateway's `cache` enabled, a fresh reply says `cached: false` and the same request sent
    again gets the stored reply, saying `cached: true`."""
    if not (request.get("cache") or {}).get("enabled"):
        return False
    if completion.get("cached") is not False:
        raise fail("gateway_cache_served", "cached false on a fresh reply", completion.get("cached"))
    if again.get("cached") is not True:
        raise fail("gateway_cache_served", "cached true on the same request sent again", again.get("cached"))
    if again.get("choices") != completion.get("choices") or again.get("id") != completion.get("id"):
        raise fail("gateway_cache_served", "the stored reply (same id and choices)", again.get("id"))
    return True


@register("profile", on_stream=False, profiles=("enkrypt",))
def enkrypt_detections(request: Request, completion: Completion) -> bool:
    """An Enkrypt AI proxy reply carries `enkrypt_policy_detections`: per direction, each detector's details
    and a summary, in the shapes of the proxy's reference."""
    detections = completion.get("enkrypt_policy_detections")
    problem = schema_error("enkrypt_policy_detections", detections)
    if problem is not None:
        raise fail("enkrypt_detections", "enkrypt_policy_detections as the proxy writes them", problem)
    for direction, report in detections.items():
        missing = [name for name in report["details"] if _summary_key(name) not in report["summary"]]
        if missing:
            raise fail("enkrypt_detections", f"a {direction} summary line for every detector", missing)
    return True


def _summary_key(detector: str) -> str:
    return {"keyword_detector": "keyword_detected", "relevancy": "relevancy_score",
            "hallucination": "is_hallucination"}.get(detector, detector)


@register("profile", on_stream=False, profiles=("enkrypt",))
def enkrypt_pii_detected(request: Request, completion: Completion) -> bool:
    """When the deployment runs the PII detector on input, an email address in the last user message is
    reported: `summary.pii` is 1 and the details hold the address."""
    emails = _EMAIL.findall(last_user_text(request) or "")
    report = (completion.get("enkrypt_policy_detections") or {}).get("input_guardrails") or {}
    details = (report.get("details") or {}).get("pii")
    if not emails or not isinstance(details, Mapping):
        return False
    found = {value for group in details.values() if isinstance(group, Mapping) for value in group.values()}
    if (report.get("summary") or {}).get("pii") != 1 or not set(emails) <= found:
        raise fail("enkrypt_pii_detected", f"pii 1 with {emails} in the details", report.get("summary"))
    return True
