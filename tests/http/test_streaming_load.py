"""Many slow streams at once do not queue behind each other, and clients that hang up leave no trace."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import aiohttp
import pytest
from wire import events

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
    expected = {_content(body) for body in bodies}
    assert len(expected) == 1
    text, done = expected.pop()
    assert done and text
    # role chunk, one chunk per token, finish chunk: every gap after the first is one inter-token delay
    implied = (_TOKENS + 1) * _ITL_MS / 1000
    assert implied <= elapsed < implied + 15, "streams were served one after another, not side by side"


def test_clients_hanging_up_mid_stream_leave_the_server_healthy(slow_mock: MockServer,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    url = slow_mock.base_url + "/chat/completions"
    caplog.set_level(logging.DEBUG)

    def ended() -> int:
        return sum(r.getMessage() == "client hung up mid-stream; response ended" for r in caplog.records)

    async def run() -> bytes:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await asyncio.gather(*(_hang_up(session, url) for _ in range(_DROPOUTS)))
            for _ in range(100):
                if ended() >= _DROPOUTS:
                    break
                await asyncio.sleep(0.05)
            return await _stream(session, url)

    text, done = _content(asyncio.run(run()))
    assert done and text
    assert ended() == _DROPOUTS, "every abandoned stream's handler ends instead of running on"
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert noisy == []


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
