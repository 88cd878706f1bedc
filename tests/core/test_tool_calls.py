"""Tool calls, legacy function calls, Structured Outputs and refusals, through HTTP and the official client."""

from __future__ import annotations

import enum
import json
import re
from pathlib import Path
from typing import Any, Literal, Optional

import jsonschema
import openai
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_instances import SCHEMAS
from wire import api_post, ok

from mockserver.core.generate.tokenizer import tokenize

CORPUS = json.loads((Path(__file__).parents[1] / "fixtures" / "tool_schemas.json").read_text())
CALL_ID = re.compile(r"^call_[A-Za-z0-9]{24}$")
USER = [{"role": "user", "content": "Please help."}]


def tool(entry: dict) -> dict:
    function = {"name": entry["name"], "parameters": entry["schema"]}
    if entry.get("strict"):
        function["strict"] = True
    return {"type": "function", "function": function}


def check_calls(reply: dict, tools: list[dict]) -> list[dict]:
    """Every call names an offered function, has a real-looking id and arguments its schema accepts."""
    by_name = {t["function"]["name"]: t["function"] for t in tools}
    message = reply["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    for call in calls:
        assert CALL_ID.match(call["id"])
        function = by_name[call["function"]["name"]]
        arguments = json.loads(call["function"]["arguments"])
        jsonschema.validate(arguments, function["parameters"])
        if function.get("strict"):
            assert set(arguments) == set(function["parameters"]["properties"])
    assert len({c["id"] for c in calls}) == len(calls)
    return calls


TOOL_SETS = st.lists(st.sampled_from(CORPUS), min_size=1, max_size=5, unique_by=lambda e: e["name"])


@given(entries=TOOL_SETS, data=st.data())
def test_tool_choice_rules(base_url: str, entries: list[dict], data: st.DataObject) -> None:
    tools = [tool(e) for e in entries]
    names = [e["name"] for e in entries]
    choice = data.draw(st.one_of(st.sampled_from([None, "none", "auto", "required"]),
                                 st.sampled_from(names).map(lambda n: {"type": "function", "function": {"name": n}})))
    parallel = data.draw(st.sampled_from([None, True, False]))
    body: dict[str, Any] = {"model": "gpt-4o", "messages": USER, "tools": tools}
    if choice is not None:
        body["tool_choice"] = choice
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    reply = ok(base_url, body)
    message, finish = reply["choices"][0]["message"], reply["choices"][0]["finish_reason"]
    calls = check_calls(reply, tools)
    if choice == "none":
        assert calls == [] and isinstance(message["content"], str) and finish == "stop"
        return
    assert message["content"] is None and 1 <= len(calls) <= 3
    if isinstance(choice, dict):
        assert [c["function"]["name"] for c in calls] == [choice["function"]["name"]] and finish == "stop"
    else:
        assert finish == "tool_calls"
    if parallel is False:
        assert len(calls) == 1
    argument_tokens = sum(len(tokenize(c["function"]["arguments"])) for c in calls)
    assert reply["usage"]["completion_tokens"] == argument_tokens


def _as_parameters(schema: dict) -> dict:
    """Function parameters are an object: the invented schema becomes its one property, its `$defs` the root's."""
    value = {k: v for k, v in schema.items() if k != "$defs"}
    root = {"type": "object", "properties": {"value": value}, "required": ["value"]}
    return {**root, "$defs": schema["$defs"]} if "$defs" in schema else root


@settings(max_examples=25)
@given(parameters=SCHEMAS.map(_as_parameters), turn=st.integers(0, 10**6))
def test_arguments_validate_against_invented_schemas(base_url: str, parameters: dict, turn: int) -> None:
    tools = [{"type": "function", "function": {"name": "invented", "parameters": parameters}}]
    reply = ok(base_url, {"model": "gpt-4o", "messages": [{"role": "user", "content": f"turn {turn}"}],
                          "tools": tools, "tool_choice": "required"})
    assert len(check_calls(reply, tools)) == 1


def test_parallel_calls_happen_by_default(base_url: str) -> None:
    tools = [tool(e) for e in CORPUS[:6]]
    counts = {len(check_calls(ok(base_url, {"model": "gpt-4o", "messages": [{"role": "user", "content": f"q{i}"}],
                                            "tools": tools}), tools)) for i in range(12)}
    assert 1 in counts and max(counts) > 1


def test_agent_loop_ends_with_text_that_refers_to_the_tool_result(base_url: str) -> None:
    tools = [tool(CORPUS[0])]
    messages: list[dict] = [{"role": "user", "content": "Weather in Paris?"}]
    first = ok(base_url, {"model": "gpt-4o", "messages": messages, "tools": tools})
    calls = check_calls(first, tools)
    assert calls and first["choices"][0]["finish_reason"] == "tool_calls"
    messages.append(first["choices"][0]["message"])
    for call in calls:
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": "18 degrees and sunny"})
    second = ok(base_url, {"model": "gpt-4o", "messages": messages, "tools": tools})
    answer = second["choices"][0]["message"]
    assert second["choices"][0]["finish_reason"] == "stop" and "tool_calls" not in answer
    assert answer["content"].startswith("According to get_current_weather: 18 degrees and sunny.")


def test_mismatched_tool_result_id_is_rejected(base_url: str) -> None:
    tools = [tool(CORPUS[0])]
    messages = [*USER, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_abc", "type": "function", "function": {"name": "get_current_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_xyz", "content": "ok"}]
    status, reply = api_post(base_url, {"model": "gpt-4o", "messages": messages, "tools": tools})
    assert status == 400 and reply["error"]["param"] == "messages.[2].tool_call_id"


def test_required_calls_even_after_a_tool_result_and_allowed_tools_restricts(base_url: str) -> None:
    tools = [tool(e) for e in CORPUS[:4]]
    choice = {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [
        {"type": "function", "function": {"name": CORPUS[2]["name"]}}]}}
    reply = ok(base_url, {"model": "gpt-4o", "messages": USER, "tools": tools, "tool_choice": choice})
    assert [c["function"]["name"] for c in check_calls(reply, tools)] == [CORPUS[2]["name"]]


def test_custom_tools_get_custom_calls(base_url: str) -> None:
    tools = [{"type": "custom", "custom": {"name": "run_shell", "format": {"type": "grammar", "grammar": {
        "syntax": "regex", "definition": r"^ls -l /(tmp|var|home)$"}}}}]
    reply = ok(base_url, {"model": "gpt-4o", "messages": USER, "tools": tools, "tool_choice": "required"})
    call = reply["choices"][0]["message"]["tool_calls"][0]
    assert call["type"] == "custom" and call["custom"]["name"] == "run_shell"
    assert re.match(r"^ls -l /(tmp|var|home)$", call["custom"]["input"]) and CALL_ID.match(call["id"])
    named = ok(base_url, {"model": "gpt-4o", "messages": USER, "tools": tools,
                          "tool_choice": {"type": "custom", "custom": {"name": "run_shell"}}})
    assert named["choices"][0]["finish_reason"] == "stop"
    assert named["choices"][0]["message"]["tool_calls"][0]["custom"]["name"] == "run_shell"


def test_legacy_functions(base_url: str) -> None:
    functions = [{"name": e["name"], "parameters": e["schema"]} for e in CORPUS[:3]]
    auto = ok(base_url, {"model": "gpt-4o", "messages": USER, "functions": functions})
    call = auto["choices"][0]["message"]["function_call"]
    assert auto["choices"][0]["finish_reason"] == "function_call" and auto["choices"][0]["message"]["content"] is None
    jsonschema.validate(json.loads(call["arguments"]), {f["name"]: f for f in functions}[call["name"]]["parameters"])
    named = ok(base_url, {"model": "gpt-4o", "messages": USER, "functions": functions,
                          "function_call": {"name": CORPUS[1]["name"]}})
    assert named["choices"][0]["message"]["function_call"]["name"] == CORPUS[1]["name"]
    none = ok(base_url, {"model": "gpt-4o", "messages": USER, "functions": functions, "function_call": "none"})
    assert isinstance(none["choices"][0]["message"]["content"], str)
    answered = ok(base_url, {"model": "gpt-4o", "functions": functions, "messages": [
        *USER, {"role": "assistant", "content": None, "function_call": call},
        {"role": "function", "name": call["name"], "content": "done"}]})
    assert answered["choices"][0]["message"]["content"].startswith(f"According to {call['name']}: done.")


def test_max_tokens_cuts_arguments_with_finish_length(base_url: str) -> None:
    tools = [tool(CORPUS[8])]
    reply = ok(base_url, {"model": "gpt-4o", "messages": USER, "tools": tools, "tool_choice": "required",
                          "max_tokens": 5})
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "length"
    arguments = choice["message"]["tool_calls"][0]["function"]["arguments"]
    assert len(tokenize(arguments)) == 5 and reply["usage"]["completion_tokens"] == 5
    with pytest.raises(ValueError):
        json.loads(arguments)


@pytest.mark.parametrize("entry", [e for e in CORPUS if e.get("strict")], ids=lambda e: e["name"])
def test_structured_outputs_validate(base_url: str, entry: dict) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": entry["name"], "schema": entry["schema"],
                                                               "strict": True}}
    reply = ok(base_url, {"model": "gpt-4o", "messages": USER, "response_format": response_format, "n": 2})
    for choice in reply["choices"]:
        jsonschema.validate(json.loads(choice["message"]["content"]), entry["schema"])


