"""The rules a schema cannot express, each answered the way the real API answers it: 400 and a named param."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import USER_TEXT, assert_completion, assert_error, chat

from mockserver import MockServer
from mockserver.core.validate.rules import semantic_rules

USER = {"role": "user", "content": USER_TEXT}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
CALL_2 = {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
AUDIO = {"voice": "alloy", "format": "wav"}


def test_top_logprobs_requires_logprobs(server: MockServer) -> None:
    error = assert_error(chat(server.url, top_logprobs=3), param="top_logprobs")
    assert "'logprobs' must be set to true" in error["message"]
    assert_error(chat(server.url, top_logprobs=3, logprobs=False), param="top_logprobs")


def test_stream_options_requires_stream(server: MockServer) -> None:
    error = assert_error(chat(server.url, stream_options={"include_usage": True}), param="stream_options")
    assert "only allowed when 'stream' is enabled" in error["message"]
    assert_error(chat(server.url, stream=False, stream_options={"include_usage": True}), param="stream_options")


def test_tool_choice_requires_tools(server: MockServer) -> None:
    error = assert_error(chat(server.url, tool_choice="auto"), param="tool_choice")
    assert "only allowed when 'tools' are specified" in error["message"]
    assert_error(chat(server.url, tool_choice="required"), param="tool_choice")


def test_tool_choice_none_needs_no_tools(server: MockServer) -> None:
    assert_completion(chat(server.url, tool_choice="none"))


def test_tool_choice_names_a_function_in_tools(server: MockServer) -> None:
    error = assert_error(chat(server.url, tools=[WEATHER],
                              tool_choice={"type": "function", "function": {"name": "get_time"}}), param="tool_choice")
    assert "'get_time'" in error["message"]


def test_custom_tool_choice_names_a_tool_in_tools(server: MockServer) -> None:
    assert_error(chat(server.url, tools=[WEATHER], tool_choice={"type": "custom", "custom": {"name": "search"}}),
                 param="tool_choice")


def test_allowed_tools_name_tools_in_tools(server: MockServer) -> None:
    choice = {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [
        {"type": "function", "function": {"name": "get_weather"}},
        {"type": "function", "function": {"name": "get_time"}}]}}
    error = assert_error(chat(server.url, tools=[WEATHER], tool_choice=choice),
                         param="tool_choice.allowed_tools.tools.[1]")
    assert "'get_time'" in error["message"]


def test_function_call_requires_functions(server: MockServer) -> None:
    assert_error(chat(server.url, function_call="auto"), param="function_call")


def test_function_call_names_a_function_in_functions(server: MockServer) -> None:
    error = assert_error(chat(server.url, functions=[WEATHER["function"]], function_call={"name": "get_time"}),
                         param="function_call")
    assert "'get_time'" in error["message"]


def test_tool_message_without_a_preceding_tool_call(server: MockServer) -> None:
    messages = [USER, {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}]
    error = assert_error(chat(server.url, messages=messages), param="messages.[1].role")
    assert "preceeding message with 'tool_calls'" in error["message"]


def test_tool_message_answering_an_unknown_call(server: MockServer) -> None:
    messages = [USER, {"role": "assistant", "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "call_9", "content": "18 C"}]
    error = assert_error(chat(server.url, messages=messages), param="messages.[2].tool_call_id")
    assert "'call_9'" in error["message"]


def test_tool_message_answering_a_call_of_an_older_turn(server: MockServer) -> None:
    messages = [USER, {"role": "assistant", "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
                {"role": "assistant", "content": "It is 18 C."}, USER,
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}]
    assert_error(chat(server.url, messages=messages), param="messages.[5].tool_call_id")


def test_tool_calls_must_all_be_answered(server: MockServer) -> None:
    messages = [USER, {"role": "assistant", "tool_calls": [CALL, CALL_2]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}, USER]
    error = assert_error(chat(server.url, messages=messages), param="messages.[1].role")
    assert "call_2" in error["message"] and "call_1" not in error["message"].split("messages:")[-1]


def test_tool_calls_unanswered_at_the_end(server: MockServer) -> None:
    messages = [USER, {"role": "assistant", "tool_calls": [CALL]}]
    assert_error(chat(server.url, messages=messages), param="messages.[1].role")


def test_audio_output_requires_the_audio_parameter(server: MockServer) -> None:
    error = assert_error(chat(server.url, model="gpt-4o-audio-preview", modalities=["text", "audio"]),
                         param="audio", code="missing_required_parameter")
    assert "'audio'" in error["message"]


@pytest.mark.parametrize("fields", [
    {"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"], "audio": AUDIO},
    {"prediction": {"type": "content", "content": "draft"}},
], ids=["audio output", "predicted output"])
def test_n_above_one_is_refused_where_not_supported(server: MockServer, fields: dict[str, Any]) -> None:
    error = assert_error(chat(server.url, n=2, **fields), param="n")
    assert "only n = 1" in error["message"]
    assert chat(server.url, n=1, **fields).status == 200


def test_logprobs_are_refused_with_predicted_outputs(server: MockServer) -> None:
    assert_error(chat(server.url, logprobs=True, prediction={"type": "content", "content": "draft"}), param="logprobs")


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("value", [0, -5])
def test_token_limits_below_one(server: MockServer, name: str, value: int) -> None:
    error = assert_error(chat(server.url, **{name: value}), param=name, code="integer_below_min_value")
    assert str(value) in error["message"]


@pytest.mark.parametrize("key", ["abc", "-1", "1.5", "\u0663"])
def test_logit_bias_keys_are_token_ids(server: MockServer, key: str) -> None:
    assert_error(chat(server.url, logit_bias={key: -100}), param="logit_bias")


@pytest.mark.parametrize("value", [-101, 101])
def test_logit_bias_values_are_within_100(server: MockServer, value: int) -> None:
    error = assert_error(chat(server.url, logit_bias={"42": value}), param="logit_bias")
    assert str(value) in error["message"]


def test_reasoning_models_refuse_max_tokens(server: MockServer) -> None:
    error = assert_error(chat(server.url, model="o3-mini", max_tokens=10), param="max_tokens",
                         code="unsupported_parameter")
    assert "max_completion_tokens" in error["message"]
    assert_completion(chat(server.url, model="o3-mini", max_completion_tokens=10))


def test_reasoning_models_refuse_a_temperature_other_than_one(server: MockServer) -> None:
    assert_error(chat(server.url, model="o1", temperature=0.5), param="temperature", code="unsupported_value")
    assert_completion(chat(server.url, model="o1", temperature=1))


def test_prompt_beyond_the_context_window(server: MockServer) -> None:
    long_text = "word " * 9000
    error = assert_error(chat(server.url, model="gpt-4", messages=[{"role": "user", "content": long_text}]),
                         param="messages", code="context_length_exceeded")
    assert "8192" in error["message"]
    assert_completion(chat(server.url, model="gpt-4.1", messages=[{"role": "user", "content": long_text}]))


@pytest.mark.parametrize("name", ["foo", "max_output_tokens", "Model", "prompt"])
def test_unknown_top_level_parameter(server: MockServer, name: str) -> None:
    error = assert_error(chat(server.url, **{name: 1}), param=None)
    assert error["message"] == f"Unrecognized request argument supplied: {name}"


def test_json_mode_requires_the_word_json(server: MockServer) -> None:
    error = assert_error(chat(server.url, response_format={"type": "json_object"}), param="messages")
    assert "must contain the word 'json'" in error["message"]
    asked = [{"role": "system", "content": "Answer as a Json object."}, USER]
    assert_completion(chat(server.url, messages=asked, response_format={"type": "json_object"}))
    in_a_part = [{"role": "user", "content": [{"type": "text", "text": "Reply in JSON please."}]}]
    assert_completion(chat(server.url, messages=in_a_part, response_format={"type": "json_object"}))


_NASTY = {
    "model": st.sampled_from(["gpt-4o-mini", "o3-mini", "gpt-5"]),
    "n": st.sampled_from([1, 2, 3.0]),
    "max_tokens": st.sampled_from([0, 5, 5.0]),
    "max_completion_tokens": st.sampled_from([0, 5, 2.0**70]),
    "temperature": st.sampled_from([0, 0.5, 1]),
    "logprobs": st.booleans(),
    "top_logprobs": st.sampled_from([0, 3, 2.5]),
    "stream": st.booleans(),
    "stream_options": st.just({"include_usage": True}),
    "modalities": st.sampled_from([["text"], ["text", "audio"]]),
    "audio": st.just({"voice": "alloy", "format": "wav"}),
    "prediction": st.just({"type": "content", "content": "x"}),
    "logit_bias": st.sampled_from([{"12": 5}, {"x": 1}, {"12": 500}, {"12": 1.5}]),
    "tools": st.just([{"type": "function", "function": {"name": "f", "parameters": {"type": "string"},
                                                        "strict": True}}]),
    "tool_choice": st.sampled_from(["auto", "required", {"type": "function", "function": {"name": "g"}}]),
    "functions": st.just([{"name": "f"}]),
    "function_call": st.sampled_from(["auto", {"name": "g"}]),
    "response_format": st.sampled_from([{"type": "json_object"},
                                        {"type": "json_schema", "json_schema": {"name": "s", "strict": True,
                                                                                "schema": {"type": "array"}}}]),
    "seed": st.sampled_from([1, 1.5]),
}


@settings(max_examples=300)
@given(body=st.fixed_dictionaries({"messages": st.just([{"role": "user", "content": "hi"}])},
                                  optional=_NASTY))
def test_a_rule_is_skipped_only_when_it_cannot_fail(body: dict[str, Any]) -> None:
    """Validation skips a semantic rule when the request sends none of the rule's parameters; that is only
    sound if the rule, run anyway on such a request, never objects. Requests full of rule-breaking values
    check that the rules' parameter lists leave nothing out."""
    body.setdefault("model", "gpt-4o-mini")
    for rule, parameters in semantic_rules():
        if parameters is not None:
            rule({name: value for name, value in body.items() if name not in parameters})
