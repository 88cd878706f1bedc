"""langchain-openai's ChatOpenAI as chains and agents use it: invoke, stream, a bind_tools loop, both
structured-output methods, usage metadata, retries and errors; ChatOpenAI on the Responses API; and
OpenAIEmbeddings behind a vector store that retrieves by similarity."""

from __future__ import annotations

import openai
from harness import API_KEY, MODEL, Mock, case, main
from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel


class Person(BaseModel):
    name: str
    age: int


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"18 degrees in {city}"


def chat(mock: Mock, model: str = MODEL, **options: object) -> ChatOpenAI:
    return ChatOpenAI(model=model, base_url=mock.base_url, api_key=API_KEY, **options)


@case("invoke")
def invoke(mock: Mock) -> None:
    reply = chat(mock).invoke("Say hello to the matrix.")
    assert isinstance(reply.content, str) and reply.content
    assert reply.response_metadata["finish_reason"] == "stop"


@case("usage_metadata")
def usage(mock: Mock) -> None:
    reply = chat(mock).invoke("Say hello to the matrix.")
    meta = reply.usage_metadata
    assert meta["total_tokens"] == meta["input_tokens"] + meta["output_tokens"] and meta["output_tokens"] > 0


@case("stream with usage")
def stream(mock: Mock) -> None:
    model = chat(mock, stream_usage=True)
    whole = model.invoke("Say hello to the matrix.").content
    chunks = list(model.stream("Say hello to the matrix."))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk) and total.content == whole
    assert total.usage_metadata["output_tokens"] > 0


@case("async stream")
async def astream(mock: Mock) -> None:
    pieces = [chunk.content async for chunk in chat(mock).astream("Say hello to the matrix.")]
    assert "".join(pieces)


@case("bind_tools loop ends")
def tool_loop(mock: Mock) -> None:
    model = chat(mock).bind_tools([get_weather])
    messages: list = [HumanMessage("What is the weather in Paris?")]
    for _ in range(5):
        reply = model.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"]))
    else:
        raise AssertionError("the loop never ended")
    assert isinstance(messages[-2], ToolMessage) and "18 degrees" in messages[-1].content


@case("streamed tool-call chunks")
def stream_tools(mock: Mock) -> None:
    model = chat(mock).bind_tools([get_weather], tool_choice="get_weather")
    total = None
    for chunk in model.stream("What is the weather in Paris?"):
        total = chunk if total is None else total + chunk
    assert [call["name"] for call in total.tool_calls] == ["get_weather"]
    assert isinstance(total.tool_calls[0]["args"]["city"], str)


@case("with_structured_output json_schema")
def structured_json_schema(mock: Mock) -> None:
    person = chat(mock).with_structured_output(Person, method="json_schema").invoke("Invent a person.")
    assert isinstance(person, Person)
    assert mock.completions()[-1]["body"]["response_format"]["type"] == "json_schema"


@case("with_structured_output function_calling")
def structured_function_calling(mock: Mock) -> None:
    person = chat(mock).with_structured_output(Person, method="function_calling").invoke("Invent a person.")
    assert isinstance(person, Person)
    assert mock.completions()[-1]["body"]["tool_choice"]["function"]["name"] == "Person"


@case("streamed parallel tool calls")
def stream_parallel_tools(mock: Mock) -> None:
    mock.rules({"match": {"stream": True}, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}},
                                                           {"name": "get_weather", "arguments": {"city": "Rome"}}]})
    total = None
    for chunk in chat(mock).bind_tools([get_weather]).stream("Weather in Oslo and Rome?"):
        total = chunk if total is None else total + chunk
    assert [call["args"] for call in total.tool_calls] == [{"city": "Oslo"}, {"city": "Rome"}]


@case("reasoning model (max_tokens, reasoning_effort)")
def reasoning_model(mock: Mock) -> None:
    reply = chat(mock, model="o3-mini", max_tokens=400, reasoning_effort="low").invoke("Say hello.")
    sent = mock.completions()[-1]["body"]
    assert reply.content and sent["max_completion_tokens"] == 400 and "max_tokens" not in sent


