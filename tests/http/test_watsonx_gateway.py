"""The watsonx.ai Model Gateway profile over HTTP: its routes beside OpenAI's on one server, `cached`, the
cache (a stored reply served again, never for streams, emptied by reset), `router`, model aliases from a
file, and watsonx.ai's error envelope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wire import Reply, post, post_raw, send, validator

from mockserver import Config, MockServer
from mockserver.controls.gateway import load_gateway_models
from mockserver.controls.settings import SettingError
from mockserver.run.cli import config_from_args

GATEWAY = "/ml/gateway/v1"
CHAT = GATEWAY + "/chat/completions"
USER = [{"role": "user", "content": "Name a river."}]
CACHE = {"enabled": True, "threshold": 0.9}
MODELS = {"models": [{"id": "gpt-4o-mini", "alias": "fast", "owned_by": "openai:team-openai"},
                     {"id": "ibm/granite-3-8b-instruct", "alias": "granite", "owned_by": "watsonxai:granite"}]}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with MockServer(Config(seed=2, clock=1_700_000_000)) as running:
        yield running.url


@pytest.fixture(scope="module")
def aliased(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("gateway") / "models.yaml"
    path.write_text(json.dumps(MODELS))
    with MockServer(Config(seed=2, clock=1_700_000_000, gateway_models=load_gateway_models(path))) as running:
        yield running.url


def _chat(url: str, **fields: Any) -> Reply:
    return post_raw(url, json.dumps({"model": "gpt-4o-mini", "messages": USER, **fields}).encode(), path=CHAT)


def _error(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.raw
    body = reply.json()
    validator("error", "watsonx-gateway").validate(body)
    assert body["status_code"] == status and body["trace"] == reply.headers["x-request-id"]
    return body["errors"][0]


def test_gateway_and_openai_routes_on_one_server(url: str) -> None:
    gateway = _chat(url).json()
    assert gateway["cached"] is False and gateway["object"] == "chat.completion"
    validator("chat_completion").validate(gateway)
    plain = post(url, {"model": "gpt-4o-mini", "messages": USER}).json()
    assert "cached" not in plain
    assert gateway["choices"] == plain["choices"]
    refused = post(url, {"model": "gpt-4o-mini", "messages": USER, "cache": CACHE})
    assert refused.status == 400 and refused.json()["error"]["message"] == "Unrecognized request argument supplied: cache"


def test_an_identical_request_is_served_from_the_cache(url: str) -> None:
    send(url, "POST", "/_mock/reset")
    first = _chat(url, cache=CACHE, seed=11)
    second = _chat(url, cache=CACHE, seed=11)
    assert first.json()["cached"] is False and second.json()["cached"] is True
    assert {**first.json(), "cached": True} == second.json()
    other_filter = _chat(url, cache={**CACHE, "filter": {"tenant": "b"}}, seed=11).json()
    assert other_filter["cached"] is False and other_filter["id"] != first.json()["id"]
    uncached = _chat(url, seed=11).json()
    assert uncached["cached"] is False and uncached["id"] != first.json()["id"]
    send(url, "POST", "/_mock/reset")
    assert _chat(url, cache=CACHE, seed=11).json()["cached"] is False
    journal = json.loads(send(url, "GET", "/_mock/journal").raw)["data"]
    assert [entry["status"] for entry in journal] == [200]


@pytest.mark.parametrize(("fields", "target", "code"), [
    ({"cache": CACHE, "stream": True}, "cache", "invalid_request"),
    ({"cache": {"enabled": True}}, "cache.threshold", "missing_required_parameter"),
    ({"cache": {"enabled": True, "threshold": 1.5}}, "cache.threshold", "decimal_above_max_value"),
    ({"cache": {"enabled": "yes", "threshold": 0.5}}, "cache.enabled", "invalid_type"),
    ({"cache": {"enabled": True, "threshold": 0.5, "ttl": 3}}, "cache.ttl", "invalid_request"),
    ({"router": "cheapest"}, "router", "invalid_type"),
    ({"router": {"optimization": "speed"}}, "router.optimization", "invalid_value"),
    ({"router": {"quality_tradeoff": -0.1}}, "router.quality_tradeoff", "decimal_below_min_value"),
])
def test_gateway_parameters_are_checked(url: str, fields: dict[str, Any], target: str, code: str) -> None:
    error = _error(_chat(url, **fields), 400)
    assert error["target"]["name"] == target and error["code"] == code, error


def test_router_is_accepted(url: str) -> None:
    router = {"optimization": "cost", "quality_tradeoff": 0.8, "models": ["gpt-4o-mini"], "region": "us-south"}
    assert _chat(url, router=router).status == 200


def test_models_by_alias(aliased: str) -> None:
    reply = post_raw(aliased, json.dumps({"model": "granite", "messages": USER}).encode(), path=CHAT)
    assert reply.status == 200 and reply.json()["model"] == "ibm/granite-3-8b-instruct"
    listed = json.loads(send(aliased, "GET", GATEWAY + "/models").raw)["data"]
    assert [(m["id"], m["alias"], m["owned_by"]) for m in listed] == [
        ("gpt-4o-mini", "fast", "openai:team-openai"), ("ibm/granite-3-8b-instruct", "granite", "watsonxai:granite")]
    one = json.loads(send(aliased, "GET", GATEWAY + "/models/fast").raw)
    assert one["id"] == "gpt-4o-mini" and one["alias"] == "fast"
    unknown = post_raw(aliased, json.dumps({"model": "gpt-5", "messages": USER}).encode(), path=CHAT)
    assert _error(unknown, 404)["code"] == "model_not_found"


def test_routes_the_gateway_does_not_serve(url: str) -> None:
    _error(post_raw(url, b"{}", path=GATEWAY + "/responses"), 404)


def test_a_gateway_models_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  - {id: a, alias: b}\n  - {id: b}\n")
    with pytest.raises(SettingError, match=r"models\.1\.id: 'b' names two models"):
        load_gateway_models(path)
    path.write_text("models:\n  - {id: a, nickname: b}\n")
    with pytest.raises(SettingError, match=r"models\.0\.nickname: unknown field"):
        load_gateway_models(path)
    path.write_text(json.dumps(MODELS))
    assert config_from_args(["--gateway-models", str(path)]).gateway_models.aliases == {
        "fast": "gpt-4o-mini", "granite": "ibm/granite-3-8b-instruct"}
