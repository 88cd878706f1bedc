"""`mockserver record`: a proxy in front of a real OpenAI-compatible server that writes a cassette.

Requests pass through unchanged: the client's Authorization header goes upstream and nowhere else, or,
with `--api-key-env NAME`, the proxy sends the key from that environment variable instead, so the code
under test never holds the real key;
responses come back as they arrive, streams event by event, while each exchange with an endpoint that
generates replies (chat, completions, embeddings, responses) is written to the cassette with the time
each stream event took.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import orjson
from aiohttp import ClientError, ClientSession, ClientTimeout, web

from mockserver.contract.errors import ApiError
from mockserver.contract.sse import split_events
from mockserver.controls.cassette import Event, Exchange, kept_headers, route, write_exchange
from mockserver.core.endpoints import ENDPOINTS

FORWARDED_HEADERS = ("authorization", "content-type", "accept", "openai-organization", "openai-project",
                     "x-mock-fault", "x-mock-timing")
UPSTREAM_KEY = web.AppKey("upstream", str)
API_KEY_KEY = web.AppKey("api_key", str)
CASSETTE_KEY = web.AppKey("cassette", Path)
SESSION_KEY = web.AppKey("session", ClientSession)


def _upstream_url(request: web.Request) -> str:
    path = request.path[len("/v1"):] if request.path.startswith("/v1/") else request.path
    query = f"?{request.query_string}" if request.query_string else ""
    return request.app[UPSTREAM_KEY] + path + query


@functools.cache
def _recorded_routes() -> frozenset[str]:
    """The routes of the endpoints that generate replies (chat, completions, embeddings, responses)."""
    return frozenset(path for endpoint in ENDPOINTS.values() if endpoint.generates and endpoint.method == "POST"
                     for path in endpoint.paths)


def _records(request: web.Request) -> bool:
    return request.method == "POST" and route(request.path.rstrip("/")) in _recorded_routes()


def _body(raw: bytes) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", errors="replace")


async def proxy(request: web.Request) -> web.StreamResponse:
    try:
        return await _forward(request)
    except ClientError as exc:
        error = ApiError("server_error", f"The upstream server could not be reached: {exc}", status=502)
        return web.Response(body=orjson.dumps(error.envelope()), status=502, content_type="application/json")


async def _forward(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
    if API_KEY_KEY in request.app:
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        headers["Authorization"] = f"Bearer {request.app[API_KEY_KEY]}"
    session = request.app[SESSION_KEY]
    sent = time.perf_counter()
    async with session.request(request.method, _upstream_url(request), data=raw or None, headers=headers) as upstream:
        kept = kept_headers(upstream.headers)
        streamed = upstream.headers.get("Content-Type", "").startswith("text/event-stream")
        if not streamed:
            body = await upstream.read()
            if _records(request):
                write_exchange(request.app[CASSETTE_KEY], Exchange(request.method, request.path, _body(raw),
                                                                   upstream.status, kept, body=_body(body)))
            return web.Response(body=body, status=upstream.status, headers=kept)
        response = web.StreamResponse(status=upstream.status, headers=kept)
        await response.prepare(request)
        events: list[Event] = []
        buffer = b""
        last = sent
        async for piece in upstream.content.iter_any():
            await response.write(piece)
            complete, buffer = split_events(buffer + piece)
            now = time.perf_counter()
            for index, event in enumerate(complete):
                events.append(Event(round((now - last) * 1000, 3) if index == 0 else 0.0, event))
            if complete:
                last = now
        await response.write_eof()
    if _records(request):
        write_exchange(request.app[CASSETTE_KEY], Exchange(request.method, request.path, _body(raw), upstream.status,
                                                           kept, events=tuple(events)))
    return response


async def _open_session(app: web.Application) -> None:
    app[SESSION_KEY] = ClientSession(timeout=ClientTimeout(total=600), auto_decompress=True)


async def _close_session(app: web.Application) -> None:
    await app[SESSION_KEY].close()


def create_record_app(upstream: str, cassette: str | Path, api_key: str | None = None) -> web.Application:
    """`upstream` is the base URL a client would use (`http://host:port/v1`); `api_key`, when given,
    replaces whatever key the client sends."""
    app = web.Application()
    app[UPSTREAM_KEY] = upstream.rstrip("/")
    if api_key is not None:
        app[API_KEY_KEY] = api_key
    app[CASSETTE_KEY] = Path(cassette)
    app.on_startup.append(_open_session)
    app.on_cleanup.append(_close_session)
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


def serve_record(upstream: str, cassette: str, host: str, port: int, api_key: str | None = None) -> None:
    print(f"recording {upstream} into {cassette}; point clients at http://{host}:{port}/v1", flush=True)
    web.run_app(create_record_app(upstream, cassette, api_key), host=host, port=port, print=None, access_log=None)
