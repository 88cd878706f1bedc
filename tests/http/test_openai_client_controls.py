"""The official `openai` client against scripted faults: retries honour retry-after, give up with the
right exception class, and an agent loop runs end to end on rules."""

from __future__ import annotations

import json
import time

import openai
import pytest

from mockserver import Config, MockServer
from mockserver.contract import error_kind, fixtures_dir
from mockserver.controls.rules import load_scenario
from mockserver.run.pytest_plugin import MockOpenAI

HELLO = [{"role": "user", "content": "Hello"}]


def client(mock: MockOpenAI, **options: object) -> openai.OpenAI:
    return openai.OpenAI(base_url=mock.base_url, api_key=mock.api_key, **options)


def test_retries_429_then_succeeds(mock_openai: MockOpenAI) -> None:
    mock_openai.fail(429, retry_after=0.01, times=2)
    reply = client(mock_openai, max_retries=2).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert reply.choices[0].message.content
    assert [r.status for r in mock_openai.requests] == [429, 429, 200]


def test_retry_after_is_honoured(mock_openai: MockOpenAI) -> None:
    mock_openai.fail(503, retry_after=0.3, times=1)
    started = time.monotonic()
    client(mock_openai, max_retries=1).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert time.monotonic() - started >= 0.3
    assert [r.status for r in mock_openai.requests] == [503, 200]


@pytest.mark.parametrize(("status", "kind", "exception", "attempts"), [
    (429, "rate_limit_exceeded", openai.RateLimitError, 3),
    (500, "server_error", openai.InternalServerError, 3),
    (503, "overloaded", openai.InternalServerError, 3),
    (401, "invalid_api_key", openai.AuthenticationError, 1),
    (403, "permission_denied", openai.PermissionDeniedError, 1),
    (404, "model_not_found", openai.NotFoundError, 1),
    (400, "context_length_exceeded", openai.BadRequestError, 1),
])
def test_gives_up_with_the_right_exception(mock_openai: MockOpenAI, status: int, kind: str,
                                           exception: type[openai.APIStatusError], attempts: int) -> None:
    mock_openai.fail(status, kind=kind, retry_after=0.01)
    with pytest.raises(exception) as caught:
        client(mock_openai, max_retries=2).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert caught.value.status_code == status
    assert caught.value.code == error_kind(kind).code
    assert caught.value.request_id and caught.value.request_id.startswith("req_")
    assert len(mock_openai.requests) == attempts


def test_rate_limiter_drives_client_backoff() -> None:
    with MockServer(Config(port=0, rate_limit_rpm=30)) as server:
        fast = openai.OpenAI(base_url=server.base_url, api_key="sk-a", max_retries=0)
        with pytest.raises(openai.RateLimitError):
            for _ in range(100):
                fast.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        patient = openai.OpenAI(base_url=server.base_url, api_key="sk-a", max_retries=3)
        reply = patient.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
        assert reply.status_code == 200
        assert reply.retries_taken >= 1


WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                   "required": ["city"]}}}


def get_weather(city: str, unit: str = "celsius") -> dict[str, object]:
    return {"city": city, "temperature": 18, "unit": unit, "sky": "sunny"}


def run_agent(chat: openai.OpenAI, question: str) -> tuple[str, list[dict[str, object]]]:
    """A minimal agent: call the model, run the tools it asks for, until it answers in text."""
    messages: list[dict[str, object]] = [{"role": "user", "content": question}]
    for _ in range(4):
        reply = chat.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or "", messages
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = get_weather(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    raise AssertionError("the agent did not finish")


def test_agent_loop_scripted_with_the_fluent_api(mock_openai: MockOpenAI) -> None:
    mock_openai.on(last_user="weather", role="user").tool_call("get_weather", {"city": "Paris"})
    mock_openai.on(role="tool").reply("It is 18 degrees and sunny in Paris.")
    answer, messages = run_agent(client(mock_openai), "What's the weather in Paris?")
    assert answer == "It is 18 degrees and sunny in Paris."
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    last = mock_openai.last_request
    assert last.rule is not None and last.messages[-1]["role"] == "tool"
    assert json.loads(last.messages[-1]["content"])["temperature"] == 18
    assert last.messages[-1]["tool_call_id"] == last.messages[1]["tool_calls"][0]["id"]


def test_agent_loop_from_the_scenario_file() -> None:
    scenario = load_scenario(fixtures_dir() / "scenarios" / "agent_loop.yaml")
    with MockServer(Config(port=0, scenario=scenario)) as server:
        chat = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        answer, _ = run_agent(chat, "How is the weather in Paris?")
        assert answer == "It is 18 degrees Celsius and sunny in Paris."
        with pytest.raises(openai.NotFoundError):
            chat.chat.completions.create(model="gpt-4o-mini", messages=HELLO)


def test_structured_and_refusal_replies(mock_openai: MockOpenAI) -> None:
    mock_openai.on(last_user="json").object({"name": "Ada", "born": 1815})
    mock_openai.on(last_user="forbidden").refuse("I can't help with that.")
    chat = client(mock_openai)
    structured = chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "json"}])
    assert json.loads(structured.choices[0].message.content) == {"name": "Ada", "born": 1815}
    refused = chat.chat.completions.create(model="gpt-4o-mini",
                                           messages=[{"role": "user", "content": "forbidden"}])
    assert refused.choices[0].message.refusal == "I can't help with that."
    assert refused.choices[0].message.content is None
    assert refused.usage.completion_tokens > 0
