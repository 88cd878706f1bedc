"""`/v1/completions` through the official client and raw HTTP: the legacy request and reply shapes, echo,
logprobs, best_of, token prompts, streaming, and the real API's refusals."""

from __future__ import annotations

import openai
import pytest
from wire import assert_error, post_raw, validator

from mockserver import MockServer
from mockserver.core.generate.tokenizer import count, encode

INSTRUCT = "gpt-3.5-turbo-instruct"
PROMPT = "Write a tagline for an ice cream shop."


def _client(server: MockServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def _post(server: MockServer, body: dict) -> object:
    import json

    return post_raw(server.url, json.dumps(body).encode(), path="/v1/completions")


def test_plain_completion_has_the_legacy_shape(server: MockServer) -> None:
    reply = _post(server, {"model": INSTRUCT, "prompt": PROMPT})
    assert reply.status == 200
    body = reply.json()
    validator("completion").validate(body)
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    choice = body["choices"][0]
    assert choice["logprobs"] is None and choice["finish_reason"] == "length"
    assert body["usage"]["prompt_tokens"] == count(PROMPT, "cl100k_base")
    assert body["usage"]["completion_tokens"] == 16, "max_tokens defaults to 16"
    assert count(choice["text"], "cl100k_base") == 16


def test_sync_and_async_clients(server: MockServer) -> None:
    client = _client(server)
    first = client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=40, seed=4)
    again = client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=40, seed=4)
    other = client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=40, seed=5)
    assert first.choices[0].text == again.choices[0].text != other.choices[0].text
    shorter = client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=5, seed=4)
    assert first.choices[0].text.startswith(shorter.choices[0].text)
    assert shorter.usage.completion_tokens == 5 and shorter.choices[0].finish_reason == "length"

    async def run() -> str:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as aclient:
            reply = await aclient.completions.create(model="davinci-002", prompt=PROMPT, max_tokens=8)
            return reply.choices[0].text

    import asyncio

    assert asyncio.run(run())


def test_streamed_completion_matches_the_reply(server: MockServer) -> None:
    client = _client(server)
    whole = client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=30, seed=1, n=2)
    chunks = list(client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=30, seed=1, n=2, stream=True,
                                            stream_options={"include_usage": True}))
    for index in (0, 1):
        text = "".join(c.choices[0].text for c in chunks if c.choices and c.choices[0].index == index)
        assert text == whole.choices[index].text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [choice.finish_reason for choice in whole.choices]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == whole.usage.total_tokens
    assert all(c.usage is None for c in chunks[:-1])
    for chunk in chunks:
        validator("completion").validate(chunk.model_dump(exclude_none=False, exclude_unset=True))


def test_echo_and_legacy_logprobs(server: MockServer) -> None:
    reply = _client(server).completions.create(model=INSTRUCT, prompt=PROMPT, echo=True, logprobs=3, max_tokens=6)
    choice = reply.choices[0]
    assert choice.text.startswith(PROMPT)
    logprobs = choice.logprobs
    assert "".join(logprobs.tokens) == choice.text
    assert len(logprobs.tokens) == count(PROMPT, "cl100k_base") + 6
    assert logprobs.token_logprobs[0] is None and logprobs.top_logprobs[0] is None
    assert all(value <= 0 for value in logprobs.token_logprobs[1:])
    assert all(len(top) == 3 for top in logprobs.top_logprobs[1:])
    offsets = [0]
    for token in logprobs.tokens[:-1]:
        offsets.append(offsets[-1] + len(token))
    assert logprobs.text_offset == offsets


def test_logprobs_offsets_count_from_the_prompt(server: MockServer) -> None:
    reply = _client(server).completions.create(model=INSTRUCT, prompt=PROMPT, logprobs=0, max_tokens=4)
    logprobs = reply.choices[0].logprobs
    assert logprobs.text_offset[0] == len(PROMPT)
    assert "".join(logprobs.tokens) == reply.choices[0].text
    assert all(len(top) == 1 for top in logprobs.top_logprobs), "logprobs 0: the sampled token alone"


