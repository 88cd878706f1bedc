"""The controls serve the new endpoints with no code of their own: the pytest builders, rules scoped by
endpoint, the rate limiter, chaos, record and replay, quirks that bend only their own endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from aiohttp.test_utils import TestServer
from wire import send

from mockserver import Config, MockServer
from mockserver.controls.cassette import load_cassette
from mockserver.controls.chaos import parse_chaos
from mockserver.http.record import create_record_app
from mockserver.run.pytest_plugin import MockOpenAI

pytest_plugins = ["pytester"]


def _client(base_url: str, **options: object) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="sk-test", **options)


def test_builders_script_each_endpoint(mock_openai: MockOpenAI) -> None:
    mock_openai.on(endpoint="completions").reply("scripted text")
    mock_openai.on(endpoint="embeddings").fail(429, retry_after=0.01, times=1)
    mock_openai.on(endpoint="responses", last_user="hello").reply("scripted answer")
    client = _client(mock_openai.base_url, max_retries=1)
    assert client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x").choices[0].text == "scripted text"
    assert len(client.embeddings.create(model="text-embedding-3-small", input="x").data) == 1
    assert client.responses.create(model="gpt-4o-mini", input="hello there").output_text == "scripted answer"
    chat = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
    assert chat.choices[0].message.content != "scripted answer", "a rule scoped to responses leaves chat alone"
    assert [(r.path, r.status) for r in mock_openai.requests] == [
        ("/v1/completions", 200), ("/v1/embeddings", 429), ("/v1/embeddings", 200), ("/v1/responses", 200),
        ("/v1/chat/completions", 200)]
    assert mock_openai.unused_rules() == []


def test_rate_limits_count_the_endpoints(mock_openai: MockOpenAI) -> None:
    mock_openai.rate_limit(requests_per_minute=2)
    client = _client(mock_openai.base_url, max_retries=0)
    client.embeddings.create(model="text-embedding-3-small", input="x")
    client.responses.create(model="gpt-4o-mini", input="x")
    with pytest.raises(openai.RateLimitError):
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x")


def test_quirks_bend_only_their_own_endpoint(mock_openai: MockOpenAI) -> None:
    mock_openai.quirks("no_usage", "embedding_unnormalised")
    client = _client(mock_openai.base_url, max_retries=0)
    assert client.responses.create(model="gpt-4o-mini", input="x").usage is not None
    assert client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x").usage is not None
    assert client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]).usage is None
    vector = client.embeddings.create(model="text-embedding-3-small", input="x", encoding_format="float").data[0]
    assert abs(sum(v * v for v in vector.embedding) - 1) > 0.1


def test_chaos_rolls_for_every_generating_endpoint() -> None:
    with MockServer(Config(port=0, seed=1, chaos=parse_chaos("server_error=1"))) as server:
        client = _client(server.base_url, max_retries=0)
        for call in (lambda: client.embeddings.create(model="text-embedding-3-small", input="x"),
                     lambda: client.responses.create(model="gpt-4o-mini", input="x"),
                     lambda: client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x")):
            with pytest.raises(openai.InternalServerError):
                call()
        assert send(server.url, "GET", "/v1/models").status == 200


async def test_record_and_replay_the_endpoints(tmp_path: Path) -> None:
    with MockServer(Config(port=0, seed=3, clock=1_700_000_000)) as upstream:
        async with TestServer(create_record_app(upstream.base_url, tmp_path), host="127.0.0.1") as proxy:
            async with openai.AsyncOpenAI(base_url=str(proxy.make_url("/v1")), api_key="sk-x", max_retries=0) as client:
                vectors = await client.embeddings.create(model="text-embedding-3-small", input="river",
                                                         encoding_format="float")
                text = await client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once")
                stream = await client.responses.create(model="gpt-4o-mini", input="Hi", stream=True)
                events = [event.model_dump() async for event in stream]
    assert len(list(tmp_path.glob("*.json"))) == 3
    with MockServer(Config(port=0, seed=99, replay=load_cassette(tmp_path), replay_miss="error")) as replay:
        client = _client(replay.base_url, max_retries=0)
        assert client.embeddings.create(model="text-embedding-3-small", input="river",
                                        encoding_format="float").model_dump() == vectors.model_dump()
        assert client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once").model_dump() == \
            text.model_dump()
        assert [event.model_dump() for event in client.responses.create(model="gpt-4o-mini", input="Hi",
                                                                        stream=True)] == events
        with pytest.raises(openai.NotFoundError):
            client.embeddings.create(model="text-embedding-3-small", input="new", encoding_format="float")


def test_scenario_file_scopes_rules_by_endpoint(tmp_path: Path) -> None:
    scenario = tmp_path / "rules.json"
    scenario.write_text(json.dumps({"rules": [{"match": {"endpoint": ["embeddings", "responses.retrieve"]},
                                               "error": {"status": 503, "kind": "overloaded"}}]}))
    from mockserver.controls.rules import load_scenario

    with MockServer(Config(port=0, scenario=load_scenario(scenario))) as server:
        client = _client(server.base_url, max_retries=0)
        with pytest.raises(openai.InternalServerError, match="overloaded"):
            client.embeddings.create(model="text-embedding-3-small", input="x")
        stored = client.responses.create(model="gpt-4o-mini", input="x")
        with pytest.raises(openai.InternalServerError):
            client.responses.retrieve(stored.id)


def test_sequences_auth_timing_and_faults_apply_to_every_endpoint() -> None:
    rules = [{"match": {"endpoint": "embeddings"}, "sequence": [{"error": {"status": 503}}, {"generate": True}]}]
    from mockserver.controls.rules import parse_scenario

    config = Config(port=0, api_keys=("sk-right",), scenario=parse_scenario(rules, "inline"))
    with MockServer(config) as server:
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0).responses.create(
                model="gpt-4o-mini", input="x")
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-right", max_retries=0)
        with pytest.raises(openai.InternalServerError):
            client.embeddings.create(model="text-embedding-3-small", input="x")
        assert client.embeddings.create(model="text-embedding-3-small", input="x").data
        with pytest.raises(openai.BadRequestError, match="X-Mock-Timing"):
            client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x",
                                      extra_headers={"X-Mock-Timing": "ttft=fast"})
        paced = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x",
                                          extra_headers={"X-Mock-Timing": "ttft=1,itl=1"})
        assert paced.choices[0].text
        with pytest.raises(openai.APIConnectionError):
            list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x", stream=True,
                                           extra_headers={"X-Mock-Fault": "cut-after=2"}))
        journal = json.loads(send(server.url, "GET", "/_mock/journal", headers={}).raw)["data"]
        assert [entry["status"] for entry in journal][:3] == [401, 503, 200]
