"""openai-python as its users drive it: sync and async calls, both streaming styles, the parse helpers,
raw responses, audio, retries on 429 and the errors it must raise; and the other endpoints: legacy
completions (plain and streamed), embeddings (float and base64) and the Responses API (create, streamed,
the stream helper, parse with a Pydantic model, a function-call loop over previous_response_id)."""

from __future__ import annotations

import base64
import json

import openai
from harness import API_KEY, MODEL, Mock, case, main
from pydantic import BaseModel

HI = [{"role": "user", "content": "Say hello to the matrix."}]
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


class Person(BaseModel):
    name: str
    age: int


class GetWeather(BaseModel):
    """Current weather in a city."""

    city: str
    unit: str


def client(mock: Mock, **options: object) -> openai.OpenAI:
    return openai.OpenAI(base_url=mock.base_url, api_key=API_KEY, **options)


@case("plain reply")
def plain_reply(mock: Mock) -> None:
    reply = client(mock).chat.completions.create(model=MODEL, messages=HI)
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.content
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


@case("async reply")
async def async_reply(mock: Mock) -> None:
    async with openai.AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY) as chat:
        reply = await chat.chat.completions.create(model=MODEL, messages=HI)
    assert reply.choices[0].message.content


@case("streaming with usage")
def streaming_with_usage(mock: Mock) -> None:
    chat = client(mock)
    whole = chat.chat.completions.create(model=MODEL, messages=HI).choices[0].message.content
    chunks = list(chat.chat.completions.create(model=MODEL, messages=HI, stream=True,
                                               stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


@case("async streaming")
async def async_streaming(mock: Mock) -> None:
    async with openai.AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY) as chat:
        stream = await chat.chat.completions.create(model=MODEL, messages=HI, stream=True)
        pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(pieces)


@case(".stream() helper events")
def stream_helper(mock: Mock) -> None:
    with client(mock).chat.completions.stream(model=MODEL, messages=HI,
                                              stream_options={"include_usage": True}) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    kinds = {event.type for event in events}
    assert {"chunk", "content.delta", "content.done"} <= kinds, kinds
    deltas = "".join(e.delta for e in events if e.type == "content.delta")
    done = [e.content for e in events if e.type == "content.done"]
    assert deltas == done[0] == final.choices[0].message.content
    assert final.usage is not None and final.usage.total_tokens > 0


@case(".stream() tool-call events")
def stream_helper_tools(mock: Mock) -> None:
    tool = openai.pydantic_function_tool(GetWeather)
    with client(mock).chat.completions.stream(model=MODEL, messages=HI, tools=[tool],
                                              tool_choice={"type": "function",
                                                           "function": {"name": "GetWeather"}}) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    assert len(done) == 1 and isinstance(done[0].parsed_arguments, GetWeather)
    call = final.choices[0].message.tool_calls[0]
    assert call.function.parsed_arguments == done[0].parsed_arguments


@case(".stream() parallel tool calls")
def stream_parallel_tools(mock: Mock) -> None:
    mock.rules({"match": {"stream": True}, "tool_calls": [{"name": "GetWeather", "arguments": {"city": "Oslo", "unit": "C"}},
                                                           {"name": "GetWeather", "arguments": {"city": "Rome", "unit": "F"}}]})
    with client(mock).chat.completions.stream(model=MODEL, messages=HI,
                                              tools=[openai.pydantic_function_tool(GetWeather)]) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    assert [(e.index, e.parsed_arguments.city) for e in done] == [(0, "Oslo"), (1, "Rome")]
    assert [call.function.parsed_arguments.unit for call in final.choices[0].message.tool_calls] == ["C", "F"]
    assert final.choices[0].finish_reason == "tool_calls"


@case(".stream() refusal events")
def stream_refusal(mock: Mock) -> None:
    with client(mock).chat.completions.stream(model=MODEL, messages=HI, response_format=Person,
                                              extra_headers={"X-Mock-Refusal": "No can do."}) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    assert "".join(e.delta for e in events if e.type == "refusal.delta") == "No can do."
    assert [e.refusal for e in events if e.type == "refusal.done"] == ["No can do."]
    assert final.choices[0].message.refusal == "No can do." and final.choices[0].message.parsed is None


@case(".stream() logprobs events")
def stream_logprobs(mock: Mock) -> None:
    with client(mock).chat.completions.stream(model=MODEL, messages=HI, logprobs=True, top_logprobs=2) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    tokens = [t.token for e in events if e.type == "logprobs.content.delta" for t in e.content]
    assert "".join(tokens) == final.choices[0].message.content
    assert all(len(t.top_logprobs) == 2 for t in final.choices[0].logprobs.content)


@case("n=2 streamed")
def streamed_choices(mock: Mock) -> None:
    chat = client(mock)
    whole = chat.chat.completions.create(model=MODEL, messages=HI, n=2, seed=3)
    texts = ["", ""]
    for chunk in chat.chat.completions.create(model=MODEL, messages=HI, n=2, seed=3, stream=True):
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == [choice.message.content for choice in whole.choices]


@case("tool-calling loop ends")
def tool_loop(mock: Mock) -> None:
    chat = client(mock)
    messages: list[dict] = [{"role": "user", "content": "What is the weather in Paris?"}]
    for _ in range(5):
        message = chat.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL]).choices[0].message
        if not message.tool_calls:
            break
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            city = json.loads(call.function.arguments)["city"]
            messages.append({"role": "tool", "tool_call_id": call.id, "content": f"18 degrees in {city}"})
    else:
        raise AssertionError("the loop never ended")
    assert messages[-1]["role"] == "tool" and "18 degrees" in message.content


