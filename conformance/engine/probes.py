"""How the groups of the other endpoints probe a server: `/completions`, `/embeddings` and `/responses`.

Each probe sends one example (a valid request, or an `InvalidCase` judged like the chat errors group) to
its endpoint and returns the outcomes of the checks that applied. A server may not serve an endpoint
at all; `not_served` asks once, before a group runs, so such a group is reported as not served rather
than as a wall of failures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance import checks
from conformance.checks import completions as text_checks
from conformance.checks import embeddings as vector_checks
from conformance.checks import responses as response_checks
from conformance.checks.outcome import Violation, clip
from conformance.engine.client import Client, Reply
from conformance.engine.judging import Outcome, probe_error, run_check, shown, unreadable
from conformance.generate.invalid import InvalidCase

COMPLETIONS = "/completions"
EMBEDDINGS = "/embeddings"
RESPONSES = "/responses"
_NOT_SERVED_STATUSES = (404, 405, 501)
_MINIMAL: dict[str, Callable[[str], dict[str, Any]]] = {
    COMPLETIONS: lambda model: {"model": model, "prompt": "Say hello.", "max_tokens": 4},
    EMBEDDINGS: lambda model: {"model": model, "input": "hello"},
    RESPONSES: lambda model: {"model": model, "input": "Say hello.", "max_output_tokens": 16, "store": False},
}


def not_served(client: Client, path: str, model: str) -> str | None:
    """Why the server does not serve `path` for `model` (the status and message of its answer to a minimal
    valid request), or None when it does. A 404 for an unknown model is served: the route exists."""
    reply = client.post_json(_MINIMAL[path](model), path)
    if reply.status not in _NOT_SERVED_STATUSES:
        return None
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    if isinstance(error, Mapping) and error.get("code") == "model_not_found":
        return None
    message = error.get("message") if isinstance(error, Mapping) else reply.text
    return f"POST {path} answered {reply.status}: {clip(message, 160)}"


def _accepted(request: Mapping[str, Any], reply: Reply) -> list[Outcome]:
    return run_check("accepts_valid_request", checks.accepts_valid_request, request, reply.status, reply.content_type)


def _stream_outcomes(names: tuple[str, ...], violations: list[Violation], applies: Mapping[str, bool]) -> list[Outcome]:
    violated = {v.check: v for v in violations}
    return [(name, violated.get(name)) for name in names if name in violated or applies.get(name, True)]


def _object(reply: Reply, check: str, expected: str) -> tuple[list[Outcome], Mapping[str, Any] | None]:
    if isinstance(reply.body, dict):
        return [], reply.body
    return [(check, Violation(check, expected, unreadable(reply)))], None


# -- /completions -----------------------------------------------------------------------------------------

_TEXT_CHECKS = (checks.completion_ids, text_checks.text_choices_count, checks.usage_arithmetic,
                text_checks.text_max_tokens_honoured, text_checks.text_stop_sequences_absent,
                text_checks.echo_honoured, text_checks.text_logprobs_shape)


def judge_text_completion(request: Mapping[str, Any], reply: Reply) -> list[Outcome]:
    outcomes = _accepted(request, reply)
    if outcomes[0][1] is not None:
        return outcomes
    if reply.stream is not None:
        include_usage = (request.get("stream_options") or {}).get("include_usage") is True
        outcomes += _stream_outcomes(text_checks.TEXT_STREAM_CHECKS, reply.stream.violations, {
            "stream_usage_last": include_usage, "stream_usage_only_when_asked": not include_usage})
        if not reply.stream.chunks:
            return outcomes
        completion: Mapping[str, Any] = reply.stream.as_completion()
    else:
        unread, body = _object(reply, "text_completion_schema", "a JSON object body")
        if body is None:
            return outcomes + unread
        completion = body
        outcomes += run_check("text_completion_schema", text_checks.text_completion_schema, request, completion)
        outcomes += run_check("text_completion_object", text_checks.text_completion_object, request, completion)
    for check in _TEXT_CHECKS:
        outcomes += run_check(check.__name__, check, request, completion)
    return outcomes


def probe_text_completion(client: Client, example: Any) -> list[Outcome]:
    if isinstance(example, InvalidCase):
        return probe_error(client, example, COMPLETIONS)
    reply = client.post_json(example, COMPLETIONS, checker=text_checks.TextStreamChecker)
    return shown(judge_text_completion(example, reply), reply)


# -- /embeddings ------------------------------------------------------------------------------------------

_VECTOR_CHECKS = (vector_checks.embedding_count, vector_checks.embedding_dimensions, vector_checks.embedding_norm,
                  vector_checks.embedding_usage)


def _judge_listing(request: Mapping[str, Any], reply: Reply, full: bool) -> tuple[list[Outcome], Any]:
    outcomes = _accepted(request, reply)
    if outcomes[0][1] is not None:
        return outcomes, None
    unread, listing = _object(reply, "embedding_schema", "a JSON object body")
    if listing is None:
        return outcomes + unread, None
    outcomes += run_check("embedding_schema", vector_checks.embedding_schema, request, listing)
    for check in _VECTOR_CHECKS if full else (vector_checks.embedding_count,):
        outcomes += run_check(check.__name__, check, request, listing)
    return outcomes, listing


def probe_embeddings(client: Client, example: Any) -> list[Outcome]:
    """The example as floats and as base64: every check on the float reply, and the two must agree."""
    if isinstance(example, InvalidCase):
        return probe_error(client, example, EMBEDDINGS)
    as_float = {**example, "encoding_format": "float"}
    as_base64 = {**example, "encoding_format": "base64"}
    float_reply = client.post_json(as_float, EMBEDDINGS)
    outcomes, floats = _judge_listing(as_float, float_reply, full=True)
    outcomes = shown(outcomes, float_reply)
    packed_reply = client.post_json(as_base64, EMBEDDINGS)
    packed_outcomes, packed = _judge_listing(as_base64, packed_reply, full=False)
    outcomes += [(name, Violation(v.check, v.expected, v.seen, request=as_base64) if v else None)
                 for name, v in shown(packed_outcomes, packed_reply)]
    if floats is not None and packed is not None:
        matched = run_check("embedding_base64_matches_float", vector_checks.embedding_base64_matches_float,
                            example, floats, packed)
        outcomes += shown(matched, packed_reply)
    return outcomes


# -- /responses -------------------------------------------------------------------------------------------

_RESPONSE_CHECKS = (response_checks.response_object, response_checks.response_ids,
                    response_checks.response_usage_arithmetic, response_checks.max_output_tokens_honoured,
                    response_checks.response_tool_choice_honoured, response_checks.response_function_call_valid,
                    response_checks.response_structured_output_valid)


def judge_response(request: Mapping[str, Any], reply: Reply) -> tuple[list[Outcome], Mapping[str, Any] | None]:
    outcomes = _accepted(request, reply)
    if outcomes[0][1] is not None:
        return outcomes, None
    if reply.stream is not None:
        outcomes += _stream_outcomes(response_checks.RESPONSE_STREAM_CHECKS, reply.stream.violations, {})
        response = reply.stream.response
        if response is None:
            return outcomes, None
    else:
        unread, body = _object(reply, "response_schema", "a JSON object body")
        if body is None:
            return outcomes + unread, None
        response = body
        outcomes += run_check("response_schema", response_checks.response_schema, request, response)
    for check in _RESPONSE_CHECKS:
        outcomes += run_check(check.__name__, check, request, response)
    return outcomes, response


def _follow_up(request: Mapping[str, Any], response: Mapping[str, Any]) -> dict[str, Any]:
    """A request that continues a stored response: the calls it made answered, or a new user turn."""
    calls = response_checks.function_calls(response)
    items: Any = [{"type": "function_call_output", "call_id": call.get("call_id"), "output": "done"}
                  for call in calls] or "Thanks."
    follow: dict[str, Any] = {"model": request["model"], "previous_response_id": response.get("id"), "input": items}
    if request.get("tools"):
        follow["tools"] = request["tools"]
    return follow


def probe_response(client: Client, example: Any) -> list[Outcome]:
    """The example; a stored, non-streamed reply is then retrieved and continued."""
    if isinstance(example, InvalidCase):
        return probe_error(client, example, RESPONSES)
    reply = client.post_json(example, RESPONSES, checker=response_checks.ResponseStreamChecker)
    judged, response = judge_response(example, reply)
    outcomes = shown(judged, reply)
    if response is None or example.get("stream") or example.get("store") is False or \
            not isinstance(response.get("id"), str):
        return outcomes
    retrieved = client.request("GET", f"{RESPONSES}/{response['id']}")
    outcomes += shown(run_check("response_retrieved", response_checks.response_retrieved, example, response,
                                retrieved.body, retrieved.status), retrieved)
    follow = _follow_up(example, response)
    continued = client.post_json(follow, RESPONSES)
    outcomes += [(name, Violation(v.check, v.expected, v.seen, request=follow, exchange=v.exchange) if v else None)
                 for name, v in shown(run_check("previous_response_continued",
                                                response_checks.previous_response_continued, follow,
                                                continued.status, continued.body), continued)]
    return outcomes
