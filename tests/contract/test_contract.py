"""The contract package on its own: light to import, bounded, and one reading of requests and streams."""

from __future__ import annotations

import json
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from mockserver.contract import model_info
from mockserver.contract.models import MODEL_CACHE_SIZE
from mockserver.contract.request import (
    allowed_tools,
    completion_limit,
    named_tool,
    offered_tools,
    stop_list,
    tool_choice_mode,
)
from mockserver.contract.sse import Event, Malformed, encode_event, read_events

HEAVY = ("aiohttp", "faker", "jsonschema_rs", "yaml", "jsonschema", "hypothesis")


def test_contract_imports_nothing_heavy() -> None:
    probe = ("import json, sys; import mockserver.contract, mockserver.contract.request, mockserver.contract.sse; "
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                       check=True).stdout)
    assert loaded == []


def test_model_facts_for_client_ids_are_cached_within_a_bound() -> None:
    model_info.cache_clear()
    for number in range(3 * MODEL_CACHE_SIZE):
        assert model_info(f"client-model-{number}").id == f"client-model-{number}"
    assert model_info.cache_info().currsize <= MODEL_CACHE_SIZE


def test_one_reading_of_tools_of_both_kinds() -> None:
    request = {"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}},
                         {"type": "custom", "custom": {"name": "shell"}}],
               "tool_choice": {"type": "allowed_tools",
                               "allowed_tools": {"mode": "required", "tools": [{"type": "custom",
                                                                                 "custom": {"name": "shell"}}]}}}
    assert [(tool.kind, tool.name, tool.param) for tool in offered_tools(request)] == [
        ("function", "lookup", "tools.[0].function"), ("custom", "shell", "tools.[1].custom")]
    assert allowed_tools(request["tool_choice"]) == ("required", (("custom", "shell"),))
    assert tool_choice_mode(request) == "allowed_tools"
    assert named_tool({"type": "custom", "custom": {"name": "shell"}}) == ("custom", "shell")
    assert tool_choice_mode({"tools": request["tools"]}) == "auto"
    assert tool_choice_mode({"functions": [{"name": "f"}], "function_call": {"name": "f"}}) == "named"


def test_limits_and_stops_read_once() -> None:
    assert completion_limit({"max_tokens": 5, "max_completion_tokens": 7}) == 7
    assert completion_limit({"max_tokens": 5}) == 5
    assert stop_list({"stop": "x"}) == ["x"]
    assert stop_list({"stop": ["a", "", "b"]}) == ["a", "b"]
    assert stop_list({}) == []


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@given(st.lists(JSON, min_size=1, max_size=5), st.sampled_from([None, "response.created", "done"]))
def test_sse_writer_and_reader_round_trip(payloads: list, name: str | None) -> None:
    body = b"".join(encode_event(payload, name) for payload in payloads)
    read = list(read_events(body))
    assert [event.json() for event in read] == payloads
    assert all(isinstance(event, Event) and event.event == name for event in read)


def test_sse_reader_follows_the_field_rules() -> None:
    body = ": comment\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nnonsense\n\ndata: [DONE]\n\n"
    read = list(read_events(body))
    assert read[0] == Event('{"a":\n1}') and read[0].json() == {"a": 1}
    assert read[1] == Malformed("nonsense")
    assert read[2].done
