"""`pytest -n 2 examples/xdist` (README "Recipes"): tests spread over two xdist workers, each with its own mock.

`mock_openai` is session-scoped and every xdist worker is a session of its own, so each worker starts one
mock on a free loopback port; its rules and journal are reset for each test, and tests running at the same
time on the other worker never see them.
"""

from __future__ import annotations

import openai
import pytest


@pytest.mark.parametrize("n", range(8))
def test_rules_and_journal_belong_to_the_test(mock_openai, n: int) -> None:
    mock_openai.on(last_user=f"ping {n}").reply(f"pong {n}")
    client = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"ping {n}"}])
    assert reply.choices[0].message.content == f"pong {n}"
    assert [request.body["messages"][0]["content"] for request in mock_openai.requests] == [f"ping {n}"]


@pytest.mark.parametrize("n", range(4))
def test_a_failure_scripted_in_one_test_stays_there(mock_openai, n: int) -> None:
    mock_openai.fail(429, retry_after=0.01, times=1)
    client = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key, max_retries=1)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert [request.status for request in mock_openai.requests] == [429, 200]