def test_several_prompts_and_token_prompts(server: MockServer) -> None:
    client = _client(server)
    reply = client.completions.create(model=INSTRUCT, prompt=["One", "Two"], n=2, max_tokens=3)
    assert [choice.index for choice in reply.choices] == [0, 1, 2, 3]
    assert reply.usage.completion_tokens == 12
    as_text = client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=5, echo=True)
    as_tokens = client.completions.create(model=INSTRUCT, prompt=encode(PROMPT, "cl100k_base"), max_tokens=5,
                                          echo=True)
    assert as_tokens.choices[0].text.startswith(PROMPT)
    assert as_tokens.usage.prompt_tokens == as_text.usage.prompt_tokens
    nested = client.completions.create(model=INSTRUCT, prompt=[encode("a", "cl100k_base"), encode("b", "cl100k_base")],
                                       max_tokens=2)
    assert len(nested.choices) == 2


def test_best_of_returns_n_and_bills_every_candidate(server: MockServer) -> None:
    reply = _client(server).completions.create(model=INSTRUCT, prompt=PROMPT, best_of=4, n=2, max_tokens=5)
    assert [choice.index for choice in reply.choices] == [0, 1]
    assert reply.usage.completion_tokens == 20
    assert all(choice.logprobs is None for choice in reply.choices)


def test_stop_cuts_the_same_text(server: MockServer) -> None:
    client = _client(server)
    whole = client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=60, seed=2).choices[0].text
    word = whole.split()[3]
    cut = client.completions.create(model=INSTRUCT, prompt=PROMPT, max_tokens=60, seed=2, stop=[word]).choices[0]
    assert cut.finish_reason == "stop" and whole.startswith(cut.text) and word not in cut.text


@pytest.mark.parametrize(("body", "status", "param", "needle"), [
    ({"model": "gpt-4o-mini", "prompt": "x"}, 404, "model", "This is a chat model"),
    ({"model": INSTRUCT, "prompt": "x", "n": 3, "best_of": 2}, 400, "best_of", "best_of"),
    ({"model": INSTRUCT, "prompt": "x", "best_of": 2, "stream": True}, 400, "stream", "best_of"),
    ({"model": "davinci-002", "prompt": "x", "suffix": "end"}, 400, "suffix", "suffix"),
    ({"model": INSTRUCT, "prompt": "x", "logprobs": 6}, 400, "logprobs", "logprobs"),
    ({"model": INSTRUCT, "prompt": "x", "stream_options": {"include_usage": True}}, 400, "stream_options", "stream"),
    ({"model": INSTRUCT, "prompt": "x", "max_tokens": 5000}, 400, None, "maximum context length is 4096"),
    ({"model": INSTRUCT, "prompt": [1, 2, 999999999]}, 400, "prompt.[2]", "token"),
    ({"model": INSTRUCT, "prompt": "x", "messages": []}, 400, None, "Unrecognized request argument supplied: messages"),
    ({"model": INSTRUCT}, 400, "prompt", "prompt"),
    ({"model": INSTRUCT, "prompt": "x", "max_tokens": 2.0}, 400, "max_tokens", "decimal"),
])
def test_refusals(server: MockServer, body: dict, status: int, param: str | None, needle: str) -> None:
    error = assert_error(_post(server, body), status=status, param=param)
    assert needle in error["message"]


def test_instruct_model_is_not_a_chat_model(server: MockServer) -> None:
    with pytest.raises(openai.NotFoundError, match="not a chat model"):
        _client(server).chat.completions.create(model=INSTRUCT, messages=[{"role": "user", "content": "hi"}])


def test_max_tokens_zero_with_echo_returns_the_prompt(server: MockServer) -> None:
    reply = _client(server).completions.create(model=INSTRUCT, prompt=PROMPT, echo=True, max_tokens=0, logprobs=1)
    assert reply.choices[0].text == PROMPT and reply.usage.completion_tokens == 0
