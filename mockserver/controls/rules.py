"""Scripted behaviour as plain data: rules that match requests and say what happens to them.

A scenario is a list of rules plus, when strict, the error for requests no rule matches. The same rule dictionaries arrive from YAML/JSON files,
the admin API and the pytest plugin; `parse_rule` turns each into frozen data once, failing with the rule's
index and field, and `select` picks the action for a request as a pure function of the rules, the request
and how many earlier requests each rule has already seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from mockserver.contract import FINISH_STOP, FINISH_TOOL_CALLS, error_kind, error_kinds, served_tier
from mockserver.contract.errors import ApiError
from mockserver.controls.faults import FAULT_KINDS, Fault, parse_fault
from mockserver.core.generate.planner import Context, completion_id, usage
from mockserver.core.generate.logprobs import token_logprobs
from mockserver.core.plan import ChoicePlan, CompletionPlan, ToolCallPlan
from mockserver.core.generate.seeding import content_digest, rng_for, short_id, system_fingerprint
from mockserver.core.generate.tokenizer import encoding_of, tokenize


class ScenarioError(ValueError):
    """A rule that cannot be loaded; the message names the source, the rule index and the field."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


# ---------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class TextMatch:
    """Text equal to, containing, or matching a pattern."""

    mode: str
    value: str
    pattern: re.Pattern[str] | None = None

    def test(self, text: str | None) -> bool:
        if text is None:
            return False
        if self.mode == "equals":
            return text == self.value
        if self.mode == "contains":
            return self.value in text
        assert self.pattern is not None
        return self.pattern.search(text) is not None


@dataclass(frozen=True, slots=True)
class FieldTest:
    """A test on one value of the body, addressed by a dotted path (`response_format.type`, `messages.0.role`)."""

    path: tuple[str, ...]
    exists: bool | None = None
    equals: Any = None
    text: TextMatch | None = None


@dataclass(frozen=True, slots=True)
class Match:
    model: TextMatch | None = None
    message: TextMatch | None = None
    last_user: TextMatch | None = None
    role: str | None = None
    tools: bool | tuple[str, ...] | None = None
    tool_choice: str | None = None
    stream: bool | None = None
    headers: tuple[tuple[str, TextMatch], ...] = ()
    body: tuple[FieldTest, ...] = ()
    nth: int | None = None


# ---------------------------------------------------------------- actions

REPLY_ACTIONS = ("reply", "tool_calls", "object", "refusal")
ACTION_KEYS = (*REPLY_ACTIONS, "error", "sequence", "generate")


