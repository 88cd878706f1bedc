"""Requests for `/responses` (the Responses API): valid ones with every input form, function tools and each
`tool_choice`, structured `text.format`, limits and streaming, and invalid ones that each break one rule.

Valid means valid as the real API means it: `max_output_tokens` is at least 16, JSON mode asks for JSON
in words, a named `tool_choice` names a declared function, a function call's output follows the call,
and a reasoning model is sent no `temperature`.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from conformance.generate.coverage import Coverage, rule_of
from conformance.generate.invalid import (
    Change,
    InvalidCase,
    malformed,
    one_rule_each,
    unknown_model,
    with_fields,
    without,
)
from conformance.generate.requests import TOOL_NAMES, WORDS, Request, object_schema, text
from mockserver.contract import model_info

MIN_OUTPUT_TOKENS = 16
TOOL_CHOICES = ("omitted", "none", "auto", "required", "named", "allowed_tools")


def _tool(name: str) -> st.SearchStrategy[dict[str, Any]]:
    def build(strict: bool, parameters: dict[str, Any], description: str) -> dict[str, Any]:
        return {"type": "function", "name": name, "description": description, "parameters": parameters,
                "strict": strict}
    return st.booleans().flatmap(lambda strict: st.builds(build, st.just(strict), object_schema(strict), text(4)))


def _history(call_id: str, name: str, value: str) -> list[dict[str, Any]]:
    """An earlier turn that called a function, and the function's output."""
    return [{"role": "user", "content": "look it up"},
            {"type": "function_call", "call_id": call_id, "name": name, "arguments": json.dumps({"q": value})},
            {"type": "function_call_output", "call_id": call_id, "output": value}]


@st.composite
def _input(draw: st.DrawFn, json_mode: bool) -> Any:
    words = draw(text(5)) + (" Reply in JSON." if json_mode else "")
    form = draw(st.sampled_from(("string", "messages", "function call")))
    if form == "string":
        return words
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": draw(st.sampled_from(("system", "developer"))), "content": draw(text(4))})
    if form == "function call":
        messages += _history(f"call_{draw(st.integers(1, 99))}", draw(st.sampled_from(WORDS)), draw(text(3)))
    content = words if draw(st.booleans()) else [{"type": "input_text", "text": words}]
    return [*messages, {"role": "user", "content": content}]


@st.composite
def _valid(draw: st.DrawFn, model: str) -> Request:
    fmt = draw(st.sampled_from((None, "json_object", "json_schema")))
    request: Request = {"model": model, "input": draw(_input(fmt == "json_object"))}
    if fmt == "json_object":
        request["text"] = {"format": {"type": "json_object"}}
    elif fmt == "json_schema":
        strict = draw(st.booleans())
        request["text"] = {"format": {"type": "json_schema", "name": "reply", "schema": draw(object_schema(strict)),
                                      "strict": strict}}
    elif draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(TOOL_NAMES), min_size=1, max_size=3, unique=True))
        request["tools"] = [draw(_tool(name)) for name in names]
        form = draw(st.sampled_from(TOOL_CHOICES))
        if form == "named":
            request["tool_choice"] = {"type": "function", "name": draw(st.sampled_from(names))}
        elif form == "allowed_tools":
            allowed = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
            request["tool_choice"] = {"type": "allowed_tools", "mode": draw(st.sampled_from(("auto", "required"))),
                                      "tools": [{"type": "function", "name": name} for name in allowed]}
        elif form != "omitted":
            request["tool_choice"] = form
    optional: dict[str, st.SearchStrategy[Any]] = {
        "instructions": text(4), "max_output_tokens": st.integers(MIN_OUTPUT_TOKENS, 20), "stream": st.just(True),
        "store": st.just(False), "metadata": st.builds(lambda word: {"case": word}, st.sampled_from(WORDS)),
        "top_p": st.sampled_from([0.5, 1])}
    if not model_info(model).reasoning:
        optional["temperature"] = st.sampled_from([0, 0.5, 1])
    for name, strategy in optional.items():
        if draw(st.booleans()):
            request[name] = draw(strategy)
    return request


