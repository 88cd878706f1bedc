"""The aiohttp application: every endpoint's routes on the one pipeline, the middlewares, the admin API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from mockserver.contract.models import known_models, model_info
from mockserver.contract.profiles import profile
from mockserver.controls.config import Config
from mockserver.controls.counters import Counters
from mockserver.controls.state import DoubleState
from mockserver.core.endpoints import ENDPOINTS
from mockserver.core.endpoints.profiled import profiled
from mockserver.core.generate import prose
from mockserver.http import admin
from mockserver.http.middleware import STATE_KEY, mock_middleware
from mockserver.http.pipeline import WORKERS_KEY, handler
from mockserver.http.protocol import expect_handler

_WORKERS = 1
"""Threads for heavy requests. One: heavy requests queue behind each other, and the event loop shares
the interpreter with a single busy thread, which keeps cheap requests at a few milliseconds (measured
in `benchmarks/hostile.py`; with two threads they waited several times longer)."""


async def _stop_workers(app: web.Application) -> None:
    app[WORKERS_KEY].shutdown(wait=False, cancel_futures=True)


def create_app(config: Config | None = None, counters: Counters | None = None) -> web.Application:
    """The aiohttp application; embed it with aiohttp's test utilities or run it with `serve`. Every
    profile in the configuration's routing table answers the routes it serves under its prefix;
    `counters` are the numbers worker processes share (`mockserver.run.server`)."""
    config = config or Config()
    app = web.Application(middlewares=[mock_middleware],
                          client_max_size=config.max_body_bytes + 1)
    app[STATE_KEY] = DoubleState(config, counters)
    app[WORKERS_KEY] = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="mockserver-work")
    app.on_cleanup.append(_stop_workers)
    for prefix, profile_name in config.routing:
        for endpoint in ENDPOINTS.values():
            if not profile(profile_name).serves(endpoint.paths[0]):
                continue
            serve = handler(profiled(endpoint, profile_name), profile_name, config.memo_entries)
            for path in endpoint.paths:
                app.router.add_route(endpoint.method, prefix + path, serve, expect_handler=expect_handler)
    admin.install(app, config)
    served = config.models if config.models is not None else tuple(known_models())
    for encoding in sorted({model_info(model).encoding for model in served}):
        prose.prepare(encoding)
    return app
