"""Scenario rules as data: loading with precise errors, first-match selection, times/nth/sequence, and
every example file in fixtures/scenarios/ doing what its error kind in fixtures/errors.json says."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from wire import api_post, raw_post, send

from mockserver import Config, MockServer
from mockserver.contract import error_kind, fixtures_dir, schema
from mockserver.controls.faults import FAULT_KINDS, Fault
from mockserver.controls.rules import Counts, load_scenario, parse_scenario, select
from mockserver.controls.settings import SettingError

SCENARIOS = sorted((fixtures_dir() / "scenarios").glob("*.yaml"))


def _request(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    request = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, dict(reply.headers), json.load(reply)
    except urllib.error.HTTPError as failure:
        return failure.code, dict(failure.headers), json.load(failure)


def test_first_match_wins_and_times_exhausts() -> None:
    scenario = parse_scenario({"rules": [
        {"id": "once", "match": {"last_user": "hi"}, "reply": "first", "times": 1},
        {"id": "always", "match": {"last_user": {"regex": "^h"}}, "reply": "second"},
    ]}, "test")
    counts = Counts()
    answers = []
    for _ in range(3):
        rule, action, counts = select(scenario.rules, _request("hi there"), {}, counts)
        answers.append((rule.id, (action.script.text if action.script else None)))
    assert answers == [("once", "first"), ("always", "second"), ("always", "second")]
    rule, action, _ = select(scenario.rules, _request("nothing"), {}, counts)
    assert rule is None and action is None


def test_nth_counts_matching_calls_and_sequence_steps() -> None:
    scenario = parse_scenario([
        {"id": "third", "match": {"message": "x", "nth": 3}, "reply": "third call"},
        {"id": "steps", "sequence": [{"reply": "a"}, {"error": 503}, {"reply": "c"}]},
    ], "test")
    counts = Counts()
    seen = []
    for _ in range(5):
        rule, action, counts = select(scenario.rules, _request("x"), {}, counts)
        seen.append(None if rule is None else (rule.id, action.kind, (action.script.text if action.script else None)))
    assert seen == [("steps", "reply", "a"), ("steps", "error", None), ("third", "reply", "third call"),
                    ("steps", "reply", "c"), None]


def test_match_fields() -> None:
    scenario = parse_scenario([
        {"id": "h", "match": {"headers": {"X-Test-Case": "alpha"}}, "reply": "by header"},
        {"id": "b", "match": {"body": {"response_format.type": "json_object", "n": 2}}, "reply": "by body"},
        {"id": "t", "match": {"tools": ["lookup"], "tool_choice": "required", "stream": False}, "reply": "by tools"},
        {"id": "m", "match": {"model": {"regex": "^o\\d"}}, "reply": "by model"},
    ], "test")
    tools = [{"type": "function", "function": {"name": "lookup"}}]

    def pick(request: dict[str, Any], headers: dict[str, str] | None = None) -> str | None:
        rule, _, _ = select(scenario.rules, request, headers or {}, Counts())
        return None if rule is None else rule.id

    assert pick(_request(), {"x-test-case": "alpha"}) == "h"
    assert pick(_request(), {"x-test-case": "beta"}) is None
    assert pick(_request(response_format={"type": "json_object"}, n=2)) == "b"
    assert pick(_request(response_format={"type": "json_object"}, n=1)) is None
    assert pick(_request(tools=tools, tool_choice="required")) == "t"
    assert pick(_request(tools=tools, tool_choice="required", stream=True)) is None
    assert pick({**_request(), "model": "o3-mini"}) == "m"


@given(times=st.integers(1, 5), pattern=st.lists(st.booleans(), max_size=12))
def test_a_limited_rule_answers_exactly_min_times_matches(times: int, pattern: list[bool]) -> None:
    scenario = parse_scenario([{"id": "r", "match": {"last_user": "yes"}, "reply": "ok", "times": times}], "p")
    counts = Counts()
    answered = 0
    for hit in pattern:
        rule, _, counts = select(scenario.rules, _request("yes" if hit else "no"), {}, counts)
        answered += rule is not None
    assert answered == min(times, sum(pattern))


@pytest.mark.parametrize(("document", "where"), [
    ({"rules": [{"reply": "ok"}, {"match": {"colour": "red"}, "reply": "x"}]}, "rules[1].match.colour"),
    ({"rules": [{"match": {"last_user": {"regex": "("}}, "reply": "x"}]}, "rules[0].match.last_user"),
    ({"rules": [{"reply": "a", "refusal": "b"}]}, "rules[0].refusal"),
    ({"rules": [{"error": {"kind": "no_such_kind"}}]}, "rules[0].error.kind"),
    ({"rules": [{"error": {"status": 200}}]}, "rules[0].error.status"),
    ({"rules": [{"reply": "x", "times": 0}]}, "rules[0].times"),
    ({"rules": [{"reply": "x", "delay": 86400}]}, "rules[0].delay"),
    ({"rules": [{"match": {}}]}, "rules[0]"),
    ({"rules": [{"tool_calls": [{"name": "f", "arguments": 3}]}]}, "rules[0].tool_calls.0.arguments"),
])
def test_invalid_rules_name_file_rule_and_field(tmp_path: Path, document: Any, where: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SettingError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: {where}")


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("rules: [\n")
    with pytest.raises(SettingError, match="broken.yaml: not valid YAML"):
        load_scenario(path)


def test_every_fault_kind_has_a_scenario_file() -> None:
    kinds = {rule.action.error.kind for path in SCENARIOS for rule in load_scenario(path).rules
             if rule.action.error is not None}
    assert {"invalid_request", "context_length_exceeded", "invalid_api_key", "permission_denied",
            "model_not_found", "rate_limit_exceeded", "insufficient_quota", "server_error", "overloaded"} <= kinds


@pytest.mark.parametrize("path", [p for p in SCENARIOS if any(r.action.kind == "error" for r in load_scenario(p).rules)],
                         ids=lambda p: p.stem)
def test_error_scenario_files_answer_with_their_kind(path: Path) -> None:
    scenario = load_scenario(path)
    rule = next(r for r in scenario.rules if r.action.kind == "error")
    kind = error_kind(rule.action.error.kind)
    body = _request("Summarise the attached document.", temperature=0.5)
    with MockServer(Config(port=0, scenario=scenario)) as server:
        status, headers, reply = _post(server.url, body)
    assert status == kind.status
    assert reply["error"]["type"] == (rule.action.error.type or kind.type)
    assert reply["error"]["code"] == (rule.action.error.code or kind.code)
    assert reply["error"]["message"]
    if status in (429, 503):
        assert float(headers["retry-after-ms"]) > 0 and int(headers["retry-after"]) >= 1


def _header_form(fault: Fault) -> str:
    text = f"{fault.kind}-after={fault.after}"
    if fault.kind == "error":
        text += f",error={fault.error}"
    if fault.kind == "stall":
        text += f",stall-ms={fault.stall_ms}"
    return text


FAULT_SCENARIOS = [p for p in SCENARIOS if any(r.action.fault is not None for r in load_scenario(p).rules)]


def test_every_delivery_fault_has_a_scenario_file() -> None:
    kinds = {rule.action.fault.kind for path in FAULT_SCENARIOS for rule in load_scenario(path).rules}
    assert kinds == set(FAULT_KINDS)


@pytest.mark.parametrize("path", FAULT_SCENARIOS, ids=lambda p: p.stem)
def test_scenario_faults_deliver_exactly_like_the_fault_header(path: Path) -> None:
    """A rule's fault is the streaming writer's own Fault: the bytes match the X-Mock-Fault header's."""
    rule = load_scenario(path).rules[0]
    fault = rule.action.fault
    body = _request("Tell me about the sea.", stream=True)
    settings = {"port": 0, "seed": 5, "clock": 1_700_000_000}
    with MockServer(Config(scenario=load_scenario(path), **settings)) as scripted, MockServer(Config(**settings)) as plain:
        unfaulted = {k: v for k, v in rule.source.items() if k not in ("fault", "id")}
        if any(key in unfaulted for key in ("reply", "tool_calls", "object", "refusal")):
            request = urllib.request.Request(plain.url + "/_mock/rules", data=json.dumps(unfaulted).encode(),
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request).close()
        received = raw_post(scripted.port, body, {})[1]
        expected = raw_post(plain.port, body, {"X-Mock-Fault": _header_form(fault)})[1]
    assert received == expected
    assert (b"data: [DONE]" in received) == (fault.kind in ("stall", "malformed"))


