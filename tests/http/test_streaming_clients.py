"""The official openai client, sync and async, rebuilds every stream into the non-streamed completion."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mockserver import Config, MockServer
from mockserver.http.pipeline import REFUSAL_HEADER

_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "gpt-3.5-turbo"]
_WORDS = st.sampled_from(["weather", "the", "a", "report", "numbers", "quickly", "and", "Paris"])


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(Config(seed=11, clock=1_700_000_000)) as running:
        yield running


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    text = st.lists(_WORDS, min_size=1, max_size=6).map(" ".join)
    messages = [{"role": "user", "content": draw(text)}]
    if draw(st.booleans()):
        messages.insert(0, {"role": "system", "content": draw(text)})
    request: dict[str, Any] = {"model": draw(st.sampled_from(_MODELS)), "messages": messages}
    optional = {
        "n": st.integers(1, 3),
        "max_tokens": st.integers(1, 40),
        "stop": st.lists(_WORDS.map(lambda w: " " + w), min_size=1, max_size=3),
        "seed": st.integers(0, 2**31),
        "temperature": st.sampled_from([0, 0.5, 1.0, 1.7]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            request[key] = draw(strategy)
    if draw(st.booleans()):
        request["logprobs"] = True
        request["top_logprobs"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        request["tools"] = draw(st.lists(st.sampled_from(_TOOLS), min_size=1, max_size=2, unique_by=_tool_name))
        names = [_tool_name(tool) for tool in request["tools"]]
        request["tool_choice"] = draw(st.sampled_from(
            ["auto", "required", "none"] + [{"type": "function", "function": {"name": n}} for n in names]))
        if draw(st.booleans()):
            request["parallel_tool_calls"] = draw(st.booleans())
    request["stream_options"] = {"include_usage": draw(st.booleans())}
    if draw(st.integers(0, 5)) == 0:
        request["extra_headers"] = {REFUSAL_HEADER: "1"}
    return request


def _tool_name(tool: dict[str, Any]) -> str:
    return tool["function"]["name"]


_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city"]}}},
    {"type": "function", "function": {"name": "lookup_order", "description": "Find an order", "parameters": {
        "type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"],
        "additionalProperties": False}, "strict": True}},
    {"type": "function", "function": {"name": "ping"}},
]


def _normalised(completion: Any) -> dict[str, Any]:
    """The completion as data, minus what legitimately differs between two requests or two wire forms:
    the per-request id, the helper's own bookkeeping (`parsed` slots, tool-call `index`), and `annotations` (streams only carry them for
    web-search citations, so an empty list arrives as absent)."""
    data = completion.model_dump()
    data.pop("id")
    for choice in data["choices"]:
        choice["message"].pop("parsed", None)
        for call in choice["message"].get("tool_calls") or ():
            call.pop("index", None)
            call["function"].pop("parsed_arguments", None)
        if choice["message"].get("annotations") == []:
            choice["message"]["annotations"] = None
    return data


def _expected(client: openai.OpenAI, request: dict[str, Any]) -> dict[str, Any]:
    plain = {k: v for k, v in request.items() if k != "stream_options"}
    try:
        completion = client.chat.completions.create(**plain)
    except openai.BadRequestError:
        assume(False)
    expected = _normalised(completion)
    if not request["stream_options"]["include_usage"]:
        expected["usage"] = None
    return expected


def _accumulate(chunks: list[Any]) -> dict[str, Any]:
    """`create(stream=True)` hands out raw chunks; fold them the way any client must."""
    head = chunks[0]
    choices: dict[int, dict[str, Any]] = {}
    usage = None
    for chunk in chunks:
        assert (chunk.id, chunk.created, chunk.model, chunk.system_fingerprint) == (
            head.id, head.created, head.model, head.system_fingerprint)
        if chunk.usage is not None:
            assert chunk.choices == [] and usage is None
            usage = chunk.usage.model_dump()
        for part in chunk.choices:
            slot = choices.setdefault(part.index, {"role": None, "content": None, "refusal": None,
                                                   "tool_calls": None, "logprobs": None, "finish_reason": None})
            delta = part.delta
            if delta.role is not None:
                assert slot["role"] is None, "role repeated"
                slot["role"] = delta.role
            if delta.content is not None:
                slot["content"] = (slot["content"] or "") + delta.content
            if delta.refusal is not None:
                slot["refusal"] = (slot["refusal"] or "") + delta.refusal
            for call in delta.tool_calls or ():
                calls = slot["tool_calls"] = slot["tool_calls"] or []
                if call.id is not None:
                    assert call.index == len(calls), "tool calls open in index order"
                    calls.append({"id": call.id, "type": call.type, "function": {"name": call.function.name,
                                                                                 "arguments": ""}})
                else:
                    assert call.id is None and call.type is None and call.function.name is None
                calls[call.index]["function"]["arguments"] += call.function.arguments or ""
            if part.logprobs is not None and part.logprobs.content is not None:
                slot["logprobs"] = (slot["logprobs"] or []) + [e.model_dump() for e in part.logprobs.content]
            if part.finish_reason is not None:
                assert slot["finish_reason"] is None, "second finish for one choice"
                slot["finish_reason"] = part.finish_reason
    return {"created": head.created, "model": head.model, "system_fingerprint": head.system_fingerprint,
            "service_tier": head.service_tier, "usage": usage,
            "choices": [choices[i] for i in sorted(choices)]}


def _summary(completion: dict[str, Any]) -> dict[str, Any]:
    return {"created": completion["created"], "model": completion["model"],
            "system_fingerprint": completion["system_fingerprint"], "service_tier": completion["service_tier"],
            "usage": completion["usage"],
            "choices": [{"role": c["message"]["role"], "content": c["message"]["content"],
                         "refusal": c["message"]["refusal"],
                         "tool_calls": [{k: call[k] for k in ("id", "type", "function")}
                                        for call in c["message"]["tool_calls"]] if c["message"]["tool_calls"] else None,
                         "logprobs": c["logprobs"]["content"] if c["logprobs"] else None,
                         "finish_reason": c["finish_reason"]} for c in completion["choices"]]}


def _final(get: Any) -> Any:
    """The helper refuses to parse a reply cut by max_tokens but still hands over what it rebuilt."""
    try:
        return get()
    except openai.LengthFinishReasonError as cut_short:
        return cut_short.completion


@settings(max_examples=15)
@given(request=requests())
def test_sync_stream_helper_rebuilds_the_completion(mock: MockServer, request: dict[str, Any]) -> None:
    client = openai.OpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0)
    expected = _expected(client, request)
    with client.chat.completions.stream(**request) as stream:
        final = _final(stream.get_final_completion)
    assert _normalised(final) == expected


@settings(max_examples=15)
@given(request=requests())
def test_sync_create_stream_rebuilds_the_completion(mock: MockServer, request: dict[str, Any]) -> None:
    client = openai.OpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0)
    expected = _expected(client, request)
    chunks = list(client.chat.completions.create(**request, stream=True))
    assert _accumulate(chunks) == _summary(expected)


@settings(max_examples=10)
@given(request=requests())
def test_async_helpers_rebuild_the_completion(mock: MockServer, request: dict[str, Any]) -> None:
    expected = _expected(openai.OpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0), request)

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        async with openai.AsyncOpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0) as client:
            async with client.chat.completions.stream(**request) as stream:
                try:
                    final = await stream.get_final_completion()
                except openai.LengthFinishReasonError as cut_short:
                    final = cut_short.completion
            chunks = [chunk async for chunk in await client.chat.completions.create(**request, stream=True)]
        return _normalised(final), _accumulate(chunks)

    final, accumulated = asyncio.run(both())
    assert final == expected
    assert accumulated == _summary(expected)


def test_spoken_replies_stream_into_the_same_audio(mock: MockServer) -> None:
    client = openai.OpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0)
    request = {"model": "gpt-4o-audio-preview", "messages": [{"role": "user", "content": "Say something"}],
               "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "pcm16"}}
    expected = _normalised(client.chat.completions.create(**request))
    with client.chat.completions.stream(**request, stream_options={"include_usage": True}) as stream:
        assert _normalised(stream.get_final_completion()) == expected
    deltas = [c.choices[0].delta for c in client.chat.completions.create(**request, stream=True) if c.choices]
    assert deltas[1].audio.id == expected["choices"][0]["message"]["audio"]["id"]
    assert [d.audio.model_dump(exclude_none=True) for d in deltas[-2:-1]] == [
        {"expires_at": expected["choices"][0]["message"]["audio"]["expires_at"]}]


def test_stream_wire_format(mock: MockServer) -> None:
    client = openai.OpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True)
    assert raw.headers["content-type"].startswith("text/event-stream")
    body = raw.http_response.read()
    events = body.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    assert all(event.startswith(b"data: {") for event in events[:-2])
