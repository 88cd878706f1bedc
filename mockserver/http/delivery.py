"""Puts finished replies on the wire with their pacing and faults: the only place that waits.

Everything about *what* is sent was decided by the pure core (`streaming`, `timing`, `faults`); these
writers only sleep, write and notice a client that has gone away. A client hanging up mid-stream is
ordinary behaviour, so it ends the response quietly rather than as an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from aiohttp import web
from multidict import CIMultiDict

from mockserver.contract.sse import CONTENT_TYPE
from mockserver.controls.faults import Delivery, Fault
from mockserver.http.middleware import stamp_before_prepare

log = logging.getLogger("mockserver")

_STREAM_HEADERS = {"Content-Type": CONTENT_TYPE, "Cache-Control": "no-cache"}


def batch_steps(steps: Sequence[tuple[float, bytes]]) -> list[tuple[float, bytes]]:
    """Events due at the same moment leave in one write: fewer syscalls for fast streams."""
    batched: list[tuple[float, list[bytes]]] = []
    for delay, data in steps:
        if batched and delay == 0:
            batched[-1][1].append(data)
        else:
            batched.append((delay, [data]))
    return [(delay, b"".join(parts)) for delay, parts in batched]


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


_WATCH_INTERVAL = 0.25


async def _wait(request: web.Request, seconds: float) -> bool:
    """Sleep, but notice a client that hangs up during a long pause; False when it has gone."""
    deadline = asyncio.get_running_loop().time() + seconds
    while seconds > _WATCH_INTERVAL:
        await asyncio.sleep(_WATCH_INTERVAL)
        if _client_gone(request):
            return False
        seconds = deadline - asyncio.get_running_loop().time()
    if seconds > 0:
        await asyncio.sleep(seconds)
    return not _client_gone(request)


def _drop_connection(request: web.Request) -> None:
    """Close the socket under the response, so the client sees a body that stops mid-way."""
    if request.transport is not None:
        request.transport.close()


def _stream_headers(extra: Mapping[str, str] | None) -> Mapping[str, str]:
    if not extra:
        return _STREAM_HEADERS
    headers = CIMultiDict(extra)
    for name, value in _STREAM_HEADERS.items():
        headers.setdefault(name, value)
    return headers


async def send_stream(request: web.Request, delivery: Delivery,
                      headers: Mapping[str, str] | None = None) -> web.StreamResponse:
    """`headers` (a recorded exchange's) go out with the stream; the event-stream ones fill any gaps."""
    steps = batch_steps(delivery.steps)
    if not delivery.abort and len(steps) <= 1 and all(delay == 0 for delay, _ in steps):
        return web.Response(body=steps[0][1] if steps else b"", headers=_stream_headers(headers))
    response = web.StreamResponse(headers=_stream_headers(headers))
    stamp_before_prepare(response)
    try:
        await response.prepare(request)
        for delay, data in steps:
            if not await _wait(request, delay):
                raise ConnectionResetError
            await response.write(data)
        if delivery.abort:
            _drop_connection(request)
        else:
            await response.write_eof()
    except ConnectionResetError:
        log.debug("client hung up mid-stream; response ended")
    return response


def send_now(request: web.Request, payload: bytes | Sequence[bytes], streamed: bool) -> web.StreamResponse:
    """A reply with nothing to wait for and no fault: the body, or every event of a stream in one write
    (as `send_stream` sends events due at once); a body for a client already gone is not sent (499, as
    `send_body` answers)."""
    if streamed:
        return web.Response(body=b"".join(payload), headers=_STREAM_HEADERS)
    if _client_gone(request):
        return web.Response(status=499)
    return web.Response(body=payload, content_type="application/json")


async def send_body(request: web.Request, body: bytes, wait: float, fault: Fault | None) -> web.StreamResponse:
    """A non-streamed reply after the generation time; a fault acts on the body as one unit."""
    if fault is not None and fault.kind == "stall":
        wait += fault.stall_ms / 1000
    if not await _wait(request, wait):
        return web.Response(status=499)
    if fault is None or fault.kind == "stall":
        return web.Response(body=body, content_type="application/json")
    if fault.kind == "error":
        raise fault.api_error()
    if fault.kind == "cut":
        _drop_connection(request)
        return web.Response(status=204)
    return web.Response(body=body[: len(body) // 2], content_type="application/json")
