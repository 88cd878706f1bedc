"""litellm's `completion` and `acompletion` with `openai/` models and `api_base`, as a proxy-less app calls
them: streaming with usage, tools, structured output, `num_retries` on 429 and its exception mapping."""

from __future__ import annotations

import json
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # the price list would be fetched at import

import litellm
from harness import API_KEY, MODEL, Mock, case, main
from litellm.exceptions import MidStreamFallbackError
from pydantic import BaseModel

HI = [{"role": "user", "content": "Say hello to the matrix."}]
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}

litellm.suppress_debug_info = True  # else every expected error prints a banner asking for feedback


class Person(BaseModel):
    name: str
    age: int


def endpoint(mock: Mock) -> dict[str, str]:
    return {"model": f"openai/{MODEL}", "api_base": mock.base_url, "api_key": API_KEY}


@case("completion")
def completion(mock: Mock) -> None:
    reply = litellm.completion(messages=HI, **endpoint(mock))
    assert reply.choices[0].message.content and reply.choices[0].finish_reason == "stop"
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


@case("acompletion")
async def acompletion(mock: Mock) -> None:
    reply = await litellm.acompletion(messages=HI, **endpoint(mock))
    assert reply.choices[0].message.content


@case("streaming with usage")
def streaming(mock: Mock) -> None:
    whole = litellm.completion(messages=HI, **endpoint(mock)).choices[0].message.content
    chunks = list(litellm.completion(messages=HI, stream=True, stream_options={"include_usage": True},
                                     **endpoint(mock)))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole
    rebuilt = litellm.stream_chunk_builder(chunks, messages=HI)
    usage = next(c.usage for c in reversed(chunks) if getattr(c, "usage", None))
    assert usage.completion_tokens > 0 and rebuilt.usage.completion_tokens == usage.completion_tokens


@case("async streaming")
async def async_streaming(mock: Mock) -> None:
    stream = await litellm.acompletion(messages=HI, stream=True, **endpoint(mock))
    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(pieces)


@case("tool-calling loop ends")
def tool_loop(mock: Mock) -> None:
    messages: list[dict] = [{"role": "user", "content": "What is the weather in Paris?"}]
    for _ in range(5):
        message = litellm.completion(messages=messages, tools=[WEATHER_TOOL], **endpoint(mock)).choices[0].message
        if not message.tool_calls:
            break
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            city = json.loads(call.function.arguments)["city"]
            messages.append({"role": "tool", "tool_call_id": call.id, "content": f"18 degrees in {city}"})
    else:
        raise AssertionError("the loop never ended")
    assert messages[-1]["role"] == "tool" and "18 degrees" in message.content


@case("streamed tool calls")
def streamed_tools(mock: Mock) -> None:
    chunks = list(litellm.completion(messages=HI, tools=[WEATHER_TOOL], tool_choice="required", stream=True,
                                     **endpoint(mock)))
    calls = litellm.stream_chunk_builder(chunks).choices[0].message.tool_calls
    assert calls and all(isinstance(json.loads(call.function.arguments)["city"], str) for call in calls)


@case("structured output")
def structured(mock: Mock) -> None:
    reply = litellm.completion(messages=HI, response_format=Person, **endpoint(mock))
    assert Person.model_validate_json(reply.choices[0].message.content)


@case("reasoning model (max_tokens, reasoning_effort)")
def reasoning_model(mock: Mock) -> None:
    reply = litellm.completion(messages=HI, max_tokens=400, reasoning_effort="low",
                               **{**endpoint(mock), "model": "openai/o3-mini"})
    sent = mock.completions()[-1]["body"]
    assert reply.choices[0].message.content and sent["max_completion_tokens"] == 400 and "max_tokens" not in sent


@case("mid-stream error surfaced")
def stream_error(mock: Mock) -> None:
    try:
        list(litellm.completion(messages=HI, stream=True, max_retries=0,
                                extra_headers={"X-Mock-Fault": "error-after=2,error=overloaded"}, **endpoint(mock)))
    except MidStreamFallbackError as exc:
        assert "overloaded" in str(exc)
    else:
        raise AssertionError("the stream ended without an error")


@case("truncated stream visible")
def truncated_stream(mock: Mock) -> None:
    try:
        list(litellm.completion(messages=HI, stream=True, max_retries=0,
                                extra_headers={"X-Mock-Fault": "truncate-after=2"}, **endpoint(mock)))
    except MidStreamFallbackError as exc:
        assert "Stream ended before a finish_reason was received" in str(exc)
    else:
        raise AssertionError("a stream cut short looked finished")


@case("429 retried")
def retried(mock: Mock) -> None:
    mock.rules({"error": {"status": 429, "retry_after": 0.01}, "times": 2})
    reply = litellm.completion(messages=HI, num_retries=2, **endpoint(mock))
    assert reply.choices[0].message.content and 429 in mock.statuses() and mock.statuses()[-1] == 200


@case("context window error from an over-long prompt")
def context_window(mock: Mock) -> None:
    try:
        litellm.completion(messages=[{"role": "user", "content": "word " * 9000}],
                           **{**endpoint(mock), "model": "openai/gpt-4"})
    except litellm.ContextWindowExceededError as exc:
        assert exc.status_code == 400 and mock.statuses() == [400]
    else:
        raise AssertionError("no ContextWindowExceededError")


@case("scripted context_length_exceeded error")
def scripted_context_window(mock: Mock) -> None:
    mock.rules({"error": {"status": 400, "kind": "context_length_exceeded", "param": "messages"}})
    try:
        litellm.completion(messages=HI, **endpoint(mock))
    except litellm.ContextWindowExceededError as exc:
        assert exc.status_code == 400
    else:
        raise AssertionError("no ContextWindowExceededError")


@case("error kinds mapped to litellm exceptions")
def error_mapping(mock: Mock) -> None:
    expected = {"invalid_api_key": litellm.AuthenticationError, "model_not_found": litellm.NotFoundError,
                "insufficient_quota": litellm.RateLimitError, "overloaded": litellm.ServiceUnavailableError,
                "server_error": litellm.InternalServerError}
    for kind, exception in expected.items():
        mock.reset()
        mock.rules({"error": {"kind": kind}})
        try:
            litellm.completion(messages=HI, max_retries=0, **endpoint(mock))
        except exception:
            continue
        except Exception as exc:
            raise AssertionError(f"{kind}: {type(exc).__name__}, not {exception.__name__}") from exc
        raise AssertionError(f"{kind}: no error")


@case("error surfaced")
def error_surfaced(mock: Mock) -> None:
    mock.rules({"error": {"status": 400, "kind": "invalid_request", "message": "Invalid 'messages': bad."}})
    try:
        litellm.completion(messages=HI, **endpoint(mock))
    except litellm.BadRequestError as exc:
        assert exc.status_code == 400 and "Invalid 'messages': bad." in str(exc)
    else:
        raise AssertionError("no BadRequestError")


if __name__ == "__main__":
    main("litellm", "litellm")
