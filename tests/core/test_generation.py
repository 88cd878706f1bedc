"""What a reply says, checked through HTTP: choices, limits, stops, logprobs, usage and the echoed fields."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from typing import Any

import pytest
from bodies import bodies
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import PLAIN, assert_completion, events, post

from mockserver import Config, MockServer
from mockserver.contract import FINISH_LENGTH, FINISH_STOP, model_info
from mockserver.core.generate import tokenizer
from mockserver.core.generate.tokenizer import encode, encoding_of, prompt_tokens, tokenize

REASONING_MODELS = st.sampled_from(["o1", "o3-mini", "o4-mini", "gpt-5", "gpt-5-nano"])


def _reply(server: MockServer, body: dict[str, Any]) -> dict[str, Any]:
    return assert_completion(post(server.url, body))


def _tokens(text: str, model: str = PLAIN["model"]) -> list[str]:
    return tokenize(text, encoding_of(model))


def _id(token: str, model: str = PLAIN["model"]) -> int:
    [token_id] = encode(token, encoding_of(model))
    return token_id


@settings(max_examples=30)
@given(body=bodies(), n=st.integers(1, 5))
def test_n_distinct_choices_indexed_in_order(server: MockServer, body: dict[str, Any], n: int) -> None:
    reply = _reply(server, {**body, "n": n})
    assert [choice["index"] for choice in reply["choices"]] == list(range(n))
    contents = [choice["message"]["content"] for choice in reply["choices"]]
    if "max_tokens" not in body and "stop" not in body:
        assert len(set(contents)) == n


@settings(max_examples=30)
@given(body=bodies(limiting=False), limit=st.integers(1, 70), name=st.sampled_from(["max_tokens",
                                                                                    "max_completion_tokens"]))
def test_token_limit_keeps_the_first_tokens_of_the_unlimited_reply(server: MockServer, body: dict[str, Any],
                                                                   limit: int, name: str) -> None:
    """A real model samples the same tokens whatever the limit; the limit only stops it: the reply is the
    unlimited reply's first `limit` tokens, and usage counts exactly those."""
    unlimited = _reply(server, body)
    reply = _reply(server, {**body, name: limit})
    spent = 0
    for whole, choice in zip(unlimited["choices"], reply["choices"], strict=True):
        tokens = _tokens(whole["message"]["content"], body["model"])
        if len(tokens) > limit:
            assert choice["finish_reason"] == FINISH_LENGTH
            assert choice["message"]["content"] == "".join(tokens[:limit])
        else:
            assert choice["finish_reason"] == FINISH_STOP
            assert choice["message"]["content"] == whole["message"]["content"]
        spent += min(limit, len(tokens))
    assert reply["usage"]["completion_tokens"] == spent
    if limit < 16 and body.get("response_format", {}).get("type") != "json_object":
        assert {choice["finish_reason"] for choice in reply["choices"]} == {FINISH_LENGTH}


def test_natural_length_ends_with_stop(server: MockServer) -> None:
    reply = _reply(server, {**PLAIN, "n": 4})
    assert {choice["finish_reason"] for choice in reply["choices"]} == {FINISH_STOP}


@settings(max_examples=25)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 3), ban=st.sampled_from([None, " the", " a", "."]))
def test_a_reply_that_stops_by_itself_ends_a_sentence(server: MockServer, seed: int, n: int, ban: str | None) -> None:
    """Only `max_tokens` may leave a sentence open; prose that ends with finish_reason "stop" is finished."""
    body = {**PLAIN, "seed": seed, "n": n}
    if ban is not None:
        body["logit_bias"] = {str(_id(ban)): -100}
    for choice in _reply(server, body)["choices"]:
        assert choice["finish_reason"] == FINISH_STOP
        assert choice["message"]["content"][-1] in ".!", choice["message"]["content"]


@settings(max_examples=30)
@given(body=bodies(limiting=False), stop=st.sampled_from(["e", " the", ".", "an", ["o", "s"], [" a", ","]])
       | st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=4))
def test_stop_sequences_never_appear(server: MockServer, body: dict[str, Any], stop: str | list[str]) -> None:
    reply = _reply(server, {**body, "stop": stop})
    for choice in reply["choices"]:
        for sequence in [stop] if isinstance(stop, str) else stop:
            assert sequence not in choice["message"]["content"]


def test_a_stop_sequence_cuts_the_text_short(server: MockServer) -> None:
    reply = _reply(server, {**PLAIN, "n": 3, "stop": [".", "!"]})
    for choice in reply["choices"]:
        assert choice["finish_reason"] == FINISH_STOP
        assert "." not in choice["message"]["content"] and "!" not in choice["message"]["content"]
        assert len(_tokens(choice["message"]["content"])) < 16


