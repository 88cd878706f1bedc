"""How long a reply takes: time to first token and inter-token latency, per server or per request.

Zero by default so tests stay fast. The same schedule paces a stream event by event and delays a
non-streamed reply by the whole generation time, so both kinds of client see the same model speed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace

from mockserver.contract.errors import ApiError

TIMING_HEADER = "X-Mock-Timing"


@dataclass(frozen=True, slots=True)
class Timing:
    ttft_ms: float = 0.0
    """Delay before the first chunk (or the whole generation's start for a non-streamed reply)."""
    itl_ms: float = 0.0
    """Delay between one content chunk and the next."""
    jitter: float = 0.0
    """Each delay varies uniformly within this fraction of its nominal value (0 to 1), drawn from a
    source seeded by the completion id: uneven like a real model, yet the same on every replay."""

    @property
    def instant(self) -> bool:
        return self.ttft_ms == 0 and self.itl_ms == 0


PROFILES: Mapping[str, Timing] = {
    "none": Timing(),
    "realistic": Timing(ttft_ms=350.0, itl_ms=25.0, jitter=0.5),
}
"""Named timings for `--timing` and the request header; `realistic` feels like a hosted small model."""

_MAX_MS = 600_000.0


def _milliseconds(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= _MAX_MS:
        raise ApiError("invalid_request", f"Invalid {TIMING_HEADER} header: '{key}' must be a number of "
                       f"milliseconds between 0 and {_MAX_MS:.0f}, got '{text}'.")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ApiError("invalid_request", f"Invalid {TIMING_HEADER} header: 'jitter' must be a fraction "
                       f"between 0 and 1, got '{text}'.")
    return value


def parse_timing(text: str, base: Timing = Timing()) -> Timing:
    """`realistic`, `none`, or `ttft=200,itl=20,jitter=0.3` (keys left out keep `base`'s values)."""
    spec = text.strip()
    if spec in PROFILES:
        return PROFILES[spec]
    timing = base
    for item in spec.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or key not in ("ttft", "itl", "jitter"):
            raise ApiError("invalid_request", f"Invalid {TIMING_HEADER} header '{text}': expected a profile "
                           f"({', '.join(PROFILES)}) or 'ttft=<ms>,itl=<ms>,jitter=<0..1>'.")
        if key == "jitter":
            timing = replace(timing, jitter=_fraction(value))
        else:
            timing = replace(timing, **{f"{key}_ms": _milliseconds(key, value)})
    return timing


def request_timing(headers: Mapping[str, str], base: Timing) -> Timing:
    header = headers.get(TIMING_HEADER)
    return base if header is None else parse_timing(header, base)


def event_delays(timing: Timing, paced_events: int, total_events: int, seed: str = "") -> list[float]:
    """Seconds to wait before each event: the first `paced_events` are generated tokens, the rest
    (usage chunk, `[DONE]`) follow at once. `seed` (the completion id) fixes the jitter."""
    if timing.instant:
        return [0.0] * total_events
    nominal = [timing.itl_ms / 1000] * paced_events
    if paced_events:
        nominal[0] = timing.ttft_ms / 1000
    if timing.jitter:
        rng = random.Random(seed)
        nominal = [delay * rng.uniform(1 - timing.jitter, 1 + timing.jitter) for delay in nominal]
    return nominal + [0.0] * (total_events - paced_events)


def generation_seconds(timing: Timing, paced_events: int, seed: str = "") -> float:
    """What a non-streamed reply waits: the same schedule a stream of the same reply would follow."""
    return sum(event_delays(timing, paced_events, paced_events, seed))
