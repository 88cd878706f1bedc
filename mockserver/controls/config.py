"""The server's settings in one typed object, built alike by the CLI, the Python API and the pytest plugin."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from mockserver.contract.profiles import API_PREFIXES, profiles
from mockserver.controls.cassette import Cassette
from mockserver.controls.deployments import Deployments
from mockserver.controls.faults import Fault
from mockserver.controls.gateway import GatewayModels
from mockserver.controls.ratelimit import Limits
from mockserver.controls.rules import Scenario
from mockserver.controls.timing import Timing
from mockserver.core.render.quirks import unknown as unknown_quirks

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
    """The compatibility profile (`fixtures/profiles.json`: `openai`, `vllm`, `watsonx-gateway`, `enkrypt`)
    that answers the OpenAI routes, `/v1/...` and `/...`."""
    mounts: tuple[tuple[str, str], ...] = ()
    """(route prefix, profile) pairs served besides: `("/vllm/v1", "vllm")` answers `/vllm/v1/chat/completions`
    as vLLM. A profile's own prefixes (`/ml/gateway/v1`, `/ai-proxy`) are always served."""
    gateway_models: GatewayModels = GatewayModels()
    """The models a watsonx.ai gateway serves, with their aliases; none configured: any model id."""
    deployments: Deployments = Deployments()
    """The Enkrypt AI proxy's saved deployments, with the file they were read from."""
    memo_entries: int = 1024
    """Request bodies whose validation and plan each route remembers, so the same body sent again is not
    validated and planned again (the reply's bytes are the same either way); 0 turns the memo off."""
    workers: int = 1
    """Processes serving the port (`mockserver --workers N`), for load beyond one core. They share the
    request numbering, so replies are the same bytes as from one process; a setting whose state would
    split between them (the admin API, rules, rate limits, replay) is refused."""

    @property
    def limits(self) -> Limits:
        return Limits(self.rate_limit_rpm, self.rate_limit_tpm)

    @property
    def routing(self) -> tuple[tuple[str, str], ...]:
        """Every (route prefix, profile) the server answers, the longest prefix first: the mounts, the
        profiles' own prefixes, then the server's profile on the OpenAI routes."""
        table = dict(self.mounts)
        for name, row in profiles().items():
            for prefix in row.prefixes:
                table.setdefault(prefix, name)
        for prefix in API_PREFIXES:
            table.setdefault(prefix, self.profile)
        return tuple(sorted(table.items(), key=lambda pair: -len(pair[0])))

    def profile_for(self, path: str) -> str:
        """The profile that answers `path`: the one whose prefix is the longest that starts it."""
        for prefix, name in self.routing:
            if path == prefix or path.startswith(prefix + "/"):
                return name
        return self.profile

    def _check_workers(self) -> None:
        """Several workers each keep their own controls; refuse whatever would then act differently
        depending on which worker a connection reaches, rather than let it split silently."""
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.workers == 1:
            return
        if not hasattr(os, "fork") or not hasattr(socket, "SO_REUSEPORT"):
            raise ValueError("--workers above 1 needs fork() and SO_REUSEPORT (Linux, the BSDs, macOS)")
        split = [(self.admin, "the admin API (--no-admin turns it off): each worker would keep its own rules, "
                              "journal and settings, and a call would reach one of them"),
                 (bool(self.scenario.rules) or self.scenario.strict is not None,
                  "a scenario's rules: each worker would count its own matches"),
                 (self.rate_limit_rpm is not None or self.rate_limit_tpm is not None,
                  "rate limits: each worker would allow the whole limit"),
                 (self.replay is not None, "replay: each worker would keep its own place in the cassette")]
        refused = [reason for present, reason in split if present]
        if refused:
            raise ValueError(f"--workers {self.workers} cannot serve " + "; ".join(refused) +
                             ". Run one worker for these.")

    def __post_init__(self) -> None:
        self._check_workers()
        wrong = unknown_quirks(self.quirks)
        if wrong:
            raise ValueError(f"unknown quirk(s): {', '.join(wrong)}")
        known = profiles()
        for name in (self.profile, *(name for _, name in self.mounts)):
            if name not in known:
                raise ValueError(f"unknown profile {name!r}: choose one of {', '.join(known)}")
        prefixes = [prefix for prefix, _ in self.mounts]
        for prefix in prefixes:
            if not prefix.startswith("/") or prefix.endswith("/") or "{" in prefix:
                raise ValueError(f"a mount's prefix starts with '/' and ends without one, got {prefix!r}")
            if prefixes.count(prefix) > 1 or prefix in API_PREFIXES:
                raise ValueError(f"prefix {prefix!r} is mounted twice (the server's profile has /v1)")
