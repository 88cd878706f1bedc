"""The `conformance` command's contract: exit codes, reports, the pytest entry point, the library."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from conformance import checks, report
from conformance.cli import main
from conformance.engine.client import Client
from mockserver import Config, MockServer
from mockserver.contract import known_models

QUICK = ["--only", "shape", "--only", "errors", "--max-examples", "3"]
REPORT_SCHEMA = json.loads((Path(report.__file__).parent / "report.schema.json").read_text())


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return exited.value.code


def test_passes_on_the_mock_with_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, junit, markdown = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.md"
    assert _exit_code([*QUICK, "--report", str(report), "--junit", str(junit), "--markdown", str(markdown)]) == 0
    err = capsys.readouterr().err
    assert "about " in err and "requests" in err
    assert "shape" in err and "0 failing" in err
    assert "covered 10/10: system message" in err
    document = json.loads(report.read_text())
    jsonschema.validate(document, REPORT_SCHEMA)
    assert document["ok"] is True and document["failures"] == [] and document["aborted"] is None
    groups = {group["name"]: group for group in document["groups"]}
    assert "unknown model" in groups["errors"]["covered"] and groups["errors"]["not_covered"] == []
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites"
    assert {case.get("name") for case in suites.iter("testcase")} == {
        name for name, info in checks.CATALOGUE.items() if info.judged_under("openai")}
    assert not list(suites.iter("failure"))
    text = markdown.read_text()
    assert "| Area | Check | Result |" in text and "| `completion_schema` | pass |" in text
    assert "| `shape` | " in text and "covered 10/10" in text


def test_profile_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--profile vllm` passes the mock's vllm profile and fails it once it ignores guided_choice; a
    profile's required header that no one gives is a usage error before anything is sent."""
    report = tmp_path / "r.json"
    assert _exit_code(["--profile", "vllm", "--only", "vllm", "--max-examples", "3", "--report", str(report)]) == 0
    document = json.loads(report.read_text())
    jsonschema.validate(document, REPORT_SCHEMA)
    assert document["profile"] == "vllm" and "guided_choice_honoured" in {c["name"] for c in document["checks"]}
    assert _exit_code(["--profile", "vllm", "--only", "vllm", "--max-examples", "3",
                       "--mock-quirk", "guided_choice_ignored"]) == 1
    assert "FAILED guided_choice_honoured" in capsys.readouterr().err
    with MockServer() as server:
        assert _exit_code(["--profile", "enkrypt", "--base-url", server.url + "/ai-proxy", "--model", "gpt-4o-mini"]) == 2
    assert "needs the header X-Enkrypt-Deployment" in capsys.readouterr().err


def test_a_failing_check_exits_1_with_reproducer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, junit, markdown = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.md"
    code = _exit_code(["--only", "errors", "--max-examples", "3", "--mock-quirk", "error_422", "--report",
                       str(report), "--junit", str(junit), "--markdown", str(markdown)])
    assert code == 1
    err = capsys.readouterr().err
    assert "FAILED error_status_400" in err and "curl -sS" in err
    document = json.loads(report.read_text())
    jsonschema.validate(document, REPORT_SCHEMA)
    failure = next(f for f in document["failures"] if f["check"] == "error_status_400")
    assert failure["expected"] == "status 400" and failure["seen"] == "status 422"
    assert failure["exchange"].startswith("HTTP 422, Content-Type: application/json")
    failed_cases = [case.get("name") for case in ET.parse(junit).getroot().iter("testcase")
                    if case.find("failure") is not None]
    assert "error_status_400" in failed_cases
    assert "| `error_status_400` | FAIL |" in markdown.read_text()


def test_reproducer_replays_the_failure() -> None:
    with MockServer(Config(port=0, models=tuple(known_models()), quirks=("error_422",))) as server:
        client = Client(server.base_url)
        payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "n": 0}
        argv = shlex.split(client.curl(payload))
        assert argv[:2] == ["curl", "-sS"] and argv[2] == client.completions_url
        assert json.loads(argv[argv.index("-d") + 1]) == payload
        assert client.post_raw(argv[argv.index("-d") + 1].encode()).status == 422


def test_unreachable_server_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(["--base-url", "http://127.0.0.1:9/v1", "--model", "m", *QUICK]) == 2
    assert "cannot connect" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--only", "nonsense"], ["--only", "auth"], ["--max-examples", "0"],
                                  ["--base-url", "ftp://x"],
                                  ["--header", "no-colon"], ["--mock-quirk", "no_such_quirk"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    assert _exit_code(argv) == 2


def test_python_dash_m_help() -> None:
    shown = subprocess.run([sys.executable, "-m", "conformance", "--help"], capture_output=True, text=True, check=True)
    for option in ("--base-url", "--require-auth", "--max-requests", "--junit", "--markdown", "--only"):
        assert option in shown.stdout


def test_budget_stops_the_run(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    assert _exit_code(["--max-requests", "5", "--report", str(report)]) == 0
    document = json.loads(report.read_text())
    assert document["requests"] <= 5
    assert any(group["stopped"] == "request budget reached" for group in document["groups"])


def test_pytest_entry_point() -> None:
    with MockServer(Config(port=0, models=tuple(known_models()), quirks=("missing_refusal",))) as server:
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
                              "conformance", "--conformance-url", server.base_url, "--conformance-max-examples",
                              "2", "--conformance-only", "shape", "-k", "completion_schema or usage_arithmetic"],
                             capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout
    assert "1 failed, 1 passed" in run.stdout
    assert "completion_schema (group shape): expected a body valid against the chat.completion schema" in run.stdout


def test_checks_as_a_library() -> None:
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": 2}
    reply = {"id": "x", "object": "chat.completion", "created": 1, "model": "m",
             "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                          "message": {"role": "assistant", "content": "hi", "refusal": None}}],
             "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
    assert checks.completion_schema(request, reply) is True
    assert checks.usage_arithmetic(request, reply) is True
    with pytest.raises(AssertionError, match="choices_count: expected 2 choice"):
        checks.choices_count(request, reply)
    assert checks.stop_sequences_absent(request, reply) is False
    with pytest.raises(AssertionError, match="error_envelope"):
        checks.error_envelope(400, {"error": {"message": "bad", "type": "x", "param": None, "code": 400}})


def test_headers_and_key_reach_the_server() -> None:
    with MockServer(Config(port=0, api_keys=("sk-right",))) as server:
        base = ["--base-url", server.base_url, "--model", "gpt-4o-mini", "--only", "shape", "--max-examples", "2"]
        assert _exit_code([*base, "--header", "Authorization: Bearer sk-right"]) == 0
        assert _exit_code([*base, "--api-key", "sk-right"]) == 0
        assert _exit_code([*base, "--api-key", "sk-wrong"]) == 1
