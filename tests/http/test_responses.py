"""`/v1/responses` through the official client and raw HTTP: replies, the typed event stream, `parse` with a
Pydantic model, the agent loop over `previous_response_id`, stored responses, and the controls."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from pydantic import BaseModel
from wire import assert_error, post_raw, send, validator

from mockserver import Config, MockServer
from mockserver.contract.sse import read_events

MODEL = "gpt-4o-mini"
WEATHER = {"type": "function", "name": "get_weather", "description": "Current weather in a city.", "strict": True,
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                          "additionalProperties": False}}


class City(BaseModel):
    name: str
    country: str


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(Config(port=0, seed=2, clock=1_700_000_000)) as server:
        yield server


def _client(server: MockServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def _post(server: MockServer, body: dict, headers: dict | None = None) -> object:
    return post_raw(server.url, json.dumps(body).encode(), path="/v1/responses", headers=headers)


def test_reply_has_the_contract_shape(mock: MockServer) -> None:
    body = _post(mock, {"model": MODEL, "input": "Hello!", "instructions": "Be brief.", "metadata": {"k": "v"}}).json()
    validator("response").validate(body)
    assert body["object"] == "response" and body["status"] == "completed" and body["id"].startswith("resp_")
    (message,) = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant" and message["id"].startswith("msg_")
    assert message["content"][0]["type"] == "output_text" and message["content"][0]["text"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert body["instructions"] == "Be brief." and body["metadata"] == {"k": "v"}


def test_client_create_is_deterministic_and_honours_max_output_tokens(mock: MockServer) -> None:
    client = _client(mock)
    first = client.responses.create(model=MODEL, input="Tell me about rivers.", temperature=0)
    again = client.responses.create(model=MODEL, input="Tell me about rivers.", temperature=0)
    assert first.output_text == again.output_text and first.id != again.id
    cut = client.responses.create(model=MODEL, input="Tell me about rivers.", temperature=0, max_output_tokens=16)
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
    assert cut.usage.output_tokens == 16 and first.output_text.startswith(cut.output_text)


def test_streamed_events_arrive_in_order(mock: MockServer) -> None:
    client = _client(mock)
    whole = client.responses.create(model=MODEL, input="Tell me a story.", temperature=0)
    events = list(client.responses.create(model=MODEL, input="Tell me a story.", temperature=0, stream=True))
    kinds = [event.type for event in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == whole.output_text == events[-1].response.output_text


def test_raw_stream_names_each_event(mock: MockServer) -> None:
    reply = _post(mock, {"model": MODEL, "input": "Hi", "stream": True, "stream_options": {"include_obfuscation": False}})
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = list(read_events(reply.raw))
    assert all(event.event == event.json()["type"] for event in events)
    assert not any(event.done for event in events), "the Responses API sends no [DONE]"
    for event in events:
        validator("response_stream_event").validate(event.json())
        assert "obfuscation" not in event.json()


def test_stream_helper_and_async(mock: MockServer) -> None:
    with _client(mock).responses.stream(model=MODEL, input="Say hello.") as stream:
        texts = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(texts) == final.output_text

    async def run() -> str:
        async with openai.AsyncOpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0) as client:
            stream = await client.responses.create(model=MODEL, input="Say hello.", stream=True)
            return "".join([event.delta async for event in stream if event.type == "response.output_text.delta"])

    import asyncio

    assert asyncio.run(run()) == final.output_text


def test_parse_with_a_pydantic_model(mock: MockServer) -> None:
    parsed = _client(mock).responses.parse(model=MODEL, input="Name a city.", text_format=City)
    assert isinstance(parsed.output_parsed, City) and parsed.output_parsed.name
    sent = json.loads(send(mock.url, "GET", "/_mock/journal").raw)["data"][-1]["body"]
    assert sent["text"]["format"]["type"] == "json_schema" and sent["text"]["format"]["strict"] is True


async def test_async_parse(mock: MockServer) -> None:
    async with openai.AsyncOpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0) as client:
        parsed = await client.responses.parse(model=MODEL, input="Name a city.", text_format=City)
    assert isinstance(parsed.output_parsed, City)


def test_agent_loop_over_previous_response_id(mock: MockServer) -> None:
    """A function call after user input, then text that quotes the function's output."""
    client = _client(mock)
    first = client.responses.create(model=MODEL, input="What is the weather in Paris?", tools=[WEATHER])
    (call,) = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and "city" in json.loads(call.arguments) and call.call_id.startswith("call_")
    second = client.responses.create(model=MODEL, previous_response_id=first.id, tools=[WEATHER],
                                     input=[{"type": "function_call_output", "call_id": call.call_id,
                                             "output": "18 degrees and sunny"}])
    assert second.output[0].type == "message" and "18 degrees and sunny" in second.output_text
    assert second.previous_response_id == first.id
    assert second.usage.input_tokens > first.usage.input_tokens


def test_agent_loop_with_the_whole_history_as_input(mock: MockServer) -> None:
    client = _client(mock)
    items: list = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.responses.create(model=MODEL, input=items, tools=[WEATHER], store=False)
    items += [item.model_dump(exclude_none=True) for item in first.output]
    items += [{"type": "function_call_output", "call_id": first.output[0].call_id, "output": "rain"}]
    second = client.responses.create(model=MODEL, input=items, tools=[WEATHER], store=False)
    assert "rain" in second.output_text


