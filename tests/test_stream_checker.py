"""The stream state machine accepts OpenAI's own recorded streams and flags each protocol break."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from wire import post

from conformance.stream_checker import StreamChecker, check_stream_text
from mockserver import MockServer


def _recordings(reference: Path) -> list[tuple[dict, str]]:
    folder = reference / "openai-recordings"
    requests = json.loads((folder / "requests.json").read_text())
    # The recorded streams end with a usage chunk, which the API sends only when asked for one.
    return [({**entry["request"], "stream_options": {"include_usage": True}}, (folder / name).read_text())
            for name, entry in sorted(requests.items())]


def test_recorded_openai_streams_pass(reference: Path) -> None:
    recordings = _recordings(reference)
    assert recordings
    for request, body in recordings:
        result = check_stream_text(request, "text/event-stream; charset=utf-8", body)
        assert result.violations == [], request
        assert result.done and result.usage is not None
        assert len(result.choices) == (request.get("n") or 1)


def test_recorded_tool_calls_assemble(reference: Path) -> None:
    with_tools = [(r, b) for r, b in _recordings(reference) if r.get("tools")]
    assert with_tools
    for request, body in with_tools:
        message = check_stream_text(request, "text/event-stream", body).as_completion()["choices"][0]["message"]
        for call in message.get("tool_calls", []):
            json.loads(call["function"]["arguments"])
            assert call["id"] and call["function"]["name"]


def _plain(reference: Path) -> tuple[dict, list[str]]:
    request, body = next((r, b) for r, b in _recordings(reference)
                         if not r.get("tools") and not r.get("n") and not r.get("response_format"))
    return request, body.splitlines()


def _violations(request: dict, lines: list[str], content_type: str = "text/event-stream") -> set[str]:
    return {v.check for v in check_stream_text(request, content_type, "\n".join(lines) + "\n").violations}


def _edit_chunk(line: str, change) -> str:
    chunk = json.loads(line[len("data: "):])
    change(chunk)
    return "data: " + json.dumps(chunk)


def test_missing_done(reference: Path) -> None:
    request, lines = _plain(reference)
    assert _violations(request, [line for line in lines if line != "data: [DONE]"]) == {"stream_done"}


def test_event_after_done(reference: Path) -> None:
    request, lines = _plain(reference)
    assert _violations(request, lines + ["", lines[0], ""]) == {"stream_nothing_after_done"}


def test_wrong_content_type(reference: Path) -> None:
    request, lines = _plain(reference)
    assert _violations(request, lines, "application/json") == {"stream_content_type"}


def test_role_repeated(reference: Path) -> None:
    request, lines = _plain(reference)
    second = next(i for i, line in enumerate(lines) if line.startswith("data: {") and i > 0)
    lines[second] = _edit_chunk(lines[second], lambda c: c["choices"][0]["delta"].update(role="assistant"))
    assert _violations(request, lines) == {"stream_role_once"}


def test_role_missing_first(reference: Path) -> None:
    request, lines = _plain(reference)
    lines[0] = _edit_chunk(lines[0], lambda c: c["choices"][0]["delta"].pop("role"))
    assert _violations(request, lines) == {"stream_role_first"}


def test_usage_not_asked(reference: Path) -> None:
    request, lines = _plain(reference)
    assert _violations({k: v for k, v in request.items() if k != "stream_options"}, lines) == {
        "stream_usage_only_when_asked"}


def test_usage_chunk_with_choices(reference: Path) -> None:
    request, lines = _plain(reference)
    usage_at = next(i for i, line in enumerate(lines) if '"usage"' in line)
    lines[usage_at] = _edit_chunk(lines[usage_at], lambda c: c.update(choices=[{"index": 0, "delta": {},
                                                                                "finish_reason": None}]))
    assert _violations(request, lines) == {"stream_usage_last"}


def test_changing_id(reference: Path) -> None:
    request, lines = _plain(reference)
    last = max(i for i, line in enumerate(lines) if line.startswith("data: {"))
    lines[last] = _edit_chunk(lines[last], lambda c: c.update(id="chatcmpl-other"))
    assert _violations(request, lines) == {"stream_consistent_ids"}


def test_not_json(reference: Path) -> None:
    request, lines = _plain(reference)
    assert _violations(request, ["data: {oops", "", *lines]) == {"stream_framing"}


@pytest.mark.parametrize("line", ["event: message", "id: 4", ": keep-alive", "retry: 100"])
def test_other_sse_fields_are_fine(reference: Path, line: str) -> None:
    request, lines = _plain(reference)
    assert _violations(request, [line, *lines]) == set()


def test_violation_seen_as_it_arrives() -> None:
    checker = StreamChecker({"model": "m", "messages": [], "stream": True})
    checker.start("text/event-stream")
    checker.feed_line('data: {"id": "a", "object": "chat.completion.chunk", "created": 1, "model": "m", '
                      '"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": null}]}')
    checker.feed_line("")
    assert [v.check for v in checker.violations] == ["stream_role_first"]


CUSTOM_TOOL_REQUEST = {
    "model": "gpt-4o-mini", "stream": True, "tool_choice": "required",
    "messages": [{"role": "user", "content": "Find the phone number."}],
    "tools": [{"type": "custom", "custom": {"name": "dial", "format": {
        "type": "grammar", "grammar": {"syntax": "regex", "definition": "[0-9]{3}-[0-9]{4}"}}}}],
}


def _mock_stream(request: dict) -> list[str]:
    with MockServer() as server:
        reply = post(server.url, request)
    assert reply.status == 200
    return reply.raw.decode().splitlines()


def test_streamed_custom_tool_call_assembles() -> None:
    """A custom tool call streams as `custom.name` then `custom.input` fragments, and assembles into the
    non-streamed message shape."""
    result = check_stream_text(CUSTOM_TOOL_REQUEST, "text/event-stream", "\n".join(_mock_stream(
        CUSTOM_TOOL_REQUEST)) + "\n")
    assert result.violations == []
    [call] = result.as_completion()["choices"][0]["message"]["tool_calls"]
    assert call["type"] == "custom" and call["custom"]["name"] == "dial"
    assert re.fullmatch("[0-9]{3}-[0-9]{4}", call["custom"]["input"])


def test_custom_tool_call_without_name_in_first_delta() -> None:
    lines = _mock_stream(CUSTOM_TOOL_REQUEST)
    first = next(i for i, line in enumerate(lines) if '"tool_calls"' in line)
    lines[first] = _edit_chunk(lines[first], lambda c: c["choices"][0]["delta"]["tool_calls"][0]["custom"].pop("name"))
    assert _violations(CUSTOM_TOOL_REQUEST, lines) == {"stream_tool_call_deltas"}


def test_custom_tool_input_fragment_must_be_text() -> None:
    lines = _mock_stream(CUSTOM_TOOL_REQUEST)
    later = [i for i, line in enumerate(lines) if '"tool_calls"' in line][1]
    lines[later] = _edit_chunk(lines[later], lambda c: c["choices"][0]["delta"]["tool_calls"][0]["custom"].update(
        input=5))
    assert _violations(CUSTOM_TOOL_REQUEST, lines) == {"chunk_schema"}
