"""The vLLM compatibility profile: extra parameters accepted, type-checked and honoured; refused under openai."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import jsonschema
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st
from wire import api_post
from wire import ok as checked_ok

from mockserver import Config, MockServer
from mockserver.core.validate.profiles import PROFILES
from mockserver.run.cli import config_from_args

USER = [{"role": "user", "content": "Answer briefly."}]
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
VLLM_EXTRAS = {
    "echo": False, "add_generation_prompt": True, "continue_final_message": False, "add_special_tokens": False,
    "documents": [{"title": "Doc", "text": "Body"}], "chat_template": "{{ messages }}",
    "chat_template_kwargs": {"enable_thinking": False}, "guided_json": {"type": "object"}, "guided_regex": "^a$",
    "guided_choice": ["a"], "guided_grammar": "root ::= \"a\"", "guided_decoding_backend": "outlines",
    "guided_whitespace_pattern": " ", "priority": 0, "request_id": "r-1", "include_reasoning": False,
}
"""The parameters of the seed document (vLLM's chat parameters)."""
VLLM_SAMPLING = {
    "top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1, "min_tokens": 2, "stop_token_ids": [13],
    "ignore_eos": False, "skip_special_tokens": True, "spaces_between_special_tokens": True,
    "include_stop_str_in_output": False, "return_token_ids": False, "bad_words": ["river"],
    "allowed_token_ids": [1, 2, 3], "truncate_prompt_tokens": 4096,
}
"""The sampling parameters vLLM takes beyond OpenAI's, which its server accepts on chat completions."""


def ok(base_url: str, body: dict) -> dict:
    return checked_ok(base_url, body, profile="vllm")


@pytest.fixture(scope="module")
def vllm_url() -> Iterator[str]:
    with MockServer(Config(seed=3, clock=1_700_000_000, profile="vllm")) as running:
        yield running.base_url


def test_every_seed_parameter_is_known_to_the_profile() -> None:
    assert PROFILES["vllm"].parameters == frozenset(VLLM_EXTRAS) | frozenset(VLLM_SAMPLING)


@pytest.mark.parametrize("name", sorted({**VLLM_EXTRAS, **VLLM_SAMPLING}))
def test_openai_profile_refuses_vendor_parameters(base_url: str, name: str) -> None:
    status, reply = api_post(base_url, {"model": "gpt-4o", "messages": USER, name: {**VLLM_EXTRAS, **VLLM_SAMPLING}[name]})
    assert status == 400 and reply["error"]["message"] == f"Unrecognized request argument supplied: {name}"


@pytest.mark.parametrize("name", sorted({**VLLM_EXTRAS, **VLLM_SAMPLING}))
def test_vllm_profile_accepts_each_parameter(vllm_url: str, name: str) -> None:
    ok(vllm_url, {"model": MODEL, "messages": USER, name: {**VLLM_EXTRAS, **VLLM_SAMPLING}[name]})


@pytest.mark.parametrize(("name", "value"), [
    ("echo", "yes"), ("priority", 1.5), ("priority", True), ("guided_choice", []), ("guided_choice", [1]),
    ("documents", [{"title": 1}]), ("chat_template_kwargs", []), ("guided_json", 3), ("request_id", 7),
    ("guided_json", "{not json"), ("guided_json", {"type": "strng"}), ("guided_regex", "(unclosed"),
    ("guided_decoding_backend", "magic"), ("top_k", -2), ("top_k", 1.0), ("min_p", 1.5), ("repetition_penalty", 0),
    ("min_tokens", -1), ("stop_token_ids", [-1]), ("bad_words", "river"), ("allowed_token_ids", []),
    ("truncate_prompt_tokens", 0), ("return_token_ids", "yes"),
])
def test_vllm_profile_type_checks(vllm_url: str, name: str, value: object) -> None:
    status, reply = api_post(vllm_url, {"model": MODEL, "messages": USER, name: value})
    assert status == 400 and reply["error"]["param"].split(".")[0] == name
    assert reply["error"]["type"] == "BadRequestError" and reply["error"]["code"] == 400


@given(choices=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6))
def test_guided_choice_output_is_one_of_the_choices(vllm_url: str, choices: list[str]) -> None:
    reply = ok(vllm_url, {"model": MODEL, "messages": USER, "guided_choice": choices})
    assert reply["choices"][0]["message"]["content"] in choices


@given(pattern=st.sampled_from([r"^\d{3}-[a-z]{2,4}$", "^(yes|no|maybe)$", r"^[A-Z][a-z]+, [A-Z]{2}$",
                                r"^\w+@\w+\.(com|org)$", r"^v\d+\.\d+\.\d+$"]), seed=st.integers(0, 10**6))
def test_guided_regex_output_matches(vllm_url: str, pattern: str, seed: int) -> None:
    reply = ok(vllm_url, {"model": MODEL, "messages": USER, "guided_regex": pattern, "seed": seed})
    assert re.search(pattern, reply["choices"][0]["message"]["content"])


