"""The controls' state: an immutable snapshot the decisions read and replace, and its one owner.

Everything that can change what happens to a request besides the request itself sits in `Controls`:
rules and their counts, the rate-limit buckets, chaos, timing, the default fault, quirks, replay
positions, what endpoints stored (responses for `previous_response_id`), a gateway's cache, a guardrail
proxy's deployments and the sequence number. `reset` returns all of it (sequence included) to the
configured start, so a test's outcome never depends on the tests before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.contract.profiles import profiles
from mockserver.controls.chaos import Chaos
from mockserver.controls.config import Config
from mockserver.controls.counters import Counters
from mockserver.controls.deployments import Deployments
from mockserver.controls.faults import Fault
from mockserver.controls.journal import Journal
from mockserver.controls.ratelimit import KeyState, Limits
from mockserver.controls.rules.model import Counts, ErrorSpec, Rule
from mockserver.controls.timing import Timing
from mockserver.core.endpoints import ServeOptions
from mockserver.core.evolve import evolver

STORED_LIMIT = 1024
"""Stored entries a server keeps; past it the oldest are forgotten, so a long run holds bounded memory."""


def stored_with(stored: Mapping[Any, Any], key: Any, value: Any, limit: int = STORED_LIMIT) -> dict[Any, Any]:
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
    cache: Mapping[bytes, bytes] = field(default_factory=dict)
    """A gateway's stored replies by request key, the oldest first."""
    deployments: Deployments = Deployments()
    """The guardrail proxy's deployments, as last read."""

    @classmethod
    def start(cls, config: Config) -> Controls:
        return cls(rules=config.scenario.rules, strict=config.scenario.strict, limits=config.limits,
                   chaos=config.chaos, timing=config.timing, fault=config.fault, quirks=config.quirks,
                   deployments=config.deployments)


evolve = evolver(Controls)
"""`dataclasses.replace` for `Controls`, at a fraction of its cost: every request advances the sequence."""

CACHE_ENTRIES = 1024
"""Replies a gateway's cache keeps; past that, the oldest go, as a cache with a size limit drops them."""


def cached(controls: Controls, key: bytes, reply: bytes) -> Controls:
    """The controls with `reply` stored under `key` in the gateway's cache."""
    return evolve(controls, cache=stored_with(controls.cache, key, reply, CACHE_ENTRIES))


class DoubleState:
    """The one mutable holder: the current `Controls`, the journal and the arrival counter of one server,
    touched only from its event loop. `settled` is a new object whenever a setting validation reads other
    than the stored entries changes (quirks, a reset), so a verdict reached under it can be kept until
    then. `counters`, when given, number arrivals and decisions instead of
    this state (worker processes sharing one count; `reset` is then not offered, the admin API being off)."""

    def __init__(self, config: Config, counters: Counters | None = None) -> None:
        self.config = config
        self.counters = counters
        self.journal = Journal(config.journal_size)
        # Numbers the default ids of rules added later, so ids stay unique across resets.
        self.rule_serial = len(config.scenario.rules)
        self.reset()

    def reset(self) -> None:
        """Back to the configured rules, limits, chaos, timing, fault, quirks and deployments, with an empty
        journal and gateway cache, fresh counts, full buckets, and the sequence and arrival numbers at zero."""
        self.controls = Controls.start(self.config)
        self.settled = object()
        self.options = self._options()
        self.arrivals = 0
        self.journal.clear()

    def update(self, **changes: object) -> None:
        self.controls = evolve(self.controls, **changes)
        if "quirks" in changes:
            self.settled = object()
            self.options = self._options()

    def remember(self, key: str, value: Any) -> None:
        """Store what an endpoint keeps; validation reads it through `ServeOptions.stored`. The other
        settings validation reads stay as they were (`settled` is the same object)."""
        self.controls = evolve(self.controls, stored=stored_with(self.controls.stored, key, value))
        self.options = {name: replace(options, stored=self.controls.stored)
                        for name, options in self.options.items()}

    def arrive(self) -> int:
        if self.counters is not None:
            return self.counters.arrive()
        self.arrivals += 1
        return self.arrivals

    def numbered(self) -> Controls:
        """The controls a decision starts from: their own sequence, or the shared count's next number."""
        if self.counters is None:
            return self.controls
        return evolve(self.controls, sequence=self.counters.decide())

    def _options(self) -> dict[str, ServeOptions]:
        """What validation and planning read of the settings, per profile, built once per change, not per
        request. A profile serves the server's models, else its own default ones; a gateway serves the
        models its file configures."""
        gateway = self.config.gateway_models
        options = {}
        for name, table in profiles().items():
            models = self.config.models if self.config.models is not None else table.models
            aliases: dict[str, str] = {}
            cards: Mapping[str, Mapping[str, str]] = {}
            if name == "watsonx-gateway" and gateway.models is not None:
                models, aliases, cards = gateway.models, gateway.aliases, gateway.cards
            options[name] = ServeOptions(profile=name, context_windows=dict(self.config.context_windows),
                                         models=models, quirks=self.controls.quirks, aliases=aliases, cards=cards,
                                         stored=self.controls.stored, workers=self.config.workers)
        return options
