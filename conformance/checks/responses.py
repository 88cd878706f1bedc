"""The checks of `/responses` (the Responses API), and its typed event stream as a state machine.

Checks take the request and a `response` object: a non-streamed body, or the one the stream's terminal
event (`response.completed` or `response.incomplete`) carries. The stream machine checks each event
against the contract, the order of events (created, in_progress, each item added before its deltas and
done after them, one terminal event last) with `sequence_number` counting up from 0, and that the
deltas add up to the text and arguments the `done` events and the final response hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.catalogue import CATALOGUE, CheckInfo, register
from conformance.checks.events import EventJudge
from conformance.checks.outcome import Violation, fail
from conformance.checks.schemas import schema_error, subschema_error
from mockserver.contract.sse import Event

Request = Mapping[str, Any]
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def _output(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    output = response.get("output")
    return [item for item in output if isinstance(item, Mapping)] if isinstance(output, list) else []


def output_text(response: Mapping[str, Any]) -> str:
    """The text of the response's assistant messages, as the SDKs' `output_text` joins it."""
    return "".join(part.get("text") or "" for item in _output(response) if item.get("type") == "message"
                   for part in item.get("content") or () if isinstance(part, Mapping)
                   and part.get("type") == "output_text")


def function_calls(response: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [item for item in _output(response) if item.get("type") == "function_call"]


@register("responses", on_stream=False)
def response_schema(request: Request, response: Mapping[str, Any]) -> bool:
    """A non-streamed reply validates against the `response` schema."""
    problem = schema_error("response", response)
    if problem is not None:
        raise fail("response_schema", "a body valid against the response schema", problem)
    return True


@register("responses")
def response_object(request: Request, response: Mapping[str, Any]) -> bool:
    """`object: "response"` and a finished status (`completed`, or `incomplete` with its reason)."""
    if response.get("object") != "response":
        raise fail("response_object", "object 'response'", response.get("object"))
    status = response.get("status")
    if status not in ("completed", "incomplete"):
        raise fail("response_object", "status 'completed' or 'incomplete'", status)
    if status == "incomplete" and not isinstance(response.get("incomplete_details"), Mapping):
        raise fail("response_object", "incomplete_details with the reason of an incomplete response",
                   response.get("incomplete_details"))
    return True


@register("responses")
def response_ids(request: Request, response: Mapping[str, Any]) -> bool:
    """`id` and `model` are non-empty strings, `created_at` a positive integer, output item ids and
    function call ids unique non-empty strings."""
    if not isinstance(response.get("id"), str) or not response["id"]:
        raise fail("response_ids", "a non-empty string id", response.get("id"))
    created = response.get("created_at")
    if not isinstance(created, int) or isinstance(created, bool) or created <= 0:
        raise fail("response_ids", "created_at as a positive integer (Unix seconds)", created)
    if not isinstance(response.get("model"), str) or not response["model"]:
        raise fail("response_ids", "a non-empty string model", response.get("model"))
    ids = [item.get("id") for item in _output(response)]
    calls = [item.get("call_id") for item in function_calls(response)]
    for name, listed in (("output item ids", ids), ("call_ids", calls)):
        if any(not isinstance(i, str) or not i for i in listed) or len(set(listed)) != len(listed):
            raise fail("response_ids", f"unique non-empty {name}", listed)
    return True


@register("responses")
def response_usage_arithmetic(request: Request, response: Mapping[str, Any]) -> bool:
    """`usage` has `input_tokens`, `output_tokens` and `total_tokens` = their sum, reasoning tokens within
    the output and cached tokens within the input."""
    usage = response.get("usage")
    if not isinstance(usage, Mapping):
        raise fail("response_usage_arithmetic", "a usage object", usage)
    counts = {key: usage.get(key) for key in ("input_tokens", "output_tokens", "total_tokens")}
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in counts.values()):
        raise fail("response_usage_arithmetic", "non-negative integer input_tokens, output_tokens, total_tokens",
                   usage)
    if counts["total_tokens"] != counts["input_tokens"] + counts["output_tokens"] or counts["input_tokens"] == 0:
        raise fail("response_usage_arithmetic", "total_tokens == input_tokens + output_tokens, input_tokens > 0",
                   counts)
    reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    cached = (usage.get("input_tokens_details") or {}).get("cached_tokens")
    if isinstance(reasoning, int) and reasoning > counts["output_tokens"]:
        raise fail("response_usage_arithmetic", "reasoning_tokens <= output_tokens", usage)
    if isinstance(cached, int) and cached > counts["input_tokens"]:
        raise fail("response_usage_arithmetic", "cached_tokens <= input_tokens", usage)
    return True


@register("responses")
def max_output_tokens_honoured(request: Request, response: Mapping[str, Any]) -> bool:
    """`max_output_tokens` bounds `usage.output_tokens`; a response cut by it is `incomplete` with the
    reason `max_output_tokens`."""
    limit = request.get("max_output_tokens")
    usage = response.get("usage")
    if limit is None or not isinstance(usage, Mapping) or not isinstance(usage.get("output_tokens"), int):
        return False
    if usage["output_tokens"] > limit:
        raise fail("max_output_tokens_honoured", f"output_tokens <= {limit}", f"output_tokens {usage['output_tokens']}")
    if response.get("status") == "incomplete" and (response.get("incomplete_details") or {}).get(
            "reason") != "max_output_tokens":
        raise fail("max_output_tokens_honoured", "incomplete_details.reason 'max_output_tokens'",
                   response.get("incomplete_details"))
    return True


def _tool_names(request: Request) -> set[str]:
    return {tool.get("name") for tool in request.get("tools") or () if isinstance(tool, Mapping)}


@register("responses")
def response_tool_choice_honoured(request: Request, response: Mapping[str, Any]) -> bool:
    """`tool_choice` none gives no function call, required at least one, a named function only that one,
    `allowed_tools` only the listed ones."""
    choice = request.get("tool_choice")
    if not request.get("tools") or choice in (None, "auto") or response.get("status") != "completed":
        return False
    names = [call.get("name") for call in function_calls(response)]
    if choice == "none" and names:
        raise fail("response_tool_choice_honoured", "no function call with tool_choice 'none'", names)
    if choice == "required" and not names:
        raise fail("response_tool_choice_honoured", "a function call with tool_choice 'required'",
                   output_text(response))
    if isinstance(choice, Mapping) and choice.get("type") == "function" and (
            not names or set(names) != {choice.get("name")}):
        raise fail("response_tool_choice_honoured", f"calls to {choice.get('name')!r} only", names)
    if isinstance(choice, Mapping) and choice.get("type") == "allowed_tools":
        allowed = {tool.get("name") for tool in choice.get("tools") or () if isinstance(tool, Mapping)}
        if not set(names) <= allowed or (choice.get("mode") == "required" and not names):
            raise fail("response_tool_choice_honoured", f"calls to the allowed tools {sorted(allowed)} only", names)
    return True


@register("responses")
def response_function_call_valid(request: Request, response: Mapping[str, Any]) -> bool:
    """Each function call names a declared function, and its `arguments` is a JSON string that validates
    against the function's `parameters`."""
    if response.get("status") != "completed":
        return False
    tools = {tool.get("name"): tool for tool in request.get("tools") or () if isinstance(tool, Mapping)}
    calls = function_calls(response)
    for call in calls:
        if call.get("name") not in tools:
            raise fail("response_function_call_valid", f"a call to one of {sorted(tools)}", call.get("name"))
        try:
            value = json.loads(call.get("arguments"))
        except (TypeError, ValueError):
            raise fail("response_function_call_valid", "arguments as a JSON-encoded string",
                       call.get("arguments")) from None
        problem = subschema_error(dict(tools[call["name"]].get("parameters") or {"type": "object"}), value)
        if problem is not None:
            raise fail("response_function_call_valid", f"arguments valid against {call['name']}'s parameters",
                       problem)
    return bool(calls)


