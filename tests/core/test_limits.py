"""Model limits from the model table, with the real API's verdicts and wording.

Wording used (the API's current answers, as users report them from gpt-4o and gpt-4 in 2024-2025):
- `max_tokens is too large: 20480. This model supports at most 16384 completion tokens, whereas you provided
  20480.` with `param: "max_tokens"`, `code: "invalid_value"` (and the same for `max_completion_tokens`);
- `This model's maximum context length is 8192 tokens. However, you requested 8256 tokens (64 in the messages,
  8192 in the completion). Please reduce the length of the messages or completion.` with `param: "messages"`,
  `code: "context_length_exceeded"`, or `... However, your messages resulted in N tokens. Please reduce the
  length of the messages.` when the request names no completion size.

The long inputs are the ones measured against the real API and o200k_base: the mock must reach the same
verdict, with the real token count.
"""

from __future__ import annotations

from typing import Any

import pytest
from billing import count
from faker import Faker
from wire import assert_completion, assert_error, post

from mockserver import MockServer
from mockserver.contract import model_info
from mockserver.core.generate.tokenizer import REPLY_PRIMING, TOKENS_PER_MESSAGE


def _user(text: str, model: str = "gpt-4o", **fields: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **fields}


def _real_prompt(text: str, model: str) -> int:
    """One user message as the API bills it, counted with bpe-openai directly."""
    return TOKENS_PER_MESSAGE + count("user", model) + count(text, model) + REPLY_PRIMING


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-mini", "gpt-4", "gpt-3.5-turbo"])
@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens"])
def test_a_limit_above_the_models_output_cap_is_refused(server: MockServer, model: str, name: str) -> None:
    cap = model_info(model).max_output_tokens
    error = assert_error(post(server.url, _user("Hi", model, **{name: cap + 3616})), 400, param=name,
                         code="invalid_value")
    assert error["message"] == (f"{name} is too large: {cap + 3616}. This model supports at most {cap} completion "
                                f"tokens, whereas you provided {cap + 3616}.")


def test_gpt_4o_refuses_max_tokens_20000(server: MockServer) -> None:
    assert model_info("gpt-4o").max_output_tokens < 20000
    assert_error(post(server.url, _user("Hi", max_tokens=20000)), 400, param="max_tokens", code="invalid_value")


@pytest.mark.parametrize("model", ["gpt-4o", "o3-mini", "gpt-5"])
def test_the_output_cap_itself_is_accepted(server: MockServer, model: str) -> None:
    reply = assert_completion(post(server.url, _user("Hi", model, max_completion_tokens=model_info(model)
                                                      .max_output_tokens)))
    assert reply["choices"][0]["finish_reason"] == "stop"


def test_prompt_and_requested_completion_share_the_window(server: MockServer) -> None:
    """gpt-4's window is 8192 tokens and so is its output cap: a short prompt with the full cap overflows."""
    window = model_info("gpt-4").context_window
    prompt = _real_prompt("Hello", "gpt-4")
    error = assert_error(post(server.url, _user("Hello", "gpt-4", max_tokens=window)), 400, param="messages",
                         code="context_length_exceeded")
    assert error["message"] == (f"This model's maximum context length is {window} tokens. However, you requested "
                                f"{prompt + window} tokens ({prompt} in the messages, {window} in the completion). "
                                "Please reduce the length of the messages or completion.")
    fits = assert_completion(post(server.url, _user("Hello", "gpt-4", max_tokens=window - prompt)))
    assert fits["usage"]["prompt_tokens"] == prompt


def _varied_english(words: int) -> str:
    faker = Faker("en_US")
    faker.seed_instance(0)
    drawn: list[str] = []
    while len(drawn) < words:
        drawn += faker.paragraph(nb_sentences=8).split()
    return " ".join(drawn[:words])


LONG_INPUTS = {
    "a * 1,100,000": "a" * 1_100_000,
    "' 123' * 70,000": " 123" * 70_000,
    "\"it's \" * 70,000": "it's " * 70_000,
    "120k varied English words": _varied_english(120_000),
}
# What the real API bills for the first three (measured: o200k_base plus one message's framing).
MEASURED = {"a * 1,100,000": 137_507, "' 123' * 70,000": 140_007, "\"it's \" * 70,000": 70_008}


@pytest.mark.parametrize("label", list(LONG_INPUTS))
def test_long_inputs_get_the_real_verdict(server: MockServer, label: str) -> None:
    text = LONG_INPUTS[label]
    real = _real_prompt(text, "gpt-4o")
    assert real == MEASURED.get(label, real)
    window = model_info("gpt-4o").context_window
    reply = post(server.url, _user(text, max_tokens=1))
    if real + 1 > window:
        error = assert_error(reply, 400, param="messages", code="context_length_exceeded")
        assert f"you requested {real + 1} tokens ({real} in the messages, 1 in the completion)" in error["message"]
        bare = assert_error(post(server.url, _user(text)), 400, param="messages", code="context_length_exceeded")
        assert f"your messages resulted in {real} tokens" in bare["message"]
    else:
        assert assert_completion(reply)["usage"]["prompt_tokens"] == real


def test_the_long_inputs_cover_both_verdicts() -> None:
    window = model_info("gpt-4o").context_window
    verdicts = {_real_prompt(text, "gpt-4o") > window for text in LONG_INPUTS.values()}
    assert verdicts == {True, False}


@pytest.mark.parametrize("label", list(LONG_INPUTS))
def test_a_million_token_window_takes_them_all(server: MockServer, label: str) -> None:
    """gpt-4.1 reads up to a million tokens: each long input is accepted and billed at its real count."""
    text = LONG_INPUTS[label]
    reply = assert_completion(post(server.url, _user(text, "gpt-4.1", max_tokens=1)))
    assert reply["usage"]["prompt_tokens"] == _real_prompt(text, "gpt-4.1")
