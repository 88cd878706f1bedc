"""The rules of a valid request that its schema cannot express, each worded as the real API words it.

Each rule comes with the top-level parameters that can break it, so a request that sends none of them
skips it: most requests send a handful of parameters, and running every rule on each was a tenth of a
reply's cost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mockserver.contract.errors import ApiError, invalid_request
from mockserver.contract.fixtures import schema
from mockserver.contract.models import model_info
from mockserver.contract.request import allowed_tools, completion_limit, named_tool, offered_tools
from mockserver.core.generate.tokenizer import prompt_tokens
from mockserver.core.validate.limits import check_output_limit, check_room
from mockserver.core.validate.schemas import check_request_schemas


@functools.cache
def _integer_parameters(schema_name: str = "chat_completion_request") -> frozenset[str]:
    properties = schema(schema_name)["properties"]
    return frozenset(name for name, node in properties.items() if "integer" in (node.get("type") or ()) or any(
        "integer" in (branch.get("type") or ()) for branch in node.get("anyOf", ()) if isinstance(branch, dict)))


def _integer_error(name: str, value: float) -> ApiError:
    if value.is_integer() and abs(value) >= 2**63:
        above = value > 0
        return ApiError("invalid_request", f"Invalid '{name}': integer {'above maximum' if above else 'below minimum'}"
                        f" value. Expected a value {'<=' if above else '>='} {2**63 - 1 if above else -2**63}, but got "
                        "an integer beyond 64 bits instead.", param=name,
                        code=f"integer_{'above_max' if above else 'below_min'}_value")
    return ApiError("invalid_request", f"Invalid type for '{name}': expected an integer, but got a decimal instead.",
                    param=name, code="invalid_type")


def check_token_lists(value: Any, name: str) -> None:
    """Token ids (a list of them, or a list of such lists) that JSON Schema let through as integers but
    were written as decimals (`[1.0]`): the real API refuses them, and a token id must be an integer."""
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        if isinstance(item, list):
            check_token_lists(item, f"{name}.[{index}]")
        elif isinstance(item, float):
            raise _integer_error(f"{name}.[{index}]", item)


def check_integers(body: Mapping[str, Any], schema_name: str = "chat_completion_request") -> None:
    """JSON Schema counts 5.0 as an integer; the real API does not, and the generator slices and counts
    with these values. A float this large can only be an integer literal beyond 64 bits that the JSON
    parser widened, so it is reported as out of range rather than as a decimal."""
    integers = _integer_parameters(schema_name)
    decimals = sorted(name for name, value in body.items() if isinstance(value, float) and name in integers)
    if decimals:
        raise _integer_error(decimals[0], body[decimals[0]])
    for key, value in sorted((body.get("logit_bias") or {}).items()):
        if isinstance(value, float):
            raise _integer_error(f"logit_bias.{key}", value)


def _check_logprobs(body: Mapping[str, Any]) -> None:
    if body.get("top_logprobs") is not None and body.get("logprobs") is not True:
        raise invalid_request("Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
                              "'top_logprobs' is used.", "top_logprobs")


def check_stream_options(body: Mapping[str, Any]) -> None:
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise invalid_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                              "stream_options")


def _check_tool_choice(body: Mapping[str, Any]) -> None:
    choice = body.get("tool_choice")
    if choice is not None and choice != "none" and not body.get("tools"):
        raise invalid_request("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' "
                              "are specified.", "tool_choice")
    names = {tool.name for tool in offered_tools(body)}
    named = named_tool(choice)
    if named is not None and named[1] not in names:
        raise invalid_request(f"Invalid value for 'tool_choice': function '{named[1]}' is not one of the "
                              "functions in 'tools'.", "tool_choice")
    allowed = allowed_tools(choice)
    for index, (_, wanted) in enumerate(allowed[1] if allowed is not None else ()):
        if wanted not in names:
            raise invalid_request(f"Invalid value for 'tool_choice': allowed tool '{wanted}' is not one of "
                                  "the functions in 'tools'.", f"tool_choice.allowed_tools.tools.[{index}]")
    function_call = body.get("function_call")
    functions = {f.get("name") for f in body.get("functions") or ()}
    if function_call is not None and function_call != "none" and not functions:
        raise invalid_request("Invalid value for 'function_call': 'function_call' is only allowed when "
                              "'functions' are specified.", "function_call")
    if isinstance(function_call, Mapping) and function_call.get("name") not in functions:
        raise invalid_request(f"Invalid value for 'function_call': function '{function_call.get('name')}' is "
                              "not one of the 'functions'.", "function_call")


def _unanswered(pending: Sequence[str], at: int) -> ApiError:
    return invalid_request(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
        f"messages.[{at}].role")


def _check_tool_messages(body: Mapping[str, Any]) -> None:
    """Tool results must answer the calls of the assistant message right before them, all of them."""
    pending: list[str] = []
    pending_at = 0
    seen_calls = False
    for index, message in enumerate(body["messages"]):
        role = message.get("role")
        if role == "tool":
            if not seen_calls:
                raise invalid_request("Invalid parameter: messages with role 'tool' must be a response to a "
                                      "preceeding message with 'tool_calls'.", f"messages.[{index}].role")
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                raise invalid_request(f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                                      "'tool_calls' of previous message.", f"messages.[{index}].tool_call_id")
            pending.remove(call_id)
            continue
        if pending:
            raise _unanswered(pending, pending_at)
        if role == "assistant" and message.get("tool_calls"):
            pending = [call.get("id") for call in message["tool_calls"]]
            pending_at = index
            seen_calls = True
    if pending:
        raise _unanswered(pending, pending_at)


def _mentions_json(content: Any) -> bool:
    if isinstance(content, str):
        return "json" in content.lower()
    if isinstance(content, list):
        return any(isinstance(part, Mapping) and _mentions_json(part.get("text")) for part in content)
    return False


def _check_json_mode(body: Mapping[str, Any]) -> None:
    """JSON mode without asking for JSON in words makes real models emit whitespace until the limit, so
    the real API refuses it up front."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_object" and not any(
            _mentions_json(message.get("content")) for message in body["messages"]):
        raise invalid_request("'messages' must contain the word 'json' in some form, to use 'response_format' "
                              "of type 'json_object'.", "messages")


