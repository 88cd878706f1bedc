"""Request validation with the real API's answers: the schema first, then the rules it cannot express.

The schema check runs twice only on failure: jsonschema-rs answers valid or not on the hot path in
about a microsecond, and jsonschema explains a failure precisely, so good requests pay almost nothing
and bad ones get an error message as specific as the real API's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match

from mockserver.contract import model_info, request_parameters, schema
from mockserver.contract.errors import ApiError, invalid_request, unknown_parameter
from mockserver.core.generate.planner import completion_limit
from mockserver.core.validate.limits import check_context_window, check_output_limit
from mockserver.core.validate.schemas import check_request_schemas
from mockserver.core.generate.tokenizer import prompt_tokens

_DISCRIMINATORS = ("role", "type")
_JSON_TYPE_NAMES = {
    "string": "a string", "integer": "an integer", "number": "a decimal", "boolean": "a boolean",
    "object": "an object", "array": "an array", "null": "null",
}


@functools.cache
def _fast_check() -> Callable[[Any], bool]:
    """Formats go unchecked, as in the explainer (and the real API): both must give the same verdict."""
    return jsonschema_rs.validator_for(schema("chat_completion_request"), validate_formats=False).is_valid


@functools.cache
def _explainer() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema("chat_completion_request"))


def param_path(parts: Iterable[Any]) -> str | None:
    """The real API's notation for a nested parameter: `messages.[0].content`."""
    text = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in parts)
    return text or None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _discriminator_failed(errors: Sequence[ValidationError]) -> bool:
    return any(
        len(e.relative_path) == 1 and e.relative_path[0] in _DISCRIMINATORS and e.validator in ("enum", "const")
        for e in errors
    )


def _specific(error: ValidationError) -> ValidationError:
    """Descend through oneOf/anyOf into the branch the client evidently meant (the one whose `role` or
    `type` matched), so the message names the real mistake rather than "not valid under any schema"."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [errs for errs in branches.values() if not _discriminator_failed(errs)]
        if not meant:
            break
        if len(meant) > 1 and all(len(errs) == 1 and not errs[0].relative_path for errs in meant):
            break
        error = best_match(min(meant, key=len))
    return error


def _discriminator_error(error: ValidationError) -> ApiError | None:
    """When no branch of a union accepts the object's `role`/`type`, list the values that would."""
    if error.validator not in ("oneOf", "anyOf") or not isinstance(error.instance, dict):
        return None
    allowed: list[Any] = []
    key = None
    for sub in error.context or ():
        if len(sub.relative_path) == 1 and sub.relative_path[0] in _DISCRIMINATORS and sub.validator in ("enum", "const"):
            key = sub.relative_path[0]
            values = sub.validator_value if sub.validator == "enum" else [sub.validator_value]
            allowed += [v for v in values if v not in allowed]
    if key is None or len({s.relative_schema_path[0] for s in error.context}) != len(
            {s.relative_schema_path[0] for s in error.context if s.relative_path and s.relative_path[0] == key}):
        return None
    param = param_path([*error.absolute_path, key])
    listed = ", ".join(repr(v) for v in allowed)
    return ApiError("invalid_request", f"Invalid value: {error.instance.get(key)!r}. Supported values are: "
                    f"{listed}.", param=param, code="invalid_value")


