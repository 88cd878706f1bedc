"""Record from a second mock through the recording proxy, then replay the cassette with no upstream."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openai
import pytest
from aiohttp.test_utils import TestServer

from mockserver import Config, MockServer
from mockserver.controls.cassette import load_cassette, normalise
from mockserver.controls.rules import parse_scenario
from mockserver.controls.timing import Timing
from mockserver.http.record import create_record_app

SECRET = "sk-recording-secret-0123456789"
ASK = [{"role": "user", "content": "Name three rivers."}]
BUSY = [{"role": "user", "content": "Are you busy?"}]


async def _record(cassette: Path) -> dict[str, object]:
    """Three exchanges through the proxy: plain, streamed, and an error."""
    busy = parse_scenario([{"match": {"last_user": "busy"}, "error": {"status": 503, "retry_after": 30}}], "upstream")
    upstream_config = Config(seed=11, clock=1_700_000_000, timing=Timing(ttft_ms=80, itl_ms=0), scenario=busy)
    with MockServer(upstream_config) as upstream:
        async with TestServer(create_record_app(upstream.base_url, cassette), host="127.0.0.1") as proxy:
            client = openai.AsyncOpenAI(base_url=str(proxy.make_url("/v1")), api_key=SECRET, max_retries=0)
            plain = await client.chat.completions.create(model="gpt-4o-mini", messages=ASK, user="alice")
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True,
                                                          stream_options={"include_usage": True})
            chunks = [chunk.model_dump() async for chunk in stream]
            with pytest.raises(openai.InternalServerError) as refused:
                await client.chat.completions.create(model="gpt-4o-mini", messages=BUSY)
            models = await client.models.list()
            await client.close()
    return {"plain": plain.model_dump(), "chunks": chunks, "error": refused.value.body, "models": len(models.data)}


async def test_record_then_replay(tmp_path: Path) -> None:
    recorded = await _record(tmp_path)
    files = sorted(tmp_path.glob("*.json"))
    assert [f.name[:5] for f in files] == ["0001-", "0002-", "0003-"]
    assert recorded["models"] > 0
    for path in files:
        text = path.read_text()
        assert SECRET not in text and "authorization" not in text.lower()
        json.loads(text)
    streamed = json.loads(files[1].read_text())
    assert streamed["response"]["events"][-1]["data"] == "data: [DONE]"
    assert streamed["response"]["events"][0]["delay_ms"] >= 80

    cassette = load_cassette(tmp_path)
    with MockServer(Config(seed=99, replay=cassette, replay_miss="error")) as replay:
        client = openai.OpenAI(base_url=replay.base_url, api_key="sk-other", max_retries=0)
        plain = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, user="bob")
        assert plain.model_dump() == recorded["plain"]
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True,
                                                stream_options={"include_usage": True})
        assert [chunk.model_dump() for chunk in stream] == recorded["chunks"]
        recorded_headers = json.loads(files[1].read_text())["response"]["headers"]
        for name in ("x-request-id", "x-ratelimit-remaining-requests", "openai-processing-ms"):
            assert stream.response.headers[name] == recorded_headers[name]
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        with pytest.raises(openai.InternalServerError) as refused:
            client.chat.completions.create(model="gpt-4o-mini", messages=BUSY)
        assert refused.value.body == recorded["error"]
        assert refused.value.response.headers["retry-after"] == "30"
        with pytest.raises(openai.NotFoundError) as missed:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "new"}])
        assert missed.value.code == "unmatched_request"


async def test_replay_falls_back_to_the_generator_and_keeps_timing(tmp_path: Path) -> None:
    await _record(tmp_path)
    cassette = load_cassette(tmp_path)
    with MockServer(Config(seed=99, replay=cassette, replay_timing=True)) as replay:
        client = openai.OpenAI(base_url=replay.base_url, api_key="sk-other", max_retries=0)
        list(client.chat.completions.create(model="gpt-4o-mini", messages=ASK, stream=True,
                                            stream_options={"include_usage": True}))
        fresh = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "new"}])
        assert fresh.choices[0].message.content
        with urllib.request.urlopen(replay.url + "/_mock/journal") as reply:
            journal = json.load(reply)
    streamed_entry = journal["data"][0]
    assert streamed_entry["duration_ms"] >= 80  # the recorded time to first event is honoured


def test_normalisation_ignores_bookkeeping_fields_only() -> None:
    body = {"model": "m", "messages": ASK, "user": "u", "metadata": {"a": "b"}, "store": True}
    assert normalise(body) == {"model": "m", "messages": ASK}
    assert normalise({**body, "stream": True}) != normalise(body)


@pytest.mark.parametrize(("args", "message"), [
    (["--replay", "{tmp}/missing"], "no such cassette directory"),
    (["--scenario", "{tmp}/bad.yaml"], "bad.yaml: rules[1].times: expected a positive integer"),
])
def test_cli_refuses_to_start_on_bad_files(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.yaml").write_text("rules:\n  - reply: ok\n  - reply: again\n    times: -1\n")
    completed = subprocess.run([sys.executable, "-m", "mockserver", *[a.format(tmp=tmp_path) for a in args]],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert message in completed.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_record_subcommand_of_the_cli(tmp_path: Path) -> None:
    """`mockserver record` as a user runs it, in front of a mock that only accepts the key the recorder
    takes from its environment, stopped after one exchange."""
    port = _free_port()
    with MockServer(Config(seed=4, api_keys=(SECRET,))) as upstream:
        process = subprocess.Popen([sys.executable, "-m", "mockserver", "record", "--upstream", upstream.base_url,
                                    "--cassette", str(tmp_path), "--port", str(port), "--api-key-env", "UPSTREAM_KEY"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env={**os.environ, "UPSTREAM_KEY": SECRET})
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline and process.poll() is None, "recorder did not start"
                    time.sleep(0.1)
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-placeholder", max_retries=0)
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=ASK)
        finally:
            process.terminate()
            process.wait(timeout=10)
    (recorded,) = tmp_path.glob("*.json")
    assert json.loads(recorded.read_text())["response"]["body"]["id"] == reply.id
    assert SECRET not in recorded.read_text()