@pytest.mark.parametrize(("rule", "where"), [
    ({"error": 500, "fault": {"kind": "cut"}}, "rules[0].fault"),
    ({"fault": {"kind": "explode"}}, "rules[0].fault.kind"),
    ({"fault": {"kind": "stall"}}, "rules[0].fault.stall_ms"),
    ({"fault": "cut-after=x"}, "rules[0].fault"),
])
def test_invalid_faults_name_the_field(rule: dict[str, Any], where: str) -> None:
    with pytest.raises(SettingError) as caught:
        parse_scenario([rule], "inline")
    assert str(caught.value).startswith(f"inline: {where}")


def test_the_readme_scenario_example_loads() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
    assert blocks, "README has no YAML scenario example"
    scenario = parse_scenario(yaml.safe_load(blocks[0]), "README.md")
    assert scenario.rules and scenario.strict is None
    assert {rule.action.kind for rule in scenario.rules} >= {"tool_calls", "reply", "object", "refusal", "sequence",
                                                              "error", "generate"}


CUSTOM_TOOLS = [{"type": "custom", "custom": {"name": "shell", "description": "Runs a command."}},
                {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def test_rules_match_custom_tools_by_name_and_named_choice() -> None:
    scenario = parse_scenario([{"id": "by-tool", "match": {"tools": "shell"}, "reply": "a"},
                               {"id": "by-choice", "match": {"tool_choice": "shell"}, "reply": "b"}], "inline")
    offered = {"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": CUSTOM_TOOLS}
    rule, _, _ = select(scenario.rules[1:], {**offered, "tool_choice": {"type": "custom", "custom": {"name": "shell"}}},
                        {}, Counts())
    assert rule is not None and rule.id == "by-choice"
    rule, _, _ = select(scenario.rules, offered, {}, Counts())
    assert rule is not None and rule.id == "by-tool"


def test_a_scripted_call_to_a_custom_tool_is_a_custom_call() -> None:
    with MockServer(Config(scenario=parse_scenario(
            [{"match": {"tools": "shell"}, "tool_calls": [{"name": "shell", "input": "ls -la"}]}], "inline"))) as mock:
        status, reply = api_post(mock.base_url, {"model": "gpt-4o-mini", "tools": CUSTOM_TOOLS,
                                                 "messages": [{"role": "user", "content": "list files"}]})
    assert status == 200, reply
    call = reply["choices"][0]["message"]["tool_calls"][0]
    assert call["type"] == "custom" and call["custom"] == {"name": "shell", "input": "ls -la"}


def test_rules_can_name_endpoints_and_the_model_list_only_when_named() -> None:
    with MockServer(Config(scenario=parse_scenario(
            [{"error": 503, "times": 5}, {"match": {"endpoint": "models"}, "error": 500, "times": 1}],
            "inline"))) as mock:
        listed = send(mock.url, "GET", "/v1/models")
        assert listed.status == 500
        assert send(mock.url, "GET", "/v1/models").status == 200
        assert api_post(mock.base_url, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]})[0] \
            == 503


