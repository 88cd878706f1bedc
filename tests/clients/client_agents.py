"""The openai-agents SDK on chat completions (`OpenAIChatCompletionsModel`): an agent that calls a function
tool and answers, a structured `output_type`, the streamed run, 429 retries and errors; and on its default
model, `OpenAIResponsesModel`, which speaks the Responses API: a function tool to completion, plain and
streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import openai
from agents import Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled
from harness import API_KEY, MODEL, Mock, case, main
from pydantic import BaseModel

set_tracing_disabled(True)  # traces would be uploaded to OpenAI


class City(BaseModel):
    name: str
    country: str


@function_tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"18 degrees in {city}"


@asynccontextmanager
async def client(mock: Mock, max_retries: int = 2) -> AsyncIterator[openai.AsyncOpenAI]:
    """A client closed inside the case's event loop, which is gone when the next case starts."""
    async with openai.AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=max_retries) as opened:
        yield opened


@asynccontextmanager
async def chat_model(mock: Mock, max_retries: int = 2) -> AsyncIterator[OpenAIChatCompletionsModel]:
    async with client(mock, max_retries) as opened:
        yield OpenAIChatCompletionsModel(model=MODEL, openai_client=opened)


def tool_outputs(result: object) -> list[str]:
    return [item.output for item in result.new_items if item.type == "tool_call_output_item"]


@case("agent text reply")
async def text_reply(mock: Mock) -> None:
    async with chat_model(mock) as model:
        result = await Runner.run(Agent(name="greeter", instructions="Be brief.", model=model), "Hello!")
    assert isinstance(result.final_output, str) and result.final_output


@case("function tool then answer")
async def tool_then_answer(mock: Mock) -> None:
    async with chat_model(mock) as model:
        agent = Agent(name="weather", instructions="Use the tool.", tools=[get_weather], model=model)
        result = await Runner.run(agent, "What is the weather in Paris?")
    assert any(output.startswith("18 degrees in") for output in tool_outputs(result))
    assert "18 degrees" in result.final_output


@case("structured output_type")
async def structured(mock: Mock) -> None:
    async with chat_model(mock) as model:
        agent = Agent(name="cities", instructions="Name a city.", output_type=City, model=model)
        result = await Runner.run(agent, "Name a city.")
    assert isinstance(result.final_output, City)
    assert mock.completions()[-1]["body"]["response_format"]["type"] == "json_schema"


@case("streamed run with a tool")
async def streamed(mock: Mock) -> None:
    async with chat_model(mock) as model:
        agent = Agent(name="weather", instructions="Use the tool.", tools=[get_weather], model=model)
        result = Runner.run_streamed(agent, "What is the weather in Paris?")
        kinds = [event.type async for event in result.stream_events()]
    assert "raw_response_event" in kinds and "run_item_stream_event" in kinds
    assert "18 degrees" in result.final_output and tool_outputs(result)


@case("429 retried")
async def retried(mock: Mock) -> None:
    mock.rules({"error": {"status": 429, "retry_after": 0.01}, "times": 2})
    async with chat_model(mock) as model:
        result = await Runner.run(Agent(name="greeter", model=model), "Hello!")
    assert result.final_output and mock.statuses() == [429, 429, 200]


@case("error surfaced")
async def error_surfaced(mock: Mock) -> None:
    mock.rules({"error": {"status": 400, "kind": "context_length_exceeded", "param": "messages"}})
    try:
        async with chat_model(mock, max_retries=0) as model:
            await Runner.run(Agent(name="greeter", model=model), "Hello!")
    except openai.BadRequestError as exc:
        assert exc.code == "context_length_exceeded"
    else:
        raise AssertionError("no BadRequestError")


@case("Responses API model: function tool then answer")
async def responses_api(mock: Mock) -> None:
    async with client(mock, max_retries=0) as opened:
        agent = Agent(name="weather", instructions="Use the tool.", tools=[get_weather],
                      model=OpenAIResponsesModel(model=MODEL, openai_client=opened))
        result = await Runner.run(agent, "What is the weather in Paris?")
    assert any(output.startswith("18 degrees in") for output in tool_outputs(result))
    assert "18 degrees" in result.final_output
    sent = [entry["body"] for entry in mock.journal("/responses")]
    assert len(sent) == 2 and sent[0]["tools"][0]["name"] == "get_weather"
    assert any(item.get("type") == "function_call_output" for item in sent[1]["input"])


@case("Responses API model: streamed run with a tool")
async def responses_streamed(mock: Mock) -> None:
    async with client(mock, max_retries=0) as opened:
        agent = Agent(name="weather", instructions="Use the tool.", tools=[get_weather],
                      model=OpenAIResponsesModel(model=MODEL, openai_client=opened))
        result = Runner.run_streamed(agent, "What is the weather in Paris?")
        kinds = [event.type async for event in result.stream_events()]
    assert "raw_response_event" in kinds and "run_item_stream_event" in kinds
    assert "18 degrees" in result.final_output and tool_outputs(result)


@case("Responses API model: structured output_type")
async def responses_structured(mock: Mock) -> None:
    async with client(mock, max_retries=0) as opened:
        agent = Agent(name="cities", instructions="Name a city.", output_type=City,
                      model=OpenAIResponsesModel(model=MODEL, openai_client=opened))
        result = await Runner.run(agent, "Name a city.")
    assert isinstance(result.final_output, City)
    assert mock.journal("/responses")[-1]["body"]["text"]["format"]["type"] == "json_schema"


if __name__ == "__main__":
    main("openai-agents", "openai-agents")
