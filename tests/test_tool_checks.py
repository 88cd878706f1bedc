"""The tool checks judge custom tools and `allowed_tools` as the contract states them: the mock's replies
pass, and each departure a server could make is caught by the check named for it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from wire import assert_completion, chat

from conformance import checks
from conformance.outcome import CheckFailed
from mockserver import MockServer

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
DIAL = {"type": "custom", "custom": {"name": "dial", "format": {
    "type": "grammar", "grammar": {"syntax": "regex", "definition": "[0-9]{3}-[0-9]{4}"}}}}
NOTE = {"type": "custom", "custom": {"name": "note"}}
ALLOWED = {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [
    {"type": "custom", "custom": {"name": "dial"}}]}}
REQUEST: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Call someone."}],
                           "tools": [WEATHER, DIAL, NOTE], "tool_choice": ALLOWED}


@pytest.fixture(scope="module")
def reply() -> dict[str, Any]:
    with MockServer() as server:
        return assert_completion(chat(server.url, **{k: v for k, v in REQUEST.items() if k != "model"}))


def test_the_mock_honours_allowed_tools(reply: dict[str, Any]) -> None:
    assert checks.tool_choice_honoured(REQUEST, reply)
    assert checks.tool_arguments_valid(REQUEST, reply)
    assert checks.tool_call_message(REQUEST, reply)
    assert {call["custom"]["name"] for call in reply["choices"][0]["message"]["tool_calls"]} == {"dial"}


def _with_call(reply: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(reply)
    changed["choices"][0]["message"]["tool_calls"] = [{"id": "call_x", **call}]
    return changed


def test_a_call_outside_allowed_tools_fails(reply: dict[str, Any]) -> None:
    other = _with_call(reply, {"type": "custom", "custom": {"name": "note", "input": "hello"}})
    with pytest.raises(CheckFailed, match="allowed tools"):
        checks.tool_choice_honoured(REQUEST, other)


def test_no_call_under_allowed_tools_required_fails(reply: dict[str, Any]) -> None:
    silent = copy.deepcopy(reply)
    silent["choices"][0]["message"].pop("tool_calls")
    with pytest.raises(CheckFailed, match="at least one tool call"):
        checks.tool_choice_honoured(REQUEST, silent)


def test_custom_input_must_match_its_grammar(reply: dict[str, Any]) -> None:
    wrong = _with_call(reply, {"type": "custom", "custom": {"name": "dial", "input": "call me maybe"}})
    with pytest.raises(CheckFailed, match="regex grammar"):
        checks.tool_arguments_valid(REQUEST, wrong)


def test_custom_tool_called_as_a_function_fails(reply: dict[str, Any]) -> None:
    """A server without custom tools may answer one as a function call: the name is no declared function."""
    as_function = _with_call(reply, {"type": "function", "function": {"name": "dial", "arguments": "{}"}})
    with pytest.raises(CheckFailed, match="one of the functions"):
        checks.tool_arguments_valid(REQUEST, as_function)


def test_named_custom_tool_choice(reply: dict[str, Any]) -> None:
    named = {**REQUEST, "tool_choice": {"type": "custom", "custom": {"name": "note"}}}
    with pytest.raises(CheckFailed, match="'note' only"):
        checks.tool_choice_honoured(named, reply)