@dataclass(frozen=True, slots=True)
class ToolCallSpec:
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    kind: str
    status: int
    message: str
    type: str | None = None
    code: str | None = None
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """What happens to a matched request. `kind` is one of ACTION_KEYS; `delay` (seconds) precedes any
    kind, and `fault` spoils the delivery of a reply (scripted or generated) the way the streaming
    writer's faults do."""

    kind: str
    text: str | None = None
    tool_calls: tuple[ToolCallSpec, ...] = ()
    error: ErrorSpec | None = None
    sequence: tuple[Action, ...] = ()
    delay: float = 0.0
    fault: Fault | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    match: Match
    action: Action
    times: int | None = None
    source: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The rule as it was written, for listing it back through the admin API."""


@dataclass(frozen=True, slots=True)
class Scenario:
    rules: tuple[Rule, ...] = ()
    strict: ErrorSpec | None = None
    """The answer to requests no rule matches; None lets the generator answer them."""


@dataclass(frozen=True, slots=True)
class Counts:
    """How many earlier requests each rule's match accepted (`seen`) and how many it answered (`used`)."""

    seen: Mapping[str, int] = field(default_factory=dict)
    used: Mapping[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- parsing


_MATCH_FIELDS = frozenset(Match.__slots__)
_RULE_FIELDS = frozenset({"id", "name", "match", "times", "delay", "fault", *ACTION_KEYS})
_TEXT_MODES = ("equals", "contains", "regex")


def _text(value: Any, where: str, default_mode: str) -> TextMatch:
    if isinstance(value, str):
        return TextMatch(default_mode, value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((mode, text),) = value.items()
        if mode in _TEXT_MODES and isinstance(text, str):
            if mode != "regex":
                return TextMatch(mode, text)
            try:
                return TextMatch(mode, text, re.compile(text))
            except re.error as exc:
                raise ScenarioError(where, f"invalid regular expression {text!r}: {exc}") from None
    raise ScenarioError(where, "expected a string or one of {equals: ...}, {contains: ...}, {regex: ...}")


def _field_test(path: str, expected: Any, where: str) -> FieldTest:
    parts = tuple(path.split("."))
    if isinstance(expected, Mapping) and len(expected) == 1:
        ((key, value),) = expected.items()
        if key == "exists":
            if not isinstance(value, bool):
                raise ScenarioError(where, "'exists' takes true or false")
            return FieldTest(parts, exists=value)
        if key in _TEXT_MODES:
            return FieldTest(parts, text=_text(expected, where, "equals"))
    return FieldTest(parts, equals=expected)


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(where, f"expected a positive integer, got {value!r}")
    return value


def parse_match(data: Any, where: str) -> Match:
    if data is None:
        return Match()
    if not isinstance(data, Mapping):
        raise ScenarioError(where, "'match' must be a mapping")
    unknown = sorted(set(data) - _MATCH_FIELDS)
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}", f"unknown match field; expected one of {sorted(_MATCH_FIELDS)}")
    found: dict[str, Any] = {}
    for name in ("model",):
        if name in data:
            found[name] = _text(data[name], f"{where}.{name}", "equals")
    for name in ("message", "last_user"):
        if name in data:
            found[name] = _text(data[name], f"{where}.{name}", "contains")
    for name in ("role", "tool_choice"):
        if name in data:
            if not isinstance(data[name], str):
                raise ScenarioError(f"{where}.{name}", "expected a string")
            found[name] = data[name]
    if "stream" in data:
        if not isinstance(data["stream"], bool):
            raise ScenarioError(f"{where}.stream", "expected true or false")
        found["stream"] = data["stream"]
    if "tools" in data:
        tools = data["tools"]
        if isinstance(tools, str):
            tools = [tools]
        if not isinstance(tools, bool) and not (isinstance(tools, list) and all(isinstance(t, str) for t in tools)):
            raise ScenarioError(f"{where}.tools", "expected true, false, a tool name or a list of tool names")
        found["tools"] = tools if isinstance(tools, bool) else tuple(tools)
    if "headers" in data:
        if not isinstance(data["headers"], Mapping):
            raise ScenarioError(f"{where}.headers", "expected a mapping of header name to value")
        found["headers"] = tuple(sorted((str(k).lower(), _text(v, f"{where}.headers.{k}", "equals"))
                                        for k, v in data["headers"].items()))
    if "body" in data:
        if not isinstance(data["body"], Mapping):
            raise ScenarioError(f"{where}.body", "expected a mapping of dotted path to expected value")
        found["body"] = tuple(_field_test(str(k), v, f"{where}.body.{k}") for k, v in sorted(data["body"].items()))
    if "nth" in data:
        found["nth"] = _positive_int(data["nth"], f"{where}.nth")
    return Match(**found)


def _tool_call_spec(data: Any, where: str) -> ToolCallSpec:
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str) or not data["name"]:
        raise ScenarioError(where, "a tool call needs a 'name' and optional 'arguments' (object or JSON string)")
    unknown = sorted(set(data) - {"name", "arguments"})
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}", "unknown tool call field; expected 'name' and 'arguments'")
    arguments = data.get("arguments", {})
    if isinstance(arguments, str):
        return ToolCallSpec(data["name"], arguments)
    if not isinstance(arguments, Mapping):
        raise ScenarioError(f"{where}.arguments", "expected an object or a JSON string")
    return ToolCallSpec(data["name"], orjson.dumps(arguments).decode())


_ERROR_FIELDS = frozenset({"status", "kind", "type", "code", "message", "param", "headers", "retry_after"})


def _kind_for_status(status: int) -> str:
    """The first kind in fixtures/errors.json with this status, else a generic 4xx/5xx kind."""
    for name, kind in error_kinds().items():
        if kind.status == status:
            return name
    return "server_error" if status >= 500 else "invalid_request"