@settings(max_examples=30)
@given(body=bodies(logprobs=False), top=st.integers(0, 20))
def test_logprobs_describe_the_text(server: MockServer, body: dict[str, Any], top: int) -> None:
    reply = _reply(server, {**body, "logprobs": True, "top_logprobs": top})
    for choice in reply["choices"]:
        logprobs = choice["logprobs"]
        assert logprobs["refusal"] is None
        entries = logprobs["content"]
        joined = b"".join(bytes(entry["bytes"]) for entry in entries)
        assert joined.decode("utf-8", "ignore") == choice["message"]["content"]
        for entry in entries:
            assert entry["logprob"] <= 0
            assert entry["token"] == bytes(entry["bytes"]).decode("utf-8", "replace")
            alternatives = entry["top_logprobs"]
            assert len(alternatives) == top
            values = [alt["logprob"] for alt in alternatives]
            assert values == sorted(values, reverse=True)
            assert all(value <= 0 for value in values)
            assert len({alt["token"] for alt in alternatives}) == top
            if top:
                assert {"token": entry["token"], "logprob": entry["logprob"], "bytes": entry["bytes"]} in alternatives


def test_logprobs_without_top_logprobs(server: MockServer) -> None:
    reply = _reply(server, {**PLAIN, "logprobs": True})
    assert all(entry["top_logprobs"] == [] for entry in reply["choices"][0]["logprobs"]["content"])


@settings(max_examples=20)
@given(body=bodies(logprobs=False))
def test_logprobs_are_null_unless_requested(server: MockServer, body: dict[str, Any]) -> None:
    for fields in ({}, {"logprobs": False}):
        reply = _reply(server, {**body, **fields})
        assert all(choice["logprobs"] is None for choice in reply["choices"])


@settings(max_examples=30)
@given(body=bodies())
def test_usage_adds_up(server: MockServer, body: dict[str, Any]) -> None:
    reply = _reply(server, body)
    usage = reply["usage"]
    assert usage["prompt_tokens"] == prompt_tokens(body)
    visible = sum(body["max_tokens"] if choice["finish_reason"] == FINISH_LENGTH
                  else len(_tokens(choice["message"]["content"], body["model"])) for choice in reply["choices"])
    billed = usage["completion_tokens"] - usage["completion_tokens_details"]["reasoning_tokens"]
    if "stop" in body:
        # The stop sequence the model wrote is billed too (test_sampling_semantics.py); a stop sequence can
        # also end inside a token, whose kept part may re-encode as one token more than the model wrote.
        stopped = sum(choice["finish_reason"] == FINISH_STOP for choice in reply["choices"])
        assert billed >= visible - stopped
    else:
        assert billed == visible
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0, "audio_tokens": 0}
    assert set(usage["completion_tokens_details"]) == {"reasoning_tokens", "audio_tokens",
                                                       "accepted_prediction_tokens", "rejected_prediction_tokens"}


def test_prompt_tokens_grow_with_the_prompt(server: MockServer) -> None:
    short = _reply(server, PLAIN)["usage"]["prompt_tokens"]
    longer = _reply(server, {**PLAIN, "messages": [{"role": "user", "content": "Say something. " * 10}]})
    assert longer["usage"]["prompt_tokens"] > short


