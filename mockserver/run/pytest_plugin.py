"""The `mock_openai` pytest fixture: one mock per session, a clean slate per test, rules in one line.

    def test_retries(mock_openai):
        mock_openai.fail(429, retry_after=0.01, times=2)
        client = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert [r.status for r in mock_openai.requests] == [429, 429, 200]

Rules go through the admin API as the same dictionaries a scenario file holds, so whatever works in
YAML works here and the other way round.

Installing chatdouble registers this plugin in every pytest session of the environment, so importing
it costs nothing beyond pytest and the standard library: the server and the scenario parser are
imported when a test first asks for the fixture.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mockserver.run.server import MockServer

API_KEY = "sk-mock-openai"
STRICT_MARKER = "mock_openai_strict"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One journal entry: what the client sent (secrets redacted) and what it got."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    rule: str | None
    status: int
    request_id: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []


class RuleBuilder:
    """`mock_openai.on(last_user="weather")` followed by one action; each action adds the rule and
    returns its id."""

    def __init__(self, mock: MockOpenAI, match: dict[str, Any]) -> None:
        self._mock = mock
        self._match = match

    def _add(self, action: dict[str, Any], times: int | None, delay: float | None) -> str:
        rule: dict[str, Any] = {"match": self._match, **action}
        if times is not None:
            rule["times"] = times
        if delay is not None:
            rule["delay"] = delay
        return self._mock.add_rule(rule)

    def reply(self, text: str, *, times: int | None = None, delay: float | None = None) -> str:
        return self._add({"reply": text}, times, delay)

    def object(self, value: Any, *, times: int | None = None, delay: float | None = None) -> str:
        """A structured reply: `value` serialised as the message content."""
        return self._add({"object": value}, times, delay)

    def refuse(self, text: str, *, times: int | None = None, delay: float | None = None) -> str:
        return self._add({"refusal": text}, times, delay)

    def tool_call(self, name: str, arguments: Mapping[str, Any] | str | None = None, *, times: int | None = None,
                  delay: float | None = None) -> str:
        return self.tool_calls([(name, arguments or {})], times=times, delay=delay)

    def tool_calls(self, calls: list[tuple[str, Mapping[str, Any] | str]], *, times: int | None = None,
                   delay: float | None = None) -> str:
        return self._add({"tool_calls": [{"name": n, "arguments": a} for n, a in calls]}, times, delay)

    def fail(self, status: int | None = None, *, kind: str | None = None, message: str | None = None,
             retry_after: float | None = None, code: str | None = None, type: str | None = None,
             headers: Mapping[str, str] | None = None, times: int | None = None, delay: float | None = None) -> str:
        error = {"status": status, "kind": kind, "message": message, "retry_after": retry_after, "code": code,
                 "type": type, "headers": dict(headers) if headers else None}
        return self._add({"error": {k: v for k, v in error.items() if v is not None}}, times, delay)

    def sequence(self, *actions: Mapping[str, Any], times: int | None = None) -> str:
        """Successive matching calls get successive actions, each a rule action dict (`{"reply": "..."}`)."""
        return self._add({"sequence": [dict(a) for a in actions]}, times, None)

    def generate(self, *, times: int | None = None, delay: float | None = None) -> str:
        """Let the deterministic generator answer (useful to shadow a later rule, or just to add a delay)."""
        return self._add({"generate": True}, times, delay)


class MockOpenAI:
    """The handle the fixture gives a test."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.base_url = url + "/v1"
        self.api_key = api_key

    def _admin(self, method: str, path: str, payload: Any = None) -> Any:
        import urllib.error
        import urllib.request

        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + "/_mock" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.load(reply)
        except urllib.error.HTTPError as failure:
            detail = json.load(failure).get("error", {}).get("message", failure.reason)
            raise ValueError(f"mock_openai rejected {method} /_mock{path}: {detail}") from None

    def on(self, **match: Any) -> RuleBuilder:
        """Match fields as in a scenario file: endpoint, model, message, last_user, role, tools, tool_choice,
        stream, headers, body, nth (`endpoint="responses"` scopes a rule to one endpoint; the conversation
        fields read a prompt, an embedding input or Responses items as user turns)."""
        return RuleBuilder(self, match)

    def reply(self, text: str, **options: Any) -> str:
        return self.on().reply(text, **options)

    def object(self, value: Any, **options: Any) -> str:
        return self.on().object(value, **options)

    def refuse(self, text: str, **options: Any) -> str:
        return self.on().refuse(text, **options)

    def tool_call(self, name: str, arguments: Mapping[str, Any] | str | None = None, **options: Any) -> str:
        return self.on().tool_call(name, arguments, **options)

    def fail(self, status: int | None = None, **options: Any) -> str:
        return self.on().fail(status, **options)

    def add_rule(self, rule: Mapping[str, Any]) -> str:
        return self._admin("POST", "/rules", dict(rule))["data"][0]["id"]

    def load_scenario(self, path: str | Path) -> list[str]:
        """Add the rules of a YAML/JSON scenario file (and its `strict` setting); returns their ids.

        The file is checked here first, so a mistake is reported with the file, the rule and the field."""
        from mockserver.controls.rules import parse_scenario, read_document

        document = read_document(path)
        parse_scenario(document, str(path))
        if isinstance(document, list):
            document = {"rules": document}
        payload = {"rules": document.get("rules") or []}
        if "strict" in document:
            payload["strict"] = document["strict"]
        return [rule["id"] for rule in self._admin("POST", "/rules", payload)["data"]]

    def assert_all_used(self) -> None:
        """Fail unless every rule answered at least once: each scripted expectation was met."""
        unused = self.unused_rules()
        if unused:
            raise AssertionError(f"mock_openai rules never used: {', '.join(unused)}")

    def strict(self, enabled: bool = True, **error: Any) -> None:
        """Answer requests no rule matches with an error instead of generating: 404 `unmatched_request`,
        or the one `error` describes (`status=`, `kind=`, `message=`... as in `fail`)."""
        self._admin("POST", "/rules", {"rules": [], "strict": (error or True) if enabled else False})

    def rate_limit(self, requests_per_minute: int | None = None, tokens_per_minute: int | None = None) -> None:
        """Turn on the token-bucket limiter for this test (buckets start full; reset turns it off)."""
        self._admin("POST", "/limits", {"requests_per_minute": requests_per_minute,
                                         "tokens_per_minute": tokens_per_minute})

    def chaos(self, **probabilities: float) -> None:
        """Fail requests at random for this test, reproducibly: `chaos(server_error=0.2, cut=0.1)`."""
        self._admin("POST", "/chaos", probabilities)

    def timing(self, setting: str | Mapping[str, Any] | None = None, **fields: float) -> None:
        """Slow every reply down for this test: `timing("realistic")`, `timing("ttft=200,itl=20")` or
        `timing(ttft_ms=200, itl_ms=20, jitter=0.3)`."""
        self._admin("POST", "/timing", setting if setting is not None else fields)

    def fault(self, setting: str | Mapping[str, Any] | None) -> None:
        """Spoil every reply's delivery for this test: `fault("cut-after=3")` or `fault({"kind": "cut",
        "after": 3})`; None turns it off."""
        self._admin("POST", "/fault", setting)

    def quirks(self, *names: str) -> None:
        """Make the mock deviate like real servers do for this test: `quirks("n_ignored", "no_done")`."""
        self._admin("POST", "/quirks", list(names))

    @property
    def settings(self) -> dict[str, Any]:
        """Limits, chaos, timing, fault, quirks and strictness as the server holds them now."""
        return self._admin("GET", "/settings")

    def unmatched_requests(self) -> list[RecordedRequest]:
        """Requests no rule answered (the generator did), for tests that script every exchange."""
        return [entry for entry in self.requests if entry.rule is None]

    def check_expectations(self) -> None:
        """Fail when a rule never answered or a request went unscripted: what the strict teardown checks."""
        problems = []
        unused = self.unused_rules()
        if unused:
            problems.append(f"rules never used: {', '.join(unused)}")
        unmatched = self.unmatched_requests()
        if unmatched:
            listed = "; ".join(f"{r.method} {r.path} (status {r.status})" for r in unmatched[:5])
            problems.append(f"{len(unmatched)} request(s) no rule matched: {listed}")
        if problems:
            raise AssertionError("mock_openai: " + " and ".join(problems))

    def remove_rule(self, rule_id: str) -> None:
        self._admin("DELETE", f"/rules/{rule_id}")

    @property
    def rules(self) -> list[dict[str, Any]]:
        """Each rule with its `seen` and `used` counts."""
        return self._admin("GET", "/rules")["data"]

    def unused_rules(self) -> list[str]:
        """Ids of rules that never answered: an expectation the code under test did not meet."""
        return [rule["id"] for rule in self.rules if rule["used"] == 0]

    @property
    def requests(self) -> list[RecordedRequest]:
        return [
            RecordedRequest(method=e["method"], path=e["path"], headers=e["headers"], body=e["body"], rule=e["rule"],
                            status=e["status"], request_id=e["request_id"])
            for e in self._admin("GET", "/journal")["data"]
        ]

    @property
    def last_request(self) -> RecordedRequest:
        entries = self.requests
        if not entries:
            raise AssertionError("mock_openai has received no request in this test")
        return entries[-1]

    def reset(self) -> None:
        self._admin("POST", "/reset")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mock_openai_seed", "server seed of the mock_openai fixture's server", default="0")
    parser.addini("mock_openai_strict", "at teardown, fail a test whose rules went unused or whose requests "
                  "no rule matched", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{STRICT_MARKER}(enabled=True): check at teardown that every mock_openai "
                            "rule answered and every request was answered by a rule")


