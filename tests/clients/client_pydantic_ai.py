"""pydantic-ai's Agent on OpenAIChatModel: a tool, a structured `output_type` (tool, native and prompted
output), the same streamed, retries on 429 and the HTTP error it raises."""

from __future__ import annotations

import openai
from harness import API_KEY, MODEL, Mock, case, main
from pydantic import BaseModel
from pydantic_ai import Agent, ModelHTTPError, NativeOutput, PromptedOutput
from pydantic_ai.exceptions import (
    ModelAuthenticationError,
    ModelContextWindowExceededError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelServerError,
)
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider


class City(BaseModel):
    name: str
    country: str


def model(mock: Mock, name: str = MODEL, max_retries: int = 2) -> OpenAIChatModel:
    """On the HTTP client pydantic-ai's own provider makes, which outlives the event loops of `run_sync` and
    `asyncio.run`; a plain AsyncOpenAI per model would be collected on the wrong loop."""
    client = OpenAIProvider(base_url=mock.base_url, api_key=API_KEY).client.with_options(max_retries=max_retries)
    return OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client))


def weather_agent(mock: Mock, **options: object) -> Agent:
    agent = Agent(model(mock), **options)

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return f"18 degrees in {city}"

    return agent


def tool_results(messages: list) -> list[str]:
    return [part.content for message in messages for part in message.parts if part.part_kind == "tool-return"]


@case("text reply")
def text_reply(mock: Mock) -> None:
    result = Agent(model(mock)).run_sync("Say hello to the matrix.")
    assert isinstance(result.output, str) and result.output
    assert result.usage.output_tokens > 0


@case("tool then text")
def tool_then_text(mock: Mock) -> None:
    result = weather_agent(mock).run_sync("What is the weather in Paris?")
    assert any("18 degrees" in content for content in tool_results(result.all_messages()))
    assert "18 degrees" in result.output


@case("tool then output_type (tool output)")
def tool_output(mock: Mock) -> None:
    mock.rules({"match": {"role": "user"}, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]})
    result = weather_agent(mock, output_type=City).run_sync("Which city is warm?")
    assert isinstance(result.output, City)
    assert tool_results(result.all_messages())[0] == "18 degrees in Paris"


@case("output_type, generated replies")
def generated_output(mock: Mock) -> None:
    result = Agent(model(mock), output_type=City).run_sync("Name a city.")
    assert isinstance(result.output, City)


@case("output_type NativeOutput (json_schema)")
def native_output(mock: Mock) -> None:
    result = Agent(model(mock), output_type=NativeOutput(City)).run_sync("Name a city.")
    assert isinstance(result.output, City)
    assert mock.completions()[-1]["body"]["response_format"]["type"] == "json_schema"


@case("output_type PromptedOutput, scripted object")
def prompted_output(mock: Mock) -> None:
    mock.rules({"match": {"body": {"response_format.type": "json_object"}},
                "object": {"name": "Lisbon", "country": "Portugal"}})
    result = Agent(model(mock), output_type=PromptedOutput(City)).run_sync("Name a city.")
    assert result.output == City(name="Lisbon", country="Portugal")
    assert mock.completions()[-1]["body"]["response_format"] == {"type": "json_object"}


@case("output_type PromptedOutput, generated reply",
      xfail="mock limitation: PromptedOutput states the schema only in a system message and asks for "
            "response_format json_object; the mock answers json_object with an arbitrary object "
            "({\"my\": \"Onto\", ...}) instead of following a schema written in prose, so validation fails "
            "twice and pydantic-ai raises UnexpectedModelBehavior; script the object instead")
def prompted_output_generated(mock: Mock) -> None:
    result = Agent(model(mock), output_type=PromptedOutput(City)).run_sync("Name a city.")
    assert isinstance(result.output, City)


@case("streamed text")
async def streamed_text(mock: Mock) -> None:
    async with Agent(model(mock)).run_stream("Say hello to the matrix.") as result:
        pieces = [piece async for piece in result.stream_text(delta=True, debounce_by=None)]
    assert len(pieces) > 1 and "".join(pieces) == await result.get_output()


