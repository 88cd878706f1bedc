"""LlamaIndex's OpenAILike LLM, as RAG apps and agents use it: chat and complete, their streams, tool
calling (`chat_with_tools`, `predict_and_call`), structured prediction, retries and errors."""

from __future__ import annotations

import openai
from harness import API_KEY, MODEL, Mock, case, main
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai_like import OpenAILike
from pydantic import BaseModel

HI = [ChatMessage(role="user", content="Say hello to the matrix.")]


class City(BaseModel):
    name: str
    country: str


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"18 degrees in {city}"


WEATHER = FunctionTool.from_defaults(fn=get_weather)


def llm(mock: Mock, **options: object) -> OpenAILike:
    return OpenAILike(model=MODEL, api_base=mock.base_url, api_key=API_KEY, is_chat_model=True,
                      is_function_calling_model=True, context_window=128000, **options)


@case("chat")
def chat(mock: Mock) -> None:
    reply = llm(mock).chat(HI)
    assert reply.message.content and reply.raw.choices[0].finish_reason == "stop"


@case("complete")
def complete(mock: Mock) -> None:
    assert llm(mock).complete("Say hello to the matrix.").text


@case("stream_chat")
def stream_chat(mock: Mock) -> None:
    model = llm(mock)
    whole = model.chat(HI).message.content
    chunks = list(model.stream_chat(HI))
    assert len(chunks) > 1 and "".join(c.delta for c in chunks) == chunks[-1].message.content == whole


@case("astream_chat")
async def astream_chat(mock: Mock) -> None:
    pieces = [chunk.delta async for chunk in await llm(mock).astream_chat(HI)]
    assert "".join(pieces)


@case("chat_with_tools loop ends")
def tool_loop(mock: Mock) -> None:
    model = llm(mock)
    messages = [ChatMessage(role="user", content="What is the weather in Paris?")]
    for _ in range(5):
        reply = model.chat_with_tools([WEATHER], chat_history=messages)
        calls = model.get_tool_calls_from_response(reply, error_on_no_tool_call=False)
        messages.append(reply.message)
        if not calls:
            break
        for call in calls:
            messages.append(ChatMessage(role="tool", content=get_weather(**call.tool_kwargs),
                                        additional_kwargs={"tool_call_id": call.tool_id}))
    else:
        raise AssertionError("the loop never ended")
    assert messages[-2].role == "tool" and "18 degrees" in reply.message.content


@case("stream_chat_with_tools")
def stream_tools(mock: Mock) -> None:
    model = llm(mock)
    last = None
    for last in model.stream_chat_with_tools([WEATHER], user_msg="What is the weather in Paris?",
                                             tool_required=True):
        pass
    calls = model.get_tool_calls_from_response(last)
    assert [call.tool_name for call in calls][:1] == ["get_weather"] and isinstance(calls[0].tool_kwargs["city"], str)


@case("predict_and_call")
def predict_and_call(mock: Mock) -> None:
    output = llm(mock).predict_and_call([WEATHER], user_msg="What is the weather in Paris?")
    assert output.response.startswith("18 degrees in") and output.sources[0].tool_name == "get_weather"


@case("structured_predict")
def structured(mock: Mock) -> None:
    city = llm(mock).structured_predict(City, PromptTemplate("Name a city in {region}."), region="Europe")
    assert isinstance(city, City)


@case("mid-stream error surfaced")
def stream_error(mock: Mock) -> None:
    try:
        list(llm(mock, max_retries=0, default_headers={"X-Mock-Fault": "error-after=2,error=overloaded"})
             .stream_chat(HI))
    except openai.APIError as exc:
        assert "overloaded" in str(exc)
    else:
        raise AssertionError("the stream ended without an error")


@case("truncated stream visible")
def truncated_stream(mock: Mock) -> None:
    chunks = list(llm(mock, default_headers={"X-Mock-Fault": "truncate-after=2"}).stream_chat(HI))
    assert chunks and chunks[-1].raw.choices[0].finish_reason is None, "a stream cut short looks finished"


@case("429 retried")
def retried(mock: Mock) -> None:
    mock.rules({"error": {"status": 429, "retry_after": 0.01}, "times": 2})
    assert llm(mock, max_retries=2).chat(HI).message.content
    assert mock.statuses()[-1] == 200 and mock.statuses().count(429) == 2


@case("error surfaced")
def error_surfaced(mock: Mock) -> None:
    mock.rules({"error": {"status": 400, "kind": "context_length_exceeded", "param": "messages"}})
    try:
        llm(mock).chat(HI)
    except openai.BadRequestError as exc:
        assert exc.code == "context_length_exceeded"
    else:
        raise AssertionError("no BadRequestError")


if __name__ == "__main__":
    main("llama-index", "llama-index-llms-openai-like")