def _check_output_options(body: Mapping[str, Any]) -> None:
    n = body.get("n") or 1
    audio_out = "audio" in (body.get("modalities") or ())
    if audio_out and body.get("audio") is None:
        raise ApiError("invalid_request", "Missing required parameter: 'audio'. It is required when "
                       "'modalities' includes 'audio'.", param="audio", code="missing_required_parameter")
    if audio_out and n > 1:
        raise invalid_request("Invalid value for 'n': audio output supports only n = 1.", "n")
    if body.get("prediction") is not None:
        if n > 1:
            raise invalid_request("Invalid value for 'n': predicted outputs support only n = 1.", "n")
        if body.get("logprobs"):
            raise invalid_request("Invalid value for 'logprobs': 'logprobs' is not supported with predicted "
                                  "outputs.", "logprobs")
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and value < 1:
            raise ApiError("integer_below_min_value", f"Invalid '{name}': integer below minimum value. Expected "
                           f"a value >= 1, but got {value} instead.", param=name)


def check_logit_bias(body: Mapping[str, Any]) -> None:
    for key, value in sorted((body.get("logit_bias") or {}).items()):
        if not (key.isascii() and key.isdigit()):
            raise invalid_request(f"Invalid key in 'logit_bias': {key}. Keys must be token ids (integers as "
                                  "strings).", "logit_bias")
        if not -100 <= value <= 100:
            raise invalid_request(f"Invalid value for 'logit_bias.{key}': {value}. Values must be between -100 "
                                  "and 100.", "logit_bias")


def _check_model_rules(body: Mapping[str, Any]) -> None:
    info = model_info(body["model"])
    if info.reasoning:
        if body.get("max_tokens") is not None:
            raise ApiError("unsupported_parameter", "Unsupported parameter: 'max_tokens' is not supported with "
                           "this model. Use 'max_completion_tokens' instead.", param="max_tokens")
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            raise ApiError("unsupported_value", f"Unsupported value: 'temperature' does not support {temperature} "
                           "with this model. Only the default (1) value is supported.", param="temperature")


def check_context_window(body: Mapping[str, Any], window: int) -> int:
    """The prompt's token count, once it and the completion it asks room for are known to fit the window."""
    tokens = prompt_tokens(body)
    check_room(tokens, completion_limit(body), window)
    return tokens


Rule = Callable[[Mapping[str, Any]], None]


@functools.cache
def semantic_rules() -> tuple[tuple[Rule, frozenset[str] | None], ...]:
    """Each rule with the top-level parameters that can make it fail (None: any request may). A request
    that sends none of a rule's parameters cannot break it, so the rule is skipped: most requests send
    a handful of parameters, and running every rule on each was a tenth of a reply's cost."""
    return (
        (check_integers, frozenset({*_integer_parameters(), "logit_bias"})),
        (_check_logprobs, frozenset({"top_logprobs"})),
        (check_stream_options, frozenset({"stream_options"})),
        (_check_tool_choice, frozenset({"tool_choice", "function_call"})),
        (_check_tool_messages, None),
        (check_request_schemas, frozenset({"tools", "functions", "response_format"})),
        (_check_output_options, frozenset({"n", "modalities", "prediction", "max_tokens", "max_completion_tokens"})),
        (_check_json_mode, frozenset({"response_format"})),
        (check_logit_bias, frozenset({"logit_bias"})),
        (_check_model_rules, frozenset({"max_tokens", "temperature"})),
        (check_output_limit, frozenset({"max_tokens", "max_completion_tokens"})),
    )