@case("scripted tool call")
def scripted_tool_call(mock: Mock) -> None:
    mock.rules({"match": {"tools": "get_weather"}, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
                "times": 1})
    message = client(mock).chat.completions.create(model=MODEL, messages=HI, tools=[WEATHER_TOOL]).choices[0].message
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Oslo"}


@case(".parse() structured output")
def parse_structured(mock: Mock) -> None:
    reply = client(mock).chat.completions.parse(model=MODEL, messages=HI, response_format=Person)
    assert isinstance(reply.choices[0].message.parsed, Person)
    body = mock.completions()[-1]["body"]
    assert body["response_format"]["type"] == "json_schema" and body["response_format"]["json_schema"]["strict"]


@case(".parse() refusal")
def parse_refusal(mock: Mock) -> None:
    mock.rules({"match": {"body": {"response_format.type": "json_schema"}}, "refusal": "I can't help with that."})
    message = client(mock).chat.completions.parse(model=MODEL, messages=HI, response_format=Person).choices[0].message
    assert message.parsed is None and message.refusal == "I can't help with that."


@case("pydantic_function_tool")
def function_tool(mock: Mock) -> None:
    reply = client(mock).chat.completions.parse(model=MODEL, messages=HI,
                                                tools=[openai.pydantic_function_tool(GetWeather)])
    call = reply.choices[0].message.tool_calls[0]
    assert isinstance(call.function.parsed_arguments, GetWeather)


@case("with_raw_response headers")
def raw_response(mock: Mock) -> None:
    raw = client(mock).chat.completions.with_raw_response.create(model=MODEL, messages=HI)
    assert raw.headers["x-request-id"] and int(raw.headers["x-ratelimit-remaining-requests"]) >= 0
    assert raw.parse().choices[0].message.content


@case("audio output")
def audio_output(mock: Mock) -> None:
    reply = client(mock).chat.completions.create(model="gpt-4o-audio-preview", messages=HI,
                                                 modalities=["text", "audio"],
                                                 audio={"voice": "alloy", "format": "wav"})
    audio = reply.choices[0].message.audio
    assert base64.b64decode(audio.data)[:4] == b"RIFF" and audio.transcript and audio.id.startswith("audio_")


@case("reasoning model")
def reasoning_model(mock: Mock) -> None:
    reply = client(mock).chat.completions.create(model="o3-mini", messages=HI, max_completion_tokens=400,
                                                 reasoning_effort="low")
    details = reply.usage.completion_tokens_details
    assert reply.choices[0].message.content and details.reasoning_tokens >= 0


@case("429 retried")
def retried(mock: Mock) -> None:
    mock.rules({"error": {"status": 429, "retry_after": 0.01}, "times": 2})
    reply = client(mock, max_retries=2).chat.completions.create(model=MODEL, messages=HI)
    assert reply.choices[0].message.content and mock.statuses() == [429, 429, 200]


@case("error surfaced")
def error_surfaced(mock: Mock) -> None:
    mock.rules({"error": {"status": 400, "kind": "context_length_exceeded", "param": "messages"}})
    try:
        client(mock).chat.completions.create(model=MODEL, messages=HI)
    except openai.BadRequestError as exc:
        assert exc.code == "context_length_exceeded" and exc.param == "messages"
    else:
        raise AssertionError("no BadRequestError")


