"""Check groups: what each one generates, how it probes the server, and which checks judge the answer.

A probe sends one example's request(s) and returns outcomes `(check name, violation or None)` for every
check that applied; the runner turns those into Hypothesis failures and report rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from mockserver.contract.profiles import DEFAULT_PROFILE

from conformance import checks
from conformance.checks import STREAM_RULES, CheckFailed, StreamResult, Violation
from conformance.checks.outcome import clip
from conformance.engine.client import Client, Reply
from conformance.generate import coverage, invalid, profiles, requests
from conformance.generate.coverage import Coverage, covering_examples
from conformance.generate.invalid import InvalidCase

Outcome = tuple[str, Violation | None]
WRONG_KEY = "sk-conformance-wrong-key-0000"
EXCHANGE_SHOWN = 2000
"""Characters of a reply kept with a failure, for the reader to see it."""


def _run(name: str, check: Callable[..., bool], *args: Any) -> list[Outcome]:
    """One check's outcome. A check that cannot read a reply (a server can send anything) reports that
    as its failure rather than stopping the run."""
    try:
        return [(name, None)] if check(*args) else []
    except CheckFailed as failed:
        return [(name, failed.violation)]
    except Exception as exc:
        return [(name, Violation(name, "a reply the check can read", f"{type(exc).__name__}: {exc}"))]


def exchange(reply: Reply) -> str:
    """The reply as the reader should see it beside a failure: status line, type, the body's start."""
    if reply.status == 0:
        return f"no HTTP reply: {reply.problem}"
    head = f"HTTP {reply.status}, Content-Type: {reply.content_type or '(none)'}"
    if "content-encoding" in reply.headers:
        head += f", Content-Encoding: {reply.headers['content-encoding']}"
    if reply.problem:
        head += f" ({reply.problem})"
    body = reply.text if len(reply.text) <= EXCHANGE_SHOWN else reply.text[:EXCHANGE_SHOWN] + "..."
    return f"{head}\n\n{body}"


def _shown(outcomes: list[Outcome], reply: Reply) -> list[Outcome]:
    """The outcomes with the reply attached to each violation, and a transport problem named in it."""
    if all(violation is None for _, violation in outcomes):
        return outcomes
    seen = exchange(reply)
    shown = []
    for name, violation in outcomes:
        if violation is not None and reply.status == 0:
            violation = replace(violation, seen=f"no HTTP reply: {reply.problem}", exchange=seen)
        elif violation is not None:
            extra = f" ({reply.problem})" if reply.problem and reply.problem not in violation.seen else ""
            violation = replace(violation, seen=violation.seen + extra, exchange=seen)
        shown.append((name, violation))
    return shown


def _unreadable(reply: Reply) -> str:
    """Why a body is no JSON object, as plainly as it can be said."""
    if reply.problem:
        return reply.problem
    encoding = reply.headers.get("content-encoding", "identity")
    if encoding.lower() != "identity":
        return f"a body in Content-Encoding {clip(encoding, 40)}, though the client asked for identity"
    return clip(reply.text, 200)


def _stream_outcomes(request: Mapping[str, Any], result: StreamResult) -> list[Outcome]:
    violated = {v.check: v for v in result.violations}
    include_usage = (request.get("stream_options") or {}).get("include_usage") is True
    has_tools = any(choice.tool_calls for choice in result.choices.values())
    applies = {"stream_usage_last": include_usage, "stream_usage_only_when_asked": not include_usage,
               "stream_tool_call_deltas": has_tools}
    return [(rule, violated.get(rule)) for rule in STREAM_RULES if rule in violated or applies.get(rule, True)]


def judge_completion(request: Mapping[str, Any], reply: Reply,
                     profile: str = DEFAULT_PROFILE) -> tuple[list[Outcome], dict[str, Any] | None]:
    """Every single-reply check on one answer to a valid request (as `profile` keeps the contract), and
    the reply as a completion object."""
    outcomes, completion = _judge_completion(request, reply, profile)
    return _shown(outcomes, reply), completion


def _judge_completion(request: Mapping[str, Any], reply: Reply,
                      profile: str) -> tuple[list[Outcome], dict[str, Any] | None]:
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
                                                           _unreadable(reply)))], None
    for name, check in checks.completion_checks(streamed, profile):
        outcomes += _run(name, check, request, completion)
    return outcomes, completion


def probe_completion(client: Client, request: dict[str, Any]) -> list[Outcome]:
    outcomes, _ = judge_completion(request, client.post_json(request), client.profile)
    return outcomes


def probe_consistency(client: Client, request: dict[str, Any]) -> list[Outcome]:
    """The request plain, streamed, and plain again: the outputs must agree."""
    first_outcomes, first = judge_completion(request, client.post_json(request), client.profile)
    streamed_request = {**request, "stream": True, "stream_options": {"include_usage": True}}
    stream_outcomes, streamed = judge_completion(streamed_request, client.post_json(streamed_request), client.profile)
    stream_outcomes = [(name, replace(v, request=streamed_request) if v else None) for name, v in stream_outcomes]
    again_outcomes, again = judge_completion(request, client.post_json(request), client.profile)
    outcomes = first_outcomes + stream_outcomes + again_outcomes
    if first is not None and streamed is not None:
        outcomes += _run("stream_matches_non_stream", checks.stream_matches_non_stream, request, first, streamed)
    if first is not None and again is not None:
        outcomes += _run("seed_reproducible", checks.seed_reproducible, request, first, again)
    return outcomes


