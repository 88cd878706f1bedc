"""The response headers the real API sends, computed from plain values so tests can check them exactly.

Clients read these: the official SDKs surface `x-request-id`, retry on `retry-after-ms`/`retry-after`,
and budget requests with the `x-ratelimit-*` pairs. Durations use the real API's Go-style notation
(`120ms`, `1.5s`, `6m0s`).
"""

from __future__ import annotations

import hashlib
import math

from mockserver.controls.ratelimit import Verdict

OPENAI_VERSION = "2020-10-01"
RETRY_STATUSES = frozenset({429, 503})
DEFAULT_RETRY_AFTER = 1.0


def request_id(server_seed: int, number: int) -> str:
    """`req_` and 32 hex digits, like the real API; a function of the server seed and arrival number."""
    return "req_" + hashlib.blake2b(f"{server_seed}:{number}".encode(), digest_size=16).hexdigest()


def duration(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    if millis < 1000:
        return f"{millis}ms"
    minutes, rest = divmod(millis, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def standard(request_id_value: str, processing_seconds: float) -> dict[str, str]:
    return {
        "x-request-id": request_id_value,
        "openai-processing-ms": str(max(0, round(processing_seconds * 1000))),
        "openai-version": OPENAI_VERSION,
    }


def ratelimit(verdict: Verdict) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": str(verdict.limit_requests),
        "x-ratelimit-remaining-requests": str(verdict.remaining_requests),
        "x-ratelimit-reset-requests": duration(verdict.reset_requests),
        "x-ratelimit-limit-tokens": str(verdict.limit_tokens),
        "x-ratelimit-remaining-tokens": str(verdict.remaining_tokens),
        "x-ratelimit-reset-tokens": duration(verdict.reset_tokens),
    }


def retry_after(seconds: float) -> dict[str, str]:
    """Both forms: whole seconds for generic clients, milliseconds for the SDKs that prefer them."""
    return {"retry-after": str(max(1, math.ceil(seconds))), "retry-after-ms": str(max(1, round(seconds * 1000)))}