def test_structured_output_cut_by_max_tokens(base_url: str) -> None:
    entry = CORPUS[20]
    response_format = {"type": "json_schema", "json_schema": {"name": "m", "schema": entry["schema"], "strict": True}}
    reply = ok(base_url, {"model": "gpt-4o", "messages": USER, "response_format": response_format, "max_tokens": 4})
    assert reply["choices"][0]["finish_reason"] == "length"
    assert len(tokenize(reply["choices"][0]["message"]["content"])) == 4


def test_json_object_mode(base_url: str) -> None:
    asked = [{"role": "user", "content": "Please help, in JSON."}]
    reply = ok(base_url, {"model": "gpt-4o", "messages": asked, "response_format": {"type": "json_object"}})
    assert isinstance(json.loads(reply["choices"][0]["message"]["content"]), dict)


@pytest.mark.parametrize(("schema_", "fragment"), [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
     "In context=(), 'additionalProperties' is required to be supplied and to be false."),
    ({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"],
      "additionalProperties": False},
     "'required' is required to be supplied and to be an array including every key in properties. Missing 'b'."),
    ({"type": "object", "properties": {"inner": {"type": "object", "properties": {}}}, "required": ["inner"],
      "additionalProperties": False}, "In context=('properties', 'inner'), 'additionalProperties'"),
])
def test_strict_schema_rules(base_url: str, schema_: dict, fragment: str) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": schema_, "strict": True}}]
    status, reply = api_post(base_url, {"model": "gpt-4o", "messages": USER, "tools": tools})
    assert status == 400 and fragment in reply["error"]["message"]
    assert reply["error"]["message"].startswith("Invalid schema for function 'f': ")
    assert reply["error"]["param"] == "tools.[0].function.parameters"
    response_format = {"type": "json_schema", "json_schema": {"name": "r", "schema": schema_, "strict": True}}
    status, reply = api_post(base_url, {"model": "gpt-4o", "messages": USER, "response_format": response_format})
    assert status == 400 and fragment in reply["error"]["message"] and reply["error"]["param"] == "response_format"
    loose = {"type": "json_schema", "json_schema": {"name": "r", "schema": schema_}}
    ok(base_url, {"model": "gpt-4o", "messages": USER, "response_format": loose})


