"""Scenario documents into rules: the published JSON Schema checks the shape, code the meaning.

`fixtures/schemas/scenario.schema.json` (which editors can use for completion) states every field and
its type, so a misspelt key or a wrong type is reported from it, with the rule's index and the
field's path. What a schema cannot say (one action per rule, a known error kind, a regex that
compiles, a fault that makes sense) is checked while the typed rules are built. Every failure is a
`SettingError` naming the source, the rule and the field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from mockserver.contract.errors import error_kind, error_kinds
from mockserver.contract.fixtures import schema
from mockserver.controls.documents import check_shape, read_document
from mockserver.controls.faults import parse_fault
from mockserver.controls.rules.model import ACTION_KEYS, Action, ErrorSpec, FieldTest, Match, Rule, Scenario, TextMatch
from mockserver.controls.settings import SettingError
from mockserver.core.endpoints import ENDPOINTS, GENERATING
from mockserver.core.gateways.enkrypt import Forced
from mockserver.core.plan import Script

_TEXT_MODES = ("equals", "contains", "regex")


@functools.cache
def _validator(definition: str) -> jsonschema.Draft202012Validator:
    document = schema("scenario")
    target = document if definition == "scenario" else {"$defs": document["$defs"],
                                                        "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(target)


def _check_shape(data: Any, definition: str, where: str) -> None:
    check_shape(data, _validator(definition), where)


def _text(value: Any, where: str, default_mode: str) -> TextMatch:
    if isinstance(value, str):
        return TextMatch(default_mode, value)
    ((mode, text),) = value.items()
    if mode != "regex":
        return TextMatch(mode, text)
    try:
        return TextMatch(mode, text, re.compile(text))
    except re.error as exc:
        raise SettingError(where, f"invalid regular expression {text!r}: {exc}") from None


def _field_test(path: str, expected: Any, where: str) -> FieldTest:
    parts = tuple(path.split("."))
    if isinstance(expected, Mapping) and len(expected) == 1:
        ((key, value),) = expected.items()
        if key == "exists":
            if not isinstance(value, bool):
                raise SettingError(where, "'exists' takes true or false")
            return FieldTest(parts, exists=value)
        if key in _TEXT_MODES:
            return FieldTest(parts, text=_text(expected, where, "equals"))
    return FieldTest(parts, equals=expected)


def _endpoints(value: str | list[str], where: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    unknown = [name for name in names if name not in ENDPOINTS]
    if unknown:
        raise SettingError(where, f"unknown endpoint {unknown[0]!r}; expected one of {sorted(ENDPOINTS)}")
    return names


def parse_match(data: Mapping[str, Any] | None, where: str) -> Match:
    if not data:
        return Match()
    found: dict[str, Any] = {}
    if "endpoint" in data:
        found["endpoint"] = _endpoints(data["endpoint"], f"{where}.endpoint")
    if "model" in data:
        found["model"] = _text(data["model"], f"{where}.model", "equals")
    for name in ("message", "last_user"):
        if name in data:
            found[name] = _text(data[name], f"{where}.{name}", "contains")
    for name in ("role", "tool_choice", "stream", "nth"):
        if name in data:
            found[name] = data[name]
    if "tools" in data:
        tools = data["tools"]
        found["tools"] = tools if isinstance(tools, bool) else (tools,) if isinstance(tools, str) else tuple(tools)
    if "headers" in data:
        found["headers"] = tuple(sorted((str(k).lower(), _text(v, f"{where}.headers.{k}", "equals"))
                                        for k, v in data["headers"].items()))
    if "body" in data:
        found["body"] = tuple(_field_test(str(k), v, f"{where}.body.{k}") for k, v in sorted(data["body"].items()))
    return Match(**found)


def _tool_calls(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    calls = value if isinstance(value, list) else [value]
    parsed = []
    for index, call in enumerate(calls):
        if "input" in call and "arguments" in call:
            raise SettingError(f"{where}.{index}.input", "give a function call's arguments or a custom tool "
                               "call's input, not both")
        arguments = call.get("input", call.get("arguments", {}))
        parsed.append((call["name"], arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()))
    return tuple(parsed)


def _kind_for_status(status: int) -> str:
    """The first kind in fixtures/errors.json with this status, else a generic 4xx/5xx kind."""
    for name, kind in error_kinds().items():
        if kind.status == status:
            return name
    return "server_error" if status >= 500 else "invalid_request"


def parse_error(data: Any, where: str, default_kind: str | None = None) -> ErrorSpec:
    """A status, an error kind, or `{status, kind, type, code, message, param, headers, retry_after}`."""
    if isinstance(data, int) and not isinstance(data, bool):
        data = {"status": data}
    elif isinstance(data, str):
        data = {"kind": data}
    kind = data.get("kind")
    if kind is not None and kind not in error_kinds():
        raise SettingError(f"{where}.kind", f"unknown error kind {kind!r}; known: {sorted(error_kinds())}")
    status = data.get("status")
    if kind is None:
        kind = default_kind if default_kind and status is None else _kind_for_status(status or 500)
    known = error_kind(kind)
    retry_after = data.get("retry_after")
    return ErrorSpec(
        kind=kind,
        status=status if status is not None else known.status,
        message=data.get("message") or known.message or "The request failed.",
        type=data.get("type"),
        code=data.get("code"),
        param=data.get("param"),
        headers=tuple(sorted((str(k).lower(), str(v)) for k, v in (data.get("headers") or {}).items())),
        retry_after=None if retry_after is None else float(retry_after),
    )


def _detections(data: Mapping[str, Any]) -> Forced:
    return Forced(frozenset(data.get("input") or ()), frozenset(data.get("output") or ()))


def parse_action(data: Mapping[str, Any], where: str) -> Action:
    """One action from the action keys of a rule or of a sequence item: at most one kind, which may
    carry a delay, a fault and forced detections; any of those alone applies to the generated reply."""
    action = _parse_action(data, where)
    if "detections" not in data:
        return action
    if action.kind in ("error", "sequence"):
        raise SettingError(f"{where}.detections", "detections judge a reply; they cannot go with an error or a "
                           "sequence")
    return replace(action, detections=_detections(data["detections"]))


def _parse_action(data: Mapping[str, Any], where: str) -> Action:
    kinds = [key for key in ACTION_KEYS if key in data]
    delay = float(data.get("delay", 0.0))
    fault = parse_fault(data["fault"], f"{where}.fault") if "fault" in data else None
    if fault is not None and any(kind in ("error", "sequence") for kind in kinds):
        raise SettingError(f"{where}.fault", "a fault spoils a reply; it cannot go with an error or a sequence")
    if not kinds:
        if "delay" in data or "detections" in data or fault is not None:
            return Action("generate", delay=delay, fault=fault)
        raise SettingError(where, f"no action; give one of {list(ACTION_KEYS)}, or a delay, a fault or detections")
    if len(kinds) > 1:
        raise SettingError(f"{where}.{kinds[1]}", f"more than one action ({', '.join(kinds)}); give exactly one")
    kind = kinds[0]
    value = data[kind]
    at = f"{where}.{kind}"
    if kind in ("reply", "refusal"):
        return Action(kind, script=Script(kind, text=value), delay=delay, fault=fault)
    if kind == "object":
        return Action(kind, script=Script(kind, text=orjson.dumps(value).decode()), delay=delay, fault=fault)
    if kind == "tool_calls":
        return Action(kind, script=Script(kind, tool_calls=_tool_calls(value, at)), delay=delay, fault=fault)
    if kind == "error":
        return Action(kind, error=parse_error(value, at), delay=delay)
    if kind == "sequence":
        steps = tuple(parse_action(step, f"{at}.{i}") for i, step in enumerate(value))
        return Action(kind, sequence=steps, delay=delay)
    return Action("generate", delay=delay, fault=fault)


def _check_endpoint_actions(match: Match, action: Action, where: str) -> None:
    """A scripted reply needs an endpoint that replies with words; the model list does not."""
    endpoints = match.endpoint or GENERATING
    steps = action.sequence or (action,)
    for step in steps:
        if step.script is not None and not all(ENDPOINTS[name].scriptable for name in endpoints):
            raise SettingError(f"{where}.{step.kind}", f"a '{step.kind}' reply cannot answer {', '.join(endpoints)}")


def parse_rule(data: Any, where: str, rule_id: str) -> Rule:
    _check_shape(data, "rule", where)
    action = parse_action(data, where)
    match = parse_match(data.get("match"), f"{where}.match")
    _check_endpoint_actions(match, action, where)
    times = data.get("times")
    if times is None and action.kind == "sequence":
        times = len(action.sequence)
    return Rule(id=data.get("id", data.get("name", rule_id)), match=match, action=action, times=times,
                source=dict(data))


def parse_strict(value: Any, where: str) -> ErrorSpec | None:
    """`false`, `true` (404 `unmatched_request`) or the error to answer with, as in an `error` action."""
    _check_shape(value, "strict", where)
    if value is None or value is False:
        return None
    return parse_error({} if value is True else value, where, default_kind="unmatched_request")


def parse_scenario(data: Any, source: str) -> Scenario:
    """A whole scenario document: `{strict: ..., rules: [...]}` or just the list of rules."""
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, Mapping):
        raise SettingError(source, "expected a mapping with 'rules' (and optional 'strict') or a list of rules")
    unknown = sorted(set(data) - {"rules", "strict"})
    if unknown:
        raise SettingError(f"{source}: {unknown[0]}", "unknown top-level field; expected 'rules' and 'strict'")
    strict = parse_strict(data.get("strict"), f"{source}: strict")
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise SettingError(f"{source}: rules", "expected a list")
    parsed = tuple(parse_rule(rule, f"{source}: rules[{i}]", f"rule-{i + 1}") for i, rule in enumerate(rules))
    ids = [rule.id for rule in parsed]
    duplicate = next((i for i, rule_id in enumerate(ids) if rule_id in ids[:i]), None)
    if duplicate is not None:
        raise SettingError(f"{source}: rules[{duplicate}].id", f"duplicate rule id {ids[duplicate]!r}")
    return Scenario(rules=parsed, strict=strict)


def load_scenario(path: str | Path) -> Scenario:
    """Read a `.yaml`/`.yml` or `.json` scenario file; any problem raises `SettingError` naming the file."""
    return parse_scenario(read_document(path), str(path))
