"""The server's settings in one typed object, built alike by the CLI, the Python API and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.controls.cassette import Cassette
from mockserver.controls.faults import Fault
from mockserver.controls.ratelimit import Limits
from mockserver.controls.rules import Scenario
from mockserver.controls.timing import Timing
from mockserver.core.render.quirks import unknown as unknown_quirks
from mockserver.core.validate.profiles import PROFILES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Config:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    seed: int = 0
    """Server seed: every generated reply is a function of it and the request."""
    api_keys: tuple[str, ...] = ()
    """When non-empty, requests must carry one of these as a Bearer token."""
    clock: int | None = None
    """A fixed `created` timestamp, which makes whole response bodies reproducible."""
    models: tuple[str, ...] | None = None
    """When set, the only model ids served; others get 404 model_not_found."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    scenario: Scenario = Scenario()
    """Rules loaded at start; the admin API adds to them and `reset` returns to them."""
    admin: bool = True
    """Serve the admin API under `/_mock/`."""
    admin_key: str | None = None
    """When set, the admin API requires it as a Bearer token."""
    rate_limit_rpm: int | None = None
    """Requests per minute per API key; beyond it, 429 rate_limit_exceeded."""
    rate_limit_tpm: int | None = None
    """Tokens (prompt plus requested completion) per minute per API key."""
    chaos: tuple[tuple[str, float], ...] = ()
    """(fault kind, probability) pairs rolled per request from the seed and the request's sequence number."""
    journal_size: int = 1000
    context_windows: tuple[tuple[str, int], ...] = ()
    """(model id, tokens) pairs overriding the model table's context window."""
    replay: Cassette | None = None
    """Recorded exchanges to serve for the requests they match."""
    replay_timing: bool = False
    """Replay streams with the recorded time between events (otherwise as fast as possible)."""
    replay_miss: str = "generate"
    """On a request no recording matches: `generate` a reply, or `error` (404 unmatched_request)."""
    timing: Timing = Timing()
    """Time to first token and inter-token delay for every reply; a request's X-Mock-Timing header overrides it."""
    fault: Fault | None = None
    """A delivery fault for every reply; a request's X-Mock-Fault header or a rule's fault overrides it."""
    quirks: tuple[str, ...] = ()
    """Names from `mockserver.core.render.quirks.QUIRKS`: deviations of real servers to emulate."""
    profile: str = "openai"
    """Compatibility profile from `mockserver.core.validate.profiles.PROFILES`: `openai`, or `vllm`."""

    @property
    def limits(self) -> Limits:
        return Limits(self.rate_limit_rpm, self.rate_limit_tpm)

    def __post_init__(self) -> None:
        wrong = unknown_quirks(self.quirks)
        if wrong:
            raise ValueError(f"unknown quirk(s): {', '.join(wrong)}")
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}: choose one of {', '.join(PROFILES)}")
