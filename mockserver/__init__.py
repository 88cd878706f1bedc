"""chatdouble's mock: a deterministic OpenAI Chat Completions server.

Public API: `Config`, `MockServer` (a server on a free port in a background thread), `create_app` (the
aiohttp application), `plan_completion` / `completion_body` (the pure core), and `Timing` / `Fault`
(reply latency and injected failures, as data).
"""

from .app import create_app
from .config import Config
from .faults import Fault
from .generation import Context, plan_completion
from .response import completion_body
from .server import MockServer, serve
from .timing import Timing

__all__ = ["Config", "Context", "Fault", "MockServer", "Timing", "completion_body", "create_app", "plan_completion",
           "serve"]
__version__ = "0.1.0"
