"""Chaos mode: each request may fail with a seeded probability per fault kind.

The roll for a request is a function of the server seed and the request's sequence number only, so a
flaky-network test fails at the same requests on every run.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence

from mockserver.contract import error_kind
from mockserver.controls.faults import FAULT_KINDS, Fault
from mockserver.controls.rules import Action, ErrorSpec, ScenarioError

ERROR_FAULTS = ("rate_limit_exceeded", "insufficient_quota", "server_error", "overloaded")
CHAOS_KINDS = (*ERROR_FAULTS, *FAULT_KINDS)
CHAOS_RETRY_AFTER = 0.05
"""Short enough that a client's retries finish quickly in a test."""
CHAOS_STALL_MS = 100
CHAOS_MAX_AFTER = 4
"""Delivery faults act after 0 to this many chunks."""

Chaos = tuple[tuple[str, float], ...]


def parse_chaos(spec: str) -> Chaos:
    """`server_error=0.1,cut=0.05` as (kind, probability) pairs; probabilities must sum to at most 1.

    Kinds are the HTTP error kinds in ERROR_FAULTS and the delivery faults of `mockserver.faults`
    (`cut`, `truncate`, `error` for an error event mid-stream, `stall`, `malformed`)."""
    pairs: dict[str, object] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        kind, sep, value = item.partition("=")
        if not sep:
            raise ScenarioError(f"chaos: {item}", "expected KIND=PROBABILITY")
        try:
            pairs[kind.strip()] = float(value)
        except ValueError:
            raise ScenarioError(f"chaos.{kind.strip()}", "the probability must be a number") from None
    return chaos_from_mapping(pairs)


def chaos_from_mapping(probabilities: Mapping[str, object]) -> Chaos:
    """The same, from `{kind: probability}` (the admin API's form), in a stable order."""
    pairs = []
    for kind, probability in sorted(probabilities.items()):
        if kind not in CHAOS_KINDS:
            raise ScenarioError(f"chaos.{kind}", f"unknown fault kind; expected one of {list(CHAOS_KINDS)}")
        if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
            raise ScenarioError(f"chaos.{kind}", "the probability must be a number between 0 and 1")
        pairs.append((kind, float(probability)))
    if sum(p for _, p in pairs) > 1 + 1e-9:
        raise ScenarioError("chaos", "the probabilities add up to more than 1")
    return tuple(pairs)


def _source(server_seed: int, sequence: int) -> random.Random:
    material = hashlib.blake2b(f"chaos:{server_seed}:{sequence}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(material, "big"))


def roll(chaos: Sequence[tuple[str, float]], rng: random.Random) -> str | None:
    """The fault kind this request suffers, if any."""
    draw = rng.random()
    cumulative = 0.0
    for kind, probability in chaos:
        cumulative += probability
        if draw < cumulative:
            return kind
    return None


def chaos_action(chaos: Sequence[tuple[str, float]], server_seed: int, sequence: int) -> Action | None:
    if not chaos:
        return None
    rng = _source(server_seed, sequence)
    kind = roll(chaos, rng)
    if kind is None:
        return None
    if kind in FAULT_KINDS:
        stall = CHAOS_STALL_MS if kind == "stall" else 0
        return Action("generate", fault=Fault(kind, after=rng.randint(0, CHAOS_MAX_AFTER), stall_ms=stall))
    known = error_kind(kind)
    retry = CHAOS_RETRY_AFTER if known.status in (429, 503) else None
    spec = ErrorSpec(kind=kind, status=known.status, message=known.message or "The request failed.", retry_after=retry)
    return Action("error", error=spec)
