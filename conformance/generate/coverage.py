"""What each group claims to exercise, and the examples that make sure a run exercises all of it.

Random examples alone miss variants a group claims: ten draws of the tools group can go by without a
named `tool_choice`, and a server that ignores one then passes. So each group (or part of a group)
names its variants and a pure classifier of which ones an example exercises; before the random
examples, a run sends, for every variant no earlier covering example exercised, the smallest example
of the group's own strategy that exercises it (found and shrunk by Hypothesis without sending
anything). The report lists what was covered, so a reader sees what a pass stands for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from conformance.generate import invalid
from conformance.generate.invalid import InvalidCase
from conformance.generate.requests import NOT_FOR_REASONING
from mockserver.contract import model_info
from mockserver.contract.request import named_tool, tool_choice_mode

Classifier = Callable[[Any], frozenset[str]]


@dataclass(frozen=True)
class Coverage:
    claimed: tuple[str, ...]
    """The variants, in the order reports list them."""
    classify: Classifier
    """Which variants one example exercises (a subset of `claimed`)."""
    parameters: Mapping[str, str] = field(default_factory=dict, compare=False)
    """The request parameter a variant depends on, where its name does not say it (a variant named after
    a parameter, like `max_tokens`, depends on that parameter)."""

    def for_model(self, model: str) -> Coverage:
        """The variants requests for `model` can have: a reasoning model takes neither `max_tokens` nor
        `temperature`, so variants that need them are not claimed for it."""
        if not model_info(model).reasoning:
            return self
        kept = tuple(v for v in self.claimed if self.parameters.get(v, v) not in NOT_FOR_REASONING)
        return replace(self, claimed=kept)


_FIND = settings(database=None, derandomize=True, max_examples=500, deadline=None,
                 phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))


def covering_examples(strategy: st.SearchStrategy[Any], coverage: Coverage) -> list[Any]:
    """For each claimed variant no earlier example exercises, the minimal example that does. A variant
    the strategy cannot produce is left out (and shows as not covered)."""
    found: list[Any] = []
    covered: set[str] = set()
    for variant in coverage.claimed:
        if variant in covered:
            continue
        try:
            example = find(strategy, lambda e, v=variant: v in coverage.classify(e), settings=_FIND)
        except NoSuchExample:
            continue
        found.append(example)
        covered |= coverage.classify(example)
    return found


def _fields(*names: str) -> Classifier:
    def classify(request: Any) -> frozenset[str]:
        return frozenset(name for name in names if isinstance(request, Mapping) and name in request)
    return classify


def combined(*parts: Classifier) -> Classifier:
    def classify(example: Any) -> frozenset[str]:
        return frozenset().union(*(part(example) for part in parts))
    return classify


def _messages(request: Any) -> list[Mapping[str, Any]]:
    found = request.get("messages") if isinstance(request, Mapping) else None
    return [m for m in found if isinstance(m, Mapping)] if isinstance(found, list) else []


def _conversation(request: Any) -> frozenset[str]:
    roles = [message.get("role") for message in _messages(request)]
    seen = {f"{role} message" for role in roles if role in ("system", "developer")}
    if roles.count("user") > 1 or "assistant" in roles:
        seen.add("earlier turn")
    return frozenset(seen)


def _streamed(request: Any) -> str:
    return "streamed" if isinstance(request, Mapping) and request.get("stream") is True else "not streamed"


# -- per group ----------------------------------------------------------------------------------------

_SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "seed", "max_completion_tokens", "user")
SHAPE = Coverage(("system message", "developer message", "earlier turn", *_SAMPLING),
                 combined(_conversation, _fields(*_SAMPLING)))


def _message_kinds(request: Any) -> frozenset[str]:
    seen: set[str] = set()
    calls: dict[str, str] = {}
    for message in _messages(request):
        role = message.get("role")
        seen.add(f"{role} message")
        if "name" in message:
            seen.add("message name")
        content = message.get("content")
        if isinstance(content, str):
            seen.add("string content")
        for part in content if isinstance(content, list) else ():
            if isinstance(part, Mapping):
                seen.add(f"{part.get('type')} part")
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping):
                calls[call.get("id")] = call.get("type")
        if role == "tool" and message.get("tool_call_id") in calls:
            seen.add(f"{calls[message['tool_call_id']]} call and its result")
    return frozenset(seen)


MESSAGES = Coverage(("system message", "developer message", "user message", "assistant message", "message name",
                     "string content", "text part", "image_url part", "file part", "function call and its result",
                     "custom call and its result"), _message_kinds)

CHOICES = Coverage(("n 1", "n 2", "n 3"), lambda r: frozenset({f"n {r.get('n')}"}))


def _limits(request: Any) -> frozenset[str]:
    seen = {name for name in ("max_tokens", "max_completion_tokens") if name in request}
    stop = request.get("stop")
    if stop is not None:
        seen.add("stop as a string" if isinstance(stop, str) else "stop as a list")
        if "max_tokens" in request:
            seen.add("stop with max_tokens")
    return frozenset(seen)


LIMITS = Coverage(("max_tokens", "max_completion_tokens", "stop as a string", "stop as a list",
                   "stop with max_tokens"), _limits, {"stop with max_tokens": "max_tokens"})


def _top_logprobs(request: Any) -> frozenset[str]:
    top = request.get("top_logprobs")
    return frozenset({"without top_logprobs" if top is None else "top_logprobs 0" if top == 0
                      else "top_logprobs above 0"})


LOGPROBS = Coverage(("without top_logprobs", "top_logprobs 0", "top_logprobs above 0"), _top_logprobs)


def _stream_options(request: Any) -> frozenset[str]:
    options = request.get("stream_options")
    seen = {"without stream_options" if options is None else
            f"include_usage {str(options.get('include_usage')).lower()}"}
    if request.get("n", 1) > 1:
        seen.add("n 2")
    seen |= {name for name in ("logprobs", "stop", "max_tokens") if name in request}
    return frozenset(seen)


STREAMING = Coverage(("without stream_options", "include_usage true", "include_usage false", "n 2", "logprobs",
                      "stop", "max_tokens"), _stream_options)

TOOL_CHOICES = ("none", "auto", "required", "named function", "named custom", "allowed_tools")


def _tool_choice_label(request: Any) -> str:
    mode = tool_choice_mode(request)
    if mode == "named":
        kind, _ = named_tool(request.get("tool_choice")) or ("function", "")
        return f"named {kind}"
    return mode


def _tool_kinds(request: Any) -> frozenset[str]:
    seen = set()
    for tool in request.get("tools") or ():
        kind = tool.get("type")
        inner = tool.get(kind) or {}
        if kind == "function":
            seen.add("strict function tool" if inner.get("strict") else "function tool")
        elif kind == "custom":
            grammar = ((inner.get("format") or {}).get("grammar") or {}).get("syntax")
            seen.add("custom tool with a regex grammar" if grammar == "regex" else "free-form custom tool")
    return frozenset(seen)


TOOLS = Coverage((*(f"tool_choice {mode} ({how})" for mode in TOOL_CHOICES for how in ("not streamed", "streamed")),
                  "function tool", "strict function tool", "free-form custom tool", "custom tool with a regex grammar"),
                 combined(lambda r: frozenset({f"tool_choice {_tool_choice_label(r)} ({_streamed(r)})"}),
                           _tool_kinds))


def _response_format(request: Any) -> frozenset[str]:
    response_format = request.get("response_format") or {}
    kind = response_format.get("type")
    if kind == "json_schema":
        strict = (response_format.get("json_schema") or {}).get("strict") is True
        kind = f"json_schema ({'strict' if strict else 'not strict'})"
    return frozenset({f"response_format {kind}", _streamed(request)})


STRUCTURED = Coverage(("response_format json_object", "response_format json_schema (strict)",
                       "response_format json_schema (not strict)", "not streamed", "streamed"), _response_format)


def rule_of(case: Any) -> frozenset[str]:
    return frozenset({case.rule}) if isinstance(case, InvalidCase) else frozenset()


@functools.cache
def error_parts(model: str = "") -> dict[str, Coverage]:
    """The rules each part of the errors group breaks (the same for every model)."""
    return {part: Coverage(names, rule_of) for part, names in invalid.rules().items()}


AUTH = Coverage(("missing API key", "wrong API key"), rule_of)