def test_unsatisfiable_and_invalid_schemas_get_400(base_url: str) -> None:
    impossible = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}},
                  "required": ["n"]}
    tools = [{"type": "function", "function": {"name": "f", "parameters": impossible}}]
    status, reply = api_post(base_url, {"model": "gpt-4o", "messages": USER, "tools": tools, "tool_choice": "required"})
    assert status == 400 and reply["error"]["param"] == "tools.[0].function.parameters"
    assert "#/properties/n" in reply["error"]["message"]
    status, reply = api_post(base_url, {"model": "gpt-4o", "messages": USER, "response_format": {
        "type": "json_schema", "json_schema": {"name": "r", "schema": impossible}}})
    assert status == 400 and reply["error"]["param"] == "response_format"
    broken = {"type": "object", "properties": {"a": {"type": "strng"}}}
    status, reply = api_post(base_url, {"model": "gpt-4o", "messages": USER, "tools": [
        {"type": "function", "function": {"name": "g", "parameters": broken}}]})
    assert status == 400 and reply["error"]["message"].startswith("Invalid schema for function 'g': ")


def test_refusal_header(base_url: str) -> None:
    reply = ok(base_url, {"model": "gpt-4o", "messages": USER}, {"X-Mock-Refusal": "1"})
    message = reply["choices"][0]["message"]
    assert message["content"] is None and message["refusal"] == "I'm sorry, but I can't help with that request."
    custom = ok(base_url, {"model": "gpt-4o", "messages": USER}, {"X-Mock-Refusal": "Not today."})
    assert custom["choices"][0]["message"]["refusal"] == "Not today."
    assert custom["usage"]["completion_tokens"] == len(tokenize("Not today."))


