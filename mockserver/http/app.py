"""The aiohttp application: every endpoint's routes on the one pipeline, the middlewares, the admin API."""

from __future__ import annotations

from aiohttp import web

from mockserver.controls.config import Config
from mockserver.controls.state import DoubleState
from mockserver.core.endpoints import ENDPOINTS
from mockserver.http import admin
from mockserver.http.middleware import (
    STATE_KEY,
    envelope_middleware,
    journal_middleware,
    stamp_headers,
)
from mockserver.http.pipeline import handler

API_PREFIXES = ("/v1", "")


def create_app(config: Config | None = None) -> web.Application:
    """The aiohttp application; embed it with aiohttp's test utilities or run it with `serve`."""
    config = config or Config()
    app = web.Application(middlewares=[journal_middleware, envelope_middleware],
                          client_max_size=config.max_body_bytes + 1)
    app[STATE_KEY] = DoubleState(config)
    for endpoint in ENDPOINTS.values():
        serve = handler(endpoint)
        for prefix in API_PREFIXES:
            for path in endpoint.paths:
                app.router.add_route(endpoint.method, prefix + path, serve)
    app.on_response_prepare.append(stamp_headers)
    admin.install(app, config)
    return app