def test_stored_responses_are_retrieved_and_reset_clears_them(mock: MockServer) -> None:
    client = _client(mock)
    stored = client.responses.create(model=MODEL, input="Remember me.")
    assert client.responses.retrieve(stored.id).output_text == stored.output_text
    unstored = client.responses.create(model=MODEL, input="Forget me.", store=False)
    with pytest.raises(openai.NotFoundError, match="not found"):
        client.responses.retrieve(unstored.id)
    send(mock.url, "POST", "/_mock/reset")
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(stored.id)
    with pytest.raises(openai.NotFoundError, match="Previous response"):
        client.responses.create(model=MODEL, input="Again", previous_response_id=stored.id)


def test_rules_script_responses_and_see_the_conversation(mock: MockServer) -> None:
    rules = [{"match": {"endpoint": "responses", "last_user": "weather"},
              "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}], "times": 1},
             {"match": {"endpoint": "responses", "role": "tool"}, "reply": "Cold in Oslo."},
             {"match": {"endpoint": "responses.retrieve"}, "error": {"status": 503}, "times": 1}]
    send(mock.url, "POST", "/_mock/rules", json.dumps({"rules": rules}).encode(), {"Content-Type": "application/json"})
    client = _client(mock)
    first = client.responses.create(model=MODEL, input="weather please", tools=[WEATHER])
    assert json.loads(first.output[0].arguments) == {"city": "Oslo"}
    second = client.responses.create(model=MODEL, previous_response_id=first.id, tools=[WEATHER],
                                     input=[{"type": "function_call_output", "call_id": first.output[0].call_id,
                                             "output": "-3"}])
    assert second.output_text == "Cold in Oslo."
    with pytest.raises(openai.InternalServerError):
        client.responses.retrieve(second.id)
    assert client.responses.retrieve(second.id).id == second.id
    journal = json.loads(send(mock.url, "GET", "/_mock/journal").raw)["data"]
    assert [entry["rule"] for entry in journal] == ["rule-1", "rule-2", "rule-3", None]


def test_faults_and_refusals_apply(mock: MockServer) -> None:
    client = _client(mock)
    with pytest.raises(openai.APIError, match="overloaded"):
        for _ in client.responses.create(model=MODEL, input="Hi", stream=True,
                                         extra_headers={"X-Mock-Fault": "error-after=3,error=overloaded"}):
            pass
    refused = client.responses.create(model=MODEL, input="Hi", extra_headers={"X-Mock-Refusal": "No."})
    assert refused.output[0].content[0].type == "refusal" and refused.output[0].content[0].refusal == "No."


def test_reasoning_model_reports_a_reasoning_item(mock: MockServer) -> None:
    reply = _client(mock).responses.create(model="o3-mini", input="Think.", reasoning={"effort": "low"},
                                           include=["reasoning.encrypted_content"])
    assert reply.output[0].type == "reasoning" and reply.output[0].encrypted_content
    assert reply.usage.output_tokens_details.reasoning_tokens > 0


def test_logprobs_when_included(mock: MockServer) -> None:
    reply = _client(mock).responses.create(model=MODEL, input="Hi", include=["message.output_text.logprobs"],
                                           top_logprobs=2)
    part = reply.output[0].content[0]
    assert "".join(entry.token for entry in part.logprobs) == part.text
    assert all(len(entry.top_logprobs) == 2 for entry in part.logprobs)


@pytest.mark.parametrize(("body", "status", "param", "needle"), [
    ({"input": "x", "max_output_tokens": 8}, 400, "max_output_tokens", ">= 16"),
    ({"input": "x", "previous_response_id": "resp_missing"}, 404, "previous_response_id", "not found"),
    ({"input": "x", "conversation": "conv_1"}, 404, "conversation", "Conversation with id 'conv_1' not found"),
    ({"input": "x", "prompt": {"id": "pmpt_1"}}, 404, "prompt", "Prompt with id 'pmpt_1' not found"),
    ({}, 400, "input", "Missing required parameter: 'input'"),
    ({"input": "x", "messages": []}, 400, None, "Unrecognized request argument supplied: messages"),
    ({"input": [{"type": "function_call_output", "call_id": "call_1", "output": "x"}]}, 400, "input",
     "No tool call found"),
    ({"input": "x", "tool_choice": {"type": "function", "name": "nope"}, "tools": [WEATHER]}, 400, "tool_choice",
     "not found in 'tools'"),
    ({"input": "x", "text": {"format": {"type": "json_object"}}}, 400, "text.format", "json"),
    ({"input": "x", "tools": [{"type": "web_search"}]}, 400, "tools.[0].type", "Supported values"),
    ({"input": "x", "temperature": 3}, 400, "temperature", "maximum"),
    ({"input": "x", "tools": [{**WEATHER, "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}]},
     400, "tools.[0].parameters", "additionalProperties"),
    ({"model": "gpt-3.5-turbo-instruct", "input": "x"}, 404, "model", "v1/responses"),
])
def test_refusals(mock: MockServer, body: dict, status: int, param: str | None, needle: str) -> None:
    error = assert_error(_post(mock, {"model": MODEL, **body}), status=status, param=param)
    assert needle in error["message"]


def test_reasoning_models_refuse_temperature(mock: MockServer) -> None:
    assert_error(_post(mock, {"model": "o3-mini", "input": "x", "temperature": 0.5}), param="temperature")
