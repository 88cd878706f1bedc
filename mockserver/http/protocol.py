"""What aiohttp answers before any handler runs, answered as the real API would: an error envelope.

aiohttp's protocol layer rejects a request it cannot parse (bad framing, `Content-Length` or chunked
encoding, header lines too long or too many, bytes it cannot decode) in `RequestHandler.handle_error`,
before the application and its middlewares see it, with a plain-text body and a logged traceback. A
client of the mock must get the OpenAI envelope there too, and a malformed request is the client's
mistake, not the server's, so it is logged as one line. `EnvelopeRunner` is an `AppRunner` whose
connections are served by `EnvelopeHandler`; both the CLI and `MockServer` start the app with it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.http import HttpVersion11
from aiohttp.http_exceptions import HttpProcessingError

from mockserver.contract.errors import ApiError
from mockserver.core.render.errors import render_error

log = logging.getLogger("mockserver")

_PROBLEM_CHARS = 200


def _reason(exc: BaseException | None, message: str | None) -> str:
    """What went wrong, in one line: aiohttp's parser messages quote the offending bytes over lines."""
    if isinstance(exc, HttpProcessingError) and exc.message:
        text = exc.message
    else:
        text = message or (str(exc) if exc is not None else "")
    line = " ".join(word for word in str(text).split() if word != "^")  # aiohttp's caret under the bad byte
    return line[:_PROBLEM_CHARS] + ("..." if len(line) > _PROBLEM_CHARS else "")


def protocol_error(status: int, reason: str) -> ApiError:
    """The envelope for a request aiohttp refused before routing it."""
    if status >= 500:
        return ApiError("server_error", "The server had an error while processing your request.", status=status)
    detail = f": {reason}" if reason else ""
    return ApiError("invalid_request", f"The HTTP request could not be parsed{detail}.", status=status)


async def expect_handler(request: web.Request) -> web.StreamResponse | None:
    """`Expect: 100-continue` is answered as aiohttp answers it; any other expectation gets 417 in the
    envelope (aiohttp's own answer is plain text, sent before the middlewares run)."""
    if request.version != HttpVersion11:
        return None
    expect = request.headers.get("Expect", "")
    if expect.lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0
        return None
    code, body = render_error(ApiError("invalid_request", f"Unsupported Expect header: '{expect}'. Only "
                                       "'100-continue' is supported.", status=417), ())
    return web.Response(body=body, status=code, content_type="application/json")


class EnvelopeHandler(web.RequestHandler):
    """aiohttp's connection handler, with the OpenAI envelope for the errors it answers itself."""

    __slots__ = ()

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """A body that breaks its framing or encoding after the reply (aiohttp drains it, then gives up)
        is the client's doing: one line. Anything else is a fault of the server and keeps its traceback."""
        exc = kwargs.get("exc_info")
        if isinstance(exc, (web.RequestPayloadError, HttpProcessingError)):
            log.info("closed a connection whose request body was malformed: %s", _reason(exc, None))
            return
        super().log_exception(*args, **kwargs)

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        reason = _reason(exc, message)
        if status >= 500:
            # Not the client's doing: a fault of the server, whose traceback is what fixes it.
            log.error("failure serving %s %s: %s", request.method, request.path, reason or type(exc).__name__,
                      exc_info=exc)
        else:
            log.info("refused a malformed HTTP request from %s: %s", request.remote, reason)
        if request.writer.output_size > 0:
            # The response has started: the connection is all that can be dropped (aiohttp's own rule).
            raise ConnectionError("the response has started; the connection is dropped")
        code, body = render_error(protocol_error(status, reason), ())
        response = web.Response(body=body, status=code, content_type="application/json")
        response.force_close()
        return response


class EnvelopeServer(web.Server):
    """aiohttp's low-level server, making `EnvelopeHandler`s for its connections."""

    def __init__(self, inner: web.Server, **handler_args: Any) -> None:
        super().__init__(inner.request_handler, request_factory=inner.request_factory,
                         handler_cancellation=inner.handler_cancellation, **handler_args)
        self._handler_args = handler_args

    def __call__(self) -> web.RequestHandler:
        return EnvelopeHandler(self, loop=asyncio.get_running_loop(), **self._handler_args)


KEEPALIVE_SECONDS = 75.0
"""How long an idle keep-alive connection stays open (`web.run_app`'s default; a bare runner keeps one an
hour, so idle clients could pile up open sockets)."""


class EnvelopeRunner(web.AppRunner):
    """An `AppRunner` whose server answers protocol errors with the envelope; access log off."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        super().__init__(app, access_log=None, **kwargs)

    async def _make_server(self) -> web.Server:
        return EnvelopeServer(await super()._make_server(), access_log=None, keepalive_timeout=KEEPALIVE_SECONDS)
