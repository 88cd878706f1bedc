"""The official `openai` package, sync and async, against a running mock: replies parse, errors raise."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from mockserver import Config, MockServer

MESSAGES = [{"role": "user", "content": "Write one sentence about rivers."}]
KEY = "sk-test-4f9a2c"


@pytest.fixture(scope="module")
def guarded() -> Iterator[MockServer]:
    """A mock that checks API keys and serves only two models."""
    with MockServer(Config(seed=5, api_keys=(KEY, "sk-other"), models=("gpt-4o-mini", "o3-mini"))) as running:
        yield running


def _client(server: MockServer, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0)


def test_sync_completion(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="anything", max_retries=0)
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=2, seed=3,
                                                logprobs=True, top_logprobs=2)
    assert completion.model == "gpt-4o-mini"
    assert [choice.index for choice in completion.choices] == [0, 1]
    first = completion.choices[0]
    assert first.message.role == "assistant" and first.message.content
    assert first.message.refusal is None
    assert "".join(entry.token for entry in first.logprobs.content) == first.message.content
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert completion.system_fingerprint.startswith("fp_")
    again = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=2, seed=3,
                                           logprobs=True, top_logprobs=2)
    assert [c.message.content for c in again.choices] == [c.message.content for c in completion.choices]


async def test_async_completion(base_url: str) -> None:
    async with openai.AsyncOpenAI(base_url=base_url, api_key="anything", max_retries=0) as client:
        completion = await client.chat.completions.create(model="o3-mini", messages=MESSAGES,
                                                          reasoning_effort="low", max_completion_tokens=500)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens_details.reasoning_tokens > 0


def test_parse_with_json_object(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="anything", max_retries=0)
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Describe a river as a JSON object."}],
        response_format={"type": "json_object"})
    assert completion.choices[0].message.content.startswith("{")


def test_bad_request_error(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="anything", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, top_logprobs=3)
    assert caught.value.status_code == 400
    assert caught.value.param == "top_logprobs"
    assert caught.value.body["type"] == "invalid_request_error"


def test_unknown_argument_through_extra_body(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="anything", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: foo"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, extra_body={"foo": 1})


async def test_async_bad_request_error(base_url: str) -> None:
    async with openai.AsyncOpenAI(base_url=base_url, api_key="anything", max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert caught.value.code == "empty_array"


@pytest.mark.parametrize("key", ["sk-wrong-key-123", KEY[:-1], KEY.upper()])
def test_authentication_error(guarded: MockServer, key: str) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _client(guarded, key).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert caught.value.body["type"] == "invalid_request_error"


async def test_async_authentication_error(guarded: MockServer) -> None:
    async with openai.AsyncOpenAI(base_url=guarded.base_url, api_key="nope", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()


def test_every_listed_key_is_accepted(guarded: MockServer) -> None:
    for key in (KEY, "sk-other"):
        assert _client(guarded, key).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices


def test_not_found_for_a_model_outside_the_list(guarded: MockServer) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        _client(guarded).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.code == "model_not_found"
    assert "gpt-4o" in caught.value.message


def test_models_list_and_retrieve(guarded: MockServer) -> None:
    client = _client(guarded)
    assert [model.id for model in client.models.list()] == ["gpt-4o-mini", "o3-mini"]
    assert client.models.retrieve("o3-mini").id == "o3-mini"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-4o")
    assert caught.value.code == "model_not_found"


async def test_async_models_retrieve_not_found(guarded: MockServer) -> None:
    async with openai.AsyncOpenAI(base_url=guarded.base_url, api_key=KEY, max_retries=0) as client:
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("gpt-3.5-turbo")
        assert (await client.models.retrieve("gpt-4o-mini")).owned_by == "system"


def test_unrestricted_models_list_has_the_built_in_table(base_url: str) -> None:
    client = openai.OpenAI(base_url=base_url, api_key="anything", max_retries=0)
    ids = {model.id for model in client.models.list()}
    assert {"gpt-4o", "o3-mini", "gpt-4.1"} <= ids