def _schema_error(error: ValidationError) -> ApiError:
    error = _specific(error)
    by_discriminator = _discriminator_error(error)
    if by_discriminator is not None:
        return by_discriminator
    path = list(error.absolute_path)
    param = param_path(path)
    value = error.instance
    kind = error.validator
    if kind == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else ""
        return ApiError("invalid_request", f"Missing required parameter: '{param_path([*path, name])}'.",
                        param=param_path([*path, name]), code="missing_required_parameter")
    if kind == "type" or (kind in ("oneOf", "anyOf") and not isinstance(value, (dict, list))):
        expected = error.validator_value if kind == "type" else None
        if expected is None:
            expected = [b.get("type") for b in error.validator_value if isinstance(b, dict) and isinstance(b.get("type"), str)]
        if isinstance(expected, str):
            wanted = _JSON_TYPE_NAMES.get(expected, expected)
        elif expected:
            wanted = " or ".join(_JSON_TYPE_NAMES.get(t, t) for t in expected)
        else:
            wanted = "a value of another type"
        return ApiError("invalid_request", f"Invalid type for '{param}': expected {wanted}, but got "
                        f"{_type_name(value)} instead.", param=param, code="invalid_type")
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        listed = ", ".join(repr(v) for v in allowed if v is not None)
        return ApiError("invalid_request", f"Invalid value: {value!r}. Supported values are: {listed}.",
                        param=param, code="invalid_value")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        number = "integer" if error.schema.get("type") in ("integer", ["integer", "null"]) else "decimal"
        below = kind in ("minimum", "exclusiveMinimum")
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[kind]
        word = "below minimum" if below else "above maximum"
        return ApiError("invalid_request", f"Invalid '{param}': {number} {word} value. Expected a value "
                        f"{sign} {error.validator_value}, but got {value} instead.",
                        param=param, code=f"{number}_{'below_min' if below else 'above_max'}_value")
    if kind == "minItems":
        return ApiError("invalid_request", f"Invalid '{param}': empty array. Expected an array with minimum "
                        f"length {error.validator_value}, but got an empty array instead.",
                        param=param, code="empty_array")
    if kind == "maxItems":
        return ApiError("invalid_request", f"Invalid '{param}': array too long. Expected an array with maximum "
                        f"length {error.validator_value}, but got an array with length {len(value)} instead.",
                        param=param, code="array_above_max_length")
    if kind in ("maxLength", "minLength"):
        which = "long" if kind == "maxLength" else "short"
        bound = "maximum" if kind == "maxLength" else "minimum"
        return ApiError("invalid_request", f"Invalid '{param}': string too {which}. Expected a string with "
                        f"{bound} length {error.validator_value}, but got a string with length {len(value)} "
                        "instead.", param=param, code=f"string_{'above_max' if kind == 'maxLength' else 'below_min'}_length")
    if kind == "additionalProperties":
        extra = re.search(r"\('([^']+)'", error.message)
        name = param_path([*path, extra.group(1)]) if extra else param
        return ApiError("invalid_request", f"Unrecognized request argument supplied: {name}", param=name)
    return ApiError("invalid_request", f"Invalid '{param}': {error.message}", param=param, code="invalid_value")


def _check_schema(body: Mapping[str, Any]) -> None:
    """jsonschema has the last word: the fast check only spares valid requests the slow one. They differ
    at a few edges, such as an integer literal beyond 64 bits that the JSON parser widened to a float."""
    if not _fast_check()(body):
        error = best_match(_explainer().iter_errors(body))
        if error is not None:
            raise _schema_error(error)


@functools.cache
def _integer_parameters() -> frozenset[str]:
    properties = schema("chat_completion_request")["properties"]
    return frozenset(name for name, node in properties.items() if "integer" in (node.get("type") or ()))


def _integer_error(name: str, value: float) -> ApiError:
    if value.is_integer() and abs(value) >= 2**63:
        above = value > 0
        return ApiError("invalid_request", f"Invalid '{name}': integer {'above maximum' if above else 'below minimum'}"
                        f" value. Expected a value {'<=' if above else '>='} {2**63 - 1 if above else -2**63}, but got "
                        "an integer beyond 64 bits instead.", param=name,
                        code=f"integer_{'above_max' if above else 'below_min'}_value")
    return ApiError("invalid_request", f"Invalid type for '{name}': expected an integer, but got a decimal instead.",
                    param=name, code="invalid_type")


def _check_integers(body: Mapping[str, Any]) -> None:
    """JSON Schema counts 5.0 as an integer; the real API does not, and the generator slices and counts
    with these values. A float this large can only be an integer literal beyond 64 bits that the JSON
    parser widened, so it is reported as out of range rather than as a decimal."""
    integers = _integer_parameters()
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


def _check_stream_options(body: Mapping[str, Any]) -> None:
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise invalid_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                              "stream_options")


def _tool_names(body: Mapping[str, Any]) -> set[str]:
    names = set()
    for tool in body.get("tools") or ():
        inner = tool.get(tool.get("type", "function")) or {}
        names.add(inner.get("name"))
    return names


