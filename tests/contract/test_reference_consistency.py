"""Our contract files stay consistent with OpenAI's: the seed schema, the published OpenAPI description and
replies recorded from the real API. Skipped where `../shared/reference` is absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from wire import assert_completion, post, validator

from mockserver import MockServer
from mockserver.contract import request_parameters, schema


def _openapi(reference: Path) -> dict[str, Any]:
    return json.loads((reference / "openai-openapi" / "openapi.json").read_text())


def _properties(schemas: dict[str, Any], node: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Top-level property names and required names of an OpenAPI schema, through its allOf parents."""
    if "$ref" in node:
        return _properties(schemas, schemas[node["$ref"].rsplit("/", 1)[1]])
    names, required = set(node.get("properties", {})), set(node.get("required", ()))
    for parent in node.get("allOf", ()):
        more, more_required = _properties(schemas, parent)
        names |= more
        required |= more_required
    return names, required


def test_every_seed_schema_parameter_is_accepted(reference: Path) -> None:
    seed = json.loads((reference / "chat-completions-request.schema.json").read_text())
    assert set(seed["properties"]) <= request_parameters()
    assert set(seed["required"]) <= set(schema("chat_completion_request")["required"])


def test_every_openapi_parameter_is_accepted(reference: Path) -> None:
    schemas = _openapi(reference)["components"]["schemas"]
    names, required = _properties(schemas, schemas["CreateChatCompletionRequest"])
    assert {"messages", "model", "verbosity", "web_search_options", "prompt_cache_key"} <= names
    assert names <= request_parameters(), sorted(names - request_parameters())
    assert required == set(schema("chat_completion_request")["required"])


def test_openapi_enums_are_ours(reference: Path) -> None:
    """Where OpenAI limits a top-level parameter to listed strings, we accept those and refuse others."""
    schemas = _openapi(reference)["components"]["schemas"]
    root = schema("chat_completion_request")
    checked = []
    for name in sorted(request_parameters()):
        values = _string_enum(schemas, _openapi_parameter(schemas, name))
        if not values:
            continue
        checked.append(name)
        ours = Draft202012Validator({"$defs": root["$defs"], **root["properties"][name]})
        for value in values:
            assert ours.is_valid(value), (name, value)
        assert not ours.is_valid("definitely-not-a-value"), name
    assert {"reasoning_effort", "service_tier", "verbosity"} <= set(checked)


def _openapi_parameter(schemas: dict[str, Any], name: str) -> dict[str, Any] | None:
    def find(node: dict[str, Any]) -> dict[str, Any] | None:
        if "$ref" in node:
            return find(schemas[node["$ref"].rsplit("/", 1)[1]])
        if name in node.get("properties", {}):
            return node["properties"][name]
        return next((found for parent in node.get("allOf", ()) if (found := find(parent)) is not None), None)

    return find(schemas["CreateChatCompletionRequest"])


def _string_enum(schemas: dict[str, Any], node: dict[str, Any] | None) -> list[str] | None:
    """The strings a parameter is limited to; None where any string goes or the value is not a string."""
    if node is None:
        return None
    if "$ref" in node:
        return _string_enum(schemas, schemas[node["$ref"].rsplit("/", 1)[1]])
    if "enum" in node:
        return [value for value in node["enum"] if isinstance(value, str)]
    branches = node.get("anyOf") or node.get("oneOf")
    if not branches:
        return [] if node.get("type") == "null" else None
    values: list[str] = []
    for branch in branches:
        found = _string_enum(schemas, branch)
        if found is None:
            return None
        values += found
    return values


def test_error_envelope_matches_openapi(reference: Path) -> None:
    schemas = _openapi(reference)["components"]["schemas"]
    ours = schema("error")
    assert set(ours["required"]) == set(schemas["ErrorResponse"]["required"])
    assert set(ours["$defs"]["Error"]["required"]) == set(schemas["Error"]["required"])


def _recordings(reference: Path) -> list[dict[str, Any]]:
    return json.loads((reference / "openai-recordings" / "non-streaming.json").read_text())


def _chunks(path: Path) -> list[dict[str, Any]]:
    events = [line[len("data: "):] for line in path.read_text().splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(event) for event in events[:-1]]


def test_recorded_replies_satisfy_our_response_schema(reference: Path) -> None:
    recordings = _recordings(reference)
    assert len(recordings) >= 10
    for recording in recordings:
        validator("chat_completion").validate(recording["response"])


def test_recorded_chunks_satisfy_our_chunk_schema(reference: Path) -> None:
    streams = sorted((reference / "openai-recordings").glob("*.bin"))
    assert len(streams) >= 10
    for stream in streams:
        for chunk in _chunks(stream):
            validator("chat_completion_chunk").validate(chunk)


def test_recorded_requests_are_accepted(server: MockServer, reference: Path) -> None:
    """What the official client sent to the real API, the mock accepts."""
    streamed = json.loads((reference / "openai-recordings" / "requests.json").read_text())
    recorded = [recording for recording in _recordings(reference) if recording["request"] is not None]
    assert len(recorded) >= 10
    for recording in recorded:
        reply = assert_completion(post(server.url, recording["request"]))
        assert len(reply["choices"]) == recording["request"].get("n", 1)
    for entry in streamed.values():
        reply = post(server.url, entry["request"])
        assert reply.status == 200, reply.raw[:300]


OTHER_REQUESTS = (("CreateCompletionRequest", "completion_request"), ("CreateEmbeddingRequest", "embedding_request"),
                  ("CreateResponse", "response_request"))


@pytest.mark.parametrize(("openapi_name", "ours"), OTHER_REQUESTS)
def test_every_openapi_parameter_of_the_other_endpoints_is_accepted(reference: Path, openapi_name: str,
                                                                    ours: str) -> None:
    """Each request schema defines exactly the top-level fields OpenAI's does: all of them are accepted and
    nothing else is."""
    schemas = _openapi(reference)["components"]["schemas"]
    names, required = _properties(schemas, schemas[openapi_name])
    assert names == request_parameters(ours), sorted(names ^ request_parameters(ours))
    assert required <= set(schema(ours)["required"])


def test_response_objects_and_events_require_what_openapi_requires(reference: Path) -> None:
    schemas = _openapi(reference)["components"]["schemas"]
    ours = schema("response")["$defs"]
    assert _properties(schemas, schemas["Response"])[1] == set(ours["Response"]["required"])
    assert _properties(schemas, schemas["ResponseUsage"])[1] == set(ours["Usage"]["required"])
    assert _properties(schemas, schemas["OutputMessage"])[1] == set(ours["OutputMessage"]["required"])
    events = {branch["properties"]["type"]["const"]: branch for branch in schema("response_stream_event")["oneOf"]}
    openapi_events = {}
    for branch in schemas["ResponseStreamEvent"]["anyOf"]:
        node = schemas[branch["$ref"].rsplit("/", 1)[1]]
        kind = node["properties"]["type"].get("enum", [None])[0]
        openapi_events[kind] = node
    for kind, ours_event in events.items():
        assert kind in openapi_events, kind
        assert set(openapi_events[kind].get("required", ())) == set(ours_event["required"]), kind


def test_embedding_and_completion_replies_require_what_openapi_requires(reference: Path) -> None:
    schemas = _openapi(reference)["components"]["schemas"]
    assert set(schemas["CreateCompletionResponse"]["required"]) == set(schema("completion")["required"])
    assert set(schemas["CreateEmbeddingResponse"]["required"]) == set(schema("embedding_list")["required"])
    assert set(schemas["Embedding"]["required"]) == set(schema("embedding_list")["$defs"]["Embedding"]["required"])