@register("responses")
def response_structured_output_valid(request: Request, response: Mapping[str, Any]) -> bool:
    """With `text.format` json_object the text parses as a JSON object; with json_schema it also validates
    against the schema."""
    fmt = (request.get("text") or {}).get("format") or {}
    if fmt.get("type") not in ("json_object", "json_schema") or response.get("status") != "completed" or \
            function_calls(response):
        return False
    text = output_text(response)
    try:
        value = json.loads(text)
    except ValueError:
        raise fail("response_structured_output_valid", "text that parses as JSON", text) from None
    if not isinstance(value, dict):
        raise fail("response_structured_output_valid", "a JSON object", text)
    if fmt["type"] == "json_schema":
        problem = subschema_error(fmt.get("schema") or {}, value)
        if problem is not None:
            raise fail("response_structured_output_valid", "text valid against the format's schema", problem)
    return True


@register("responses")
def response_retrieved(request: Request, response: Mapping[str, Any], retrieved: Any, status: int) -> bool:
    """A stored response (`store` not false) is served again by `GET /responses/{id}`, with its id and
    output."""
    if request.get("store") is False:
        return False
    if status != 200 or not isinstance(retrieved, Mapping):
        raise fail("response_retrieved", "200 and the response from GET /responses/{id}", f"status {status}")
    if retrieved.get("id") != response.get("id") or output_text(retrieved) != output_text(response):
        raise fail("response_retrieved", f"the response {response.get('id')!r} as it was created",
                   {"id": retrieved.get("id"), "text": output_text(retrieved)})
    return True


@register("responses")
def previous_response_continued(request: Request, status: int, response: Any) -> bool:
    """A request naming a stored response as `previous_response_id` is answered (200, a response that
    names it back)."""
    if status != 200 or not isinstance(response, Mapping):
        raise fail("previous_response_continued", "200 for a request continuing a stored response",
                   f"status {status}")
    if response.get("previous_response_id") != request.get("previous_response_id"):
        raise fail("previous_response_continued", f"previous_response_id {request.get('previous_response_id')!r}",
                   response.get("previous_response_id"))
    return True


