"""The conformance suite proves itself on the project's own mock: it passes on the faithful mock, and
every quirk (a deviation real servers have) makes it fail with the check one would expect."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import pypdf
import pytest
from hypothesis import find, settings

from conformance.engine.client import Client
from conformance.engine.groups import probe_completion
from conformance.generate import requests as strategies
from conformance.session import run_suite
from mockserver import MockServer
from mockserver.core.render.quirks import QUIRKS

# quirk -> (the group that exercises it, the check that must catch it)
CAUGHT_BY = {
    "n_ignored": ("choices", "choices_count"),
    "max_tokens_ignored": ("limits", "max_tokens_honoured"),
    "stop_ignored": ("limits", "stop_sequences_absent"),
    "logprobs_ignored": ("logprobs", "logprobs_shape"),
    "missing_refusal": ("shape", "completion_schema"),
    "no_usage": ("shape", "usage_arithmetic"),
    "total_tokens_wrong": ("shape", "usage_arithmetic"),
    "float_created": ("shape", "completion_ids"),
    "wrong_object": ("shape", "completion_object"),
    "error_422": ("errors", "error_status_400"),
    "error_500": ("errors", "error_not_5xx"),
    "unwrapped_error": ("errors", "error_envelope"),
    "integer_error_code": ("errors", "error_envelope"),
    "unknown_model_ok": ("errors", "unknown_model_404"),
    "tool_arguments_object": ("tools", "tool_arguments_valid"),
    "named_tool_choice_ignored": ("tools", "tool_choice_honoured"),
    "tool_content_empty": ("tools", "tool_call_message"),
    "stream_options_ignored": ("streaming", "stream_usage_last"),
    "role_every_delta": ("streaming", "stream_role_once"),
    "first_delta_without_role": ("streaming", "stream_role_first"),
    "no_done": ("streaming", "stream_done"),
    "usage_chunk_with_choices": ("streaming", "stream_usage_last"),
    "chunk_ids_vary": ("streaming", "stream_consistent_ids"),
    "tool_deltas_repeat_id": ("tools", "stream_tool_call_deltas"),
    "echo_ignored": ("completions", "echo_honoured"),
    "completion_logprobs_chat_shape": ("completions", "text_logprobs_shape"),
    "completion_default_unlimited": ("completions", "text_max_tokens_honoured"),
    "embedding_unnormalised": ("embeddings", "embedding_norm"),
    "embedding_dimensions_ignored": ("embeddings", "embedding_dimensions"),
    "embedding_base64_float64": ("embeddings", "embedding_base64_matches_float"),
    "response_chat_usage": ("responses", "response_usage_arithmetic"),
    "no_response_completed": ("responses", "response_stream_order"),
    "max_output_tokens_ignored": ("responses", "max_output_tokens_honoured"),
}
PATHS = {"completions": "/completions", "embeddings": "/embeddings", "responses": "/responses"}
# quirk -> (the profile whose parameter it ignores, its group, the check that must catch it)
CAUGHT_UNDER_PROFILE = {
    "guided_choice_ignored": ("vllm", "vllm", "guided_choice_honoured"),
}


def test_every_quirk_has_an_expected_catch() -> None:
    assert set(CAUGHT_BY) | set(CAUGHT_UNDER_PROFILE) | {"seed_ignored"} == set(QUIRKS)


def test_unseeded_replies_warn_unless_strict() -> None:
    lenient = run_suite(only=["consistency"], max_examples=3, mock_quirks=["seed_ignored"])
    assert lenient.checks["seed_reproducible"].status == "warn"
    assert "seed_reproducible" not in lenient.failing_checks
    assert [w.check for w in lenient.warnings] == ["seed_reproducible"]
    strict = run_suite(only=["consistency"], max_examples=3, mock_quirks=["seed_ignored"], strict_seed=True)
    assert "seed_reproducible" in strict.failing_checks


def test_suite_passes_against_the_mock() -> None:
    result = run_suite(max_examples=8, require_auth=True)
    assert [f.check for f in result.failures] == []
    assert result.ok
    exercised = {name for name, record in result.checks.items() if record.status == "pass"}
    assert exercised == set(result.checks)
    assert {name: group.uncovered for name, group in result.groups.items() if group.uncovered} == {}
    tools = result.groups["tools"].covered
    for mode in ("none", "auto", "required", "named function", "named custom", "allowed_tools"):
        assert f"tool_choice {mode} (streamed)" in tools and f"tool_choice {mode} (not streamed)" in tools
    assert {"response_format json_object", "response_format json_schema (strict)"} <= set(
        result.groups["structured"].covered)
    assert {"image_url part", "file part", "custom call and its result"} <= set(result.groups["messages"].covered)
    assert "json_object without the word json in the messages" in result.groups["errors"].covered
    assert {"prompt as tokens", "echo", "best_of", "streamed"} <= set(result.groups["completions"].covered)
    assert {"input as lists of tokens", "dimensions"} <= set(result.groups["embeddings"].covered)
    assert {"function call and its output", "tool_choice named", "text.format json_schema", "streamed"} <= set(
        result.groups["responses"].covered)
    assert all(group.not_served is None for group in result.groups.values())


def test_an_endpoint_the_server_does_not_serve_is_reported_not_failed() -> None:
    """Asked to complete with a chat model, the mock answers 404 as the real API does: the completions
    group is not served for that model, and the run passes."""
    result = run_suite(only=["completions", "embeddings"], max_examples=3, completions_model="gpt-4o-mini")
    assert result.ok and result.failing_checks == []
    group = result.groups["completions"]
    assert group.not_served is not None and "This is a chat model" in group.not_served
    assert group.requests == 1 and group.uncovered == []
    assert result.groups["embeddings"].not_served is None and result.groups["embeddings"].examples > 0


def test_a_named_tool_choice_answered_in_text_is_caught_at_the_default_size() -> None:
    """With random draws alone, seeds 1 and 4 went past every named tool_choice at the default 10 examples;
    the covering examples send one of each kind whatever the seed."""
    for seed in (1, 4):
        result = run_suite(only=["tools"], seed=seed, mock_quirks=["named_tool_choice_ignored"])
        failure = next(f for f in result.failures if f.check == "tool_choice_honoured")
        assert failure.request["tool_choice"]["type"] in ("function", "custom")
        assert "HTTP 200" in failure.exchange


@pytest.mark.parametrize("quirk", sorted(CAUGHT_BY))
def test_each_quirk_is_caught(quirk: str) -> None:
    group, check = CAUGHT_BY[quirk]
    result = run_suite(only=[group], max_examples=6, mock_quirks=[quirk])
    assert not result.ok
    failed = {f.check: f for f in result.failures}
    assert check in failed, f"{quirk} should fail {check}, failed {sorted(failed)}"
    failure = failed[check]
    assert failure.curl.startswith("curl ") and f"/v1{PATHS.get(group, '/chat/completions')} " in failure.curl
    assert failure.request is not None


@pytest.mark.parametrize("quirk", sorted(CAUGHT_UNDER_PROFILE))
def test_each_profile_quirk_is_caught_under_its_profile(quirk: str) -> None:
    profile, group, check = CAUGHT_UNDER_PROFILE[quirk]
    caught = run_suite(only=[group], max_examples=4, profile=profile, mock_quirks=[quirk])
    assert check in caught.failing_checks
    failure = next(f for f in caught.failures if f.check == check)
    assert failure.request["guided_choice"] and "HTTP 200" in failure.exchange
    assert run_suite(only=[group], max_examples=4, profile=profile).ok


@pytest.mark.parametrize(("profile", "added"), [
    ("vllm", {"guided_choice_honoured", "guided_regex_honoured", "guided_json_valid", "profile_reply_fields"}),
    ("watsonx-gateway", {"gateway_cache_served", "profile_reply_fields"}),
    ("enkrypt", {"enkrypt_detections", "enkrypt_pii_detected", "profile_reply_fields"}),
])
def test_each_profile_passes_against_the_mock_as_that_profile(profile: str, added: set[str]) -> None:
    """The suite under `--profile` sends the profile's parameters and headers and judges what they do; the
    mock answering as that profile passes every check, the profile's own included."""
    result = run_suite(max_examples=4, profile=profile, skip=["messages", "choices", "logprobs", "structured"])
    assert result.failing_checks == [] and result.ok
    judged = {name for name, record in result.checks.items() if record.status == "pass"}
    assert added <= judged
    assert {name: group.uncovered for name, group in result.groups.items() if group.uncovered} == {}
    assert result.profile == profile


