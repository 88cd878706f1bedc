"""chatdouble's mock: a deterministic OpenAI Chat Completions server.

Public API: `Config`, `MockServer` (a server on a free port in a background thread), `create_app` (the
aiohttp application) and `plan_completion` / `completion_body` (the pure core).
"""

from .app import create_app
from .config import Config
from .generation import Context, plan_completion
from .response import completion_body
from .server import MockServer, serve

__all__ = ["Config", "Context", "MockServer", "completion_body", "create_app", "plan_completion", "serve"]
__version__ = "0.1.0"