def _error_spec(data: Any, where: str, default_kind: str | None = None) -> ErrorSpec:
    if isinstance(data, int) and not isinstance(data, bool):
        data = {"status": data}
    elif isinstance(data, str):
        data = {"kind": data}
    if not isinstance(data, Mapping):
        raise ScenarioError(where, "expected a status code, an error kind or a mapping")
    unknown = sorted(set(data) - _ERROR_FIELDS)
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}", f"unknown error field; expected one of {sorted(_ERROR_FIELDS)}")
    kind = data.get("kind")
    if kind is not None and kind not in error_kinds():
        raise ScenarioError(f"{where}.kind", f"unknown error kind {kind!r}; known: {sorted(error_kinds())}")
    status = data.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599):
        raise ScenarioError(f"{where}.status", f"expected an HTTP error status (400-599), got {status!r}")
    if kind is None:
        kind = default_kind if default_kind and status is None else _kind_for_status(status or 500)
    known = error_kind(kind)
    for name in ("type", "code", "message", "param"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ScenarioError(f"{where}.{name}", "expected a string")
    headers = data.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(isinstance(v, (str, int, float)) for v in headers.values()):
        raise ScenarioError(f"{where}.headers", "expected a mapping of header name to value")
    retry_after = data.get("retry_after")
    if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, (int, float))
                                    or retry_after < 0):
        raise ScenarioError(f"{where}.retry_after", "expected a number of seconds")
    return ErrorSpec(
        kind=kind,
        status=status if status is not None else known.status,
        message=data.get("message") or known.message or "The request failed.",
        type=data.get("type"),
        code=data.get("code"),
        param=data.get("param"),
        headers=tuple(sorted((str(k).lower(), str(v)) for k, v in headers.items())),
        retry_after=None if retry_after is None else float(retry_after),
    )


MAX_DELAY_SECONDS = 600.0


def _delay(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_DELAY_SECONDS:
        raise ScenarioError(where, f"expected a number of seconds from 0 to {MAX_DELAY_SECONDS:g}")
    return float(value)


_FAULT_FIELDS = frozenset({"kind", "after", "error", "stall_ms"})


def _count_field(data: Mapping[str, Any], name: str, where: str) -> int:
    value = data.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError(f"{where}.{name}", "expected a whole number, 0 or more")
    return value


def _fault(value: Any, where: str) -> Fault:
    """`{kind: cut, after: 3}` (also `error`, `stall_ms`), or the X-Mock-Fault header text `cut-after=3`."""
    if isinstance(value, str):
        try:
            return parse_fault(value)
        except ApiError as exc:
            raise ScenarioError(where, exc.message) from None
    if not isinstance(value, Mapping):
        raise ScenarioError(where, "expected a mapping with a 'kind' or the X-Mock-Fault text form")
    unknown = sorted(set(value) - _FAULT_FIELDS)
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}", f"unknown fault field; expected one of {sorted(_FAULT_FIELDS)}")
    kind = value.get("kind")
    if kind not in FAULT_KINDS:
        raise ScenarioError(f"{where}.kind", f"expected one of {list(FAULT_KINDS)}")
    error = value.get("error", "server_error")
    if error not in error_kinds():
        raise ScenarioError(f"{where}.error", f"unknown error kind {error!r}")
    if kind == "stall" and "stall_ms" not in value:
        raise ScenarioError(f"{where}.stall_ms", "a stall fault needs stall_ms")
    return Fault(kind=kind, after=_count_field(value, "after", where), error=error,
                 stall_ms=_count_field(value, "stall_ms", where))


def parse_action(data: Mapping[str, Any], where: str) -> Action:
    """One action from the action keys of a rule or of a sequence item: at most one kind, which may
    carry a delay and a fault; a delay or a fault alone applies to the generated reply."""
    kinds = [key for key in ACTION_KEYS if key in data]
    delay = _delay(data["delay"], f"{where}.delay") if "delay" in data else 0.0
    fault = _fault(data["fault"], f"{where}.fault") if "fault" in data else None
    if fault is not None and any(kind in ("error", "sequence") for kind in kinds):
        raise ScenarioError(f"{where}.fault", "a fault spoils a reply; it cannot go with an error or a sequence")
    if not kinds:
        if "delay" in data or fault is not None:
            return Action("generate", delay=delay, fault=fault)
        raise ScenarioError(where, f"no action; give one of {list(ACTION_KEYS)}, or a delay or a fault")
    if len(kinds) > 1:
        raise ScenarioError(f"{where}.{kinds[1]}", f"more than one action ({', '.join(kinds)}); give exactly one")
    kind = kinds[0]
    value = data[kind]
    at = f"{where}.{kind}"
    if kind in ("reply", "refusal"):
        if not isinstance(value, str):
            raise ScenarioError(at, "expected a string")
        return Action(kind, text=value, delay=delay, fault=fault)
    if kind == "object":
        return Action(kind, text=orjson.dumps(value).decode(), delay=delay, fault=fault)
    if kind == "tool_calls":
        calls = value if isinstance(value, list) else [value]
        if not calls:
            raise ScenarioError(at, "expected at least one tool call")
        specs = tuple(_tool_call_spec(c, f"{at}.{i}") for i, c in enumerate(calls))
        return Action(kind, tool_calls=specs, delay=delay, fault=fault)
    if kind == "error":
        return Action(kind, error=_error_spec(value, at), delay=delay)
    if kind == "sequence":
        if not isinstance(value, list) or not value or not all(isinstance(v, Mapping) for v in value):
            raise ScenarioError(at, "expected a non-empty list of actions")
        steps = tuple(parse_action(v, f"{at}.{i}") for i, v in enumerate(value))
        if any(step.kind == "sequence" for step in steps):
            raise ScenarioError(at, "sequences cannot nest")
        return Action(kind, sequence=steps, delay=delay)
    if value is not True:
        raise ScenarioError(at, "expected true")
    return Action("generate", delay=delay, fault=fault)