def _named_choice(choice: Any) -> str | None:
    if isinstance(choice, Mapping) and choice.get("type") in ("function", "custom"):
        return (choice.get(choice["type"]) or {}).get("name")
    return None


def _check_tool_choice(body: Mapping[str, Any]) -> None:
    choice = body.get("tool_choice")
    if choice is not None and choice != "none" and not body.get("tools"):
        raise invalid_request("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' "
                              "are specified.", "tool_choice")
    names = _tool_names(body)
    named = _named_choice(choice)
    if named is not None and named not in names:
        raise invalid_request(f"Invalid value for 'tool_choice': function '{named}' is not one of the "
                              "functions in 'tools'.", "tool_choice")
    if isinstance(choice, Mapping) and choice.get("type") == "allowed_tools":
        for index, tool in enumerate(choice["allowed_tools"].get("tools") or ()):
            wanted = _named_choice(tool) if isinstance(tool, Mapping) else None
            if wanted is not None and wanted not in names:
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


def _check_logit_bias(body: Mapping[str, Any]) -> None:
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


def _check_context_window(body: Mapping[str, Any], window: int) -> int:
    """The prompt's token count, once it and the completion it asks room for are known to fit the window."""
    tokens = prompt_tokens(body)
    check_context_window(tokens, completion_limit(body), window)
    return tokens


Rule = Callable[[Mapping[str, Any]], None]


@functools.cache
def _semantic_rules() -> tuple[tuple[Rule, frozenset[str] | None], ...]:
    """Each rule with the top-level parameters that can make it fail (None: any request may). A request
    that sends none of a rule's parameters cannot break it, so the rule is skipped: most requests send
    a handful of parameters, and running every rule on each was a tenth of a reply's cost."""
    return (
        (_check_integers, frozenset({*_integer_parameters(), "logit_bias"})),
        (_check_logprobs, frozenset({"top_logprobs"})),
        (_check_stream_options, frozenset({"stream_options"})),
        (_check_tool_choice, frozenset({"tool_choice", "function_call"})),
        (_check_tool_messages, None),
        (check_request_schemas, frozenset({"tools", "functions", "response_format"})),
        (_check_output_options, frozenset({"n", "modalities", "prediction", "max_tokens", "max_completion_tokens"})),
        (_check_json_mode, frozenset({"response_format"})),
        (_check_logit_bias, frozenset({"logit_bias"})),
        (_check_model_rules, frozenset({"max_tokens", "temperature"})),
        (check_output_limit, frozenset({"max_tokens", "max_completion_tokens"})),
    )


def validate_request(body: Any, extra_parameters: frozenset[str] = frozenset(),
                     context_windows: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The body as a request the generator may trust, or the `ApiError` the real API would answer.

    `extra_parameters` are top-level names a compatibility profile adds; they are removed before the
    schema check and are the profile's to interpret. `context_windows` overrides the model table's
    context window for the model ids it names.
    """
    return validate_and_count(body, extra_parameters, context_windows)[0]


def validate_and_count(body: Any, extra_parameters: frozenset[str] = frozenset(),
                       context_windows: Mapping[str, int] | None = None) -> tuple[dict[str, Any], int]:
    """`validate_request`, and the prompt's token count it had to work out for the context window, so
    a server that bills and rate-limits by that count need not count again."""
    if not isinstance(body, dict):
        raise invalid_request(f"Invalid type for request body: expected an object, but got {_type_name(body)} instead.")
    unknown = body.keys() - request_parameters() - extra_parameters
    if unknown:
        raise unknown_parameter(min(unknown))
    core = {k: v for k, v in body.items() if k not in extra_parameters} if extra_parameters else body
    _check_schema(core)
    for rule, parameters in _semantic_rules():
        if parameters is None or not parameters.isdisjoint(core):
            rule(core)
    model = core["model"]
    window = context_windows.get(model) if context_windows else None
    # The whole body counts: the extra parameters a profile accepts (RAG documents) reach the prompt too.
    return body, _check_context_window(body, model_info(model).context_window if window is None else window)
