"""The chunk layout as a pure function of the plan: every kind of choice, checked against the chunk schema."""

from __future__ import annotations

import base64
import functools
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mockserver.contract import schema
from mockserver.contract.sse import DONE_EVENT, encode_event
from mockserver.core.generate.planner import Context, plan_completion
from mockserver.core.plan import ChoicePlan, CompletionPlan, ToolCallPlan
from mockserver.core.render.body import completion_body
from mockserver.core.render.stream import StreamOptions, stream_chunks, stream_events


@functools.cache
def _chunk_validator() -> Draft202012Validator:
    return Draft202012Validator(schema("chat_completion_chunk"))


def _plan(*choices: ChoicePlan, usage: dict[str, Any] | None = None) -> CompletionPlan:
    return CompletionPlan(id="chatcmpl-test", created=1, model="gpt-4o", system_fingerprint="fp_test",
                          service_tier="default", choices=choices,
                          usage=usage or {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})


def _deltas(chunks: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    return [c["choices"][0]["delta"] for c in chunks if c["choices"] and c["choices"][0]["index"] == index]


def _valid(chunks: list[dict[str, Any]]) -> None:
    for chunk in chunks:
        _chunk_validator().validate(chunk)


def test_text_choice_layout() -> None:
    chunks = stream_chunks(_plan(ChoicePlan(0, "stop", content_tokens=("Hel", "lo", "!"))), StreamOptions())
    _valid(chunks)
    assert _deltas(chunks, 0) == [{"role": "assistant", "content": "", "refusal": None},
                                  {"content": "Hel"}, {"content": "lo"}, {"content": "!"}, {}]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, None, "stop"]
    assert all("usage" not in c for c in chunks)
    assert {c["id"] for c in chunks} == {"chatcmpl-test"}


def test_refusal_streams_through_refusal_deltas() -> None:
    logprobs = tuple({"token": t, "logprob": -0.1, "bytes": list(t.encode()), "top_logprobs": []}
                     for t in ("No", "."))
    chunks = stream_chunks(_plan(ChoicePlan(0, "stop", refusal_tokens=("No", "."), logprobs=logprobs)))
    _valid(chunks)
    assert _deltas(chunks, 0) == [{"role": "assistant", "content": None, "refusal": ""},
                                  {"refusal": "No"}, {"refusal": "."}, {}]
    assert [c["choices"][0]["logprobs"] for c in chunks] == [
        {"content": None, "refusal": []},
        {"content": None, "refusal": [logprobs[0]]},
        {"content": None, "refusal": [logprobs[1]]},
        None,
    ]


