"""A real model with a fixed seed samples the same tokens whatever the stopping criteria or reporting options.

What a choice generates depends only on what shapes sampling (messages, model, seed, temperature, top_p,
penalties, logit_bias, tools, tool_choice, parallel_tool_calls, response_format, modalities,
reasoning_effort), never on `max_tokens`, `max_completion_tokens`, `stop`, `n`, `logprobs`, `top_logprobs`,
`stream`, `stream_options` or `prediction`. So a limit keeps the first k tokens of the unlimited reply, a stop
sequence cuts that same reply just before it, choice i is the same text for any n > i, and logprobs leave the
text alone. (`test_generation.py` has the limit's own property over text replies.)
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from bodies import bodies
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import assert_completion, post

from mockserver import MockServer
from mockserver.core.generate.tokenizer import encoding_of, tokenize

SAMPLED = bodies(limiting=False, logprobs=False)
TOOLS = [{"type": "function", "function": {"name": name, "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"]}}} for name in ("get_weather", "get_forecast", "book_trip")]


def _reply(server: MockServer, body: dict[str, Any]) -> dict[str, Any]:
    return assert_completion(post(server.url, body))


def _texts(reply: dict[str, Any]) -> list[str]:
    return [choice["message"]["content"] for choice in reply["choices"]]


def _stopped(text: str, tokens: list[str], stops: list[str], limit: int | None) -> tuple[str, str, int]:
    """What the model returns when it writes `tokens` (the unlimited reply) under these criteria: it stops at
    the first token that completes a stop sequence, if that comes within the limit, and the text is cut
    before the earliest stop sequence written by then; else the limit cuts. Content, finish reason and the
    tokens written."""
    found = [(text.find(stop), text.find(stop) + len(stop)) for stop in stops if stop in text]
    if found:
        first_end = min(end for _, end in found)
        ends = list(itertools.accumulate(len(token) for token in tokens))
        written = next(i for i, end in enumerate(ends) if end >= first_end) + 1
        if limit is None or written <= limit:
            return text[:min(start for start, end in found if end <= ends[written - 1])], "stop", written
    if limit is not None and len(tokens) > limit:
        return "".join(tokens[:limit]), "length", limit
    return text, "stop", len(tokens)


@settings(max_examples=25)
@given(body=SAMPLED, data=st.data())
def test_a_stop_sequence_cuts_the_same_reply_just_before_it(server: MockServer, body: dict[str, Any],
                                                            data: st.DataObject) -> None:
    whole = _texts(_reply(server, body))
    picked = []
    for _ in range(data.draw(st.integers(1, 4), label="stops")):
        text = whole[data.draw(st.integers(0, len(whole) - 1), label="choice")]
        start = data.draw(st.integers(0, max(0, len(text) - 1)), label="start")
        picked.append(text[start:start + data.draw(st.integers(1, 6), label="length")] or "x")
    stops = data.draw(st.sampled_from([picked, picked[:1]]), label="form")
    reply = _reply(server, {**body, "stop": stops[0] if len(stops) == 1 else stops})
    written = 0
    for text, choice in zip(whole, reply["choices"], strict=True):
        content, finish, spent = _stopped(text, tokenize(text, encoding_of(body["model"])), stops, None)
        assert (choice["message"]["content"], choice["finish_reason"]) == (content, finish)
        assert not any(stop in content for stop in stops)
        written += spent
    assert reply["usage"]["completion_tokens"] == written


@settings(max_examples=25)
@given(body=SAMPLED, counts=st.lists(st.integers(1, 5), min_size=2, max_size=3))
def test_choice_i_is_the_same_text_for_any_n(server: MockServer, body: dict[str, Any], counts: list[int]) -> None:
    replies = [_texts(_reply(server, {**body, "n": n})) for n in counts]
    for texts in replies:
        for other in replies:
            shared = min(len(texts), len(other))
            assert texts[:shared] == other[:shared]


@settings(max_examples=25)
@given(body=SAMPLED, top=st.none() | st.integers(0, 20))
def test_logprobs_leave_the_text_alone(server: MockServer, body: dict[str, Any], top: int | None) -> None:
    asked = {"logprobs": True} if top is None else {"logprobs": True, "top_logprobs": top}
    plain = _reply(server, body)
    described = _reply(server, {**body, **asked})
    assert _texts(described) == _texts(plain)
    assert described["usage"] == plain["usage"]


def _streamed(server: MockServer, body: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
    raw = post(server.url, body).raw.decode()
    texts: dict[int, str] = {}
    usage = None
    for line in raw.splitlines():
        if line.startswith("data: {"):
            chunk = json.loads(line[len("data: "):])
            usage = chunk.get("usage") or usage
            for part in chunk["choices"]:
                texts[part["index"]] = texts.get(part["index"], "") + (part["delta"].get("content") or "")
    return [texts[index] for index in sorted(texts)], usage


@settings(max_examples=20)
@given(body=SAMPLED, options=st.fixed_dictionaries({}, optional={
    "include_usage": st.booleans(), "include_obfuscation": st.booleans()}))
def test_streaming_leaves_the_text_alone(server: MockServer, body: dict[str, Any], options: dict[str, Any]) -> None:
    plain = _reply(server, body)
    texts, usage = _streamed(server, {**body, "stream": True, "stream_options": options})
    assert texts == _texts(plain)
    if options.get("include_usage"):
        assert usage == plain["usage"]


@settings(max_examples=25)
@given(body=SAMPLED, limit=st.integers(1, 60), n=st.integers(1, 3), stop=st.sampled_from([None, ".", " the", "e"]),
       logprobs=st.booleans())
def test_all_stopping_criteria_at_once_cut_the_same_replies(server: MockServer, body: dict[str, Any], limit: int,
                                                            n: int, stop: str | None, logprobs: bool) -> None:
    """The limit and the stop sequence both cut the unlimited reply; whichever comes first wins."""
    whole = _texts(_reply(server, {**body, "n": n}))
    asked = {"n": n, "max_tokens": limit, "logprobs": logprobs, **({"stop": stop} if stop else {})}
    reply = _reply(server, {**body, **asked})
    written = 0
    for text, choice in zip(whole, reply["choices"], strict=True):
        tokens = tokenize(text, encoding_of(body["model"]))
        content, finish, spent = _stopped(text, tokens, [stop] if stop else [], limit)
        assert (choice["message"]["content"], choice["finish_reason"]) == (content, finish)
        written += spent
    assert reply["usage"]["completion_tokens"] == written


@settings(max_examples=20)
@given(limit=st.integers(1, 80), seed=st.integers(0, 2**31), parallel=st.booleans())
def test_a_limit_keeps_a_prefix_of_the_unlimited_tool_calls(server: MockServer, limit: int, seed: int,
                                                            parallel: bool) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Plan my trip."}], "tools": TOOLS,
            "tool_choice": "required", "seed": seed, "parallel_tool_calls": parallel}
    whole = _reply(server, body)["choices"][0]["message"]["tool_calls"]
    reply = _reply(server, {**body, "max_tokens": limit})
    cut = reply["choices"][0]["message"]["tool_calls"]
    assert 1 <= len(cut) <= len(whole)
    for kept, full in zip(cut, whole):
        assert kept["id"] == full["id"] and kept["function"]["name"] == full["function"]["name"]
        assert full["function"]["arguments"].startswith(kept["function"]["arguments"])
    assert cut[:-1] == whole[:len(cut) - 1]
    if reply["choices"][0]["finish_reason"] == "length":
        assert reply["usage"]["completion_tokens"] == limit
    else:
        assert cut == whole
