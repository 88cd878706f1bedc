"""Running the app: blocking for the CLI, or in a background thread for tests and notebooks."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from types import TracebackType

from aiohttp import web

from mockserver.controls.config import Config
from mockserver.http.app import create_app


def serve(config: Config) -> None:
    """Serve until interrupted (the CLI's main loop)."""
    print(f"mockserver listening on http://{config.host}:{config.port}/v1 (seed {config.seed})", flush=True)
    web.run_app(create_app(config), host=config.host, port=config.port, print=None, access_log=None)


class MockServer:
    """A mock on a free loopback port, served from its own thread and event loop.

    >>> with MockServer(Config(seed=1)) as server:
    ...     client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
    """

    def __init__(self, config: Config | None = None, port: int = 0) -> None:
        """`port` 0 (the default) picks a free port whatever `config.port` says: the config's default
        port 8000 belongs to the CLI, and tests that share a machine must not collide on it."""
        self.config = replace(config or Config(), port=port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as `base_url`."""
        return self.url + "/v1"

    def start(self) -> MockServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start_site())
            except BaseException as exc:  # reported to the caller of start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="mockserver", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    async def _start_site(self) -> None:
        self._runner = web.AppRunner(create_app(self.config), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = None
            self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
