"""A token-bucket rate limiter per API key, as pure state transitions over an injected monotonic time.

Each key has two buckets, requests and tokens per minute, that refill continuously like the real API's
limits. `admit` takes the state, the key, the request's token cost and the time, and returns the next
state with a `Verdict` that carries everything the response headers need; nothing here sleeps or reads
a clock, so tests drive it through minutes in microseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

# What the headers report when no limit is configured: a generous paid tier that never refuses.
NOMINAL_REQUESTS_PER_MINUTE = 10_000
NOMINAL_TOKENS_PER_MINUTE = 30_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None


# The state and verdict are named tuples rather than frozen dataclasses: every request makes five of
# them, and tuples cost a fifth as much to build.
class Bucket(NamedTuple):
    level: float
    updated: float


class KeyState(NamedTuple):
    requests: Bucket
    tokens: Bucket


class Verdict(NamedTuple):
    allowed: bool
    limit_requests: int
    remaining_requests: int
    reset_requests: float
    """Seconds until the request bucket is full again."""
    limit_tokens: int
    remaining_tokens: int
    reset_tokens: float
    exceeded: str | None = None
    """`requests` or `tokens` when refused."""
    retry_after: float = 0.0
    """Seconds until a refused request would fit."""
    requested: int = 0


def _refill(bucket: Bucket, capacity: int, now: float) -> Bucket:
    elapsed = max(0.0, now - bucket.updated)
    return Bucket(min(float(capacity), bucket.level + elapsed * capacity / 60.0), now)


def _wait(bucket: Bucket, capacity: int, needed: float) -> float:
    """Seconds until `needed` units are available (infinite when the need exceeds the capacity)."""
    missing = needed - bucket.level
    if missing <= 0:
        return 0.0
    return math.inf if needed > capacity else missing * 60.0 / capacity


def admit(state: Mapping[str, KeyState], key: str, cost: int, now: float,
          limits: Limits) -> tuple[dict[str, KeyState], Verdict]:
    """Spend one request and `cost` tokens from `key`'s buckets, or refuse without spending."""
    rpm = limits.requests_per_minute or NOMINAL_REQUESTS_PER_MINUTE
    tpm = limits.tokens_per_minute or NOMINAL_TOKENS_PER_MINUTE
    current = state.get(key) or KeyState(Bucket(float(rpm), now), Bucket(float(tpm), now))
    requests = _refill(current.requests, rpm, now)
    tokens = _refill(current.tokens, tpm, now)
    exceeded = None
    wait = 0.0
    if limits.requests_per_minute is not None and requests.level < 1:
        exceeded, wait = "requests", _wait(requests, rpm, 1)
    elif limits.tokens_per_minute is not None and tokens.level < cost:
        exceeded, wait = "tokens", _wait(tokens, tpm, cost)
    if exceeded is None:
        requests = Bucket(max(0.0, requests.level - 1), now)
        tokens = Bucket(max(0.0, tokens.level - cost), now)
    verdict = Verdict(
        allowed=exceeded is None,
        limit_requests=rpm,
        remaining_requests=int(requests.level),
        reset_requests=(rpm - requests.level) * 60.0 / rpm,
        limit_tokens=tpm,
        remaining_tokens=int(tokens.level),
        reset_tokens=(tpm - tokens.level) * 60.0 / tpm,
        exceeded=exceeded,
        retry_after=wait,
        requested=1 if exceeded == "requests" else cost,
    )
    return {**state, key: KeyState(requests, tokens)}, verdict
