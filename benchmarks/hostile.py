"""The mock under hostile load, in its own process on loopback: the figures in the README's Benchmarks.

1. A cheap request beside budget-hitting ones: latency of a plain request alone, then while four
   clients send, back to back, requests whose schemas use up the work budget (each gets a 400).
2. Slow streams: N at once with `--ttft-ms 200 --itl-ms 20`, 50 tokens each; every stream must be
   framed correctly (every event JSON, the role first, 50 content deltas, one finish, `[DONE]` last).
3. Hang-ups: D clients leave after the second event; the server's tasks (`/_mock/health`) and open
   file descriptors (`/proc/PID/fd`) before and after, then one more stream must complete.
4. Soak: mixed traffic for S seconds (plain, tools, streams, hang-ups, broken bodies, malformed HTTP)
   at 32 at a time; the server's RSS sampled every few seconds.

Every run stops by itself: each phase is bounded in requests and time.

    python benchmarks/hostile.py [--streams 1000] [--drops 200] [--soak-seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
from load import free_port

from mockserver.contract.sse import Event, read_events

PLAIN = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say something."}]}
INSTANT = {"X-Mock-Timing": "none"}
TOKENS = 50
WIDE = {"type": "object", "required": [f"p{i}" for i in range(20)], "properties": {
    f"p{i}": {"type": "array", "minItems": 50, "items": {"type": "array", "minItems": 50, "items": {
        "type": "string", "minLength": 40}}} for i in range(20)}}
def heavy(number: int) -> dict[str, Any]:
    """A request whose schema uses up the work budget; each one different, so no cache can answer it."""
    schema = {**WIDE, "properties": {**WIDE["properties"], f"nonce{number}": {"type": "string"}}}
    return {**PLAIN, "tools": [{"type": "function", "function": {"name": "wide", "parameters": schema}}]}

TOOLS = {**PLAIN, "tools": [{"type": "function", "function": {"name": "weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1,
                                                                          "maximum": 7}},
    "required": ["city"]}}}]}
MALFORMED = [
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX Bad: 1\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 8\r\n\r\nnot gzip",
]
EDGES: list[Any] = [1e308, -1e308, 2**63, 2**70, None, "", [], {}, "\x00", "x" * 50_000, [None] * 2_000,
                    [{"type": "text"}] * 2_000, True, -1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@contextmanager
def mock(port: int, log: Any) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-m", "mockserver", "--port", str(port), "--ttft-ms", "200",
                                "--itl-ms", "20"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


async def wait_until_serving(session: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(400):
        try:
            async with session.get(url + "/_mock/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            if process.poll() is not None:
                raise RuntimeError("the mock exited at start") from None
        await asyncio.sleep(0.05)
    raise RuntimeError("the mock did not start within 20 s")


async def tasks(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url + "/_mock/health") as response:
        return (await response.json())["tasks"]


async def timed_post(session: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, float]:
    started = time.perf_counter()
    async with session.post(url + "/v1/chat/completions", json=body, headers=INSTANT) as response:
        await response.read()
        return response.status, time.perf_counter() - started


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50, p99 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


async def cheap_beside_heavy(session: aiohttp.ClientSession, url: str, samples: int = 100) -> None:
    for _ in range(10):
        await timed_post(session, url, PLAIN)
    alone = [(await timed_post(session, url, PLAIN))[1] for _ in range(samples)]
    stop = asyncio.Event()
    answered: list[tuple[int, float]] = []

    async def hammer() -> None:
        while not stop.is_set():
            answered.append(await timed_post(session, url, heavy(len(answered))))

    hammers = [asyncio.create_task(hammer()) for _ in range(4)]
    await asyncio.sleep(0.5)
    beside = []
    for _ in range(samples):
        status, seconds = await timed_post(session, url, PLAIN)
        assert status == 200
        beside.append(seconds)
    stop.set()
    await asyncio.gather(*hammers)
    statuses = sorted({status for status, _ in answered})
    print(f"cheap request alone:            {percentiles(alone)}")
    print(f"cheap request beside 4 heavy:   {percentiles(beside)}")
    print(f"budget-hitting requests:        {len(answered)} answered {statuses}, "
          f"{percentiles([seconds for _, seconds in answered])}")


def framing_problem(payload: bytes) -> str | None:
    events = list(read_events(payload))
    if not events or not all(isinstance(event, Event) for event in events):
        return "an event that is not well formed"
    if not events[-1].done or any(event.done for event in events[:-1]):
        return "[DONE] is not the last event, once"
    chunks = [event.json() for event in events[:-1]]
    if chunks[0]["choices"][0]["delta"].get("role") != "assistant":
        return "the first delta has no role"
    if len({chunk["id"] for chunk in chunks}) != 1:
        return "chunk ids differ"
    contents = [chunk for chunk in chunks if chunk["choices"] and chunk["choices"][0]["delta"].get("content")]
    finishes = [chunk["choices"][0]["finish_reason"] for chunk in chunks if chunk["choices"][0]["finish_reason"]]
    if len(contents) != TOKENS or finishes != ["length"]:
        return f"{len(contents)} content deltas and finishes {finishes}"
    return None


STREAMED = {**PLAIN, "max_tokens": TOKENS, "stream": True}


async def choose_seed(session: aiohttp.ClientSession, url: str) -> None:
    """A `seed` whose reply runs past 50 tokens, so that every stream has exactly the 50 it may have."""
    for seed in range(100):
        body = {**PLAIN, "max_tokens": TOKENS, "seed": seed}
        async with session.post(url + "/v1/chat/completions", json=body, headers=INSTANT) as response:
            if (await response.json())["choices"][0]["finish_reason"] == "length":
                STREAMED["seed"] = seed
                return
    raise RuntimeError("no seed gives a reply of 50 tokens")


async def one_stream(session: aiohttp.ClientSession, url: str) -> str | None:
    body = STREAMED
    async with session.post(url + "/v1/chat/completions", json=body) as response:
        if response.status != 200:
            return f"status {response.status}"
        return framing_problem(await response.read())


async def streams(session: aiohttp.ClientSession, url: str, count: int) -> None:
    started = time.perf_counter()
    problems = await asyncio.gather(*(one_stream(session, url) for _ in range(count)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    bad = [problem for problem in problems if problem is not None]
    ideal = 0.2 + TOKENS * 0.02
    print(f"{count} streams of {TOKENS} tokens: {count - len(bad)} framed correctly, {len(bad)} not "
          f"{bad[:3]}; wall {elapsed:.2f} s (one stream alone: {ideal:.2f} s)")


async def hang_up(session: aiohttp.ClientSession, url: str) -> None:
    response = await session.post(url + "/v1/chat/completions", json=STREAMED)
    await response.content.readuntil(b"\n\n")
    await response.content.readuntil(b"\n\n")
    response.close()


async def disconnects(session: aiohttp.ClientSession, watcher: aiohttp.ClientSession, url: str, pid: int,
                      count: int) -> None:
    """`watcher` asks for the task count over one connection of its own, which is counted both times."""
    await asyncio.sleep(0.5)
    before_tasks, before_files = await tasks(watcher, url), open_files(pid)
    await asyncio.gather(*(hang_up(session, url) for _ in range(count)))
    await session.close()
    for _ in range(200):
        if await tasks(watcher, url) <= before_tasks:
            break
        await asyncio.sleep(0.05)
    after_tasks, after_files = await tasks(watcher, url), open_files(pid)
    problem = await one_stream(watcher, url)
    print(f"{count} hang-ups mid-stream: server tasks {before_tasks} -> {after_tasks}, open files {before_files} -> "
          f"{after_files}; next stream {'framed correctly' if problem is None else problem}")


def broken(rng: random.Random) -> Any:
    """A valid request with the value at a random depth replaced by an edge value."""
    body = json.loads(json.dumps(rng.choice([PLAIN, TOOLS, {**PLAIN, "n": 2, "logprobs": True}])))
    parent: Any = None
    key: Any = None
    node: Any = body
    while isinstance(node, (dict, list)) and node and (parent is None or rng.random() > 0.3):
        key = rng.choice(list(node) if isinstance(node, dict) else range(len(node)))
        parent, node = node, node[key]
    if parent is not None:
        parent[key] = rng.choice(EDGES)
    return body


async def malformed(port: int, data: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    await asyncio.wait_for(reader.read(65536), 10)
    writer.close()


async def soak(session: aiohttp.ClientSession, url: str, port: int, pid: int, seconds: float) -> None:
    rng = random.Random(7)
    deadline = time.monotonic() + seconds
    served: dict[str, int] = {}

    async def client() -> None:
        while time.monotonic() < deadline:
            roll = rng.random()
            if roll < 0.3:
                kind, work = "plain", timed_post(session, url, PLAIN)
            elif roll < 0.45:
                kind, work = "tools", timed_post(session, url, TOOLS)
            elif roll < 0.7:
                kind, work = "broken", timed_post(session, url, broken(rng))
            elif roll < 0.8:
                kind, work = "stream", one_stream(session, url)
            elif roll < 0.9:
                kind, work = "hang-up", hang_up(session, url)
            else:
                kind, work = "malformed", malformed(port, rng.choice(MALFORMED))
            await work
            served[kind] = served.get(kind, 0) + 1

    samples = [rss_mb(pid)]
    clients = [asyncio.create_task(client()) for _ in range(32)]
    while time.monotonic() < deadline:
        await asyncio.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
        samples.append(rss_mb(pid))
    await asyncio.gather(*clients)
    samples.append(rss_mb(pid))
    total = sum(served.values())
    print(f"soak {seconds:.0f} s: {total} requests {dict(sorted(served.items()))}; server RSS MB first "
          f"{samples[0]:.0f}, after a tenth {samples[max(1, len(samples) // 10)]:.0f}, max {max(samples):.0f}, "
          f"last {samples[-1]:.0f}, median {statistics.median(samples):.0f}")


def client() -> aiohttp.ClientSession:
    """A fresh session per phase, so no phase starts with another's idle connections."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=120))


async def main(arguments: argparse.Namespace) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log, mock(port, log) as process:
        async with client() as session:
            await wait_until_serving(session, url, process)
            await choose_seed(session, url)
            print(f"server RSS at start: {rss_mb(process.pid):.0f} MB")
            await cheap_beside_heavy(session, url)
        async with client() as session:
            await streams(session, url, arguments.streams)
        async with client() as session, client() as watcher:
            await disconnects(session, watcher, url, process.pid, arguments.drops)
        async with client() as session:
            await soak(session, url, port, process.pid, arguments.soak_seconds)
        process.terminate()
        process.wait(timeout=10)
        log.seek(0)
        logged = log.read().decode(errors="replace")
        print(f"server log: {len(logged.splitlines())} lines, {logged.count('Traceback')} tracebacks")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--drops", type=int, default=200)
    parser.add_argument("--soak-seconds", type=float, default=120)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    asyncio.run(main(parser.parse_args()))
