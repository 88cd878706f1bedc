"""chatdouble's mock: a deterministic OpenAI Chat Completions server.

Public API: `Config`, `MockServer` (a server on a free port in a background thread), `create_app` (the
aiohttp application), `plan_completion` / `completion_body` (the pure core), and `Timing` / `Fault`
(reply latency and injected failures, as data).

The names load on first use, so that importing `mockserver.contract` (as the conformance suite does)
does not start aiohttp, Faker and the generator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.controls.config import Config
    from mockserver.controls.faults import Fault
    from mockserver.controls.timing import Timing
    from mockserver.core.generate.planner import Context, plan_completion
    from mockserver.core.render.body import completion_body
    from mockserver.http.app import create_app
    from mockserver.run.server import MockServer, serve

_HOMES = {
    "create_app": "mockserver.http.app",
    "Config": "mockserver.controls.config",
    "Fault": "mockserver.controls.faults",
    "Context": "mockserver.core.generate.planner",
    "plan_completion": "mockserver.core.generate.planner",
    "completion_body": "mockserver.core.render.body",
    "MockServer": "mockserver.run.server",
    "serve": "mockserver.run.server",
    "Timing": "mockserver.controls.timing",
}

__all__ = ["Config", "Context", "Fault", "MockServer", "Timing", "completion_body", "create_app", "plan_completion",
           "serve"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
