"""The test-double controls wired into the app: scenarios, rate limits, chaos, the journal and headers.

`install` adds everything to an application with three hooks that stay out of the handlers' way: an
outer middleware that journals each request, a response-prepare signal that stamps the real API's
headers on every response (streamed ones included), and `scripted`, the one call the chat handler
makes to learn whether the limiter, a rule, chaos or a cassette decides the reply instead of the
generator (in that order).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from mockserver.http import headers as response_headers
from mockserver.controls.cassette import Exchange, replay_steps, request_key
from mockserver.controls.chaos import chaos_action
from mockserver.controls.config import Config
from mockserver.http.delivery import send_stream
from mockserver.contract.errors import ApiError
from mockserver.controls.faults import Delivery, Fault
from mockserver.core.generate.planner import Context, completion_limit
from mockserver.controls.journal import Arrival, Journal
from mockserver.core.plan import CompletionPlan
from mockserver.controls.ratelimit import KeyState, Limits, Verdict, admit
from mockserver.controls.rules import REPLY_ACTIONS, Action, Counts, ErrorSpec, Rule, reply_plan, select

ADMIN_PREFIX = "/_mock/"
ANONYMOUS_KEY = "anonymous"


class DoubleState:
    """The mutable side of the controls, owned by one app and touched only from its event loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.journal = Journal(config.journal_size)
        self._arrivals = 0
        # Numbers the default ids of rules added later, so ids stay unique across resets.
        self.rule_serial = len(config.scenario.rules)
        self.reset()

    def reset(self) -> None:
        """Back to the configured scenario, limits and chaos, with an empty journal, fresh counts and full
        buckets."""
        self.rules: list[Rule] = list(self.config.scenario.rules)
        self.strict: ErrorSpec | None = self.config.scenario.strict
        self.counts = Counts()
        self.journal.clear()
        self.buckets: dict[str, KeyState] = {}
        self.limits = Limits(self.config.rate_limit_rpm, self.config.rate_limit_tpm)
        self.chaos = self.config.chaos
        self.replayed: dict[str, int] = {}

    def arrive(self) -> tuple[int, str]:
        """The next arrival number and the request id derived from it."""
        self._arrivals += 1
        return self._arrivals, response_headers.request_id(self.config.seed, self._arrivals)

    def admit(self, key: str, cost: int, now: float) -> Verdict:
        self.buckets, verdict = admit(self.buckets, key, cost, now, self.limits)
        return verdict

    def recording(self, body: Mapping[str, Any]) -> Exchange | None:
        """The cassette's next exchange for this request, if replaying and one matches."""
        if self.config.replay is None:
            return None
        key = request_key(body)
        occurrence = self.replayed.get(key, 0)
        self.replayed[key] = occurrence + 1
        return self.config.replay.find(body, occurrence)

    def choose(self, body: Mapping[str, Any], request_headers: Mapping[str, str]) -> tuple[Rule | None, Action | None]:
        rule, action, self.counts = select(self.rules, body, request_headers, self.counts)
        return rule, action


STATE_KEY = web.AppKey("double", DoubleState)


@dataclass(slots=True)
class Trace:
    """What the controls learn about one request while it is served, for its headers and journal entry."""

    number: int
    request_id: str
    started: float
    verdict: Verdict | None = None
    rule: str | None = None


# aiohttp serves each request in its own task, so a context variable is per-request storage.
_TRACE: ContextVar[Trace | None] = ContextVar("mockserver_trace", default=None)


def _api_key(request: web.Request) -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else ANONYMOUS_KEY


def _rate_limit_error(verdict: Verdict, model: str) -> ApiError:
    unit = "requests per min (RPM)" if verdict.exceeded == "requests" else "tokens per min (TPM)"
    limit = verdict.limit_requests if verdict.exceeded == "requests" else verdict.limit_tokens
    used = limit - (verdict.remaining_requests if verdict.exceeded == "requests" else verdict.remaining_tokens)
    wait = verdict.retry_after if math.isfinite(verdict.retry_after) else 60.0
    message = (f"Rate limit reached for {model} in organization org-mock on {unit}: Limit {limit}, Used {used}, "
               f"Requested {verdict.requested}. Please try again in {response_headers.duration(wait)}. "
               "Visit https://platform.openai.com/account/rate-limits to learn more.")
    return ApiError("rate_limit_exceeded", message, type=verdict.exceeded,
                    headers={**response_headers.ratelimit(verdict), **response_headers.retry_after(wait)})


