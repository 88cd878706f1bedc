"""Usage as the real API counts it, checked against OpenAI's own recorded replies (`../shared/reference`).

Every recorded request is replayed to the mock: `prompt_tokens` must equal the recorded figure, and
`completion_tokens` must equal the real counting rule (`billing.py`) applied to what the mock answered. The
rule itself is checked first against every recorded reply.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from billing import completion_cost
from wire import assert_completion, post

from mockserver import MockServer

# requests.json gives this stream's request without the docstring description of `GetWeatherArgs`, which
# openai-python's streaming test sends (`pydantic_function_tool` copies it into the function and its
# parameters); the non-streamed twin in non-streaming.json keeps it, and both were billed 149 prompt tokens.
# The replay sends the twin's tools; `test_restored_request_differs_only_by_descriptions` keeps that honest.
_STREAM_LACKING_DESCRIPTIONS = "f82268f2fefd5cfbc7eeb59c297688be2f6ca0849a6e4f17851b517310841d9b.bin"
_TWIN = "test_parse_multiple_pydantic_tools"


def _stream_reply(raw: str) -> dict[str, Any]:
    """A recorded or served event stream folded into the non-streamed shape: choices and the usage."""
    choices: dict[int, dict[str, Any]] = {}
    usage = None
    for line in raw.splitlines():
        if not line.startswith("data: {"):
            continue
        chunk = json.loads(line[len("data: "):])
        usage = chunk.get("usage") or usage
        for part in chunk.get("choices") or ():
            choice = choices.setdefault(part["index"], {"message": {}, "finish_reason": None})
            message = choice["message"]
            choice["finish_reason"] = part.get("finish_reason") or choice["finish_reason"]
            for key in ("content", "refusal"):
                if part["delta"].get(key) is not None:
                    message[key] = message.get(key, "") + part["delta"][key]
            for call in part["delta"].get("tool_calls") or ():
                calls = message.setdefault("tool_calls", [])
                if call["index"] == len(calls):
                    calls.append({"function": {"name": "", "arguments": ""}})
                function = calls[call["index"]]["function"]
                function["name"] += call.get("function", {}).get("name") or ""
                function["arguments"] += call.get("function", {}).get("arguments") or ""
    return {"choices": [choices[index] for index in sorted(choices)], "usage": usage}


def _recordings(reference: Path) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, request, recorded reply) for every recorded exchange whose request is known."""
    folder = reference / "openai-recordings"
    twins = {entry["test"]: entry for entry in json.loads((folder / "non-streaming.json").read_text())}
    for name, entry in json.loads((folder / "requests.json").read_text()).items():
        request = copy.deepcopy(entry["request"])
        if name == _STREAM_LACKING_DESCRIPTIONS:
            request["tools"] = twins[_TWIN]["request"]["tools"]
        yield name, request, _stream_reply((folder / name).read_text())
    for test, entry in twins.items():
        if entry["request"] is not None:
            yield test, entry["request"], entry["response"]


@pytest.fixture(scope="module")
def recordings(reference: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return list(_recordings(reference))


def test_restored_request_differs_only_by_descriptions(reference: Path) -> None:
    folder = reference / "openai-recordings"
    streamed = json.loads((folder / "requests.json").read_text())[_STREAM_LACKING_DESCRIPTIONS]["request"]
    twin = next(entry["request"] for entry in json.loads((folder / "non-streaming.json").read_text())
                if entry["test"] == _TWIN)

    def without_descriptions(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stripped = copy.deepcopy(tools)
        stripped[0]["function"].pop("description", None)
        stripped[0]["function"]["parameters"].pop("description", None)
        return stripped

    assert without_descriptions(twin["tools"]) == streamed["tools"] != twin["tools"]
    assert streamed["messages"] == twin["messages"]


def test_the_counting_rule_reproduces_every_recorded_completion(recordings: list) -> None:
    assert len(recordings) == 24
    for name, request, reply in recordings:
        assert completion_cost(request, reply) == reply["usage"]["completion_tokens"], name


def _replay(server: MockServer, request: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """The mock's answer to a recorded request: streamed when it was, with the recorded refusal when the real
    model refused (the test switch `X-Mock-Refusal` says what to refuse with)."""
    refusals = {choice["message"].get("refusal") for choice in reply["choices"]} - {None}
    headers = {"X-Mock-Refusal": refusals.pop()} if refusals else {}
    body = dict(request)
    if body.get("stream"):
        body["stream_options"] = {"include_usage": True}
        served = post(server.url, body, headers)
        assert served.status == 200, served.raw[:300]
        return _stream_reply(served.raw.decode())
    return assert_completion(post(server.url, body, headers))


def test_replayed_requests_get_the_recorded_prompt_tokens(server: MockServer, recordings: list) -> None:
    matched = 0
    for name, request, reply in recordings:
        served = _replay(server, request, reply)
        assert served["usage"]["prompt_tokens"] == reply["usage"]["prompt_tokens"], name
        matched += 1
    assert matched == len(recordings)


def test_replayed_requests_bill_the_mocks_output_by_the_realcompletion_cost(server: MockServer, recordings: list) -> None:
    kinds = set()
    for name, request, reply in recordings:
        served = _replay(server, request, reply)
        assert served["usage"]["completion_tokens"] == completion_cost(request, served), name
        for choice in served["choices"]:
            message = choice["message"]
            kinds.add("length" if choice["finish_reason"] == "length" else "refusal" if message.get("refusal")
                      else "tool_calls" if message.get("tool_calls") else "content")
    assert kinds == {"length", "refusal", "tool_calls", "content"}