def test_single_tool_call_rides_in_the_role_delta() -> None:
    call = ToolCallPlan(id="call_1", name="get_weather", argument_tokens=('{"', "city", '":"', "Oslo", '"}'))
    chunks = stream_chunks(_plan(ChoicePlan(0, "tool_calls", tool_calls=(call,))))
    _valid(chunks)
    deltas = _deltas(chunks, 0)
    assert deltas[0] == {"role": "assistant", "content": None, "refusal": None, "tool_calls": [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}
    assert deltas[1:-1] == [{"tool_calls": [{"index": 0, "function": {"arguments": t}}]}
                            for t in call.argument_tokens]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_parallel_tool_calls_each_open_with_a_header() -> None:
    calls = (ToolCallPlan("call_a", "a", ("{", "}")), ToolCallPlan("call_b", "b", ('{"x"', ":1}")))
    chunks = stream_chunks(_plan(ChoicePlan(0, "tool_calls", tool_calls=calls)))
    _valid(chunks)
    deltas = _deltas(chunks, 0)
    assert deltas[0] == {"role": "assistant", "content": None}
    headers = [d["tool_calls"][0] for d in deltas if "tool_calls" in d and "id" in d["tool_calls"][0]]
    assert [(h["index"], h["id"], h["function"]) for h in headers] == [
        (0, "call_a", {"name": "a", "arguments": ""}), (1, "call_b", {"name": "b", "arguments": ""})]
    fragments = [(d["tool_calls"][0]["index"], d["tool_calls"][0]["function"]["arguments"])
                 for d in deltas if "tool_calls" in d and "id" not in d["tool_calls"][0]]
    assert fragments == [(0, "{"), (0, "}"), (1, '{"x"'), (1, ":1}")]


def test_custom_tool_calls_stream_their_input() -> None:
    call = ToolCallPlan(id="call_c", name="shell", argument_tokens=("ls", " -la"), kind="custom")
    deltas = _deltas(stream_chunks(_plan(ChoicePlan(0, "tool_calls", tool_calls=(call,)))), 0)
    assert deltas[0]["tool_calls"] == [{"index": 0, "id": "call_c", "type": "custom",
                                        "custom": {"name": "shell", "input": ""}}]
    assert deltas[1:-1] == [{"tool_calls": [{"index": 0, "custom": {"input": t}}]} for t in ("ls", " -la")]


def test_audio_streams_transcript_then_data_then_expiry() -> None:
    data = base64.b64encode(bytes(range(256)) * 64).decode()
    audio = {"id": "audio_1", "data": data, "expires_at": 99, "transcript": "Hello there"}
    chunks = stream_chunks(_plan(ChoicePlan(0, "stop", audio=audio)))
    _valid(chunks)
    deltas = _deltas(chunks, 0)
    assert deltas[0] == {"role": "assistant", "content": None, "refusal": None}
    parts = [d["audio"] for d in deltas[1:-1]]
    assert parts[0] == {"id": "audio_1", "transcript": "Hello"} and parts[1] == {"transcript": " there"}
    slices = [p["data"] for p in parts if "data" in p]
    assert len(slices) > 1 and "".join(slices) == data
    assert all(base64.b64decode(piece, validate=True) for piece in slices)
    assert parts[-1] == {"expires_at": 99} and deltas[-1] == {}


def test_legacy_function_call_streams_name_then_arguments() -> None:
    call = ToolCallPlan(id="unused", name="lookup", argument_tokens=("{", "}"))
    chunks = stream_chunks(_plan(ChoicePlan(0, "function_call", function_call=call)))
    _valid(chunks)
    assert _deltas(chunks, 0) == [
        {"role": "assistant", "content": None, "function_call": {"name": "lookup", "arguments": ""}, "refusal": None},
        {"function_call": {"arguments": "{"}}, {"function_call": {"arguments": "}"}}, {}]


def test_n_choices_interleave_and_finish_in_order() -> None:
    plan = _plan(ChoicePlan(0, "stop", content_tokens=("a", "b", "c")),
                 ChoicePlan(1, "length", content_tokens=("x",)),
                 ChoicePlan(2, "stop", content_tokens=("p", "q")))
    chunks = stream_chunks(plan, StreamOptions(include_usage=True))
    _valid(chunks)
    order = [(c["choices"][0]["index"], c["choices"][0]["delta"].get("content"), c["choices"][0]["finish_reason"])
             for c in chunks if c["choices"]]
    assert order == [(0, "", None), (0, "a", None), (1, "", None), (1, "x", None), (2, "", None), (2, "p", None),
                     (0, "b", None), (2, "q", None), (0, "c", None),
                     (0, None, "stop"), (1, None, "length"), (2, None, "stop")]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == plan.usage


def test_obfuscation_pads_by_default_and_can_be_turned_off() -> None:
    plan = _plan(ChoicePlan(0, "stop", content_tokens=("Hello",)))
    padded = stream_chunks(plan)
    assert all(isinstance(c["obfuscation"], str) for c in padded)
    assert len(padded[1]["obfuscation"]) + len("Hello") == 16
    assert padded == stream_chunks(plan)
    assert all("obfuscation" not in c for c in stream_chunks(plan, StreamOptions(include_obfuscation=False)))


def test_stream_options_defaults_follow_the_api() -> None:
    assert StreamOptions.from_request({}) == StreamOptions(include_usage=False, include_obfuscation=True)
    assert StreamOptions.from_request({"stream_options": {"include_usage": True, "include_obfuscation": False}}) \
        == StreamOptions(include_usage=True, include_obfuscation=False)


_WORDS = st.sampled_from(["alpha", "beta", "gamma", "delta", "the", "a"])


@given(
    n=st.integers(1, 4),
    max_tokens=st.none() | st.integers(1, 30),
    logprobs=st.booleans(),
    usage=st.booleans(),
    obfuscation=st.booleans(),
    prompt=st.lists(_WORDS, min_size=1, max_size=5).map(" ".join),
    stop=st.none() | st.lists(_WORDS.map(lambda w: " " + w), min_size=1, max_size=2),
)
def test_generated_streams_rebuild_the_completion(n: int, max_tokens: int | None, logprobs: bool, usage: bool,
                                                  obfuscation: bool, prompt: str, stop: list[str] | None) -> None:
    request: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}], "n": n,
                               "max_tokens": max_tokens, "logprobs": logprobs, "stop": stop, "stream": True,
                               "stream_options": {"include_usage": usage, "include_obfuscation": obfuscation}}
    plan = plan_completion(request, Context(server_seed=3))
    chunks = stream_chunks(plan, StreamOptions.from_request(request))
    _valid(chunks)
    body = completion_body(plan)
    for choice in body["choices"]:
        deltas = _deltas(chunks, choice["index"])
        assert [d.get("role") for d in deltas].count("assistant") == 1 and deltas[0]["role"] == "assistant"
        assert "".join(d.get("content") or "" for d in deltas) == choice["message"]["content"]
        finishes = [c["choices"][0]["finish_reason"] for c in chunks
                    if c["choices"] and c["choices"][0]["index"] == choice["index"]]
        assert [f for f in finishes if f is not None] == [choice["finish_reason"]] and finishes[-1] is not None
        if logprobs:
            streamed = [e for c in chunks if c["choices"] and c["choices"][0]["index"] == choice["index"]
                        and c["choices"][0]["logprobs"] for e in c["choices"][0]["logprobs"]["content"]]
            assert streamed == choice["logprobs"]["content"]
    assert [c for c in chunks if "usage" in c and c["usage"] is not None] == (
        [chunks[-1]] if usage else [])
    events = stream_events(plan, StreamOptions.from_request(request))
    assert events[-1] == DONE_EVENT
    assert events[:-1] == [encode_event(chunk) for chunk in chunks]
    assert [orjson.loads(e[len(b"data: "):]) for e in events[:-1]] == chunks
    assert all(e.startswith(b"data: ") and e.endswith(b"\n\n") and e.count(b"\n") == 2 for e in events)


