"""The controls through HTTP: real-API headers, the rate limiter, chaos, the journal and the admin API."""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import Config, MockServer
from mockserver.contract import error_kind
from mockserver.run.cli import config_from_args

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}


def call(url: str, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, json.load(reply)
    except urllib.error.HTTPError as failure:
        return failure.code, {k.lower(): v for k, v in failure.headers.items()}, json.load(failure)


@pytest.fixture
def mock(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    options = getattr(request, "param", {})
    with MockServer(Config(port=0, seed=3, **options)) as server:
        yield server


def test_every_response_carries_the_real_headers(mock: MockServer) -> None:
    ids = set()
    for method, path, body in (("POST", "/v1/chat/completions", CHAT), ("GET", "/v1/models", None),
                               ("POST", "/v1/chat/completions", {"model": "gpt-4o"}), ("GET", "/v1/nowhere", None)):
        status, headers, _ = call(mock.url, method, path, body)
        assert re.fullmatch(r"req_[0-9a-f]{32}", headers["x-request-id"])
        assert int(headers["openai-processing-ms"]) >= 0
        assert headers["openai-version"] == "2020-10-01"
        ids.add(headers["x-request-id"])
    assert len(ids) == 4
    status, headers, _ = call(mock.url, "POST", "/v1/chat/completions", CHAT)
    assert status == 200
    assert int(headers["x-ratelimit-remaining-requests"]) < int(headers["x-ratelimit-limit-requests"])
    assert int(headers["x-ratelimit-remaining-tokens"]) < int(headers["x-ratelimit-limit-tokens"])
    assert re.fullmatch(r"(\d+m)?[\d.]+m?s", headers["x-ratelimit-reset-requests"])


@pytest.mark.parametrize("mock", [{"rate_limit_rpm": 3}], indirect=True)
def test_request_limiter_counts_per_key_and_answers_429(mock: MockServer) -> None:
    alice = {"Authorization": "Bearer sk-alice"}
    remaining = []
    for _ in range(3):
        status, headers, _ = call(mock.url, "POST", "/v1/chat/completions", CHAT, alice)
        assert status == 200
        assert headers["x-ratelimit-limit-requests"] == "3"
        remaining.append(int(headers["x-ratelimit-remaining-requests"]))
    assert remaining == [2, 1, 0]
    status, headers, body = call(mock.url, "POST", "/v1/chat/completions", CHAT, alice)
    kind = error_kind("rate_limit_exceeded")
    assert (status, body["error"]["code"], body["error"]["type"]) == (kind.status, kind.code, "requests")
    assert "Limit 3, Used 3, Requested 1" in body["error"]["message"]
    assert headers["x-ratelimit-remaining-requests"] == "0"
    wait_ms = int(headers["retry-after-ms"])
    assert 0 < wait_ms <= 20_000  # one request refills in 60/3 s
    assert int(headers["retry-after"]) == -(-wait_ms // 1000)
    status, _, _ = call(mock.url, "POST", "/v1/chat/completions", CHAT, {"Authorization": "Bearer sk-bob"})
    assert status == 200


@pytest.mark.parametrize("mock", [{"rate_limit_tpm": 40}], indirect=True)
def test_token_limiter_refuses_what_does_not_fit(mock: MockServer) -> None:
    status, headers, _ = call(mock.url, "POST", "/v1/chat/completions", {**CHAT, "max_tokens": 20})
    assert status == 200
    left = int(headers["x-ratelimit-remaining-tokens"])
    status, headers, body = call(mock.url, "POST", "/v1/chat/completions", {**CHAT, "max_tokens": 30})
    assert status == 429 and body["error"]["type"] == "tokens"
    assert int(headers["x-ratelimit-remaining-tokens"]) == left


def _statuses(url: str, count: int) -> list[int]:
    return [call(url, "POST", "/v1/chat/completions", CHAT)[0] for _ in range(count)]


def test_chaos_is_reproducible_from_the_seed() -> None:
    chaos = (("server_error", 0.3), ("overloaded", 0.2))
    runs = []
    for seed in (5, 5, 6):
        with MockServer(Config(port=0, seed=seed, chaos=chaos)) as server:
            runs.append(_statuses(server.url, 30))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {500, 503, 200} <= set(runs[0])


def test_journal_records_requests_and_redacts_secrets(mock: MockServer) -> None:
    call(mock.url, "POST", "/_mock/rules", {"id": "greet", "match": {"last_user": "Hello"}, "reply": "Hi!"})
    call(mock.url, "POST", "/v1/chat/completions", CHAT, {"Authorization": "Bearer sk-secret-123", "X-Trace": "t1"})
    call(mock.url, "POST", "/v1/chat/completions", b"not json".decode())
    _, _, journal = call(mock.url, "GET", "/_mock/journal")
    first, second = journal["data"]
    assert first["headers"]["authorization"] == "Bearer [redacted]"
    assert "sk-secret-123" not in json.dumps(journal)
    assert first["headers"]["x-trace"] == "t1"
    assert (first["rule"], first["status"], first["body"]) == ("greet", 200, CHAT)
    assert (second["rule"], second["status"], second["body"]) == (None, 400, "not json")
    assert first["duration_ms"] >= 0 and first["request_id"].startswith("req_")
    assert call(mock.url, "DELETE", "/_mock/journal")[0] == 200
    assert call(mock.url, "GET", "/_mock/journal")[2]["data"] == []


def test_admin_rules_lifecycle(mock: MockServer) -> None:
    status, _, added = call(mock.url, "POST", "/_mock/rules", {"rules": [
        {"match": {"last_user": "Hello"}, "reply": "one", "times": 1},
        {"id": "fallback", "reply": "two"},
    ]})
    assert status == 201
    first_id = added["data"][0]["id"]
    replies = [call(mock.url, "POST", "/v1/chat/completions", CHAT)[2]["choices"][0]["message"]["content"]
               for _ in range(2)]
    assert replies == ["one", "two"]
    listed = {rule["id"]: rule for rule in call(mock.url, "GET", "/_mock/rules")[2]["data"]}
    assert (listed[first_id]["used"], listed["fallback"]["used"], listed["fallback"]["seen"]) == (1, 1, 2)
    assert call(mock.url, "DELETE", "/_mock/rules/fallback")[0] == 200
    assert call(mock.url, "DELETE", "/_mock/rules/fallback")[0] == 404
    assert call(mock.url, "POST", "/_mock/rules", {"id": first_id, "reply": "dup"})[0] == 400
    assert call(mock.url, "POST", "/_mock/reset")[0] == 200
    assert call(mock.url, "GET", "/_mock/health")[2] == {"status": "ok", "rules": 0, "journal": 0}


def test_admin_rejects_invalid_rules_with_the_field(mock: MockServer) -> None:
    status, _, body = call(mock.url, "POST", "/_mock/rules", {"match": {"last_user": {"regex": "["}}, "reply": "x"})
    assert status == 400
    assert body["error"]["param"] == "rules[0].match.last_user"
    assert "invalid regular expression" in body["error"]["message"]


def test_strict_scenario_answers_unmatched_requests_with_404(mock: MockServer) -> None:
    call(mock.url, "POST", "/_mock/rules", {"rules": [{"match": {"last_user": "ping"}, "reply": "pong"}],
                                            "strict": True})
    status, _, body = call(mock.url, "POST", "/v1/chat/completions", CHAT)
    kind = error_kind("unmatched_request")
    assert (status, body["error"]["code"]) == (kind.status, kind.code)
    ping = {**CHAT, "messages": [{"role": "user", "content": "ping"}]}
    assert call(mock.url, "POST", "/v1/chat/completions", ping)[2]["choices"][0]["message"]["content"] == "pong"


@pytest.mark.parametrize("mock", [{"admin_key": "admin-secret"}], indirect=True)
def test_admin_key_protects_the_admin_api(mock: MockServer) -> None:
    status, _, body = call(mock.url, "GET", "/_mock/health")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    assert call(mock.url, "GET", "/_mock/health", headers={"Authorization": "Bearer admin-secret"})[0] == 200


@pytest.mark.parametrize("mock", [{"admin": False}], indirect=True)
def test_admin_api_can_be_disabled(mock: MockServer) -> None:
    status, _, body = call(mock.url, "GET", "/_mock/health")
    assert status == 404 and body["error"]["type"] == "invalid_request_error"


def _stream_outcomes(server: MockServer, count: int) -> list[bytes]:
    outcomes = []
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("POST", "/v1/chat/completions", json.dumps({**CHAT, "stream": True}),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        try:
            outcomes.append(response.read())
        except http.client.IncompleteRead as partial:
            outcomes.append(b"CUT:" + partial.partial)
        connection.close()
    return outcomes


def test_chaos_delivery_faults_are_reproducible() -> None:
    chaos = (("cut", 0.3), ("malformed", 0.3))
    runs = []
    for _ in range(2):
        with MockServer(Config(port=0, seed=9, clock=1_700_000_000, chaos=chaos)) as server:
            runs.append(_stream_outcomes(server, 12))
    assert runs[0] == runs[1]
    assert any(outcome.startswith(b"CUT:") for outcome in runs[0])
    assert any(outcome.endswith(b"data: [DONE]\n\n") for outcome in runs[0])


@pytest.mark.parametrize("mock", [{"context_windows": (("gpt-4o-mini", 40), ("gpt-4", 20_000))}], indirect=True)
def test_context_windows_are_overridable(mock: MockServer) -> None:
    long_prompt = {"role": "user", "content": "river " * 60}
    status, _, body = call(mock.url, "POST", "/v1/chat/completions", {**CHAT, "messages": [long_prompt]})
    kind = error_kind("context_length_exceeded")
    assert (status, body["error"]["code"], body["error"]["param"]) == (kind.status, kind.code, "messages")
    assert "maximum context length is 40 tokens" in body["error"]["message"]
    assert call(mock.url, "POST", "/v1/chat/completions", CHAT)[0] == 200
    beyond_default = {"role": "user", "content": "river " * 9000}  # gpt-4's table window is 8192
    status, _, _ = call(mock.url, "POST", "/v1/chat/completions", {"model": "gpt-4", "messages": [beyond_default]})
    assert status == 200


def test_streamed_responses_carry_the_headers_too(mock: MockServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    connection.request("POST", "/v1/chat/completions", json.dumps({**CHAT, "stream": True}),
                       {"Content-Type": "application/json", "X-Mock-Timing": "ttft=5,itl=1"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert body.endswith(b"data: [DONE]\n\n")
    assert response.getheader("x-request-id", "").startswith("req_")
    assert response.getheader("openai-version") == "2020-10-01"
    assert response.getheader("x-ratelimit-limit-requests")


def test_strict_error_is_configurable(mock: MockServer) -> None:
    strict = {"status": 501, "message": "Not scripted in this test."}
    assert call(mock.url, "POST", "/_mock/rules", {"rules": [], "strict": strict})[0] == 201
    status, _, body = call(mock.url, "POST", "/v1/chat/completions", CHAT)
    assert (status, body["error"]["message"], body["error"]["type"]) == (501, strict["message"], "server_error")
    assert call(mock.url, "GET", "/_mock/rules")[2]["strict"] is True
    status, _, body = call(mock.url, "POST", "/_mock/rules", {"rules": [], "strict": {"status": 200}})
    assert status == 400 and body["error"]["param"] == "strict.status"
    call(mock.url, "POST", "/_mock/rules", {"rules": [], "strict": False})
    assert call(mock.url, "POST", "/v1/chat/completions", CHAT)[0] == 200


@pytest.mark.parametrize(("flags", "message"), [
    (["--chaos", "server_error=0.7,cut=0.5"], "add up to more than 1"),
    (["--chaos", "explode=0.1"], "chaos.explode: unknown fault kind"),
    (["--chaos", "cut=often"], "chaos.cut: expected a number from 0 to 1"),
    (["--rate-limit-rpm", "0"], "--rate-limit-rpm must be a positive integer"),
    (["--context-window", "gpt-4"], "--context-window expects MODEL=TOKENS"),
])
def test_cli_rejects_bad_control_flags(flags: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        config_from_args(flags)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_builds_the_controls_config() -> None:
    config = config_from_args(["--chaos", "overloaded=0.1,cut=0.05", "--rate-limit-tpm", "900", "--no-admin",
                               "--context-window", "gpt-4o=1000"])
    assert config.chaos == (("cut", 0.05), ("overloaded", 0.1))
    assert (config.rate_limit_tpm, config.admin, config.context_windows) == (900, False, (("gpt-4o", 1000),))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 1000) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8) | st.sampled_from(["reply", "error", "match", "times", "fault", "sequence", "cut"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["match", "reply", "error", "times", "fault", "sequence", "rules", "strict", "kind", "status",
                         "last_user", "nth", "delay", "tool_calls", "name", "arguments", "after", "x"]),
        inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60)
@given(payload=_JSON, path=st.sampled_from(["/_mock/rules", "/_mock/limits", "/_mock/chaos"]))
def test_admin_answers_any_json_with_success_or_a_4xx_envelope(fuzzed_mock: MockServer, payload: Any,
                                                                path: str) -> None:
    status, _, body = call(fuzzed_mock.url, "POST", path, payload)
    assert status in (200, 201) or (400 <= status < 500 and set(body["error"]) == {"message", "type", "param", "code"})
    call(fuzzed_mock.url, "POST", "/_mock/reset")
    assert call(fuzzed_mock.url, "POST", "/v1/chat/completions", CHAT)[0] == 200


@pytest.fixture(scope="module")
def fuzzed_mock() -> Iterator[MockServer]:
    with MockServer(Config(port=0, seed=8)) as server:
        yield server
