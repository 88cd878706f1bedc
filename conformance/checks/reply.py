"""The checks of one reply to a valid request, and of two replies to one request (consistency).

A check takes the request that was sent and what came back, returns True when it applied (False when
the request does not exercise it) and raises `CheckFailed` (an AssertionError) naming what the contract
expected and what was seen. Completion checks take the reply as a `chat.completion` object: the JSON of
a non-streamed reply, or `StreamResult.as_completion()` for a streamed one. What a request asks for is
read by `mockserver.contract.request`, the same reading the mock makes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from conformance.checks.catalogue import CATALOGUE, register
from conformance.checks.outcome import clip, fail, seen_status
from conformance.checks.schemas import schema_error, subschema_error
from mockserver.contract import FINISH_LENGTH, FINISH_STOP, FINISH_TOOL_CALLS, TOOL_CALL_TEXT
from mockserver.contract.profiles import DEFAULT_PROFILE
from mockserver.contract.request import (
    allowed_tools,
    completion_limit,
    named_tool,
    stop_list,
    tool_choice_mode,
    tools_of_kind,
)

Request = Mapping[str, Any]
Completion = Mapping[str, Any]


def _choices(completion: Completion) -> list[Mapping[str, Any]]:
    choices = completion.get("choices")
    return [c for c in choices if isinstance(c, Mapping)] if isinstance(choices, list) else []


def _message(choice: Mapping[str, Any]) -> Mapping[str, Any]:
    message = choice.get("message")
    return message if isinstance(message, Mapping) else {}


# -- shape --------------------------------------------------------------------------------------------

@register("shape")
def accepts_valid_request(request: Request, status: int, content_type: str) -> bool:
    """A valid request gets 200, as JSON when not streamed (the event-stream type is a streaming check)."""
    if status != 200:
        raise fail("accepts_valid_request", "status 200 for a valid request", seen_status(status))
    if request.get("stream") is not True and not content_type.split(";")[0].strip().endswith("json"):
        raise fail("accepts_valid_request", "Content-Type: application/json", content_type or "none")
    return True


@register("shape", on_stream=False)
def completion_schema(request: Request, completion: Completion, profile: str = DEFAULT_PROFILE) -> bool:
    """A non-streamed reply validates against the `chat.completion` schema (as the run's profile keeps it)."""
    problem = schema_error("chat_completion", completion, profile)
    if problem is not None:
        raise fail("completion_schema", "a body valid against the chat.completion schema", problem)
    return True


@register("shape", on_stream=False)
def completion_object(request: Request, completion: Completion) -> bool:
    """A non-streamed reply has `object: "chat.completion"`."""
    if completion.get("object") != "chat.completion":
        raise fail("completion_object", "object 'chat.completion'", completion.get("object"))
    return True


@register("shape")
def completion_ids(request: Request, completion: Completion) -> bool:
    """`id` and `model` are non-empty strings, `created` a positive integer, tool-call ids unique strings."""
    if not isinstance(completion.get("id"), str) or not completion["id"]:
        raise fail("completion_ids", "a non-empty string id", completion.get("id"))
    created = completion.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or created <= 0:
        raise fail("completion_ids", "created as a positive integer (Unix seconds)", created)
    if not isinstance(completion.get("model"), str) or not completion["model"]:
        raise fail("completion_ids", "a non-empty string model", completion.get("model"))
    for choice in _choices(completion):
        calls = _message(choice).get("tool_calls") or []
        ids = [call.get("id") for call in calls if isinstance(call, Mapping)]
        if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
            raise fail("completion_ids", "unique non-empty string tool-call ids", ids)
    return True


# -- semantics ----------------------------------------------------------------------------------------

@register("semantics")
def choices_count(request: Request, completion: Completion) -> bool:
    """`len(choices) == n` and the indices are exactly 0..n-1."""
    n = request.get("n") or 1
    indices = sorted((choice.get("index") for choice in _choices(completion)), key=repr)
    if indices != list(range(n)):
        raise fail("choices_count", f"{n} choice(s) with indices {list(range(n))}", f"indices {indices}")
    return True


@register("semantics")
def max_tokens_honoured(request: Request, completion: Completion) -> bool:
    """A token limit bounds `usage.completion_tokens`, and a reply cut by it reports `finish_reason: "length"`
    with usage that equals the limit."""
    limit = completion_limit(request)
    usage = completion.get("usage")
    if limit is None or not isinstance(usage, Mapping) or not isinstance(usage.get("completion_tokens"), int):
        return False
    choices = _choices(completion)
    used = usage["completion_tokens"]
    if used > limit * max(1, len(choices)):
        raise fail("max_tokens_honoured", f"completion_tokens <= {limit} per choice", f"completion_tokens {used}")
    if len(choices) == 1 and choices[0].get("finish_reason") == FINISH_LENGTH and used != limit:
        raise fail("max_tokens_honoured", f"finish_reason 'length' with completion_tokens == {limit}",
                    f"completion_tokens {used}")
    return True


@register("semantics")
def stop_sequences_absent(request: Request, completion: Completion) -> bool:
    """No stop sequence appears in the returned text."""
    stops = stop_list(request)
    if not stops:
        return False
    for choice in _choices(completion):
        content = _message(choice).get("content") or ""
        found = [stop for stop in stops if stop in content]
        if found:
            raise fail("stop_sequences_absent", f"no {found[0]!r} in the content", content)
    return True


@register("semantics")
def usage_arithmetic(request: Request, completion: Completion) -> bool:
    """Usage is present (non-streamed, or streamed with `include_usage`) and adds up: total = prompt +
    completion, no count negative, details within their totals."""
    usage = completion.get("usage")
    streamed = request.get("stream") is True
    if usage is None and streamed:
        return False
    if not isinstance(usage, Mapping):
        raise fail("usage_arithmetic", "a usage object", usage)
    counts = {key: usage.get(key) for key in ("prompt_tokens", "completion_tokens", "total_tokens")}
    if any(not isinstance(v, int) or v < 0 for v in counts.values()):
        raise fail("usage_arithmetic", "non-negative integer token counts", counts)
    if counts["total_tokens"] != counts["prompt_tokens"] + counts["completion_tokens"]:
        raise fail("usage_arithmetic", "total_tokens == prompt_tokens + completion_tokens", counts)
    if counts["prompt_tokens"] == 0:
        raise fail("usage_arithmetic", "prompt_tokens > 0 for a non-empty prompt", counts)
    details = usage.get("completion_tokens_details") or {}
    reasoning = details.get("reasoning_tokens") if isinstance(details, Mapping) else None
    if isinstance(reasoning, int) and reasoning > counts["completion_tokens"]:
        raise fail("usage_arithmetic", "reasoning_tokens <= completion_tokens", usage)
    prompt_details = usage.get("prompt_tokens_details") or {}
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, Mapping) else None
    if isinstance(cached, int) and cached > counts["prompt_tokens"]:
        raise fail("usage_arithmetic", "cached_tokens <= prompt_tokens", usage)
    return True


