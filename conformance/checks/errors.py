"""The checks of the answer to an invalid request: a 4xx, the exact status the rule earns, and the
error envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.checks.catalogue import register
from conformance.checks.outcome import clip, fail, seen_status
from conformance.checks.schemas import schema_error
from mockserver.contract import error_kind
from mockserver.contract.profiles import DEFAULT_PROFILE


@register("errors")
def error_not_5xx(status: int, body: Any) -> bool:
    """An invalid request gets a 4xx: never a 5xx, never a success."""
    if not 400 <= status < 500:
        raise fail("error_not_5xx", "a 4xx status for an invalid request", seen_status(status))
    return True


def _status_check(name: str, kind: str, doc: str) -> Callable[[int, Any], bool]:
    expected = error_kind(kind).status

    def check(status: int, body: Any) -> bool:
        if status != expected:
            raise fail(name, f"status {expected}", seen_status(status))
        return True

    check.__name__ = check.__qualname__ = name
    check.__doc__ = doc
    return register("errors")(check)


error_status_400 = _status_check("error_status_400", "invalid_request",
                                 "A request the API rejects as invalid gets exactly 400 (not 422 or another 4xx).")
unknown_model_404 = _status_check("unknown_model_404", "model_not_found",
                                  "A request for a model the server does not have gets 404.")
auth_required_401 = _status_check("auth_required_401", "invalid_api_key",
                                  "A missing or wrong API key gets 401 (checked with --require-auth).")


@register("errors")
def error_envelope(status: int, body: Any, profile: str = DEFAULT_PROFILE) -> bool:
    """An error body is `{"error": {"message", "type", "param", "code"}}` with `code` a string or null (or
    the envelope of the run's profile: vLLM's status as `code`, watsonx.ai's `errors` list)."""
    problem = schema_error("error", body, profile)
    if problem is not None:
        raise fail("error_envelope", "the error envelope" + (f" of {profile}" if profile != DEFAULT_PROFILE else
                                                              ' {"error": {message, type, param, code}}'),
                    f"{problem}: {clip(body, 160)}")
    return True


