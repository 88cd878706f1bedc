"""All six message roles and every content part kind are accepted, and their required fields enforced.

Which roles and part kinds exist, and which fields each requires, is read from the request schema.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from wire import assert_completion, assert_error, chat

from mockserver import MockServer
from mockserver.contract import schema
from mockserver.contract.errors import ApiError
from mockserver.core.validate.request import validate_request

DEFS = schema("chat_completion_request")["$defs"]
SCHEMA = Draft202012Validator(schema("chat_completion_request"))
USER = {"role": "user", "content": "Hello there."}
CALL = {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
CUSTOM_CALL = {"id": "call_xyz", "type": "custom", "custom": {"name": "search", "input": "weather in Oslo"}}
TINY_PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

PARTS: dict[str, dict[str, Any]] = {
    "text": {"type": "text", "text": "Describe this."},
    "image_url": {"type": "image_url", "image_url": {"url": TINY_PNG, "detail": "low"}},
    "input_audio": {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}},
    "file": {"type": "file", "file": {"filename": "notes.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}},
    "refusal": {"type": "refusal", "refusal": "I cannot help with that."},
}

# Conversations that end in a message the model can answer, one per role/shape worth covering.
CONVERSATIONS: dict[str, list[dict[str, Any]]] = {
    "developer": [{"role": "developer", "content": "Answer in French.", "name": "ops"}, USER],
    "developer parts": [{"role": "developer", "content": [PARTS["text"]]}, USER],
    "system": [{"role": "system", "content": "You are terse.", "name": "policy"}, USER],
    "system parts": [{"role": "system", "content": [PARTS["text"]]}, USER],
    "user": [{"role": "user", "content": "Hi", "name": "alice"}],
    "user text part": [{"role": "user", "content": [PARTS["text"]]}],
    "user image": [{"role": "user", "content": [PARTS["text"], PARTS["image_url"]]}],
    "user image by url": [{"role": "user", "content": [{"type": "image_url",
                                                         "image_url": {"url": "https://example.com/cat.png"}}]}],
    "user audio": [{"role": "user", "content": [PARTS["input_audio"]]}],
    "user file": [{"role": "user", "content": [PARTS["file"]]}],
    "user file by id": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-abc123"}}]}],
    "assistant": [USER, {"role": "assistant", "content": "Hello!", "name": "bot"}, USER],
    "assistant parts": [USER, {"role": "assistant", "content": [PARTS["text"], PARTS["refusal"]]}, USER],
    "assistant refusal": [USER, {"role": "assistant", "content": None, "refusal": "I can't."}, USER],
    "assistant audio": [USER, {"role": "assistant", "audio": {"id": "audio_abc"}}, USER],
    "assistant tool_calls": [USER, {"role": "assistant", "content": None, "tool_calls": [CALL, CUSTOM_CALL]},
                             {"role": "tool", "tool_call_id": "call_abc", "content": "18 C"},
                             {"role": "tool", "tool_call_id": "call_xyz", "content": [PARTS["text"]]}],
    "assistant function_call": [USER, {"role": "assistant", "content": None,
                                       "function_call": {"name": "get_weather", "arguments": "{}"}},
                                {"role": "function", "name": "get_weather", "content": "18 C"}],
    "function null content": [USER, {"role": "function", "name": "get_weather", "content": None}],
}

EXAMPLE_BY_ROLE = {
    "developer": CONVERSATIONS["developer"][0],
    "system": CONVERSATIONS["system"][0],
    "user": CONVERSATIONS["user image"][0],
    "assistant": CONVERSATIONS["assistant"][1],
    "tool": CONVERSATIONS["assistant tool_calls"][2],
    "function": CONVERSATIONS["assistant function_call"][2],
}


def _ref(node: dict[str, Any]) -> dict[str, Any]:
    return DEFS[node["$ref"].rsplit("/", 1)[1]]


def _message_defs() -> dict[str, dict[str, Any]]:
    """Each role's message schema, keyed by the role it admits."""
    out = {}
    for branch in DEFS["ChatCompletionRequestMessage"]["oneOf"]:
        definition = _ref(branch)
        for role in definition["properties"]["role"]["enum"]:
            out[role] = definition
    return out


def _part_defs() -> dict[str, dict[str, Any]]:
    """Every content part schema any message admits, keyed by its `type`."""
    out = {}
    for name, definition in DEFS.items():
        if name.startswith("ChatCompletionRequestMessageContentPart"):
            for kind in definition["properties"]["type"]["enum"]:
                out[kind] = definition
    return out


MESSAGE_DEFS = _message_defs()
PART_DEFS = _part_defs()