def _check_token_entries(entries: list[Any], top: int, content: str) -> None:
    text = ""
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("token"), str):
            raise fail("logprobs_shape", "entries with a token string", entry)
        alternatives = entry.get("top_logprobs") or []
        if len(alternatives) != top:
            raise fail("logprobs_shape", f"{top} top_logprobs per token (top_logprobs={top})",
                        f"{len(alternatives)} at token {position}")
        levels = [alt.get("logprob") for alt in alternatives]
        if any(not isinstance(v, (int, float)) or v > 0 for v in [entry.get("logprob"), *levels]):
            raise fail("logprobs_shape", "log-probabilities <= 0", entry)
        if levels != sorted(levels, reverse=True):
            raise fail("logprobs_shape", "top_logprobs ordered from most to least likely", levels)
        token = entry["token"]
        if entry.get("bytes") is not None and "\ufffd" not in token and entry["bytes"] != list(token.encode()):
            raise fail("logprobs_shape", f"bytes == UTF-8 of {token!r}", entry.get("bytes"))
        text += token
    if "\ufffd" not in text and text != content:
        raise fail("logprobs_shape", "tokens that concatenate to the content", f"{text!r} vs {content!r}")


@register("semantics")
def logprobs_shape(request: Request, completion: Completion) -> bool:
    """With `logprobs`, each choice's tokens carry `top_logprobs` entries in the asked number, ordered, with
    matching bytes, and concatenate to the content; without it, `logprobs` is null."""
    wanted = request.get("logprobs") is True
    judged = False
    for choice in _choices(completion):
        logprobs = choice.get("logprobs")
        if not wanted:
            if logprobs is not None:
                raise fail("logprobs_shape", "logprobs null when not requested", logprobs)
            continue
        content = _message(choice).get("content")
        if not isinstance(content, str):
            continue
        entries = logprobs.get("content") if isinstance(logprobs, Mapping) else None
        if not isinstance(entries, list):
            raise fail("logprobs_shape", "logprobs.content as a list of tokens", logprobs)
        _check_token_entries(entries, request.get("top_logprobs") or 0, content)
        judged = True
    return judged


# -- tools --------------------------------------------------------------------------------------------

