"""The vllm profile against replies of a real vLLM 0.32 server (`../shared/reference/vllm-samples/`): the
same fields at every level of a reply, and the same stream layout (the finish reason on the last content
chunk, no empty finish chunk, vLLM's fields on the role, content and usage chunks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wire import Reply, events, post, validator

from mockserver import Config, MockServer

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
USER = [{"role": "user", "content": "hello"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "maxLength": 8}}, "required": ["city"]}}}]


@pytest.fixture(scope="module")
def samples(reference: Path) -> Path:
    folder = reference / "vllm-samples"
    if not folder.is_dir():
        pytest.skip("../shared/reference/vllm-samples is not present")
    return folder


@pytest.fixture(scope="module")
def vllm_url() -> Iterator[str]:
    with MockServer(Config(seed=5, clock=1_700_000_000, profile="vllm")) as running:
        yield running.url


def _shape(reply: dict[str, Any]) -> dict[str, set[str]]:
    """The field names at each level of a chat completion."""
    choice = reply["choices"][0]
    return {"top": set(reply), "choice": set(choice), "message": set(choice["message"]), "usage": set(reply["usage"])}


def _post(url: str, body: dict[str, Any]) -> Reply:
    reply = post(url, body)
    assert reply.status == 200, reply.raw
    return reply


def test_a_reply_has_the_fields_of_vllms(samples: Path, vllm_url: str) -> None:
    sample = json.loads((samples / "vllm-nonstream.json").read_text())
    reply = _post(vllm_url, {"model": MODEL, "messages": USER, "max_tokens": 8, "temperature": 0}).json()
    assert _shape(reply) == _shape(sample)
    assert reply["choices"][0]["finish_reason"] == sample["choices"][0]["finish_reason"] == "length"
    assert reply["usage"]["completion_tokens"] == 8
    for level, nulls in (("top", ("service_tier", "prompt_token_ids", "metrics")),
                         ("choice", ("stop_reason", "token_ids")), ("message", ("annotations", "reasoning"))):
        for name in nulls:
            held = reply if level == "top" else reply["choices"][0] if level == "choice" else reply["choices"][0]["message"]
            assert held[name] is None, (level, name)
    assert reply["system_fingerprint"].startswith("vllm-0.32.0-")
    validator("chat_completion", "vllm").validate(reply)


def test_a_tool_choice_reply_has_the_fields_of_vllms(samples: Path, vllm_url: str) -> None:
    """The recorded server (a random model without a tool parser) wrote the call as text; the mock calls
    the tool, so its message has `tool_calls` besides every field vLLM's has."""
    sample = json.loads((samples / "vllm-tools-named.json").read_text())
    reply = _post(vllm_url, {"model": MODEL, "messages": [{"role": "user", "content": "weather in Paris?"}],
                             "tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                             "max_tokens": 40}).json()
    mine, theirs = _shape(reply), _shape(sample)
    assert {level: mine[level] for level in ("top", "choice", "usage")} == \
        {level: theirs[level] for level in ("top", "choice", "usage")}
    assert mine["message"] == theirs["message"] | {"tool_calls"}


def test_a_stream_is_laid_out_like_vllms(samples: Path, vllm_url: str) -> None:
    theirs = events((samples / "vllm-stream.txt").read_bytes())
    mine = events(_post(vllm_url, {"model": MODEL, "messages": USER, "max_tokens": 3, "temperature": 0, "stream": True,
                                   "stream_options": {"include_usage": True}}).raw)
    assert len(mine) == len(theirs) and mine[-1] == theirs[-1] == "[DONE]"

    def layout(chunks: list[Any]) -> list[tuple[Any, ...]]:
        return [(frozenset(chunk), *((frozenset(chunk["choices"][0]), frozenset(chunk["choices"][0]["delta"]),
                                      chunk["choices"][0]["finish_reason"]) if chunk["choices"] else
                                     (frozenset(chunk["usage"]),)))
                for chunk in chunks[:-1]]

    assert layout(mine) == layout(theirs)
    for chunk in mine[:-1]:
        validator("chat_completion_chunk", "vllm").validate(chunk)


def test_token_ids_when_asked(vllm_url: str) -> None:
    """`return_token_ids` fills `prompt_token_ids` (as many as the prompt is billed) and each choice's
    `token_ids` (its tokens), streamed too."""
    body = {"model": MODEL, "messages": USER, "max_tokens": 12, "return_token_ids": True}
    reply = _post(vllm_url, body).json()
    assert len(reply["prompt_token_ids"]) == reply["usage"]["prompt_tokens"]
    assert len(reply["choices"][0]["token_ids"]) == reply["usage"]["completion_tokens"] == 12
    chunks = events(_post(vllm_url, {**body, "stream": True}).raw)[:-1]
    assert chunks[0]["prompt_token_ids"] == reply["prompt_token_ids"]
    assert [i for chunk in chunks[1:] for i in chunk["choices"][0]["token_ids"]] == reply["choices"][0]["token_ids"]
