"""What wraps every request: the error envelope, the journal entry and the real API's headers.

One middleware stays out of the pipeline's way: it journals each request, turns every failure into the
OpenAI error envelope (bent by the active quirks), and stamps `x-request-id`, the processing time and the
rate-limit headers on every response; a stream, whose headers leave before the handler returns, is
stamped by the pipeline with the same function.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict

from mockserver.contract.errors import ApiError
from mockserver.controls import headers as response_headers
from mockserver.controls.journal import Arrival
from mockserver.controls.ratelimit import Verdict
from mockserver.controls.state import DoubleState
from mockserver.core.render.errors import render_error

log = logging.getLogger("mockserver")

ADMIN_PREFIX = "/_mock/"
STATE_KEY = web.AppKey("double", DoubleState)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Trace:
    """What the pipeline learns about one request while serving it, for its headers and journal entry."""

    number: int
    request_id: str
    started: float
    verdict: Verdict | None = None
    rule: str | None = None


# aiohttp serves each request in its own task, so a context variable is per-request storage.
TRACE: ContextVar[Trace | None] = ContextVar("mockserver_trace", default=None)


def error_response(error: ApiError, quirks: tuple[str, ...], profile_name: str, trace: str) -> web.Response:
    status, body = render_error(error, quirks, profile_name, trace)
    return web.Response(body=body, status=status, content_type="application/json", headers=error.headers)


def _http_error(exc: web.HTTPException, request: web.Request) -> ApiError:
    if exc.status == 404:
        return ApiError("not_found", f"Invalid URL ({request.method} {request.path})")
    if exc.status == 405:
        return ApiError("method_not_allowed", f"Method {request.method} is not allowed for {request.path}.")
    if exc.status == 413:
        return ApiError("request_too_large", "The request body is too large.")
    kind = "server_error" if exc.status >= 500 else "invalid_request"
    return ApiError(kind, exc.reason or "Request failed.", status=exc.status)


def _answer(request: web.Request, error: ApiError) -> web.Response:
    state = request.app[STATE_KEY]
    trace = TRACE.get()
    return error_response(error, state.controls.quirks, state.config.profile_for(request.path),
                          trace.request_id if trace is not None else "")


async def _body_bytes(request: web.Request, limit: int) -> bytes | None:
    """The body as read (aiohttp keeps what the handler read), or None when there is none to keep."""
    if not request.body_exists or (request.content_length or 0) > limit:
        return None
    try:
        return await request.read()
    except (web.HTTPException, web.RequestPayloadError, ConnectionResetError):
        return None


@web.middleware
async def mock_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Journals each request, turns every failure into the error envelope of the profile that answers the
    path (bent by the active quirks; nothing leaks a traceback to the client) and stamps the real API's
    headers. One middleware rather than three hooks: each layer aiohttp runs costs every request."""
    if request.path.startswith(ADMIN_PREFIX):
        return await _enveloped(request, handler)
    state = request.app[STATE_KEY]
    number = state.arrive()
    trace = Trace(number, response_headers.request_id(state.config.seed, number), time.perf_counter())
    TRACE.set(trace)
    response = await _enveloped(request, handler)
    if not response.prepared:
        stamp(response.headers, response.status, trace)
    state.journal.add(Arrival(number, trace.request_id, request.method, request.rel_url, request.headers,
                              await _body_bytes(request, state.config.max_body_bytes), trace.rule, response.status,
                              round((time.perf_counter() - trace.started) * 1000, 3)))
    return response


async def _enveloped(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return _answer(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _answer(request, _http_error(exc, request))
    except ConnectionResetError:
        log.debug("client hung up while sending its request")
        return web.Response(status=499)
    except Exception:
        log.exception("unexpected failure serving %s %s", request.method, request.path)
        return _answer(request, ApiError("server_error", "The server had an error while processing your request."))


def stamp(headers: CIMultiDict[str], status: int, trace: Trace) -> None:
    """The request id, processing time, rate-limit headers and, for a status a client retries, retry-after:
    each unless the response already carries it (a scripted error's own). A streamed response is stamped
    by its sender before its headers go out; every other response here, after the handler."""
    ours = response_headers.standard(trace.request_id, time.perf_counter() - trace.started)
    if trace.verdict is not None:
        ours.update(response_headers.ratelimit(trace.verdict))
    # A response usually holds only its Content-Type here: walking its few headers is cheaper than asking
    # for each of ours.
    for name in headers:
        ours.pop(name.lower(), None)
    headers.extend(ours)
    if status in response_headers.RETRY_STATUSES and "retry-after" not in headers:
        headers.update(response_headers.retry_after(response_headers.DEFAULT_RETRY_AFTER))


def stamp_before_prepare(response: web.StreamResponse) -> None:
    """For a response its handler sends itself (a paced stream), whose headers leave before the middleware
    sees it."""
    trace = TRACE.get()
    if trace is not None:
        stamp(response.headers, response.status, trace)
