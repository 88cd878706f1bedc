"""The contract's checks, each a plain named function that other projects can call in their own tests.

A check takes the request that was sent and what came back, returns True when it applied (False when
the request does not exercise it) and raises `CheckFailed` (an AssertionError) naming what the contract
expected and what was seen.

    from conformance import checks
    checks.usage_arithmetic(request, reply_json)

The streaming rules live in the incremental state machine `StreamChecker`; `CATALOGUE` lists every
check and rule by name. Checks that judge what a compatibility profile adds (`checks.profile`) are
judged only in runs under that profile (`conformance --profile NAME`).
"""

# The other endpoints' checks register after the chat ones, so reports list them after them.
from conformance.checks import completions, embeddings, responses
from conformance.checks.catalogue import CATALOGUE, CheckInfo

# The reply checks register before the error checks: the order of registration is the catalogue's.
from conformance.checks.errors import (
                                      auth_required_401,
                                      error_envelope,
                                      error_not_5xx,
                                      error_status_400,
                                      unknown_model_404,
)
from conformance.checks.outcome import CheckFailed, Violation

# The checks a compatibility profile adds come last; only runs under that profile judge them.
from conformance.checks.profile import (
                                      enkrypt_detections,
                                      enkrypt_pii_detected,
                                      gateway_cache_served,
                                      guided_choice_honoured,
                                      guided_json_valid,
                                      guided_regex_honoured,
                                      profile_reply_fields,
)
from conformance.checks.reply import (
                                      accepts_valid_request,
                                      choices_count,
                                      completion_checks,
                                      completion_ids,
                                      completion_object,
                                      completion_schema,
                                      logprobs_shape,
                                      max_tokens_honoured,
                                      seed_reproducible,
                                      stop_sequences_absent,
                                      stream_matches_non_stream,
                                      structured_output_valid,
                                      tool_arguments_valid,
                                      tool_call_message,
                                      tool_choice_honoured,
                                      usage_arithmetic,
)
from conformance.checks.stream import STREAM_RULES, StreamChecker, StreamResult, check_stream_text

__all__ = ["CATALOGUE", "CheckFailed", "CheckInfo", "STREAM_RULES", "StreamChecker", "StreamResult", "Violation",
           "accepts_valid_request", "auth_required_401", "check_stream_text", "choices_count", "completion_checks",
           "completion_ids", "completion_object", "completion_schema", "completions", "embeddings",
           "enkrypt_detections", "enkrypt_pii_detected", "error_envelope", "error_not_5xx", "error_status_400",
           "gateway_cache_served", "guided_choice_honoured", "guided_json_valid", "guided_regex_honoured",
           "logprobs_shape", "max_tokens_honoured", "profile_reply_fields", "responses", "seed_reproducible",
           "stop_sequences_absent", "stream_matches_non_stream", "structured_output_valid", "tool_arguments_valid",
           "tool_call_message", "tool_choice_honoured", "unknown_model_404", "usage_arithmetic"]