def probe_cache(client: Client, request: dict[str, Any]) -> list[Outcome]:
    """The request twice, in a cache scope (`filter`) of its own so the first is fresh: the second must be
    the stored reply."""
    scoped = {**request, "cache": {**request["cache"], "filter": {"conformance_request": client.sent}}}
    first_outcomes, first = judge_completion(scoped, client.post_json(scoped), client.profile)
    again_outcomes, again = judge_completion(scoped, client.post_json(scoped), client.profile)
    outcomes = [(name, replace(v, request=scoped) if v else None) for name, v in first_outcomes + again_outcomes]
    if first is not None and again is not None:
        outcomes += [(name, replace(v, request=scoped) if v else None) for name, v in
                     _run("gateway_cache_served", checks.gateway_cache_served, scoped, first, again)]
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
        outcomes += _run("error_envelope", checks.error_envelope, reply.status, reply.body, client.profile)
    return _shown(outcomes, reply)


@dataclass(frozen=True)
class Part:
    """A separately explored and reported part of a group: its examples and the variants it claims."""

    strategy: st.SearchStrategy[Any]
    coverage: Coverage | None


@dataclass(frozen=True)
class Group:
    name: str
    doc: str
    strategy: Callable[[str], st.SearchStrategy[Any] | dict[str, st.SearchStrategy[Any]]]
    """Examples for a model id; a dict gives named parts, explored and reported separately."""
    probe: Callable[[Client, Any], list[Outcome]]
    coverage: Coverage | Callable[[], dict[str, Coverage]] | None = None
    """The variants the group claims; for a group of parts, a function giving them per part."""
    requests_per_example: int = 1
    needs_auth: bool = False
    example_scale: int = 1
    """Examples per `--max-examples`: cheap groups with many distinct rules (errors) get more."""
    profile: str | None = None
    """The compatibility profile whose runs include the group (what it adds); None: every run."""

    def parts(self, model: str) -> dict[str, Part]:
        """The group's parts by where their failures are reported: the group, or "group: part"."""
        made = self.strategy(model)
        if isinstance(made, dict):
            claimed = self.coverage() if callable(self.coverage) else {}
            return {f"{self.name}: {label}": Part(strategy, _for_model(claimed.get(label), model))
                    for label, strategy in made.items()}
        return {self.name: Part(made, _for_model(self.coverage if isinstance(self.coverage, Coverage) else None,
                                                 model))}

    def covering(self, model: str, where: str) -> list[Any]:
        """The examples a part sends before its random ones, so that every variant it claims is covered."""
        return _covering(self, model, where)

    def claimed(self, model: str) -> list[str]:
        return [variant for part in self.parts(model).values() if part.coverage is not None
                for variant in part.coverage.claimed]


def _for_model(coverage: Coverage | None, model: str) -> Coverage | None:
    return coverage.for_model(model) if coverage is not None else None


@functools.cache
def _covering(group: Group, model: str, where: str) -> list[Any]:
    """Found once per process, model and part, when the part first runs: finding them costs generation
    and shrinking (seconds for the tools group), no requests."""
    part = group.parts(model)[where]
    return covering_examples(part.strategy, part.coverage) if part.coverage is not None else []


GROUPS: dict[str, Group] = {group.name: group for group in (
    Group("shape", "plain chat with sampling parameters: reply shape, ids, usage", requests.shape_requests,
          probe_completion, coverage.SHAPE),
    Group("messages", "every message kind and content part", requests.message_requests, probe_completion,
          coverage.MESSAGES),
    Group("choices", "n choices", requests.choice_requests, probe_completion, coverage.CHOICES),
    Group("limits", "max_tokens, max_completion_tokens and stop sequences", requests.limit_requests,
          probe_completion, coverage.LIMITS),
    Group("logprobs", "logprobs and top_logprobs", requests.logprob_requests, probe_completion, coverage.LOGPROBS),
    Group("streaming", "the event-stream protocol and its usage chunk", requests.stream_requests,
          probe_completion, coverage.STREAMING),
    Group("consistency", "streamed == non-streamed, same seed == same output", requests.consistency_requests,
          probe_consistency, requests_per_example=3),
    Group("tools", "tool definitions, tool_choice, arguments, streamed tool calls", requests.tool_requests,
          probe_completion, coverage.TOOLS),
    Group("structured", "response_format json_object and json_schema", requests.structured_requests,
          probe_completion, coverage.STRUCTURED),
    Group("errors", "invalid requests, each breaking one rule: status and envelope", invalid.invalid_requests,
          probe_error, coverage.error_parts, example_scale=3),
    Group("auth", "missing or wrong API key (with --require-auth)", invalid.auth_requests, probe_error,
          coverage.AUTH, needs_auth=True),
    Group("vllm", "vLLM's guided decoding and sampling extensions (with --profile vllm)",
          lambda model: {"guided decoding": profiles.vllm_guided_requests(model),
                         "sampling": profiles.vllm_sampling_requests(model)},
          probe_completion, lambda: {"guided decoding": profiles.VLLM_GUIDED, "sampling": profiles.VLLM_SAMPLING},
          profile="vllm"),
    Group("watsonx", "the watsonx.ai gateway's cache and router (with --profile watsonx-gateway)",
          profiles.watsonx_cache_requests, probe_cache, profiles.WATSONX_CACHE, requests_per_example=2,
          profile="watsonx-gateway"),
    Group("enkrypt", "the Enkrypt AI proxy's detections (with --profile enkrypt)", profiles.enkrypt_requests,
          probe_completion, profiles.ENKRYPT, profile="enkrypt"),
)}
