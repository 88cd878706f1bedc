"""The server's settings in one typed object, built alike by the CLI, the Python API and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass

from .quirks import unknown as unknown_quirks
from .timing import Timing

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
    timing: Timing = Timing()
    """Time to first token and inter-token delay for every reply; a request's X-Mock-Timing header overrides it."""
    quirks: tuple[str, ...] = ()
    """Names from `mockserver.quirks.QUIRKS`: deviations of real servers to emulate."""

    def __post_init__(self) -> None:
        wrong = unknown_quirks(self.quirks)
        if wrong:
            raise ValueError(f"unknown quirk(s): {', '.join(wrong)}")