def test_a_scripted_reply_cannot_answer_the_model_list() -> None:
    with pytest.raises(SettingError, match=r"inline: rules\[0\].reply"):
        parse_scenario([{"match": {"endpoint": "models"}, "reply": "x"}], "inline")


def test_the_published_scenario_schema_accepts_every_example_file() -> None:
    validator = jsonschema.Draft202012Validator(schema("scenario"))
    jsonschema.Draft202012Validator.check_schema(schema("scenario"))
    for path in SCENARIOS:
        document = yaml.safe_load(path.read_text())
        assert not list(validator.iter_errors(document)), path


def test_detections_force_guardrail_detectors() -> None:
    from mockserver.core.gateways.enkrypt import Forced

    scenario = parse_scenario([{"match": {"last_user": "x"}, "reply": "hi", "detections": {"input": ["pii"]}},
                               {"detections": {"output": ["toxicity", "bias"]}}], "test")
    assert scenario.rules[0].action.kind == "reply"
    assert scenario.rules[0].action.detections == Forced(frozenset({"pii"}), frozenset())
    assert scenario.rules[1].action.kind == "generate"
    assert scenario.rules[1].action.detections == Forced(frozenset(), frozenset({"toxicity", "bias"}))
    with pytest.raises(SettingError, match=r"rules\[0\]\.detections: detections judge a reply"):
        parse_scenario([{"error": 500, "detections": {"input": ["pii"]}}], "test")
    with pytest.raises(SettingError, match=r"rules\[0\]\.detections\.input\.0"):
        parse_scenario([{"detections": {"input": ["telepathy"]}}], "test")