@pytest.mark.parametrize("as_text", [False, True])
def test_guided_json_output_validates(vllm_url: str, as_text: bool) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "number"},
                                               "tags": {"type": "array", "items": {"enum": ["a", "b"]}}},
              "required": ["city", "temp", "tags"]}
    reply = ok(vllm_url, {"model": MODEL, "messages": USER, "guided_json": json.dumps(schema) if as_text else schema})
    jsonschema.validate(json.loads(reply["choices"][0]["message"]["content"]), schema)


def test_only_one_kind_of_guided_decoding(vllm_url: str) -> None:
    status, reply = api_post(vllm_url, {"model": MODEL, "messages": USER, "guided_choice": ["a"], "guided_regex": "a"})
    assert status == 400 and "only use one kind of guided decoding" in reply["error"]["message"]


def test_continue_final_message_and_echo(vllm_url: str) -> None:
    messages = [*USER, {"role": "assistant", "content": "The answer is"}]
    status, reply = api_post(vllm_url, {"model": MODEL, "messages": messages, "continue_final_message": True})
    assert status == 400 and "add_generation_prompt" in reply["error"]["message"]
    body = {"model": MODEL, "messages": messages, "continue_final_message": True, "add_generation_prompt": False}
    continued = ok(vllm_url, body)["choices"][0]["message"]["content"]
    assert continued.startswith(" ") and not continued.startswith(" The answer is")
    echoed = ok(vllm_url, {**body, "echo": True})["choices"][0]["message"]["content"]
    assert echoed == "The answer is" + continued
    status, reply = api_post(vllm_url, {"model": MODEL, "messages": USER, "continue_final_message": True,
                                    "add_generation_prompt": False})
    assert status == 400 and reply["error"]["param"] == "continue_final_message"


def test_documents_count_in_the_prompt(vllm_url: str) -> None:
    plain = ok(vllm_url, {"model": MODEL, "messages": USER})["usage"]["prompt_tokens"]
    documents = [{"title": "Tides", "text": "The moon pulls the oceans twice a day."}]
    assert ok(vllm_url, {"model": MODEL, "messages": USER, "documents": documents})["usage"]["prompt_tokens"] > plain


def test_request_id_names_the_completion(vllm_url: str) -> None:
    reply = ok(vllm_url, {"model": MODEL, "messages": USER, "request_id": "trace-42", "priority": 5})
    assert reply["id"] == "chatcmpl-trace-42"


@pytest.mark.parametrize("asked", [{"include_reasoning": True}, {"chat_template_kwargs": {"enable_thinking": True}}])
def test_reasoning_when_asked(vllm_url: str, asked: dict) -> None:
    plain = ok(vllm_url, {"model": MODEL, "messages": USER})
    assert plain["choices"][0]["message"]["reasoning"] is None
    reply = ok(vllm_url, {"model": MODEL, "messages": USER, **asked})
    message = reply["choices"][0]["message"]
    assert message["reasoning"] and message["content"] and "reasoning_content" not in message
    assert reply["usage"]["completion_tokens"] > plain["usage"]["completion_tokens"] - len(plain["choices"][0]
                                                                                            ["message"]["content"])
    client = openai.OpenAI(base_url=vllm_url, api_key="x", max_retries=0)
    streamed = "".join((chunk.choices[0].delta.model_extra or {}).get("reasoning") or ""
                       for chunk in client.chat.completions.create(model=MODEL, messages=USER, stream=True,
                                                                   extra_body=asked) if chunk.choices)
    assert streamed == message["reasoning"]


def test_reasoning_shares_the_token_limit(vllm_url: str) -> None:
    """A model thinks before it answers, within the same max_tokens: a limit of 10 is 10 tokens in all."""
    for limit in (3, 10, 40):
        reply = ok(vllm_url, {"model": MODEL, "messages": USER, "include_reasoning": True, "max_tokens": limit})
        message = reply["choices"][0]["message"]
        assert reply["usage"]["completion_tokens"] <= limit
        assert reply["choices"][0]["finish_reason"] == "length" or limit == 40
        if limit == 3:
            assert message["content"] is None and message["reasoning"]


def test_cli_profile_flag() -> None:
    assert config_from_args(["--profile", "vllm"]).profile == "vllm"
    assert config_from_args([]).profile == "openai"
    with pytest.raises(SystemExit):
        config_from_args(["--profile", "tgi"])
    with pytest.raises(ValueError):
        Config(profile="tgi")


def _text(reply: dict) -> str:
    return reply["choices"][0]["message"]["content"]


def test_min_tokens_runs_the_reply_on(vllm_url: str) -> None:
    plain = ok(vllm_url, {"model": MODEL, "messages": USER})
    longer = ok(vllm_url, {"model": MODEL, "messages": USER, "min_tokens": plain["usage"]["completion_tokens"] + 30})
    assert _text(longer).startswith(_text(plain)) and len(_text(longer)) > len(_text(plain))
    assert longer["usage"]["completion_tokens"] >= plain["usage"]["completion_tokens"] + 30
    status, reply = api_post(vllm_url, {"model": MODEL, "messages": USER, "min_tokens": 9, "max_tokens": 8})
    assert status == 400 and reply["error"]["param"] == "min_tokens"


