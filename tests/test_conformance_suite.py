"""The conformance suite proves itself on the project's own mock: it passes on the faithful mock, and
every quirk (a deviation real servers have) makes it fail with the check one would expect."""

from __future__ import annotations

import pytest

from conformance.session import run_suite
from mockserver.quirks import QUIRKS


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
    "tool_content_empty": ("tools", "tool_call_message"),
    "stream_options_ignored": ("streaming", "stream_usage_last"),
    "role_every_delta": ("streaming", "stream_role_once"),
    "first_delta_without_role": ("streaming", "stream_role_first"),
    "no_done": ("streaming", "stream_done"),
    "usage_chunk_with_choices": ("streaming", "stream_usage_last"),
    "chunk_ids_vary": ("streaming", "stream_consistent_ids"),
    "tool_deltas_repeat_id": ("tools", "stream_tool_call_deltas"),
}


def test_every_quirk_has_an_expected_catch() -> None:
    assert set(CAUGHT_BY) | {"seed_ignored"} == set(QUIRKS)


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


@pytest.mark.parametrize("quirk", sorted(CAUGHT_BY))
def test_each_quirk_is_caught(quirk: str) -> None:
    group, check = CAUGHT_BY[quirk]
    result = run_suite(only=[group], max_examples=6, mock_quirks=[quirk])
    assert not result.ok
    failed = {f.check: f for f in result.failures}
    assert check in failed, f"{quirk} should fail {check}, failed {sorted(failed)}"
    failure = failed[check]
    assert failure.curl.startswith("curl ") and "/chat/completions" in failure.curl
    assert failure.request is not None


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
