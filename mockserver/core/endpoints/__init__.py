"""The endpoints the mock serves, each a small table of pure functions the one pipeline runs.

An endpoint says where it is served, how a request to it is validated (every 4xx a client can cause
comes from there), how a reply is planned (by the generator, or from a test's script), and how the
plan is written as a body or as stream events. The HTTP pipeline (`mockserver.http.pipeline`) does
read, validate, decide, plan, render and deliver for every endpoint alike, so every control (rules,
faults, timing, rate limits, journal, replay, auth) works for each without code of its own.
"""

from __future__ import annotations

from mockserver.core.endpoints.chat import CHAT
from mockserver.core.endpoints.completions import COMPLETIONS
from mockserver.core.endpoints.embeddings import EMBEDDINGS
from mockserver.core.endpoints.model import Endpoint, ServeOptions, Validated
from mockserver.core.endpoints.models import MODEL, MODELS
from mockserver.core.endpoints.responses import RESPONSE, RESPONSES

ENDPOINTS: dict[str, Endpoint] = {endpoint.name: endpoint for endpoint in (
    CHAT, COMPLETIONS, EMBEDDINGS, RESPONSES, RESPONSE, MODELS, MODEL)}
GENERATING: tuple[str, ...] = tuple(name for name, endpoint in ENDPOINTS.items() if endpoint.generates)
"""What a rule without an `endpoint` matches: everything but the model list."""

__all__ = ["ENDPOINTS", "GENERATING", "Endpoint", "ServeOptions", "Validated"]
