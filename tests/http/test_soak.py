"""A short soak: rounds of hostile traffic (large bodies, long invalid lists, budget-hitting schemas,
malformed HTTP, streams left mid-way) leave the memory where the first round put it. The long version,
with figures, is `benchmarks/hostile.py`."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from wire import PLAIN, exchange, post

from mockserver import Config, MockServer

ROUNDS = 4
GROWTH_MB = 40
"""What later rounds may add to the memory of the first (allocator noise, caches filling up)."""


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1]) / 1024


def _schema(number: int) -> dict[str, Any]:
    return {"type": "object", "required": ["rows", f"n{number}"], "properties": {
        f"n{number}": {"type": "integer", "minimum": -1e308},
        "rows": {"type": "array", "minItems": 60, "items": {"type": "array", "minItems": 60, "items": {
            "type": "string", "minLength": 30}}}}}


def _round(server: MockServer, number: int) -> list[int]:
    statuses = []
    bodies: list[Any] = [
        {**PLAIN, "messages": [{"role": "user", "content": "word " * 400_000}]},
        {**PLAIN, "messages": [{"role": "user", "content": [None] * 20_000}]},
        {**PLAIN, "messages": [{"role": "user", "content": [{"type": "text"}] * 20_000}]},
        {**PLAIN, "tools": [{"type": "function", "function": {"name": "f", "parameters": _schema(number)}}]},
        {**PLAIN, "n": 16, "logprobs": True, "top_logprobs": 20},
        {**PLAIN, "stop": ["x"] * 50_000},
    ]
    for body in bodies:
        statuses.append(post(server.url, body).status)
    for data in (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
                 b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + b"X-A: " + b"a" * 9000 + b"\r\n\r\n"):
        reply = exchange(server.port, data)
        statuses.append(reply.status if reply is not None else 0)
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as hung:
            body = json.dumps({**PLAIN, "stream": True}).encode()
            hung.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"X-Mock-Timing: ttft=50,itl=50\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            hung.recv(10)
    return statuses


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(Config(seed=4, journal_size=200)) as running:
        yield running


def test_memory_stays_flat_under_rounds_of_hostile_traffic(server: MockServer) -> None:
    first = _round(server, 0)
    assert all(status < 500 for status in first), first
    settled = _rss_mb()
    for number in range(1, ROUNDS):
        assert _round(server, number) == first
    assert _rss_mb() < settled + GROWTH_MB