def _error(spec: ErrorSpec) -> ApiError:
    extra = dict(spec.headers)
    if spec.retry_after is not None:
        extra = {**response_headers.retry_after(spec.retry_after), **extra}
    return ApiError(spec.kind, spec.message, status=spec.status, type=spec.type, code=spec.code, param=spec.param,
                    headers=extra)


@dataclass(frozen=True, slots=True)
class Scripted:
    """What the controls decided: a reply plan (None: the generator answers) and a delivery fault."""

    plan: CompletionPlan | None = None
    fault: Fault | None = None
    recorded: Exchange | None = None
    """A cassette's exchange to send as recorded, instead of any plan."""


async def scripted(request: web.Request, body: Mapping[str, Any], context: Context) -> Scripted:
    """The controls' say on a validated request; refusals (rate limit, scripted error, chaos, strict
    miss) are raised as `ApiError`."""
    state = request.app[STATE_KEY]
    verdict = state.admit(_api_key(request), context.prompt_tokens + (completion_limit(body) or 0), time.monotonic())
    trace = _TRACE.get()
    if trace is not None:
        trace.verdict = verdict
    if not verdict.allowed:
        raise _rate_limit_error(verdict, body["model"])
    rule, action = state.choose(body, request.headers)
    if rule is not None and trace is not None:
        trace.rule = rule.id
    if action is None:
        action = chaos_action(state.chaos, state.config.seed, context.sequence)
    if action is None:
        recorded = state.recording(body)
        if recorded is not None:
            return Scripted(recorded=recorded)
        if state.config.replay is not None and state.config.replay_miss == "error":
            raise ApiError("unmatched_request", f"No recorded exchange in {state.config.replay.directory} matches "
                           "this request.")
        if state.strict is not None:
            raise _error(state.strict)
        return Scripted()
    if action.delay:
        await asyncio.sleep(action.delay)
    if action.error is not None:
        raise _error(action.error)
    plan = reply_plan(action, body, context) if action.kind in REPLY_ACTIONS else None
    return Scripted(plan, action.fault)


async def send_recorded(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """A cassette's response as it was recorded: status, kept headers, and the body or the stream's events."""
    if exchange.events is None:
        body = exchange.body.encode() if isinstance(exchange.body, str) else orjson.dumps(exchange.body)
        return web.Response(body=body, status=exchange.status, headers=exchange.headers)
    timed = request.app[STATE_KEY].config.replay_timing
    return await send_stream(request, Delivery(tuple(replay_steps(exchange, timed))), exchange.headers)


async def _body_bytes(request: web.Request, limit: int) -> bytes | None:
    """The body as read (aiohttp keeps what the handler read), or None when there is none to keep."""
    if not request.body_exists or (request.content_length or 0) > limit:
        return None
    try:
        return await request.read()
    except web.HTTPException:
        return None


@web.middleware
async def journal_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith(ADMIN_PREFIX):
        return await handler(request)
    state = request.app[STATE_KEY]
    number, request_id = state.arrive()
    trace = Trace(number, request_id, time.perf_counter())
    _TRACE.set(trace)
    response = await handler(request)
    state.journal.add(Arrival(number, request_id, request.method, request.rel_url, request.headers,
                              await _body_bytes(request, state.config.max_body_bytes), trace.rule, response.status,
                              round((time.perf_counter() - trace.started) * 1000, 3)))
    return response


async def _stamp_headers(request: web.Request, response: web.StreamResponse) -> None:
    trace = _TRACE.get()
    if request.path.startswith(ADMIN_PREFIX) or trace is None:
        return
    for name, value in response_headers.standard(trace.request_id, time.perf_counter() - trace.started).items():
        response.headers.setdefault(name, value)
    if trace.verdict is not None:
        for name, value in response_headers.ratelimit(trace.verdict).items():
            response.headers.setdefault(name, value)
    if response.status in response_headers.RETRY_STATUSES and "retry-after" not in response.headers:
        response.headers.update(response_headers.retry_after(response_headers.DEFAULT_RETRY_AFTER))


def install(app: web.Application, config: Config) -> None:
    """Give `app` the controls; the admin routes are added by `mockserver.admin.install`."""
    app[STATE_KEY] = DoubleState(config)
    app.middlewares.insert(0, journal_middleware)
    app.on_response_prepare.append(_stamp_headers)