def parse_rule(data: Any, where: str, rule_id: str) -> Rule:
    if not isinstance(data, Mapping):
        raise ScenarioError(where, "a rule must be a mapping")
    unknown = sorted(set(data) - _RULE_FIELDS)
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}", f"unknown rule field; expected one of {sorted(_RULE_FIELDS)}")
    name = data.get("id", data.get("name", rule_id))
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{where}.id", "expected a non-empty string")
    action = parse_action(data, where)
    times = _positive_int(data["times"], f"{where}.times") if data.get("times") is not None else None
    if times is None and action.kind == "sequence":
        times = len(action.sequence)
    return Rule(id=name, match=parse_match(data.get("match"), f"{where}.match"), action=action, times=times,
                source=dict(data))


def parse_strict(value: Any, where: str) -> ErrorSpec | None:
    """`false`, `true` (404 `unmatched_request`) or the error to answer with, as in an `error` action."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise ScenarioError(where, "expected true, false or an error mapping (status, kind, message, ...)")
    return _error_spec(value, where, default_kind="unmatched_request")


def parse_scenario(data: Any, source: str) -> Scenario:
    """A whole scenario document: `{strict: ..., rules: [...]}` or just the list of rules."""
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, Mapping):
        raise ScenarioError(source, "expected a mapping with 'rules' (and optional 'strict') or a list of rules")
    unknown = sorted(set(data) - {"rules", "strict"})
    if unknown:
        raise ScenarioError(f"{source}: {unknown[0]}", "unknown top-level field; expected 'rules' and 'strict'")
    strict = parse_strict(data.get("strict"), f"{source}: strict")
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise ScenarioError(f"{source}: rules", "expected a list")
    parsed = tuple(parse_rule(rule, f"{source}: rules[{i}]", f"rule-{i + 1}") for i, rule in enumerate(rules))
    ids = [rule.id for rule in parsed]
    duplicate = next((i for i, rule_id in enumerate(ids) if rule_id in ids[:i]), None)
    if duplicate is not None:
        raise ScenarioError(f"{source}: rules[{duplicate}].id", f"duplicate rule id {ids[duplicate]!r}")
    return Scenario(rules=parsed, strict=strict)


def read_document(path: str | Path) -> Any:
    """A scenario file's raw data, for passing on to another server's admin API."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(str(path), f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
    return data


def load_scenario(path: str | Path) -> Scenario:
    """Read a `.yaml`/`.yml` or `.json` scenario file; any problem raises `ScenarioError` naming the file."""
    return parse_scenario(read_document(path), str(path))


# ---------------------------------------------------------------- selection


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return None


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str | None:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return None


def _lookup(body: Any, path: Sequence[str]) -> tuple[bool, Any]:
    current = body
    for part in path:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def _field_ok(test: FieldTest, body: Mapping[str, Any]) -> bool:
    found, value = _lookup(body, test.path)
    if test.exists is not None:
        return found == test.exists
    if not found:
        return False
    if test.text is not None:
        return isinstance(value, str) and test.text.test(value)
    return bool(value == test.equals and isinstance(value, bool) == isinstance(test.equals, bool))


def _tool_choice_name(choice: Any) -> str | None:
    if isinstance(choice, str):
        return choice
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping):
            return function.get("name")
    return None


def _tool_names(request: Mapping[str, Any]) -> set[str]:
    names = set()
    for tool in request.get("tools") or ():
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            names.add(function["name"])
    return names


@dataclass(frozen=True, slots=True)
class RequestView:
    """The parts of a request that rules test, computed once per request rather than once per rule."""

    request: Mapping[str, Any]
    texts: tuple[str | None, ...]
    last_user: str | None
    last_role: str | None
    tool_names: frozenset[str]
    tool_choice: str | None
    headers: Mapping[str, str]

    @classmethod
    def of(cls, request: Mapping[str, Any], headers: Mapping[str, str]) -> RequestView:
        messages = request.get("messages") or []
        return cls(
            request=request,
            texts=tuple(_content_text(m.get("content")) for m in messages),
            last_user=_last_user_text(messages),
            last_role=messages[-1].get("role") if messages else None,
            tool_names=frozenset(_tool_names(request)),
            tool_choice=_tool_choice_name(request.get("tool_choice")),
            headers={k.lower(): v for k, v in headers.items()},
        )