def test_replies_are_reproducible(base_url: str) -> None:
    body = {"model": "gpt-4o", "messages": USER, "tools": [tool(e) for e in CORPUS[:5]]}
    assert ok(base_url, body)["choices"] == ok(base_url, body)["choices"]


class Color(str, enum.Enum):
    red = "red"
    green = "green"


class LineItem(pydantic.BaseModel):
    sku: str
    quantity: int
    color: Optional[Color]


class Order(pydantic.BaseModel):
    id: str
    status: Literal["open", "shipped"]
    items: list[LineItem]
    note: Optional[str]


class TreeNode(pydantic.BaseModel):
    label: str
    children: list[TreeNode]


class Weather(pydantic.BaseModel):
    city: str
    unit: Literal["c", "f"]
    days: Optional[int]


@pytest.fixture(scope="module")
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)


@pytest.mark.parametrize("model", [Order, TreeNode, Weather, LineItem])
def test_official_client_parses_structured_outputs(client: openai.OpenAI, model: type[pydantic.BaseModel]) -> None:
    completion = client.chat.completions.parse(model="gpt-4o-2024-08-06", messages=USER, response_format=model)
    assert isinstance(completion.choices[0].message.parsed, model)


def test_official_client_parses_pydantic_function_tools(client: openai.OpenAI) -> None:
    tools = [openai.pydantic_function_tool(Weather), openai.pydantic_function_tool(Order, name="create_order")]
    completion = client.chat.completions.parse(model="gpt-4o", messages=USER, tools=tools, tool_choice="required")
    calls = completion.choices[0].message.tool_calls
    assert calls and all(isinstance(c.function.parsed_arguments, (Weather, Order)) for c in calls)


def test_official_client_sees_refusals(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(model="gpt-4o", messages=USER, response_format=Weather,
                                               extra_headers={"X-Mock-Refusal": "1"})
    message = completion.choices[0].message
    assert message.parsed is None and message.refusal


@given(st.text())
def test_tokenizer_is_reversible_so_arguments_survive_chunking(text: str) -> None:
    assert "".join(tokenize(text)) == text


def test_streamed_tool_calls_reassemble_to_the_plain_reply(client: openai.OpenAI) -> None:
    tools = [tool(e) for e in CORPUS[:5]]
    plain = client.chat.completions.create(model="gpt-4o", messages=USER, tools=tools)
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in client.chat.completions.create(model="gpt-4o", messages=USER, tools=tools, stream=True):
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or ():
                entry = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] += delta.id or ""
                entry["name"] += (delta.function.name or "") if delta.function else ""
                entry["arguments"] += (delta.function.arguments or "") if delta.function else ""
    expected = [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                for c in plain.choices[0].message.tool_calls]
    assert [calls[i] for i in sorted(calls)] == expected and finish == plain.choices[0].finish_reason
