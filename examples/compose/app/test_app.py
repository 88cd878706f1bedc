"""An application's integration tests against the mock service of compose.yaml.

The official client reads OPENAI_BASE_URL and OPENAI_API_KEY, so the code under test needs no change to
talk to the mock; MOCK_ADMIN_URL is where a test scripts a reply or reads what was sent.
"""

from __future__ import annotations

import json
import os
import urllib.request

import openai
import pytest

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def admin(method: str, path: str, body: object = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{os.environ['MOCK_ADMIN_URL']}/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(autouse=True)
def fresh_mock() -> None:
    """Back to the scenario the service started with, and an empty journal, before every test."""
    admin("POST", "reset")


def answer(question: str) -> str:
    """The application's code under test: a one-tool agent loop."""
    client = openai.OpenAI()
    messages: list[dict] = [{"role": "user", "content": question}]
    while True:
        message = client.chat.completions.create(model="gpt-4o-mini", messages=messages,
                                                 tools=[WEATHER]).choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            city = json.loads(call.function.arguments)["city"]
            messages.append({"role": "tool", "tool_call_id": call.id, "content": f"18 degrees in {city}"})


def test_agent_loop_from_the_scenario() -> None:
    assert answer("What is the weather in Paris?") == "It is 18 degrees Celsius and sunny in Paris."
    sent = [entry["body"] for entry in admin("GET", "journal")["data"]]
    assert [body["messages"][-1]["role"] for body in sent] == ["user", "tool"]


def test_a_rule_of_its_own() -> None:
    admin("POST", "rules", {"match": {"last_user": "ping"}, "reply": "pong"})
    reply = openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content == "pong"


def test_rate_limit_is_retried() -> None:
    admin("POST", "rules", {"match": {"last_user": "ping"},
                            "sequence": [{"error": {"status": 429, "retry_after": 0.01}}, {"reply": "pong"}]})
    client = openai.OpenAI(max_retries=1)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content == "pong"
    assert [entry["status"] for entry in admin("GET", "journal")["data"]] == [429, 200]