def test_all_six_roles_and_every_part_kind_are_covered() -> None:
    assert set(MESSAGE_DEFS) == {"developer", "system", "user", "assistant", "tool", "function"}
    assert set(EXAMPLE_BY_ROLE) == set(MESSAGE_DEFS)
    used_roles = {m["role"] for conversation in CONVERSATIONS.values() for m in conversation}
    assert used_roles == set(MESSAGE_DEFS)
    assert set(PARTS) == set(PART_DEFS)
    used_parts = {part["type"] for conversation in CONVERSATIONS.values() for m in conversation
                  if isinstance(m.get("content"), list) for part in m["content"]}
    assert used_parts == set(PART_DEFS)


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
def test_conversation_is_accepted(server: MockServer, name: str) -> None:
    body = assert_completion(chat(server.url, messages=CONVERSATIONS[name]))
    assert body["usage"]["prompt_tokens"] > 0


def test_images_cost_prompt_tokens(server: MockServer) -> None:
    text_only = assert_completion(chat(server.url, messages=[{"role": "user", "content": [PARTS["text"]]}]))
    with_image = assert_completion(chat(server.url, messages=CONVERSATIONS["user image"]))
    assert with_image["usage"]["prompt_tokens"] > text_only["usage"]["prompt_tokens"]


MISSING_FIELDS = [(role, field) for role, definition in sorted(MESSAGE_DEFS.items())
                  for field in definition["required"] if field != "role"]


@pytest.mark.parametrize(("role", "field"), MISSING_FIELDS)
def test_message_missing_required_field(server: MockServer, role: str, field: str) -> None:
    message = {k: v for k, v in EXAMPLE_BY_ROLE[role].items() if k != field}
    error = assert_error(chat(server.url, messages=[message]), param=f"messages.[0].{field}",
                         code="missing_required_parameter")
    assert field in error["message"]


def test_unknown_role_lists_the_roles(server: MockServer) -> None:
    error = assert_error(chat(server.url, messages=[{"role": "robot", "content": "beep"}]),
                         param="messages.[0].role", code="invalid_value")
    for role in MESSAGE_DEFS:
        assert repr(role) in error["message"]


MISSING_PART_FIELDS = [(kind, field) for kind, definition in sorted(PART_DEFS.items())
                       for field in definition["required"] if field != "type"]


def _message_carrying(kind: str) -> dict[str, Any]:
    role = "assistant" if kind == "refusal" else "user"
    return {"role": role, "content": [PARTS[kind]]}


@pytest.mark.parametrize(("kind", "field"), MISSING_PART_FIELDS)
def test_content_part_missing_required_field(server: MockServer, kind: str, field: str) -> None:
    message = _message_carrying(kind)
    message["content"] = [{k: v for k, v in PARTS[kind].items() if k != field}]
    error = assert_error(chat(server.url, messages=[message, USER]))
    assert error["param"].startswith("messages.[0].content"), error


@pytest.mark.parametrize(("kind", "role"), [("refusal", "user"), ("image_url", "system"), ("input_audio", "assistant"),
                                            ("file", "developer")])
def test_content_part_refused_where_the_role_does_not_take_it(server: MockServer, kind: str, role: str) -> None:
    error = assert_error(chat(server.url, messages=[{"role": role, "content": [PARTS[kind]]}, USER]))
    assert error["param"].startswith("messages.[0].content"), error


@pytest.mark.parametrize(("message", "param"), [
    ({"role": "user", "content": []}, "messages.[0].content"),
    ({"role": "user", "content": 5}, "messages.[0].content"),
    ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x", "detail": "ultra"}}]},
     "messages.[0].content.[0].image_url.detail"),
    ({"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA", "format": "ogg"}}]},
     "messages.[0].content.[0].input_audio.format"),
    ({"role": "user", "content": "hi", "name": 3}, "messages.[0].name"),
])
def test_malformed_message_names_the_field(server: MockServer, message: dict[str, Any], param: str) -> None:
    assert_error(chat(server.url, messages=[message]), param=param)


VALID_ROLES = ["developer", "system", "user", "assistant", "function"]
PART_OR_JUNK = st.sampled_from([*PARTS.values(), {"type": "text"}, {"type": "image_url", "image_url": {}},
                                {"type": "video"}, {"text": "no type"}, "bare string", 3])
ANY_MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(VALID_ROLES) | st.sampled_from(["robot", "", 7, None]),
     "content": st.text(max_size=5) | st.lists(st.sampled_from([PARTS["text"], PARTS["image_url"]]), min_size=1,
                                               max_size=2) | st.none() | st.lists(PART_OR_JUNK, max_size=3)
     | st.integers()},
    optional={"name": st.text(max_size=5), "refusal": st.none() | st.text(max_size=5),
              "audio": st.none() | st.fixed_dictionaries({"id": st.text(max_size=5)})},
) | st.sampled_from(["message", 1, None, [], {}])


@settings(max_examples=150)
@given(messages=st.lists(ANY_MESSAGE, min_size=1, max_size=2))
def test_messages_are_accepted_exactly_when_the_schema_accepts_them(messages: list[Any]) -> None:
    """The fast path that picks each message's schema by its role agrees with the schema's own union."""
    body = {"model": "gpt-4o-mini", "messages": messages}
    try:
        validate_request(body)
        accepted = True
    except ApiError:
        accepted = False
    assert accepted == SCHEMA.is_valid(body)