@pytest.mark.parametrize("tokens", [(), ("only",)])
def test_short_choices_still_open_and_finish(tokens: tuple[str, ...]) -> None:
    chunks = stream_chunks(_plan(ChoicePlan(0, "length", content_tokens=tokens)))
    _valid(chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert len(chunks) == len(tokens) + 2


@given(tokens=st.lists(st.text(max_size=6), max_size=12), index=st.integers(0, 3), usage=st.booleans(),
       obfuscation=st.booleans(), finish=st.sampled_from(["stop", "length"]))
def test_the_plain_text_writer_matches_the_chunk_objects(tokens: list[str], index: int, usage: bool,
                                                         obfuscation: bool, finish: str) -> None:
    # One text choice takes a writer of its own that never builds the chunks: any token text (quotes,
    # escapes, characters outside the BMP, empty pieces) must come out exactly as encoding the chunks.
    plan = _plan(ChoicePlan(index, finish, content_tokens=tuple(tokens)),
                 usage={"prompt_tokens": 3, "completion_tokens": len(tokens), "total_tokens": 3 + len(tokens)})
    options = StreamOptions(include_usage=usage, include_obfuscation=obfuscation)
    events = stream_events(plan, options)
    assert events[:-1] == [encode_event(chunk) for chunk in stream_chunks(plan, options)]
    assert events[-1] == DONE_EVENT