@case("streamed output_type")
async def streamed_output(mock: Mock) -> None:
    async with Agent(model(mock), output_type=City).run_stream("Name a city.") as result:
        partials = [partial async for partial in result.stream_output(debounce_by=None)]
    assert partials and isinstance(partials[-1], City)


@case("reasoning model (max_tokens setting)")
def reasoning_model(mock: Mock) -> None:
    result = Agent(model(mock, "o3-mini"), model_settings={"max_tokens": 400, "temperature": 0.5}).run_sync("Say hello.")
    sent = mock.completions()[-1]["body"]
    assert result.output and sent["max_completion_tokens"] == 400 and "temperature" not in sent


@case("streamed tool call, then output_type")
async def streamed_tool_output(mock: Mock) -> None:
    mock.rules({"match": {"role": "user"}, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]})
    async with weather_agent(mock, output_type=City).run_stream("Which city is warm?") as result:
        output = await result.get_output()
    assert isinstance(output, City) and mock.completions()[0]["body"]["stream"] is True


@case("mid-stream error surfaced")
async def stream_error(mock: Mock) -> None:
    client = openai.AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=0,
                                default_headers={"X-Mock-Fault": "error-after=2,error=overloaded"})
    async with client:
        agent = Agent(OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client)))
        try:
            async with agent.run_stream("Say hello to the matrix.") as result:
                [piece async for piece in result.stream_text(delta=True, debounce_by=None)]
        except ModelHTTPError as exc:
            assert "overloaded" in str(exc.body)
        else:
            raise AssertionError("the stream ended without an error")


@case("truncated stream visible",
      xfail="library limitation: a stream that ends after two chunks with no finish_reason and no [DONE] "
            "(X-Mock-Fault: truncate-after=2) gives a ModelResponse with finish_reason 'stop', so the reply "
            "cut short looks complete")
async def truncated_stream(mock: Mock) -> None:
    client = openai.AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY,
                                default_headers={"X-Mock-Fault": "truncate-after=2"})
    async with client:
        agent = Agent(OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client)))
        async with agent.run_stream("Say hello to the matrix.") as result:
            await result.get_output()
    response = result.all_messages()[-1]
    assert response.finish_reason is None, f"a stream cut short looks finished: {response.finish_reason}"


@case("429 retried")
def retried(mock: Mock) -> None:
    mock.rules({"error": {"status": 429, "retry_after": 0.01}, "times": 2})
    assert Agent(model(mock)).run_sync("Say hello to the matrix.").output
    assert mock.statuses() == [429, 429, 200]


@case("error kinds mapped to pydantic-ai categories")
def error_mapping(mock: Mock) -> None:
    expected = {"invalid_api_key": ModelAuthenticationError, "model_not_found": ModelNotFoundError,
                "insufficient_quota": ModelQuotaExceededError, "overloaded": ModelOverloadedError,
                "server_error": ModelServerError}
    for kind, exception in expected.items():
        mock.reset()
        mock.rules({"error": {"kind": kind}})
        try:
            Agent(model(mock, max_retries=0)).run_sync("Say hello to the matrix.")
        except exception:
            continue
        except Exception as exc:
            raise AssertionError(f"{kind}: {type(exc).__name__}, not {exception.__name__}") from exc
        raise AssertionError(f"{kind}: no error")


@case("error surfaced")
def error_surfaced(mock: Mock) -> None:
    mock.rules({"error": {"status": 400, "kind": "context_length_exceeded", "param": "messages"}})
    try:
        Agent(model(mock)).run_sync("Say hello to the matrix.")
    except ModelContextWindowExceededError as exc:
        assert isinstance(exc, ModelHTTPError) and exc.status_code == 400
    else:
        raise AssertionError("no ModelContextWindowExceededError")


if __name__ == "__main__":
    main("pydantic-ai", "pydantic-ai-slim")
