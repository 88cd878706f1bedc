"""Many slow streams at once do not queue behind each other, and clients that hang up leave no trace."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterator

import aiohttp
import pytest
from wire import events, send

from mockserver import Config, MockServer, Timing

_ITL_MS = 20
_TOKENS = 10
_STREAMS = 500
_DROPOUTS = 100
_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Count for me"}],
         "max_tokens": _TOKENS, "stream": True}


@pytest.fixture(scope="module")
def slow_mock() -> Iterator[MockServer]:
    with MockServer(Config(seed=2, clock=1_700_000_000, timing=Timing(itl_ms=_ITL_MS))) as running:
        yield running


def _content(payload: bytes) -> tuple[str, bool]:
    """The streamed text and whether the stream ended with [DONE]."""
    received = events(payload)
    text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in received[:-1] if chunk["choices"])
    return text, received[-1] == "[DONE]"


def _framing_problem(payload: bytes) -> str | None:
    """What is wrong with a stream's framing: every event JSON, the role first, one delta per token (the
    reply runs past max_tokens, so it has all of them), one `length` finish, `[DONE]` last and once."""
    received = events(payload)
    if received[-1] != "[DONE]" or "[DONE]" in received[:-1]:
        return "[DONE] is not last, once"
    chunks = received[:-1]
    if chunks[0]["choices"][0]["delta"].get("role") != "assistant" or len({chunk["id"] for chunk in chunks}) != 1:
        return "no role first, or ids differ"
    contents = [chunk for chunk in chunks if chunk["choices"][0]["delta"].get("content")]
    finishes = [chunk["choices"][0]["finish_reason"] for chunk in chunks if chunk["choices"][0]["finish_reason"]]
    return None if len(contents) == _TOKENS and finishes == ["length"] else f"{len(contents)} deltas, {finishes}"


async def _stream(session: aiohttp.ClientSession, url: str) -> bytes:
    async with session.post(url, json=_BODY) as response:
        assert response.status == 200
        return await response.read()


async def _hang_up(session: aiohttp.ClientSession, url: str) -> None:
    response = await session.post(url, json=_BODY)
    await response.content.readuntil(b"\n\n")
    await response.content.readuntil(b"\n\n")
    response.close()


def test_concurrent_slow_streams_run_side_by_side(slow_mock: MockServer) -> None:
    url = slow_mock.base_url + "/chat/completions"

    async def run() -> tuple[float, list[bytes]]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            started = time.monotonic()
            bodies = await asyncio.gather(*(_stream(session, url) for _ in range(_STREAMS)))
            return time.monotonic() - started, bodies

    elapsed, bodies = asyncio.run(run())
    assert [_framing_problem(body) for body in bodies] == [None] * _STREAMS
    expected = {_content(body) for body in bodies}
    assert len(expected) == 1
    text, done = expected.pop()
    assert done and text
    # role chunk, one chunk per token, finish chunk: every gap after the first is one inter-token delay
    implied = (_TOKENS + 1) * _ITL_MS / 1000
    assert implied <= elapsed < implied + 15, "streams were served one after another, not side by side"


def _server_tasks(mock: MockServer) -> int:
    return send(mock.url, "GET", "/_mock/health").json()["tasks"]


def _open_files() -> int:
    """Client and server share this process: both ends of every connection count."""
    return len(os.listdir("/proc/self/fd"))


def _settles(measure: Callable[[], int], limit: int) -> bool:
    """Sockets close a moment after their last reply: the count gets back to `limit` within seconds."""
    for _ in range(100):
        if measure() <= limit:
            return True
        time.sleep(0.05)
    return False


def test_clients_hanging_up_mid_stream_leave_the_server_healthy(slow_mock: MockServer,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    url = slow_mock.base_url + "/chat/completions"
    caplog.set_level(logging.DEBUG)
    tasks_before, files_before = _server_tasks(slow_mock), _open_files()

    def ended() -> int:
        return sum(r.getMessage() == "client hung up mid-stream; response ended" for r in caplog.records)

    async def run() -> bytes:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await asyncio.gather(*(_hang_up(session, url) for _ in range(_DROPOUTS)))
            for _ in range(100):
                if ended() >= _DROPOUTS:
                    break
                await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as session:
            return await _stream(session, url)

    text, done = _content(asyncio.run(run()))
    assert done and text
    assert ended() == _DROPOUTS, "every abandoned stream's handler ends instead of running on"
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert noisy == []
    assert _settles(lambda: _server_tasks(slow_mock), tasks_before), "a task outlived its connection"
    assert _settles(_open_files, files_before), "a connection's socket was left open"


def test_a_long_stall_ends_soon_after_its_client_leaves(slow_mock: MockServer,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    url = slow_mock.base_url + "/chat/completions"
    caplog.set_level(logging.DEBUG)

    def ended() -> int:
        return sum(r.getMessage() == "client hung up mid-stream; response ended" for r in caplog.records)

    async def run() -> bool:
        async with aiohttp.ClientSession() as session:
            response = await session.post(url, json=_BODY, headers={"X-Mock-Fault": "stall-after=1,stall-ms=60000"})
            await response.content.readuntil(b"\n\n")
            response.close()
            for _ in range(100):
                if ended():
                    return True
                await asyncio.sleep(0.05)
            return False

    assert asyncio.run(run()), "the handler kept sleeping through a stall nobody was waiting for"
