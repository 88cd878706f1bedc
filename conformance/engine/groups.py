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

from conformance import checks
from conformance.checks import STREAM_RULES, StreamResult, Violation
from conformance.engine import cache, probes
from conformance.engine.client import CHAT_PATH, Client, Reply
from conformance.engine.judging import Outcome, probe_error, run_check, shown, unreadable
from conformance.generate import completions, coverage, embeddings, invalid, profiles, requests, responses
from conformance.generate.coverage import Coverage, covering_examples
from mockserver.contract.profiles import DEFAULT_PROFILE

__all__ = ["GROUPS", "Group", "Outcome", "Part", "judge_completion", "probe_completion", "probe_consistency",
           "probe_error"]


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
    return shown(outcomes, reply), completion


def _judge_completion(request: Mapping[str, Any], reply: Reply,
                      profile: str) -> tuple[list[Outcome], dict[str, Any] | None]:
    outcomes = run_check("accepts_valid_request", checks.accepts_valid_request, request, reply.status,
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
                                                           unreadable(reply)))], None
    for name, check in checks.completion_checks(streamed, profile):
        outcomes += run_check(name, check, request, completion)
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
        outcomes += run_check("stream_matches_non_stream", checks.stream_matches_non_stream, request, first, streamed)
    if first is not None and again is not None:
        outcomes += run_check("seed_reproducible", checks.seed_reproducible, request, first, again)
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
                     run_check("gateway_cache_served", checks.gateway_cache_served, scoped, first, again)]
    return outcomes


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
    coverage: Coverage | Callable[[str], dict[str, Coverage]] | None = None
    """The variants the group claims; for a group of parts, a function of the model giving them per part."""
    requests_per_example: int = 1
    needs_auth: bool = False
    example_scale: int = 1
    """Examples per `--max-examples`: cheap groups with many distinct rules (errors) get more."""
    path: str = CHAT_PATH
    """The endpoint the group's requests go to."""
    endpoint: str | None = None
    """For a group of another endpoint than chat: its name, which picks its model (`completions` asks a
    completions model) and makes the run ask first whether the server serves it at all."""
    limit: str | None = "max_tokens"
    """The parameter `--max-output-tokens` sets on valid requests that set no limit (None: no output)."""
    profile: str | None = None
    """The compatibility profile whose runs include the group (what it adds); None: every run."""

    def parts(self, model: str) -> dict[str, Part]:
        """The group's parts by where their failures are reported: the group, or "group: part"."""
        made = self.strategy(model)
        if isinstance(made, dict):
            claimed = self.coverage(model) if callable(self.coverage) else {}
            return {f"{self.name}: {label}": Part(strategy, _for_model(claimed.get(label), model))
                    for label, strategy in made.items()}
        return {self.name: Part(made, _for_model(self.coverage if isinstance(self.coverage, Coverage) else None,
                                                 model))}

    def covering(self, model: str, where: str, cached: bool = True) -> list[Any]:
        """The examples a part sends before its random ones, so that every variant it claims is covered;
        `cached`: read and keep them on disk between runs."""
        return _covering(self, model, where, cached)

    def claimed(self, model: str) -> list[str]:
        return [variant for part in self.parts(model).values() if part.coverage is not None
                for variant in part.coverage.claimed]


def _for_model(coverage: Coverage | None, model: str) -> Coverage | None:
    return coverage.for_model(model) if coverage is not None else None


@functools.cache
def _covering(group: Group, model: str, where: str, cached: bool) -> list[Any]:
    """Found once per process, model and part, when the part first runs, or read from an earlier run's:
    finding them costs generation and shrinking (seconds for the tools group), no requests."""
    part = group.parts(model)[where]
    if part.coverage is None:
        return []
    coverage = part.coverage
    return cache.covering((group.name, model, where), lambda: covering_examples(part.strategy, coverage), cached)


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
    Group("completions", "the legacy /completions endpoint: prompts, echo, logprobs, best_of, streaming, errors",
          completions.parts, probes.probe_text_completion, completions.coverage, path=probes.COMPLETIONS,
          endpoint="completions"),
    Group("embeddings", "/embeddings: input forms, dimensions, unit length, base64 against float, errors",
          embeddings.parts, probes.probe_embeddings, embeddings.coverage, requests_per_example=2,
          path=probes.EMBEDDINGS, endpoint="embeddings", limit=None),
    Group("responses", "the Responses API: input items, function tools, text.format, the event stream, "
          "retrieval and previous_response_id, errors", responses.parts, probes.probe_response, responses.coverage,
          requests_per_example=3, path=probes.RESPONSES, endpoint="responses", limit="max_output_tokens"),
    Group("vllm", "vLLM's guided decoding and sampling extensions (with --profile vllm)",
          lambda model: {"guided decoding": profiles.vllm_guided_requests(model),
                         "sampling": profiles.vllm_sampling_requests(model)},
          probe_completion, lambda model: {"guided decoding": profiles.VLLM_GUIDED, "sampling": profiles.VLLM_SAMPLING},
          profile="vllm"),
    Group("watsonx", "the watsonx.ai gateway's cache and router (with --profile watsonx-gateway)",
          profiles.watsonx_cache_requests, probe_cache, profiles.WATSONX_CACHE, requests_per_example=2,
          profile="watsonx-gateway"),
    Group("enkrypt", "the Enkrypt AI proxy's detections (with --profile enkrypt)", profiles.enkrypt_requests,
          probe_completion, profiles.ENKRYPT, profile="enkrypt"),
)}