RESPONSE_STREAM_RULES = {
    "response_event_schema": "Every event is `event: <type>` and `data: <JSON>` with that `type`, valid against "
                             "the Responses stream event schema.",
    "response_stream_order": "Events come in order: `response.created`, `response.in_progress`, each output item "
                             "added before its deltas and done after them, one terminal event last; "
                             "`sequence_number` counts up from 0.",
    "response_stream_text": "Text and argument deltas add up to what their `done` events and the final response "
                            "hold.",
}
CATALOGUE.update({name: CheckInfo(name, "responses", doc, True) for name, doc in RESPONSE_STREAM_RULES.items()})


@dataclass
class ResponseStreamResult:
    events: list[dict[str, Any]]
    response: dict[str, Any] | None
    violations: list[Violation] = field(default_factory=list)


class ResponseStreamChecker(EventJudge):
    """Feed it the content type, then each line; `finish()` gives the verdict and the final response."""

    FIELD_LINES = "SSE field lines (`event:`, `data:`)"

    def __init__(self, request: Request) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []
        self.response: dict[str, Any] | None = None
        self._open: dict[int, str] = {}
        """Output items added and not yet done: index to item id."""
        self._closed: set[int] = set()
        self._texts: dict[tuple[Any, Any], str] = {}
        self._arguments: dict[Any, str] = {}
        self._done_texts: dict[tuple[Any, Any], str] = {}

    def _event(self, raw: Event) -> None:
        decoded, event = self._decoded(raw)
        if not decoded:
            return
        problem = schema_error("response_stream_event", event)
        if problem is not None:
            self._fail("response_event_schema", "events valid against the Responses stream event schema", problem)
        if not isinstance(event, dict):
            return
        if raw.event is not None and raw.event != event.get("type"):
            self._fail("response_event_schema", f"an event name equal to the data's type {event.get('type')!r}",
                       raw.event)
        self._order(event)
        self.events.append(event)

    def _order(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        position = len(self.events)
        if event.get("sequence_number") != position:
            self._fail("response_stream_order", f"sequence_number {position}", event.get("sequence_number"))
        if self.response is not None:
            self._fail("response_stream_order", "nothing after the terminal event", kind)
        expected_opening = ("response.created", "response.in_progress")
        if position < 2 and kind != expected_opening[position]:
            self._fail("response_stream_order", f"{expected_opening[position]} as event {position}", kind)
        index = event.get("output_index")
        if kind == "response.output_item.added":
            if index in self._open or index in self._closed:
                self._fail("response_stream_order", f"output item {index} added once", event)
            self._open[index] = (event.get("item") or {}).get("id")
        elif kind == "response.output_item.done":
            if index not in self._open:
                self._fail("response_stream_order", f"output item {index} added before it is done", event)
            self._open.pop(index, None)
            self._closed.add(index)
        elif index is not None and index not in self._open:
            self._fail("response_stream_order", f"{kind} only while output item {index} is open", event)
        self._pieces(kind, event)
        if kind in TERMINAL:
            if self._open:
                self._fail("response_stream_order", "every output item done before the terminal event",
                           f"items {sorted(self._open)} still open")
            self.response = event.get("response") if isinstance(event.get("response"), dict) else {}

    def _pieces(self, kind: Any, event: dict[str, Any]) -> None:
        key = (event.get("item_id"), event.get("content_index"))
        if kind == "response.output_text.delta" and isinstance(event.get("delta"), str):
            self._texts[key] = self._texts.get(key, "") + event["delta"]
        elif kind == "response.output_text.done":
            self._done_texts[key] = event.get("text")
            if self._texts.get(key, "") != event.get("text"):
                self._fail("response_stream_text", "output_text deltas that add up to the done event's text",
                           f"{self._texts.get(key, '')!r} vs {event.get('text')!r}")
        elif kind == "response.function_call_arguments.delta" and isinstance(event.get("delta"), str):
            self._arguments[event.get("item_id")] = self._arguments.get(event.get("item_id"), "") + event["delta"]
        elif kind == "response.function_call_arguments.done" and \
                self._arguments.get(event.get("item_id"), "") != event.get("arguments"):
            self._fail("response_stream_text", "argument deltas that add up to the done event's arguments",
                           f"{self._arguments.get(event.get('item_id'), '')!r} vs {event.get('arguments')!r}")

    def finish(self, cut_short: str | None = None) -> ResponseStreamResult:
        self._end()
        if self.response is None:
            self._fail("response_stream_order", "a terminal event (response.completed or response.incomplete) last",
                       cut_short or f"the stream ended after {self.events[-1].get('type') if self.events else 'nothing'}")
        elif "".join(self._done_texts.values()) != output_text(self.response):
            self._fail("response_stream_text", "the final response's text equal to the streamed text",
                       f"{output_text(self.response)!r} vs {''.join(self._done_texts.values())!r}")
        return ResponseStreamResult(self.events, self.response, list(self.violations))


RESPONSE_STREAM_CHECKS = ("stream_content_type", "stream_framing", *RESPONSE_STREAM_RULES)
"""The rules the Responses stream machine applies."""