def matches(match: Match, view: RequestView) -> bool:
    """Whether the request satisfies every condition the match states (ignoring `nth`)."""
    request = view.request
    if match.model is not None and not match.model.test(request.get("model")):
        return False
    if match.last_user is not None and not match.last_user.test(view.last_user):
        return False
    if match.message is not None and not any(match.message.test(text) for text in view.texts):
        return False
    if match.role is not None and view.last_role != match.role:
        return False
    if match.tools is not None:
        if isinstance(match.tools, bool):
            if bool(request.get("tools")) != match.tools:
                return False
        elif not view.tool_names.issuperset(match.tools):
            return False
    if match.tool_choice is not None and view.tool_choice != match.tool_choice:
        return False
    if match.stream is not None and bool(request.get("stream")) != match.stream:
        return False
    if any(not test.test(view.headers.get(name)) for name, test in match.headers):
        return False
    return all(_field_ok(test, request) for test in match.body)


def _step(rule: Rule, used: int) -> Action:
    if rule.action.kind != "sequence":
        return rule.action
    return rule.action.sequence[min(used, len(rule.action.sequence) - 1)]


def select(rules: Sequence[Rule], request: Mapping[str, Any], headers: Mapping[str, str],
           counts: Counts) -> tuple[Rule | None, Action | None, Counts]:
    """The first live rule that takes this request, the action for this call, and the counts after it.

    Every rule whose match accepts the request sees it (that is what `nth` counts), whether or not an
    earlier rule answers; only the answering rule's `used` count grows, which is what `times` limits.
    """
    if not rules:
        return None, None, counts
    view = RequestView.of(request, headers)
    seen = dict(counts.seen)
    used = dict(counts.used)
    chosen: Rule | None = None
    for rule in rules:
        if not matches(rule.match, view):
            continue
        seen[rule.id] = seen.get(rule.id, 0) + 1
        if chosen is not None:
            continue
        if rule.match.nth is not None and seen[rule.id] != rule.match.nth:
            continue
        if rule.times is not None and used.get(rule.id, 0) >= rule.times:
            continue
        chosen = rule
    if chosen is None:
        return None, None, Counts(seen, used)
    action = _step(chosen, used.get(chosen.id, 0))
    used[chosen.id] = used.get(chosen.id, 0) + 1
    return chosen, action, Counts(seen, used)


# ---------------------------------------------------------------- replies as plans


def _choice(action: Action, request: Mapping[str, Any], digest: bytes, index: int) -> ChoicePlan:
    encoding = encoding_of(request["model"])
    if action.kind == "tool_calls":
        calls = tuple(
            ToolCallPlan(id="call_" + short_id(digest + f"{index}:{i}".encode(), 24), name=spec.name,
                         argument_tokens=tuple(tokenize(spec.arguments, encoding)))
            for i, spec in enumerate(action.tool_calls)
        )
        return ChoicePlan(index=index, finish_reason=FINISH_TOOL_CALLS, tool_calls=calls)
    tokens = tuple(tokenize(action.text or "", encoding))
    logprobs = None
    if request.get("logprobs"):
        top = request.get("top_logprobs") or 0
        logprobs = tuple(token_logprobs(rng_for(digest, "logprobs", index), tokens, top, encoding))
    if action.kind == "refusal":
        return ChoicePlan(index=index, finish_reason=FINISH_STOP, refusal_tokens=tokens, logprobs=logprobs)
    return ChoicePlan(index=index, finish_reason=FINISH_STOP, content_tokens=tokens, logprobs=logprobs)


def reply_plan(action: Action, request: Mapping[str, Any], context: Context) -> CompletionPlan:
    """A scripted reply as the same plan the generator makes, so every writer serves it alike."""
    digest = content_digest(request, context.server_seed)
    choices = tuple(_choice(action, request, digest, i) for i in range(request.get("n") or 1))
    return CompletionPlan(
        id=completion_id(context, digest),
        created=context.created,
        model=request["model"],
        system_fingerprint=system_fingerprint(context.server_seed),
        service_tier=served_tier(request.get("service_tier")),
        choices=choices,
        usage=usage(request, choices, 0, context.prompt_tokens),
    )
