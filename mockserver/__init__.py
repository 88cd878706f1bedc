"""chatdouble's mock: a deterministic OpenAI Chat Completions server.

Public API: `Config`, `MockServer` (a server on a free port in a background thread), `create_app` (the
aiohttp application), `plan_completion` / `completion_body` (the pure core), and `Timing` / `Fault`
(reply latency and injected failures, as data).
"""

from mockserver.http.app import create_app
from mockserver.controls.config import Config
from mockserver.controls.faults import Fault
from mockserver.core.generate.planner import Context, plan_completion
from mockserver.core.render.body import completion_body
from mockserver.run.server import MockServer, serve
from mockserver.controls.timing import Timing

__all__ = ["Config", "Context", "Fault", "MockServer", "Timing", "completion_body", "create_app", "plan_completion",
           "serve"]
__version__ = "0.1.0"