def response_requests(model: str) -> st.SearchStrategy[Request]:
    return _valid(model)


def _tool_choice_label(request: dict[str, Any]) -> str | None:
    if not request.get("tools"):
        return None
    choice = request.get("tool_choice")
    if choice is None:
        return "tool_choice omitted"
    return f"tool_choice {choice if isinstance(choice, str) else 'named' if choice.get('type') == 'function' else 'allowed_tools'}"


def _variants(request: Any) -> frozenset[str]:
    if not isinstance(request, dict):
        return frozenset()
    value = request.get("input")
    seen = {"input as a string" if isinstance(value, str) else "input as items"}
    if isinstance(value, list) and any(item.get("type") == "function_call_output" for item in value):
        seen.add("function call and its output")
    label = _tool_choice_label(request)
    if label is not None:
        seen |= {"function tool", label}
    fmt = ((request.get("text") or {}).get("format") or {}).get("type")
    if fmt:
        seen.add(f"text.format {fmt}")
    seen |= {name for name in ("instructions", "metadata", "temperature") if name in request}
    if "max_output_tokens" in request and not request.get("text") and not request.get("tools"):
        seen.add("max_output_tokens")  # on prose, which a limit of 16 to 20 tokens cuts
    seen.add("streamed" if request.get("stream") else "not streamed")
    if request.get("store") is False:
        seen.add("not stored")
    return frozenset(seen)


_CLAIMED = ("input as a string", "input as items", "function call and its output", "function tool",
            *(f"tool_choice {form}" for form in TOOL_CHOICES), "text.format json_object", "text.format json_schema",
            "instructions", "max_output_tokens", "metadata", "temperature", "streamed", "not streamed", "not stored")


def valid_coverage(model: str) -> Coverage:
    return Coverage(tuple(v for v in _CLAIMED if v != "temperature" or not model_info(model).reasoning), _variants)


_LOOKUP = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}, "strict": False}
_CASES: tuple[tuple[str, str, Change], ...] = (
    ("wrong type for input", "invalid_request", with_fields(input=12)),
    ("wrong type for instructions", "invalid_request", with_fields(instructions=12)),
    ("wrong type for max_output_tokens", "invalid_request", with_fields(max_output_tokens="many")),
    ("wrong type for store", "invalid_request", with_fields(store="many")),
    ("max_output_tokens below minimum", "invalid_request", with_fields(max_output_tokens=MIN_OUTPUT_TOKENS - 1)),
    ("top_p above maximum", "invalid_request", with_fields(top_p=2)),
    ("top_logprobs above maximum", "invalid_request", with_fields(top_logprobs=21)),
    ("unknown truncation", "invalid_request", with_fields(truncation="sideways")),
    ("unknown text.format type", "invalid_request", with_fields(text={"format": {"type": "yaml"}})),
    ("unknown parameter", "invalid_request", with_fields(x_table=1)),
    ("function call output without a call", "invalid_request",
     with_fields(input=[{"type": "function_call_output", "call_id": "call_1", "output": "x"}])),
    ("tool_choice names an undeclared function", "invalid_request",
     with_fields(tools=[_LOOKUP], tool_choice={"type": "function", "name": "missing"})),
    ("missing required model", "invalid_request", without("model")),
    ("malformed JSON body", "invalid_request", malformed),
    ("unknown model", "model_not_found", unknown_model),
)
RULES = tuple(rule for rule, _, _ in _CASES)


def _invalid(model: str) -> st.SearchStrategy[InvalidCase]:
    return one_rule_each(text().map(lambda words: {"model": model, "input": words}), _CASES)


def parts(model: str) -> dict[str, st.SearchStrategy[Any]]:
    return {"replies": response_requests(model), "invalid requests": _invalid(model)}


def coverage(model: str) -> dict[str, Coverage]:
    return {"replies": valid_coverage(model), "invalid requests": Coverage(RULES, rule_of)}
