"""The controls' state: an immutable snapshot the decisions read and replace, and its one owner.

Everything that can change what happens to a request besides the request itself sits in `Controls`:
rules and their counts, the rate-limit buckets, chaos, timing, the default fault, quirks, replay
positions, what endpoints stored (responses for `previous_response_id`) and the sequence number.
`reset` returns all of it (sequence included) to the configured start, so a test's outcome never
depends on the tests before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.controls.chaos import Chaos
from mockserver.controls.config import Config
from mockserver.controls.faults import Fault
from mockserver.controls.journal import Journal
from mockserver.controls.ratelimit import KeyState, Limits
from mockserver.controls.rules.model import Counts, ErrorSpec, Rule
from mockserver.controls.timing import Timing
from mockserver.core.endpoints import ServeOptions


STORED_LIMIT = 1024
"""Stored entries a server keeps; past it the oldest are forgotten, so a long run holds bounded memory."""


def stored_with(stored: Mapping[str, Any], key: str, value: Any, limit: int = STORED_LIMIT) -> dict[str, Any]:
    """`stored` with `key` set (as the newest entry), the oldest entries dropped past `limit`."""
    kept = {k: v for k, v in stored.items() if k != key}
    kept[key] = value
    while len(kept) > limit:
        del kept[next(iter(kept))]
    return kept


@dataclass(frozen=True, slots=True)
class Controls:
    rules: tuple[Rule, ...] = ()
    strict: ErrorSpec | None = None
    counts: Counts = Counts()
    limits: Limits = Limits()
    buckets: Mapping[str, KeyState] = field(default_factory=dict)
    chaos: Chaos = ()
    timing: Timing = Timing()
    fault: Fault | None = None
    quirks: tuple[str, ...] = ()
    replayed: Mapping[str, int] = field(default_factory=dict)
    stored: Mapping[str, Any] = field(default_factory=dict)
    """What endpoints keep between requests (`Endpoint.keep`), oldest first, at most `STORED_LIMIT`."""
    sequence: int = 0
    """Requests decided since the start (or the last reset): chaos rolls and completion ids use it."""

    @classmethod
    def start(cls, config: Config) -> Controls:
        return cls(rules=config.scenario.rules, strict=config.scenario.strict, limits=config.limits,
                   chaos=config.chaos, timing=config.timing, fault=config.fault, quirks=config.quirks)


class DoubleState:
    """The one mutable holder: the current `Controls`, the journal and the arrival counter of one server,
    touched only from its event loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.journal = Journal(config.journal_size)
        # Numbers the default ids of rules added later, so ids stay unique across resets.
        self.rule_serial = len(config.scenario.rules)
        self.reset()

    def reset(self) -> None:
        """Back to the configured rules, limits, chaos, timing, fault and quirks, with an empty journal,
        fresh counts, full buckets, and the sequence and arrival numbers at zero."""
        self.controls = Controls.start(self.config)
        self.options = self._options()
        self.arrivals = 0
        self.journal.clear()

    def update(self, **changes: object) -> None:
        self.controls = replace(self.controls, **changes)
        if "quirks" in changes:
            self.options = self._options()

    def remember(self, key: str, value: Any) -> None:
        """Store what an endpoint keeps; validation reads it through `ServeOptions.stored`."""
        self.controls = replace(self.controls, stored=stored_with(self.controls.stored, key, value))
        self.options = replace(self.options, stored=self.controls.stored)

    def arrive(self) -> int:
        self.arrivals += 1
        return self.arrivals

    def _options(self) -> ServeOptions:
        """What validation and planning read of the settings, built once per change, not per request."""
        return ServeOptions(profile=self.config.profile, context_windows=dict(self.config.context_windows),
                            models=self.config.models, quirks=self.controls.quirks, stored=self.controls.stored)
