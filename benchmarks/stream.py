"""Streamed chunks per second: the mock with zero delay against a bare aiohttp handler.

The bare handler writes the very events the mock sent for the same request (precomputed, one write
per event, nothing else), so the ratio says what validation, generation, chunking and encoding cost
on top of aiohttp itself. Both servers run in background threads on loopback; one client drives
both the same way in the same run.

    python benchmarks/stream.py [--requests 400] [--concurrency 16] [--n 1]
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

from mockserver import Config, MockServer


def _body(n: int) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Write a long answer"}],
            "n": n, "stream": True, "stream_options": {"include_usage": True}}


class _BareServer:
    """An aiohttp app whose only handler writes precomputed events, on its own thread and loop."""

    def __init__(self, events: list[bytes]) -> None:
        self.events = events
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _handler(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        for event in self.events:
            await response.write(event)
        await response.write_eof()
        return response

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def __enter__(self) -> _BareServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()


async def _drive(url: str, body: dict, requests: int, concurrency: int) -> tuple[float, int]:
    """Seconds taken and events received for `requests` streams, `concurrency` at a time."""
    received = 0
    queue = iter(range(requests))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal received
        for _ in queue:
            async with session.post(url, json=body) as response:
                payload = await response.read()
            received += payload.count(b"\n\n")

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - started, received


def _measure(label: str, run: Callable[[], tuple[float, int]]) -> float:
    run()  # warm-up: connections, caches, first-request imports
    seconds, events = run()
    rate = events / seconds
    print(f"{label:<28} {events:>8} events in {seconds:6.2f} s = {rate:>10.0f} chunks/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--n", type=int, default=1, help="choices per request (more chunks per stream)")
    args = parser.parse_args()
    body = _body(args.n)

    with MockServer(Config(seed=1, clock=1_700_000_000)) as mock:
        mock_url = mock.base_url + "/chat/completions"
        sample = asyncio.run(_fetch(mock_url, body))
        events = [event + b"\n\n" for event in sample.split(b"\n\n") if event]
        with _BareServer(events) as bare:
            bare_url = f"http://127.0.0.1:{bare.port}/v1/chat/completions"
            print(f"{len(events)} events per stream, {args.requests} streams, {args.concurrency} at a time")
            bare_rate = _measure("bare aiohttp handler", lambda: asyncio.run(
                _drive(bare_url, body, args.requests, args.concurrency)))
            mock_rate = _measure("mockserver, zero delay", lambda: asyncio.run(
                _drive(mock_url, body, args.requests, args.concurrency)))
    print(f"ratio mock / bare: {mock_rate / bare_rate:.2f} (target >= 0.5)")


async def _fetch(url: str, body: dict) -> bytes:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return await response.read()


if __name__ == "__main__":
    main()