def test_ignore_eos_runs_to_the_limit(vllm_url: str) -> None:
    reply = ok(vllm_url, {"model": MODEL, "messages": USER, "ignore_eos": True, "max_tokens": 150})
    assert reply["usage"]["completion_tokens"] == 150 and reply["choices"][0]["finish_reason"] == "length"


def test_stop_strings_report_their_stop_reason(vllm_url: str) -> None:
    plain = _text(ok(vllm_url, {"model": MODEL, "messages": USER}))
    stop = plain.split(" ")[2]
    cut = ok(vllm_url, {"model": MODEL, "messages": USER, "stop": [stop]})
    kept = ok(vllm_url, {"model": MODEL, "messages": USER, "stop": [stop], "include_stop_str_in_output": True})
    assert cut["choices"][0]["stop_reason"] == kept["choices"][0]["stop_reason"] == stop
    assert stop not in _text(cut) and _text(kept) == _text(cut) + stop and plain.startswith(_text(kept))
    assert ok(vllm_url, {"model": MODEL, "messages": USER})["choices"][0]["stop_reason"] is None


def test_stop_token_ids_end_the_reply_on_that_token(vllm_url: str) -> None:
    full = ok(vllm_url, {"model": MODEL, "messages": USER, "return_token_ids": True})["choices"][0]
    target = full["token_ids"][5]
    first = full["token_ids"].index(target)
    choice = ok(vllm_url, {"model": MODEL, "messages": USER, "stop_token_ids": [target], "return_token_ids": True})[
        "choices"][0]
    assert choice["token_ids"] == full["token_ids"][:first + 1]
    assert choice["stop_reason"] == target and choice["finish_reason"] == "stop"


def test_bad_words_are_never_written(vllm_url: str) -> None:
    words = _text(ok(vllm_url, {"model": MODEL, "messages": USER})).rstrip(".!").split(" ")
    banned = sorted({word.lower().strip(".!,") for word in words if len(word) > 4})[:3]
    text = _text(ok(vllm_url, {"model": MODEL, "messages": USER, "bad_words": banned})).lower()
    assert not [word for word in banned if re.search(rf"\b{word}\b", text)]


def test_allowed_token_ids_make_the_whole_reply(vllm_url: str) -> None:
    allowed = [791, 3074, 13]
    choice = ok(vllm_url, {"model": MODEL, "messages": USER, "allowed_token_ids": allowed, "return_token_ids": True})[
        "choices"][0]
    assert choice["token_ids"] and set(choice["token_ids"]) <= set(allowed)
    status, reply = api_post(vllm_url, {"model": MODEL, "messages": USER, "allowed_token_ids": [10**7]})
    assert status == 400 and reply["error"]["param"] == "allowed_token_ids.[0]"


def test_truncate_prompt_tokens_caps_the_prompt(vllm_url: str) -> None:
    long = [{"role": "user", "content": "word " * 200}]
    full = ok(vllm_url, {"model": MODEL, "messages": long})["usage"]["prompt_tokens"]
    capped = ok(vllm_url, {"model": MODEL, "messages": long, "truncate_prompt_tokens": 50, "return_token_ids": True})
    assert full > 50 and capped["usage"]["prompt_tokens"] == len(capped["prompt_token_ids"]) == 50


def test_sampling_extensions_shape_the_text_like_temperature(vllm_url: str) -> None:
    texts = {_text(ok(vllm_url, {"model": MODEL, "messages": USER, **extra}))
             for extra in ({}, {"top_k": 5}, {"min_p": 0.2}, {"repetition_penalty": 1.3})}
    assert len(texts) == 4
    assert _text(ok(vllm_url, {"model": MODEL, "messages": USER, "top_k": 5})) == _text(
        ok(vllm_url, {"model": MODEL, "messages": USER, "top_k": 5}))


def test_models_vllm_does_not_serve_get_its_404(vllm_url: str) -> None:
    status, reply = api_post(vllm_url, {"model": "gpt-4o", "messages": USER})
    assert status == 404 and reply["error"] == {
        "message": "The model `gpt-4o` does not exist or you do not have access to it.", "type": "NotFoundError",
        "param": None, "code": 404}


def test_documents_count_against_the_context_window() -> None:
    documents = [{"title": "Long", "text": "tide " * 400}]
    with MockServer(Config(profile="vllm", context_windows=((MODEL, 300),))) as running:
        assert ok(running.base_url, {"model": MODEL, "messages": USER})
        status, reply = api_post(running.base_url, {"model": MODEL, "messages": USER, "documents": documents})
    assert status == 400 and reply["error"]["message"].startswith("This model's maximum context length is 300")
