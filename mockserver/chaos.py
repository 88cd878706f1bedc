"""Chaos mode: each request may fail with a seeded probability per fault kind.

The roll for a request is a function of the server seed and the request's sequence number only, so a
flaky-network test fails at the same requests on every run.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from .contract import error_kind
from .scenarios import Action, ErrorSpec, ScenarioError

ERROR_FAULTS = ("rate_limit_exceeded", "insufficient_quota", "server_error", "overloaded")
CHAOS_RETRY_AFTER = 0.05
"""Short enough that a client's retries finish quickly in a test."""

Chaos = tuple[tuple[str, float], ...]


def parse_chaos(spec: str) -> Chaos:
    """`server_error=0.1,overloaded=0.05` as (kind, probability) pairs; probabilities must sum to at most 1."""
    pairs = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        kind, sep, value = item.partition("=")
        if not sep or kind.strip() not in ERROR_FAULTS:
            raise ScenarioError(f"chaos: {item}", f"expected KIND=PROBABILITY with KIND one of {list(ERROR_FAULTS)}")
        try:
            probability = float(value)
        except ValueError:
            raise ScenarioError(f"chaos: {item}", "the probability must be a number") from None
        if not 0 <= probability <= 1:
            raise ScenarioError(f"chaos: {item}", "the probability must be between 0 and 1")
        pairs.append((kind.strip(), probability))
    if sum(p for _, p in pairs) > 1 + 1e-9:
        raise ScenarioError("chaos", "the probabilities add up to more than 1")
    return tuple(pairs)


def roll(chaos: Sequence[tuple[str, float]], server_seed: int, sequence: int) -> str | None:
    """The fault kind this request suffers, if any."""
    if not chaos:
        return None
    material = hashlib.blake2b(f"chaos:{server_seed}:{sequence}".encode(), digest_size=8).digest()
    draw = random.Random(int.from_bytes(material, "big")).random()
    cumulative = 0.0
    for kind, probability in chaos:
        cumulative += probability
        if draw < cumulative:
            return kind
    return None


def chaos_action(chaos: Sequence[tuple[str, float]], server_seed: int, sequence: int) -> Action | None:
    kind = roll(chaos, server_seed, sequence)
    if kind is None:
        return None
    known = error_kind(kind)
    retry = CHAOS_RETRY_AFTER if known.status in (429, 503) else None
    spec = ErrorSpec(kind=kind, status=known.status, message=known.message or "The request failed.", retry_after=retry)
    return Action("error", error=spec)
