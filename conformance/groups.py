"""Check groups: what each one generates, how it probes the server, and which checks judge the answer.

A probe sends one example's request(s) and returns outcomes `(check name, violation or None)` for every
check that applied; the runner turns those into Hypothesis failures and report rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from . import checks, strategies
from .client import Client, Reply
from .outcome import CheckFailed, Violation
from .strategies import InvalidCase
from .stream_checker import STREAM_RULES, StreamResult

Outcome = tuple[str, Violation | None]
WRONG_KEY = "sk-conformance-wrong-key-0000"


def _run(name: str, check: Callable[..., bool], *args: Any) -> list[Outcome]:
    try:
        return [(name, None)] if check(*args) else []
    except CheckFailed as failed:
        return [(name, failed.violation)]


def _stream_outcomes(request: Mapping[str, Any], result: StreamResult) -> list[Outcome]:
    violated = {v.check: v for v in result.violations}
    include_usage = (request.get("stream_options") or {}).get("include_usage") is True
    has_tools = any(choice.tool_calls for choice in result.choices.values())
    applies = {"stream_usage_last": include_usage, "stream_usage_only_when_asked": not include_usage,
               "stream_tool_call_deltas": has_tools}
    return [(rule, violated.get(rule)) for rule in STREAM_RULES if rule in violated or applies.get(rule, True)]


def judge_completion(request: Mapping[str, Any], reply: Reply) -> tuple[list[Outcome], dict[str, Any] | None]:
    """Every single-reply check on one answer to a valid request, and the reply as a completion object."""
    outcomes = _run("accepts_valid_request", checks.accepts_valid_request, request, reply.status,
                    reply.content_type)
    if outcomes[0][1] is not None:
        return outcomes, None
    streamed = reply.stream is not None
    if streamed:
        outcomes += _stream_outcomes(request, reply.stream)
        if not reply.stream.chunks:
            return outcomes, None
        completion = reply.stream.as_completion()
    elif isinstance(reply.body, dict):
        completion = reply.body
    else:
        return outcomes + [("completion_schema", Violation("completion_schema", "a JSON object body",
                                                           reply.text[:200]))], None
    for check in checks.completion_checks(streamed):
        outcomes += _run(check.__name__, check, request, completion)
    return outcomes, completion


def probe_completion(client: Client, request: dict[str, Any]) -> list[Outcome]:
    outcomes, _ = judge_completion(request, client.post_json(request))
    return outcomes


def probe_consistency(client: Client, request: dict[str, Any]) -> list[Outcome]:
    """The request plain, streamed, and plain again: the outputs must agree."""
    first_outcomes, first = judge_completion(request, client.post_json(request))
    streamed_request = {**request, "stream": True, "stream_options": {"include_usage": True}}
    stream_outcomes, streamed = judge_completion(streamed_request, client.post_json(streamed_request))
    stream_outcomes = [(name, replace(v, request=streamed_request) if v else None) for name, v in stream_outcomes]
    again_outcomes, again = judge_completion(request, client.post_json(request))
    outcomes = first_outcomes + stream_outcomes + again_outcomes
    if first is not None and streamed is not None:
        outcomes += _run("stream_matches_non_stream", checks.stream_matches_non_stream, request, first, streamed)
    if first is not None and again is not None:
        outcomes += _run("seed_reproducible", checks.seed_reproducible, request, first, again)
    return outcomes


def _status_check(case: InvalidCase) -> tuple[str, Callable[[int, Any], bool]]:
    if case.kind == "model_not_found":
        return "unknown_model_404", checks.unknown_model_404
    if case.kind == "invalid_api_key":
        return "auth_required_401", checks.auth_required_401
    return "error_status_400", checks.error_status_400


def probe_error(client: Client, case: InvalidCase) -> list[Outcome]:
    options: dict[str, Any] = {}
    if case.auth == "missing":
        options["omit_auth"] = True
    elif case.auth == "wrong":
        options["auth"] = WRONG_KEY
    reply = client.post_raw(case.body(), **options)
    status_name, status_check = _status_check(case)
    outcomes = _run("error_not_5xx", checks.error_not_5xx, reply.status, reply.body)
    outcomes += _run(status_name, status_check, reply.status, reply.body)
    if reply.status >= 400:
        outcomes += _run("error_envelope", checks.error_envelope, reply.status, reply.body)
    return outcomes


@dataclass(frozen=True)
class Group:
    name: str
    doc: str
    strategy: Callable[[str], st.SearchStrategy[Any] | dict[str, st.SearchStrategy[Any]]]
    """Examples for a model id; a dict gives named parts, explored and reported separately."""
    probe: Callable[[Client, Any], list[Outcome]]
    requests_per_example: int = 1
    needs_auth: bool = False
    example_scale: int = 1
    """Examples per `--max-examples`: cheap groups with many distinct rules (errors) get more."""

    def parts(self, model: str) -> dict[str, st.SearchStrategy[Any]]:
        """The group's parts by where their failures are reported: the group, or "group: part"."""
        made = self.strategy(model)
        if isinstance(made, dict):
            return {f"{self.name}: {label}": strategy for label, strategy in made.items()}
        return {self.name: made}


GROUPS: dict[str, Group] = {group.name: group for group in (
    Group("shape", "plain chat with sampling parameters: reply shape, ids, usage", strategies.shape_requests,
          probe_completion),
    Group("messages", "every message kind and content part", strategies.message_requests, probe_completion),
    Group("choices", "n choices", strategies.choice_requests, probe_completion),
    Group("limits", "max_tokens, max_completion_tokens and stop sequences", strategies.limit_requests,
          probe_completion),
    Group("logprobs", "logprobs and top_logprobs", strategies.logprob_requests, probe_completion),
    Group("streaming", "the event-stream protocol and its usage chunk", strategies.stream_requests,
          probe_completion),
    Group("consistency", "streamed == non-streamed, same seed == same output", strategies.consistency_requests,
          probe_consistency, requests_per_example=3),
    Group("tools", "tool definitions, tool_choice, arguments, streamed tool calls", strategies.tool_requests,
          probe_completion),
    Group("structured", "response_format json_object and json_schema", strategies.structured_requests,
          probe_completion),
    Group("errors", "invalid requests, each breaking one rule: status and envelope", strategies.invalid_requests,
          probe_error, example_scale=3),
    Group("auth", "missing or wrong API key (with --require-auth)", strategies.auth_requests, probe_error,
          needs_auth=True),
)}
