"""The one request pipeline every endpoint runs: read, validate, decide, plan, render, deliver.

An endpoint (`mockserver.core.endpoints`), as a profile serves it, supplies pure functions; the controls
(`mockserver.controls`) decide what happens; a gateway profile (`mockserver.core.gateways`) may refuse
a request before it is planned and adds to the written reply; this is the only place that awaits,
sleeps and writes.

Validating and planning are pure and usually take well under a millisecond, so they run on the event
loop. A request that can make them take longer (schemas to check and draw from, several choices, a
large body) runs them in a worker thread instead, so the loop keeps serving everyone else while it
works; its work is bounded all the same (`mockserver.core.generate.budget`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from aiohttp import web

from mockserver.contract.errors import ApiError
from mockserver.contract.profiles import profile
from mockserver.controls.cassette import Exchange, replay_steps
from mockserver.controls.decide import Incoming, decide
from mockserver.controls.deployments import load_deployments
from mockserver.controls.faults import Delivery, Fault, apply_fault, parse_fault
from mockserver.controls.settings import SettingError
from mockserver.controls.state import DoubleState, cached
from mockserver.controls.timing import Timing, event_delays, generation_seconds, parse_timing
from mockserver.core.endpoints import Endpoint, Validated
from mockserver.core.gateways import GATEWAYS, Forced
from mockserver.core.generate.planner import DEFAULT_REFUSAL, Context
from mockserver.core.memo import ENTRIES, Memo
from mockserver.core.render.quirks import apply_request
from mockserver.http.delivery import send_body, send_now, send_stream
from mockserver.http.middleware import STATE_KEY, TRACE
from mockserver.http.request import api_key, check_auth, check_headers, parse_json, read_body

WORKERS_KEY = web.AppKey("workers", ThreadPoolExecutor)
_HEAVY_BYTES = 16 * 1024
"""Bodies larger than this are validated in the worker thread whatever they hold (counting a long
prompt, checking a large schema)."""
Result = TypeVar("Result")

TIMING_HEADER = "X-Mock-Timing"
FAULT_HEADER = "X-Mock-Fault"
REFUSAL_HEADER = "X-Mock-Refusal"
REFRESH_HEADER = "X-Enkrypt-Refresh-Cache"


def _timing(request: web.Request, base: Timing) -> Timing:
    text = request.headers.get(TIMING_HEADER)
    if text is None:
        return base
    try:
        return parse_timing(text, base, TIMING_HEADER)
    except SettingError as exc:
        raise ApiError("invalid_request", f"Invalid {TIMING_HEADER} header '{text}': {exc.message}") from None


def _fault(request: web.Request) -> Fault | None:
    text = request.headers.get(FAULT_HEADER)
    if text is None:
        return None
    try:
        return parse_fault(text, FAULT_HEADER)
    except SettingError as exc:
        raise ApiError("invalid_request", f"Invalid {FAULT_HEADER} header '{text}': {exc.message}") from None


def _refusal(request: web.Request) -> str | None:
    """`X-Mock-Refusal: 1` (or true/yes) refuses with a stock sentence; any other text refuses with it.
    Bytes that are not UTF-8 (aiohttp keeps them as surrogate escapes, which no reply can carry) become
    U+FFFD, as any decoder would show them."""
    raw = request.headers.get(REFUSAL_HEADER) or ""
    value = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip()
    if not value or value.lower() in ("0", "false", "no"):
        return None
    return DEFAULT_REFUSAL if value.lower() in ("1", "true", "yes") else value


async def _send_recorded(request: web.Request, exchange: Exchange, timed: bool) -> web.StreamResponse:
    """A cassette's response as it was recorded: status, kept headers, and the body or the stream's events."""
    if exchange.events is None:
        body = exchange.body.encode() if isinstance(exchange.body, str) else orjson.dumps(exchange.body)
        return web.Response(body=body, status=exchange.status, headers=exchange.headers)
    return await send_stream(request, Delivery(tuple(replay_steps(exchange, timed))), exchange.headers)


def _refresh_deployments(request: web.Request, state: DoubleState) -> None:
    """`X-Enkrypt-Refresh-Cache: true` has the proxy read its deployments again (their file, here)."""
    source = state.controls.deployments.source
    if request.headers.get(REFRESH_HEADER) != "true" or source is None:
        return
    try:
        state.update(deployments=load_deployments(source))
    except SettingError as exc:
        raise ApiError("server_error", f"The deployments could not be read again: {exc}") from None


async def _work(request: web.Request, heavy: bool, work: Callable[..., Result], *args: Any) -> Result:
    """`work(*args)`, on the event loop, or for a heavy request in the worker thread while the loop serves."""
    if not heavy:
        return work(*args)
    return await asyncio.get_running_loop().run_in_executor(request.app[WORKERS_KEY], work, *args)


@dataclass(slots=True)
class _Known:
    """What a body's validation worked out, and once the generator has answered it, the plan it made, what
    it rendered (body or events: streamed or not is part of the body) and the request as the quirks then
    in force read it: valid while the settings validation and quirks read are unchanged
    (`DoubleState.settled`). A verdict that read stored entries (`Validated.recalled`) is
    not kept: the entry it read may be forgotten before the body comes again."""

    settled: object
    validated: Validated
    heavy: bool
    effective: Any = None
    plan: Any = None
    rendered: Any = None


def handler(endpoint: Endpoint, profile_name: str, memo_entries: int = ENTRIES) -> web.Handler:
    """`endpoint` as it is served by `profile_name` (already wrapped by `core.endpoints.profiled`).

    Bodies seen before are answered from a memo of their validation and, for an endpoint that can give a
    plan and its rendering a new id and time (`Endpoint.again`), of their plan: a control that acts on the request (a
    rule's script, the refusal header, a change of quirks or of the settings validation reads) makes the
    work be done afresh, and everything that belongs to the request itself (its sequence number, id,
    `created`, journal entry, rate-limit verdict and headers) is always its own."""
    table = profile(profile_name)
    gateway = GATEWAYS.get(profile_name) if endpoint.generates else None
    route = endpoint.paths[0]
    memo: Memo[_Known] = Memo(memo_entries)

    async def serve(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        config = state.config
        headers = request.headers
        if config.api_keys:
            check_auth(request, config, table.auth)
        if table.headers:
            check_headers(request, table)
        timing = _timing(request, state.controls.timing)
        fault = _fault(request)
        options = state.options[profile_name]
        if endpoint.reads_body:
            raw = await read_body(request, config)
            known = memo.get(raw)
            if known is None or known.settled is not state.settled:
                payload = parse_json(raw)
                heavy = len(raw) > _HEAVY_BYTES or not endpoint.quick(payload)
                known = _Known(state.settled, await _work(request, heavy, endpoint.validate, payload, options), heavy)
                if known.validated.recalled is None:
                    memo.put(raw, known)
        else:
            payload = dict(request.match_info)
            known = _Known(state.settled, endpoint.validate(payload, options), False)
        validated, heavy = known.validated, known.heavy
        incoming = Incoming(endpoint.name, request.path, validated.request, headers,
                            api_key(request, table.auth), validated.cost, endpoint.generates,
                            view=validated.view, cache_key=validated.cache_key)
        state.controls, decision = decide(state.numbered(), incoming, config, time.monotonic())
        trace = TRACE.get()
        if trace is not None:
            trace.verdict, trace.rule = decision.verdict, decision.rule
        admission = None
        if gateway is not None and gateway.admit is not None:
            # A gateway in front of the model refuses before anything behind it (a rule's answer) happens.
            _refresh_deployments(request, state)
            admission = gateway.admit(state.controls.deployments.table, headers, validated.request,
                                      decision.detections or Forced())
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.error is not None:
            raise decision.error
        if decision.recorded is not None:
            return await _send_recorded(request, decision.recorded, config.replay_timing)
        if decision.cached is not None and gateway is not None and gateway.from_cache is not None:
            return await send_body(request, gateway.from_cache(decision.cached), 0.0, fault)
        quirks = state.controls.quirks
        refusal = _refusal(request)
        context = Context(server_seed=config.seed, sequence=decision.sequence,
                          created=config.clock if config.clock is not None else int(time.time()),
                          refusal=refusal, prompt_tokens=validated.prompt_tokens, recalled=validated.recalled)
        generated = decision.script is None and refusal is None
        streamed = validated.streamed and endpoint.stream is not None
        again = endpoint.again if generated else None
        if again is not None and known.plan is not None:
            effective = known.effective
        else:
            again, effective = None, apply_request(quirks, validated.request, endpoint.name)

        def produce() -> tuple[Any, Any]:
            """The plan and what goes on the wire: the stream's events, or the body."""
            if again is not None:
                reissued = again(known.plan, known.rendered, effective, quirks, context, streamed)
                if reissued is not None:
                    return reissued
            if decision.script is not None and endpoint.scripted is not None:
                plan = endpoint.scripted(decision.script, effective, context)
            else:
                plan = endpoint.plan(effective, context)
            return plan, (endpoint.stream(plan, effective, quirks) if streamed else endpoint.body(plan, quirks))

        plan, rendered = await _work(request, heavy, produce)
        if generated and again is None and endpoint.again is not None:
            known.effective, known.plan, known.rendered = effective, plan, rendered
        if gateway is not None:
            rendered = gateway.finish(admission, rendered, route)
        if validated.cache_key is not None:
            state.controls = cached(state.controls, validated.cache_key, rendered)
        kept = endpoint.keep(plan, effective)
        if kept is not None:
            state.remember(*kept)
        fault = fault or decision.fault or state.controls.fault
        if timing.instant and fault is None:
            return send_now(request, rendered, streamed)
        if streamed:
            if timing.instant:
                delays = [0.0] * len(rendered)
            else:
                paced, seed = endpoint.pacing(plan)
                delays = event_delays(timing, paced, len(rendered), seed)
            return await send_stream(request, apply_fault(rendered, delays, fault))
        if timing.instant:
            return await send_body(request, rendered, 0.0, fault)
        paced, seed = endpoint.pacing(plan)
        return await send_body(request, rendered, generation_seconds(timing, paced, seed), fault)

    return serve