def test_chat_models_spend_no_reasoning_tokens(server: MockServer) -> None:
    assert _reply(server, PLAIN)["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


@settings(max_examples=20)
@given(body=bodies(model=REASONING_MODELS, limiting=False, logprobs=False))
def test_reasoning_tokens_scale_with_effort(server: MockServer, body: dict[str, Any]) -> None:
    body = {k: v for k, v in body.items() if k != "temperature"}
    spent = {}
    for effort in ("minimal", "low", "medium", "high"):
        usage = _reply(server, {**body, "reasoning_effort": effort})["usage"]
        spent[effort] = usage["completion_tokens_details"]["reasoning_tokens"]
        assert usage["completion_tokens"] > spent[effort]
    assert spent["minimal"] < spent["low"] < spent["medium"] < spent["high"]
    assert model_info(body["model"]).reasoning


def test_reasoning_counts_against_max_completion_tokens(server: MockServer) -> None:
    reply = _reply(server, {**PLAIN, "model": "o3-mini", "reasoning_effort": "high", "max_completion_tokens": 100})
    assert reply["usage"]["completion_tokens"] == 100
    assert reply["choices"][0]["finish_reason"] == FINISH_LENGTH
    assert reply["usage"]["completion_tokens_details"]["reasoning_tokens"] == 100
    assert reply["choices"][0]["message"]["content"] == ""


@settings(max_examples=20)
@given(body=bodies(limiting=False, logprobs=False), pick=st.integers(0, 1000))
def test_logit_bias_minus_100_bans_a_token(server: MockServer, body: dict[str, Any], pick: int) -> None:
    body = {k: v for k, v in body.items() if k != "response_format"}
    words = Counter(token for choice in _reply(server, body)["choices"]
                    for token in _tokens(choice["message"]["content"], body["model"]))
    banned = sorted(words)[pick % len(words)]
    biased = _reply(server, {**body, "logit_bias": {str(_id(banned, body["model"])): -100}})
    for choice in biased["choices"]:
        assert banned not in _tokens(choice["message"]["content"], body["model"])


@pytest.mark.parametrize(("model", "token_id", "text"), [("gpt-4o-mini", 13225, "Hello"), ("gpt-4", 9906, "Hello"),
                                                        ("gpt-4o", 13727, " garden")])
def test_logit_bias_plus_100_forces_a_real_token_id(server: MockServer, model: str, token_id: int, text: str) -> None:
    """The ids every tokenizer guide prints: 13225 is "Hello" in o200k_base, 9906 in cl100k_base."""
    reply = _reply(server, {**PLAIN, "model": model, "logit_bias": {str(token_id): 100}, "max_tokens": 5})
    assert reply["choices"][0]["message"]["content"] == text * 5


@settings(max_examples=20)
@given(body=bodies(logprobs=False, limiting=False))
def test_json_object_mode_returns_an_object(server: MockServer, body: dict[str, Any]) -> None:
    reply = _reply(server, {**body, "response_format": {"type": "json_object"}})
    for choice in reply["choices"]:
        assert isinstance(json.loads(choice["message"]["content"]), dict)


def test_text_reads_like_prose(server: MockServer) -> None:
    content = _reply(server, PLAIN)["choices"][0]["message"]["content"]
    sentence = r"[A-Z][a-z]*( [a-z]+)+"
    assert re.fullmatch(rf"{sentence}[.!]( {sentence}[.!])*( [A-Z][a-z]*( [a-z]+)*)?", content), content
    assert "mock" not in content.lower()


def test_system_fingerprint_comes_from_the_server_seed() -> None:
    fingerprints = {}
    for seed in (1, 1, 2):
        with MockServer(Config(seed=seed)) as running:
            first = _reply(running, PLAIN)["system_fingerprint"]
            other = _reply(running, {**PLAIN, "seed": 99, "model": "gpt-4.1"})["system_fingerprint"]
            assert first == other
            assert re.fullmatch(r"fp_[0-9a-f]{10}", first)
            fingerprints.setdefault(seed, set()).add(first)
    assert len(fingerprints[1]) == 1
    assert fingerprints[1] != fingerprints[2]


@pytest.mark.parametrize(("tier", "served"), [("auto", "default"), ("default", "default"), ("flex", "flex"),
                                              ("scale", "scale"), ("priority", "priority"), ("fast", "priority")])
def test_service_tier_names_the_tier_that_served(server: MockServer, tier: str, served: str) -> None:
    """As the API description says: `auto` runs on the project's default tier and `fast` reports
    `priority`; the streamed chunks say the same."""
    assert _reply(server, {**PLAIN, "service_tier": tier})["service_tier"] == served
    chunks = events(post(server.url, {**PLAIN, "service_tier": tier, "stream": True}).raw)[:-1]
    assert {chunk["service_tier"] for chunk in chunks} == {served}


def test_service_tier_defaults(server: MockServer) -> None:
    assert _reply(server, PLAIN)["service_tier"] == "default"


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-2024-08-06", "o3-mini", "ft:gpt-4o-mini:acme::abc123"])
def test_model_is_echoed(server: MockServer, model: str) -> None:
    assert _reply(server, {**PLAIN, "model": model})["model"] == model


@settings(max_examples=20)
@given(body=bodies())
def test_message_shape(server: MockServer, body: dict[str, Any]) -> None:
    reply = _reply(server, body)
    assert reply["object"] == "chat.completion"
    assert re.fullmatch(r"chatcmpl-[A-Za-z0-9]{29}", reply["id"])
    for choice in reply["choices"]:
        message = choice["message"]
        assert message["role"] == "assistant"
        assert isinstance(message["content"], str)
        assert message["refusal"] is None


def test_long_texts_are_counted_in_parts_exactly() -> None:
    """Counting a long prompt holds no list of all its tokens, and counts what encoding it would."""
    rng = random.Random(5)
    pieces = ["hello", " world", ",", "  ", "\n", "123456", " x", "é", "don't", "_a", "!!", " Zürich"]
    text = "".join(rng.choice(pieces) for _ in range(60_000))
    assert len(text) > 4 * tokenizer._CALL_CHARACTERS
    assert tokenizer.count(text, "o200k_base") == len(tokenizer.encode(text, "o200k_base"))