@case("mid-stream error surfaced")
def stream_error(mock: Mock) -> None:
    model = chat(mock, max_retries=0, default_headers={"X-Mock-Fault": "error-after=2,error=overloaded"})
    try:
        for _ in model.stream("Say hello to the matrix."):
            pass
    except openai.APIError as exc:
        assert "overloaded" in str(exc)
    else:
        raise AssertionError("the stream ended without an error")


@case("truncated stream visible")
def truncated_stream(mock: Mock) -> None:
    total = None
    for chunk in chat(mock, default_headers={"X-Mock-Fault": "truncate-after=2"}).stream("Say hello."):
        total = chunk if total is None else total + chunk
    assert total.content and "finish_reason" not in total.response_metadata, total.response_metadata


@case("429 retried")
def retried(mock: Mock) -> None:
    mock.rules({"error": {"status": 429, "retry_after": 0.01}, "times": 2})
    assert chat(mock, max_retries=2).invoke("Say hello to the matrix.").content
    assert mock.statuses() == [429, 429, 200]


@case("error surfaced")
def error_surfaced(mock: Mock) -> None:
    mock.rules({"error": {"status": 400, "kind": "context_length_exceeded", "param": "messages"}})
    try:
        chat(mock).invoke("Say hello to the matrix.")
    except openai.BadRequestError as exc:
        assert exc.code == "context_length_exceeded"
    else:
        raise AssertionError("no BadRequestError")


DOCUMENTS = ["The river flows past the old mill into the sea.",
             "Quarterly revenue grew by twelve percent in Europe.",
             "Our cat sleeps on the warm kitchen windowsill."]


def embeddings(mock: Mock, **options: object) -> OpenAIEmbeddings:
    """`check_embedding_ctx_length=False` sends the texts as they are: the default first counts them with
    tiktoken, which downloads its vocabulary (no network here)."""
    return OpenAIEmbeddings(model="text-embedding-3-small", base_url=mock.base_url, api_key=API_KEY,
                            check_embedding_ctx_length=False, **options)


@case("OpenAIEmbeddings retrieval by similarity")
def retrieval(mock: Mock) -> None:
    store = InMemoryVectorStore.from_texts(DOCUMENTS, embedding=embeddings(mock))
    for query, expected in (("Where does the river flow?", 0), ("revenue in Europe", 1), ("a sleeping cat", 2)):
        (found,) = store.similarity_search(query, k=1)
        assert found.page_content == DOCUMENTS[expected], (query, found.page_content)
    vectors = embeddings(mock, dimensions=256).embed_documents(DOCUMENTS[:2])
    assert [len(vector) for vector in vectors] == [256, 256]


@case("OpenAIEmbeddings async")
async def async_embeddings(mock: Mock) -> None:
    vector = await embeddings(mock).aembed_query("hello")
    assert len(vector) == 1536 and abs(sum(v * v for v in vector) - 1) < 1e-4


@case("Responses API (use_responses_api)")
def responses_api(mock: Mock) -> None:
    reply = chat(mock, use_responses_api=True).invoke("Say hello to the matrix.")
    assert reply.text and reply.usage_metadata["output_tokens"] > 0
    assert mock.journal("/responses"), "ChatOpenAI sent nothing to /v1/responses"


@case("Responses API bind_tools loop ends")
def responses_tool_loop(mock: Mock) -> None:
    model = chat(mock, use_responses_api=True).bind_tools([get_weather])
    messages = [HumanMessage("What is the weather in Paris?")]
    reply = model.invoke(messages)
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "get_weather"
    messages += [reply, ToolMessage(get_weather.invoke(reply.tool_calls[0]["args"]), tool_call_id=reply.tool_calls[0]["id"])]
    final = model.invoke(messages)
    assert not final.tool_calls and "18 degrees" in final.text


if __name__ == "__main__":
    main("langchain-openai", "langchain-openai")