@case("mid-stream error surfaced")
def stream_error(mock: Mock) -> None:
    try:
        for _ in client(mock, max_retries=0).chat.completions.create(
                model=MODEL, messages=HI, stream=True, extra_headers={"X-Mock-Fault": "error-after=2,error=overloaded"}):
            pass
    except openai.APIError as exc:
        assert "overloaded" in str(exc).lower() or "capacity" in str(exc).lower(), exc
    else:
        raise AssertionError("the stream ended without an error")


@case("truncated stream visible")
def truncated_stream(mock: Mock) -> None:
    with client(mock).chat.completions.stream(model=MODEL, messages=HI,
                                              extra_headers={"X-Mock-Fault": "truncate-after=2"}) as stream:
        list(stream)
        final = stream.get_final_completion()
    assert final.choices[0].finish_reason is None, "a stream cut short looks finished"


INSTRUCT = "gpt-3.5-turbo-instruct"
EMBEDDING = "text-embedding-3-small"
WEATHER_FUNCTION = {"type": "function", "name": "get_weather", "description": "Current weather in a city.",
                    "strict": True, "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                   "required": ["city"], "additionalProperties": False}}


class City(BaseModel):
    name: str
    country: str


@case("completions.create")
def legacy_completion(mock: Mock) -> None:
    reply = client(mock).completions.create(model=INSTRUCT, prompt="Say this is a test", echo=True, logprobs=2,
                                            max_tokens=8)
    choice = reply.choices[0]
    assert reply.object == "text_completion" and choice.text.startswith("Say this is a test")
    assert "".join(choice.logprobs.tokens) == choice.text and reply.usage.completion_tokens == 8


@case("completions.create streamed (async)")
async def legacy_completion_streamed(mock: Mock) -> None:
    async with openai.AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY) as aclient:
        whole = await aclient.completions.create(model=INSTRUCT, prompt="Once upon a time", seed=1)
        stream = await aclient.completions.create(model=INSTRUCT, prompt="Once upon a time", seed=1, stream=True,
                                                  stream_options={"include_usage": True})
        chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole.choices[0].text
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens == 16


@case("embeddings float and base64")
def embeddings(mock: Mock) -> None:
    embedder = client(mock)
    decoded = embedder.embeddings.create(model=EMBEDDING, input=["a river", "the sea"])  # the client asks for base64
    floats = embedder.embeddings.create(model=EMBEDDING, input=["a river", "the sea"], encoding_format="float")
    assert [d.embedding for d in decoded.data] == [d.embedding for d in floats.data]
    assert len(floats.data[0].embedding) == 1536 and floats.usage.prompt_tokens == floats.usage.total_tokens > 0
    raw = embedder.embeddings.create(model=EMBEDDING, input="a river", encoding_format="base64")
    values = list(memoryview(base64.b64decode(raw.data[0].embedding)).cast("f"))
    assert values == floats.data[0].embedding


@case("responses.create")
def responses_create(mock: Mock) -> None:
    reply = client(mock).responses.create(model=MODEL, instructions="Be brief.", input="Say hello to the matrix.")
    assert reply.status == "completed" and reply.output_text
    assert reply.usage.total_tokens == reply.usage.input_tokens + reply.usage.output_tokens


@case("responses.create stream=True")
def responses_streamed(mock: Mock) -> None:
    events = list(client(mock).responses.create(model=MODEL, input="Say hello to the matrix.", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == events[-1].response.output_text


@case("responses.stream() helper (async)")
async def responses_stream_helper(mock: Mock) -> None:
    async with openai.AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY) as aclient:
        async with aclient.responses.stream(model=MODEL, input="Say hello to the matrix.") as stream:
            deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
            final = await stream.get_final_response()
    assert "".join(deltas) == final.output_text


@case("responses.parse() structured output")
def responses_parse(mock: Mock) -> None:
    parsed = client(mock).responses.parse(model=MODEL, input="Name a city.", text_format=City)
    assert isinstance(parsed.output_parsed, City) and parsed.output_parsed.name


@case("responses function-call loop (previous_response_id)")
def responses_loop(mock: Mock) -> None:
    responder = client(mock)
    first = responder.responses.create(model=MODEL, input="What is the weather in Paris?", tools=[WEATHER_FUNCTION])
    (call,) = [item for item in first.output if item.type == "function_call"]
    second = responder.responses.create(model=MODEL, previous_response_id=first.id, tools=[WEATHER_FUNCTION],
                                        input=[{"type": "function_call_output", "call_id": call.call_id,
                                                "output": "18 degrees"}])
    assert "18 degrees" in second.output_text
    assert responder.responses.retrieve(second.id).output_text == second.output_text


if __name__ == "__main__":
    main("openai-python", "openai")