def test_profile_checks_are_left_out_of_runs_under_other_profiles() -> None:
    result = run_suite(only=["shape"], max_examples=2)
    assert not {"guided_choice_honoured", "gateway_cache_served", "enkrypt_detections"} & set(result.checks)


def test_budget_ends_a_failing_run_cleanly() -> None:
    result = run_suite(only=["errors"], max_examples=4, mock_quirks=["error_500"], max_requests=12)
    assert result.requests == 12
    assert result.groups["errors"].stopped in ("request budget reached", "its share of the request budget reached")
    assert "error_not_5xx" in result.failing_checks


def test_a_streamed_twin_is_reported_with_its_own_request() -> None:
    result = run_suite(only=["consistency"], max_examples=3, mock_quirks=["first_delta_without_role"])
    failure = next(f for f in result.failures if f.check == "stream_role_first")
    assert failure.request["stream"] is True and " -N " in failure.curl


def test_requests_fit_a_reasoning_model() -> None:
    result = run_suite(model="o3-mini", only=["shape", "limits", "streaming", "consistency"], max_examples=5)
    assert result.failing_checks == []
    assert result.checks["max_tokens_honoured"].passed > 0


def _parts_of(request: dict, kind: str) -> list[dict]:
    return [part for message in request["messages"] if isinstance(message.get("content"), list)
            for part in message["content"] if part["type"] == kind]


def _calls_of(request: dict, kind: str) -> list[dict]:
    return [call for message in request["messages"] for call in message.get("tool_calls", ()) if call["type"] == kind]


def _example(condition: Callable[[dict], bool]) -> dict:
    return find(strategies.message_requests("gpt-4o-mini"), condition,
                settings=settings(derandomize=True, database=None, max_examples=2000))


def test_file_parts_hold_a_pdf_a_reader_opens() -> None:
    """A real API parses the PDF it is sent, so the messages group's file part must be a sound document."""
    data = _parts_of(_example(lambda r: bool(_parts_of(r, "file"))), "file")[0]["file"]["file_data"]
    prefix = "data:application/pdf;base64,"
    assert data.startswith(prefix)
    reader = pypdf.PdfReader(io.BytesIO(base64.b64decode(data[len(prefix):])), strict=True)
    assert [page.extract_text() for page in reader.pages] == ["The river is blue."]


@pytest.mark.parametrize("condition", [lambda r: bool(_parts_of(r, "file")), lambda r: bool(_calls_of(r, "custom"))],
                         ids=["file part", "custom tool call in history"])
def test_messages_group_examples_pass_on_the_mock(condition: Callable[[dict], bool]) -> None:
    request = _example(condition)
    with MockServer() as server:
        outcomes = probe_completion(Client(server.base_url, api_key=None, timeout=10), request)
    assert outcomes and [name for name, violation in outcomes if violation is not None] == []
