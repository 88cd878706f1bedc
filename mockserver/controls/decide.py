"""What the controls decide about one validated request, as data the HTTP pipeline carries out.

The order is the real API's and a test double's: the rate limiter first (a refused request does not
reach a rule), then a gateway's cache (a stored reply never reaches the model), then the first rule that
takes the request, else chaos, else a recorded exchange, else the strict miss error, else the generator.
`decide` is pure: it returns the next `Controls` with the `Decision`, and never sleeps, raises or writes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from mockserver.contract.errors import ApiError
from mockserver.controls import headers
from mockserver.controls.cassette import Exchange, request_key
from mockserver.controls.chaos import chaos_action
from mockserver.controls.config import Config
from mockserver.controls.faults import Fault
from mockserver.controls.ratelimit import Verdict, admit
from mockserver.controls.rules.match import select
from mockserver.controls.rules.model import Action, ErrorSpec
from mockserver.controls.state import Controls, evolve
from mockserver.core.gateways.enkrypt import Forced
from mockserver.core.plan import Script


class Incoming(NamedTuple):
    """A validated request as the controls see it (a named tuple, like `Decision`: every request makes one,
    and a tuple is the cheapest immutable record to build)."""

    endpoint: str
    path: str
    request: Mapping[str, Any]
    headers: Mapping[str, str]
    api_key: str
    cost: int
    generates: bool = True
    """Only requests for generated content are rate-limited, rolled for chaos, replayed or held to strict."""
    view: Mapping[str, Any] | None = None
    """The request as rules read its conversation, when its own shape differs (`Validated.view`)."""
    cache_key: bytes | None = None
    """Where a gateway's cache may hold this request's reply."""


class Decision(NamedTuple):
    sequence: int
    verdict: Verdict | None = None
    rule: str | None = None
    error: ApiError | None = None
    """Refuse with this, after `delay`."""
    script: Script | None = None
    """Answer with this scripted reply instead of a generated one."""
    recorded: Exchange | None = None
    """Send this recorded exchange as it was."""
    delay: float = 0.0
    fault: Fault | None = None
    detections: Forced | None = None
    """Guardrail detectors a rule makes fire."""
    cached: bytes | None = None
    """Send this reply a gateway's cache stored for the same request."""


def rate_limit_error(verdict: Verdict, model: str) -> ApiError:
    unit = "requests per min (RPM)" if verdict.exceeded == "requests" else "tokens per min (TPM)"
    limit = verdict.limit_requests if verdict.exceeded == "requests" else verdict.limit_tokens
    used = limit - (verdict.remaining_requests if verdict.exceeded == "requests" else verdict.remaining_tokens)
    wait = verdict.retry_after if math.isfinite(verdict.retry_after) else 60.0
    message = (f"Rate limit reached for {model} in organization org-mock on {unit}: Limit {limit}, Used {used}, "
               f"Requested {verdict.requested}. Please try again in {headers.duration(wait)}. "
               "Visit https://platform.openai.com/account/rate-limits to learn more.")
    return ApiError("rate_limit_exceeded", message, type=verdict.exceeded,
                    headers={**headers.ratelimit(verdict), **headers.retry_after(wait)})


def scripted_error(spec: ErrorSpec) -> ApiError:
    extra = dict(spec.headers)
    if spec.retry_after is not None:
        extra = {**headers.retry_after(spec.retry_after), **extra}
    return ApiError(spec.kind, spec.message, status=spec.status, type=spec.type, code=spec.code, param=spec.param,
                    headers=extra)


def _acted(sequence: int, verdict: Verdict | None, rule: str | None, action: Action) -> Decision:
    if action.error is not None:
        return Decision(sequence, verdict, rule, error=scripted_error(action.error), delay=action.delay)
    return Decision(sequence, verdict, rule, script=action.script, delay=action.delay, fault=action.fault,
                    detections=action.detections)


def decide(controls: Controls, incoming: Incoming, config: Config, now: float) -> tuple[Controls, Decision]:
    sequence = controls.sequence
    verdict = None
    if incoming.generates:
        buckets, verdict = admit(controls.buckets, incoming.api_key, incoming.cost, now, controls.limits)
        controls = evolve(controls, sequence=sequence + 1, buckets=buckets)
        if not verdict.allowed:
            return controls, Decision(sequence, verdict,
                                      error=rate_limit_error(verdict, str(incoming.request.get("model"))))
    else:
        controls = evolve(controls, sequence=sequence + 1)
    if incoming.cache_key is not None and incoming.cache_key in controls.cache:
        return controls, Decision(sequence, verdict, cached=controls.cache[incoming.cache_key])
    rule, action, counts = select(controls.rules, incoming.request, incoming.headers, controls.counts,
                                  incoming.endpoint, incoming.view)
    if counts is not controls.counts:
        controls = evolve(controls, counts=counts)
    rule_id = rule.id if rule is not None else None
    if action is not None:
        return controls, _acted(sequence, verdict, rule_id, action)
    if not incoming.generates:
        return controls, Decision(sequence, verdict, rule_id)
    action = chaos_action(controls.chaos, config.seed, sequence)
    if action is not None:
        return controls, _acted(sequence, verdict, rule_id, action)
    if config.replay is not None:
        key = request_key(incoming.request, incoming.path)
        occurrence = controls.replayed.get(key, 0)
        controls = evolve(controls, replayed={**controls.replayed, key: occurrence + 1})
        recorded = config.replay.find(key, occurrence)
        if recorded is not None:
            return controls, Decision(sequence, verdict, rule_id, recorded=recorded)
        if config.replay_miss == "error":
            return controls, Decision(sequence, verdict, rule_id, error=ApiError(
                "unmatched_request", f"No recorded exchange in {config.replay.directory} matches this request."))
    if controls.strict is not None:
        return controls, Decision(sequence, verdict, rule_id, error=scripted_error(controls.strict))
    return controls, Decision(sequence, verdict, rule_id)
