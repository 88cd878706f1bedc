"""How long a reply takes: time to first token and inter-token latency, per server or per request.

Zero by default so tests stay fast. The same schedule paces a stream event by event and delays a
non-streamed reply by the whole generation time, so both kinds of client see the same model speed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mockserver.controls.settings import (
    SettingError,
    key_values,
    mapping,
    number,
    unknown_keys,
)


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

MAX_MS = 600_000.0
_TEXT_KEYS = {"ttft": "ttft_ms", "itl": "itl_ms", "jitter": "jitter"}


def parse_timing(value: str | Mapping[str, Any], base: Timing = Timing(), where: str = "timing") -> Timing:
    """A profile name (`realistic`, `none`), the text form `ttft=200,itl=20,jitter=0.3`, or the mapping
    `{ttft_ms, itl_ms, jitter}` (or `{profile: NAME}`); keys left out keep `base`'s values."""
    if isinstance(value, str):
        spec = value.strip()
        if spec in PROFILES:
            return PROFILES[spec]
        pairs = key_values(spec, where)
        unknown = sorted(set(pairs) - set(_TEXT_KEYS))
        if unknown:
            raise SettingError(where, f"expected a profile ({', '.join(PROFILES)}) or 'ttft=<ms>,itl=<ms>,"
                               f"jitter=<0..1>', got {value!r}")
        fields: Mapping[str, Any] = {_TEXT_KEYS[key]: text for key, text in pairs.items()}
    else:
        fields = mapping(value, where)
        if "profile" in fields:
            unknown_keys(fields, ("profile",), where)
            if fields["profile"] not in PROFILES:
                raise SettingError(f"{where}.profile", f"expected one of {list(PROFILES)}")
            return PROFILES[fields["profile"]]
        unknown_keys(fields, tuple(_TEXT_KEYS.values()), where)
    timing = base
    for name, given in fields.items():
        high = 1.0 if name == "jitter" else MAX_MS
        timing = replace(timing, **{name: number(given, f"{where}.{name}", 0.0, high)})
    return timing


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