def _calls(choice: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    calls = _message(choice).get("tool_calls") or []
    return [call for call in calls if isinstance(call, Mapping)]


def _call_name(call: Mapping[str, Any]) -> Any:
    """The tool a call names, whichever kind it is (`function.name` or `custom.name`)."""
    inner = call.get(call.get("type") or "function")
    return inner.get("name") if isinstance(inner, Mapping) else None


def _call_key(call: Mapping[str, Any]) -> tuple[Any, Any]:
    return call.get("type") or "function", _call_name(call)


def _tool_label(key: tuple[Any, Any]) -> str:
    return f"{'custom tool' if key[0] == 'custom' else key[0]} {key[1]!r}"


@register("tools")
def tool_choice_honoured(request: Request, completion: Completion) -> bool:
    """`tool_choice` none gives no call, required at least one, a named function or custom tool only that
    tool; `allowed_tools` calls only the listed tools, and at least one in mode required."""
    if not request.get("tools"):
        return False
    mode = tool_choice_mode(request)
    if mode == "auto":
        return False
    named = named_tool(request.get("tool_choice"))
    allowed = allowed_tools(request.get("tool_choice"))
    required = mode == "required" or (allowed is not None and allowed[0] == "required")
    judged = False
    for reply_choice in _choices(completion):
        if reply_choice.get("finish_reason") == FINISH_LENGTH:
            continue
        judged = True
        keys = [_call_key(call) for call in _calls(reply_choice)]
        if mode == "none" and keys:
            raise fail("tool_choice_honoured", "no tool calls with tool_choice 'none'", keys)
        if required and not keys:
            raise fail("tool_choice_honoured", "at least one tool call with tool_choice 'required'",
                        _message(reply_choice))
        if named is not None and (not keys or any(key != named for key in keys)):
            raise fail("tool_choice_honoured", f"calls to the {_tool_label(named)} only",
                        keys or _message(reply_choice))
        if allowed is not None and any(key not in allowed[1] for key in keys):
            raise fail("tool_choice_honoured",
                        f"calls to the allowed tools {sorted(_tool_label(key) for key in allowed[1])} only", keys)
    return judged


def _arguments_error(name: str, function: Mapping[str, Any], arguments: str) -> tuple[str, Any] | None:
    try:
        value = json.loads(arguments)
    except ValueError:
        return "arguments that parse as JSON", arguments
    problem = subschema_error(dict(function.get("parameters") or {"type": "object"}), value)
    return (f"arguments valid against {name}'s parameters", problem) if problem is not None else None


def _input_error(name: str, custom: Mapping[str, Any], text: str) -> tuple[str, Any] | None:
    grammar = (custom.get("format") or {}).get("grammar") or {}
    if grammar.get("syntax") != "regex":
        return None
    try:
        pattern = re.compile(grammar["definition"])
    except re.error:
        return None  # a pattern only the server's regex dialect reads cannot be judged here
    if pattern.fullmatch(text) is None:
        return f"input matching the regex grammar {grammar['definition']!r}", text
    return None


# Per kind of tool call: how the tools are named in a failure, the form of the text field, and the
# check of what the text says.
ContentCheck = Callable[[str, Mapping[str, Any], str], tuple[str, Any] | None]
_CALL_FORMS: dict[str, tuple[str, str, ContentCheck]] = {
    "function": ("functions", "a JSON-encoded string", _arguments_error),
    "custom": ("custom tools", "a string", _input_error),
}


def _call_error(tools: Mapping[str, Mapping[str, Mapping[str, Any]]],
                call: Mapping[str, Any]) -> tuple[str, Any] | None:
    """What is wrong with one call, given the request's tools by kind and name; None when nothing is."""
    kind = call.get("type")
    if kind not in _CALL_FORMS:
        return "a call of type 'function' or 'custom'", kind
    plural, form, content_error = _CALL_FORMS[kind]
    inner = call.get(kind) or {}
    name = inner.get("name")
    if name not in tools[kind]:
        return f"a call to one of the {plural} {sorted(tools[kind])}", name
    field = TOOL_CALL_TEXT[kind]
    text = inner.get(field)
    if not isinstance(text, str):
        return f"{field} as {form}", text
    return content_error(name, tools[kind][name], text)


@register("tools")
def tool_arguments_valid(request: Request, completion: Completion) -> bool:
    """Each call names a declared tool of its kind: a function call's `arguments` is a JSON string that
    validates against the function's `parameters` (strict tools included), a custom tool call's `input`
    is a string that matches the tool's regex grammar when it has one."""
    tools = {kind: tools_of_kind(request, kind) for kind in TOOL_CALL_TEXT}
    applied = False
    for choice in _choices(completion):
        if choice.get("finish_reason") == FINISH_LENGTH:
            continue
        for call in _calls(choice):
            applied = True
            problem = _call_error(tools, call)
            if problem is not None:
                raise fail("tool_arguments_valid", *problem)
    return applied


@register("tools")
def tool_call_message(request: Request, completion: Completion) -> bool:
    """A message with tool calls has `content: null`, and `finish_reason` is `"tool_calls"` exactly when
    the model chose to call (a forced, named tool may also finish with `"stop"`). A stream may open the
    message with an empty content delta (vLLM's do): it wrote no text."""
    applied = False
    streamed = request.get("stream") is True
    named = named_tool(request.get("tool_choice")) is not None
    for choice in _choices(completion):
        calls = _calls(choice)
        finish = choice.get("finish_reason")
        if calls:
            applied = True
            content = _message(choice).get("content")
            if content is not None and not (streamed and content == ""):
                raise fail("tool_call_message", "content null alongside tool_calls", content)
            allowed = (FINISH_TOOL_CALLS, FINISH_STOP) if named else (FINISH_TOOL_CALLS,)
            if finish not in allowed and finish != FINISH_LENGTH:
                raise fail("tool_call_message", f"finish_reason in {allowed} with tool calls", finish)
        elif finish == FINISH_TOOL_CALLS:
            raise fail("tool_call_message", "tool_calls in a message that finishes with 'tool_calls'",
                        _message(choice))
    return applied


# -- structured outputs -------------------------------------------------------------------------------

@register("structured")
def structured_output_valid(request: Request, completion: Completion) -> bool:
    """With `response_format` json_object the content parses as a JSON object; with json_schema it also
    validates against the schema."""
    response_format = request.get("response_format") or {}
    kind = response_format.get("type")
    if kind not in ("json_object", "json_schema"):
        return False
    judged = False
    for choice in _choices(completion):
        content = _message(choice).get("content")
        if choice.get("finish_reason") != FINISH_STOP or _calls(choice) or _message(choice).get("refusal"):
            continue
        judged = True
        try:
            value = json.loads(content) if isinstance(content, str) else None
        except ValueError:
            raise fail("structured_output_valid", "content that parses as JSON", content) from None
        if not isinstance(value, dict):
            raise fail("structured_output_valid", "a JSON object", content)
        if kind == "json_schema":
            problem = subschema_error(response_format["json_schema"].get("schema") or {}, value)
            if problem is not None:
                raise fail("structured_output_valid", "content valid against the response schema", problem)
    return judged


# -- consistency (two replies to one request) ---------------------------------------------------------

def _outputs(completion: Completion) -> list[tuple[Any, Any, Any]]:
    return [
        (_message(c).get("content"),
         [((call.get("function") or {}).get("name"), (call.get("function") or {}).get("arguments"))
          for call in _calls(c)],
         c.get("finish_reason"))
        for c in sorted(_choices(completion), key=lambda c: c.get("index", 0))
    ]


@register("consistency")
def stream_matches_non_stream(request: Request, completion: Completion, streamed: Completion) -> bool:
    """The same seeded request gives the same text, tool calls and finish reasons streamed or not."""
    plain, assembled = _outputs(completion), _outputs(streamed)
    if plain != assembled:
        raise fail("stream_matches_non_stream", f"the non-streamed output {clip(plain, 150)}",
                    f"streamed {clip(assembled, 150)}")
    return True


@register("consistency")
def seed_reproducible(request: Request, completion: Completion, again: Completion) -> bool:
    """The same request with the same `seed` gives the same output (OpenAI promises this on a best-effort
    basis, so it is a warning unless strict)."""
    if request.get("seed") is None:
        return False
    first, second = _outputs(completion), _outputs(again)
    if first != second:
        raise fail("seed_reproducible", f"the same output twice {clip(first, 150)}", clip(second, 150))
    return True


PROFILED = frozenset({"completion_schema", "profile_reply_fields"})
"""Checks that judge a reply by the run's profile (they take it as `profile`)."""


def completion_checks(streamed: bool, profile: str = DEFAULT_PROFILE) -> list[tuple[str, Callable[[Request, Completion], bool]]]:
    """The single-reply completion checks in catalogue order, for a streamed or a non-streamed reply under
    `profile`, by name."""
    return [(info.name, functools.partial(info.function, profile=profile) if info.name in PROFILED else info.function)
            for info in CATALOGUE.values()
            if info.function is not None and info.area in ("shape", "semantics", "tools", "structured", "profile")
            and info.name != "accepts_valid_request" and (info.on_stream or not streamed) and info.judged_under(profile)]
