"""Chaos mode: each request may fail with a seeded probability per fault kind.

The roll for a request is a function of the server seed and the request's sequence number only, so a
flaky-network test fails at the same requests on every run.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.contract import error_kind
from mockserver.controls.faults import FAULT_KINDS, Fault
from mockserver.controls.rules.model import Action, ErrorSpec
from mockserver.controls.settings import SettingError, key_values, mapping, number

ERROR_FAULTS = ("rate_limit_exceeded", "insufficient_quota", "server_error", "overloaded")
CHAOS_KINDS = (*ERROR_FAULTS, *FAULT_KINDS)
CHAOS_RETRY_AFTER = 0.05
"""Short enough that a client's retries finish quickly in a test."""
CHAOS_STALL_MS = 100
CHAOS_MAX_AFTER = 4
"""Delivery faults act after 0 to this many chunks."""

Chaos = tuple[tuple[str, float], ...]


def parse_chaos(value: str | Mapping[str, Any], where: str = "chaos") -> Chaos:
    """`server_error=0.1,cut=0.05` or `{kind: probability}` as (kind, probability) pairs in a stable
    order; the probabilities must add up to at most 1.

    Kinds are the HTTP error kinds in ERROR_FAULTS and the delivery faults of `mockserver.controls.faults`
    (`cut`, `truncate`, `error` for an error event mid-stream, `stall`, `malformed`)."""
    probabilities = (key_values(value, where) if value.strip() else {}) if isinstance(value, str) \
        else mapping(value, where)
    pairs = []
    for kind, probability in sorted(probabilities.items()):
        if kind not in CHAOS_KINDS:
            raise SettingError(f"{where}.{kind}", f"unknown fault kind; expected one of {list(CHAOS_KINDS)}")
        pairs.append((kind, number(probability, f"{where}.{kind}", 0.0, 1.0)))
    if sum(p for _, p in pairs) > 1 + 1e-9:
        raise SettingError(where, "the probabilities add up to more than 1")
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
