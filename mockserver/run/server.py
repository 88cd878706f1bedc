"""Running the app: blocking for the CLI, or in a background thread for tests and notebooks."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
from dataclasses import replace
from types import TracebackType
from typing import Any

from aiohttp import web

from mockserver.controls.config import Config
from mockserver.controls.counters import Counters, SharedCounters
from mockserver.http.app import create_app
from mockserver.http.protocol import EnvelopeRunner


async def _until_orphaned(parent: int) -> None:
    """A worker's watch on the process that started it: a parent killed outright (no signal to pass on)
    would otherwise leave its workers holding the port."""
    while os.getppid() == parent:
        await asyncio.sleep(0.5)


async def _serve_forever(config: Config, counters: Counters | None = None, parent: int | None = None,
                         listening: Any = None) -> None:
    """Serve until a signal; one process alone says where it listens once it does (the port it was given
    may be 0), so whoever waits for that line can connect at once; a worker releases `listening` (a
    semaphore its parent counts) instead."""
    runner = EnvelopeRunner(create_app(config, counters), handle_signals=True)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, config.host, config.port, reuse_port=counters is not None).start()
        except OSError as exc:
            raise SystemExit(_cannot_listen(config, exc)) from None
        if listening is not None:
            listening.release()
        else:
            host, port = runner.addresses[0][:2]
            print(f"mockserver listening on {_root(host, port)}/v1 (seed {config.seed})", flush=True)
        await (_until_orphaned(parent) if parent is not None else asyncio.Event().wait())
    finally:
        await runner.cleanup()


def _accepts(host: str, port: int) -> bool:
    """Whether a worker listens yet (the parent's own socket takes no connections)."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def _cannot_listen(config: Config, exc: OSError) -> str:
    return f"mockserver: cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"


def _root(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serve_one(config: Config, counters: Counters | None = None, parent: int | None = None,
               listening: Any = None) -> None:
    try:
        asyncio.run(_serve_forever(config, counters, parent, listening))
    except (web.GracefulExit, KeyboardInterrupt):
        pass


def serve(config: Config) -> None:
    """Serve until interrupted (the CLI's main loop)."""
    if config.workers > 1:
        _serve_workers(config)
        return
    _serve_one(config)


def _reserve(host: str, port: int) -> socket.socket:
    """A socket bound to the port with SO_REUSEPORT but not listening: it holds the port (a free one for
    port 0) for the workers, each listening on a socket of its own that the kernel balances connections
    between, and takes no connections itself."""
    family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    reserved = socket.socket(family, kind)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        reserved.bind(address)
    except OSError:
        reserved.close()
        raise
    return reserved


def _serve_workers(config: Config) -> None:
    """`config.workers` forked processes on one port, numbering requests from one shared count. The parent
    only watches: a signal stops every worker, and a worker that dies stops the rest (exit status 1)."""
    try:
        reserved = _reserve(config.host, config.port)
    except OSError as exc:
        raise SystemExit(_cannot_listen(config, exc)) from None
    if config.port and _accepts(config.host, config.port):
        # Another server's workers (also SO_REUSEPORT) would share the port with these, each taking some
        # of the connections.
        reserved.close()
        raise SystemExit(f"mockserver: cannot listen on {config.host}:{config.port}: a server already does")
    config = replace(config, port=reserved.getsockname()[1])
    counters = SharedCounters()
    context = multiprocessing.get_context("fork")
    listening = context.Semaphore(0)
    workers = [context.Process(target=_serve_one, args=(config, counters, os.getpid(), listening),
                               name=f"mockserver-worker-{number}") for number in range(1, config.workers + 1)]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for worker in workers:
            worker.start()
        def serving() -> bool:
            return not stopping and all(worker.is_alive() for worker in workers)

        # Announced once every worker listens: a client that starts at once must find them all (a worker
        # still starting would leave the first connections to the others).
        started = 0
        while serving() and started < len(workers):
            started += listening.acquire(timeout=0.1)
        if serving():
            print(f"mockserver listening on {_root(config.host, config.port)}/v1 (seed {config.seed}, "
                  f"{config.workers} workers)", flush=True)
        while serving():
            multiprocessing.connection.wait([worker.sentinel for worker in workers], timeout=0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join()
        reserved.close()
    if not stopping:
        sys.exit(1)


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
        self._runner: EnvelopeRunner | None = None
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
            # Connections still lingering over an unread body (aiohttp drains it for a while) end here.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="mockserver", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    async def _start_site(self) -> None:
        self._runner = EnvelopeRunner(create_app(self.config))
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
