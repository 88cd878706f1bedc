"""chatdouble's mock: a deterministic OpenAI API server (chat completions, legacy completions, embeddings
and the Responses API).

Public API: `Config`, `MockServer` (a server on a free port in a background thread), `create_app` (the
aiohttp application), `plan_completion` / `completion_body` (the pure core), and `Timing` / `Fault`
(reply latency and injected failures, as data). Each is imported on first use, so `import mockserver`
(which the pytest plugin's registration does in every test session) loads nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Config": "mockserver.controls.config",
    "Context": "mockserver.core.generate.planner",
    "Fault": "mockserver.controls.faults",
    "MockServer": "mockserver.run.server",
    "Timing": "mockserver.controls.timing",
    "completion_body": "mockserver.core.render.body",
    "create_app": "mockserver.http.app",
    "plan_completion": "mockserver.core.generate.planner",
    "serve": "mockserver.run.server",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
