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
from typing import Any, NamedTuple

from mockserver.controls.settings import key_values, mapping, unknown_keys, whole

# What the headers report when no limit is configured: a generous paid tier that never refuses.
NOMINAL_REQUESTS_PER_MINUTE = 10_000
NOMINAL_TOKENS_PER_MINUTE = 30_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None


_LIMIT_KEYS = {"rpm": "requests_per_minute", "tpm": "tokens_per_minute"}
_MAX_LIMIT = 10**12


def parse_limits(value: str | Mapping[str, Any], where: str = "limits") -> Limits:
    """`rpm=60,tpm=40000` or `{requests_per_minute, tokens_per_minute}`; a limit left out (or null) is off."""
    if isinstance(value, str):
        pairs = key_values(value, where) if value.strip() else {}
        unknown_keys(pairs, tuple(_LIMIT_KEYS), where)
        fields: Mapping[str, Any] = {_LIMIT_KEYS[key]: text for key, text in pairs.items()}
    else:
        fields = mapping(value, where)
        unknown_keys(fields, tuple(_LIMIT_KEYS.values()), where)
    return Limits(**{name: None if fields.get(name) is None else whole(fields[name], f"{where}.{name}", 1, _MAX_LIMIT)
                     for name in _LIMIT_KEYS.values()})


class KeyState(NamedTuple):
    """One key's two buckets, which always refill together: their levels and when they were last filled."""

    requests: float
    tokens: float
    updated: float


# The verdict is a named tuple rather than a frozen dataclass: every request makes one, and a tuple
# costs a fraction as much to build.
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


def _wait(level: float, capacity: int, needed: float) -> float:
    """Seconds until `needed` units are available (infinite when the need exceeds the capacity)."""
    missing = needed - level
    if missing <= 0:
        return 0.0
    return math.inf if needed > capacity else missing * 60.0 / capacity


def admit(state: Mapping[str, KeyState], key: str, cost: int, now: float,
          limits: Limits) -> tuple[dict[str, KeyState], Verdict]:
    """Spend one request and `cost` tokens from `key`'s buckets, or refuse without spending."""
    rpm = limits.requests_per_minute or NOMINAL_REQUESTS_PER_MINUTE
    tpm = limits.tokens_per_minute or NOMINAL_TOKENS_PER_MINUTE
    current = state.get(key)
    if current is None:
        requests, tokens = float(rpm), float(tpm)
    else:
        minutes = max(0.0, now - current.updated) / 60.0
        requests = min(float(rpm), current.requests + minutes * rpm)
        tokens = min(float(tpm), current.tokens + minutes * tpm)
    exceeded = None
    wait = 0.0
    if limits.requests_per_minute is not None and requests < 1:
        exceeded, wait = "requests", _wait(requests, rpm, 1)
    elif limits.tokens_per_minute is not None and tokens < cost:
        exceeded, wait = "tokens", _wait(tokens, tpm, cost)
    if exceeded is None:
        requests = max(0.0, requests - 1)
        tokens = max(0.0, tokens - cost)
    verdict = Verdict(exceeded is None, rpm, int(requests), (rpm - requests) * 60.0 / rpm,
                      tpm, int(tokens), (tpm - tokens) * 60.0 / tpm, exceeded, wait,
                      1 if exceeded == "requests" else cost)
    return {**state, key: KeyState(requests, tokens, now)}, verdict
