"""Profiles as data: the table in fixtures/profiles.json, the routing a configuration makes of it, and the
schemas each profile keeps."""

from __future__ import annotations

import jsonschema
import pytest
from wire import post, post_raw, send

from mockserver import Config, MockServer
from mockserver.contract.fixtures import schema
from mockserver.contract.profiles import (
    API_PREFIXES,
    DEFAULT_PROFILE,
    parameter_schema,
    profile,
    profiles,
    reply_schema,
)
from mockserver.run.cli import config_from_args

PLAIN = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


def test_the_profiles_the_seed_documents_describe() -> None:
    assert set(profiles()) == {"openai", "vllm", "watsonx-gateway", "enkrypt"}
    assert profile("watsonx-gateway").prefixes == ("/ml/gateway/v1",)
    assert profile("enkrypt").auth.header == "apikey" and profile("enkrypt").headers["X-Enkrypt-Deployment"].required
    assert not profile(DEFAULT_PROFILE).parameters and profile(DEFAULT_PROFILE).routes is None


@pytest.mark.parametrize("name", sorted(profiles()))
def test_every_parameter_schema_is_a_schema_and_leaves_the_contract_alone(name: str) -> None:
    contract = set(schema("chat_completion_request")["properties"])
    for route in ("/chat/completions", "/completions"):
        document = parameter_schema(name, route)
        jsonschema.Draft202012Validator.check_schema(document)
        assert not set(document["properties"]) & contract


def test_schemas_are_patched_only_where_a_profile_departs() -> None:
    assert reply_schema("openai", "chat_completion") == schema("chat_completion")
    message = {"role": "assistant", "content": "x", "refusal": None, "annotations": None}
    reply = {"id": "c", "object": "chat.completion", "created": 1, "model": "m",
             "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}]}
    assert not jsonschema.Draft202012Validator(reply_schema("openai", "chat_completion")).is_valid(reply)
    assert jsonschema.Draft202012Validator(reply_schema("vllm", "chat_completion")).is_valid(reply)
    error = {"errors": [{"code": "x", "message": "y"}], "trace": "t", "status_code": 400}
    assert jsonschema.Draft202012Validator(reply_schema("watsonx-gateway", "error")).is_valid(error)
    assert not jsonschema.Draft202012Validator(reply_schema("openai", "error")).is_valid(error)


def test_routing_puts_the_servers_profile_on_the_openai_routes() -> None:
    config = Config(profile="vllm", mounts=(("/openai/v1", "openai"),))
    assert dict(config.routing) == {"/openai/v1": "openai", "/ml/gateway/v1": "watsonx-gateway",
                                    "/ai-proxy": "enkrypt", "/v1": "vllm", "": "vllm"}
    assert [len(prefix) for prefix, _ in config.routing] == sorted((len(p) for p, _ in config.routing), reverse=True)
    assert config.profile_for("/openai/v1/chat/completions") == "openai"
    assert config.profile_for("/v1/models") == config.profile_for("/chat/completions") == "vllm"
    assert config.profile_for("/ai-proxyx/chat") == "vllm"
    assert set(API_PREFIXES) <= {prefix for prefix, _ in config.routing}


@pytest.mark.parametrize("mounts", [(("v2", "vllm"),), (("/v2/", "vllm"),), (("/v1", "vllm"),),
                                    (("/a", "vllm"), ("/a", "openai")), (("/a", "tgi"),)])
def test_bad_mounts_are_refused(mounts: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(ValueError):
        Config(mounts=mounts)


def test_mount_flag() -> None:
    assert config_from_args(["--mount", "/vllm/v1=vllm"]).mounts == (("/vllm/v1", "vllm"),)
    for bad in ("/vllm/v1", "=vllm", "/x=tgi"):
        with pytest.raises(SystemExit):
            config_from_args(["--mount", bad])


def test_one_server_answers_as_each_profile_at_its_prefix() -> None:
    with MockServer(Config(clock=1, mounts=(("/vllm/v1", "vllm"),))) as server:
        openai_reply = post(server.url, PLAIN).json()
        vllm_reply = post_raw(server.url, b'{"model": "meta-llama/Llama-3.1-8B-Instruct", "messages": '
                              b'[{"role": "user", "content": "Hi"}], "top_k": 3}', path="/vllm/v1/chat/completions")
        assert "stop_reason" not in openai_reply["choices"][0]
        assert vllm_reply.status == 200 and vllm_reply.json()["choices"][0]["stop_reason"] is None
        refused = post(server.url, {**PLAIN, "top_k": 3}).json()["error"]
        assert refused["message"] == "Unrecognized request argument supplied: top_k"
        missing = send(server.url, "GET", "/vllm/v1/nothing")
        assert missing.status == 404 and missing.json()["error"]["type"] == "NotFoundError"
        assert send(server.url, "GET", "/ai-proxy/models").status == 404
