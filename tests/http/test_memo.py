"""The memo of request bodies (`Config.memo_entries`) must never change a byte: a server that remembers
what bodies it validated and planned answers a run exactly as one that works every request out afresh,
whatever the settings do between the repeats."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.controls.config import Config
from mockserver.run.server import MockServer
from wire import Reply, send

CLOCK = 1_700_000_000
CHAT = "/v1/chat/completions"


def _chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "max_tokens": 20, **extra}


TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
BODIES: list[tuple[str, dict[str, Any]]] = [
    (CHAT, _chat("Tell me about tides.")),
    (CHAT, _chat("Tell me about tides.", stream=True, stream_options={"include_usage": True})),
    (CHAT, _chat("Two answers, with their odds.", n=2, logprobs=True, top_logprobs=2)),
    (CHAT, _chat("Look up the weather in Oslo.", tools=[TOOL], tool_choice="required")),
    (CHAT, _chat("Answer as JSON.", response_format={"type": "json_object"})),
    (CHAT, _chat("Too many tokens.", max_tokens=10**9)),
    ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon a time", "max_tokens": 12}),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 4}),
    ("/v1/responses", {"model": "gpt-4o-mini", "input": "Hello there", "max_output_tokens": 16}),
]
"""Every kind of reply the memo can hold (bodies, streams, tool calls, errors), each sent several times."""

SETTINGS: list[tuple[str, Any]] = [
    ("/_mock/quirks", ["n_ignored", "no_usage"]),
    ("/_mock/rules", {"match": {"last_user": "tides"}, "reply": "Scripted.", "times": 1}),
    ("/_mock/quirks", []),
    ("/_mock/reset", {}),
]
"""Changes between the repeats that act on a remembered body: quirks, a rule for one request, a reset."""


def _run(url: str) -> list[Reply]:
    replies = []
    for step in range(len(SETTINGS) + 1):
        for path, body in BODIES * 2:
            replies.append(send(url, "POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"}))
        if step < len(SETTINGS):
            path, body = SETTINGS[step]
            assert send(url, "POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"}).status < 300
    return replies


@pytest.fixture(scope="module")
def fresh() -> list[Reply]:
    with MockServer(Config(seed=5, clock=CLOCK, memo_entries=0)) as server:
        return _run(server.url)


def test_a_remembering_server_answers_byte_for_byte_as_a_fresh_one(fresh: list[Reply]) -> None:
    with MockServer(Config(seed=5, clock=CLOCK)) as server:
        remembered = _run(server.url)
    assert len(remembered) == len(fresh)
    for index, (one, two) in enumerate(zip(fresh, remembered, strict=True)):
        assert (one.status, one.raw) == (two.status, two.raw), index
        assert one.headers.get("x-request-id") == two.headers.get("x-request-id")
    # The run holds what makes the comparison bite: scripted and quirked replies, errors, distinct ids.
    texts = b"".join(reply.raw for reply in fresh)
    assert b"Scripted." in texts and {reply.status for reply in fresh} >= {200, 400}
    firsts = [json.loads(reply.raw)["id"] for reply in fresh[:2 * len(BODIES):len(BODIES)]]
    assert firsts[0] != firsts[1]


def test_a_small_memo_forgets_and_still_answers_the_same(fresh: list[Reply]) -> None:
    with MockServer(Config(seed=5, clock=CLOCK, memo_entries=2)) as server:
        assert [(reply.status, reply.raw) for reply in _run(server.url)] == [(r.status, r.raw) for r in fresh]


def test_a_remembered_verdict_ends_with_the_setting_it_relied_on() -> None:
    # `unknown_model_ok` lets a server restricted to some models accept others; once the quirk is gone the
    # same body must get the 404 again, not the acceptance remembered from before.
    body = json.dumps(_chat("Hello", model="not-a-listed-model")).encode()
    headers = {"Content-Type": "application/json"}
    with MockServer(Config(seed=5, clock=CLOCK, models=("gpt-4o-mini",))) as server:
        assert send(server.url, "POST", CHAT, body, headers).status == 404
        assert send(server.url, "POST", "/_mock/quirks", b'["unknown_model_ok"]', headers).status == 200
        assert [send(server.url, "POST", CHAT, body, headers).status for _ in range(2)] == [200, 200]
        assert send(server.url, "POST", "/_mock/quirks", b"[]", headers).status == 200
        assert send(server.url, "POST", CHAT, body, headers).status == 404