@pytest.fixture(scope="session")
def mock_openai_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's mock on a free loopback port."""
    from mockserver.controls.config import Config
    from mockserver.run.server import MockServer

    seed = int(pytestconfig.getini("mock_openai_seed"))
    with MockServer(Config(port=0, seed=seed)) as server:
        yield server


def _strict(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker(STRICT_MARKER)
    if marker is not None:
        return bool(marker.args[0]) if marker.args else bool(marker.kwargs.get("enabled", True))
    return bool(request.config.getini("mock_openai_strict"))


@pytest.fixture
def mock_openai(mock_openai_server: MockServer, request: pytest.FixtureRequest) -> Iterator[MockOpenAI]:
    """The session mock, with no rules, settings as started and an empty journal at the start of the test.
    With the `mock_openai_strict` marker (or ini option) the teardown fails the test when a rule never
    answered or a request went unscripted, like respx's `assert_all_called`."""
    handle = MockOpenAI(mock_openai_server.url, API_KEY)
    handle.reset()
    yield handle
    if _strict(request):
        handle.check_expectations()


@pytest.fixture
def mock_openai_env(mock_openai: MockOpenAI, monkeypatch: pytest.MonkeyPatch) -> MockOpenAI:
    """`mock_openai`, with OPENAI_BASE_URL and OPENAI_API_KEY pointing a default client at it."""
    monkeypatch.setenv("OPENAI_BASE_URL", mock_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", mock_openai.api_key)
    return mock_openai
